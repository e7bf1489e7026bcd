//! One live instance of a plugin module in the browser: the calls into it, as the protocol core
//! (`valor_host::guest`) makes them, through its exports and views of its memory.
//!
//! Rules that keep this sound: no `RefCell` borrow is held across a call into the plugin (its
//! imports re-enter this module), and after a fault the instance is never called again.

use crate::host::PluginContext;
use crate::inbound::RequestFrame;
use crate::meter;
use crate::sys::{self, PluginExports};
use js_sys::WebAssembly;
use std::any::Any;
use std::cell::{OnceCell, RefCell};
use std::rc::{Rc, Weak};
use valor_abi as abi;
pub use valor_host::fault::Fault;
use valor_host::guest::{self, exports as checks, out_of_bounds, Address, Answer, Table};
use wasm_bindgen::prelude::*;

/// The state an instance shares with its imports and its host operations.
pub struct State {
    /// The plugin's context: its entry's limits, its store, its allowlist.
    pub(super) context: Rc<PluginContext>,
    exports: OnceCell<PluginExports>,
    /// A view of all of its memory, while the memory has not grown (see `State::memory_bytes`).
    memory_bytes: RefCell<Option<js_sys::Uint8Array>>,
    /// The closures behind its import object, kept alive as long as the instance.
    _imports: Box<dyn Any>,
    /// Its host operations, as the protocol core keeps them.
    pub(super) table: RefCell<Table>,
    /// The counters of a metered module.
    meter: OnceCell<Meter>,
}

/// The globals a metered module exports (see `crate::meter`).
struct Meter {
    fuel: WebAssembly::Global,
    grown: WebAssembly::Global,
}

impl Meter {
    fn of(exports: &js_sys::Object) -> Option<Self> {
        let global = |name| {
            js_sys::Reflect::get(exports, &JsValue::from_str(name))
                .ok()?
                .dyn_into::<WebAssembly::Global>()
                .ok()
        };
        Some(Self {
            fuel: global(meter::FUEL_EXPORT)?,
            grown: global(meter::GROWN_EXPORT)?,
        })
    }

    fn out_of_fuel(&self) -> bool {
        i64::try_from(self.fuel.value()).is_ok_and(|left| left < 0)
    }

    /// Whether the plugin's last `memory.grow` was refused.
    fn growth_refused(&self) -> bool {
        self.grown.value().as_f64() == Some(-1.0)
    }
}

/// A plugin instance that passed the ABI checks and was initialised.
pub struct Instance {
    state: Rc<State>,
}

impl State {
    /// State for an instance about to be created, and the import object that goes to
    /// `instantiate`, made by `imports` over the state (held weakly, so that a discarded
    /// instance is not kept alive by its own imports); the closures it returns are kept as
    /// long as the state.
    pub fn new<Closures: Any>(
        context: Rc<PluginContext>,
        imports: impl FnOnce(Weak<State>) -> (js_sys::Object, Closures),
    ) -> (Rc<Self>, js_sys::Object) {
        let mut object = None;
        let state = Rc::new_cyclic(|state| {
            let (imports, closures) = imports(state.clone());
            object = Some(imports);
            State {
                exports: OnceCell::new(),
                memory_bytes: RefCell::new(None),
                _imports: Box::new(closures),
                table: RefCell::new(Table::new(&context.name, context.max_body_bytes)),
                meter: OnceCell::new(),
                context,
            }
        });
        (state, object.expect("made with the state"))
    }

    /// The plugin's memory, or `None` before instantiation.
    pub(super) fn memory(&self) -> Option<js_sys::ArrayBuffer> {
        let exports = self.exports.get()?;
        Some(exports.memory().buffer().unchecked_into())
    }

    /// A checked view of plugin memory: out-of-range views would throw through the runtime.
    pub(super) fn view(&self, ptr: u32, len: u32) -> Result<js_sys::Uint8Array, Fault> {
        Ok(self.holding(ptr, len)?.subarray(ptr, ptr + len))
    }

    /// All of its memory, once `len` bytes at `ptr` are known to lie inside it.
    fn holding(&self, ptr: u32, len: u32) -> Result<js_sys::Uint8Array, Fault> {
        let (memory, size) = self.memory_bytes().ok_or_else(|| bounds(ptr, len))?;
        match ptr.checked_add(len) {
            Some(end) if end <= size => Ok(memory),
            _ => Err(bounds(ptr, len)),
        }
    }

    /// The whole memory as bytes, and its size. The view is kept, and made again only after the
    /// memory grew: growing detaches the old buffer, and views of a detached buffer are empty.
    /// (Two calls into JavaScript per view rather than four.)
    fn memory_bytes(&self) -> Option<(js_sys::Uint8Array, u32)> {
        let mut kept = self.memory_bytes.borrow_mut();
        if let Some(memory) = kept.as_ref() {
            let size = memory.length();
            if size > 0 {
                return Some((memory.clone(), size));
            }
        }
        let memory = js_sys::Uint8Array::new(&self.memory()?.into());
        let size = memory.length();
        *kept = Some(memory.clone());
        Some((memory, size))
    }

    /// The plugin's exports, for one call into it. (A metered module gives itself the fuel of
    /// one call on entry: see `meter`.)
    fn exports(&self) -> &PluginExports {
        self.exports.get().expect("exports are set before any call")
    }

    /// Runs a metered module's start function, if it has one (see `meter::START_EXPORT`).
    fn run_start(&self, exports: &js_sys::Object) -> Result<(), Fault> {
        let start = js_sys::Reflect::get(exports, &JsValue::from_str(meter::START_EXPORT))
            .ok()
            .and_then(|start| start.dyn_into::<js_sys::Function>().ok());
        let Some(start) = start else {
            return Ok(());
        };
        start
            .call0(&JsValue::UNDEFINED)
            .map(drop)
            .map_err(|e| self.trap(e))
    }

    /// Why loading failed in `stage` (a call made while loading), as text.
    fn explain(&self, stage: &str, fault: Fault) -> String {
        fault.explain(stage, self.context.fuel, self.context.memory_mb)
    }

    /// Why a call threw: fuel used up, memory refused, a panic, or another trap.
    fn trap(&self, error: JsValue) -> Fault {
        let meter = self.meter.get();
        Fault::of_failed_call(
            meter.is_some_and(Meter::out_of_fuel),
            || self.table.borrow_mut().take_panic(),
            || meter.is_some_and(Meter::growth_refused),
            || sys::describe(&error),
        )
    }
}

impl guest::Instance for State {
    type Request = RequestFrame;
    type Body = js_sys::Uint8Array;
    type Guest<'a> = &'a State;

    fn enter(&self) -> &State {
        self
    }

    fn body_len(body: &js_sys::Uint8Array) -> u64 {
        body.length().into()
    }
}

/// An address the plugin gave or was given: a wasm32 one always fits in 32 bits.
pub(super) fn wasm(ptr: Address) -> u32 {
    u32::try_from(ptr).unwrap_or(u32::MAX)
}

fn bounds(ptr: u32, len: u32) -> Fault {
    out_of_bounds(ptr.into(), len)
}

impl guest::Guest for &State {
    type Request = RequestFrame;
    type Body = js_sys::Uint8Array;

    fn table<R>(&mut self, use_table: impl FnOnce(&mut Table) -> R) -> R {
        use_table(&mut self.table.borrow_mut())
    }

    fn alloc(&mut self, len: u32) -> Result<Address, Fault> {
        let ptr = self.exports().alloc(len).map_err(|e| self.trap(e))?;
        Ok(ptr.into())
    }

    fn init(&mut self, ptr: Address, len: u32) -> Result<(), Fault> {
        self.exports()
            .init(wasm(ptr), len)
            .map_err(|e| self.trap(e))
    }

    fn start(&mut self, ptr: Address, len: u32) -> Result<u32, Fault> {
        self.exports()
            .start(wasm(ptr), len)
            .map_err(|e| self.trap(e))
    }

    fn poll(&mut self, task: u32) -> Result<Address, Fault> {
        let frame = self.exports().poll(task).map_err(|e| self.trap(e))?;
        Ok(frame.into())
    }

    fn complete(&mut self, op: u32, ptr: Address, len: u32) -> Result<(), Fault> {
        let exports = self.exports();
        exports
            .complete(op, wasm(ptr), len)
            .map_err(|e| self.trap(e))
    }

    fn woken(&mut self) -> Result<u32, Fault> {
        self.exports().woken().map_err(|e| self.trap(e))
    }

    fn drop_task(&mut self, task: u32) -> Result<(), Fault> {
        self.exports().drop_task(task).map_err(|e| self.trap(e))
    }

    fn write(&mut self, ptr: Address, bytes: &[u8]) -> Result<(), Fault> {
        let (ptr, len) = (wasm(ptr), bytes.len() as u32);
        self.holding(ptr, len)?
            .subarray(ptr, ptr + len)
            .copy_from(bytes);
        Ok(())
    }

    fn request_len(request: &RequestFrame) -> u32 {
        request.len()
    }

    fn write_request(&mut self, ptr: Address, request: &RequestFrame) -> Result<(), Fault> {
        let ptr = wasm(ptr);
        request.write_into(&self.holding(ptr, request.len())?, ptr);
        Ok(())
    }

    fn readable(&mut self, ptr: Address) -> u64 {
        let size = self.memory_bytes().map_or(0, |(_, size)| size);
        u64::from(size).saturating_sub(ptr)
    }

    fn read(&mut self, ptr: Address, len: u32) -> Vec<u8> {
        let ptr = wasm(ptr);
        self.memory_bytes()
            .map(|(memory, _)| memory.subarray(ptr, ptr + len).to_vec())
            .unwrap_or_default()
    }

    fn read_body(&mut self, ptr: Address, len: u32) -> js_sys::Uint8Array {
        let ptr = wasm(ptr);
        match self.memory_bytes() {
            Some((memory, _)) => memory.slice(ptr, ptr + len),
            None => js_sys::Uint8Array::new_with_length(0),
        }
    }

    fn growth_refused(&mut self) -> bool {
        self.meter.get().is_some_and(Meter::growth_refused)
    }

    /// An unmetered instance holding more memory than its cap. (A metered module's memory
    /// cannot grow past it: its maximum was lowered when it was rewritten. An unmetered one is
    /// checked after each poll instead, three calls into JavaScript spared on the metered path.)
    fn over_memory_cap(&mut self) -> bool {
        self.meter.get().is_none()
            && self
                .memory()
                .is_some_and(|memory| u64::from(memory.byte_length()) > self.context.memory_bytes())
    }
}

impl Instance {
    /// Checks a fresh instance against the ABI and initialises it with its init message.
    pub fn new(
        instance: &WebAssembly::Instance,
        state: Rc<State>,
        init: &[u8],
    ) -> Result<Self, String> {
        let exports = instance.exports();
        if state.context.fuel.is_some() {
            let meter = Meter::of(&exports).ok_or("the metered module lost its counters")?;
            let _ = state.meter.set(meter);
            state
                .run_start(&exports)
                .map_err(|fault| state.explain("its start function", fault))?;
        }
        check_exports(&exports, &state.context)?;
        let _ = state.exports.set(exports.unchecked_into());
        guest::calls::init(&mut &*state, init)
            .map_err(|fault| state.explain(abi::exports::INIT, fault))?;
        Ok(Self { state })
    }

    /// Whether the instance trapped (and must be replaced).
    pub fn is_broken(&self) -> bool {
        self.state.table.borrow().is_broken()
    }

    /// Runs one request through the plugin: encoded request in, its response out (the body
    /// copied out of plugin memory while the frame is live). Dropping the future cancels the
    /// request: its task is dropped inside the plugin.
    pub async fn dispatch(
        &self,
        request: &RequestFrame,
        depth: u32,
    ) -> Result<Answer<Rc<State>>, Fault> {
        guest::dispatch(Rc::clone(&self.state), request, request.stream(), depth).await
    }
}

/// Refuses modules that are not plugins of this ABI version (or of one too old for what the
/// entry of `context` asks), saying what is wrong.
fn check_exports(exports: &js_sys::Object, context: &PluginContext) -> Result<(), String> {
    let get = |name: &str| js_sys::Reflect::get(exports, &JsValue::from_str(name)).ok();
    let version = get(abi::exports::ABI_VERSION)
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or_else(checks::not_a_plugin)?
        .call0(&JsValue::UNDEFINED)
        .map_err(|e| checks::version_failed(&sys::describe(&e)))?;
    // Shown as JavaScript writes the number: Rust's float formatting alone is 17 KB of runtime.
    let number = version
        .as_f64()
        .filter(|v| v.fract() == 0.0 && *v >= 0.0 && *v <= f64::from(u32::MAX));
    let number = number.map(|v| v as u32);
    checks::check_version(number, &sys::describe(&version))?;
    if let Some(version) = number {
        checks::check_streams_requests(version, &context.name, context.stream_requests)?;
    }
    checks::check_present(|name| get(name).is_some_and(|value| !value.is_undefined()))?;
    // Every call the runtime makes assumes these types: check them once, here.
    if !get(abi::exports::MEMORY)
        .is_some_and(|memory| memory.is_instance_of::<WebAssembly::Memory>())
    {
        return Err(checks::bad_memory("WebAssembly memory"));
    }
    for (name, params) in abi::exports::PARAMS {
        let function = get(name).and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        match function {
            Some(function) if function.length() == params => {}
            Some(function) => return Err(checks::wrong_arity(name, function.length(), params)),
            None => return Err(checks::not_a_function(name)),
        }
    }
    Ok(())
}
