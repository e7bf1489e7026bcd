//! WASI 0.2 `wasi:http/proxy` components in the worker, run by the component host: the crate
//! `valor-component`, built as a module of its own (`valor_component_bg.wasm`, whose glue is
//! part of the worker's script, `valor-worker.js`, as service workers can only import scripts
//! at their start). The host's module is fetched and compiled the first time a manifest mounts a
//! component, so an app without components never downloads it.
//!
//! The runtime and the component host speak Valor's own encodings: a request as
//! `valor_abi::codec` encodes it (its URI absolute), a response likewise, and an outgoing
//! request through the plugin's `fetch` (`host::outbound`: its allowlist, the app's own
//! plugins, no redirects) with the `fetch` import's result. The host's errors arrive as a
//! JavaScript `Error` whose `name` says which failure it is.

use super::Slot;
use crate::host::{outbound, PluginContext};
use crate::inbound::RequestFrame;
use crate::meter::Limits;
use crate::reply::Reply;
use crate::{offline, sys};
use futures::future::{FutureExt, LocalBoxFuture};
use js_sys::{Function, Reflect, Uint8Array};
use std::rc::Rc;
use valor_host::component::{answered_error, unanswered};
use valor_host::fault::Fault;
use valor_host::frame::FrameHead;
use valor_host::guest::Frame;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The component host's module, beside the module rewriter.
pub const HOST_FILE: &str = "valor_component_bg.wasm";

/// The global its glue defines (`wasm-bindgen --no-modules-global`).
const GLOBAL: &str = "valor_component";

/// Fuel given to a component whose entry turned metering off: as good as none.
const UNMETERED_FUEL: f64 = 9_007_199_254_740_991.0; // 2^53 - 1, JavaScript's largest whole number

/// The component host of one worker: where its module is, and its `Component` class once
/// loaded.
pub struct ComponentHost {
    url: Rc<str>,
    cache: Rc<str>,
    class: Slot<JsValue>,
}

impl ComponentHost {
    /// The host whose module is at `url`, kept in the Cache Storage cache `cache`; nothing is
    /// fetched until a component is mounted.
    pub fn new(url: &str, cache: &str) -> Self {
        Self {
            url: url.into(),
            cache: cache.into(),
            class: Slot::default(),
        }
    }

    /// Where its module is.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `bytes`, a component (see `valor_host::component::is_component`), compiled for
    /// `limits` (none: unmetered), or why it cannot run here.
    pub async fn compile(
        &self,
        bytes: &js_sys::ArrayBuffer,
        limits: Option<Limits>,
        url: &str,
    ) -> Result<Component, String> {
        let class = self.class.get(|| self.load()).await?;
        let compile = method(&class, "compile").map_err(|e| self.broken(&e))?;
        let (fuel, pages) = match limits {
            Some(limits) => (limits.fuel as f64, limits.memory_pages as f64),
            None => (UNMETERED_FUEL, f64::from(u16::MAX) + 1.0),
        };
        let compiling = compile
            .call3(&class, &Uint8Array::new(bytes), &fuel.into(), &pages.into())
            .map_err(|e| self.broken(&e))?;
        let component = JsFuture::from(js_sys::Promise::resolve(&compiling))
            .await
            .map_err(|e| format!("{url} cannot run here: {}", message(&e)))?;
        Ok(Component(component))
    }

    fn broken(&self, error: &JsValue) -> String {
        format!(
            "the component host {} failed: {}",
            self.url,
            sys::describe(error)
        )
    }

    fn load(&self) -> LocalBoxFuture<'static, Result<JsValue, String>> {
        let (url, cache) = (Rc::clone(&self.url), Rc::clone(&self.cache));
        async move { load(&url, &cache).await }.boxed_local()
    }
}

/// Fetches (network first, kept for starts without the network) and instantiates the host's
/// module through its glue; its `Component` class.
async fn load(url: &str, cache: &str) -> Result<JsValue, String> {
    let glue = Reflect::get(&js_sys::global(), &GLOBAL.into())
        .ok()
        .and_then(|glue| glue.dyn_into::<Function>().ok())
        .ok_or_else(|| {
            "the worker's script did not define `valor_component`, the component host's glue \
             (valor-worker.js, as scripts/build.sh makes it, carries it beside the runtime's)"
                .to_owned()
        })?;
    let why = |e: &JsValue| format!("loading {url} failed: {}", sys::describe(e));
    let response = offline::fetch(cache, url).await.map_err(|e| why(&e))?;
    if !response.ok() {
        return Err(format!("loading {url} answered {}", response.status()));
    }
    let options = js_sys::Object::new();
    Reflect::set(&options, &"module_or_path".into(), &response).map_err(|e| why(&e))?;
    let ready = glue
        .call1(&JsValue::UNDEFINED, &options)
        .map_err(|e| why(&e))?;
    JsFuture::from(js_sys::Promise::resolve(&ready))
        .await
        .map_err(|e| why(&e))?;
    sys::mark(url.rsplit('/').next().unwrap_or(url), "loaded");
    Reflect::get(&glue, &"Component".into()).map_err(|e| why(&e))
}

/// A component, compiled by the host.
#[derive(Clone)]
pub struct Component(JsValue);

impl Component {
    /// Its answer to `request` (relative to the plugin's mount), from the plugin of `context`,
    /// `depth` plugin-to-plugin hops deep: an encoded response.
    pub async fn respond(
        &self,
        context: &Rc<PluginContext>,
        request: &RequestFrame,
        depth: u32,
    ) -> Result<Reply, Fault> {
        let encoded = request.absolute(&context.origin);
        let outside = outside(context, depth);
        let handle = method(&self.0, "handle").map_err(|e| crashed(&e))?;
        let answering = handle
            .call2(&self.0, &encoded, &outside)
            .map_err(|e| crashed(&e))?;
        match JsFuture::from(js_sys::Promise::resolve(&answering)).await {
            Ok(response) => reply(response.unchecked_into()),
            Err(error) => Err(fault(&error)),
        }
    }
}

/// The reply of an encoded response.
fn reply(response: Uint8Array) -> Result<Reply, Fault> {
    let length = response.length();
    let head = FrameHead::parse(response.to_vec(), length)
        .ok()
        .flatten()
        .ok_or_else(|| Fault::BadFrame("the component host's response does not decode".into()))?;
    let body = response.subarray(head.body.start, head.body.end);
    Ok(Reply::from_frame(Frame { head, body }))
}

/// The object the host calls out through: `fetch(encoded request) -> Promise<fetch result>`
/// and `log(stderr, line)`.
fn outside(context: &Rc<PluginContext>, depth: u32) -> JsValue {
    let object = js_sys::Object::new();
    let sender = Rc::clone(context);
    let fetch =
        Closure::<dyn Fn(Uint8Array) -> js_sys::Promise>::new(move |request: Uint8Array| {
            let (context, bytes) = (Rc::clone(&sender), request.to_vec());
            wasm_bindgen_futures::future_to_promise(async move {
                let result = outbound::fetch(context, bytes, depth).await;
                Ok(sys::copy_to_js(&result).into())
            })
        });
    let plugin = context.name.clone();
    let log = Closure::<dyn Fn(bool, String)>::new(move |stderr: bool, line: String| {
        let line = format!("[{plugin}] {line}");
        match stderr {
            true => web_sys::console::warn_1(&line.into()),
            false => web_sys::console::log_1(&line.into()),
        }
    });
    let _ = Reflect::set(&object, &"fetch".into(), &fetch.into_js_value());
    let _ = Reflect::set(&object, &"log".into(), &log.into_js_value());
    object.into()
}

/// The fault a rejection of `handle` names.
fn fault(error: &JsValue) -> Fault {
    let name = Reflect::get(error, &"name".into())
        .ok()
        .and_then(|name| name.as_string())
        .unwrap_or_default();
    let text = message(error);
    match name.as_str() {
        "FuelExhausted" => Fault::OutOfFuel,
        "MemoryExhausted" => Fault::OutOfMemory,
        "Panic" => Fault::Trap {
            panic: Some(text),
            error: String::new(),
        },
        "Failed" => answered_error(&text),
        "Unanswered" => unanswered(),
        _ => Fault::Trap {
            panic: None,
            error: text,
        },
    }
}

fn crashed(error: &JsValue) -> Fault {
    Fault::Trap {
        panic: None,
        error: sys::describe(error),
    }
}

/// An error's message (a thrown `Error`'s `message`, else its description).
fn message(error: &JsValue) -> String {
    Reflect::get(error, &"message".into())
        .ok()
        .and_then(|message| message.as_string())
        .unwrap_or_else(|| sys::describe(error))
}

fn method(object: &JsValue, name: &str) -> Result<Function, JsValue> {
    Reflect::get(object, &name.into())?
        .dyn_into::<Function>()
        .map_err(|_| JsValue::from_str(&format!("no `{name}`")))
}
