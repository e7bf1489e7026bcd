//! The adapter's one instance per compiled component. It holds nothing of the component's: its
//! slots carry one host call's parameters and result, written and read within that call, so
//! every run of every request shares it (only the component's own core modules are
//! instantiated afresh for each run). Its host call serves the run in progress: runs are
//! synchronous and take turns; one started inside a host call would be served, then give the
//! outer run back.

use super::adapter::{self, Adapter, HOST_CALL, HOST_MODULE, SLOTS_EXPORT, SLOT_BYTES};
use super::bridge;
use super::errors::{describe, error};
use super::state::RunState;
use js_sys::{Object, Reflect, Uint8Array, WebAssembly};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// The run whose host calls the adapter serves.
type Current = Rc<RefCell<Option<Rc<RunState>>>>;

/// The adapter, instantiated.
pub struct AdapterInstance {
    /// Its functions, by adapter index.
    pub functions: Vec<JsValue>,
    /// For each adapter function, a view of the slots its parameters are stored in.
    pub params: Vec<Uint8Array>,
    /// A view of slot 0, where a result is loaded from.
    pub result: Uint8Array,
    current: Current,
    // Called by the instance's import: kept as long as the instance.
    _call: Closure<dyn Fn(u32) -> Result<(), JsValue>>,
}

impl AdapterInstance {
    /// Instantiates `module`, the compiled `adapter`.
    pub fn new(adapter: &Adapter, module: &WebAssembly::Module) -> Result<Self, String> {
        let current: Current = Rc::default();
        let call = {
            let current = Rc::clone(&current);
            Closure::<dyn Fn(u32) -> Result<(), JsValue>>::new(move |index| {
                // Taken out of the cell first: the call may start a run of its own.
                let run = current.borrow().clone();
                match run {
                    Some(run) => bridge::call(&run, index),
                    None => Err(error("ValorStop", "no run of the component is in progress")),
                }
            })
        };
        let host = Object::new();
        let _ = Reflect::set(&host, &HOST_CALL.into(), call.as_ref());
        let imports = Object::new();
        let _ = Reflect::set(&imports, &HOST_MODULE.into(), &host);
        let exports = WebAssembly::Instance::new(module, &imports)
            .map_err(|e| format!("the adapter does not instantiate: {}", describe(&e)))?
            .exports();
        let slots = Reflect::get(&exports, &SLOTS_EXPORT.into())
            .ok()
            .and_then(|memory| memory.dyn_into::<WebAssembly::Memory>().ok())
            .ok_or("the adapter has no slots")?;
        // Its memory never grows: the views stay valid.
        let slots = Uint8Array::new(&slots.buffer());
        let functions = (0..adapter.entries.len() as u32)
            .map(|index| Reflect::get(&exports, &adapter::export_name(index).into()))
            .collect::<Result<_, _>>()
            .map_err(|e| describe(&e))?;
        let params = adapter
            .entries
            .iter()
            .map(|entry| slots.subarray(0, entry.params.len() as u32 * SLOT_BYTES))
            .collect();
        Ok(Self {
            functions,
            params,
            result: slots.subarray(0, SLOT_BYTES),
            current,
            _call: call,
        })
    }

    /// Makes the adapter serve `run` until what this returns is dropped.
    pub fn serve(&self, run: Rc<RunState>) -> Serving<'_> {
        let outer = self.current.replace(Some(run));
        Serving {
            current: &self.current,
            outer,
        }
    }
}

/// The adapter serving a run (see [`AdapterInstance::serve`]).
pub struct Serving<'a> {
    current: &'a Current,
    outer: Option<Rc<RunState>>,
}

impl Drop for Serving<'_> {
    fn drop(&mut self) {
        // The run's state goes with it: nothing holds it once the run is over.
        *self.current.borrow_mut() = self.outer.take();
    }
}
