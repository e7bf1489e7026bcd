//! A plugin built natively (a `cdylib` for the server's own platform) and loaded by a server
//! host: its binding to the host's table of functions (kept in `bound`), and the C boundary of its exports, where
//! a panic is caught and reported as the failure of that one call (`valor_abi::native`, and
//! PROTOCOL.md, "Native plugins"). Outside a native host (`cargo test`), nothing is bound and
//! the imports go to the test host.

use super::bound::{host, set_host};
use super::{going, ops, tasks};
use std::panic::{catch_unwind, AssertUnwindSafe};
pub use valor_abi::native::Host;

/// `valor_native_bind`: keeps a copy of the host's table (null: unbinds). Each instance
/// binds the library afresh, and binding first drops every task and operation the SDK still
/// holds from an earlier instance (one a panic failed), as a WebAssembly host drops a trapped
/// instance's memory; the plugin's own statics are kept.
///
/// # Safety
/// `host` is null or points at a table that is valid for the duration of the call.
pub unsafe fn bind(host: *const Host) {
    // SAFETY: guaranteed by the caller.
    let Some(table) = (unsafe { host.as_ref() }).copied() else {
        // Unbinding touches no task: the host may do it from any thread.
        return set_host(None);
    };
    // Dropped with no table bound: their cancellations concern the last instance, not this one.
    set_host(None);
    let reset = catch_unwind(|| {
        tasks::reset();
        going::reset();
        ops::reset();
    });
    set_host(Some(table));
    if reset.is_err() {
        trapped();
    }
}

/// Runs the body of one export: a panic inside it unwinds no further than here (never across
/// the C boundary, which would abort the server). The host is told that the call trapped, and
/// `failed` is returned instead of the body's value.
pub fn guard<R>(failed: R, body: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(payload) => {
            // A payload whose destructor panics too is leaked rather than let out.
            if let Err(again) = catch_unwind(AssertUnwindSafe(|| drop(payload))) {
                std::mem::forget(again);
            }
            trapped();
            failed
        }
    }
}

fn trapped() {
    if let Some(host) = host() {
        // SAFETY: a function of the bound table, given its own context.
        unsafe { (host.trapped)(host.context) }
    }
}
