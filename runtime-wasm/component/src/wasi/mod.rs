//! The host of the `wasi:http/proxy` world (and the `wasi:cli` imports Rust's std adds), over
//! component values: one [`Session`] per request, its resources in one table, its outside world
//! behind [`Outside`].
//!
//! # What it provides
//!
//! Any `0.2.x` version of these interfaces; wasmtime-wasi-http 48 and wasmtime-wasi 48 are the
//! reference for every behaviour a component can see, differences below.
//!
//! Real:
//! - `wasi:http/types`: every function but the unstable `response-outparam.send-informational`
//!   (`fields` with wasmtime's rules and 128 KiB limit, requests, responses, bodies, futures).
//! - `wasi:http/outgoing-handler.handle`: through [`Outside::fetch`] (the plugin's
//!   `allowed_hosts` applies there), sent once however many runs the request takes.
//! - `wasi:io/poll`, `wasi:io/error`, `wasi:io/streams`: every function, over whole bodies.
//! - `wasi:clocks/monotonic-clock`, `wasi:clocks/wall-clock`: the worker's clocks (resolution
//!   reported: 1 ms); timers through [`Outside::sleep`].
//! - `wasi:random/random`, `wasi:random/insecure`, `wasi:random/insecure-seed`: the worker's
//!   `crypto` (the seed drawn once per request).
//! - `wasi:cli/stdout`, `wasi:cli/stderr`: lines to [`Outside::log`] (a line cut at 4 KiB, at
//!   most 1 MiB a request).
//!
//! Stubs (what Rust's std imports outside the proxy world):
//! - `wasi:cli/stdin.get-stdin`: an empty stream (as wasmtime's default).
//! - `wasi:cli/environment`: no variables, no arguments, no initial directory.
//! - `wasi:cli/exit.exit`, `exit-with-code`: the run ends with a trap ("the component exited
//!   with status N").
//! - `wasi:cli/terminal-stdin`, `terminal-stdout`, `terminal-stderr`: none;
//!   `wasi:cli/terminal-input`, `terminal-output`: resources never made.
//! - `wasi:filesystem/preopens.get-directories`: none; so no `descriptor` exists, and every
//!   `wasi:filesystem/types` method traps on its handle; `filesystem-error-code` is `none`.
//!
//! # Differences from wasmtime-wasi-http
//!
//! - Bodies are whole: an incoming body's stream gives all its bytes at once; the answer goes
//!   out when the handler returns, not as it is written. A response whose body was dropped
//!   unfinished, or finished shorter or longer than its `content-length`, is
//!   [`Outcome::Failed`] (`HTTP-protocol-error`): wasmtime would have sent the status and
//!   headers, then aborted the body. Outgoing bodies hold at most 64 MiB (more traps).
//! - Trailers: those a component sends are dropped (a browser's `fetch` and `Response` carry
//!   none); those it receives are always none.
//! - Outgoing requests get no `host` header from the host (the browser's `fetch` sets it);
//!   `request-options` are kept and answered but their timeouts are not applied (the plugin's
//!   own time limit bounds the request).
//! - Waiting on the response of a request whose body is not finished traps ("it would wait
//!   forever"); wasmtime waits. A response arrives only while a run waits (`block`, `poll`): a
//!   handler that calls `future-incoming-response.get` in a loop without waiting never sees it.
//! - `exit` traps; a response set before it is not sent (wasmtime has sent it already).
//! - Random bytes: at most 16 MiB per request (wasmtime: 64 MiB per call).
//! - Bounds wasmtime does not have: 100,000 live resources per run, 1,000,000 observations
//!   (clock readings, random draws, readiness) and 1,000 outgoing requests per request; past
//!   any of them the call traps.
//! - A run that asks the host something else than the previous run at the same point (it is
//!   not deterministic given the host's answers) traps: see the crate's "Blocking calls".

use futures::future::LocalBoxFuture;

mod args;
mod body;
mod cli;
mod clocks;
mod codes;
mod console;
mod fields;
mod io;
mod log;
mod names;
mod outgoing;
mod poll;
mod random;
mod request;
mod response;
mod session;
mod table;
#[cfg(test)]
mod tests;
mod uri;

pub use session::{Outcome, Session};

/// A request as the handler receives it: bodies are whole (buffered) in this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingRequest {
    /// `GET`, `POST`, ... as sent.
    pub method: String,
    /// `http` or `https`.
    pub scheme: String,
    /// The host (and port) the request was sent to.
    pub authority: String,
    /// The path relative to the plugin's prefix, with the query: `/items?x=1`.
    pub path_with_query: String,
    /// Its headers, in order, names lower-case.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Its body.
    pub body: Vec<u8>,
}

/// A response: what the handler answered, or what an outgoing request got back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Its headers, in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Its body.
    pub body: Vec<u8>,
}

/// A request the handler sends (`wasi:http/outgoing-handler.handle`), body whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingRequest {
    /// The method.
    pub method: String,
    /// The absolute URL: scheme, authority, path and query.
    pub url: String,
    /// Its headers, in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Its body.
    pub body: Vec<u8>,
}

/// Why an outgoing request got no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The plugin may not reach that host (its entry's `allowed_hosts`): `HTTP-request-denied`.
    Denied(String),
    /// The request failed on its way (the network, the other side): `internal-error(message)`.
    Failed(String),
}

/// The world outside one request: what the host of the imports cannot do by itself. In the
/// worker, `run` implements it with the runtime's outbound `fetch` (which applies the
/// plugin's allowlist and routes the app's own paths to its plugins), timers, `performance`
/// and `crypto`.
pub trait Outside {
    /// Sends `request`.
    fn fetch(
        &self,
        request: OutgoingRequest,
    ) -> LocalBoxFuture<'static, Result<Response, FetchError>>;
    /// Completes after `nanos` nanoseconds.
    fn sleep(&self, nanos: u64) -> LocalBoxFuture<'static, ()>;
    /// `wasi:clocks/monotonic-clock.now`, in nanoseconds.
    fn monotonic_now(&self) -> u64;
    /// `wasi:clocks/wall-clock.now`: seconds and nanoseconds since the Unix epoch.
    fn wall_clock_now(&self) -> (u64, u32);
    /// Fills `out` with random bytes (`wasi:random`).
    fn random_bytes(&self, out: &mut [u8]);
    /// A line the component wrote to its standard output (`stderr`: false) or error.
    fn log(&self, stderr: bool, line: &str);
}
