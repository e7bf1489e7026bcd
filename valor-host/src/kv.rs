//! A plugin's key-value commands (`valor_abi::storage`), decoded, checked and run in its own
//! namespace of a host's store, with their replies encoded: the same for every host, whatever
//! keeps the data (IndexedDB in the browser, redb or Redis on a server).

use crate::result::{failed, ok};
use std::future::Future;
use valor_abi::storage::{self, Command};

pub use valor_abi::storage::{Failure, RETRY_AFTER_SECONDS};

/// A store's error: its text, and the kind of failure it is, which the plugin is told
/// (`unavailable: `, `full: `) so that its request answers 503 with `retry-after`, or 507.
pub trait StoreError: std::fmt::Display {
    /// What kind of failure this is.
    fn failure(&self) -> Failure;
}

/// A store of namespaced keys and values, as PROTOCOL.md section 9 defines it: listings sorted
/// by key, a scan one snapshot, compare-and-swap atomic, writes durable once they complete.
pub trait Store {
    /// A store failure; the plugin is told its kind and text (`FAILED`).
    type Error: StoreError;

    /// The value of `key`, if any.
    fn get(
        &self,
        namespace: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, Self::Error>>;

    /// Sets `key` to `value`.
    fn put(
        &self,
        namespace: &str,
        key: &str,
        value: &[u8],
    ) -> impl Future<Output = Result<(), Self::Error>>;

    /// Removes `key`; a missing key is fine.
    fn delete(&self, namespace: &str, key: &str) -> impl Future<Output = Result<(), Self::Error>>;

    /// The keys starting with `prefix`, sorted.
    fn keys(
        &self,
        namespace: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<String>, Self::Error>>;

    /// The entries whose key starts with `prefix`, sorted by key.
    fn scan(
        &self,
        namespace: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<(String, Vec<u8>)>, Self::Error>>;

    /// Sets `key` to `new` (`None`: deletes it) if its value is still `expected`; otherwise
    /// changes nothing and returns the value found.
    fn compare_and_swap(
        &self,
        namespace: &str,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> impl Future<Output = Result<Result<(), Option<Vec<u8>>>, Self::Error>>;
}

/// What one plugin's commands may store and be handed, from its manifest entry.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest value it may store: its `max_body_bytes`, which bounds values as it bounds
    /// bodies.
    pub max_body_bytes: u32,
    /// The most a listing may hand it (the keys, and for a scan the values), in bytes: its
    /// `memory_mb`, since the reply is written into its memory.
    pub max_listing_bytes: u64,
}

/// Why a listing of more than `max_bytes` is refused; a store that stops reading there says
/// the same.
pub fn listing_too_large(max_bytes: u64) -> String {
    format!(
        "the entries are more than {max_bytes} bytes, more than the plugin's memory_mb could \
         hold: list a narrower prefix"
    )
}

/// Runs the command encoded in `bytes` for plugin `plugin` (its namespace), under its
/// `limits`; returns the ABI result.
pub async fn run<S: Store>(store: &S, plugin: &str, limits: Limits, bytes: &[u8]) -> Vec<u8> {
    let Limits {
        max_body_bytes,
        max_listing_bytes,
    } = limits;
    let command = match Command::decode(bytes) {
        Ok(command) => command,
        Err(error) => return failed(&format!("malformed storage command: {error}")),
    };
    let written = match command {
        Command::Put { key, value } => Some((key, value)),
        Command::CompareAndSwap { key, new, .. } => new.map(|value| (key, value)),
        _ => None,
    };
    // `max_body_bytes` bounds stored values as it bounds bodies.
    let over_limit = |value: &[u8]| value.len() as u64 > u64::from(max_body_bytes);
    if let Some((key, value)) = written.filter(|(_, value)| over_limit(value)) {
        return failed(&format!(
            "the value for {key:?} is {} bytes, more than plugin '{plugin}' may store \
             ({max_body_bytes} bytes: its max_body_bytes)",
            value.len(),
        ));
    }
    let too_large = |prefix: &str, bytes: usize| {
        (bytes as u64 > max_listing_bytes).then(|| {
            failed(&format!(
                "listing keys starting with {prefix:?} in namespace {plugin:?} failed: {}",
                listing_too_large(max_listing_bytes)
            ))
        })
    };
    let reply = match command {
        Command::Get { key } => store
            .get(plugin, key)
            .await
            .map(|value| storage::encode_value(value.as_deref())),
        Command::Put { key, value } => store.put(plugin, key, value).await.map(|()| Vec::new()),
        Command::Delete { key } => store.delete(plugin, key).await.map(|()| Vec::new()),
        Command::Keys { prefix } => {
            let keys = store.keys(plugin, prefix).await;
            let bytes = keys
                .as_ref()
                .map_or(0, |keys| keys.iter().map(String::len).sum());
            if let Some(refused) = too_large(prefix, bytes) {
                return refused;
            }
            keys.map(|keys| storage::encode_keys(&keys))
        }
        Command::Scan { prefix } => {
            let entries = store.scan(plugin, prefix).await;
            let bytes = entries.as_ref().map_or(0, |entries| {
                entries.iter().map(|(k, v)| k.len() + v.len()).sum()
            });
            if let Some(refused) = too_large(prefix, bytes) {
                return refused;
            }
            entries.map(|entries| storage::encode_entries(&entries))
        }
        Command::CompareAndSwap { key, expected, new } => store
            .compare_and_swap(plugin, key, expected, new)
            .await
            .map(|swapped| {
                storage::encode_swap(swapped.as_ref().map(|_| ()).map_err(Option::as_deref))
            }),
    };
    match reply {
        Ok(payload) => ok(&payload),
        Err(error) => failed(&error.failure().message(&error.to_string())),
    }
}
