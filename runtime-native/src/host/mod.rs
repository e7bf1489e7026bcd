//! What the server does for plugins: the host operations behind their imports.
//!
//! Each operation is a future producing the ABI's result bytes (an `outcome` byte, then the
//! payload); the plugins' imports (`valor_host::guest::imports`) start and cancel them,
//! [`operations`] runs them, and their results are delivered through the protocol core.

pub mod kv;
pub mod operations;
pub mod outbound;

use crate::storage::Storage;
use futures::future::BoxFuture;
use std::sync::Weak;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use valor_host::local;

/// What a plugin's host functions know of it (`valor_host::context`), with the server's own.
pub type PluginContext = valor_host::context::PluginContext<Bindings>;

/// What only the server gives a plugin.
pub struct Bindings {
    /// The key-value store.
    pub storage: Storage,
    /// The client of outbound requests.
    pub client: reqwest::Client,
    /// The server, to answer requests to plugins without going through the network.
    pub local: Weak<LocalDispatch>,
}

/// Requests from one plugin to another, answered in the server without a round trip.
pub type LocalDispatch =
    dyn local::LocalDispatch<Vec<u8>, Answer = BoxFuture<'static, Vec<u8>>> + Send + Sync;

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
