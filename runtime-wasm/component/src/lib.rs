//! Runs WASI 0.2 `wasi:http/proxy` components inside Valor's service worker.
//!
//! Browsers run core WebAssembly modules only; a component is core modules plus the wiring
//! between them and the interfaces they import. This crate does what a component engine does,
//! for the one world a Valor plugin can be:
//!
//! - [`plan`] reads a component (`wasmparser`) into a [`plan::Plan`]: its core modules, the
//!   order to instantiate them in, every core function the wiring makes (an export of another
//!   instance, a lowered import, a resource drop) with its component-level type resolved, and
//!   the lifted `wasi:http/incoming-handler.handle`.
//! - [`abi`] is the canonical ABI: a component [`abi::Val`] of an [`abi::Type`] lowered into a
//!   core instance's flat values and linear memory, and lifted back.
//! - [`wasi`] is the host of the world's imports (`wasi:http/types`, `outgoing-handler`,
//!   `wasi:io`, clocks, random, and the `wasi:cli` imports Rust's std adds), over values. One
//!   [`wasi::Session`] serves one request.
//! - `run` (wasm32 only) instantiates the core modules with `WebAssembly` (each through the
//!   module rewriter's fuel and memory caps, like any plugin), gives each lowered import its
//!   core signature through a small generated adapter module, and calls the handler.
//!
//! **Blocking calls.** WASI 0.2 calls block (`pollable.block`, `poll`), and a service worker can
//! only wait asynchronously. A handler that blocks on something not yet ready is stopped (the
//! host throws through its frames) and run again from the start on a fresh instance, once what
//! it waited for is ready: every host result the handler could observe differently from one run
//! to the next (clocks, random bytes, whether a pollable is ready, an outgoing response) is
//! recorded in the session's log on its first run and given back in order on the next, so the
//! runs agree up to the point where the last one stopped, and outside effects (an outgoing
//! request) happen once. See [`wasi::Session`].
#![deny(missing_docs)]

pub mod abi;
pub mod host;
pub mod plan;
#[cfg(target_arch = "wasm32")]
mod run;
#[cfg(target_arch = "wasm32")]
pub use run::Component;
pub mod wasi;
