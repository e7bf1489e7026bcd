//! What `#[vlugin]` expands to call: the implementations of the plugin's exports.
//! Not a public API; see `valor_abi` for the contract these functions fulfil.

#[cfg(not(target_arch = "wasm32"))]
mod bound;
pub(crate) mod going;
pub(crate) mod host;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
pub(crate) mod ops;
pub(crate) mod tasks;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

use crate::response::encoded_text;
use crate::{IntoResponse, Request};
use http::StatusCode;
use std::alloc::Layout;
use std::future::Future;
use valor_abi::codec;

pub use valor_abi::ABI_VERSION;

/// `valor_init`: takes the plugin's init message (config, mount and origin at `ptr`, from
/// [`alloc`]), makes panics report their message before the instance traps, and routes the
/// `log` facade to the console.
///
/// # Safety
/// As for [`start`].
pub unsafe fn init(ptr: *mut u8, len: u32) {
    std::panic::set_hook(Box::new(|info| host::report_panic(&info.to_string())));
    crate::logger::install();
    // SAFETY: guaranteed by the caller.
    let message = unsafe { take_bytes(ptr, len) };
    // A host that sends no valid message breaks the protocol: the panic traps the instance,
    // and the host reports the message.
    // (No `{error}` in the message: formatting the decoder's errors would add kilobytes to
    // every plugin for a message no conforming host causes.)
    let Ok(init) = valor_abi::init::Init::decode(&message) else {
        panic!("the host sent a malformed init message (see valor_abi::init)");
    };
    set_up(init.config, init.mount, init.origin);
}

/// Runs the plugin's `#[vlugin(init = ...)]` function. Its error fails the plugin's load: it
/// is reported as the panic message, and the instance traps (natively: the call unwinds to the
/// export's C boundary, which reports the trap; aborting would end the server).
pub fn run_init<E: std::fmt::Display>(init: fn() -> Result<(), E>) {
    if let Err(error) = init() {
        host::report_panic(&error.to_string());
        #[cfg(target_arch = "wasm32")]
        std::process::abort();
        // Not `panic!`: the hook would report the message a second time, with a location.
        #[cfg(not(target_arch = "wasm32"))]
        std::panic::resume_unwind(Box::new(error.to_string()));
    }
}

/// What `valor_init` sets: also how a test host starts a handler's world (`vlugin::test`).
pub fn set_up(config: &[u8], mount: &str, origin: &str) {
    crate::config::set(config.to_vec());
    crate::site::set(mount, origin);
}

/// `valor_complete`: the result of host operation `op`, at `ptr` (from [`alloc`]).
///
/// # Safety
/// As for [`start`].
pub unsafe fn complete(op: u32, ptr: *mut u8, len: u32) {
    // SAFETY: guaranteed by the caller.
    ops::complete(op, unsafe { take_bytes(ptr, len) });
}

/// `valor_woken`: the next task to poll again, or 0.
pub fn woken() -> u32 {
    tasks::pop_woken()
}

/// The `getrandom` backend: fills `len` bytes at `dest` from the host.
///
/// # Safety
/// `dest..dest + len` must be writable (it may be uninitialised).
pub unsafe fn fill_random_raw(dest: *mut u8, len: usize) {
    // SAFETY: guaranteed by the caller; zeroed first so the slice is initialised.
    let buffer = unsafe {
        std::ptr::write_bytes(dest, 0, len);
        std::slice::from_raw_parts_mut(dest, len)
    };
    crate::fill_random(buffer);
}

#[cfg(feature = "getrandom")]
pub use getrandom;

/// Defines `getrandom`'s custom backend in the plugin crate (its root, where getrandom wants
/// it) when the `getrandom` feature is on; `#[vlugin]` expands to a call.
#[cfg(feature = "getrandom")]
#[doc(hidden)]
#[macro_export]
macro_rules! __getrandom_backend {
    () => {
        #[cfg(target_arch = "wasm32")]
        #[unsafe(no_mangle)]
        unsafe extern "Rust" fn __getrandom_v03_custom(
            dest: *mut u8,
            len: usize,
        ) -> ::core::result::Result<(), ::vlugin::__private::getrandom::Error> {
            // SAFETY: getrandom passes a writable buffer of `len` bytes.
            unsafe { ::vlugin::__private::fill_random_raw(dest, len) };
            ::core::result::Result::Ok(())
        }
    };
}

/// Without the `getrandom` feature there is nothing to define.
#[cfg(not(feature = "getrandom"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __getrandom_backend {
    () => {};
}

/// `valor_alloc`: memory for the runtime to write a request into, freed by [`start`]. Null if
/// the allocation failed.
pub fn alloc(len: u32) -> *mut u8 {
    match byte_layout(len) {
        // SAFETY: the layout has a non-zero size.
        Some(layout) => unsafe { std::alloc::alloc(layout) },
        None => std::ptr::NonNull::dangling().as_ptr(), // zero bytes: never dereferenced
    }
}

/// `valor_start`: takes the request bytes at `ptr` and starts `handler` on them.
///
/// # Safety
/// `ptr..ptr + len` must come from [`alloc`] with the same `len`, written by the runtime, and is
/// not used by the runtime afterwards.
pub unsafe fn start<H, F>(ptr: *mut u8, len: u32, handler: H) -> u32
where
    H: FnOnce(Request) -> F,
    F: Future + 'static,
    F::Output: IntoResponse,
{
    // SAFETY: guaranteed by the caller.
    match codec::decode_request_with(&unsafe { take_bytes(ptr, len) }, crate::Body::from_field) {
        Ok(request) => spawn(request, handler),
        Err(error) => tasks::spawn_done(&encoded_text(
            StatusCode::BAD_REQUEST,
            &format!("the plugin could not decode the request: {error}"),
        )),
    }
}

/// `valor_start` for a handler that never names its request (`#[vlugin]` sees that): the bytes
/// are freed unread, so not validated either, and the handler gets an empty request. Such a
/// plugin links no decoder: with its validation and error messages, two thirds of a plugin that
/// answers a fixed text.
///
/// # Safety
/// As for [`start`].
pub unsafe fn start_unread<H, F>(ptr: *mut u8, len: u32, handler: H) -> u32
where
    H: FnOnce(Request) -> F,
    F: Future + 'static,
    F::Output: IntoResponse,
{
    // SAFETY: guaranteed by the caller.
    drop(unsafe { take_bytes(ptr, len) });
    spawn(Request::default(), handler)
}

/// Starts `handler` on `request` as a task: what `valor_start` does once it has the request.
pub(crate) fn spawn<H, F>(request: Request, handler: H) -> u32
where
    H: FnOnce(Request) -> F,
    F: Future + 'static,
    F::Output: IntoResponse,
{
    let future = handler(request);
    tasks::spawn(Box::pin(async move { future.await.__encode() }))
}

/// `valor_poll`: the address of the task's next frame, or null while it is pending.
pub fn poll(task: u32) -> *const u8 {
    tasks::poll(task)
}

/// `valor_drop`: frees (or cancels) a task.
pub fn drop_task(task: u32) {
    tasks::drop_task(task)
}

/// Takes ownership of bytes the runtime wrote into memory from [`alloc`].
///
/// # Safety
/// `ptr..ptr + len` must come from [`alloc`] with the same `len`, initialised, and unused after.
unsafe fn take_bytes(ptr: *mut u8, len: u32) -> Vec<u8> {
    match byte_layout(len) {
        // SAFETY: allocated by `alloc` with exactly this layout (capacity = length = len), so
        // the global allocator may take it back through the Vec.
        Some(_) => unsafe { Vec::from_raw_parts(ptr, len as usize, len as usize) },
        None => Vec::new(),
    }
}

fn byte_layout(len: u32) -> Option<Layout> {
    (len > 0)
        .then(|| Layout::array::<u8>(len as usize).ok())
        .flatten()
}
