//! The host of the `wasi:http/proxy` world (and the `wasi:cli` imports Rust's std adds), over
//! component values: one [`Session`] per request, its resources in one table, its outside world
//! behind [`Outside`].

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
