//! The Valor server host: the same plugins as the browser runtime, on wasmtime, over HTTP.
//!
//! ```text
//! client ─HTTP─► server (hyper) ─► App::handle ─► mounts ─► Plugin ─► Instance (plugin .wasm,
//!                                   │  inbound: request ─► ABI bytes     │   wasmtime)
//!                                   └─ reply: ABI frame, error ─► HTTP ◄─┘
//! ```
//! - `app`: the mounts (longest-prefix routing, from `valor-host`), request bodies within
//!   `max_body_bytes`, and plugin-to-plugin requests answered in-process;
//! - `plugin`: the engine and the modules compiled for it (`modules`, kept on disk across
//!   restarts by `code_cache`), loading (`load`), the
//!   ABI call sequence and the store's state (`instance`), the imports (`imports`); fuel and a
//!   memory cap (`memory_cap`) per instance, crash recovery, replay, quarantine and backoff as
//!   in the browser;
//! - `native`: native plugins (shared libraries, with `--allow-native-plugins`) as the same
//!   protocol's guest;
//! - `host`: what plugins' imports do: timers, outbound `fetch` (reqwest, under the allowlist),
//!   `kv` on the `storage` (redb, or Redis for several servers);
//! - `inbound` and `reply`: a request as plugins see it, and a reply, tagged, as HTTP;
//! - `registry`: `/_plugins` with `-w` (valor-host's registry), and who may use it;
//! - `source`: reading manifests and modules from files or URLs;
//! - `files`: the app's static files (`--static`), after the plugins' prefixes;
//! - `server`: the HTTP server and its graceful shutdown;
//! - `serve`: `valor serve`, everything put together.
//!
//! Where it differs from the browser host, valor-abi's PROTOCOL.md says so.
#![deny(missing_docs)]

pub mod app;
mod code_cache;
mod component;
pub mod files;
mod header_timer;
mod host;
mod inbound;
mod native;
mod plugin;
mod registry;
mod reply;
pub mod serve;
mod server;
mod source;
pub mod storage;

pub use reply::PLUGIN_HEADER;
