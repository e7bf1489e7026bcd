//! A native plugin's shared library, loaded as a private copy: its exports found, its ABI
//! version checked, and the one thread every call into it is made on.
//!
//! A library's statics exist once per process, and loading the same path twice gives the same
//! library. So each plugin loads its own copy of the file (written to a private temporary
//! directory, removed once loaded): two entries mounting one library (Alice and Bob) keep
//! their state apart, as two instances of one `.wasm` do.

use super::imports::Context;
use super::thread::PluginThread;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use valor_abi::{exports, native};
use valor_host::guest::exports as checks;

/// The C functions a native plugin exports (`valor_abi::native`).
#[derive(Clone, Copy)]
pub(super) struct Exports {
    pub bind: unsafe extern "C" fn(host: *const native::Host),
    pub init: unsafe extern "C" fn(ptr: *mut u8, len: u32),
    pub alloc: unsafe extern "C" fn(len: u32) -> *mut u8,
    pub start: unsafe extern "C" fn(ptr: *mut u8, len: u32) -> u32,
    pub poll: unsafe extern "C" fn(task: u32) -> *const u8,
    pub drop: unsafe extern "C" fn(task: u32),
    pub complete: unsafe extern "C" fn(op: u32, ptr: *mut u8, len: u32),
    pub woken: unsafe extern "C" fn() -> u32,
}

/// A loaded native plugin: its code stays mapped as long as this lives.
pub struct Library {
    pub(super) exports: Exports,
    /// The thread every call into the library is made on: its `thread_local!` values (the
    /// SDK's tasks, a plugin's own) are those of one thread, as in a WebAssembly instance.
    pub(super) thread: PluginThread,
    /// The context of the instance the library is bound to: one at a time (it has one set of
    /// statics). It lives as long as its instance.
    bound: Mutex<Weak<Context>>,
    /// Dropped last: nothing of the library is called after it is closed.
    _library: libloading::Library,
}

impl Library {
    /// Loads `bytes` (the file at `url`) as a private copy, for the plugin `name`, and checks
    /// its ABI version (one that reads streamed bodies, if its entry sets `stream_requests`) and
    /// exports.
    pub fn load(
        name: &str,
        url: &str,
        bytes: &[u8],
        stream_requests: bool,
    ) -> Result<Arc<Self>, String> {
        let library = open_copy(url, bytes)?;
        let version = symbol::<unsafe extern "C" fn() -> u32>(&library, exports::ABI_VERSION)
            .ok_or_else(checks::not_a_plugin)?;
        // SAFETY: `valor_abi_version` takes nothing and returns a number (a plugin built with
        // vlugin returns a constant); the library is trusted code (--allow-native-plugins).
        let version = unsafe { version() };
        checks::check_version(Some(version), &version.to_string())?;
        checks::check_streams_requests(version, name, stream_requests)?;
        checks::check_present(|name| {
            name == exports::MEMORY || symbol::<unsafe extern "C" fn()>(&library, name).is_some()
        })?;
        macro_rules! export {
            ($name:expr) => {
                symbol(&library, $name).ok_or_else(|| {
                    format!(
                        "the library does not export `{}`: build it with #[vlugin] of a vlugin \
                         release that builds native plugins",
                        $name
                    )
                })?
            };
        }
        let exports = Exports {
            bind: export!(native::BIND),
            init: export!(exports::INIT),
            alloc: export!(exports::ALLOC),
            start: export!(exports::START),
            poll: export!(exports::POLL),
            drop: export!(exports::DROP),
            complete: export!(exports::COMPLETE),
            woken: export!(exports::WOKEN),
        };
        let thread = PluginThread::start(name)
            .map_err(|error| format!("starting the thread of {url} failed: {error}"))?;
        Ok(Arc::new(Self {
            exports,
            thread,
            bound: Mutex::new(Weak::new()),
            _library: library,
        }))
    }

    /// The context of the instance the library is bound to, locked.
    pub(super) fn bound(&self) -> MutexGuard<'_, Weak<Context>> {
        super::imports::lock(&self.bound)
    }
}

/// The function `name` of `library`, as the type `F` the ABI gives it (not checkable here: a
/// shared library's symbols carry no types).
fn symbol<F: Copy>(library: &libloading::Library, name: &str) -> Option<F> {
    // SAFETY: the caller names the type the ABI gives the symbol; the pointer is copied out
    // and used only while the library is loaded (`Library` keeps both).
    unsafe { library.get::<F>(name.as_bytes()).ok().map(|symbol| *symbol) }
}

/// Writes `bytes` to a private temporary file named like `url`'s, and loads it from there.
fn open_copy(url: &str, bytes: &[u8]) -> Result<libloading::Library, String> {
    let file_name = url
        .split(['?', '#'])
        .next()
        .and_then(|path| path.rsplit('/').next())
        .filter(|name| !name.is_empty())
        .unwrap_or("plugin.so");
    let directory = tempfile::Builder::new()
        .prefix("valor-native-")
        .tempdir()
        .map_err(|error| format!("copying {url} to a temporary directory failed: {error}"))?;
    let path = directory.path().join(file_name);
    std::fs::write(&path, bytes)
        .map_err(|error| format!("copying {url} to {} failed: {error}", path.display()))?;
    // SAFETY: loading runs the library's initialisers: a native plugin is trusted code, loaded
    // only when the server was started with --allow-native-plugins.
    let library = unsafe { open(&path) }.map_err(|error| {
        format!("{url} could not be loaded as a shared library for this platform: {error}")
    })?;
    // The copy is removed with its directory; the loaded code stays mapped.
    drop(directory);
    Ok(library)
}

/// Loads the library at `path` with every symbol resolved now and none made global, so that
/// plugins' symbols (they all export `valor_poll`) never meet.
#[cfg(unix)]
unsafe fn open(path: &std::path::Path) -> Result<libloading::Library, libloading::Error> {
    use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
    // SAFETY: guaranteed by the caller.
    unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL) }.map(Into::into)
}

#[cfg(not(unix))]
unsafe fn open(path: &std::path::Path) -> Result<libloading::Library, libloading::Error> {
    // SAFETY: guaranteed by the caller.
    unsafe { libloading::Library::new(path) }
}
