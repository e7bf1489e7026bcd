//! Subresource Integrity for plugin modules, with the browser's WebCrypto computing the digests
//! (the values and the matching are `valor_host::integrity`'s).

use crate::sys;
use futures::FutureExt;
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

/// Whether `integrity` allows bytes not at hand by their SHA-256, `sha256` (SRI form): true if
/// there is no integrity or it names that digest; false if only a digest of the bytes by
/// another algorithm could say.
pub fn allows_sha256(integrity: Option<&Integrity>, sha256: &str) -> bool {
    let only_sha256 = |algorithm| {
        let known = (algorithm == Algorithm::Sha256).then(|| sha256.to_owned());
        std::future::ready(known.ok_or_else(String::new))
    };
    // Every digest is at hand, so the check is ready at once.
    let checked = valor_host::integrity::check(integrity, only_sha256).now_or_never();
    matches!(checked, Some(Ok(_)))
}
