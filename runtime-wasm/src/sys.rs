//! Raw JavaScript bindings, all in one place; safe wrappers live in the modules that use them.

use js_sys::{Object, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, in a page or any worker (`web_sys::window()` is `None` in workers).
    #[wasm_bindgen(js_name = fetch)]
    pub fn fetch(request: &web_sys::Request) -> Promise;

    /// `fetch(url, init)`.
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_with_init(url: &str, init: &js_sys::Object) -> Promise;

    /// `caches.open(name)`: resolves to a `Cache`.
    #[wasm_bindgen(catch, js_namespace = caches, js_name = open)]
    pub fn open_cache(name: &str) -> Result<Promise, JsValue>;

    /// A Cache Storage cache.
    pub type Cache;

    /// `cache.put(url, response)`.
    #[wasm_bindgen(method, catch)]
    pub fn put(this: &Cache, url: &str, response: &web_sys::Response) -> Result<Promise, JsValue>;

    /// `cache.match(url)`: resolves to the stored `Response`, or `undefined`.
    #[wasm_bindgen(method, catch, js_name = match)]
    pub fn find(this: &Cache, url: &str) -> Result<Promise, JsValue>;

    /// `cache.keys(url, { ignoreSearch: true })`: resolves to the stored `Request`s for `url`,
    /// whatever their query.
    #[wasm_bindgen(method, catch, js_name = keys)]
    pub fn keys_for(this: &Cache, url: &str, options: &Object) -> Result<Promise, JsValue>;

    /// `cache.delete(request)`.
    #[wasm_bindgen(method, catch, js_name = delete)]
    pub fn remove(this: &Cache, request: &web_sys::Request) -> Result<Promise, JsValue>;

    /// Compiles from a streamed response; resolves to a `WebAssembly.Module`. Rejects unless the
    /// response's `content-type` is `application/wasm`.
    #[wasm_bindgen(js_namespace = WebAssembly, js_name = compileStreaming)]
    pub fn compile_streaming(source: &web_sys::Response) -> Promise;

    /// Compiles and instantiates from a streamed response; resolves to `{ module, instance }`.
    /// Rejects unless the response's `content-type` is `application/wasm`.
    #[wasm_bindgen(js_namespace = WebAssembly, js_name = instantiateStreaming)]
    pub fn instantiate_streaming(source: &web_sys::Response, imports: &Object) -> Promise;

    /// Compiles and instantiates from bytes; resolves to `{ module, instance }`.
    #[wasm_bindgen(js_namespace = WebAssembly, js_name = instantiate)]
    pub fn instantiate_bytes(bytes: &js_sys::ArrayBuffer, imports: &Object) -> Promise;

    /// Instantiates an already compiled module; resolves to the `Instance`.
    #[wasm_bindgen(js_namespace = WebAssembly, js_name = instantiate)]
    pub fn instantiate_module(module: &js_sys::WebAssembly::Module, imports: &Object) -> Promise;

    /// The global `setTimeout(callback, ms)`; returns the timer id.
    #[wasm_bindgen(js_name = setTimeout)]
    pub fn set_timeout(callback: &js_sys::Function, ms: f64) -> i32;

    /// The global `clearTimeout(id)`.
    #[wasm_bindgen(js_name = clearTimeout)]
    pub fn clear_timeout(id: i32);

    /// The global `crypto.getRandomValues(array)`: at most 64 KiB per call.
    #[wasm_bindgen(catch, js_namespace = crypto, js_name = getRandomValues)]
    pub fn get_random_values(array: &js_sys::Uint8Array) -> Result<(), JsValue>;

    /// `crypto.subtle.digest(algorithm, data)`: resolves to the digest as an `ArrayBuffer`.
    #[wasm_bindgen(catch, js_namespace = ["crypto", "subtle"], js_name = digest)]
    pub fn digest(algorithm: &str, data: &js_sys::ArrayBuffer) -> Result<Promise, JsValue>;

    /// `clients.get(id)` in a service worker: resolves to the `Client`, or `undefined`.
    #[wasm_bindgen(js_namespace = clients, js_name = get)]
    pub fn client(id: &str) -> Promise;

    /// `performance.mark(name)`: a named point in time, shown by DevTools and read by the bench.
    #[wasm_bindgen(catch, js_namespace = performance, js_name = mark)]
    fn performance_mark(name: &str) -> Result<JsValue, JsValue>;

    /// JavaScript's `String(value)`: "Name: message" for Error objects. Throws only for an
    /// object whose own `toString` throws.
    #[wasm_bindgen(catch, js_name = String)]
    fn to_js_string(value: &JsValue) -> Result<String, JsValue>;

    /// The `exports` object of a plugin instance; see `valor_abi::exports`.
    /// Every call can throw: a trap in the plugin is a JS exception (`catch`).
    pub type PluginExports;

    #[wasm_bindgen(method, catch, js_name = valor_abi_version)]
    pub fn abi_version(this: &PluginExports) -> Result<u32, JsValue>;
    #[wasm_bindgen(method, catch, js_name = valor_init)]
    pub fn init(this: &PluginExports, ptr: u32, len: u32) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = valor_complete)]
    pub fn complete(this: &PluginExports, op: u32, ptr: u32, len: u32) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = valor_woken)]
    pub fn woken(this: &PluginExports) -> Result<u32, JsValue>;
    #[wasm_bindgen(method, catch, js_name = valor_alloc)]
    pub fn alloc(this: &PluginExports, len: u32) -> Result<u32, JsValue>;
    #[wasm_bindgen(method, catch, js_name = valor_start)]
    pub fn start(this: &PluginExports, ptr: u32, len: u32) -> Result<u32, JsValue>;
    #[wasm_bindgen(method, catch, js_name = valor_poll)]
    pub fn poll(this: &PluginExports, task: u32) -> Result<u32, JsValue>;
    #[wasm_bindgen(method, catch, js_name = valor_drop)]
    pub fn drop_task(this: &PluginExports, task: u32) -> Result<(), JsValue>;
    #[wasm_bindgen(method, getter)]
    pub fn memory(this: &PluginExports) -> js_sys::WebAssembly::Memory;

    /// The `exports` object of an instance of the module rewriter, `valor_meter.wasm` (see
    /// `plugin::rewriter`). A trap in it is a JS exception (`catch`).
    pub type MeterExports;

    #[wasm_bindgen(method, catch, js_name = valor_meter_alloc)]
    pub fn alloc(this: &MeterExports, len: u32) -> Result<u32, JsValue>;
    #[wasm_bindgen(method, catch, js_name = valor_meter_instrument)]
    pub fn instrument(
        this: &MeterExports,
        ptr: u32,
        len: u32,
        fuel: u64,
        memory_pages: u64,
    ) -> Result<u32, JsValue>;
    #[wasm_bindgen(method, catch, js_name = valor_meter_warm_up)]
    pub fn warm_up(this: &MeterExports) -> Result<u32, JsValue>;
    #[wasm_bindgen(method, catch, js_name = valor_meter_output)]
    pub fn output(this: &MeterExports) -> Result<u32, JsValue>;
    #[wasm_bindgen(method, catch, js_name = valor_meter_output_len)]
    pub fn output_len(this: &MeterExports) -> Result<u32, JsValue>;
    #[wasm_bindgen(method, getter)]
    pub fn memory(this: &MeterExports) -> js_sys::WebAssembly::Memory;
}

/// `fetch(url, { cache })`: `"no-cache"` revalidates any copy in the HTTP cache, `"no-store"`
/// ignores it.
pub fn fetch_with_cache_mode(url: &str, cache: &str) -> Promise {
    let init = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&init, &"cache".into(), &cache.into());
    fetch_with_init(url, &init)
}

/// Marks a point of a plugin's loading (`valor:<plugin>:<stage>`), for DevTools and the bench.
pub fn mark(plugin: &str, stage: &str) {
    let _ = performance_mark(&format!("valor:{plugin}:{stage}"));
}

/// A JavaScript copy of `bytes`: how bytes of the runtime's memory reach the browser (response
/// and request bodies, stored values). Never hand a platform object a *view* of wasm memory
/// instead: WebKit keeps reading the view after the call returns (`new Response(view)` does not
/// copy there), by when the memory has been freed and reused; and a memory that grows detaches
/// every view in all engines. `clippy.toml` forbids the web-sys calls that would pass a view.
pub fn copy_to_js(bytes: &[u8]) -> js_sys::Uint8Array {
    js_sys::Uint8Array::from(bytes)
}

/// A JS error (or any thrown value) as text a person can act on.
pub fn describe(error: &JsValue) -> String {
    to_js_string(error).unwrap_or_else(|_| format!("{error:?}"))
}
