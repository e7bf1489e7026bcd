//! The world outside a request in the worker: the runtime's `fetch` and log (given as a JS
//! object with each request), and the global scope's timers, clocks and `crypto`. Only
//! `js_sys` is used for the global scope, so that the same code runs in a service worker, a
//! page and node (the tests).

use super::encoded;
use super::errors::describe;
use crate::wasi::{FetchError, OutgoingRequest, Outside, Response};
use futures::future::{FutureExt, LocalBoxFuture};
use js_sys::{Function, Reflect, Uint8Array};
use std::cell::RefCell;
use std::collections::VecDeque;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The largest `crypto.getRandomValues` fills at once.
const RANDOM_CHUNK: usize = 65_536;

/// The longest `setTimeout` waits in one go (2^31 - 1 ms); a longer sleep waits again.
const MAX_TIMEOUT_MS: f64 = 2_147_483_647.0;

/// The most bytes of a run's standard error kept to find a panic's message in (its last
/// lines: the message is printed just before the trap).
const STDERR_KEPT: usize = 64 << 10;

/// The outside world of one request: the runtime's `{ fetch(request), log(stderr, line) }`.
pub struct WebOutside {
    runtime: JsValue,
    /// The last lines the current run wrote to its standard error, and their bytes.
    stderr: RefCell<(VecDeque<String>, usize)>,
}

impl WebOutside {
    /// Over the runtime's object for one request.
    pub fn new(runtime: JsValue) -> Self {
        Self {
            runtime,
            stderr: RefCell::default(),
        }
    }

    /// A run starts: what earlier runs wrote to standard error is forgotten.
    pub fn begin_run(&self) {
        *self.stderr.borrow_mut() = Default::default();
    }

    /// The message of the Rust panic the current run printed to standard error, if it did.
    pub fn panic(&self) -> Option<String> {
        let (lines, _) = &*self.stderr.borrow();
        let text: Vec<&str> = lines.iter().map(String::as_str).collect();
        valor_host::component::panic_message(&text.join("\n"))
    }

    fn keep_stderr(&self, line: &str) {
        let (lines, bytes) = &mut *self.stderr.borrow_mut();
        lines.push_back(line.to_owned());
        *bytes += line.len() + 1;
        while *bytes > STDERR_KEPT {
            let Some(first) = lines.pop_front() else {
                break;
            };
            *bytes -= first.len() + 1;
        }
    }

    fn method(&self, name: &str) -> Result<Function, JsValue> {
        Reflect::get(&self.runtime, &JsValue::from_str(name))?
            .dyn_into::<Function>()
            .map_err(|_| JsValue::from_str(&format!("the runtime's object has no `{name}`")))
    }
}

impl Outside for WebOutside {
    fn fetch(
        &self,
        request: OutgoingRequest,
    ) -> LocalBoxFuture<'static, Result<Response, FetchError>> {
        let encoded = Uint8Array::from(encoded::outgoing(&request).as_slice());
        let sent = self
            .method("fetch")
            .and_then(|fetch| fetch.call1(&self.runtime, &encoded));
        async move {
            let failed = |e: JsValue| FetchError::Failed(describe(&e));
            let promise = sent.map_err(failed)?;
            let result = JsFuture::from(js_sys::Promise::resolve(&promise))
                .await
                .map_err(failed)?;
            let result = result.dyn_into::<Uint8Array>().map_err(|_| {
                FetchError::Failed("the runtime's fetch gave no result bytes".into())
            })?;
            encoded::received(&result.to_vec())
        }
        .boxed_local()
    }

    fn sleep(&self, nanos: u64) -> LocalBoxFuture<'static, ()> {
        let mut left = (nanos as f64 / 1e6).ceil();
        async move {
            while left > 0.0 {
                let now = left.min(MAX_TIMEOUT_MS);
                // A timer that cannot be set (no setTimeout) ends the wait at once.
                let _ = JsFuture::from(timeout(now)).await;
                left -= now;
            }
        }
        .boxed_local()
    }

    fn monotonic_now(&self) -> u64 {
        let performance = global("performance");
        let now = Reflect::get(&performance, &"now".into())
            .ok()
            .and_then(|now| now.dyn_into::<Function>().ok())
            .and_then(|now| now.call0(&performance).ok())
            .and_then(|ms| ms.as_f64())
            .unwrap_or(0.0);
        (now * 1e6) as u64
    }

    fn wall_clock_now(&self) -> (u64, u32) {
        let ms = js_sys::Date::now();
        let seconds = (ms / 1000.0).floor();
        let nanos = ((ms - seconds * 1000.0) * 1e6) as u32;
        (seconds as u64, nanos.min(999_999_999))
    }

    fn random_bytes(&self, out: &mut [u8]) {
        let crypto = global("crypto");
        let fill = Reflect::get(&crypto, &"getRandomValues".into())
            .ok()
            .and_then(|fill| fill.dyn_into::<Function>().ok());
        // Without crypto (no such engine runs Valor) the bytes would be zeros: better to trap.
        let fill = fill.expect("the global scope has crypto.getRandomValues");
        for chunk in out.chunks_mut(RANDOM_CHUNK) {
            let buffer = js_sys::Uint8Array::new_with_length(chunk.len() as u32);
            fill.call1(&crypto, &buffer)
                .expect("crypto.getRandomValues fills a Uint8Array");
            buffer.copy_to(chunk);
        }
    }

    fn log(&self, stderr: bool, line: &str) {
        if stderr {
            self.keep_stderr(line);
        }
        if let Ok(log) = self.method("log") {
            let _ = log.call2(&self.runtime, &JsValue::from_bool(stderr), &line.into());
        }
    }
}

/// `globalThis[name]`.
fn global(name: &str) -> JsValue {
    Reflect::get(&js_sys::global(), &name.into()).unwrap_or(JsValue::UNDEFINED)
}

/// A promise that resolves after `ms` milliseconds (`setTimeout` of the global scope).
fn timeout(ms: f64) -> js_sys::Promise {
    js_sys::Promise::new(&mut |resolve, reject| {
        let set = global("setTimeout").dyn_into::<Function>();
        let scheduled = set
            .map_err(|_| JsValue::from_str("no setTimeout"))
            .and_then(|set| set.call2(&JsValue::UNDEFINED, &resolve, &JsValue::from_f64(ms)));
        if let Err(error) = scheduled {
            let _ = reject.call1(&JsValue::UNDEFINED, &error);
        }
    })
}
