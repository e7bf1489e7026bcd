//! The exports of `valor_meter.wasm`: the rewriting as a module of its own. The runtime
//! instantiates it afresh for each plugin module it rewrites, so that the rewriting's code is
//! fetched and compiled only when a module must be rewritten (not at a start that finds the
//! rewritten copies it kept), the plugin's bytes never grow the runtime's own memory (which
//! never shrinks), and a bug of the rewriting that traps fails that one plugin's load, not the
//! runtime.
//!
//! The calls, on a new instance (there are no imports):
//! 1. `valor_meter_alloc(len) -> ptr`: room for the module, which the runtime writes at `ptr`;
//! 2. `valor_meter_instrument(ptr, len, fuel: i64, memory_pages: i64) -> i32`: 1 if the module
//!    was rewritten, 0 if it was refused;
//! 3. `valor_meter_output() -> ptr` and `valor_meter_output_len() -> len`: the rewritten module,
//!    or why it was refused (UTF-8); after a trap, the panic's message, if it panicked.
//!
//! And `valor_meter_warm_up() -> i32`, on an instance of its own. Engines compile a module's
//! functions on their first call, which made the first rewriting in a fresh instance take 13 ms
//! against 1.4 for the next (hello.wasm, V8): the runtime has the rewriter rewrite a small module
//! of its own (warm-up.wat) while a plugin's module downloads.

use crate::{instrument, Limits};
use std::cell::RefCell;

thread_local! {
    /// What the last `valor_meter_instrument` made.
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Room for `len` bytes, never freed: the instance is used once.
#[unsafe(no_mangle)]
pub extern "C" fn valor_meter_alloc(len: usize) -> *mut u8 {
    Box::leak(vec![0u8; len].into_boxed_slice()).as_mut_ptr()
}

/// Rewrites the module of `len` bytes at `ptr` (from `valor_meter_alloc`) for the limits.
///
/// # Safety
/// `ptr` and `len` are those of one `valor_meter_alloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn valor_meter_instrument(
    ptr: *const u8,
    len: usize,
    fuel: u64,
    memory_pages: u64,
) -> u32 {
    // A panic aborts (a trap): its message is left as the output, for the runtime's error.
    std::panic::set_hook(Box::new(|panic| {
        OUTPUT.with(|out| {
            if let Ok(mut out) = out.try_borrow_mut() {
                *out = panic.to_string().into_bytes();
            }
        });
    }));
    // SAFETY: the caller passes a block from `valor_meter_alloc`, which is initialised.
    let module = unsafe { std::slice::from_raw_parts(ptr, len) };
    let (rewritten, output) = match instrument(module, Limits { fuel, memory_pages }) {
        Ok(module) => (1, module),
        Err(reason) => (0, reason.into_bytes()),
    };
    OUTPUT.with(|out| *out.borrow_mut() = output);
    rewritten
}

/// Rewrites warm-up.wat's module and drops it: afterwards, every instance of this module runs
/// the rewriting as compiled code. 1 if it was rewritten (it always is).
#[unsafe(no_mangle)]
pub extern "C" fn valor_meter_warm_up() -> u32 {
    let limits = Limits {
        fuel: 1_000,
        memory_pages: 1,
    };
    u32::from(instrument(crate::WARM_UP, limits).is_ok())
}

/// Where the output of the last `valor_meter_instrument` is.
#[unsafe(no_mangle)]
pub extern "C" fn valor_meter_output() -> *const u8 {
    OUTPUT.with(|out| out.borrow().as_ptr())
}

/// How long the output of the last `valor_meter_instrument` is.
#[unsafe(no_mangle)]
pub extern "C" fn valor_meter_output_len() -> usize {
    OUTPUT.with(|out| out.borrow().len())
}
