//! Subresource Integrity for plugin modules, with the browser's WebCrypto computing the digests
//! (the values and the matching are `valor_host::integrity`'s).

use crate::sys;
pub use valor_host::integrity::{sri_form, Algorithm, Integrity};
use wasm_bindgen_futures::JsFuture;

/// The module's SHA-256 in SRI form, after checking `bytes` against `integrity` if there is one.
/// A mismatch gives both digests.
pub async fn check(
    bytes: &js_sys::ArrayBuffer,
    integrity: Option<&Integrity>,
) -> Result<String, String> {
    valor_host::integrity::check(integrity, |algorithm| sri(algorithm, bytes)).await
}

async fn sri(algorithm: Algorithm, bytes: &js_sys::ArrayBuffer) -> Result<String, String> {
    let promise = sys::digest(algorithm.web_name(), bytes).map_err(|e| sys::describe(&e))?;
    let digest = JsFuture::from(promise)
        .await
        .map_err(|e| format!("computing its digest failed: {}", sys::describe(&e)))?;
    Ok(sri_form(
        algorithm,
        &js_sys::Uint8Array::new(&digest).to_vec(),
    ))
}
