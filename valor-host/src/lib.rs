//! What every Valor host shares, so that the browser runtime (`valor-runtime`) and the server
//! (`valor-server`) read the same manifest, route the same way and fail the same way:
//!
//! - [`manifest`]: `plugins.json`, parsed entry by entry, with every limit and its default;
//! - [`routes`]: longest-prefix matching at `/` boundaries;
//! - [`allowlist`]: where a plugin's outbound `fetch` may go (`allowed_hosts`);
//! - [`outbound`]: a plugin's outbound `fetch`, decoded and checked before a host sends it;
//! - [`integrity`]: Subresource Integrity values and how a module's digests are checked;
//! - [`frame`]: a plugin's response frame, read in place;
//! - [`context`]: what a plugin's imports know of it, with what only its host gives it;
//! - [`guest`]: the plugin protocol itself, one instance's state machine over any engine;
//! - [`streamed`]: a streamed answer's body, paced by its reader, and work after an answer;
//! - [`bodies`]: bodies a plugin reads as they arrive (streamed requests, `fetch_stream`);
//! - [`fault`]: why an instance gave no answer, and the error each fault answers with;
//! - [`error`]: every way a request can fail, and the HTTP status and text it answers with;
//! - [`limits`]: the fixed limits of the protocol every host enforces alike;
//! - [`kv`]: plugins' storage commands, run against any host's store;
//! - [`mounts`]: what answers at each prefix, changed at run time;
//! - [`reply`]: what every reply gets on its way out (its plugin's tag, the status check);
//! - [`registry`]: the run-time registry (`/_plugins`), over any host's mounts and store;
//! - [`script`]: JavaScript plugins, run by the engine module `valor_js.wasm`;
//! - [`result`]: the results of host operations, and the texts read from plugins;
//! - [`local`]: a plugin's requests to its own app, answered by the plugin mounted there;
//! - [`plugin`]: a mounted plugin: its life, its instances, the time limit of its requests;
//! - [`life`]: a mounted plugin's loading, backoff, quarantine and replays;
//! - [`instances`]: a loaded plugin's instances, created once each and replaced after a fault;
//! - [`slot`]: a value made once and shared by every caller meanwhile;
//! - [`backoff`] and [`quarantine`]: the pauses after failed loads and after fuel used up.
//!
//! The plugin ABI itself is `valor-abi`'s; this crate is the hosts' side of the contract
//! written in the README (the manifest, routing, statuses).
#![deny(missing_docs)]

pub mod allowlist;
pub mod backoff;
pub mod bodies;
pub mod component;
pub mod context;
pub mod error;
pub mod fault;
pub mod frame;
pub mod guest;
pub mod instances;
pub mod integrity;
pub mod kv;
pub mod life;
pub mod limits;
pub mod local;
pub mod manifest;
pub mod mounts;
pub mod outbound;
pub mod plugin;
pub mod quarantine;
pub mod registry;
pub mod reply;
pub mod result;
pub mod routes;
pub mod script;
pub mod slot;
pub mod streamed;
