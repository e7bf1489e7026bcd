//! Registrations, replacements and removals, kept in the host's store so that they outlive
//! the host (a service worker the browser stops whenever it idles, a server restarted).
//!
//! One record per plugin name, under a namespace no plugin can have (plugin names cannot
//! contain `:`): the entry as registered (its `url` made absolute), or a removal.

use crate::kv::Store;
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

/// The registry's records in `store`.
pub struct Records<S> {
    store: S,
}

impl<S: Store> Records<S> {
    /// The records kept in `store`.
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// Keeps `record` as the one of `name`, in place of any before it.
    pub async fn save(&self, name: &str, record: &Record) -> Result<(), S::Error> {
        let bytes = serde_json::to_vec(record).unwrap_or_default();
        self.store.put(NAMESPACE, name, &bytes).await
    }

    /// Drops the record of `name`, if any.
    pub async fn forget(&self, name: &str) -> Result<(), S::Error> {
        self.store.delete(NAMESPACE, name).await
    }

    /// Every record, by name, and the names whose record cannot be read, with why.
    #[allow(clippy::type_complexity)]
    pub async fn all(&self) -> Result<(Vec<(String, Record)>, Vec<(String, String)>), S::Error> {
        let mut records = Vec::new();
        let mut unreadable = Vec::new();
        for (name, bytes) in self.store.scan(NAMESPACE, "").await? {
            match serde_json::from_slice(&bytes) {
                Ok(record) => records.push((name, record)),
                Err(error) => unreadable.push((name, error.to_string())),
            }
        }
        Ok((records, unreadable))
    }
}
