//! Registrations, replacements and removals, kept in IndexedDB so that they outlive the service
//! worker (which the browser stops whenever it idles).
//!
//! One record per plugin name, in the `valor` database under a namespace no plugin can have
//! (plugin names cannot contain `:`): the entry as registered (its `url` made absolute), or a
//! removal.

use crate::storage::{Storage, StorageError};
use serde::{Deserialize, Serialize};

const NAMESPACE: &str = "valor:registry";

/// What the registry did to a name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    /// Registered or replaced with this entry.
    Entry(serde_json::Value),
    /// Removed (a manifest plugin stays removed).
    Removed,
}

/// The registry's records.
#[derive(Clone)]
pub struct Store {
    storage: Storage,
}

impl Store {
    pub fn new(storage: Storage) -> Self {
        Self { storage }
    }

    pub async fn save(&self, name: &str, record: &Record) -> Result<(), StorageError> {
        let bytes = serde_json::to_vec(record).unwrap_or_default();
        self.storage.put(NAMESPACE, name, &bytes).await
    }

    pub async fn forget(&self, name: &str) -> Result<(), StorageError> {
        self.storage.delete(NAMESPACE, name).await
    }

    /// Every record, by name; records that cannot be read are skipped (and said).
    pub async fn all(&self) -> Result<Vec<(String, Record)>, StorageError> {
        let mut records = Vec::new();
        for name in self.storage.keys(NAMESPACE, "").await? {
            let Some(bytes) = self.storage.get(NAMESPACE, &name).await? else {
                continue;
            };
            match serde_json::from_slice(&bytes) {
                Ok(record) => records.push((name, record)),
                Err(error) => web_sys::console::error_1(
                    &format!("[valor] the stored registration of '{name}' is unreadable: {error}")
                        .into(),
                ),
            }
        }
        Ok(records)
    }
}
