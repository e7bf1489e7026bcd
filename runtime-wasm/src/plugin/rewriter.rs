//! The module rewriter (crate `valor-meter`), run as a module of its own, `valor_meter.wasm`:
//! fetched and compiled the first time a plugin's module must be rewritten (a start that finds
//! the rewritten copies it kept never loads it), then instantiated afresh for each module. The
//! plugin's bytes so never grow the runtime's own memory, and a rewriting that traps twice (on
//! two fresh instances) fails that one plugin's load, not the runtime.

use super::Slot;
use crate::{offline, sys};
use futures::future::{FutureExt, LocalBoxFuture};
use js_sys::WebAssembly;
use std::rc::Rc;
use valor_meter::Limits;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The rewriter of one runtime: where its module is, and the module once compiled.
pub struct Rewriter {
    url: Rc<str>,
    /// The Cache Storage cache that keeps it for starts without the network.
    cache: Rc<str>,
    /// Its compiled module, once loaded.
    module: Slot<WebAssembly::Module>,
}

impl Rewriter {
    /// The rewriter whose module is at `url`, kept in the Cache Storage cache `cache`; nothing
    /// is fetched until a module must be rewritten.
    pub fn new(url: &str, cache: &str) -> Self {
        Self {
            url: url.into(),
            cache: cache.into(),
            module: Slot::default(),
        }
    }

    /// Where its module is.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `module` (valid: see `WebAssembly.validate`) rewritten for `limits`, or why not.
    pub async fn rewrite(
        &self,
        module: &js_sys::ArrayBuffer,
        limits: Limits,
    ) -> Result<js_sys::Uint8Array, Refusal> {
        let rewriter = self.module().await.map_err(Refusal::Unavailable)?;
        let fresh = || {
            instantiate(&rewriter).map_err(|e| {
                Refusal::Unavailable(format!("instantiating it failed: {}", sys::describe(&e)))
            })
        };
        let mut exports = fresh()?;
        let mut result = run(&exports, module, limits);
        // The rewriting is a pure function of the module: a trap that a fresh instance does
        // not repeat is the engine's (JavaScriptCore on Linux sometimes traps in long wasm
        // calls: the browsers page of the book). One more run on a fresh instance, said.
        if let Err(trap) = &result {
            web_sys::console::warn_1(
                &format!(
                    "[valor] the module rewriter trapped ({}); running it once more on a fresh \
                     instance",
                    sys::describe(trap)
                )
                .into(),
            );
            exports = fresh()?;
            result = run(&exports, module, limits);
        }
        result.map_err(|trap| {
            // A panic leaves its message as the output (read no more than a log line's worth:
            // after a trap of another kind, the length may be anything).
            let panic = output(&exports)
                .map(|message| {
                    message
                        .subarray(0, message.length().min(PANIC_BYTES))
                        .to_vec()
                })
                .map(|message| String::from_utf8_lossy(&message).into_owned())
                .unwrap_or_default();
            let mut why = sys::describe(&trap);
            if !panic.is_empty() {
                why = format!("{why} ({panic})");
            }
            Refusal::Failed(format!("the module rewriter failed on it: {why}"))
        })?
    }

    /// Begins loading the rewriter, if it is not loaded: a module about to be rewritten
    /// downloads meanwhile.
    pub fn preload(&self) {
        // A shared future runs only while polled.
        wasm_bindgen_futures::spawn_local(self.module.making(|| self.load()).map(drop));
    }

    /// As [`Rewriter::preload`], from `response`, its module's bytes already at hand (unread):
    /// the install that kept it does not read it again.
    pub fn preload_from(&self, response: web_sys::Response) {
        let url = Rc::clone(&self.url);
        let load = || async move { compile(&url, &response).await }.boxed_local();
        wasm_bindgen_futures::spawn_local(self.module.making(load).map(drop));
    }

    /// The compiled rewriter: loaded once however many plugins ask. A failure is not kept: the
    /// next plugin to need it loads it again.
    async fn module(&self) -> Result<WebAssembly::Module, String> {
        self.module.get(|| self.load()).await
    }

    fn load(&self) -> LocalBoxFuture<'static, Result<WebAssembly::Module, String>> {
        let (url, cache) = (Rc::clone(&self.url), Rc::clone(&self.cache));
        async move { load(&url, &cache).await }.boxed_local()
    }
}

/// How much of a rewriter's panic message is kept (as of a plugin's log line).
const PANIC_BYTES: u32 = valor_abi::MAX_TEXT_BYTES;

/// Why a module was not rewritten.
#[derive(Debug)]
pub enum Refusal {
    /// The module cannot be rewritten (the rewriter's reason).
    Refused(String),
    /// The rewriter could not be loaded: a problem of the deployment, not of the plugin.
    Unavailable(String),
    /// The rewriter trapped on the module: a bug in Valor's rewriter.
    Failed(String),
}

/// Fetches (network first, kept for starts without the network) and compiles the rewriter, then
/// has it rewrite a module of its own: the engine compiles its functions on their first call,
/// which would otherwise make the first plugin's rewriting several times slower (see
/// `valor_meter_warm_up`).
async fn load(url: &str, cache: &str) -> Result<WebAssembly::Module, String> {
    let why = |e: &wasm_bindgen::JsValue| format!("loading {url} failed: {}", sys::describe(e));
    let response = offline::fetch(cache, url).await.map_err(|e| why(&e))?;
    if !response.ok() {
        return Err(format!("loading {url} answered {}", response.status()));
    }
    compile(url, &response).await
}

/// The rewriter from `response` (its module, from `url`), compiled and warmed up.
async fn compile(url: &str, response: &web_sys::Response) -> Result<WebAssembly::Module, String> {
    let why = |e: &wasm_bindgen::JsValue| format!("loading {url} failed: {}", sys::describe(e));
    let module = JsFuture::from(sys::compile_streaming(response))
        .await
        .map_err(|e| why(&e))?;
    let module: WebAssembly::Module = module.unchecked_into();
    let file = url.rsplit('/').next().unwrap_or(url);
    sys::mark(file, "compiled");
    let warmed = instantiate(&module).and_then(|exports| exports.warm_up());
    if warmed.as_ref().map_or(true, |&rewritten| rewritten != 1) {
        let why = warmed.map_or_else(|e| sys::describe(&e), |_| "refused".to_owned());
        return Err(format!(
            "{url} failed to rewrite a module of its own: {why}"
        ));
    }
    sys::mark(file, "warmed up");
    Ok(module)
}

fn instantiate(module: &WebAssembly::Module) -> Result<sys::MeterExports, wasm_bindgen::JsValue> {
    let instance = WebAssembly::Instance::new(module, &js_sys::Object::new())?;
    Ok(instance.exports().unchecked_into())
}

/// The calls of one rewriting (see the `valor-meter` crate's `module`).
fn run(
    exports: &sys::MeterExports,
    module: &js_sys::ArrayBuffer,
    limits: Limits,
) -> Result<Result<js_sys::Uint8Array, Refusal>, wasm_bindgen::JsValue> {
    let len = module.byte_length();
    let ptr = exports.alloc(len)?;
    js_sys::Uint8Array::new_with_byte_offset_and_length(&exports.memory().buffer(), ptr, len)
        .set(&js_sys::Uint8Array::new(module), 0);
    let rewritten = exports.instrument(ptr, len, limits.fuel, limits.memory_pages)? == 1;
    let output = output(exports)?;
    Ok(if rewritten {
        Ok(output)
    } else {
        Err(Refusal::Refused(
            String::from_utf8_lossy(&output.to_vec()).into_owned(),
        ))
    })
}

/// A copy of what the rewriter left as its output (see `valor_meter_output`): the instance, and
/// its memory, are dropped.
fn output(exports: &sys::MeterExports) -> Result<js_sys::Uint8Array, wasm_bindgen::JsValue> {
    let (at, len) = (exports.output()?, exports.output_len()?);
    Ok(js_sys::Uint8Array::new(&exports.memory().buffer()).slice(at, at.saturating_add(len)))
}
