//! Offline: the worker's copies of what it needs to start, in Cache Storage: the manifest and the
//! plugins' modules (sw.js keeps the runtime's own files in the same cache). Network first, so
//! that a new manifest or a module with new bytes is picked up at the next start once the
//! network is back; the stored copy when the network cannot be reached.

use crate::sys;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// How fresh a resource must be.
#[derive(Clone, Copy)]
pub enum Freshness {
    /// Revalidated with the server (a module: unchanged bytes are not sent again).
    Revalidated,
    /// Fetched whole (the manifest: small, and a server's one-second modification times would
    /// let a change made in the same second as the last fetch pass unseen).
    Whole,
}

/// A resource of the runtime's: from the network (never a stale HTTP-cache copy), stored for
/// later; or the stored copy if the network fails. HTTP errors are answers, returned as they are
/// and not stored.
pub async fn fetch(
    cache: &str,
    url: &str,
    freshness: Freshness,
) -> Result<web_sys::Response, JsValue> {
    let mode = match freshness {
        Freshness::Revalidated => "no-cache",
        Freshness::Whole => "no-store",
    };
    match JsFuture::from(sys::fetch_with_cache_mode(url, mode)).await {
        Ok(response) => {
            let response: web_sys::Response = response.unchecked_into();
            if response.ok() {
                if let Ok(copy) = response.clone() {
                    // In the background: the caller reads the response meanwhile.
                    let (cache, url) = (cache.to_owned(), url.to_owned());
                    wasm_bindgen_futures::spawn_local(async move {
                        let _ = store(&cache, &url, &copy).await;
                    });
                }
            }
            Ok(response)
        }
        Err(error) => match stored(cache, url).await {
            Some(response) => Ok(response),
            None => Err(error),
        },
    }
}

/// Fetches `url` and stores it, for a later start without the network; says why not.
pub async fn keep(cache: &str, url: &str) -> Result<(), String> {
    let response: web_sys::Response = JsFuture::from(sys::fetch_with_cache_mode(url, "no-cache"))
        .await
        .map_err(|e| sys::describe(&e))?
        .unchecked_into();
    if !response.ok() {
        return Err(format!("{url} answered {}", response.status()));
    }
    store(cache, url, &response)
        .await
        .map_err(|e| sys::describe(&e))
}

async fn store(cache: &str, url: &str, response: &web_sys::Response) -> Result<(), JsValue> {
    let cache: sys::Cache = JsFuture::from(sys::open_cache(cache)?)
        .await?
        .unchecked_into();
    JsFuture::from(cache.put(url, response)?).await?;
    Ok(())
}

async fn stored(cache: &str, url: &str) -> Option<web_sys::Response> {
    let cache: sys::Cache = JsFuture::from(sys::open_cache(cache).ok()?)
        .await
        .ok()?
        .unchecked_into();
    let hit = JsFuture::from(cache.find(url).ok()?).await.ok()?;
    hit.dyn_into::<web_sys::Response>().ok()
}
