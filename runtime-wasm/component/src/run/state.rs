//! What one run shares between the instantiation, the host calls of the adapter and the call
//! of the handler: the component's core instances as they are created, their meters, the
//! exports looked up so far, and why the run must stop, if it must.

use super::compile::Compiled;
use super::link::Linker;
use super::plain;
use crate::host::Fault;
use crate::plan::CoreExport;
use crate::wasi::Session;
use js_sys::{Function, Uint8Array, WebAssembly};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};

/// One run of the handler on fresh instances.
pub struct RunState {
    /// The component.
    pub compiled: Rc<Compiled>,
    /// The request's session, which outlives the run.
    pub session: Rc<RefCell<Session>>,
    /// The exports of each core instance created so far, in the plan's order.
    pub instances: RefCell<Vec<js_sys::Object>>,
    /// The core functions looked up so far, by index in the plan.
    funcs: RefCell<Vec<Option<Function>>>,
    /// The core memories looked up so far, by index in the plan, and a view of each (made
    /// again once the memory has grown: a view of its old buffer is empty).
    memories: RefCell<Vec<Option<(WebAssembly::Memory, Uint8Array)>>>,
    /// The counters of each metered instance.
    pub meters: RefCell<Vec<Meter>>,
    /// Why the run stops, once a host call decided it: the exception thrown through the
    /// instance's frames carries nothing the host needs.
    pub stop: RefCell<Option<Stop>>,
}

/// Why a host call threw.
pub enum Stop {
    /// The host faulted: a trap, or a wait on something not ready.
    Host(Fault),
    /// A call into the instance made by the host call (its `realloc`) threw this.
    Guest(String),
}

impl RunState {
    /// A run of `compiled` in `session`, nothing instantiated yet.
    pub fn new(compiled: Rc<Compiled>, session: Rc<RefCell<Session>>) -> Self {
        let plan = &compiled.plan;
        Self {
            instances: RefCell::new(Vec::with_capacity(plan.instances.len())),
            funcs: RefCell::new(vec![None; plan.funcs.len()]),
            memories: RefCell::new(vec![None; plan.memories.len()]),
            compiled,
            session,
            meters: RefCell::new(Vec::new()),
            stop: RefCell::new(None),
        }
    }

    /// The linker of the run's component.
    pub fn linker(&self) -> &Linker {
        &self.compiled.linker
    }

    /// Core function `index` of the plan, an export of an instance created so far.
    pub fn func(&self, index: u32) -> Result<Function, String> {
        if let Some(Some(func)) = self.funcs.borrow().get(index as usize) {
            return Ok(func.clone());
        }
        let plan = &self.compiled.plan;
        let (Some(crate::plan::CoreFunc::Export(export)), Some(Some(key))) = (
            plan.funcs.get(index as usize),
            self.linker().func_keys.get(index as usize),
        ) else {
            return Err(format!("core function {index} is not an instance's export"));
        };
        let func = self
            .export(export, key)?
            .dyn_into::<Function>()
            .map_err(|_| format!("`{}` is not a function", export.name))?;
        self.funcs.borrow_mut()[index as usize] = Some(func.clone());
        Ok(func)
    }

    /// A view of core memory `index` of the plan, an export of an instance created so far, of
    /// at least `end` bytes if the memory has them, and its length.
    pub fn memory(&self, index: u32, end: u32) -> Result<(Uint8Array, u32), String> {
        let mut memories = self.memories.borrow_mut();
        let slot = memories
            .get_mut(index as usize)
            .ok_or_else(|| format!("there is no core memory {index}"))?;
        if slot.is_none() {
            let export = &self.compiled.plan.memories[index as usize];
            let key = &self.linker().memory_keys[index as usize];
            let memory = self
                .export(export, key)?
                .dyn_into::<WebAssembly::Memory>()
                .map_err(|_| format!("`{}` is not a memory", export.name))?;
            *slot = Some((memory, Uint8Array::new_with_length(0)));
        }
        let Some((memory, view)) = slot.as_mut() else {
            return Err(format!("there is no core memory {index}"));
        };
        let mut length = view.length();
        if length < end || length == 0 {
            *view = Uint8Array::new(&memory.buffer());
            length = view.length();
        }
        Ok((view.clone(), length))
    }

    /// The export `export` of a core instance created so far, whose name is `key`.
    pub fn export(&self, export: &CoreExport, key: &JsValue) -> Result<JsValue, String> {
        let instances = self.instances.borrow();
        let instance = instances
            .get(export.instance as usize)
            .ok_or_else(|| format!("core instance {} is not created yet", export.instance))?;
        let value = plain::get(instance, key);
        if value.is_undefined() {
            return Err(format!(
                "core instance {} exports no `{}`",
                export.instance, export.name
            ));
        }
        Ok(value)
    }

    /// Records why the run stops, unless an earlier reason is recorded (the first one is what
    /// happened; what follows is its consequence).
    pub fn stop(&self, stop: Stop) {
        let mut recorded = self.stop.borrow_mut();
        if recorded.is_none() {
            *recorded = Some(stop);
        }
    }

    /// Whether a metered instance ran out of fuel.
    pub fn out_of_fuel(&self) -> bool {
        self.meters.borrow().iter().any(Meter::out_of_fuel)
    }

    /// Whether a metered instance's last `memory.grow` was refused.
    pub fn growth_refused(&self) -> bool {
        self.meters.borrow().iter().any(Meter::growth_refused)
    }
}

/// The globals a metered module exports (see `valor_meter`).
pub struct Meter {
    fuel: WebAssembly::Global,
    grown: WebAssembly::Global,
}

impl Meter {
    /// The meter of an instance's exports, if its module was metered.
    pub fn of(exports: &js_sys::Object, linker: &Linker) -> Option<Self> {
        let global = |name| {
            plain::get(exports, name)
                .dyn_into::<WebAssembly::Global>()
                .ok()
        };
        Some(Self {
            fuel: global(&linker.fuel_key)?,
            grown: global(&linker.grown_key)?,
        })
    }

    fn out_of_fuel(&self) -> bool {
        // The fuel is an i64 (a BigInt), compared as JavaScript compares it with a number.
        self.fuel.value().lt(&JsValue::from_f64(0.0))
    }

    fn growth_refused(&self) -> bool {
        self.grown.value().as_f64() == Some(-1.0)
    }
}
