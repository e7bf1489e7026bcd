//! One live instance of a plugin module: the ABI call sequence, and the host operations its
//! tasks wait on (see `valor_abi` for the protocol).
//!
//! Rules that keep this sound: no `RefCell` borrow is held across a call into the plugin (its
//! imports re-enter this module), and after a trap the instance is never called again.

use super::imports;
use crate::host::{self, PluginContext};
use crate::inbound::RequestFrame;
use crate::meter;
use crate::reply::{FrameHead, Reply, HEAD_PREFIX_BYTES};
use crate::sys::{self, PluginExports};
use futures::channel::oneshot;
use futures::future::{AbortHandle, Abortable};
use js_sys::WebAssembly;
use std::cell::{Cell, OnceCell, RefCell};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::rc::{Rc, Weak};
use valor_abi as abi;
pub use valor_host::fault::Fault;
use valor_host::limits::{self, MAX_OPS_IN_FLIGHT, MAX_WOKEN_PER_DRAIN};
use wasm_bindgen::prelude::*;

/// The state an instance shares with its imports and its host operations.
pub struct State {
    pub(super) context: Rc<PluginContext>,
    exports: OnceCell<PluginExports>,
    /// A view of all of its memory, while the memory has not grown (see `State::memory_bytes`).
    memory_bytes: RefCell<Option<js_sys::Uint8Array>>,
    /// Kept alive as long as the instance: the import object references them.
    imports: OnceCell<imports::Closures>,
    /// A panic message reported just before a trap.
    pub(super) panic_message: RefCell<Option<String>>,
    /// Set once the instance trapped: it is never called again.
    broken: RefCell<Option<Fault>>,
    /// Host operations under way; aborting one drops its future (clearing timers, aborting
    /// fetches).
    ops: RefCell<HashMap<u32, AbortHandle>>,
    next_op: Cell<u32>,
    /// Operations refused when started, and why: their failures are delivered on a later
    /// turn of the event loop (an import must not call back into the plugin).
    refused: RefCell<BTreeMap<u32, Rc<str>>>,
    /// Whether a delivery of `refused` is scheduled.
    refusals_due: Cell<bool>,
    /// The message of an operation refused for [`MAX_OPS_IN_FLIGHT`].
    over_quota: Rc<str>,
    /// Dispatches waiting for their task to be woken.
    waiters: RefCell<HashMap<u32, oneshot::Sender<()>>>,
    /// Nesting depth of the request whose task is being polled (for plugin-to-plugin fetch).
    pub(super) depth: Cell<u32>,
    /// The counters of a metered module.
    meter: OnceCell<Meter>,
    /// The task being polled (0 while none is): the host operations it starts are its own.
    polling: Cell<u32>,
    /// Tasks that started an operation with effects outside the plugin; 0 stands for any task
    /// (one started outside a poll). They are not replayed when their instance is lost.
    effects: RefCell<HashSet<u32>>,
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
    /// State for an instance about to be created; `import_object` goes to `instantiate`.
    pub fn new(context: Rc<PluginContext>) -> (Rc<Self>, js_sys::Object) {
        let state = Rc::new(State {
            exports: OnceCell::new(),
            memory_bytes: RefCell::new(None),
            imports: OnceCell::new(),
            panic_message: RefCell::new(None),
            broken: RefCell::new(None),
            ops: RefCell::new(HashMap::new()),
            next_op: Cell::new(1),
            refused: RefCell::new(BTreeMap::new()),
            refusals_due: Cell::new(false),
            over_quota: limits::over_quota(&context.name).into(),
            waiters: RefCell::new(HashMap::new()),
            depth: Cell::new(0),
            meter: OnceCell::new(),
            polling: Cell::new(0),
            effects: RefCell::new(HashSet::new()),
            context,
        });
        let (object, closures) = imports::build(Rc::downgrade(&state));
        let _ = state.imports.set(closures);
        (state, object)
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
        let (memory, size) = self.memory_bytes().ok_or_else(|| out_of_bounds(ptr, len))?;
        match ptr.checked_add(len) {
            Some(end) if end <= size => Ok(memory),
            _ => Err(out_of_bounds(ptr, len)),
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

    /// Starts a host operation and returns its id; its result is delivered when it finishes.
    /// Past [`MAX_OPS_IN_FLIGHT`] the operation is refused instead.
    pub(super) fn start_op(
        self: &Rc<Self>,
        operation: impl Future<Output = Vec<u8>> + 'static,
    ) -> u32 {
        if self.broken().is_some() {
            return 0; // never delivered: the instance is being discarded
        }
        if self.ops.borrow().len() >= MAX_OPS_IN_FLIGHT {
            return self.refuse(Rc::clone(&self.over_quota));
        }
        let id = self.next_id();
        let (handle, registration) = AbortHandle::new_pair();
        self.ops.borrow_mut().insert(id, handle);
        let state = Rc::downgrade(self);
        wasm_bindgen_futures::spawn_local(async move {
            if let Ok(result) = Abortable::new(operation, registration).await {
                if let Some(state) = state.upgrade() {
                    state.complete(id, &result);
                }
            }
        });
        id
    }

    /// The plugin is starting an operation with effects outside it (a fetch, a storage command).
    pub(super) fn record_effect(&self) {
        self.effects.borrow_mut().insert(self.polling.get());
    }

    fn had_effects(&self, task: u32) -> bool {
        let effects = self.effects.borrow();
        effects.contains(&task) || effects.contains(&0)
    }

    /// An operation that fails without starting (it takes no room in the quota): returns its
    /// id, whose failure saying `why` is delivered once the plugin's current call has returned.
    pub(super) fn refuse(self: &Rc<Self>, why: Rc<str>) -> u32 {
        if self.broken().is_some() {
            return 0;
        }
        if self.refused.borrow().len() >= MAX_OPS_IN_FLIGHT {
            // Refusals cost the runtime memory until delivered: a plugin that keeps starting
            // operations in one call is stopped rather than let it take the worker's memory.
            self.break_down(Fault::Violation(limits::too_many_operations()));
            return 0;
        }
        let id = self.next_id();
        self.refused.borrow_mut().insert(id, why);
        if !self.refusals_due.replace(true) {
            let state = Rc::downgrade(self);
            wasm_bindgen_futures::spawn_local(async move {
                // A timer, not a microtask: a plugin that retries at once must not keep the
                // worker from the events (finished operations included) that would free room.
                host::timer::sleep(0.0).await;
                if let Some(state) = state.upgrade() {
                    state.deliver_refusals();
                }
            });
        }
        id
    }

    /// Delivers the refusals due; those made meanwhile wait for the next delivery.
    fn deliver_refusals(self: &Rc<Self>) {
        self.refusals_due.set(false);
        let due: Vec<u32> = self.refused.borrow().keys().copied().collect();
        for op in due {
            let why = self.refused.borrow_mut().remove(&op);
            if let Some(why) = why {
                self.deliver(op, &valor_host::result::failed(&why));
            }
        }
    }

    fn next_id(&self) -> u32 {
        let id = self.next_op.get();
        self.next_op.set(id.wrapping_add(1).max(1));
        id
    }

    /// The plugin dropped the future waiting on `op`.
    pub(super) fn cancel_op(&self, op: u32) {
        let handle = self.ops.borrow_mut().remove(&op);
        if let Some(handle) = handle {
            handle.abort();
        }
        self.refused.borrow_mut().remove(&op);
    }

    fn complete(self: &Rc<Self>, op: u32, result: &[u8]) {
        if self.ops.borrow_mut().remove(&op).is_some() {
            self.deliver(op, result);
        } // else cancelled meanwhile
    }

    /// Hands the plugin the result of `op`, unless the instance is gone.
    fn deliver(self: &Rc<Self>, op: u32, result: &[u8]) {
        if self.broken.borrow().is_some() {
            return;
        }
        let delivered = self.write(result).and_then(|(ptr, len)| {
            self.call()
                .complete(op, ptr, len)
                .map_err(|error| self.trap(error))
        });
        match delivered {
            // A fault while waking has already broken the instance down.
            Ok(()) => drop(self.wake_woken()),
            Err(fault) => {
                self.break_down(fault);
            }
        }
    }

    /// Copies bytes into memory the plugin allocates (and then owns).
    fn write(&self, bytes: &[u8]) -> Result<(u32, u32), Fault> {
        let len = u32::try_from(bytes.len()).map_err(|_| Fault::Trap {
            panic: None,
            error: "a message larger than 4 GiB".into(),
        })?;
        self.write_with(len, |memory, at| {
            memory.subarray(at, at + len).copy_from(bytes)
        })
    }

    /// Has the plugin allocate `len` bytes, and fills them: `fill` gets a view of all of its
    /// memory and where the `len` bytes start.
    fn write_with(
        &self,
        len: u32,
        fill: impl FnOnce(&js_sys::Uint8Array, u32),
    ) -> Result<(u32, u32), Fault> {
        let ptr = self.call().alloc(len).map_err(|e| self.trap(e))?;
        if ptr == 0 && len > 0 && self.meter.get().is_some_and(Meter::growth_refused) {
            return Err(Fault::OutOfMemory);
        }
        if ptr == 0 && len > 0 {
            // Address 0 is never a live allocation: writing there would corrupt the plugin.
            return Err(Fault::Violation(format!(
                "valor_alloc returned 0 for {len} bytes (out of memory?)"
            )));
        }
        fill(&self.holding(ptr, len)?, ptr);
        Ok((ptr, len))
    }

    /// Hands every task the plugin reports woken to the dispatch waiting for it. A failure
    /// (a trap, or a plugin that never stops reporting tasks) breaks the instance down.
    fn wake_woken(&self) -> Result<(), Fault> {
        for _ in 0..MAX_WOKEN_PER_DRAIN {
            match self.call().woken() {
                Ok(0) => return Ok(()),
                Ok(task) => {
                    let waiter = self.waiters.borrow_mut().remove(&task);
                    if let Some(waiter) = waiter {
                        let _ = waiter.send(());
                    }
                }
                Err(error) => return Err(self.fail(error)),
            }
        }
        Err(self.break_down(Fault::Violation(limits::woken_never_ends())))
    }

    /// A call into the instance threw: it is broken for good.
    fn fail(&self, error: JsValue) -> Fault {
        self.break_down(self.trap(error))
    }

    /// After a trap: remember why, stop every operation, and fail every waiting dispatch.
    /// Returns the fault, for the caller to report.
    fn break_down(&self, fault: Fault) -> Fault {
        self.broken.borrow_mut().get_or_insert(fault.clone());
        let ops: Vec<_> = self.ops.borrow_mut().drain().map(|(_, op)| op).collect();
        ops.iter().for_each(AbortHandle::abort);
        self.refused.borrow_mut().clear();
        // Dropping the senders wakes the receivers with `Canceled`.
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        drop(waiters);
        fault
    }

    fn broken(&self) -> Option<Fault> {
        self.broken.borrow().clone()
    }

    /// The plugin's exports, for one call into it. (A metered module gives itself the fuel of
    /// one call on entry: see `meter`.)
    fn call(&self) -> &PluginExports {
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
        if meter.is_some_and(Meter::out_of_fuel) {
            return Fault::OutOfFuel;
        }
        let panic = self.panic_message.borrow_mut().take();
        if panic.is_none() && meter.is_some_and(Meter::growth_refused) {
            return Fault::OutOfMemory;
        }
        Fault::Trap {
            panic,
            error: sys::describe(&error),
        }
    }

    /// Whether an unmetered instance holds more memory than its cap. (A metered module's memory
    /// cannot grow past it: its maximum was lowered when it was rewritten. An unmetered one is
    /// checked after each poll instead, three calls into JavaScript spared on the metered path.)
    fn over_memory_cap(&self) -> bool {
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
        check_exports(&exports)?;
        let _ = state.exports.set(exports.unchecked_into());
        state
            .write(init)
            .and_then(|(ptr, len)| state.call().init(ptr, len).map_err(|e| state.trap(e)))
            .map_err(|fault| state.explain(abi::exports::INIT, fault))?;
        Ok(Self { state })
    }

    /// Whether the instance trapped (and must be replaced).
    pub fn is_broken(&self) -> bool {
        self.state.broken.borrow().is_some()
    }

    /// Runs one request through the plugin: encoded request in, its response out (the body
    /// copied out of plugin memory while the frame is live). Dropping the future cancels the
    /// request: its task is dropped inside the plugin.
    pub async fn dispatch(&self, request: &RequestFrame, depth: u32) -> Result<Reply, Fault> {
        let state = &self.state;
        if state.broken().is_some() {
            // Another request broke it a moment ago: this one never ran.
            return Err(Fault::Lost { replayable: true });
        }
        let (ptr, len) = state
            .write_with(request.len(), |memory, at| request.write_into(memory, at))
            .map_err(|f| state.break_down(f))?;
        let task = state.call().start(ptr, len).map_err(|e| state.fail(e))?;
        let task = TaskGuard {
            state: Rc::downgrade(state),
            task,
        };
        loop {
            state.depth.set(depth);
            state.polling.set(task.task);
            let polled = state.call().poll(task.task);
            state.polling.set(0);
            state.depth.set(0);
            let frame = polled.map_err(|error| state.fail(error))?;
            if let Some(fault) = state.broken() {
                return Err(fault); // broken by one of its imports during the poll
            }
            if state.over_memory_cap() {
                return Err(state.break_down(Fault::OutOfMemory));
            }
            // Polling may have woken other tasks (a channel between requests, say).
            state.wake_woken()?;
            if frame != abi::PENDING {
                return self.read_frame(frame);
            }
            let (wake, woken) = oneshot::channel();
            state.waiters.borrow_mut().insert(task.task, wake);
            // Woken, another task may have broken the instance before this one is polled again
            // (several woken in one turn of the event loop): this one did not fail, it is lost.
            if woken.await.is_err() || state.broken().is_some() {
                let replayable = !state.had_effects(task.task);
                return Err(Fault::Lost { replayable });
            }
        }
    }

    /// Reads a response frame (a little-endian `u32` length, then the encoded response): its
    /// head from copies of its first bytes (one copy, for most), its body in one copy straight
    /// out of plugin memory.
    fn read_frame(&self, frame: u32) -> Result<Reply, Fault> {
        let state = &self.state;
        let (memory, size) = state
            .memory_bytes()
            .ok_or_else(|| out_of_bounds(frame, 4))?;
        let after = size.saturating_sub(frame);
        if after < 4 {
            return Err(out_of_bounds(frame, 4));
        }
        // The length and, for most responses, the whole head.
        let mut first = memory
            .subarray(frame, frame + after.min(FIRST_READ))
            .to_vec();
        let len = u32::from_le_bytes([first[0], first[1], first[2], first[3]]);
        if len > state.context.max_message_bytes() {
            return Err(Fault::TooLarge(len)); // never copied out of plugin memory
        }
        if len > after - 4 {
            return Err(out_of_bounds(frame + 4, len));
        }
        let start = frame + 4;
        first.drain(..4);
        first.truncate(len as usize);
        let mut head = FrameHead::parse(first, len);
        // A longer head: the first bytes of the frame, or all of it.
        for copied in [len.min(HEAD_PREFIX_BYTES), len] {
            if !matches!(head, Ok(None)) {
                break;
            }
            head = FrameHead::parse(memory.subarray(start, start + copied).to_vec(), len);
        }
        // (A whole frame's head is read or refused: `None` cannot remain.)
        let head = head.map_err(Fault::BadFrame)?.ok_or_else(|| {
            Fault::BadFrame(format!("the response frame of {len} bytes is truncated"))
        })?;
        let body_len = head.body.len() as u32;
        if body_len > state.context.max_body_bytes {
            return Err(Fault::TooLarge(body_len));
        }
        let body = memory.slice(start + head.body.start, start + head.body.end);
        Ok(Reply::from_frame(head, body))
    }
}

/// How much of a response frame is copied first: its length, and the whole head of most.
const FIRST_READ: u32 = 512;

/// Drops the plugin's task when its dispatch ends, however it ends (answer, abort, timeout).
struct TaskGuard {
    state: Weak<State>,
    task: u32,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        let Some(state) = self.state.upgrade() else {
            return;
        };
        state.waiters.borrow_mut().remove(&self.task);
        state.effects.borrow_mut().remove(&self.task);
        if state.broken().is_none() {
            if let Err(error) = state.call().drop_task(self.task) {
                state.fail(error);
            }
        }
    }
}

fn out_of_bounds(ptr: u32, len: u32) -> Fault {
    Fault::BadFrame(format!(
        "{len} bytes at address {ptr} lie outside its memory"
    ))
}

/// Refuses modules that are not plugins of this ABI version, saying what is wrong.
fn check_exports(exports: &js_sys::Object) -> Result<(), String> {
    let get = |name: &str| js_sys::Reflect::get(exports, &JsValue::from_str(name)).ok();
    let version = get(abi::exports::ABI_VERSION)
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or_else(|| {
            format!(
                "the module is not a Valor plugin: it does not export `{}` \
                 (build it with the vlugin SDK and #[vlugin])",
                abi::exports::ABI_VERSION
            )
        })?
        .call0(&JsValue::UNDEFINED)
        .map_err(|e| {
            format!(
                "`{}` failed: {}",
                abi::exports::ABI_VERSION,
                sys::describe(&e)
            )
        })?;
    if version.as_f64() != Some(f64::from(abi::ABI_VERSION)) {
        // As JavaScript writes the number: Rust's float formatting alone is 17 KB of runtime.
        let version = sys::describe(&version);
        return Err(format!(
            "the plugin was built for Valor plugin ABI version {version}, but this runtime \
             speaks version {}: rebuild it with a vlugin release for ABI version {}",
            abi::ABI_VERSION,
            abi::ABI_VERSION
        ));
    }
    let missing: Vec<&str> = abi::exports::REQUIRED
        .into_iter()
        .filter(|name| get(name).is_none_or(|value| value.is_undefined()))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the plugin does not export {} (build it with #[vlugin])",
            missing.join(", ")
        ));
    }
    // Every call the runtime makes assumes these types: check them once, here.
    if !get(abi::exports::MEMORY)
        .is_some_and(|memory| memory.is_instance_of::<WebAssembly::Memory>())
    {
        return Err(format!(
            "its `{}` export is not a WebAssembly memory",
            abi::exports::MEMORY
        ));
    }
    for (name, params) in abi::exports::PARAMS {
        let function = get(name).and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        match function {
            Some(function) if function.length() == params => {}
            Some(function) => {
                return Err(format!(
                    "its `{name}` export takes {} parameters, the ABI says {params}",
                    function.length()
                ))
            }
            None => return Err(format!("its `{name}` export is not a function")),
        }
    }
    Ok(())
}
