//! A plugin's outbound `fetch`: checked against its allowlist, then answered by another plugin
//! (same origin, mounted path) or sent over the network, never following redirects.

use super::PluginContext;
use std::sync::Arc;
use valor_abi::codec;
use valor_host::allowlist::{Allowlist, Target};
use valor_host::result::{denied, failed, ok};

/// Performs the request encoded in `bytes`; returns the ABI result.
pub async fn fetch(context: Arc<PluginContext>, bytes: Vec<u8>, depth: u32) -> Vec<u8> {
    match send(&context, &bytes, depth).await {
        Ok(response) => ok(&response),
        Err(Refusal::Denied(message)) => denied(&message),
        Err(Refusal::Failed(message)) => failed(&message),
    }
}

enum Refusal {
    Denied(String),
    Failed(String),
}

/// The encoded response.
async fn send(context: &PluginContext, bytes: &[u8], depth: u32) -> Result<Vec<u8>, Refusal> {
    let mut request: http::Request<Vec<u8>> = codec::decode_request(bytes)
        .map_err(|e| Refusal::Failed(format!("malformed request: {e}")))?;
    if request.body().len() as u64 > u64::from(context.max_body_bytes) {
        return Err(Refusal::Failed(format!(
            "the outbound request's body is {} bytes, more than plugin '{}' may send ({} bytes: \
             its max_body_bytes)",
            request.body().len(),
            context.name,
            context.max_body_bytes
        )));
    }
    let uri = request.uri().to_string();
    let url = url::Url::parse(&context.origin)
        .and_then(|origin| origin.join(&uri))
        .map_err(|_| Refusal::Failed(format!("invalid URL {uri:?}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refusal::Failed(format!(
            "{uri}: only http and https can be fetched"
        )));
    }
    let origin = url.origin().ascii_serialization();
    let hostname = url.host_str().unwrap_or_default().to_owned();
    let default_port = if url.scheme() == "https" { 443 } else { 80 };
    let target = Target {
        origin: &origin,
        hostname: &hostname,
        port: url.port_or_known_default().unwrap_or(default_port),
        default_port,
    };
    if !context.allowlist.allows(target, &context.origin) {
        return Err(Refusal::Denied(Allowlist::denial(
            &context.name,
            target,
            &context.origin,
        )));
    }

    if origin == context.origin {
        let local = context.local.upgrade();
        if let Some(answer) = local.as_ref().and_then(|local| {
            local.dispatch_local(request.clone(), url.path(), url.query(), depth + 1)
        }) {
            return Ok(answer.await);
        }
    }

    *request.uri_mut() = url
        .as_str()
        .parse()
        .map_err(|_| Refusal::Failed(format!("invalid URL {url}")))?;
    let request = reqwest::Request::try_from(request)
        .map_err(|e| Refusal::Failed(format!("invalid request to {url}: {e}")))?;
    let response =
        context.client.execute(request).await.map_err(|e| {
            Refusal::Failed(format!("{origin} did not answer: {}", error_chain(&e)))
        })?;
    if response.status().is_redirection() && response.headers().contains_key(http::header::LOCATION)
    {
        // As in the browser host, where a redirect's target is hidden from the runtime and so
        // cannot be checked against the allowlist: a plugin behaves the same on every host.
        return Err(Refusal::Failed(format!(
            "fetch to {url}: the host answered with a redirect, which Valor does not follow for \
             plugins (its target could not be checked against allowed_hosts in a browser); \
             fetch the final URL instead"
        )));
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
