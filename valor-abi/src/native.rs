//! Native plugins: the same protocol, with the plugin built as a shared library for the host's
//! own platform (a `cdylib` for the host target) instead of a WebAssembly module. Only a
//! server host loads them, and only when told to trust them (PROTOCOL.md, "Native plugins").
//!
//! The exports keep their names ([`exports`](super::exports)) and become C functions; addresses
//! are real pointers (`*mut u8`, 64-bit on 64-bit platforms), lengths stay `u32`:
//!
//! ```text
//! u32   valor_abi_version(void);
//! void  valor_native_bind(const Host *host);
//! void  valor_init(uint8_t *ptr, uint32_t len);
//! u8   *valor_alloc(uint32_t len);
//! u32   valor_start(uint8_t *ptr, uint32_t len);
//! u8   *valor_poll(uint32_t task);          // NULL for PENDING
//! void  valor_drop(uint32_t task);
//! void  valor_complete(uint32_t op, uint8_t *ptr, uint32_t len);
//! u32   valor_woken(void);
//! ```
//!
//! There is no memory export, and the imports cannot be linked by name: the host hands the
//! plugin a [`Host`] table of C function pointers, with a context pointer, through
//! `valor_native_bind`, before any other call but `valor_abi_version`.

use core::ffi::c_void;

/// The endings of a manifest entry's `url` (its path, before any query) that name a native
/// plugin: a shared library of Linux, macOS or Windows.
pub const EXTENSIONS: [&str; 3] = [".so", ".dylib", ".dll"];

/// `(host: *const Host)`: the export a native plugin has besides those of
/// [`exports`](super::exports). Called once per instance, right after `valor_abi_version`; the
/// table and its context stay valid until the host calls it again (a new instance) or drops
/// the plugin. The plugin keeps a copy of the table.
pub const BIND: &str = "valor_native_bind";

/// The imports of [`imports`](super::imports) as C function pointers, each taking the table's
/// [`context`](Host::context) first. None of them unwinds or calls back into the plugin.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Host {
    /// The [`ABI_VERSION`](super::ABI_VERSION) the host speaks; a plugin of another version
    /// was refused before it was bound.
    pub abi_version: u32,
    /// The host's pointer for this instance, passed back to every function below.
    pub context: *mut c_void,
    /// `panic`: the message of a panic (`len` bytes at `ptr`), reported as the panic starts.
    pub panic: unsafe extern "C" fn(context: *mut c_void, ptr: *const u8, len: u32),
    /// `log`: one log line, at a `log::Level` (1 error .. 5 trace).
    pub log: unsafe extern "C" fn(context: *mut c_void, level: u32, ptr: *const u8, len: u32),
    /// `now`: milliseconds since the Unix epoch.
    pub now: unsafe extern "C" fn(context: *mut c_void) -> f64,
    /// `random`: fills `len` bytes (at most 65,536) at `ptr` with secure random bytes.
    pub random: unsafe extern "C" fn(context: *mut c_void, ptr: *mut u8, len: u32),
    /// `sleep`: starts a timer of `ms` milliseconds; returns its operation id.
    pub sleep: unsafe extern "C" fn(context: *mut c_void, ms: f64) -> u32,
    /// `fetch`: starts an outbound request (an encoded request); returns its operation id.
    pub fetch: unsafe extern "C" fn(context: *mut c_void, ptr: *const u8, len: u32) -> u32,
    /// `kv`: starts a storage command; returns its operation id.
    pub kv: unsafe extern "C" fn(context: *mut c_void, ptr: *const u8, len: u32) -> u32,
    /// `cancel`: the plugin no longer wants operation `op`.
    pub cancel: unsafe extern "C" fn(context: *mut c_void, op: u32),
    /// Called by the plugin when one of its exports caught a panic at its C boundary, just
    /// before that export returns: the call failed, as a trap fails a WebAssembly call, and the
    /// host treats the instance as trapped (with the message `panic` reported, if any).
    pub trapped: unsafe extern "C" fn(context: *mut c_void),
    /// `read` (ABI 4): starts reading the next bytes of streamed body `body`; returns its
    /// operation id. (The fields from here on were added with streamed request bodies: they
    /// come last, so that a plugin that does not read them keeps working.)
    pub read: unsafe extern "C" fn(context: *mut c_void, body: u32) -> u32,
    /// `close` (ABI 4): the plugin reads no more of streamed body `body`.
    pub close: unsafe extern "C" fn(context: *mut c_void, body: u32),
    /// `fetch_stream` (ABI 4): starts an outbound request whose response body is streamed;
    /// returns its operation id.
    pub fetch_stream: unsafe extern "C" fn(context: *mut c_void, ptr: *const u8, len: u32) -> u32,
}

// SAFETY: the table is plain function pointers and an opaque context that only the host
// dereferences; a host calls a plugin from one thread at a time (PROTOCOL.md).
unsafe impl Send for Host {}
// SAFETY: as above; the plugin only reads the table.
unsafe impl Sync for Host {}

/// Whether a manifest entry's `url` names a native plugin: its path (before `?` or `#`) ends in
/// one of [`EXTENSIONS`], in any case.
pub fn is_native_url(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let path = path.to_ascii_lowercase();
    EXTENSIONS.iter().any(|extension| path.ends_with(extension))
}

#[cfg(test)]
mod tests {
    use super::is_native_url;

    #[test]
    fn shared_libraries_are_named_by_their_ending() {
        for native in [
            "plugins/libhello.so",
            "/opt/hello.DYLIB",
            "hello.dll?v=2",
            "file:///x/libecho.so#top",
        ] {
            assert!(is_native_url(native), "{native}");
        }
        for not in [
            "plugins/hello.wasm",
            "hello.so.wasm",
            "hello.js",
            "so",
            "https://example.com/x?file=a.so",
        ] {
            assert!(!is_native_url(not), "{not}");
        }
    }
}
