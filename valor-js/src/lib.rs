//! Valor's JavaScript engine: runs one JavaScript plugin in QuickJS (through `rquickjs`), as a
//! vlugin. Both hosts instantiate this one module for every `.js` or `.mjs` manifest entry,
//! each plugin in an instance of its own, and hand it the script in its init config
//! ([`settings`]); so a script runs the same in the browser and on the server, and reaches the
//! world only through the SDK's host API, under its entry's limits.
//!
//! - [`script`]: the QuickJS runtime of the plugin: the prelude's globals, then the script;
//!   re-created after the script is stopped. [`rejections`]: promises rejected without a
//!   handler, reported once the jobs have run.
//! - `prelude/`: the worker-like globals, in JavaScript (`fetch`, timers, `console`, `kv`, URL,
//!   streams, the message interface), over the native functions of [`bridge`]; laid out by
//!   `build.rs`.
//! - [`event_loop`]: requests waiting for their answers, and the host operations the script
//!   started, driven by whichever request the host polls; [`life`]: a request until the
//!   engine is done with it.
//! - [`body`]: an answer whose body is the script's `ReadableStream`, read as its reader asks;
//!   [`after`]: the script's `waitUntil` promises, as work after the answer.
//! - [`reading`]: bodies the script reads as they arrive: a request's streamed body, a
//!   fetched response's.
//! - [`budget`]: the CPU budget of each call, enforced by QuickJS's interrupt handler.

#![deny(missing_docs)]

mod after;
mod body;
mod bridge;
mod budget;
mod event_loop;
mod exchange;
mod life;
mod reading;
mod rejections;
mod script;
mod settings;

use vlugin::prelude::*;

#[vlugin(init = start)]
async fn serve(request: Request) -> Response {
    event_loop::dispatch(request).await
}

/// Starts the script at the plugin's creation, with the bridge's natives behind its prelude.
fn start() -> Result<(), String> {
    script::start(bridge::host)
}

/// QuickJS's only clock (its `Date.now`, `performance.now`): the host's, in microseconds.
#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
extern "C" fn __rquickjs_host_now_us() -> f64 {
    let since_epoch = vlugin::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    since_epoch.as_micros() as f64
}

// The in-memory test host is native-only.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
