//! A plugin's outbound `fetch`: checked against its allowlist, then answered by another plugin
//! (same origin, mounted path) or sent to the network.

use super::PluginContext;
use crate::allowlist::{Allowlist, Target};
use crate::{sys, web_http};
use std::rc::Rc;
use valor_abi::codec;
use valor_host::result::{denied, failed, ok};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Performs the request encoded in `bytes`; returns the ABI result.
pub async fn fetch(context: Rc<PluginContext>, bytes: Vec<u8>, depth: u32) -> Vec<u8> {
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
    let request: vlugin::Request = codec::decode_request(bytes)
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
    let url = web_sys::Url::new_with_base(&uri, &context.origin)
        .map_err(|_| Refusal::Failed(format!("invalid URL {uri:?}")))?;
    if !matches!(url.protocol().as_str(), "http:" | "https:") {
        return Err(Refusal::Failed(format!(
            "{uri}: only http and https can be fetched"
        )));
    }
    let (origin, hostname) = (url.origin(), url.hostname());
    let default_port = if url.protocol() == "https:" { 443 } else { 80 };
    let target = Target {
        origin: &origin,
        hostname: &hostname,
        // The URL parser leaves the port empty when it is the scheme's default.
        port: url.port().parse().unwrap_or(default_port),
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
        let (path, query) = (url.pathname(), url.search());
        let local = context.local.upgrade();
        if let Some(answer) = local
            .as_ref()
            .and_then(|local| local.dispatch_local(request.clone(), (&path, &query), depth + 1))
        {
            return Ok(answer.await);
        }
    }

    let controller = AbortOnDrop(
        web_sys::AbortController::new().map_err(|e| Refusal::Failed(sys::describe(&e)))?,
    );
    let href = url.href();
    let web_request =
        web_http::to_web_request(&request, &href, context.credentials, &controller.0.signal())
            .map_err(Refusal::Failed)?;
    drop(request);
    let response: web_sys::Response = JsFuture::from(sys::fetch(&web_request))
        .await
        .map_err(|e| {
            Refusal::Failed(format!(
                "{origin} did not answer: {} (unreachable, or it does not allow {} with CORS)",
                sys::describe(&e),
                context.origin
            ))
        })?
        .unchecked_into();
    // A redirect fetched with `redirect: "manual"` is opaque (status 0, no Location) from the
    // network, so its next hop cannot be checked against the allowlist.
    if response.type_() == web_sys::ResponseType::Opaqueredirect {
        return Err(Refusal::Failed(format!(
            "fetch to {href}: the host answered with a redirect, which Valor does not follow \
             for plugins: the browser hides where it leads, so it cannot be checked against \
             allowed_hosts; fetch the final URL instead"
        )));
    }
    let response = web_http::read_response(&response)
        .await
        .map_err(Refusal::Failed)?;
    Ok(codec::encode_response(&response))
}

/// Aborts the network request when the plugin no longer wants it (the future is dropped).
struct AbortOnDrop(web_sys::AbortController);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
