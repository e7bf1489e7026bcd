//! A plugin's outbound `fetch`: checked against its allowlist, then answered by another plugin
//! (same origin, mounted path) or sent to the network.

use super::PluginContext;
use crate::{sys, web_http};
use std::rc::Rc;
use valor_abi::codec;
use valor_host::outbound::{self, Checked, Refusal, Resolved};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Performs the request encoded in `bytes`; returns the ABI result.
pub async fn fetch(context: Rc<PluginContext>, bytes: Vec<u8>, depth: u32) -> Vec<u8> {
    outbound::result(send(&context, &bytes, depth).await)
}

/// The encoded response.
async fn send(context: &PluginContext, bytes: &[u8], depth: u32) -> Result<Vec<u8>, Refusal> {
    let policy = context.policy();
    let checked =
        outbound::check::<vlugin::Body>(bytes, &policy, |uri| resolve(uri, &context.origin))?;
    if let Some(answer) = checked.answer_locally(&policy, context.host.local.upgrade(), depth) {
        return Ok(answer.await);
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
