//! A plugin's key-value commands, run in its own namespace of the server's store.

use super::PluginContext;
use std::sync::Arc;

/// Runs the command encoded in `bytes`; returns the ABI result.
pub async fn run(context: Arc<PluginContext>, bytes: Vec<u8>) -> Vec<u8> {
    let (name, limit) = (&context.name, context.max_body_bytes);
    valor_host::kv::run(&context.storage, name, limit, &bytes).await
}
