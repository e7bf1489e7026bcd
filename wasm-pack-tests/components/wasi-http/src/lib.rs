//! A `wasi:http/proxy` component for Valor's tests, written as any WASI 0.2 handler is (the
//! `wasi` crate, built with `cargo build --target wasm32-wasip2`), with nothing of Valor: the
//! same file is mounted in the service worker and by `valor serve`, and answers alike.
//!
//! Routes (paths relative to the plugin's prefix):
//! - `GET /hello`: a greeting.
//! - `GET /request`: the request as the component saw it (method, scheme, authority, path,
//!   headers), one per line.
//! - `POST /echo`: the body back, with the request's `content-type`.
//! - `GET /fetch?url=URL` or `?path=/api/...` (the app's own origin): an outgoing request;
//!   answers the upstream's status and body, or 502 with the error code.
//! - `GET /sleep?ms=N`: sleeps on a monotonic-clock pollable; answers how long it slept.
//! - `GET /random`: 16 random bytes in hex, and whether two reads differed.
//! - `GET /clock`: the wall clock's seconds.
//! - `GET /log`: writes to standard output and error.
//! - `GET /headers?n=N`: an answer with N headers.
//! - `GET /fields?n=N`: tries to build a header list of N 1 KiB values (hostile: past the
//!   host's field limit); answers which append failed.
//! - `GET /error`: sets the response to an error code.
//! - `GET /unanswered`: returns without answering.
//! - `GET /loop`, `/grow`, `/trap`: an endless loop, memory growth without end, a panic.

mod routes;

use wasi::http::types::{IncomingRequest, ResponseOutparam};

wasi::http::proxy::export!(Component);

struct Component;

impl wasi::exports::http::incoming_handler::Guest for Component {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        routes::handle(request, out);
    }
}
