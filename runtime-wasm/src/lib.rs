//! The Valor runtime: serves a web app's HTTP API from WebAssembly plugins, inside the app's
//! service worker.
//!
//! ```text
//! page fetch('/api/x') ─► sw.js ─► Runtime::answer ─► mounts ─► Plugin ─► Instance (plugin .wasm)
//!            '/_plugins' ─┘   │       ▲   └ registry        │ inbound: web request ─► ABI bytes
//!                             │       └── reply: ABI frame, error ─► web Response ◄┘
//! ```
//! - [`manifest`]: `plugins.json`, parsed entry by entry;
//! - `app`: the [`Runtime`] and the mounts over [`routes`]: what answers at each prefix
//!   (longest-prefix matching at `/` boundaries), changed at run time by the `registry`
//!   (`/_plugins`: its API, who may use it (`access`), and its records in IndexedDB);
//! - `offline`: the manifest and modules kept in Cache Storage for starts without the network;
//! - [`integrity`]: Subresource Integrity checks of modules, and their digests;
//! - `plugin`: loading, the ABI call sequence, crash recovery (replay, quarantine), and the
//!   time limit and cancellation of each request;
//! - [`meter`] (crate `valor-meter`): the rewriting of each plugin module that counts its fuel and
//!   caps its memory, run as a module of its own (`valor_meter.wasm`, by `plugin::rewriter`);
//! - `host`: what plugins' imports do: timers, outbound fetch under an [`allowlist`], and the
//!   key-value [`storage`];
//! - `inbound` and `reply`: a page's request straight to the ABI's bytes, and a reply
//!   (`valor-host`'s: a plugin's response frame or an error, tagged) straight to a web `Response`;
//! - `web_http`: plugins' outbound requests as web requests, and the answers as `http` types;
//! - [`error`]: every failure and its HTTP status;
//! - `sys`: the raw JavaScript bindings.
#![deny(missing_docs)]

mod app;
mod host;
mod inbound;
pub mod integrity;
mod offline;
mod plugin;
mod registry;
mod reply;
pub mod storage;
mod sys;
mod web_http;

pub use app::Runtime;
/// The header of a kept rewritten module that names the module it was made from.
pub use plugin::REWRITTEN_FROM_HEADER;
pub use reply::PLUGIN_HEADER;
/// The manifest, routing, allowlist and failures, as every Valor host has them (crate
/// `valor-host`).
pub use valor_host::{allowlist, error, manifest, routes};
/// The rewriting of plugin modules (crate `valor-meter`), which runs as a module of its own.
pub use valor_meter as meter;
