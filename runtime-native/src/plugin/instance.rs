//! One live instance of a plugin module on wasmtime: the calls into it, as the protocol core
//! (`valor_host::guest`) makes them.
//!
//! Calls into the plugin are synchronous and never overlap: each step of a dispatch holds the
//! instance's lock, which is never held across an `await`. Requests on one instance interleave
//! between steps, as in the browser. After a fault the instance is never called again.
//!
//! Its store's data, [`State`], is what the imports and host operations share: imports reach it
//! through their `Caller`, the host between calls through the store. Nothing in it calls the
//! plugin; finished operations deliver their results to the instance through it.

use super::memory_cap::MemoryCap;
use crate::host::operations::Deliver;
use crate::host::PluginContext;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use valor_abi::exports;
pub use valor_host::fault::Fault;
use valor_host::guest::{self, exports as checks, out_of_bounds, Address, Instance as _, Table};
use wasmtime::{Linker, Memory, Module, Store, Trap, TypedFunc};

/// The exports the host calls, checked once for their exact types.
struct Exports {
    memory: Memory,
    init: TypedFunc<(u32, u32), ()>,
    alloc: TypedFunc<u32, u32>,
    start: TypedFunc<(u32, u32), u32>,
    poll: TypedFunc<u32, u32>,
    drop: TypedFunc<u32, ()>,
    complete: TypedFunc<(u32, u32, u32), ()>,
    woken: TypedFunc<(), u32>,
}

/// A plugin instance that passed the ABI checks and was initialised.
pub struct Instance {
    store: Mutex<Store<State>>,
    exports: Exports,
    /// Whether its table says it broke, as it said when the instance was last left: asked
    /// after every request, read without the lock.
    broken: AtomicBool,
}

/// The data of an instance's store.
pub struct State {
    /// The plugin's context: its entry's limits, its store, its allowlist.
    pub context: Arc<PluginContext>,
    /// Caps its memory at `memory_mb`, and remembers a refused growth.
    pub memory: MemoryCap,
    /// Its host operations, as the protocol core keeps them.
    pub table: Table,
    /// The instance, once created: finished operations deliver their results to it.
    pub instance: Weak<dyn Deliver>,
}

impl State {
    /// The data of a fresh instance of the plugin of `context`.
    fn new(context: Arc<PluginContext>) -> Self {
        Self {
            memory: MemoryCap::new(context.memory_bytes()),
            table: Table::new(&context.name, context.max_body_bytes),
            context,
            instance: Weak::<Instance>::new(),
        }
    }
}

impl Instance {
    /// Instantiates `module` with the ABI's imports (`linker`, of the module's engine), checks
    /// it against the ABI, and initialises it with `init`.
    pub fn new(
        linker: &Linker<State>,
        module: &Module,
        context: Arc<PluginContext>,
        init: &[u8],
    ) -> Result<Arc<Self>, String> {
        let fuel = context.fuel;
        let mut store = Store::new(linker.engine(), State::new(context));
        store.limiter(|state| &mut state.memory);
        // The start function runs inside instantiation, on the fuel of one call.
        set_fuel(&mut store, fuel);
        let instance = linker.instantiate(&mut store, module).map_err(|error| {
            if error.downcast_ref::<Trap>().is_some() {
                let fault = classify(&mut store, &error);
                explain(&store, "its start function", fault)
            } else {
                format!("it could not be instantiated: {error}")
            }
        })?;
        // `valor_abi_version` runs on what the start function left.
        let version = instance
            .get_typed_func::<(), u32>(&mut store, exports::ABI_VERSION)
            .map_err(|_| checks::not_a_plugin())?
            .call(&mut store, ())
            .map_err(|error| checks::version_failed(&error.to_string()))?;
        checks::check_version(Some(version), &version.to_string())?;
        let context = &store.data().context;
        checks::check_streams_requests(version, &context.name, context.stream_requests)?;
        checks::check_present(|name| instance.get_export(&mut store, name).is_some())?;
        let memory = instance
            .get_memory(&mut store, exports::MEMORY)
            .filter(|memory| !memory.ty(&store).is_64() && !memory.ty(&store).is_shared())
            .ok_or_else(|| checks::bad_memory("32-bit, non-shared WebAssembly memory"))?;
        macro_rules! typed {
            ($name:expr) => {
                instance
                    .get_typed_func(&mut store, $name)
                    .map_err(|error| checks::wrong_type($name, &error.to_string()))?
            };
        }
        let exports = Exports {
            memory,
            init: typed!(exports::INIT),
            alloc: typed!(exports::ALLOC),
            start: typed!(exports::START),
            poll: typed!(exports::POLL),
            drop: typed!(exports::DROP),
            complete: typed!(exports::COMPLETE),
            woken: typed!(exports::WOKEN),
        };
        let this = Arc::new(Self {
            store: Mutex::new(store),
            exports,
            broken: AtomicBool::new(false),
        });
        let mut entered = this.enter();
        entered.store.data_mut().instance = Arc::downgrade(&this) as Weak<dyn Deliver>;
        guest::calls::init(&mut entered, init)
            .map_err(|fault| explain(&entered.store, exports::INIT, fault))?;
        drop(entered);
        Ok(this)
    }

    fn lock(&self) -> MutexGuard<'_, Store<State>> {
        // A panic of the host while it held the lock leaves nothing half-done in the plugin
        // that a trap would not: the state is still the plugin's.
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether the instance trapped (and must be replaced).
    pub fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Acquire)
    }
}

/// The instance, locked for one step of the protocol.
pub struct Entered<'a> {
    store: MutexGuard<'a, Store<State>>,
    exports: &'a Exports,
    broken: &'a AtomicBool,
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        // Only calls made while entered break an instance, and a broken one stays broken.
        if self.store.data().table.is_broken() {
            self.broken.store(true, Ordering::Release);
        }
    }
}

impl guest::Instance for Instance {
    type Request = [u8];
    type Body = Vec<u8>;
    type Guest<'a> = Entered<'a>;

    fn body_len(body: &Vec<u8>) -> u64 {
        body.len() as u64
    }

    fn enter(&self) -> Entered<'_> {
        Entered {
            store: self.lock(),
            exports: &self.exports,
            broken: &self.broken,
        }
    }
}

impl Entered<'_> {
    /// One call into the plugin, with the fuel of one call.
    fn call<R>(
        &mut self,
        call: impl FnOnce(&mut Store<State>, &Exports) -> wasmtime::Result<R>,
    ) -> Result<R, Fault> {
        let fuel = self.store.data().context.fuel;
        set_fuel(&mut self.store, fuel);
        call(&mut self.store, self.exports).map_err(|error| classify(&mut self.store, &error))
    }

    fn memory(&self) -> &[u8] {
        self.exports.memory.data(&*self.store)
    }
}

/// An address the plugin gave or was given: a wasm32 one always fits in 32 bits.
fn wasm(ptr: Address) -> u32 {
    u32::try_from(ptr).unwrap_or(u32::MAX)
}

impl guest::Guest for Entered<'_> {
    type Request = [u8];
    type Body = Vec<u8>;

    fn table<R>(&mut self, use_table: impl FnOnce(&mut guest::Table) -> R) -> R {
        use_table(&mut self.store.data_mut().table)
    }

    fn alloc(&mut self, len: u32) -> Result<Address, Fault> {
        self.call(|store, exports| exports.alloc.call(store, len))
            .map(Address::from)
    }

    fn init(&mut self, ptr: Address, len: u32) -> Result<(), Fault> {
        self.call(|store, exports| exports.init.call(store, (wasm(ptr), len)))
    }

    fn start(&mut self, ptr: Address, len: u32) -> Result<u32, Fault> {
        self.call(|store, exports| exports.start.call(store, (wasm(ptr), len)))
    }

    fn poll(&mut self, task: u32) -> Result<Address, Fault> {
        self.call(|store, exports| exports.poll.call(store, task))
            .map(Address::from)
    }

    fn complete(&mut self, op: u32, ptr: Address, len: u32) -> Result<(), Fault> {
        self.call(|store, exports| exports.complete.call(store, (op, wasm(ptr), len)))
    }

    fn woken(&mut self) -> Result<u32, Fault> {
        self.call(|store, exports| exports.woken.call(store, ()))
    }

    fn drop_task(&mut self, task: u32) -> Result<(), Fault> {
        self.call(|store, exports| exports.drop.call(store, task))
    }

    fn write(&mut self, ptr: Address, bytes: &[u8]) -> Result<(), Fault> {
        let memory = self.exports.memory;
        memory
            .write(&mut *self.store, wasm(ptr) as usize, bytes)
            .map_err(|_| out_of_bounds(ptr, bytes.len() as u32))
    }

    fn request_len(request: &[u8]) -> u32 {
        u32::try_from(request.len()).unwrap_or(u32::MAX)
    }

    fn write_request(&mut self, ptr: Address, request: &[u8]) -> Result<(), Fault> {
        self.write(ptr, request)
    }

    fn readable(&mut self, ptr: Address) -> u64 {
        (self.memory().len() as u64).saturating_sub(ptr)
    }

    fn read(&mut self, ptr: Address, len: u32) -> Vec<u8> {
        let at = ptr as usize;
        self.memory()[at..at + len as usize].to_vec()
    }

    fn read_body(&mut self, ptr: Address, len: u32) -> Vec<u8> {
        self.read(ptr, len)
    }

    fn growth_refused(&mut self) -> bool {
        self.store.data().memory.refused
    }
}

/// Sets the fuel of one call: the entry's `fuel`, or as good as none for an unmetered plugin.
fn set_fuel(store: &mut Store<State>, fuel: Option<u64>) {
    let _ = store.set_fuel(fuel.unwrap_or(u64::MAX));
}

/// Why a call failed: fuel used up, memory refused, a panic, or another trap.
fn classify(store: &mut Store<State>, error: &wasmtime::Error) -> Fault {
    let state = store.data_mut();
    Fault::of_failed_call(
        error.downcast_ref::<Trap>() == Some(&Trap::OutOfFuel),
        || state.table.take_panic(),
        || state.memory.refused,
        || describe(error),
    )
}

/// A trap as one line: wasmtime's message, without its backtrace.
fn describe(error: &wasmtime::Error) -> String {
    match error.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => error.to_string(),
    }
}

/// Why loading failed in `stage` (a call made while loading), as text.
fn explain(store: &Store<State>, stage: &str, fault: Fault) -> String {
    let context = &store.data().context;
    fault.explain(stage, context.fuel, context.memory_mb)
}
