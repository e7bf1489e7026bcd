//! A component's outgoing requests (`wasi:http/outgoing-handler`): through the same path as a
//! Valor plugin's `fetch`, so the plugin's allowlist and credentials policy apply, the app's
//! own paths are answered by its plugins without the network, and redirects are not followed.
//! wasmtime-wasi-http's default hook would send any request anywhere.
//!
//! Its errors, as the component sees them: a request the allowlist refuses is
//! `HTTP-request-denied`; one that fails on its way is `internal-error` with the reason, on
//! both hosts (the worker cannot tell a refused connection from a DNS failure either).

use crate::host::outbound::{self, Sent};
use crate::host::PluginContext;
use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full, StreamBody};
use std::future::Future;
use std::sync::Arc;
use valor_abi::codec;
use valor_host::outbound::Refusal;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// The hooks of one request's store: who sends, and how deep in plugin-to-plugin requests.
pub struct Outgoing {
    context: Arc<PluginContext>,
    depth: u32,
}

impl Outgoing {
    /// Requests sent for the plugin of `context`, from a request `depth` hops deep.
    pub fn new(context: Arc<PluginContext>, depth: u32) -> Self {
        Self { context, depth }
    }
}

/// What `send_request` returns: the response, and a future for errors of the request's
/// sending once answered (none here: the body is sent whole before).
type Answered = wasmtime_wasi_http::Result<(
    http::Response<WasiBody>,
    Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
)>;

impl WasiHttpHooks for Outgoing {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> Box<dyn Future<Output = Answered> + Send> {
        let (context, depth) = (Arc::clone(&self.context), self.depth);
        Box::new(async move {
            let response = send(&context, request, depth).await?;
            let sent: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send> =
                Box::new(async { Ok(()) });
            Ok((response, sent))
        })
    }
}

/// `request` sent as the plugin of `context` would `fetch` it.
async fn send(
    context: &PluginContext,
    request: http::Request<WasiBody>,
    depth: u32,
) -> Result<http::Response<WasiBody>, Error> {
    let (parts, body) = request.into_parts();
    // Sent whole, as a plugin's `fetch` sends it, within the same limit.
    let body = body.collect().await?.to_bytes();
    if body.len() > context.max_body_bytes as usize {
        return Err(Error::HttpRequestBodySize(Some(body.len() as u64)));
    }
    let request = http::Request::from_parts(parts, body.to_vec());
    let encoded = codec::encode_request(&request);
    match outbound::send(context, &encoded, depth).await {
        Ok(Sent::Local(answer)) => {
            let response = codec::decode_response::<Vec<u8>>(&answer).map_err(|e| {
                Error::InternalError(Some(format!("the plugin's answer did not decode: {e}")))
            })?;
            Ok(response.map(|body| {
                Full::new(Bytes::from(body))
                    .map_err(|never| match never {})
                    .boxed_unsync()
            }))
        }
        Ok(Sent::Network { url, response }) => {
            let mut head = http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                head = head.header(name, value);
            }
            let frames = outbound::chunks(url, response).map(|chunk| {
                chunk
                    .map(|bytes| http_body::Frame::data(Bytes::from(bytes)))
                    .map_err(|reason| Error::InternalError(Some(reason)))
            });
            head.body(StreamBody::new(frames).boxed_unsync())
                .map_err(|e| Error::InternalError(Some(e.to_string())))
        }
        Err(Refusal::Denied(reason)) => {
            // The error code carries no text: the reason goes to the log.
            tracing::info!(plugin = context.name, "{reason}");
            Err(Error::HttpRequestDenied)
        }
        Err(Refusal::Failed(reason)) => Err(Error::InternalError(Some(reason))),
    }
}
