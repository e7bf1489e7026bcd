//! A plugin's outbound `fetch`: checked against its allowlist, then answered by another plugin
//! (same origin, mounted path) or sent over the network, never following redirects.

use super::PluginContext;
use std::sync::Arc;
use valor_abi::codec;
use valor_host::outbound::{self, Checked, Refusal, Resolved};

/// Performs the request encoded in `bytes`; returns the ABI result.
pub async fn fetch(context: Arc<PluginContext>, bytes: Vec<u8>, depth: u32) -> Vec<u8> {
    outbound::result(send(&context, &bytes, depth).await)
}

/// The encoded response.
async fn send(context: &PluginContext, bytes: &[u8], depth: u32) -> Result<Vec<u8>, Refusal> {
    let policy = context.policy();
    let checked = outbound::check::<Vec<u8>>(bytes, &policy, |uri| resolve(uri, &context.origin))?;
    if let Some(answer) = checked.answer_locally(&policy, context.host.local.upgrade(), depth) {
        return Ok(answer.await);
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
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(|e| {
        Refusal::Failed(format!(
            "reading the answer of {url} failed: {}",
            error_chain(&e)
        ))
    })?;
    let mut answer = http::Response::new(body);
    *answer.status_mut() = status;
    *answer.headers_mut() = headers;
    Ok(codec::encode_response(&answer))
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
