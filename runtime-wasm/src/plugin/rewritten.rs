//! Modules as rewritten for their limits (`crate::meter`), kept in Cache Storage: a start does not
//! rewrite again a module it rewrote before (the largest part of a plugin's first load), and
//! compiles the kept copy as it streams in, which also lets the engine cache its compiled code.
//!
//! A copy is found by the module's URL, the limits and the rewriting's version, in one Cache
//! Storage read: a start that has it reads nothing else of the module. The copy says which
//! module it was made from, by that module's SHA-256 ([`SOURCE_HEADER`]), and the caller says
//! which it will take (the bytes it holds, or for a start the kept module's digest, its entry's
//! integrity or the runtime's own digest). Keeping a copy replaces the one of the same URL and
//! limits, and removes those of another version of the rewriting. Like every kept copy, it
//! carries the digest of its own bytes, checked before it is compiled (`offline::kept`).

use crate::{integrity, offline, sys};
use valor_meter::Limits;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The header of a kept copy that gives the SHA-256 of the module it was rewritten from (SRI
/// form).
pub const SOURCE_HEADER: &str = "x-valor-rewritten-from";

/// A kept rewritten copy, read and checked.
pub struct Kept {
    /// Its bytes, and their response for streamed compilation.
    pub file: offline::File,
    /// The SHA-256 of the module it was rewritten from (SRI form).
    pub source: String,
}

/// The cache the copies are kept in, beside the one that keeps modules for offline starts.
fn cache_name(cache: &str) -> String {
    format!("{cache}:rewritten")
}

/// Where the copy of `url`'s module rewritten for `limits` is kept.
fn key(url: &str, limits: Limits) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{separator}{}{}.{}",
        version(),
        limits.fuel,
        limits.memory_pages
    )
}

/// The start of a key's query: copies by another version of the rewriting are stale.
fn version() -> String {
    format!("valor-rewritten=v{}.", valor_meter::VERSION)
}

/// Whether `key` names a copy of this version of the rewriting, in this form (URL and limits;
/// keys that also named the module's digest are an older form).
fn is_current(key: &str) -> bool {
    let Some((_, query)) = key.split_once(&version()) else {
        return false;
    };
    let limits: Vec<&str> = query.split('.').collect();
    limits.len() == 2
        && limits
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The kept copy of `url`'s module rewritten for `limits`, if there is one made from a module
/// `wanted` accepts (by its SHA-256) and its bytes are the ones kept (see `offline::kept`).
pub async fn find(
    cache: &str,
    url: &str,
    limits: Limits,
    wanted: impl FnOnce(&str) -> bool,
) -> Option<Kept> {
    let made_from = |headers: &web_sys::Headers| headers.get(SOURCE_HEADER).ok().flatten();
    let accepted = |headers: &web_sys::Headers| made_from(headers).is_some_and(|s| wanted(&s));
    let file = offline::kept_if(&cache_name(cache), &key(url, limits), accepted).await?;
    let source = made_from(&file.response.headers())?;
    Some(Kept { file, source })
}

/// Keeps `body`, rewritten from the module at `url` of SHA-256 `source`, for later starts, in
/// the background: it replaces the copy for the same limits, and the copies of `url`'s module
/// by another version of the rewriting are removed (copies for other limits stay).
pub fn keep(cache: &str, url: &str, source: &str, limits: Limits, body: js_sys::Uint8Array) {
    let (cache, url, source, key) = (
        cache.to_owned(),
        url.to_owned(),
        source.to_owned(),
        key(url, limits),
    );
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(error) = store(&cache, &url, &key, &source, &body).await {
            // Only the next start is slower for it.
            web_sys::console::warn_1(
                &format!("[valor] the rewritten {url} could not be kept: {error}").into(),
            );
        }
    });
}

/// Forgets the kept copy (it did not compile).
pub async fn forget(cache: &str, url: &str, limits: Limits) {
    offline::forget(&cache_name(cache), &key(url, limits)).await;
}

async fn store(
    cache: &str,
    url: &str,
    key: &str,
    source: &str,
    body: &js_sys::Uint8Array,
) -> Result<(), String> {
    let describe = |e: JsValue| sys::describe(&e);
    let bytes = body.buffer();
    // Kept with the digest of its own bytes, checked when a start finds it.
    let digest = integrity::check(&bytes, None).await?;
    let kept = open(cache).await.map_err(describe)?;
    for request in copies(&kept, url).await.map_err(describe)? {
        if !is_current(&request.url()) {
            let removing = kept.remove(&request).map_err(describe)?;
            JsFuture::from(removing).await.map_err(describe)?;
        }
    }
    // `application/wasm`, so that it compiles as it streams in.
    let with = [
        ("content-type", "application/wasm"),
        (SOURCE_HEADER, source),
    ];
    offline::keep_bytes(&cache_name(cache), key, &bytes, &digest, &with).await
}

/// The keys of the copies kept of `url`'s module, whatever their limits and form.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_the_url_the_limits_and_the_rewriting() {
        let limits = Limits {
            fuel: 1000,
            memory_pages: 16,
        };
        let key = key("https://a.test/p/hello.wasm", limits);
        assert_eq!(
            key,
            format!(
                "https://a.test/p/hello.wasm?valor-rewritten=v{}.1000.16",
                valor_meter::VERSION
            )
        );
        assert!(is_current(&key));
        assert_eq!(
            super::key("https://a.test/m.wasm?v=2", limits),
            format!(
                "https://a.test/m.wasm?v=2&valor-rewritten=v{}.1000.16",
                valor_meter::VERSION
            )
        );
    }

    #[test]
    fn copies_of_another_rewriting_or_keyed_by_digest_are_stale() {
        let v = valor_meter::VERSION;
        let older = format!("https://a.test/h.wasm?valor-rewritten=v{}.1000.16", v + 1);
        let by_digest = format!("https://a.test/h.wasm?valor-rewritten=v{v}.sha256-AbC_-x.1000.16");
        assert!(!is_current(&older));
        assert!(!is_current(&by_digest));
        assert!(!is_current("https://a.test/h.wasm"));
    }
}
