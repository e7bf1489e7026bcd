//! One instance of a native plugin: the protocol core's [`Guest`](valor_host::guest::Guest)
//! over a shared library's C functions (its third host, after the browser's and wasmtime's).
//!
//! A library has one set of statics, so it serves one instance at a time: a new instance (after
//! a panic failed the last one) binds the library again, which drops the SDK's tasks of the
//! last one; the plugin's own statics are kept. Every call is made on the library's thread
//! ([`PluginThread`](super::thread::PluginThread)), one at a time.

use super::imports::{self, Context};
use super::library::{Exports, Library};
use super::thread;
use crate::host::PluginContext;
use crate::plugin;
use crate::reply::Reply;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use valor_abi::exports;
use valor_host::bodies::Source;
use valor_host::fault::Fault;
use valor_host::guest::{self, Address, Answer, Instance as _};
use valor_host::streamed::{self, Limits};

/// A bound, initialised instance of a native plugin.
pub struct NativeInstance {
    library: Arc<Library>,
    /// What the plugin's imports reach, at an address that stays put while it is bound.
    context: Arc<Context>,
    /// Held for each step of a dispatch: calls never overlap. Holds where the last response
    /// frame lies, the only plugin memory the host reads.
    calls: Mutex<Option<(Address, u64)>>,
}

impl NativeInstance {
    /// Binds `library` to a new instance of the plugin of `plugin`, and initialises it with
    /// `init`, on the library's thread.
    pub async fn new(
        library: &Arc<Library>,
        plugin: Arc<PluginContext>,
        init: Arc<[u8]>,
    ) -> Result<Arc<Self>, String> {
        let on_thread = Arc::clone(library);
        let thread = library.thread.run(async move {
            let library = on_thread;
            let context = Arc::new(Context::new(plugin));
            let this = Arc::new(Self {
                library,
                context,
                calls: Mutex::new(None),
            });
            let instance: std::sync::Weak<NativeInstance> = Arc::downgrade(&this);
            this.context.attach(instance);
            let mut bound = this.library.bound();
            let last = bound.upgrade();
            if last.is_some_and(|last| !imports::lock(&last.table).is_broken()) {
                return Err(ONE_INSTANCE.to_owned());
            }
            // Bound from here on, so that dropping it unbinds the library even if binding
            // failed half-way.
            *bound = Arc::downgrade(&this.context);
            this.call_bind()?;
            drop(bound);
            let mut entered = this.enter();
            guest::calls::init(&mut entered, &init).map_err(|fault| {
                fault.explain(exports::INIT, None, this.context.plugin.memory_mb)
            })?;
            drop(entered);
            Ok(this)
        });
        thread
            .await
            .unwrap_or_else(|_| Err("the plugin's thread ended".into()))
    }

    /// Whether a call panicked (the instance must be replaced).
    pub fn is_broken(&self) -> bool {
        imports::lock(&self.context.table).is_broken()
    }

    /// Runs one request (encoded; `body`, the body it reads as a stream, if it does) through the
    /// plugin, on its thread, and copies its response out. Dropping the future cancels the request: its task is dropped inside the plugin.
    pub async fn dispatch(
        self: &Arc<Self>,
        request: &[u8],
        body: Option<&Arc<Source>>,
        depth: u32,
        limits: &Arc<Limits>,
    ) -> Result<Reply, Fault> {
        let (this, request, limits) = (Arc::clone(self), request.to_vec(), Arc::clone(limits));
        let body = body.cloned();
        let dispatch = async move {
            let answer = guest::dispatch(Arc::clone(&this), &request[..], body.as_ref(), depth);
            let answer = answer.await?;
            Ok(Self::reply(answer, &limits))
        };
        if self.library.thread.is_current() {
            // A plugin fetching itself: already on its thread.
            return dispatch.await;
        }
        let answer = self.library.thread.run(dispatch).await;
        answer.unwrap_or(Err(Fault::Lost { replayable: true }))
    }

    /// The reply for `answer`, made on the plugin's thread. Every later call into the plugin
    /// must be made there too: a streamed body's chunks are pulled on the thread and handed
    /// over one at a time (so the client still paces the plugin), and work after the answer
    /// runs there.
    fn reply(answer: Answer<Arc<Self>>, limits: &Limits) -> Reply {
        match answer {
            Answer::Whole { frame, after } => {
                if let Some(task) = after {
                    plugin::keep(task, limits.clone());
                }
                Reply::from_frame(frame)
            }
            Answer::Streamed { head, body } => {
                let event_stream = streamed::is_event_stream(&head);
                let (after, limits) = (limits.clone(), limits.clone());
                let (sleep, log) = (plugin::sleep, plugin::log);
                let chunks = streamed::body(body, event_stream, limits, sleep, log, |task| {
                    plugin::keep(task, after)
                });
                Reply::streamed(head, thread::pump(chunks))
            }
        }
    }

    /// `valor_native_bind` with this instance's table.
    fn call_bind(&self) -> Result<(), String> {
        let host = self.context.host();
        self.call(|exports| unsafe { (exports.bind)(&host) })
            .map_err(|fault| fault.explain(valor_abi::native::BIND, None, 0))
    }

    /// One call into the library: a panic it caught at its boundary is this call's fault.
    fn call<R>(&self, call: impl FnOnce(&Exports) -> R) -> Result<R, Fault> {
        debug_assert!(self.library.thread.is_current(), "called off its thread");
        self.context.trapped.store(false, Ordering::Relaxed);
        let value = call(&self.library.exports);
        if !self.context.trapped.swap(false, Ordering::Relaxed) {
            return Ok(value);
        }
        Err(Fault::Trap {
            panic: imports::lock(&self.context.table).take_panic(),
            error: "it panicked (the panic was caught where the call entered the plugin)".into(),
        })
    }
}

const ONE_INSTANCE: &str = "a native plugin serves one instance at a time (its library's \
                            statics are shared), and its instance is live";

impl Drop for NativeInstance {
    fn drop(&mut self) {
        // Unbound if it is still the library's instance, so that nothing the plugin keeps
        // points at this table; a newer instance keeps its own binding.
        let mut bound = self.library.bound();
        if std::ptr::eq(bound.as_ptr(), Arc::as_ptr(&self.context)) {
            // SAFETY: a null table unbinds; no task is touched (any thread may do it).
            unsafe { (self.library.exports.bind)(std::ptr::null()) };
            *bound = std::sync::Weak::new();
        }
    }
}

/// The instance, locked for one step of the protocol.
pub struct Entered<'a> {
    instance: &'a NativeInstance,
    /// Where the last frame the plugin returned lies (address, length).
    frame: MutexGuard<'a, Option<(Address, u64)>>,
}

impl guest::Instance for NativeInstance {
    type Request = [u8];
    type Body = Vec<u8>;
    type Guest<'a> = Entered<'a>;

    fn body_len(body: &Vec<u8>) -> u64 {
        body.len() as u64
    }

    fn enter(&self) -> Entered<'_> {
        Entered {
            instance: self,
            frame: imports::lock(&self.calls),
        }
    }
}

/// An address as the library's C functions take it.
fn pointer(ptr: Address) -> *mut u8 {
    ptr as usize as *mut u8
}

impl guest::Guest for Entered<'_> {
    type Request = [u8];
    type Body = Vec<u8>;

    fn table<R>(&mut self, use_table: impl FnOnce(&mut guest::Table) -> R) -> R {
        use_table(&mut imports::lock(&self.instance.context.table))
    }

    fn alloc(&mut self, len: u32) -> Result<Address, Fault> {
        // SAFETY (each call below): the functions of a library that passed the ABI checks,
        // called on its thread, one at a time, with what the protocol hands each.
        self.instance
            .call(|exports| unsafe { (exports.alloc)(len) } as usize as Address)
    }

    fn init(&mut self, ptr: Address, len: u32) -> Result<(), Fault> {
        self.instance
            .call(|exports| unsafe { (exports.init)(pointer(ptr), len) })
    }

    fn start(&mut self, ptr: Address, len: u32) -> Result<u32, Fault> {
        self.instance
            .call(|exports| unsafe { (exports.start)(pointer(ptr), len) })
    }

    fn poll(&mut self, task: u32) -> Result<Address, Fault> {
        let frame = self
            .instance
            .call(|exports| unsafe { (exports.poll)(task) })?;
        if frame.is_null() {
            return Ok(Address::from(valor_abi::PENDING));
        }
        // The frame is the plugin's: its length first, then that many bytes.
        // SAFETY: a non-null frame address points at a frame, valid until `valor_drop`.
        let len = unsafe { frame.cast::<[u8; 4]>().read_unaligned() };
        let address = frame as usize as Address;
        *self.frame = Some((address, 4 + u64::from(u32::from_le_bytes(len))));
        Ok(address)
    }

    fn complete(&mut self, op: u32, ptr: Address, len: u32) -> Result<(), Fault> {
        self.instance
            .call(|exports| unsafe { (exports.complete)(op, pointer(ptr), len) })
    }

    fn woken(&mut self) -> Result<u32, Fault> {
        self.instance.call(|exports| unsafe { (exports.woken)() })
    }

    fn drop_task(&mut self, task: u32) -> Result<(), Fault> {
        self.instance
            .call(|exports| unsafe { (exports.drop)(task) })
    }

    fn write(&mut self, ptr: Address, bytes: &[u8]) -> Result<(), Fault> {
        // SAFETY: `ptr` is what `valor_alloc(bytes.len())` just returned (non-null, checked by
        // the core): `bytes.len()` writable bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), pointer(ptr), bytes.len()) };
        Ok(())
    }

    fn request_len(request: &[u8]) -> u32 {
        u32::try_from(request.len()).unwrap_or(u32::MAX)
    }

    fn write_request(&mut self, ptr: Address, request: &[u8]) -> Result<(), Fault> {
        self.write(ptr, request)
    }

    /// A native plugin's memory is the server's: the host reads only the last frame it was
    /// handed, within its own length.
    fn readable(&mut self, ptr: Address) -> u64 {
        match *self.frame {
            Some((start, len)) if (start..start + len).contains(&ptr) => start + len - ptr,
            _ => 0,
        }
    }

    fn read(&mut self, ptr: Address, len: u32) -> Vec<u8> {
        // SAFETY: inside the last frame (the core checked `readable`), which the plugin keeps
        // until it drops the task.
        unsafe { std::slice::from_raw_parts(pointer(ptr), len as usize) }.to_vec()
    }

    fn read_body(&mut self, ptr: Address, len: u32) -> Vec<u8> {
        self.read(ptr, len)
    }

    /// No engine caps a native plugin's memory (its entry's `memory_mb` does not apply).
    fn growth_refused(&mut self) -> bool {
        false
    }
}
