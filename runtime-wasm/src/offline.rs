//! Offline: the worker's copies of what it needs to start, in Cache Storage: the manifest and the
//! plugins' modules (sw.js keeps the runtime's own files in the same cache). Network first, so
//! that a new manifest or a module with new bytes is picked up at the next start once the
//! network is back; the stored copy when the network cannot be reached.

use crate::sys;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A module: from the network, revalidated (unchanged bytes are not sent again, and never a
/// stale HTTP-cache copy), stored for later; or the stored copy if the network fails. HTTP errors
/// are answers, returned as they are and not stored.
pub async fn fetch(cache: &str, url: &str) -> Result<web_sys::Response, JsValue> {
    settle(cache, url, sys::fetch_with_cache_mode(url, "no-cache")).await
}

/// As [`fetch`], for a fetch of `url` already under way (`fetching`, a promise of its response):
/// sw.js starts the manifest's while the runtime loads.
pub async fn settle(
    cache: &str,
    url: &str,
    fetching: js_sys::Promise,
) -> Result<web_sys::Response, JsValue> {
    match JsFuture::from(fetching).await {
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

/// Whether the copy of `url` kept in `cache` is a WASI component (by its first bytes).
pub async fn kept_component(cache: &str, url: &str) -> bool {
    let Some(kept) = stored(cache, url).await else {
        return false;
    };
    let Ok(reading) = kept.array_buffer() else {
        return false;
    };
    match JsFuture::from(reading).await {
        Ok(bytes) => {
            let bytes = js_sys::Uint8Array::new(&bytes);
            let header = bytes.subarray(0, bytes.length().min(8)).to_vec();
            valor_host::component::is_component(&header)
        }
        Err(_) => false,
    }
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
