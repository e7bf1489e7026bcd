//! A plugin's key-value commands, run in its own namespace of the server's store.

use super::PluginContext;
use std::sync::Arc;

/// Runs the command encoded in `bytes`; returns the ABI result.
pub async fn run(context: Arc<PluginContext>, bytes: Vec<u8>) -> Vec<u8> {
    let limits = context.kv_limits();
    // The store stops reading a scan past the limit, rather than read it all to refuse it.
    let store = context.host.storage.for_plugin(limits.max_listing_bytes);
    valor_host::kv::run(&store, &context.name, limits, &bytes).await
}
