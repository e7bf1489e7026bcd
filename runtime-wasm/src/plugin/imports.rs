//! The functions a plugin imports (`valor_abi::imports`), as closures over its instance state:
//! `now` is JavaScript's, the others the protocol core's (`valor_host::guest::imports`),
//! reaching the state through [`Host`].
//!
//! They run *inside* a call into the plugin: they may read and write its memory and start host
//! operations, but never call back into it. They hold the state weakly, so a discarded
//! instance is not kept alive by its own import object.

use super::instance::{wasm, State};
use crate::host::{self, PluginContext};
use futures::future::{AbortRegistration, Abortable, LocalBoxFuture};
use std::future::Future;
use std::rc::{Rc, Weak};
use valor_abi::{imports, IMPORT_MODULE};
use valor_host::bodies;
use valor_host::guest::imports::{self as import, Host, Operation};
use valor_host::guest::{self, Address, Table};
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
    let panic = Closure::<dyn Fn(u32, u32)>::new(move |ptr: u32, len| {
        inside(&weak, |host| import::panic(host, ptr.into(), len))
    });
    add(imports::PANIC, panic.as_ref().clone(), Box::new(panic));

    let weak = state.clone();
    let log = Closure::<dyn Fn(u32, u32, u32)>::new(move |level, ptr: u32, len| {
        inside(&weak, |host| import::log(host, level, ptr.into(), len))
    });
    add(imports::LOG, log.as_ref().clone(), Box::new(log));

    let now = Closure::<dyn Fn() -> f64>::new(js_sys::Date::now);
    add(imports::NOW, now.as_ref().clone(), Box::new(now));

    let weak = state.clone();
    let random = Closure::<dyn Fn(u32, u32)>::new(move |ptr: u32, len| {
        inside(&weak, |host| import::random(host, ptr.into(), len))
    });
    add(imports::RANDOM, random.as_ref().clone(), Box::new(random));

    let weak = state.clone();
    let sleep =
        Closure::<dyn Fn(f64) -> u32>::new(move |ms| inside(&weak, |host| import::sleep(host, ms)));
    add(imports::SLEEP, sleep.as_ref().clone(), Box::new(sleep));

    let weak = state.clone();
    let fetch = Closure::<dyn Fn(u32, u32) -> u32>::new(move |ptr: u32, len| {
        inside(&weak, |host| import::fetch(host, ptr.into(), len))
    });
    add(imports::FETCH, fetch.as_ref().clone(), Box::new(fetch));

    let weak = state.clone();
    let kv = Closure::<dyn Fn(u32, u32) -> u32>::new(move |ptr: u32, len| {
        inside(&weak, |host| import::kv(host, ptr.into(), len))
    });
    add(imports::KV, kv.as_ref().clone(), Box::new(kv));

    let weak = state.clone();
    let fetch_stream = Closure::<dyn Fn(u32, u32) -> u32>::new(move |ptr: u32, len| {
        inside(&weak, |host| import::fetch_stream(host, ptr.into(), len))
    });
    add(
        imports::FETCH_STREAM,
        fetch_stream.as_ref().clone(),
        Box::new(fetch_stream),
    );

    let weak = state.clone();
    let read = Closure::<dyn Fn(u32) -> u32>::new(move |body| {
        inside(&weak, |host| import::read(host, body))
    });
    add(imports::READ, read.as_ref().clone(), Box::new(read));

    let weak = state.clone();
    let close =
        Closure::<dyn Fn(u32)>::new(move |body| inside(&weak, |host| import::close(host, body)));
    add(imports::CLOSE, close.as_ref().clone(), Box::new(close));

    let weak = state;
    let cancel =
        Closure::<dyn Fn(u32)>::new(move |op| inside(&weak, |host| import::cancel(host, op)));
    add(imports::CANCEL, cancel.as_ref().clone(), Box::new(cancel));

    let object = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&object, &IMPORT_MODULE.into(), &functions);
    (object, closures)
}

/// The instance, as the imports the protocol core writes reach it from inside a call into the
/// plugin: no borrow of its state outlives a method.
struct Inside<'a>(&'a Rc<State>);

/// Runs an import on the instance of `state`, unless it was discarded (then it does nothing).
fn inside<R: Default>(state: &Weak<State>, import: impl FnOnce(&mut Inside) -> R) -> R {
    state
        .upgrade()
        .map_or_else(R::default, |state| import(&mut Inside(&state)))
}

impl Host for Inside<'_> {
    type Bindings = host::Bindings;

    fn context(&self) -> &PluginContext {
        &self.0.context
    }

    fn table<R>(&mut self, use_table: impl FnOnce(&mut Table) -> R) -> R {
        use_table(&mut self.0.table.borrow_mut())
    }

    fn read(&mut self, ptr: Address, len: u32) -> Vec<u8> {
        self.0
            .view(wasm(ptr), len)
            .map(|view| view.to_vec())
            .unwrap_or_default()
    }

    fn spawn(&mut self, op: u32, run: AbortRegistration, operation: Operation) {
        let state = self.0;
        let context = || Rc::clone(&state.context);
        match operation {
            Operation::Sleep(ms) => run_op(state, op, run, import::slept(host::timer::sleep(ms))),
            Operation::Fetch { request, depth } => {
                let fetch = host::outbound::fetch(context(), request, depth);
                run_op(state, op, run, fetch)
            }
            Operation::Kv(command) => run_op(state, op, run, host::kv::run(context(), command)),
            Operation::Read {
                body,
                handle,
                idle_ms,
            } => {
                let idle = host::timer::sleep(f64::from(idle_ms));
                run_op(state, op, run, bodies::read(body, handle, idle, idle_ms))
            }
            Operation::FetchStream {
                request,
                depth,
                handle,
                body,
            } => {
                let fetch = host::outbound::fetch_stream(context(), request, depth, handle, body);
                run_op(state, op, run, fetch)
            }
        }
    }

    fn deliver_refusals_later(&mut self) {
        let state = Rc::downgrade(self.0);
        wasm_bindgen_futures::spawn_local(async move {
            // A timer, not a microtask: a plugin that retries at once must not keep the
            // worker from the events (finished operations included) that would free room.
            host::timer::sleep(0.0).await;
            if let Some(state) = state.upgrade() {
                guest::calls::deliver_refusals(&mut &*state);
            }
        });
    }

    fn fill_random(&mut self, ptr: Address, len: u32) -> bool {
        let view = self.0.view(wasm(ptr), len);
        view.is_ok_and(|view| crate::sys::get_random_values(&view).is_ok())
    }

    fn log(&mut self, level: u32, line: &str) {
        let line: JsValue = format!("[valor:{}] {line}", self.0.context.name).into();
        match level {
            1 => web_sys::console::error_1(&line),
            2 => web_sys::console::warn_1(&line),
            3 => web_sys::console::info_1(&line),
            _ => web_sys::console::debug_1(&line),
        }
    }
}

/// Runs `operation` (operation `op` of the instance of `state`) until it finishes or `run`
/// aborts it, and delivers its result.
fn run_op(
    state: &Rc<State>,
    op: u32,
    run: AbortRegistration,
    operation: impl Future<Output = Vec<u8>> + 'static,
) {
    // Boxed: one copy of this code for every kind of operation.
    let operation: LocalBoxFuture<'static, Vec<u8>> = Box::pin(operation);
    let state = Rc::downgrade(state);
    wasm_bindgen_futures::spawn_local(async move {
        if let Ok(result) = Abortable::new(operation, run).await {
            if let Some(state) = state.upgrade() {
                guest::calls::complete(&mut &*state, op, &result);
            }
        }
    });
}
