//! The module's JavaScript API, which the runtime calls: `Component.compile` once per
//! component, `component.handle` per request.

use super::compile::{self, Compiled};
use super::errors::{error, Stopped};
use super::outside::WebOutside;
use super::{replay, web};
use std::rc::Rc;
use valor_meter::Limits;
use wasm_bindgen::prelude::*;

/// A `wasi:http/proxy` component, compiled for this worker.
#[wasm_bindgen]
pub struct Component {
    compiled: Rc<Compiled>,
}

#[wasm_bindgen]
impl Component {
    /// Reads the component `bytes`, meters each of its core modules with `fuel` instructions
    /// per run and `memory_pages` pages of memory each, and compiles them. Rejects with an
    /// `Error` saying why it cannot run here: not a component, not of the `wasi:http/proxy`
    /// world, or an import Valor does not provide (named).
    pub async fn compile(
        bytes: js_sys::Uint8Array,
        fuel: f64,
        memory_pages: f64,
    ) -> Result<Component, JsValue> {
        let limits = Limits {
            fuel: count(fuel, "fuel")?,
            memory_pages: count(memory_pages, "memory_pages")?,
        };
        let compiled = compile::compile(&bytes.to_vec(), limits)
            .await
            .map_err(|why| JsValue::from(js_sys::Error::new(&why)))?;
        Ok(Component {
            compiled: Rc::new(compiled),
        })
    }

    /// Runs the handler for `request` (its method, headers, URL scheme and authority, and
    /// whole body) at `path_with_query`, the path relative to the plugin's prefix. `outside`
    /// is `{ fetch(request): Promise<Response>, log(stderr, line) }`: the runtime's outbound
    /// fetch (a request the plugin may not make rejects with an `Error` named `Denied`) and its
    /// log. Resolves to the handler's `Response`, or rejects with an `Error` whose `name` is
    /// `FuelExhausted`, `MemoryExhausted`, `Trap`, `Failed` (the handler answered an error
    /// code), `Unanswered` or `Refused` (the core modules do not link), and whose `message`
    /// says what happened.
    #[wasm_bindgen(unchecked_return_type = "Promise<Response>")]
    pub fn handle(
        &self,
        request: web_sys::Request,
        path_with_query: String,
        #[wasm_bindgen(
            unchecked_param_type = "{ fetch(request: Request): Promise<Response>, log(stderr: boolean, line: string): void }"
        )]
        outside: JsValue,
    ) -> js_sys::Promise {
        let compiled = Rc::clone(&self.compiled);
        wasm_bindgen_futures::future_to_promise(async move {
            let request = web::incoming(&request, path_with_query).await?;
            let outside = Rc::new(WebOutside::new(outside));
            let response = replay::serve(compiled, request, outside)
                .await
                .map_err(Stopped::into_error)?;
            // A status or header the web refuses is the handler's answer, not the host's.
            web::answer(response)
                .map(JsValue::from)
                .map_err(|e| error("Failed", &super::errors::describe(&e)))
        })
    }
}

/// A whole, non-negative number given from JavaScript.
fn count(value: f64, name: &str) -> Result<u64, JsValue> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 {
        Ok(value as u64)
    } else {
        Err(js_sys::Error::new(&format!("{name} must be a whole number, not {value}")).into())
    }
}
