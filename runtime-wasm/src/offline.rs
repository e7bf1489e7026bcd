//! Offline: the worker's copies of what it needs to start, kept in Cache Storage: the manifest,
//! the plugins' modules and scripts, and the runtime's own files (valor-worker.js keeps the
//! runtime's .wasm in the same cache). A start uses a kept copy at once, and its caller
//! revalidates it in the background (`plugin::modules`, `app`); without one, the network.
//!
//! Every copy carries the SHA-256 of its bytes ([`DIGEST_HEADER`]), checked before it is used:
//! a copy whose bytes are not the ones kept is dropped, said with both digests, and fetched
//! again. The runtime's own files are used from their copy only if it is the version this
//! runtime was built with (`valor_digests`, stamped by scripts/build.sh into the runtime's
//! script): a new runtime arrives as a new worker, never with an older kept file.

use crate::{integrity, sys};
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The header of a kept copy that gives the SHA-256 of its bytes (Subresource Integrity form).
pub const DIGEST_HEADER: &str = "x-valor-digest";

/// The global, defined by the runtime's script, that maps each runtime file to its SHA-256.
const RUNTIME_DIGESTS: &str = "valor_digests";

/// A file's bytes, read and hashed.
#[derive(Clone)]
pub struct File {
    /// A response of the bytes, unread: for streamed compilation.
    pub response: web_sys::Response,
    /// The bytes.
    pub bytes: js_sys::ArrayBuffer,
    /// Their SHA-256, in Subresource Integrity form.
    pub digest: String,
    /// Whether they are the kept copy (else they came from the network, not kept yet).
    pub kept: bool,
}

impl File {
    /// Whether the response says it is a WebAssembly module, which can compile as it streams.
    pub fn is_wasm(&self) -> bool {
        self.content_type().as_deref() == Some("application/wasm")
    }

    /// The `content-type` it was served with.
    pub fn content_type(&self) -> Option<String> {
        self.response.headers().get("content-type").ok().flatten()
    }

    /// Whether it is a WASI component rather than a core module (by its header).
    pub fn is_component(&self) -> bool {
        is_component(&self.bytes)
    }
}

/// The kept copy of `url` if there is a good one, else the network's (not kept yet: see
/// [`keep`]). A runtime file's copy is used only if it is the version this runtime expects.
pub async fn open(cache: &str, url: &str) -> Result<File, String> {
    if let Some(file) = kept(cache, url).await {
        if expected(url).is_none_or(|digest| digest == file.digest) {
            return Ok(file);
        }
    }
    download(url).await
}

/// `url` from the network, revalidated (`cache: "no-cache"`: unchanged bytes are not sent
/// again, and never a stale HTTP-cache copy), read and hashed. An HTTP error is an error.
pub async fn download(url: &str) -> Result<File, String> {
    arrived(url, sys::fetch_with_cache_mode(url, "no-cache")).await
}

/// As [`download`], for a fetch of `url` already under way (`fetching`).
pub async fn arrived(url: &str, fetching: js_sys::Promise) -> Result<File, String> {
    let response: web_sys::Response = JsFuture::from(fetching)
        .await
        .map_err(|e| format!("fetching {url} failed: {}", sys::describe(&e)))?
        .unchecked_into();
    if !response.ok() {
        return Err(format!(
            "fetching {url} answered {} {}",
            response.status(),
            response.status_text()
        ));
    }
    file(response, url, false).await
}

/// The good kept copy of `url`, if there is one. A copy whose bytes do not match the digest it
/// was kept with is dropped, and said.
pub async fn kept(cache: &str, url: &str) -> Option<File> {
    kept_if(cache, url, |_| true).await
}

/// As [`kept`], for a copy whose headers `wanted` accepts: any other is not read.
pub async fn kept_if(
    cache: &str,
    url: &str,
    wanted: impl FnOnce(&web_sys::Headers) -> bool,
) -> Option<File> {
    let response = stored(cache, url).await?;
    if !wanted(&response.headers()) {
        return None;
    }
    let claimed = response.headers().get(DIGEST_HEADER).ok().flatten();
    let file = file(response, url, true).await.ok()?;
    if claimed.as_deref() == Some(file.digest.as_str()) {
        return Some(file);
    }
    web_sys::console::warn_1(
        &format!(
            "[valor] the kept copy of {url} was dropped: it was kept with SHA-256 {}, its bytes \
             have {}; fetching it again",
            claimed.as_deref().unwrap_or("(none)"),
            file.digest
        )
        .into(),
    );
    forget(cache, url).await;
    None
}

/// Keeps `file` as the copy of `url`, with its digest; says why not.
pub async fn keep(cache: &str, url: &str, file: &File) -> Result<(), String> {
    let content_type = file.content_type();
    let with: Vec<_> = content_type
        .iter()
        .map(|t| ("content-type", t.as_str()))
        .collect();
    keep_bytes(cache, url, &file.bytes, &file.digest, &with).await
}

/// Keeps `bytes`, of SHA-256 `digest`, as the copy of `url`, with the headers `with` (such as
/// its `content-type`); says why not.
pub async fn keep_bytes(
    cache: &str,
    url: &str,
    bytes: &js_sys::ArrayBuffer,
    digest: &str,
    with: &[(&str, &str)],
) -> Result<(), String> {
    let why = |e: JsValue| format!("{url} could not be kept: {}", sys::describe(&e));
    let headers = web_sys::Headers::new().map_err(why)?;
    headers.set(DIGEST_HEADER, digest).map_err(why)?;
    for (name, value) in with {
        headers.set(name, value).map_err(why)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_headers(&headers);
    // A copy of its own: nothing else can change the bytes while the cache reads them.
    let body = js_sys::Uint8Array::new(bytes).slice(0, bytes.byte_length());
    let response =
        web_sys::Response::new_with_opt_js_u8_array_and_init(Some(&body), &init).map_err(why)?;
    store(cache, url, &response).await.map_err(why)
}

/// As [`keep`], in the background: a failure only makes a later start slower, and is logged.
pub fn keep_later(cache: &str, url: &str, file: &File) {
    let (cache, url, file) = (cache.to_owned(), url.to_owned(), file.clone());
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(why) = keep(&cache, &url, &file).await {
            web_sys::console::warn_1(&format!("[valor] {why}").into());
        }
    });
}

/// Forgets the kept copy of `url`.
pub async fn forget(cache: &str, url: &str) {
    let Ok(cache) = open_cache(cache).await else {
        return;
    };
    if let Ok(request) = web_sys::Request::new_with_str(url) {
        if let Ok(deleting) = cache.remove(&request) {
            let _ = JsFuture::from(deleting).await;
        }
    }
}

/// A runtime file (the rewriter, the component host): its good kept copy if it is this
/// runtime's version, else the network's, kept for later.
pub async fn fetch(cache: &str, url: &str) -> Result<web_sys::Response, JsValue> {
    let file = open(cache, url).await.map_err(JsValue::from)?;
    if !file.kept {
        keep_later(cache, url, &file);
    }
    Ok(file.response)
}

/// Keeps `url` for a later start without the network, unless a good copy is kept already (it is
/// revalidated when it is used: new bytes are kept only once they load); the file, or why not.
pub async fn keep_offline(cache: &str, url: &str) -> Result<File, String> {
    match open(cache, url).await? {
        file if file.kept => Ok(file),
        file => {
            keep(cache, url, &file).await?;
            Ok(file)
        }
    }
}

/// Whether `bytes` are a WASI component rather than a core module (by their header).
pub fn is_component(bytes: &js_sys::ArrayBuffer) -> bool {
    let length = bytes.byte_length().min(8);
    let header = js_sys::Uint8Array::new_with_byte_offset_and_length(bytes, 0, length).to_vec();
    valor_host::component::is_component(&header)
}

/// The SHA-256 this runtime was built with for `url`, if it is one of the runtime's own files.
pub fn expected(url: &str) -> Option<String> {
    let digests = js_sys::Reflect::get(&js_sys::global(), &RUNTIME_DIGESTS.into()).ok()?;
    if !digests.is_object() {
        return None;
    }
    let file = url.split(['?', '#']).next()?.rsplit('/').next()?;
    js_sys::Reflect::get(&digests, &file.into())
        .ok()?
        .as_string()
}

/// `response` read (from a copy: `response` stays unread) and hashed.
async fn file(response: web_sys::Response, url: &str, kept: bool) -> Result<File, String> {
    let copy = response.clone().map_err(|e| sys::describe(&e))?;
    let reading = copy.array_buffer().map_err(|e| sys::describe(&e))?;
    let bytes: js_sys::ArrayBuffer = JsFuture::from(reading)
        .await
        .map_err(|e| format!("reading {url} failed: {}", sys::describe(&e)))?
        .unchecked_into();
    let digest = integrity::check(&bytes, None).await?;
    Ok(File {
        response,
        bytes,
        digest,
        kept,
    })
}

async fn store(cache: &str, url: &str, response: &web_sys::Response) -> Result<(), JsValue> {
    let cache = open_cache(cache).await?;
    JsFuture::from(cache.put(url, response)?).await?;
    Ok(())
}

async fn stored(cache: &str, url: &str) -> Option<web_sys::Response> {
    let cache = open_cache(cache).await.ok()?;
    let hit = JsFuture::from(cache.find(url).ok()?).await.ok()?;
    hit.dyn_into::<web_sys::Response>().ok()
}

thread_local! {
    /// The caches opened in this life of the worker: each `caches.open` is a round trip to the
    /// browser, and a start reads several copies from the same cache.
    static OPENED: RefCell<HashMap<String, JsValue>> = RefCell::default();
}

/// The Cache Storage cache `name`, opened once per life of the worker.
pub async fn open_cache(name: &str) -> Result<sys::Cache, JsValue> {
    let cache = match OPENED.with(|opened| opened.borrow().get(name).cloned()) {
        Some(cache) => cache,
        None => {
            let cache = JsFuture::from(sys::open_cache(name)?).await?;
            OPENED.with(|opened| opened.borrow_mut().insert(name.to_owned(), cache.clone()));
            cache
        }
    };
    Ok(cache.unchecked_into())
}
