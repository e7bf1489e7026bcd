//! A plugin's key-value commands, run in its own namespace of the IndexedDB store.

use super::PluginContext;
use crate::storage::{Storage, StorageError};
use std::rc::Rc;
use valor_host::kv::{Failure, Store, StoreError};

/// Runs the command encoded in `bytes`; returns the ABI result.
pub async fn run(context: Rc<PluginContext>, bytes: Vec<u8>) -> Vec<u8> {
    let limits = context.kv_limits();
    valor_host::kv::run(&context.host.storage, &context.name, limits, &bytes).await
}

/// IndexedDB's failures by kind: `QuotaExceededError` is a full store; a backing store that
/// failed or a connection closed under a transaction, unavailable; the rest (a database of a
/// newer Valor among them), other failures. See [`StorageError::failure`].
impl StoreError for StorageError {
    fn failure(&self) -> Failure {
        StorageError::failure(self)
    }
}

/// The store as the shared command runner sees it: its own methods.
impl Store for Storage {
    type Error = StorageError;

    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Storage::get(self, namespace, key).await
    }

    async fn put(&self, namespace: &str, key: &str, value: &[u8]) -> Result<(), StorageError> {
        Storage::put(self, namespace, key, value).await
    }

    async fn delete(&self, namespace: &str, key: &str) -> Result<(), StorageError> {
        Storage::delete(self, namespace, key).await
    }

    async fn keys(&self, namespace: &str, prefix: &str) -> Result<Vec<String>, StorageError> {
        Storage::keys(self, namespace, prefix).await
    }

    async fn scan(
        &self,
        namespace: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        Storage::scan(self, namespace, prefix).await
    }

    async fn compare_and_swap(
        &self,
        namespace: &str,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Result<(), Option<Vec<u8>>>, StorageError> {
        Storage::compare_and_swap(self, namespace, key, expected, new).await
    }
}
