//! What the server does for plugins: the host operations behind their imports.
//!
//! Each operation is a future producing the ABI's result bytes (an `outcome` byte, then the
//! payload); `plugin::instance` starts, cancels and delivers them, through the protocol core.

pub mod kv;
pub mod operations;
pub mod outbound;

use crate::storage::Storage;
use futures::future::BoxFuture;
use std::sync::Weak;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use valor_host::allowlist::Allowlist;

/// At most this many bytes per `random` call (the browser's `crypto.getRandomValues` limit,
/// kept so that a plugin behaves the same on both hosts).
pub const MAX_RANDOM_BYTES: u32 = 65_536;

/// What a plugin's host functions need to know about the plugin and its server.
pub struct PluginContext {
    /// The plugin's name: its log tag and storage namespace.
    pub name: String,
    /// Where its outbound requests may go.
    pub allowlist: Allowlist,
    /// The largest body the plugin may hand over or be handed (its entry's `max_body_bytes`).
    pub max_body_bytes: u32,
    /// Instructions per call into the plugin, if metered (its entry's `fuel`).
    pub fuel: Option<u64>,
    /// The most memory its instance may have, in MiB (its entry's `memory_mb`).
    pub memory_mb: u32,
    /// The server's public origin (`"self"` in the allowlist; where paths resolve).
    pub origin: String,
    /// The key-value store.
    pub storage: Storage,
    /// The client of outbound requests.
    pub client: reqwest::Client,
    /// The server, to answer requests to plugins without going through the network.
    pub local: Weak<dyn LocalDispatch>,
}

impl PluginContext {
    /// `memory_mb` in bytes.
    pub fn memory_bytes(&self) -> u64 {
        u64::from(self.memory_mb) << 20
    }
}

/// Requests from one plugin to another, answered in the server without a round trip.
pub trait LocalDispatch: Send + Sync {
    /// If a plugin is mounted at `path`, answers `request` (whose URI is `path?query`) with
    /// it, in the ABI's encoding; `depth` counts nested plugin-to-plugin requests.
    fn dispatch_local(
        &self,
        request: http::Request<Vec<u8>>,
        path: &str,
        query: Option<&str>,
        depth: u32,
    ) -> Option<BoxFuture<'static, Vec<u8>>>;
}

/// The `log` import: a line through `tracing`, at the plugin's level, with its name.
pub fn log(plugin: &str, level: u32, line: &str) {
    match level {
        1 => tracing::error!(plugin, "{line}"),
        2 => tracing::warn!(plugin, "{line}"),
        3 => tracing::info!(plugin, "{line}"),
        4 => tracing::debug!(plugin, "{line}"),
        _ => tracing::trace!(plugin, "{line}"),
    }
}

/// The `now` import: milliseconds since the Unix epoch, whole as `Date.now()` gives them.
pub fn now() -> f64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    since.as_millis() as f64
}

/// The `sleep` operation: `NaN` and negative values count as 0, an infinite one never ends.
pub async fn sleep(ms: f64) {
    if ms.is_infinite() && ms > 0.0 {
        return futures::future::pending().await;
    }
    let ms = if ms.is_nan() { 0.0 } else { ms.max(0.0) };
    tokio::time::sleep(Duration::from_secs_f64(ms / 1000.0)).await;
}
