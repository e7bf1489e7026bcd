//! The embedded store: one redb file, one table keyed by (namespace, key). redb's transactions
//! are serializable and its commits durable, so a compare-and-swap is one write transaction.
//! Its calls block, so each runs on tokio's blocking pool.

use super::{Current, StorageError};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use valor_host::kv::Failure;

const ENTRIES: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("valor_kv");

#[derive(Clone)]
pub struct Embedded {
    database: Arc<Database>,
    path: PathBuf,
}

impl Embedded {
    pub fn open(path: &Path) -> Result<Self, String> {
        let fail =
            |e: &dyn std::fmt::Display| format!("opening the store {} failed: {e}", path.display());
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| fail(&e))?;
        }
        let database = Database::create(path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => format!(
                "the store {} is in use by another valor serve: stop that one, or give this one \
                 another --data (or --redis, a store servers share)",
                path.display()
            ),
            other => fail(&other),
        })?;
        // The table exists from the start: reads never meet a missing one.
        let txn = database.begin_write().map_err(|e| fail(&e))?;
        txn.open_table(ENTRIES).map_err(|e| fail(&e))?;
        txn.commit().map_err(|e| fail(&e))?;
        Ok(Self {
            database: Arc::new(database),
            path: path.to_owned(),
        })
    }

    pub fn describe(&self) -> String {
        format!("embedded, in {}", self.path.display())
    }

    /// Runs `work` on the blocking pool; its errors name the operation and namespace.
    async fn blocking<T: Send + 'static>(
        &self,
        operation: String,
        namespace: &str,
        work: impl FnOnce(&Database) -> Result<T, redb::Error> + Send + 'static,
    ) -> Result<T, StorageError> {
        let database = Arc::clone(&self.database);
        let outcome = tokio::task::spawn_blocking(move || work(&database)).await;
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(StorageError::new(
                operation,
                namespace,
                failure_of(&error),
                error,
            )),
            Err(error) => Err(StorageError::new(
                operation,
                namespace,
                Failure::Other,
                error,
            )),
        }
    }

    pub async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let (ns, k) = (namespace.to_owned(), key.to_owned());
        self.blocking(format!("reading key {key:?}"), namespace, move |db| {
            let table = db.begin_read()?.open_table(ENTRIES)?;
            Ok(table
                .get((ns.as_str(), k.as_str()))?
                .map(|v| v.value().to_vec()))
        })
        .await
    }

    pub async fn put(&self, namespace: &str, key: &str, value: &[u8]) -> Result<(), StorageError> {
        let (ns, k, v) = (namespace.to_owned(), key.to_owned(), value.to_vec());
        self.blocking(format!("writing key {key:?}"), namespace, move |db| {
            let txn = db.begin_write()?;
            txn.open_table(ENTRIES)?
                .insert((ns.as_str(), k.as_str()), v.as_slice())?;
            Ok(txn.commit()?)
        })
        .await
    }

    pub async fn delete(&self, namespace: &str, key: &str) -> Result<(), StorageError> {
        let (ns, k) = (namespace.to_owned(), key.to_owned());
        self.blocking(format!("deleting key {key:?}"), namespace, move |db| {
            let txn = db.begin_write()?;
            txn.open_table(ENTRIES)?.remove((ns.as_str(), k.as_str()))?;
            Ok(txn.commit()?)
        })
        .await
    }

    pub async fn scan(
        &self,
        namespace: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        let (ns, p) = (namespace.to_owned(), prefix.to_owned());
        self.blocking(
            format!("listing keys starting with {prefix:?}"),
            namespace,
            move |db| {
                let table = db.begin_read()?.open_table(ENTRIES)?;
                let mut entries = Vec::new();
                for entry in table.range((ns.as_str(), p.as_str())..)? {
                    let (key, value) = entry?;
                    let (entry_ns, entry_key) = key.value();
                    if entry_ns != ns || !entry_key.starts_with(p.as_str()) {
                        break;
                    }
                    entries.push((entry_key.to_owned(), value.value().to_vec()));
                }
                Ok(entries)
            },
        )
        .await
    }

    pub async fn compare_and_swap(
        &self,
        namespace: &str,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Result<(), Current>, StorageError> {
        let (ns, k) = (namespace.to_owned(), key.to_owned());
        let (expected, new) = (expected.map(<[u8]>::to_vec), new.map(<[u8]>::to_vec));
        self.blocking(format!("swapping key {key:?}"), namespace, move |db| {
            let txn = db.begin_write()?;
            let outcome = {
                let mut table = txn.open_table(ENTRIES)?;
                let id = (ns.as_str(), k.as_str());
                let current = table.get(id)?.map(|v| v.value().to_vec());
                if current != expected {
                    Err(current)
                } else {
                    match &new {
                        Some(value) => drop(table.insert(id, value.as_slice())?),
                        None => drop(table.remove(id)?),
                    }
                    Ok(())
                }
            };
            match outcome {
                Ok(()) => txn.commit()?,
                Err(_) => txn.abort()?,
            }
            Ok(outcome)
        })
        .await
    }
}

/// Full when the disk (or the user's quota) had no room for the write.
fn failure_of(error: &redb::Error) -> Failure {
    let io = match error {
        redb::Error::Io(io) => Some(io),
        _ => None,
    };
    match io.map(std::io::Error::kind) {
        Some(std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded) => Failure::Full,
        _ => Failure::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_in_use_says_by_whom_and_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.redb");
        let _first = Embedded::open(&path).unwrap();
        let error = Embedded::open(&path).err().unwrap();
        assert!(error.contains("in use by another valor serve"), "{error}");
        assert!(error.contains("--data"), "{error}");
    }
}
