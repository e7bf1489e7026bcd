//! What the runtime does for plugins: the host operations behind their imports.
//!
//! Each operation is a future producing the ABI's result bytes (an `outcome` byte, then the
//! payload); `plugin::instance` starts them, delivers their results and cancels them.

pub mod kv;
pub mod outbound;
pub mod timer;

use crate::allowlist::Allowlist;
use crate::manifest::Credentials;
use crate::meter::{Limits, PAGE_BYTES};
use crate::storage::Storage;
use futures::future::LocalBoxFuture;
use std::rc::Weak;
use vlugin::Request;

/// What a plugin's host functions need to know about the plugin and its runtime.
pub struct PluginContext {
    /// The plugin's name: its log tag and storage namespace.
    pub name: String,
    /// Where its outbound requests may go.
    pub allowlist: Allowlist,
    /// Whether its outbound requests carry the browser's credentials.
    pub credentials: Credentials,
    /// The largest body (of a request, a response, an outbound request, a stored value) the
    /// plugin may hand over or be handed, from its entry's `max_body_bytes`.
    pub max_body_bytes: u32,
    /// Instructions per call into the plugin, if metered (its entry's `fuel`).
    pub fuel: Option<u64>,
    /// The most memory its instance may have, in MiB (its entry's `memory_mb`).
    pub memory_mb: u32,
    /// The app's origin (`"self"` in the allowlist; where paths resolve).
    pub origin: String,
    /// The key-value store.
    pub storage: Storage,
    /// The runtime, to answer requests to plugins without going to the network.
    pub local: Weak<dyn LocalDispatch>,
}

impl PluginContext {
    /// How its module is rewritten, unless its entry turned metering off.
    pub fn meter_limits(&self) -> Option<Limits> {
        Some(Limits {
            fuel: self.fuel?,
            memory_pages: self.memory_bytes() / PAGE_BYTES,
        })
    }

    /// `memory_mb` in bytes.
    pub fn memory_bytes(&self) -> u64 {
        u64::from(self.memory_mb) << 20
    }
}

/// Requests from one plugin to another: a service worker's own `fetch` bypasses its fetch
/// handler, so the runtime routes them itself.
pub trait LocalDispatch {
    /// If a plugin is mounted at `path` (on the app's origin), answers `request` with it, in
    /// the ABI's encoding. `request`'s URI is the absolute one; `depth` counts nested
    /// plugin-to-plugin requests.
    fn dispatch_local(
        &self,
        request: Request,
        path_and_query: (&str, &str),
        depth: u32,
    ) -> Option<LocalBoxFuture<'static, Vec<u8>>>;
}
