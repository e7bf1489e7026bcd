//! The module's JavaScript API, which the runtime calls: `Component.compile` once per
//! component, `component.handle` per request.

use super::compile::{self, Compiled};
use super::errors::Stopped;
use super::outside::WebOutside;
use super::{encoded, replay};
use js_sys::Uint8Array;
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
        bytes: Uint8Array,
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

    /// Runs the handler for `request`, encoded as `valor_abi::codec::encode_request` encodes
    /// it, its URI absolute (`scheme://authority/path?query`, the path relative to the
    /// plugin's prefix). `outside` is `{ fetch(request), log(stderr, line) }`: the runtime's
    /// outbound fetch, which takes an encoded request (its URI absolute) and resolves to the
    /// `fetch` import's result (`OK` and an encoded response, `DENIED` or `FAILED` and a
    /// message), and its log. Resolves to the handler's response, encoded as
    /// `valor_abi::codec::encode_response` encodes it. Rejects with an `Error` if `request`
    /// does not decode, or one whose `name` is `FuelExhausted`, `MemoryExhausted`, `Panic` (a
    /// trap after a Rust panic; `message` is the panic's), `Trap`, `Failed` (the handler
    /// answered an error code; `message` is it as the WIT writes it), `Unanswered` or
    /// `Refused` (the core modules do not link), and whose `message` says what happened.
    #[wasm_bindgen(unchecked_return_type = "Promise<Uint8Array>")]
    pub fn handle(
        &self,
        request: Vec<u8>,
        #[wasm_bindgen(
            unchecked_param_type = "{ fetch(request: Uint8Array): Promise<Uint8Array>, log(stderr: boolean, line: string): void }"
        )]
        outside: JsValue,
    ) -> js_sys::Promise {
        let compiled = Rc::clone(&self.compiled);
        wasm_bindgen_futures::future_to_promise(async move {
            let request = encoded::incoming(&request)
                .map_err(|why| JsValue::from(js_sys::Error::new(&why)))?;
            let outside = Rc::new(WebOutside::new(outside));
            let response = replay::serve(compiled, request, outside)
                .await
                .map_err(Stopped::into_error)?;
            // Copied into JavaScript: a view of this module's memory would change under it.
            Ok(Uint8Array::from(encoded::answer(&response).as_slice()).into())
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
