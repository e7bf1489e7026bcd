//! What `#[vlugin]` expands to call: the implementations of the plugin's exports.
//! Not a public API; see `abi` for the contract these functions fulfil.

mod host;
mod tasks;

use crate::abi::codec;
use crate::response::text;
use crate::{IntoResponse, Request};
use http::StatusCode;
use std::alloc::Layout;
use std::future::Future;

pub use crate::abi::ABI_VERSION;

/// `valor_init`: makes panics report their message before the instance traps.
pub fn init() {
    std::panic::set_hook(Box::new(|info| host::report_panic(&info.to_string())));
}

/// `valor_alloc`: memory for the runtime to write a request into, freed by [`start`].
pub fn alloc(len: u32) -> u32 {
    match byte_layout(len) {
        // SAFETY: the layout has a non-zero size.
        Some(layout) => unsafe { std::alloc::alloc(layout) as usize as u32 },
        None => 1, // zero bytes: any non-null, never-dereferenced address
    }
}

/// `valor_start`: takes the request bytes at `ptr` and starts `handler` on them.
///
/// # Safety
/// `ptr..ptr + len` must come from [`alloc`] with the same `len`, written by the runtime, and is
/// not used by the runtime afterwards.
pub unsafe fn start<H, F>(ptr: u32, len: u32, handler: H) -> u32
where
    H: FnOnce(Request) -> F,
    F: Future + 'static,
    F::Output: IntoResponse,
{
    // SAFETY: guaranteed by the caller.
    let decoded = unsafe { decode_owned(ptr, len) };
    match decoded {
        Ok(request) => {
            let future = handler(request);
            tasks::spawn(Box::pin(async move { future.await.into_response() }))
        }
        Err(error) => tasks::spawn_done(&text(
            StatusCode::BAD_REQUEST,
            format!("the plugin could not decode the request: {error}"),
        )),
    }
}

/// `valor_poll`: see [`abi`](crate::abi).
pub fn poll(task: u32) -> u32 {
    tasks::poll(task)
}

/// `valor_drop`: frees (or cancels) a task.
pub fn drop_task(task: u32) {
    tasks::drop_task(task)
}

unsafe fn decode_owned(ptr: u32, len: u32) -> Result<Request, codec::DecodeError> {
    let bytes: &[u8] = match byte_layout(len) {
        // SAFETY: the caller guarantees these bytes are initialised and ours.
        Some(_) => unsafe { std::slice::from_raw_parts(ptr as usize as *const u8, len as usize) },
        None => &[],
    };
    let decoded = codec::decode_request(bytes);
    if let Some(layout) = byte_layout(len) {
        // SAFETY: allocated by `alloc` with this very layout.
        unsafe { std::alloc::dealloc(ptr as usize as *mut u8, layout) };
    }
    decoded
}

fn byte_layout(len: u32) -> Option<Layout> {
    (len > 0)
        .then(|| Layout::array::<u8>(len as usize).ok())
        .flatten()
}
