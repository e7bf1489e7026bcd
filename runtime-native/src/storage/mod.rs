//! The key-value store behind plugins' `kv`: one namespace per plugin name, keys sorted as
//! Rust sorts strings, compare-and-swap atomic, writes durable before they are acknowledged.
//!
//! Two backends: an embedded one (redb, one file, the default) for a single server, and Redis
//! for several servers behind a load balancer that must see each other's writes.

mod embedded;
mod redis;

use std::path::Path;
use valor_host::kv::{Failure, Store, StoreError};

/// What a compare-and-swap found when it did not swap: the current value, if any.
pub type Current = Option<Vec<u8>>;

/// A store failure, as the plugin's `kv` operation reports it (`FAILED`, 503 by default).
#[derive(Debug, thiserror::Error)]
#[error("{operation} in namespace {namespace:?} failed: {reason}")]
pub struct StorageError {
    operation: String,
    namespace: String,
    reason: String,
    failure: Failure,
}

impl StorageError {
    fn new(
        operation: impl Into<String>,
        namespace: &str,
        failure: Failure,
        reason: impl std::fmt::Display,
    ) -> Self {
        Self {
            operation: operation.into(),
            namespace: namespace.to_owned(),
            reason: reason.to_string(),
            failure,
        }
    }
}

impl StoreError for StorageError {
    fn failure(&self) -> Failure {
        self.failure
    }
}

/// A handle on the store; cheap to clone.
#[derive(Clone)]
pub enum Storage {
    /// A redb file on this machine.
    Embedded(embedded::Embedded),
    /// A Redis server shared with other Valor servers.
    Redis(redis::Shared),
}

impl Storage {
    /// The embedded store in the file at `path` (created if missing).
    pub fn open_file(path: &Path) -> Result<Self, String> {
        embedded::Embedded::open(path).map(Self::Embedded)
    }

    /// The Redis server at `url` (`redis://host:port/db`), checked with a `PING`, and the
    /// format of its data (`valor:format`).
    pub async fn connect_redis(url: &str) -> Result<Self, String> {
        redis::Shared::connect(url).await.map(Self::Redis)
    }

    /// Where the data is, for the log.
    pub fn describe(&self) -> String {
        match self {
            Self::Embedded(store) => store.describe(),
            Self::Redis(store) => store.describe(),
        }
    }
}

/// The store as one plugin's `kv` sees it: its listings bounded by what its memory can hold
/// (`max_listing_bytes`, from its `memory_mb`), so that no plugin makes the server read more of
/// its namespace than the plugin could ever be handed.
pub struct PluginStore<'a> {
    storage: &'a Storage,
    max_listing_bytes: u64,
}

impl Storage {
    /// The store of a plugin whose listings may be at most `max_listing_bytes`.
    pub fn for_plugin(&self, max_listing_bytes: u64) -> PluginStore<'_> {
        PluginStore {
            storage: self,
            max_listing_bytes,
        }
    }

    /// The keys starting with `prefix`, sorted; refused past `max_bytes` of keys.
    async fn keys_within(
        &self,
        namespace: &str,
        prefix: &str,
        max_bytes: u64,
    ) -> Result<Vec<String>, StorageError> {
        match self {
            Self::Embedded(store) => store.keys(namespace, prefix, max_bytes).await,
            Self::Redis(store) => store.keys(namespace, prefix, max_bytes).await,
        }
    }

    /// The entries starting with `prefix`, sorted, one snapshot; refused past `max_bytes` of
    /// keys and values.
    async fn scan_within(
        &self,
        namespace: &str,
        prefix: &str,
        max_bytes: u64,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        match self {
            Self::Embedded(store) => store.scan(namespace, prefix, max_bytes).await,
            Self::Redis(store) => store.scan(namespace, prefix, max_bytes).await,
        }
    }
}

impl Store for PluginStore<'_> {
    type Error = StorageError;

    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.storage.get(namespace, key).await
    }

    async fn put(&self, namespace: &str, key: &str, value: &[u8]) -> Result<(), StorageError> {
        self.storage.put(namespace, key, value).await
    }

    async fn delete(&self, namespace: &str, key: &str) -> Result<(), StorageError> {
        self.storage.delete(namespace, key).await
    }

    async fn keys(&self, namespace: &str, prefix: &str) -> Result<Vec<String>, StorageError> {
        self.storage
            .keys_within(namespace, prefix, self.max_listing_bytes)
            .await
    }

    async fn scan(
        &self,
        namespace: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        self.storage
            .scan_within(namespace, prefix, self.max_listing_bytes)
            .await
    }

    async fn compare_and_swap(
        &self,
        namespace: &str,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Result<(), Current>, StorageError> {
        self.storage
            .compare_and_swap(namespace, key, expected, new)
            .await
    }
}

/// The operations of `kv` on the whole store, unbounded (the registry's records).
impl Store for Storage {
    type Error = StorageError;

    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        match self {
            Self::Embedded(store) => store.get(namespace, key).await,
            Self::Redis(store) => store.get(namespace, key).await,
        }
    }

    async fn put(&self, namespace: &str, key: &str, value: &[u8]) -> Result<(), StorageError> {
        match self {
            Self::Embedded(store) => store.put(namespace, key, value).await,
            Self::Redis(store) => store.put(namespace, key, value).await,
        }
    }

    async fn delete(&self, namespace: &str, key: &str) -> Result<(), StorageError> {
        match self {
            Self::Embedded(store) => store.delete(namespace, key).await,
            Self::Redis(store) => store.delete(namespace, key).await,
        }
    }

    /// The keys starting with `prefix`, sorted.
    async fn keys(&self, namespace: &str, prefix: &str) -> Result<Vec<String>, StorageError> {
        self.keys_within(namespace, prefix, u64::MAX).await
    }

    /// The entries whose key starts with `prefix`, sorted by key, as one snapshot.
    async fn scan(
        &self,
        namespace: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        self.scan_within(namespace, prefix, u64::MAX).await
    }

    /// Sets `key` to `new` (`None`: deletes it) if its value is still `expected`, atomically;
    /// otherwise changes nothing and returns the value found.
    async fn compare_and_swap(
        &self,
        namespace: &str,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Result<(), Current>, StorageError> {
        match self {
            Self::Embedded(store) => store.compare_and_swap(namespace, key, expected, new).await,
            Self::Redis(store) => store.compare_and_swap(namespace, key, expected, new).await,
        }
    }
}
