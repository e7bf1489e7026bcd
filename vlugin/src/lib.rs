//! The SDK for Valor plugins ("vlugins"): HTTP handlers compiled to raw WebAssembly modules
//! that the Valor runtime serves from a service worker.
//!
//! ```
//! use vlugin::prelude::*;
//!
//! #[vlugin]
//! async fn hello(req: Request) -> impl IntoResponse {
//!     "OK response from a plugin"
//! }
//! # fn main() {}
//! ```
//!
//! A plugin is a `cdylib` crate with exactly one `#[vlugin]` handler, built with
//! `cargo build --release --target wasm32-unknown-unknown`. The handler may be an `async fn` or a
//! plain `fn`; it takes a [`Request`] and returns anything that implements [`IntoResponse`].
//! A panic in the handler becomes a 500 response carrying the panic message.
//!
//! An answer may also be streamed ([`Body::from_stream`], and server-sent events with [`sse`]),
//! each chunk produced when the body's reader asks for it, and a handler may go on working after
//! its answer ([`wait_until`]). A body may be read as it arrives ([`Body::into_stream`]): an
//! upload, when the plugin's entry sets `stream_requests`, and a download ([`fetch_stream`]).
//! The book's "Streaming" page tells how.
//!
//! Plugins reach the world only through this crate's host API, which keeps them portable:
//! [`fetch`] and [`fetch_stream`] (outbound HTTP), [`sleep`] and [`now`], [`fill_random`], [`config`], the [`kv`]
//! store, and the [`log`] facade. Handlers that await them run concurrently: many requests can be
//! in flight in one plugin instance, which keeps its state (statics, `thread_local!`) between
//! requests.
#![deny(missing_docs)]

mod body;
mod config;
mod error;
mod guest;
mod json;
pub mod kv;
mod logger;
mod outbound;
mod random;
mod redirect;
mod request;
mod response;
mod router;
mod site;
pub mod sse;
#[cfg(not(target_arch = "wasm32"))]
pub mod test;
mod time;
mod wait_until;

/// What `#[vlugin]` expands to; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::guest::*;
}

pub use body::{Body, BodyChunks};
pub use config::config;
pub use error::Error;
pub use http::{self, header, HeaderName, Method, StatusCode};
pub use json::Json;
pub use log;
pub use outbound::{fetch, fetch_stream};
pub use random::fill_random;
pub use redirect::Redirect;
pub use request::RequestExt;
pub use response::IntoResponse;
pub use router::{Params, Router};
/// For `#[derive(serde::Deserialize, serde::Serialize)]` on the types of [`Json`] and
/// [`RequestExt`] (with `serde`'s `derive` feature in the plugin's own `Cargo.toml`).
pub use serde;
pub use site::{mount, origin, url_for};
pub use time::{now, sleep};
pub use vlugin_macros::vlugin;
pub use wait_until::wait_until;

/// The request a handler receives. Its URI is relative to the plugin's mount point: a plugin
/// mounted at `/api/hello` sees `/api/hello/x?y=1` as `/x?y=1`.
pub type Request = http::Request<Body>;

/// The response a handler produces.
pub type Response = http::Response<Body>;

/// A handler's result whose error is, by default, [`Error`]: `vlugin::Result<T>` answers `Ok` as
/// `T` and `Err` with the error's status and message.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a plugin uses, for `use vlugin::prelude::*;`: the attribute, the request and response
/// types, the traits handlers call methods of, and the host API's functions. The [`kv`] store
/// keeps its module name (`kv::get`).
pub mod prelude {
    pub use crate::{
        config, fetch, fetch_stream, fill_random, header, http, kv, log, mount, now, origin, serde,
        sleep, url_for, vlugin, wait_until, Body, Error, HeaderName, IntoResponse, Json, Method,
        Params, Redirect, Request, RequestExt, Response, Router, StatusCode,
    };
}

/// The README's and the book's Rust examples, compiled as doctests so they stay true.
#[cfg(doctest)]
mod doc_examples;
