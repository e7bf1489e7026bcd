//! What one run shares between the instantiation, the host calls of the adapter and the call
//! of the handler: the component's core instances as they are created, their meters, and why
//! the run must stop, if it must.

use super::compile::Compiled;
use crate::host::{Fault, HostFunc};
use crate::plan::CoreExport;
use crate::wasi::Session;
use js_sys::{Reflect, WebAssembly};
use std::cell::{OnceCell, RefCell};
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};

/// One run of the handler on fresh instances.
pub struct RunState {
    /// The component.
    pub compiled: Rc<Compiled>,
    /// The request's session, which outlives the run.
    pub session: Rc<RefCell<Session>>,
    /// The host function of each adapter function (`None`: a resource drop).
    pub host_funcs: Rc<[Option<HostFunc>]>,
    /// The exports of each core instance created so far, in the plan's order.
    pub instances: RefCell<Vec<js_sys::Object>>,
    /// The exports of the adapter instance.
    pub adapter: OnceCell<js_sys::Object>,
    /// A view of the adapter's slots (its memory never grows: the view stays valid).
    pub slots: OnceCell<js_sys::Uint8Array>,
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
    pub fn new(
        compiled: Rc<Compiled>,
        session: Rc<RefCell<Session>>,
        host_funcs: Rc<[Option<HostFunc>]>,
    ) -> Self {
        Self {
            compiled,
            session,
            host_funcs,
            instances: RefCell::new(Vec::new()),
            adapter: OnceCell::new(),
            slots: OnceCell::new(),
            meters: RefCell::new(Vec::new()),
            stop: RefCell::new(None),
        }
    }

    /// The export `export` of a core instance created so far.
    pub fn export(&self, export: &CoreExport) -> Result<JsValue, String> {
        let instances = self.instances.borrow();
        let instance = instances
            .get(export.instance as usize)
            .ok_or_else(|| format!("core instance {} is not created yet", export.instance))?;
        let value = Reflect::get(instance, &JsValue::from_str(&export.name)).unwrap_or_default();
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
    pub fn of(exports: &js_sys::Object) -> Option<Self> {
        let global = |name| {
            Reflect::get(exports, &JsValue::from_str(name))
                .ok()?
                .dyn_into::<WebAssembly::Global>()
                .ok()
        };
        Some(Self {
            fuel: global(valor_meter::FUEL_EXPORT)?,
            grown: global(valor_meter::GROWN_EXPORT)?,
        })
    }

    fn out_of_fuel(&self) -> bool {
        i64::try_from(self.fuel.value()).is_ok_and(|left| left < 0)
    }

    fn growth_refused(&self) -> bool {
        self.grown.value().as_f64() == Some(-1.0)
    }
}
