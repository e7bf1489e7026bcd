//! Modules as rewritten for their limits (`crate::meter`), kept in Cache Storage: a start does not
//! rewrite again a module it rewrote before (the largest part of a plugin's first load), and
//! compiles the kept copy as it streams in, which also lets the engine cache its compiled code.
//!
//! A kept copy is found by the original's digest, the limits and the rewriting's version, so a
//! new module, new limits or a new runtime never find a stale one. Storing a copy removes the
//! stale ones of the same URL.

use crate::sys;
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

/// A copy kept by an earlier start, of the module `url` had then, with its compilation begun:
/// the caller uses it if the module's bytes turn out unchanged ([`Speculation::is_for`]).
pub struct Speculation {
    key: String,
    /// Resolves to the compiled module.
    pub compiling: js_sys::Promise,
}

impl Speculation {
    /// Whether it is the copy of `url`'s module with `digest`, for `limits`.
    pub fn is_for(&self, url: &str, digest: &str, limits: Limits) -> bool {
        self.key == key(url, digest, limits)
    }
}

/// Starts compiling the copy of `url`'s module for `limits` kept by an earlier start, whatever
/// its digest, if there is one: a start can then compile it while the network says whether the
/// module changed.
pub async fn speculate(cache: &str, url: &str, limits: Limits) -> Option<Speculation> {
    let cache = open(cache).await.ok()?;
    let (version, for_limits) = (version(), for_limits(limits));
    let request = copies(&cache, url)
        .await
        .ok()?
        .into_iter()
        .find(|request| {
            let key = request.url();
            key.contains(&version) && key.ends_with(&for_limits)
        })?;
    let response = JsFuture::from(cache.find(&request.url()).ok()?)
        .await
        .ok()?;
    Some(Speculation {
        key: request.url(),
        compiling: sys::compile_streaming(response.dyn_ref()?),
    })
}

/// The kept copy, if there is one.
pub async fn find(
    cache: &str,
    url: &str,
    digest: &str,
    limits: Limits,
) -> Option<web_sys::Response> {
    let cache = open(cache).await.ok()?;
    let hit = JsFuture::from(cache.find(&key(url, digest, limits)).ok()?)
        .await
        .ok()?;
    hit.dyn_into().ok()
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
                &format!(
                    "[valor] the rewritten {url} could not be kept: {}",
                    sys::describe(&error)
                )
                .into(),
            );
        }
    });
}

/// Forgets the kept copy (it did not compile).
pub async fn forget(cache: &str, url: &str, digest: &str, limits: Limits) {
    if let Ok(cache) = open(cache).await {
        if let Ok(request) = web_sys::Request::new_with_str(&key(url, digest, limits)) {
            if let Ok(deleting) = cache.remove(&request) {
                let _ = JsFuture::from(deleting).await;
            }
        }
    }
}

async fn store(
    cache: &str,
    url: &str,
    key: &str,
    current: &str,
    body: &js_sys::Uint8Array,
) -> Result<(), JsValue> {
    let cache = open(cache).await?;
    for request in copies(&cache, url).await? {
        let kept = request.url();
        if !kept.contains(current) {
            JsFuture::from(cache.remove(&request)?).await?;
        }
    }
    let init = web_sys::ResponseInit::new();
    let headers = web_sys::Headers::new()?;
    // So that it compiles as it streams in.
    headers.set("content-type", "application/wasm")?;
    init.set_headers(&headers);
    let response = web_sys::Response::new_with_opt_js_u8_array_and_init(Some(body), &init)?;
    JsFuture::from(cache.put(key, &response)?).await?;
    Ok(())
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
    Ok(JsFuture::from(sys::open_cache(&cache_name(cache))?)
        .await?
        .unchecked_into())
}
