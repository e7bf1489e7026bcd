//! The functions a native plugin imports, as the C function pointers of its table
//! (`valor_abi::native::Host`): the same imports as a WebAssembly plugin's (those the protocol
//! core writes, `valor_host::guest::imports`, reach the instance through [`Inside`]), reading
//! the plugin's bytes straight from its pointers. They run inside a call into the plugin, on
//! its thread, never call back into it, and never unwind.

use crate::host::operations::{self, Deliver};
use crate::host::{self, PluginContext};
use futures::future::AbortRegistration;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use valor_abi::native::Host;
use valor_abi::ABI_VERSION;
use valor_host::guest::imports::{self as import, Operation};
use valor_host::guest::{Address, Table};

/// What an instance's imports reach through the table's context pointer.
pub struct Context {
    /// The plugin's context: its entry's limits, its store, its allowlist.
    pub plugin: Arc<PluginContext>,
    /// Its host operations, as the protocol core keeps them.
    pub table: Mutex<Table>,
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
            read,
            close,
            fetch_stream,
        }
    }

    fn instance(&self) -> &Weak<dyn Deliver> {
        // Attached as soon as the instance exists, before the plugin is bound and can call in.
        self.instance
            .get()
            .expect("an instance attached to its context")
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
fn with<R: Default>(context: *mut c_void, body: impl FnOnce(&mut Inside) -> R) -> R {
    // SAFETY: the plugin passes back the context of the table it was bound with; the
    // instance keeps it alive and unbinds the library before letting it go.
    let context = unsafe { &*context.cast::<Context>() };
    catch_unwind(AssertUnwindSafe(|| body(&mut Inside(context)))).unwrap_or_else(|_| {
        tracing::error!(plugin = %context.plugin.name, "a native plugin's import failed");
        R::default()
    })
}

/// The instance, as the imports the protocol core writes reach it during a call into it.
/// Made only by the functions below, for the pointers the plugin hands them.
struct Inside<'a>(&'a Context);

impl import::Host for Inside<'_> {
    type Bindings = host::Bindings;

    fn context(&self) -> &PluginContext {
        &self.0.plugin
    }

    fn table<R>(&mut self, use_table: impl FnOnce(&mut Table) -> R) -> R {
        use_table(&mut lock(&self.0.table))
    }

    /// `len` bytes at `ptr`, copied (empty for a null pointer).
    fn read(&mut self, ptr: Address, len: u32) -> Vec<u8> {
        if ptr == 0 {
            return Vec::new();
        }
        // SAFETY: the core reads only what the plugin handed the import being run (at most
        // `len` bytes at `ptr`), which it promises are readable for the duration of the call.
        unsafe { std::slice::from_raw_parts(pointer(ptr), len as usize) }.to_vec()
    }

    fn spawn(&mut self, op: u32, run: AbortRegistration, operation: Operation) {
        let context = self.0;
        operations::spawn(&context.plugin, context.instance(), op, run, operation);
    }

    fn deliver_refusals_later(&mut self) {
        operations::deliver_refusals_later(self.0.instance());
    }

    fn fill_random(&mut self, ptr: Address, len: u32) -> bool {
        if ptr == 0 {
            return false;
        }
        // SAFETY: the plugin's buffer, which it promises is writable for the call.
        let bytes = unsafe { std::slice::from_raw_parts_mut(pointer(ptr), len as usize) };
        getrandom::fill(bytes).is_ok()
    }

    fn log(&mut self, level: u32, line: &str) {
        host::log(&self.0.plugin.name, level, line);
    }
}

/// A pointer the plugin handed an import, as the core takes it.
fn address<T>(ptr: *const T) -> Address {
    ptr as usize as Address
}

/// A pointer the core hands back: one the plugin handed the import being run.
fn pointer(ptr: Address) -> *mut u8 {
    ptr as usize as *mut u8
}

unsafe extern "C" fn panic(context: *mut c_void, ptr: *const u8, len: u32) {
    with(context, |host| import::panic(host, address(ptr), len))
}

unsafe extern "C" fn log(context: *mut c_void, level: u32, ptr: *const u8, len: u32) {
    with(context, |host| import::log(host, level, address(ptr), len))
}

unsafe extern "C" fn now(context: *mut c_void) -> f64 {
    with(context, |_| host::now())
}

unsafe extern "C" fn random(context: *mut c_void, ptr: *mut u8, len: u32) {
    with(context, |host| import::random(host, address(ptr), len))
}

unsafe extern "C" fn sleep(context: *mut c_void, ms: f64) -> u32 {
    with(context, |host| import::sleep(host, ms))
}

unsafe extern "C" fn fetch(context: *mut c_void, ptr: *const u8, len: u32) -> u32 {
    with(context, |host| import::fetch(host, address(ptr), len))
}

unsafe extern "C" fn kv(context: *mut c_void, ptr: *const u8, len: u32) -> u32 {
    with(context, |host| import::kv(host, address(ptr), len))
}

unsafe extern "C" fn cancel(context: *mut c_void, op: u32) {
    with(context, |host| import::cancel(host, op))
}

unsafe extern "C" fn read(context: *mut c_void, body: u32) -> u32 {
    with(context, |host| import::read(host, body))
}

unsafe extern "C" fn close(context: *mut c_void, body: u32) {
    with(context, |host| import::close(host, body))
}

unsafe extern "C" fn fetch_stream(context: *mut c_void, ptr: *const u8, len: u32) -> u32 {
    with(context, |host| {
        import::fetch_stream(host, address(ptr), len)
    })
}

unsafe extern "C" fn trapped(context: *mut c_void) {
    with(context, |Inside(context)| {
        context
            .trapped
            .store(true, std::sync::atomic::Ordering::Relaxed)
    })
}
