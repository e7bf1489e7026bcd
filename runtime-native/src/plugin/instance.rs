//! One live instance of a plugin module on wasmtime: the ABI call sequence, as `valor-abi`'s
//! PROTOCOL.md gives it, and the delivery of host operations' results.
//!
//! Calls into the plugin are synchronous and never overlap: each one holds the instance's lock,
//! which is never held across an `await`. Requests on one instance interleave between calls,
//! as in the browser. After a trap the instance is never called again.

use super::imports;
use super::state::State;
use crate::host::PluginContext;
use crate::reply::Reply;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::oneshot;
use valor_abi::{self as abi, exports};
pub use valor_host::fault::Fault;
use valor_host::frame::{FrameHead, HEAD_PREFIX_BYTES};
use valor_host::limits::{self, MAX_WOKEN_PER_DRAIN};
use wasmtime::{Engine, Linker, Memory, Module, Store, Trap, TypedFunc};

/// The exports the host calls, checked once for their exact types.
struct Exports {
    memory: Memory,
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
}

impl Instance {
    /// Instantiates `module`, checks it against the ABI, and initialises it with `init`.
    pub fn new(
        engine: &Engine,
        module: &Module,
        context: Arc<PluginContext>,
        init: &[u8],
    ) -> Result<Arc<Self>, String> {
        let fuel = context.fuel;
        let mut store = Store::new(engine, State::new(context));
        store.limiter(|state| &mut state.memory);
        let linker: Linker<State> = imports::linker(engine);
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
            .map_err(|_| {
                format!(
                    "the module is not a Valor plugin: it does not export `{}` as a function \
                     returning i32 (build it with the vlugin SDK and #[vlugin])",
                    exports::ABI_VERSION
                )
            })?
            .call(&mut store, ())
            .map_err(|error| format!("`{}` failed: {error}", exports::ABI_VERSION))?;
        if version != abi::ABI_VERSION {
            return Err(format!(
                "the plugin was built for Valor plugin ABI version {version}, but this runtime \
                 speaks version {}: rebuild it with a vlugin release for ABI version {}",
                abi::ABI_VERSION,
                abi::ABI_VERSION
            ));
        }
        let missing: Vec<&str> = exports::REQUIRED
            .into_iter()
            .filter(|name| instance.get_export(&mut store, name).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the plugin does not export {} (build it with #[vlugin])",
                missing.join(", ")
            ));
        }
        let memory = instance
            .get_memory(&mut store, exports::MEMORY)
            .filter(|memory| !memory.ty(&store).is_64() && !memory.ty(&store).is_shared())
            .ok_or_else(|| {
                format!(
                    "its `{}` export is not a 32-bit, non-shared WebAssembly memory",
                    exports::MEMORY
                )
            })?;
        macro_rules! typed {
            ($name:expr) => {
                instance
                    .get_typed_func(&mut store, $name)
                    .map_err(|error| {
                        format!("its `{}` export has the wrong type: {error}", $name)
                    })?
            };
        }
        let exports = Exports {
            memory,
            alloc: typed!(exports::ALLOC),
            start: typed!(exports::START),
            poll: typed!(exports::POLL),
            drop: typed!(exports::DROP),
            complete: typed!(exports::COMPLETE),
            woken: typed!(exports::WOKEN),
        };
        let init_export: TypedFunc<(u32, u32), ()> = typed!(exports::INIT);
        let this = Arc::new(Self {
            store: Mutex::new(store),
            exports,
        });
        {
            let mut store = this.lock();
            store.data_mut().instance = Arc::downgrade(&this);
            this.write(&mut store, init)
                .and_then(|(ptr, len)| {
                    set_fuel(&mut store, fuel);
                    init_export
                        .call(&mut *store, (ptr, len))
                        .map_err(|error| classify(&mut store, &error))
                })
                .map_err(|fault| explain(&store, exports::INIT, fault))?;
        }
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
        self.lock().data().broken.is_some()
    }

    /// Runs one request (encoded) through the plugin, and copies its response out. Dropping
    /// the future cancels the request: its task is dropped inside the plugin.
    pub async fn dispatch(self: &Arc<Self>, request: &[u8], depth: u32) -> Result<Reply, Fault> {
        let task = {
            let mut store = self.lock();
            if store.data().broken.is_some() {
                // Another request broke it a moment ago: this one never ran.
                return Err(Fault::Lost { replayable: true });
            }
            let (ptr, len) = self
                .write(&mut store, request)
                .map_err(|fault| store.data_mut().break_down(fault))?;
            self.call(&mut store, |store, exports| {
                exports.start.call(store, (ptr, len))
            })?
        };
        let task = TaskGuard {
            instance: Arc::clone(self),
            task,
        };
        loop {
            let woken = {
                let mut store = self.lock();
                store.data_mut().depth = depth;
                store.data_mut().polling = task.task;
                let polled = self.call(&mut store, |store, exports| {
                    exports.poll.call(store, task.task)
                });
                store.data_mut().polling = 0;
                let frame = polled?;
                if let Some(fault) = store.data().broken.clone() {
                    return Err(fault); // broken by one of its imports during the poll
                }
                // Polling may have woken other tasks (a channel between requests, say).
                self.wake_woken(&mut store)?;
                if frame != abi::PENDING {
                    return self.read_frame(&mut store, frame);
                }
                let (wake, woken) = oneshot::channel();
                store.data_mut().waiters.insert(task.task, wake);
                woken
            };
            // Woken, another task may have broken the instance before this one is polled again.
            if woken.await.is_err() || self.is_broken() {
                let replayable = !self.lock().data().had_effects(task.task);
                return Err(Fault::Lost { replayable });
            }
        }
    }

    /// Hands the plugin the result of host operation `op`, unless it no longer wants it.
    pub fn complete(&self, op: u32, result: &[u8]) {
        let mut store = self.lock();
        if store.data_mut().finish_op(op) {
            self.deliver(&mut store, op, result);
        } // else cancelled meanwhile, or the instance was discarded
    }

    /// Delivers the refusals due.
    pub fn deliver_refusals(&self) {
        let mut store = self.lock();
        for (op, result) in store.data_mut().take_refusals() {
            self.deliver(&mut store, op, &result);
        }
    }

    fn deliver(&self, store: &mut Store<State>, op: u32, result: &[u8]) {
        if store.data().broken.is_some() {
            return;
        }
        let delivered = self.write(store, result).and_then(|(ptr, len)| {
            self.call(store, |store, exports| {
                exports.complete.call(store, (op, ptr, len))
            })
        });
        match delivered {
            // A fault while waking has already broken the instance down.
            Ok(()) => drop(self.wake_woken(store)),
            Err(fault) => drop(store.data_mut().break_down(fault)),
        }
    }

    /// One call into the plugin with the fuel of one call; a trap breaks the instance down.
    fn call<R>(
        &self,
        store: &mut Store<State>,
        call: impl FnOnce(&mut Store<State>, &Exports) -> wasmtime::Result<R>,
    ) -> Result<R, Fault> {
        let fuel = store.data().context.fuel;
        set_fuel(store, fuel);
        call(store, &self.exports).map_err(|error| {
            let fault = classify(store, &error);
            store.data_mut().break_down(fault)
        })
    }

    /// Copies bytes into memory the plugin allocates (and then owns).
    fn write(&self, store: &mut Store<State>, bytes: &[u8]) -> Result<(u32, u32), Fault> {
        let len = u32::try_from(bytes.len()).map_err(|_| Fault::Trap {
            panic: None,
            error: "a message larger than 4 GiB".into(),
        })?;
        let ptr = self.call(store, |store, exports| exports.alloc.call(store, len))?;
        if ptr == 0 && len > 0 && store.data().memory.refused {
            return Err(Fault::OutOfMemory);
        }
        if ptr == 0 && len > 0 {
            // Address 0 is never a live allocation: writing there would corrupt the plugin.
            return Err(Fault::Violation(format!(
                "valor_alloc returned 0 for {len} bytes (out of memory?)"
            )));
        }
        self.exports
            .memory
            .write(&mut *store, ptr as usize, bytes)
            .map_err(|_| out_of_bounds(ptr, len))?;
        Ok((ptr, len))
    }

    /// Hands every task the plugin reports woken to the dispatch waiting for it.
    fn wake_woken(&self, store: &mut Store<State>) -> Result<(), Fault> {
        for _ in 0..MAX_WOKEN_PER_DRAIN {
            match self.call(store, |store, exports| exports.woken.call(store, ()))? {
                0 => return Ok(()),
                task => {
                    if let Some(waiter) = store.data_mut().waiters.remove(&task) {
                        let _ = waiter.send(());
                    }
                }
            }
        }
        Err(store
            .data_mut()
            .break_down(Fault::Violation(limits::woken_never_ends())))
    }

    /// Reads a response frame: a little-endian `u32` length, then the encoded response.
    fn read_frame(&self, store: &mut Store<State>, frame: u32) -> Result<Reply, Fault> {
        let memory = self.exports.memory.data(&*store);
        let context = &store.data().context;
        let at = frame as usize;
        let len_bytes = memory
            .get(at..at.saturating_add(4))
            .ok_or_else(|| out_of_bounds(frame, 4))?;
        let len = u32::from_le_bytes(len_bytes.try_into().expect("four bytes"));
        if len > context.max_message_bytes() {
            return Err(Fault::TooLarge(len)); // never copied out of plugin memory
        }
        let encoded = memory
            .get(at + 4..at + 4 + len as usize)
            .ok_or_else(|| out_of_bounds(frame + 4, len))?;
        // The head from the frame's first bytes; the whole frame only if its head is longer.
        let prefix = encoded[..encoded.len().min(HEAD_PREFIX_BYTES as usize)].to_vec();
        let mut head = FrameHead::parse(prefix, len);
        if matches!(head, Ok(None)) {
            head = FrameHead::parse(encoded.to_vec(), len);
        }
        let head = head.map_err(Fault::BadFrame)?.ok_or_else(|| {
            Fault::BadFrame(format!("the response frame of {len} bytes is truncated"))
        })?;
        let body = &encoded[head.body.start as usize..];
        if body.len() as u64 > u64::from(context.max_body_bytes) {
            return Err(Fault::TooLarge(body.len() as u32));
        }
        Ok(Reply {
            status: head.status,
            headers: head
                .headers
                .iter()
                .map(|(name, value)| {
                    (
                        head.bytes[name.clone()].to_vec(),
                        head.bytes[value.clone()].to_vec(),
                    )
                })
                .collect(),
            body: body.to_vec(),
        })
    }
}

/// Drops the plugin's task when its dispatch ends, however it ends (answer, timeout).
struct TaskGuard {
    instance: Arc<Instance>,
    task: u32,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        let mut store = self.instance.lock();
        let state = store.data_mut();
        state.waiters.remove(&self.task);
        state.effects.remove(&self.task);
        if state.broken.is_none() {
            let task = self.task;
            let _ = self
                .instance
                .call(&mut store, |store, exports| exports.drop.call(store, task));
        }
    }
}

/// Sets the fuel of one call: the entry's `fuel`, or as good as none for an unmetered plugin.
fn set_fuel(store: &mut Store<State>, fuel: Option<u64>) {
    let _ = store.set_fuel(fuel.unwrap_or(u64::MAX));
}

/// Why a call failed: fuel used up, memory refused, a panic, or another trap.
fn classify(store: &mut Store<State>, error: &wasmtime::Error) -> Fault {
    if error.downcast_ref::<Trap>() == Some(&Trap::OutOfFuel) {
        return Fault::OutOfFuel;
    }
    let state = store.data_mut();
    let panic = state.panic_message.take();
    if panic.is_none() && state.memory.refused {
        return Fault::OutOfMemory;
    }
    Fault::Trap {
        panic,
        error: describe(error),
    }
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

fn out_of_bounds(ptr: u32, len: u32) -> Fault {
    Fault::BadFrame(format!(
        "{len} bytes at address {ptr} lie outside its memory"
    ))
}
