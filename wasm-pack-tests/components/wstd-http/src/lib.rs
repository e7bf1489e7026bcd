//! A `wasi:http/proxy` component for Valor's tests written with `wstd`, the async standard
//! library of WASI 0.2: an `async` handler whose executor waits on `wasi:io/poll.poll`, where
//! the `wasi` crate's component (`component-http`) blocks on one pollable. Nothing of Valor:
//! the same file is mounted in the service worker and by `valor serve`, and answers alike.
//!
//! Routes (paths relative to the plugin's prefix):
//! - `GET /hello`: a greeting.
//! - `GET /fetch?path=/api/...`: an outgoing request through wstd's client to the origin this
//!   request came to; answers the upstream's status and body, or 502 with the error.
//! - `GET /sleep?ms=N`: sleeps on wstd's timer; answers that it did.

mod routes;

#[wstd::http_server]
async fn main(
    request: wstd::http::Request<wstd::http::Body>,
) -> Result<wstd::http::Response<wstd::http::Body>, wstd::http::Error> {
    routes::handle(request).await
}
