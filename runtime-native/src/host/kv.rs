//! A plugin's key-value commands, run in its own namespace of the server's store.

use super::PluginContext;
use std::sync::Arc;

/// Runs the command encoded in `bytes`; returns the ABI result.
pub async fn run(context: Arc<PluginContext>, bytes: Vec<u8>) -> Vec<u8> {
    let (name, limit) = (&context.name, context.max_body_bytes);
    // A listing's reply is written into the plugin's memory: one larger than `memory_mb`
    // could never be handed over, so the store stops reading there.
    let store = context
        .storage
        .for_plugin(u64::from(context.memory_mb) << 20);
    valor_host::kv::run(&store, name, limit, &bytes).await
}
