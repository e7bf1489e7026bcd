//! The functions a plugin imports (`valor_abi::imports`), as closures over its instance state.
//!
//! They run *inside* a call into the plugin: they may read and write its memory and start host
//! operations, but never call back into it. They hold the state weakly, so a discarded
//! instance is not kept alive by its own import object.

use super::instance::State;
use crate::host;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use valor_abi::{imports, IMPORT_MODULE};
use valor_host::limits;
use wasm_bindgen::prelude::*;

/// The closures behind the import object; they must live as long as the instance.
pub struct Closures(Vec<Box<dyn std::any::Any>>);

/// Builds the import object for the instance whose state is `state`.
pub fn build(state: Weak<State>) -> (js_sys::Object, Closures) {
    let functions = js_sys::Object::new();
    let mut closures = Closures(Vec::new());
    let mut add = |name: &str, closure: JsValue, keep: Box<dyn std::any::Any>| {
        let _ = js_sys::Reflect::set(&functions, &name.into(), &closure);
        closures.0.push(keep);
    };

    let weak = state.clone();
    let panic = Closure::<dyn Fn(u32, u32)>::new(move |ptr, len| {
        if let Some(state) = weak.upgrade() {
            let message = read_text(&state, ptr, len);
            *state.panic_message.borrow_mut() = Some(message);
        }
    });
    add(imports::PANIC, panic.as_ref().clone(), Box::new(panic));

    let weak = state.clone();
    let log = Closure::<dyn Fn(u32, u32, u32)>::new(move |level, ptr, len| {
        if let Some(state) = weak.upgrade() {
            let line: JsValue = format!(
                "[valor:{}] {}",
                state.context.name,
                read_text(&state, ptr, len)
            )
            .into();
            match level {
                1 => web_sys::console::error_1(&line),
                2 => web_sys::console::warn_1(&line),
                3 => web_sys::console::info_1(&line),
                _ => web_sys::console::debug_1(&line),
            }
        }
    });
    add(imports::LOG, log.as_ref().clone(), Box::new(log));

    let now = Closure::<dyn Fn() -> f64>::new(js_sys::Date::now);
    add(imports::NOW, now.as_ref().clone(), Box::new(now));

    let weak = state.clone();
    let random = Closure::<dyn Fn(u32, u32)>::new(move |ptr, len| {
        let Some(state) = weak.upgrade() else { return };
        let filled = state
            .view(ptr, len)
            .ok()
            .map(|view| crate::sys::get_random_values(&view));
        if !matches!(filled, Some(Ok(()))) {
            // Never hand out predictable bytes silently: the plugin must not use them.
            web_sys::console::error_1(
                &format!(
                    "[valor:{}] random: could not fill {len} bytes",
                    state.context.name
                )
                .into(),
            );
        }
    });
    add(imports::RANDOM, random.as_ref().clone(), Box::new(random));

    let weak = state.clone();
    let sleep = Closure::<dyn Fn(f64) -> u32>::new(move |ms| {
        weak.upgrade().map_or(0, |state| {
            let timer = host::timer::sleep(ms);
            state.start_op(async move {
                timer.await;
                vec![valor_abi::outcome::OK]
            })
        })
    });
    add(imports::SLEEP, sleep.as_ref().clone(), Box::new(sleep));

    let weak = state.clone();
    let fetch = Closure::<dyn Fn(u32, u32) -> u32>::new(move |ptr, len| {
        weak.upgrade().map_or(0, |state| {
            if let Some(why) = too_large(&state, "an outbound request", len) {
                return state.refuse(why);
            }
            state.table.borrow_mut().record_effect();
            let request = read_bytes(&state, ptr, len);
            let (context, depth) = (Rc::clone(&state.context), state.table.borrow().depth());
            state.start_op(host::outbound::fetch(context, request, depth))
        })
    });
    add(imports::FETCH, fetch.as_ref().clone(), Box::new(fetch));

    let weak = state.clone();
    let kv = Closure::<dyn Fn(u32, u32) -> u32>::new(move |ptr, len| {
        weak.upgrade().map_or(0, |state| {
            if let Some(why) = too_large(&state, "a storage command", len) {
                return state.refuse(why);
            }
            state.table.borrow_mut().record_effect();
            let command = read_bytes(&state, ptr, len);
            state.start_op(host::kv::run(Rc::clone(&state.context), command))
        })
    });
    add(imports::KV, kv.as_ref().clone(), Box::new(kv));

    let weak = state;
    let cancel = Closure::<dyn Fn(u32)>::new(move |op| {
        if let Some(state) = weak.upgrade() {
            state.table.borrow_mut().cancel_op(op);
        }
    });
    add(imports::CANCEL, cancel.as_ref().clone(), Box::new(cancel));

    let object = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&object, &IMPORT_MODULE.into(), &functions);
    (object, closures)
}

/// Why a message of `len` bytes is refused, if it is more than the plugin may hand the host:
/// it is refused before anything is copied.
fn too_large(state: &State, what: &str, len: u32) -> Option<Arc<str>> {
    let context = &state.context;
    limits::message_too_large(&context.name, context.max_body_bytes, what, len).map(Into::into)
}

/// Bytes the plugin points at; empty if it points outside its memory (the operation then fails
/// on malformed input, with a message, rather than trapping the runtime).
fn read_bytes(state: &State, ptr: u32, len: u32) -> Vec<u8> {
    state
        .view(ptr, len)
        .map(|view| view.to_vec())
        .unwrap_or_default()
}

/// A log line or panic message: at most `MAX_TEXT_BYTES` of it are read, whatever length the
/// plugin names (one `log` with a 2 GiB length would otherwise copy 2 GiB into the runtime).
fn read_text(state: &State, ptr: u32, len: u32) -> String {
    valor_host::result::text(len, |kept| read_bytes(state, ptr, kept))
}
