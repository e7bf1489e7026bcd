//! The functions a plugin imports (`valor_abi::imports`), but `now`, written once for every
//! host: each host only binds them (a JavaScript closure, a wasmtime function, a C function)
//! and implements [`Host`].
//!
//! They run *inside* a call into the plugin: they read its memory and start host operations,
//! but never call back into it (results and refusals are delivered later, by the host).

use super::{Address, Started, Table};
use crate::bodies::{self, Fill, Source};
use crate::context::PluginContext;
use crate::limits;
use crate::result;
use futures::future::AbortRegistration;
use std::future::Future;
use std::sync::Arc;
use valor_abi::outcome;

/// What an import reaches of its instance, as its host binds it.
pub trait Host {
    /// What only this host gives its plugins (the context's `host`).
    type Bindings;

    /// The plugin's context: its name and limits.
    fn context(&self) -> &PluginContext<Self::Bindings>;
    /// Runs `use_table` on the instance's operation table; the borrow ends when it returns.
    fn table<R>(&mut self, use_table: impl FnOnce(&mut Table) -> R) -> R;
    /// A copy of `len` bytes at `ptr`, which the plugin handed the import being run; empty if
    /// they lie outside its memory (the operation then fails on malformed input, with a
    /// message, rather than trapping the host).
    fn read(&mut self, ptr: Address, len: u32) -> Vec<u8>;
    /// Runs `operation`, which the table started as `op`: spawned, abortable with `run`, its
    /// result handed to [`calls::complete`](super::calls::complete) when it finishes.
    fn spawn(&mut self, op: u32, run: AbortRegistration, operation: Operation);
    /// Schedules [`calls::deliver_refusals`](super::calls::deliver_refusals) on a later turn of
    /// the host's event loop (never from inside the current call).
    fn deliver_refusals_later(&mut self);
    /// Fills `len` bytes at `ptr` (handed to the import being run) with cryptographically
    /// secure random bytes; whether it could.
    fn fill_random(&mut self, ptr: Address, len: u32) -> bool;
    /// Logs `line` at `level` (as `log::Level`: 1 = error .. 5 = trace), with the plugin's name.
    fn log(&mut self, level: u32, line: &str);
}

/// At most this many bytes per `random` call (the browser's `crypto.getRandomValues` limit,
/// kept on every host so that a plugin behaves the same everywhere).
pub const MAX_RANDOM_BYTES: u32 = 65_536;

/// A host operation the plugin asked for, for its host to run.
#[derive(Debug)]
pub enum Operation {
    /// `sleep(ms)`: a timer (see [`slept`]).
    Sleep(f64),
    /// `fetch`: an encoded outbound request, made for a request at `depth` (it is one level
    /// deeper).
    Fetch {
        /// The request, as the plugin encoded it.
        request: Vec<u8>,
        /// The depth of the request the plugin was called for.
        depth: u32,
    },
    /// `kv`: an encoded storage command.
    Kv(Vec<u8>),
    /// `read(body)`: the next bytes of streamed body `handle`: run by [`bodies::read`] with the
    /// host's timer of `idle_ms`.
    Read {
        /// The body.
        body: Arc<Source>,
        /// Its handle, for the plugin.
        handle: u32,
        /// The longest wait for its next chunk (the entry's `stream_idle_ms`).
        idle_ms: u32,
    },
    /// `fetch_stream`: an outbound request as [`Operation::Fetch`], whose answer's body the
    /// host fills into `body`, handed to the plugin as streamed body `handle` (its result made
    /// by [`bodies::fetched`]); or, answered whole by a plugin of the app, its result as
    /// `fetch`'s (the core then closes the body).
    FetchStream {
        /// The request, as the plugin encoded it.
        request: Vec<u8>,
        /// The depth of the request the plugin was called for.
        depth: u32,
        /// The handle the plugin will read the body with.
        handle: u32,
        /// Where the host puts the body.
        body: Fill,
    },
}

impl PartialEq for Operation {
    /// Operations are equal when they ask for the same thing (bodies are compared by handle).
    fn eq(&self, other: &Self) -> bool {
        use Operation::*;
        match (self, other) {
            (Sleep(a), Sleep(b)) => a == b,
            (Kv(a), Kv(b)) => a == b,
            (
                Fetch { request, depth },
                Fetch {
                    request: r,
                    depth: d,
                },
            ) => (request, depth) == (r, d),
            (Read { handle, .. }, Read { handle: h, .. }) => handle == h,
            (
                FetchStream {
                    request,
                    depth,
                    handle,
                    ..
                },
                FetchStream {
                    request: r,
                    depth: d,
                    handle: h,
                    ..
                },
            ) => (request, depth, handle) == (r, d, h),
            _ => false,
        }
    }
}

/// `sleep(ms)`: a timer operation's id.
pub fn sleep(host: &mut impl Host, ms: f64) -> u32 {
    start(host, Operation::Sleep(ms))
}

/// `fetch(ptr, len)`: an outbound request's operation id.
pub fn fetch(host: &mut impl Host, ptr: Address, len: u32) -> u32 {
    let to_operation = |request, depth| Operation::Fetch { request, depth };
    with_effects(host, "an outbound request", ptr, len, to_operation)
}

/// `kv(ptr, len)`: a storage command's operation id.
pub fn kv(host: &mut impl Host, ptr: Address, len: u32) -> u32 {
    with_effects(host, "a storage command", ptr, len, |command, _| {
        Operation::Kv(command)
    })
}

/// `fetch_stream(ptr, len)`: an outbound request whose answer's body the plugin reads as it
/// arrives (section 18); its operation id.
pub fn fetch_stream(host: &mut impl Host, ptr: Address, len: u32) -> u32 {
    let (fill, source) = bodies::channel("the fetched body", None);
    let Some(handle) = host.table(|table| table.open_body(source)) else {
        let why = limits::too_many_bodies(&host.context().name);
        let refused = host.table(|table| table.refuse(Arc::from(why)));
        return started(host, refused, None);
    };
    let to_operation = |request, depth| Operation::FetchStream {
        request,
        depth,
        handle,
        body: fill,
    };
    let op = with_effects(host, "an outbound request", ptr, len, to_operation);
    // A refused request hands over no body: the plugin never learns its handle.
    host.table(|table| match table.is_running(op) {
        true => table.fetching(op, handle),
        false => table.close_body(handle),
    });
    op
}

/// `read(body)`: the next bytes of a streamed body; its operation id. A read counts as an
/// effect: the bytes it takes are gone, so its task is never run again.
pub fn read(host: &mut impl Host, handle: u32) -> u32 {
    let body = host.table(|table| {
        table.record_effect();
        table.body(handle)
    });
    let Some(body) = body else {
        let why = format!("no streamed body {handle}: it is closed, or was never opened");
        let refused = host.table(|table| table.refuse(Arc::from(why)));
        return started(host, refused, None);
    };
    let idle_ms = host.context().stream_idle_ms;
    start(
        host,
        Operation::Read {
            body,
            handle,
            idle_ms,
        },
    )
}

/// `close(body)`: the plugin reads no more of a streamed body.
pub fn close(host: &mut impl Host, handle: u32) {
    host.table(|table| table.close_body(handle));
}

/// `cancel(op)`: the plugin no longer wants `op`.
pub fn cancel(host: &mut impl Host, op: u32) {
    host.table(|table| table.cancel_op(op));
}

/// `panic(ptr, len)`: the message of a panic, reported just before the trap.
pub fn panic(host: &mut impl Host, ptr: Address, len: u32) {
    let message = text(host, ptr, len);
    host.table(|table| table.panicked(message));
}

/// `log(level, ptr, len)`: a log line.
pub fn log(host: &mut impl Host, level: u32, ptr: Address, len: u32) {
    let line = text(host, ptr, len);
    host.log(level, &line);
}

/// `random(ptr, len)`: random bytes, at most [`MAX_RANDOM_BYTES`]. Never handed out
/// predictable silently: if they cannot be filled, an error is logged (the plugin must not use
/// them).
pub fn random(host: &mut impl Host, ptr: Address, len: u32) {
    if !(len <= MAX_RANDOM_BYTES && host.fill_random(ptr, len)) {
        host.log(LEVEL_ERROR, &format!("random: could not fill {len} bytes"));
    }
}

/// The level of errors in [`Host::log`].
const LEVEL_ERROR: u32 = 1;

/// A log line or panic message the plugin points at: at most `MAX_TEXT_BYTES` of it are read,
/// whatever length it names (one `log` with a 2 GiB length would otherwise copy 2 GiB).
fn text(host: &mut impl Host, ptr: Address, len: u32) -> String {
    result::text(len, |kept| host.read(ptr, kept))
}

/// A timer operation: `[outcome::OK]` once `timer` fires.
pub async fn slept(timer: impl Future<Output = ()>) -> Vec<u8> {
    timer.await;
    vec![outcome::OK]
}

/// An operation with effects outside the plugin, whose message of `len` bytes at `ptr` is
/// `what`: refused before anything is copied if it is larger than the plugin may send; else
/// its task is marked as having had effects (it is not run again if the instance is lost), its
/// message copied, and the operation started.
fn with_effects<H: Host>(
    host: &mut H,
    what: &str,
    ptr: Address,
    len: u32,
    to_operation: impl FnOnce(Vec<u8>, u32) -> Operation,
) -> u32 {
    let context = host.context();
    let too_large = limits::message_too_large(&context.name, context.max_body_bytes, what, len);
    if let Some(why) = too_large {
        let refused = host.table(|table| table.refuse(Arc::from(why)));
        return started(host, refused, None);
    }
    let depth = host.table(|table| {
        table.record_effect();
        table.depth()
    });
    let message = host.read(ptr, len);
    start(host, to_operation(message, depth))
}

/// Starts `operation` (past the quota, it is refused instead): its id for the plugin.
fn start(host: &mut impl Host, operation: Operation) -> u32 {
    let started_op = host.table(Table::start_op);
    started(host, started_op, Some(operation))
}

/// Runs what the table made of an operation: spawns it unless it was refused, schedules the
/// delivery of refusals if the table asked for one, and returns its id for the plugin.
fn started(host: &mut impl Host, started: Started, operation: Option<Operation>) -> u32 {
    if let (Some(run), Some(operation)) = (started.run, operation) {
        host.spawn(started.op, run, operation);
    }
    if started.deliver_refusals {
        host.deliver_refusals_later();
    }
    started.op
}
