//! A plugin's outbound `fetch`: checked against its allowlist, then answered by another plugin
//! (same origin, mounted path) or sent over the network, never following redirects.

use super::PluginContext;
use futures::stream;
use std::sync::Arc;
use valor_abi::codec;
use valor_host::bodies::{self, Fill};
use valor_host::outbound::{self, Checked, Refusal, Resolved};

/// Performs the request encoded in `bytes`; returns the ABI result.
pub async fn fetch(context: Arc<PluginContext>, bytes: Vec<u8>, depth: u32) -> Vec<u8> {
    let answer = match send(&context, &bytes, depth).await {
        Ok(Sent::Local(response)) => Ok(response),
        Ok(Sent::Network { url, response }) => read_whole(&url, response).await,
        Err(refusal) => Err(refusal),
    };
    outbound::result(answer)
}

/// Performs the request encoded in `bytes` for `fetch_stream`: its answer's body goes into
/// `body`, which the plugin reads as `handle`; returns the ABI result.
pub async fn fetch_stream(
    context: Arc<PluginContext>,
    bytes: Vec<u8>,
    depth: u32,
    handle: u32,
    body: Fill,
) -> Vec<u8> {
    match send(&context, &bytes, depth).await {
        // Answered whole (by a plugin of the app): handed over as `fetch` hands it, in one
        // result rather than reads of a chunk and of the end.
        Ok(Sent::Local(response)) => outbound::result(Ok(response)),
        Ok(Sent::Network { url, response }) => {
            let status = response.status().as_u16();
            let headers: Vec<(&[u8], &[u8])> = response
                .headers()
                .iter()
                .map(|(name, value)| (name.as_str().as_bytes(), value.as_bytes()))
                .collect();
            let result = bodies::fetched(status, &headers, handle);
            tokio::spawn(body.from(chunks(url, response)));
            result
        }
        Err(refusal) => outbound::result(Err(refusal)),
    }
}

/// An answer to an outbound request.
pub(crate) enum Sent {
    /// A plugin's of this app, encoded.
    Local(Vec<u8>),
    /// The network's, its body still to read.
    Network {
        url: String,
        response: reqwest::Response,
    },
}

/// The chunks of a fetched body as they arrive.
pub(crate) fn chunks(
    url: String,
    response: reqwest::Response,
) -> impl futures::Stream<Item = bodies::Chunk> {
    // The URL travels with the response, for a failure's text: not copied for each chunk.
    stream::unfold(Some((response, url)), |state| async move {
        let (mut response, url) = state?;
        match response.chunk().await {
            Ok(Some(bytes)) => Some((Ok(bytes.to_vec()), Some((response, url)))),
            Ok(None) => None,
            Err(e) => Some((Err(reading_failed(&url, &e)), None)),
        }
    })
}

/// A fetched response, its body read whole and encoded.
async fn read_whole(url: &str, response: reqwest::Response) -> Result<Vec<u8>, Refusal> {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .map_err(|e| Refusal::Failed(reading_failed(url, &e)))?;
    let mut answer = http::Response::new(body);
    *answer.status_mut() = status;
    *answer.headers_mut() = headers;
    Ok(codec::encode_response(&answer))
}

fn reading_failed(url: &str, error: &reqwest::Error) -> String {
    format!("reading the answer of {url} failed: {}", error_chain(error))
}

/// The answer to the request encoded in `bytes`, checked against the plugin's policy.
pub(crate) async fn send(
    context: &PluginContext,
    bytes: &[u8],
    depth: u32,
) -> Result<Sent, Refusal> {
    let policy = context.policy();
    let checked = outbound::check::<Vec<u8>>(bytes, &policy, |uri| resolve(uri, &context.origin))?;
    if let Some(answer) = checked.answer_locally(&policy, context.host.local.upgrade(), depth) {
        return Ok(Sent::Local(answer.await));
    }
    let Checked { mut request, url } = checked;
    let (url, origin) = (url.href, url.origin);
    *request.uri_mut() = url
        .parse()
        .map_err(|_| Refusal::Failed(format!("invalid URL {url}")))?;
    let request = reqwest::Request::try_from(request)
        .map_err(|e| Refusal::Failed(format!("invalid request to {url}: {e}")))?;
    let response =
        context.host.client.execute(request).await.map_err(|e| {
            Refusal::Failed(format!("{origin} did not answer: {}", error_chain(&e)))
        })?;
    if response.status().is_redirection() && response.headers().contains_key(http::header::LOCATION)
    {
        return Err(outbound::redirect_refused(&url));
    }
    Ok(Sent::Network { url, response })
}

/// `uri` resolved against `base` (`None` if it is no URL).
fn resolve(uri: &str, base: &str) -> Option<Resolved> {
    let url = url::Url::parse(base).and_then(|base| base.join(uri)).ok()?;
    Some(Resolved {
        scheme: url.scheme().to_owned(),
        origin: url.origin().ascii_serialization(),
        hostname: url.host_str().unwrap_or_default().to_owned(),
        port: url.port(),
        path: url.path().to_owned(),
        query: url.query().map(str::to_owned),
        href: url.into(),
    })
}

/// An error and its causes, on one line (reqwest's own message is only the outermost).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}
