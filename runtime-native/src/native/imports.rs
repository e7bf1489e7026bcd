//! The functions a native plugin imports, as the C function pointers of its table
//! (`valor_abi::native::Host`): the same host operations as a WebAssembly plugin's imports,
//! reading the plugin's bytes straight from its pointers. They run inside a call into the
//! plugin, on its thread, never call back into it, and never unwind.

use crate::host::operations::{self, Deliver};
use crate::host::{self, kv, outbound, PluginContext};
use std::ffi::c_void;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use valor_abi::native::Host;
use valor_abi::ABI_VERSION;
use valor_host::guest::Table;
use valor_host::limits;

/// What an instance's imports reach through the table's context pointer.
pub struct Context {
    /// The plugin's context: its entry's limits, its store, its allowlist.
    pub plugin: Arc<PluginContext>,
    /// Its host operations, as the protocol core keeps them.
    pub table: Mutex<Table>,
    /// A panic message reported during the current call.
    pub panic_message: Mutex<Option<String>>,
    /// Set when the plugin caught a panic at its boundary: the current call failed.
    pub trapped: AtomicBool,
    /// The instance: finished operations deliver their results to it.
    instance: OnceLock<Weak<dyn Deliver>>,
}

impl Context {
    pub fn new(plugin: Arc<PluginContext>) -> Self {
        Self {
            table: Mutex::new(Table::new(&plugin.name, plugin.max_body_bytes)),
            plugin,
            panic_message: Mutex::new(None),
            trapped: AtomicBool::new(false),
            instance: OnceLock::new(),
        }
    }

    /// The instance its operations deliver to.
    pub fn attach(&self, instance: Weak<dyn Deliver>) {
        let _ = self.instance.set(instance);
    }

    /// The table the plugin is bound with: these functions, and this context.
    pub fn host(self: &Arc<Self>) -> Host {
        Host {
            abi_version: ABI_VERSION,
            context: Arc::as_ptr(self).cast_mut().cast(),
            panic,
            log,
            now,
            random,
            sleep,
            fetch,
            kv,
            cancel,
            trapped,
        }
    }

    /// Starts a host operation and returns its id; its result is delivered when it finishes
    /// (on the plugin's thread, whose runtime runs it). Past the quota it is refused instead.
    fn start_op(&self, operation: impl Future<Output = Vec<u8>> + Send + 'static) -> u32 {
        let started = lock(&self.table).start_op();
        operations::start(started, self.instance(), operation)
    }

    /// An operation refused before it starts: its failure is delivered after the current call.
    fn refuse(&self, why: Arc<str>) -> u32 {
        let started = lock(&self.table).refuse(why);
        operations::refused(&started, self.instance())
    }

    fn instance(&self) -> &Weak<dyn Deliver> {
        // Attached as soon as the instance exists, before the plugin is bound and can call in.
        self.instance
            .get()
            .expect("an instance attached to its context")
    }

    /// Why a message of `len` bytes is refused, if it is more than the plugin may hand over.
    fn too_large(&self, what: &str, len: u32) -> Option<Arc<str>> {
        let plugin = &self.plugin;
        limits::message_too_large(&plugin.name, plugin.max_body_bytes, what, len).map(Into::into)
    }
}

/// Locks one of the context's parts; a panic of the server while it held the lock left it as
/// it was.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs an import's body with its context; nothing unwinds into the plugin (a panic of the
/// server's code is logged, and the import does nothing).
fn with<R: Default>(context: *mut c_void, body: impl FnOnce(&Context) -> R) -> R {
    // SAFETY: the plugin passes back the context of the table it was bound with; the
    // instance keeps it alive and unbinds the library before letting it go.
    let context = unsafe { &*context.cast::<Context>() };
    catch_unwind(AssertUnwindSafe(|| body(context))).unwrap_or_else(|_| {
        tracing::error!(plugin = %context.plugin.name, "a native plugin's import failed");
        R::default()
    })
}

/// `len` bytes at `ptr`, copied (empty for a null pointer).
///
/// # Safety
/// `ptr..ptr + len` is readable, as the plugin promises for the duration of the import.
unsafe fn bytes(ptr: *const u8, len: u32) -> Vec<u8> {
    if ptr.is_null() {
        return Vec::new();
    }
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts(ptr, len as usize) }.to_vec()
}

/// A log line or panic message: at most `MAX_TEXT_BYTES` of it are read.
unsafe fn text(ptr: *const u8, len: u32) -> String {
    // SAFETY: guaranteed by the caller; fewer bytes than `len` are read.
    valor_host::result::text(len, |kept| unsafe { bytes(ptr, kept) })
}

unsafe extern "C" fn panic(context: *mut c_void, ptr: *const u8, len: u32) {
    with(context, |context| {
        // SAFETY: the plugin's message, readable for the call.
        *lock(&context.panic_message) = Some(unsafe { text(ptr, len) });
    })
}

unsafe extern "C" fn log(context: *mut c_void, level: u32, ptr: *const u8, len: u32) {
    with(context, |context| {
        // SAFETY: as for `panic`.
        host::log(&context.plugin.name, level, &unsafe { text(ptr, len) });
    })
}

unsafe extern "C" fn now(context: *mut c_void) -> f64 {
    with(context, |_| host::now())
}

unsafe extern "C" fn random(context: *mut c_void, ptr: *mut u8, len: u32) {
    with(context, |context| {
        let filled = !ptr.is_null()
            && len <= host::MAX_RANDOM_BYTES
            // SAFETY: the plugin's buffer, writable for the call.
            && getrandom::fill(unsafe { std::slice::from_raw_parts_mut(ptr, len as usize) })
                .is_ok();
        if !filled {
            // Never hand out predictable bytes silently: the plugin must not use them.
            tracing::error!(plugin = %context.plugin.name, "random: could not fill {len} bytes");
        }
    })
}

unsafe extern "C" fn sleep(context: *mut c_void, ms: f64) -> u32 {
    with(context, |context| {
        context.start_op(async move {
            host::sleep(ms).await;
            vec![valor_abi::outcome::OK]
        })
    })
}

unsafe extern "C" fn fetch(context: *mut c_void, ptr: *const u8, len: u32) -> u32 {
    with(context, |context| {
        if let Some(why) = context.too_large("an outbound request", len) {
            return context.refuse(why);
        }
        // SAFETY: the plugin's encoded request, readable for the call.
        let request = unsafe { bytes(ptr, len) };
        let depth = {
            let mut table = lock(&context.table);
            table.record_effect();
            table.depth()
        };
        context.start_op(outbound::fetch(Arc::clone(&context.plugin), request, depth))
    })
}

unsafe extern "C" fn kv(context: *mut c_void, ptr: *const u8, len: u32) -> u32 {
    with(context, |context| {
        if let Some(why) = context.too_large("a storage command", len) {
            return context.refuse(why);
        }
        // SAFETY: the plugin's storage command, readable for the call.
        let command = unsafe { bytes(ptr, len) };
        lock(&context.table).record_effect();
        context.start_op(kv::run(Arc::clone(&context.plugin), command))
    })
}

unsafe extern "C" fn cancel(context: *mut c_void, op: u32) {
    with(context, |context| lock(&context.table).cancel_op(op))
}

unsafe extern "C" fn trapped(context: *mut c_void) {
    with(context, |context| {
        context
            .trapped
            .store(true, std::sync::atomic::Ordering::Relaxed)
    })
}
