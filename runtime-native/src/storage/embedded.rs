//! The embedded store: one redb file, one table keyed by (namespace, key). redb's transactions
//! are serializable and its commits durable, so a compare-and-swap is one write transaction.
//! Its calls block, so each runs on tokio's blocking pool.
//!
//! After an I/O error (a full disk), redb refuses every later operation on that `Database`
//! (`PreviousIo`, reads of pages not in its cache included) until the file is opened again,
//! which rolls back to the last commit: so the store reopens itself then, and an operation
//! refused before it touched the file runs again on the reopened one. A write that found no
//! room makes the next writes wait a moment (`room`).

mod format;
mod holder;
mod room;

use super::{Current, StorageError};
use redb::{
    CommitError, Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction,
};
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use valor_host::kv::Failure;

const ENTRIES: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("valor_kv");

#[derive(Clone)]
pub struct Embedded {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// Operations hold it shared; a reopen holds it alone, once they are done.
    open: RwLock<Open>,
    room: room::Room,
}

/// What an operation does to the store, for `room::Room`.
#[derive(Clone, Copy, PartialEq)]
enum Effect {
    Reads,
    Adds,
    Removes,
}

struct Open {
    /// `None` after a reopen that failed: the next operation tries again.
    database: Option<Database>,
    /// How many times the file was reopened, so that one failure reopens it once.
    generation: u64,
    /// Why the last reopen failed.
    refusal: String,
    /// How long the last reopen took.
    reopening: std::time::Duration,
}

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
enum Fault {
    #[error(transparent)]
    Store(#[from] redb::Error),
    #[error("the store could not be opened again after an I/O error: {0}")]
    Closed(String),
    #[error("{0}")]
    NoRoom(String),
}

impl Fault {
    /// redb refuses the `Database` after this: it must be opened again.
    fn needs_reopen(&self) -> bool {
        matches!(
            self,
            Self::Store(redb::Error::Io(_) | redb::Error::PreviousIo) | Self::Closed(_)
        )
    }

    /// Refused before it touched the file: it may run again.
    fn may_retry(&self) -> bool {
        matches!(self, Self::Store(redb::Error::PreviousIo) | Self::Closed(_))
    }

    /// Full when the disk (or the user's quota) had no room for the write.
    fn failure(&self) -> Failure {
        match self {
            Self::Store(redb::Error::Io(io)) => failure_of(io),
            Self::NoRoom(_) => Failure::Full,
            // Refused while the store reopened: it may well succeed now.
            Self::Store(redb::Error::PreviousIo) => Failure::Unavailable,
            _ => Failure::Other,
        }
    }
}

fn failure_of(io: &std::io::Error) -> Failure {
    match io.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => Failure::Full,
        _ => Failure::Other,
    }
}

/// Commits `txn`. redb says `PreviousIo` when an I/O error elsewhere stopped the commit, which
/// may have reached the file by then: that one is never run again.
fn commit(txn: WriteTransaction) -> Result<(), redb::Error> {
    txn.commit().map_err(|error| match error {
        CommitError::Storage(redb::StorageError::PreviousIo) => redb::Error::Io(
            std::io::Error::other("an I/O error elsewhere interrupted this commit"),
        ),
        other => other.into(),
    })
}

/// Opens (or creates) the file, checks its format and makes its tables.
fn open_database(path: &Path) -> Result<Database, String> {
    let fail =
        |e: &dyn std::fmt::Display| format!("opening the store {} failed: {e}", path.display());
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| fail(&e))?;
    }
    let database = Database::create(path).map_err(|e| match e {
        redb::DatabaseError::DatabaseAlreadyOpen => format!(
            "the store {} is locked by {}: stop it, or give this valor serve another --data \
             (or --redis, a store servers share)",
            path.display(),
            holder::describe(path)
                .unwrap_or_else(|| "another process (another valor serve?)".into()),
        ),
        other => fail(&other),
    })?;
    format::prepare(&database, path, ENTRIES)?;
    Ok(database)
}

impl Embedded {
    pub fn open(path: &Path) -> Result<Self, String> {
        let database = open_database(path)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                open: RwLock::new(Open {
                    database: Some(database),
                    generation: 0,
                    refusal: String::new(),
                    reopening: std::time::Duration::ZERO,
                }),
                room: room::Room::default(),
            }),
        })
    }

    pub fn describe(&self) -> String {
        format!("embedded, in {}", self.inner.path.display())
    }

    /// Runs `work` on the blocking pool; its errors name the operation and namespace.
    async fn blocking<T: Send + 'static>(
        &self,
        operation: String,
        namespace: &str,
        effect: Effect,
        work: impl Fn(&Database) -> Result<T, redb::Error> + Send + 'static,
    ) -> Result<T, StorageError> {
        let inner = Arc::clone(&self.inner);
        let outcome = tokio::task::spawn_blocking(move || inner.run(effect, work)).await;
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(fault)) => Err(StorageError::new(
                operation,
                namespace,
                fault.failure(),
                fault,
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
        self.blocking(
            format!("reading key {key:?}"),
            namespace,
            Effect::Reads,
            move |db| {
                let table = db.begin_read()?.open_table(ENTRIES)?;
                Ok(table
                    .get((ns.as_str(), k.as_str()))?
                    .map(|v| v.value().to_vec()))
            },
        )
        .await
    }

    pub async fn put(&self, namespace: &str, key: &str, value: &[u8]) -> Result<(), StorageError> {
        let (ns, k, v) = (namespace.to_owned(), key.to_owned(), value.to_vec());
        self.blocking(
            format!("writing key {key:?}"),
            namespace,
            Effect::Adds,
            move |db| {
                let txn = db.begin_write()?;
                txn.open_table(ENTRIES)?
                    .insert((ns.as_str(), k.as_str()), v.as_slice())?;
                commit(txn)
            },
        )
        .await
    }

    pub async fn delete(&self, namespace: &str, key: &str) -> Result<(), StorageError> {
        let (ns, k) = (namespace.to_owned(), key.to_owned());
        self.blocking(
            format!("deleting key {key:?}"),
            namespace,
            Effect::Removes,
            move |db| {
                let txn = db.begin_write()?;
                txn.open_table(ENTRIES)?.remove((ns.as_str(), k.as_str()))?;
                commit(txn)
            },
        )
        .await
    }

    pub async fn scan(
        &self,
        namespace: &str,
        prefix: &str,
        max_bytes: u64,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        let (ns, p) = (namespace.to_owned(), prefix.to_owned());
        let operation = format!("listing keys starting with {prefix:?}");
        let listed = self.blocking(operation.clone(), namespace, Effect::Reads, move |db| {
            let table = db.begin_read()?.open_table(ENTRIES)?;
            let (mut entries, mut bytes) = (Vec::new(), 0u64);
            for entry in table.range((ns.as_str(), p.as_str())..)? {
                let (key, value) = entry?;
                let (entry_ns, entry_key) = key.value();
                if entry_ns != ns || !entry_key.starts_with(p.as_str()) {
                    break;
                }
                let value = value.value();
                bytes += (entry_key.len() + value.len()) as u64;
                if bytes > max_bytes {
                    return Ok(None);
                }
                entries.push((entry_key.to_owned(), value.to_vec()));
            }
            Ok(Some(entries))
        });
        listed.await?.ok_or_else(|| {
            StorageError::new(
                operation,
                namespace,
                Failure::Other,
                super::over_budget(max_bytes),
            )
        })
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
        let effect = if new.is_some() {
            Effect::Adds
        } else {
            Effect::Removes
        };
        self.blocking(
            format!("swapping key {key:?}"),
            namespace,
            effect,
            move |db| {
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
                    Ok(()) => commit(txn)?,
                    Err(_) => txn.abort()?,
                }
                Ok(outcome)
            },
        )
        .await
    }
}

impl Inner {
    /// Runs `work` on the open database, unless it adds data to a disk that had no room a
    /// moment ago (`room`); after an I/O error, opens the file again, and runs `work` again
    /// (3 times in all) while it was refused before it touched the file.
    fn run<T>(
        &self,
        effect: Effect,
        work: impl Fn(&Database) -> Result<T, redb::Error>,
    ) -> Result<T, Fault> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            if effect == Effect::Adds {
                if let Some(refusal) = self.room.refusal() {
                    return Err(Fault::NoRoom(refusal));
                }
            }
            let (outcome, generation) = self.attempt(effect, &work);
            let fault = match outcome {
                Ok(value) => {
                    if effect == Effect::Removes {
                        self.room.freed();
                    }
                    return Ok(value);
                }
                Err(fault) => fault,
            };
            if fault.needs_reopen() {
                self.reopen(generation, &fault);
            }
            if fault.may_retry() && attempts < 3 {
                continue;
            }
            return Err(fault);
        }
    }

    /// Runs `work` once, on the open database: its outcome, and the database's generation.
    fn attempt<T>(
        &self,
        effect: Effect,
        work: impl Fn(&Database) -> Result<T, redb::Error>,
    ) -> (Result<T, Fault>, u64) {
        let open = self.open.read().unwrap_or_else(PoisonError::into_inner);
        let outcome = match &open.database {
            Some(database) => work(database).map_err(Fault::from),
            None => Err(Fault::Closed(open.refusal.clone())),
        };
        if let Err(fault) = &outcome {
            if effect == Effect::Adds && fault.failure() == Failure::Full {
                // Said before the database is let go: the writes it made fail (`PreviousIo`)
                // find it when they try again, after the reopen.
                self.room.full(fault.to_string(), open.reopening);
            }
        }
        (outcome, open.generation)
    }

    /// Opens the file again, unless another operation did since `generation`.
    fn reopen(&self, generation: u64, fault: &Fault) {
        let mut open = self.open.write().unwrap_or_else(PoisonError::into_inner);
        if open.generation != generation {
            return;
        }
        open.generation += 1;
        let started = std::time::Instant::now();
        // Closed first: the new one takes the file's lock.
        drop(open.database.take());
        let reopened = open_database(&self.path);
        open.reopening = started.elapsed();
        match reopened {
            Ok(database) => {
                tracing::warn!(
                    "the store {} reopened in {:?} after: {fault}",
                    self.path.display(),
                    open.reopening
                );
                open.database = Some(database);
            }
            Err(refusal) => {
                tracing::error!(
                    "the store {} is closed after: {fault}; {refusal}",
                    self.path.display()
                );
                open.refusal = refusal;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn no_room_and_no_quota_are_full_other_io_errors_are_not() {
        // ENOSPC, EDQUOT, EIO, EACCES.
        for (errno, failure) in [
            (28, Failure::Full),
            (122, Failure::Full),
            (5, Failure::Other),
            (13, Failure::Other),
        ] {
            let io = std::io::Error::from_raw_os_error(errno);
            assert_eq!(
                Fault::Store(redb::Error::Io(io)).failure(),
                failure,
                "{errno}"
            );
        }
        assert_eq!(
            Fault::Store(redb::Error::PreviousIo).failure(),
            Failure::Unavailable
        );
    }

    #[test]
    fn a_store_in_use_says_by_whom_and_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.redb");
        let _first = Embedded::open(&path).unwrap();
        let error = Embedded::open(&path).err().unwrap();
        assert!(error.contains("locked by another process"), "{error}");
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(error.contains("--data"), "{error}");
    }
}
