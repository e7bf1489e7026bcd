//! A plugin's outbound `fetch` and `fetch_stream`: checked against its allowlist, then answered by another plugin
//! (same origin, mounted path) or sent to the network.

use super::PluginContext;
use crate::{sys, web_http};
use futures::StreamExt;
use std::rc::Rc;
use valor_abi::codec;
use valor_host::bodies::{self, Fill};
use valor_host::outbound::{self, Checked, Refusal, Resolved};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Performs the request encoded in `bytes`; returns the ABI result.
pub async fn fetch(context: Rc<PluginContext>, bytes: Vec<u8>, depth: u32) -> Vec<u8> {
    let answer = match send(&context, &bytes, depth).await {
        Ok(Sent::Local(response)) => Ok(response),
        Ok(Sent::Network {
            response,
            abort: _abort,
        }) => web_http::read_response(&response)
            .await
            .map(|response| codec::encode_response(&response))
            .map_err(Refusal::Failed),
        Err(refusal) => Err(refusal),
    };
    outbound::result(answer)
}

/// Performs the request encoded in `bytes` for `fetch_stream`: its answer's body goes into
/// `body`, which the plugin reads as `handle`; returns the ABI result.
pub async fn fetch_stream(
    context: Rc<PluginContext>,
    bytes: Vec<u8>,
    depth: u32,
    handle: u32,
    body: Fill,
) -> Vec<u8> {
    match send(&context, &bytes, depth).await {
        // Answered whole (by a plugin of the app): handed over as `fetch` hands it, in one
        // result rather than reads of a chunk and of the end.
        Ok(Sent::Local(response)) => outbound::result(Ok(response)),
        Ok(Sent::Network { response, abort }) => {
            let status = response.status();
            let result = web_http::encode_with_headers(&response.headers(), &|headers| {
                bodies::fetched(status, headers, handle)
            });
            wasm_bindgen_futures::spawn_local(body.from(chunks(&response, abort)));
            result
        }
        Err(refusal) => outbound::result(Err(refusal)),
    }
}

/// An answer to an outbound request.
enum Sent {
    /// A plugin's of this app, encoded.
    Local(Vec<u8>),
    /// The network's, its body still to read; the request is aborted when `abort` is dropped.
    Network {
        response: web_sys::Response,
        abort: AbortOnDrop,
    },
}

/// The chunks of a fetched body as they arrive (none if it has none, as a 204). Dropping the
/// stream cancels its reader and aborts the request: a body the plugin closed is no longer
/// downloaded.
fn chunks(
    response: &web_sys::Response,
    abort: AbortOnDrop,
) -> impl futures::Stream<Item = bodies::Chunk> {
    web_http::body_chunks(response.body()).map(move |chunk| {
        let _request = &abort;
        chunk
    })
}

/// The answer to the request encoded in `bytes`, checked against the plugin's policy.
async fn send(context: &PluginContext, bytes: &[u8], depth: u32) -> Result<Sent, Refusal> {
    let policy = context.policy();
    let checked =
        outbound::check::<vlugin::Body>(bytes, &policy, |uri| resolve(uri, &context.origin))?;
    if let Some(answer) = checked.answer_locally(&policy, context.host.local.upgrade(), depth) {
        return Ok(Sent::Local(answer.await));
    }
    let Checked { request, url } = checked;
    let controller = AbortOnDrop(
        web_sys::AbortController::new().map_err(|e| Refusal::Failed(sys::describe(&e)))?,
    );
    let href = url.href;
    let web_request = web_http::to_web_request(
        &request,
        &href,
        context.host.credentials,
        &controller.0.signal(),
    )
    .map_err(Refusal::Failed)?;
    drop(request);
    let response: web_sys::Response = JsFuture::from(sys::fetch(&web_request))
        .await
        .map_err(|e| {
            Refusal::Failed(format!(
                "{} did not answer: {} (unreachable, or it does not allow {} with CORS)",
                url.origin,
                sys::describe(&e),
                context.origin
            ))
        })?
        .unchecked_into();
    // A redirect fetched with `redirect: "manual"` is opaque (status 0, no Location) from the
    // network, so its next hop cannot be checked against the allowlist.
    if response.type_() == web_sys::ResponseType::Opaqueredirect {
        return Err(outbound::redirect_refused(&href));
    }
    Ok(Sent::Network {
        response,
        abort: controller,
    })
}

/// Aborts the network request when the plugin no longer wants it (the future is dropped).
struct AbortOnDrop(web_sys::AbortController);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `uri` resolved against `base` by the browser's own URL parser (`None` if it is no URL).
fn resolve(uri: &str, base: &str) -> Option<Resolved> {
    let url = web_sys::Url::new_with_base(uri, base).ok()?;
    let search = url.search();
    Some(Resolved {
        href: url.href(),
        scheme: url.protocol().trim_end_matches(':').to_owned(),
        origin: url.origin(),
        hostname: url.hostname(),
        // The URL parser leaves the port empty when it is the scheme's default.
        port: url.port().parse().ok(),
        path: url.pathname(),
        query: search.strip_prefix('?').map(str::to_owned),
    })
}
