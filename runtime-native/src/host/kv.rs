//! A plugin's key-value commands, run in its own namespace of the store.

use super::PluginContext;
use std::sync::Arc;
use valor_abi::storage::{self, Command};
use valor_host::result::{failed, ok};

/// Runs the command encoded in `bytes`; returns the ABI result.
pub async fn run(context: Arc<PluginContext>, bytes: Vec<u8>) -> Vec<u8> {
    let command = match Command::decode(&bytes) {
        Ok(command) => command,
        Err(error) => return failed(&format!("malformed storage command: {error}")),
    };
    let written = match command {
        Command::Put { key, value } => Some((key, value)),
        Command::CompareAndSwap { key, new, .. } => new.map(|value| (key, value)),
        _ => None,
    };
    if let Some((key, value)) =
        written.filter(|(_, value)| value.len() as u64 > u64::from(context.max_body_bytes))
    {
        return failed(&format!(
            "the value for {key:?} is {} bytes, more than plugin '{}' may store ({} bytes: its \
             max_body_bytes)",
            value.len(),
            context.name,
            context.max_body_bytes
        ));
    }
    let (store, namespace) = (&context.storage, context.name.as_str());
    let reply = match command {
        Command::Get { key } => store
            .get(namespace, key)
            .await
            .map(|value| storage::encode_value(value.as_deref())),
        Command::Put { key, value } => store.put(namespace, key, value).await.map(|()| Vec::new()),
        Command::Delete { key } => store.delete(namespace, key).await.map(|()| Vec::new()),
        Command::Keys { prefix } => store
            .keys(namespace, prefix)
            .await
            .map(|keys| storage::encode_keys(&keys)),
        Command::Scan { prefix } => store
            .scan(namespace, prefix)
            .await
            .map(|entries| storage::encode_entries(&entries)),
        Command::CompareAndSwap { key, expected, new } => store
            .compare_and_swap(namespace, key, expected, new)
            .await
            .map(|swapped| {
                storage::encode_swap(swapped.as_ref().map(|_| ()).map_err(Option::as_deref))
            }),
    };
    match reply {
        Ok(payload) => ok(&payload),
        Err(error) => failed(&error.to_string()),
    }
}
