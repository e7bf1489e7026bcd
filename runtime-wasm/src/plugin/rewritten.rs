//! Modules as rewritten for their limits (`crate::meter`), kept in Cache Storage: a start does not
//! rewrite again a module it rewrote before (the largest part of a plugin's first load), and
//! compiles the kept copy as it streams in, which also lets the engine cache its compiled code.
//!
//! A kept copy is found by the original's digest, the limits and the rewriting's version, so a
//! new module, new limits or a new runtime never find a stale one. Storing a copy removes the
//! stale ones of the same URL. Like every kept copy, it carries the digest of its own bytes,
//! checked before it is compiled (`offline::kept`).

use crate::{integrity, offline, sys};
use valor_meter::Limits;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The cache the copies are kept in, beside the one that keeps modules for offline starts.
fn cache_name(cache: &str) -> String {
    format!("{cache}:rewritten")
}

/// Where the copy of `url`'s module with `digest` (Subresource Integrity form), rewritten for
/// `limits`, is kept.
fn key(url: &str, digest: &str, limits: Limits) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{}{}", copy_of(digest), for_limits(limits))
}

/// The start of a key's query: copies by another version of the rewriting are stale.
fn version() -> String {
    format!("valor-rewritten=v{}.", valor_meter::VERSION)
}

/// The part of a key that names the module's bytes and the rewriting: copies of other bytes,
/// or by another version of the rewriting, are stale.
fn copy_of(digest: &str) -> String {
    // The digest's base64 in its URL-safe form: `+` and `/` mean other things in a query.
    let digest: String = digest
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    format!("{}{digest}", version())
}

/// The end of a key: the limits the copy was rewritten for.
fn for_limits(limits: Limits) -> String {
    format!(".{}.{}", limits.fuel, limits.memory_pages)
}

/// The kept copy, if there is one and its bytes are the ones kept (see `offline::kept`).
pub async fn find(cache: &str, url: &str, digest: &str, limits: Limits) -> Option<offline::File> {
    offline::kept(&cache_name(cache), &key(url, digest, limits)).await
}

/// Keeps `rewritten` for later starts, in the background, removing the stale copies of `url`'s
/// (other bytes, or another rewriting: copies for other limits stay).
pub fn keep(cache: &str, url: &str, digest: &str, limits: Limits, body: js_sys::Uint8Array) {
    let (cache, url, key) = (cache.to_owned(), url.to_owned(), key(url, digest, limits));
    let current = copy_of(digest);
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(error) = store(&cache, &url, &key, &current, &body).await {
            // Only the next start is slower for it.
            web_sys::console::warn_1(
                &format!("[valor] the rewritten {url} could not be kept: {error}").into(),
            );
        }
    });
}

/// Forgets the kept copy (it did not compile).
pub async fn forget(cache: &str, url: &str, digest: &str, limits: Limits) {
    offline::forget(&cache_name(cache), &key(url, digest, limits)).await;
}

async fn store(
    cache: &str,
    url: &str,
    key: &str,
    current: &str,
    body: &js_sys::Uint8Array,
) -> Result<(), String> {
    let describe = |e: JsValue| sys::describe(&e);
    let bytes = body.buffer();
    // Kept with the digest of its own bytes, checked when a start finds it.
    let digest = integrity::check(&bytes, None).await?;
    let kept = open(cache).await.map_err(describe)?;
    for request in copies(&kept, url).await.map_err(describe)? {
        if !request.url().contains(current) {
            let removing = kept.remove(&request).map_err(describe)?;
            JsFuture::from(removing).await.map_err(describe)?;
        }
    }
    // `application/wasm`, so that it compiles as it streams in.
    offline::keep_bytes(
        &cache_name(cache),
        key,
        &bytes,
        &digest,
        Some("application/wasm"),
    )
    .await
}

/// The keys of the copies kept of `url`'s module, whatever their digest and limits.
async fn copies(cache: &sys::Cache, url: &str) -> Result<Vec<web_sys::Request>, JsValue> {
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"ignoreSearch".into(), &true.into())?;
    let keys: js_sys::Array = JsFuture::from(cache.keys_for(url, &options)?)
        .await?
        .unchecked_into();
    Ok(keys
        .iter()
        .map(JsCast::unchecked_into::<web_sys::Request>)
        .filter(|request| request.url().contains("valor-rewritten="))
        .collect())
}

async fn open(cache: &str) -> Result<sys::Cache, JsValue> {
    offline::open_cache(&cache_name(cache)).await
}
