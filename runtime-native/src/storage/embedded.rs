//! The embedded store: one redb file, one table keyed by (namespace, key). redb's transactions
//! are serializable and its commits durable, so a compare-and-swap is one write transaction.
//! Its calls block, so each runs on tokio's blocking pool.
//!
//! After an I/O error (a full disk), redb refuses every later operation on that `Database`
//! (`PreviousIo`, reads of pages not in its cache included) until the file is opened again,
//! which rolls back to the last commit: so the store reopens itself then, and an operation
//! refused before it touched the file runs again on the reopened one. A reopen opens the very
//! file opened at start (`identity`) or nothing: while that file is gone, kv answers 503 and
//! the store tries again at most once a second. A write that found no room makes the next
//! writes wait a moment (`room`); a delete that found none lets the reserve go (`reserve`).

mod format;
mod holder;
mod identity;
mod reserve;
mod room;
mod throttle;

use super::{Current, StorageError};
use redb::{
    CommitError, Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction,
};
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};
use valor_host::kv::Failure;

const ENTRIES: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("valor_kv");

/// The embedded store: one redb file; cheap to clone.
#[derive(Clone)]
pub struct Embedded {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// The file opened at start: the only one a reopen opens.
    identity: identity::Identity,
    /// Operations hold it shared; a reopen holds it alone, once they are done.
    open: RwLock<Open>,
    room: room::Room,
    reserve: reserve::Reserve,
    /// WARN lines about reopens, and about the reserve let go.
    reopens_logged: throttle::Throttle,
    releases_logged: throttle::Throttle,
}

/// What an operation does to the store, for `room::Room`.
#[derive(Clone, Copy, PartialEq)]
enum Effect {
    Reads,
    Adds,
    /// `again`: it may run again after it failed in its commit (a delete: deleting twice is
    /// deleting once; a compare-and-swap may not, its second run would find its own work).
    Removes {
        again: bool,
    },
}

/// How often an operation refused before it touched the file (`PreviousIo`) runs again: reads
/// more, so that the writes of a plugin on a full disk never fail another plugin's reads.
fn attempts(effect: Effect) -> u32 {
    match effect {
        Effect::Reads => 10,
        _ => 3,
    }
}

/// While the file is gone, how often an operation tries to open it again.
const CLOSED_RETRY: Duration = Duration::from_secs(1);

/// At most one WARN line this often about reopens, and about the reserve let go (with how many
/// there were since).
const LOG_EVERY: Duration = Duration::from_secs(10);

struct Open {
    /// `None` after a reopen that failed: a later operation tries again (`CLOSED_RETRY`).
    database: Option<Database>,
    /// How many times the file was reopened, so that one failure reopens it once.
    generation: u64,
    /// Why the last reopen failed.
    refusal: String,
    /// How long the last reopen took.
    reopening: Duration,
    /// When the last reopen was tried.
    tried: Instant,
}

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
enum Fault {
    #[error(transparent)]
    Store(#[from] redb::Error),
    #[error("the store is closed after an I/O error: {0}")]
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

    /// Refused before it touched the file: it may run again on the reopened one.
    fn may_retry(&self) -> bool {
        matches!(self, Self::Store(redb::Error::PreviousIo) | Self::Closed(_))
    }

    /// Full when the disk (or the user's quota) had no room for the write.
    fn failure(&self) -> Failure {
        match self {
            Self::Store(redb::Error::Io(io)) => failure_of(io),
            Self::NoRoom(_) => Failure::Full,
            // Refused while the store reopened: it may well succeed now. Closed: the file is
            // gone, and may be back in a moment (a volume remounted).
            Self::Store(redb::Error::PreviousIo) | Self::Closed(_) => Failure::Unavailable,
            _ => Failure::Other,
        }
    }
}

fn failure_of(io: &std::io::Error) -> Failure {
    if reserve::is_no_room(io) {
        Failure::Full
    } else {
        Failure::Other
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

/// Opens the file again after an I/O error: the same file (`identity`) or nothing, never
/// creating one (where a volume was unmounted, a new store would hide every value).
fn open_again(path: &Path, identity: identity::Identity) -> Result<Database, Refusal> {
    match identity::Identity::of(path) {
        Ok(found) if found == identity => {}
        Ok(_) => {
            return Err(Refusal::Gone(format!(
                "the store {} is no longer the file this valor opened: another file was put in \
                 its place; kv answers 503 until the file opened at start is back there (then \
                 the store opens it again by itself), or restart valor to use the new one",
                path.display()
            )))
        }
        Err(error) => {
            return Err(Refusal::Gone(format!(
                "the store {} is gone ({error}): removed, moved, or its volume unmounted; kv \
                 answers 503 until it is back (then the store opens it again by itself), or \
                 restart valor",
                path.display()
            )))
        }
    }
    let database = Database::open(path).map_err(|error| match error {
        redb::DatabaseError::Storage(redb::StorageError::Io(io)) if reserve::is_no_room(&io) => {
            Refusal::NoRoom(format!(
                "opening the store {} again failed: {io}",
                path.display()
            ))
        }
        other => Refusal::Other(format!(
            "opening the store {} again failed: {other}",
            path.display()
        )),
    })?;
    format::prepare(&database, path, ENTRIES).map_err(Refusal::Other)?;
    Ok(database)
}

/// Why a reopen failed.
enum Refusal {
    Gone(String),
    NoRoom(String),
    Other(String),
}

impl Refusal {
    fn into_message(self) -> String {
        match self {
            Self::Gone(message) | Self::NoRoom(message) | Self::Other(message) => message,
        }
    }
}

impl Embedded {
    /// Opens (or creates) the store in the file at `path`, with its reserve beside it.
    pub fn open(path: &Path) -> Result<Self, String> {
        let database = open_database(path)?;
        let identity = identity::Identity::of(path)
            .map_err(|e| format!("opening the store {} failed: {e}", path.display()))?;
        let reserve = reserve::Reserve::beside(path);
        match reserve.fill() {
            Ok(held) if held < reserve::SIZE => tracing::warn!(
                "the disk of the store {} is almost full: its reserve {} holds {} KiB of {} \
                 (what lets deletes make room once writes filled the disk): free disk space",
                path.display(),
                reserve.path().display(),
                held / 1024,
                reserve::SIZE / 1024
            ),
            Ok(_) => {}
            Err(error) => {
                return Err(format!(
                    "making the store's reserve {} failed: {error}",
                    reserve.path().display()
                ))
            }
        }
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                identity,
                open: RwLock::new(Open {
                    database: Some(database),
                    generation: 0,
                    refusal: String::new(),
                    reopening: Duration::ZERO,
                    tried: Instant::now(),
                }),
                room: room::Room::default(),
                reserve,
                reopens_logged: throttle::Throttle::new(LOG_EVERY),
                releases_logged: throttle::Throttle::new(LOG_EVERY),
            }),
        })
    }

    /// Where the data is, for the log.
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
        made_room: fn(&T) -> bool,
    ) -> Result<T, StorageError> {
        let inner = Arc::clone(&self.inner);
        let outcome = tokio::task::spawn_blocking(move || inner.run(effect, work, made_room)).await;
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

    /// The value under `key`, if any.
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
            |_| false,
        )
        .await
    }

    /// Stores `value` under `key`, durably.
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
            |_| false,
        )
        .await
    }

    /// Removes `key` (nothing to remove is no error).
    pub async fn delete(&self, namespace: &str, key: &str) -> Result<(), StorageError> {
        let (ns, k) = (namespace.to_owned(), key.to_owned());
        self.blocking(
            format!("deleting key {key:?}"),
            namespace,
            Effect::Removes { again: true },
            move |db| {
                let txn = db.begin_write()?;
                let removed = txn
                    .open_table(ENTRIES)?
                    .remove((ns.as_str(), k.as_str()))?
                    .is_some();
                commit(txn)?;
                Ok(removed)
            },
            |removed| *removed,
        )
        .await
        .map(drop)
    }

    /// The entries whose keys start with `prefix`, sorted; at most `max_bytes` of them.
    pub async fn scan(
        &self,
        namespace: &str,
        prefix: &str,
        max_bytes: u64,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        self.list(namespace, prefix, max_bytes, true).await
    }

    /// The keys starting with `prefix`, sorted; at most `max_bytes` of them (their values are
    /// not read).
    pub async fn keys(
        &self,
        namespace: &str,
        prefix: &str,
        max_bytes: u64,
    ) -> Result<Vec<String>, StorageError> {
        let entries = self.list(namespace, prefix, max_bytes, false).await?;
        Ok(entries.into_iter().map(|(key, _)| key).collect())
    }

    /// The entries starting with `prefix`, sorted, with their values if `values` (else empty);
    /// refused past `max_bytes` of what is listed.
    async fn list(
        &self,
        namespace: &str,
        prefix: &str,
        max_bytes: u64,
        values: bool,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        let (ns, p) = (namespace.to_owned(), prefix.to_owned());
        let operation = format!("listing keys starting with {prefix:?}");
        let listed = self.blocking(
            operation.clone(),
            namespace,
            Effect::Reads,
            move |db| {
                let table = db.begin_read()?.open_table(ENTRIES)?;
                let (mut entries, mut bytes) = (Vec::new(), 0u64);
                for entry in table.range((ns.as_str(), p.as_str())..)? {
                    let (key, value) = entry?;
                    let (entry_ns, entry_key) = key.value();
                    if entry_ns != ns || !entry_key.starts_with(p.as_str()) {
                        break;
                    }
                    let value = if values {
                        value.value().to_vec()
                    } else {
                        Vec::new()
                    };
                    bytes += (entry_key.len() + value.len()) as u64;
                    if bytes > max_bytes {
                        return Ok(None);
                    }
                    entries.push((entry_key.to_owned(), value));
                }
                Ok(Some(entries))
            },
            |_| false,
        );
        listed.await?.ok_or_else(|| {
            StorageError::new(
                operation,
                namespace,
                Failure::Other,
                valor_host::kv::listing_too_large(max_bytes),
            )
        })
    }

    /// Sets `key` to `new` (`None`: removes it) if its value is `expected` (`None`: absent);
    /// otherwise answers the value it has.
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
            Effect::Removes { again: false }
        };
        let removes = expected.is_some() && new.is_none();
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
            // Only a swap to none that swapped removed a value.
            if removes {
                |swapped: &Result<(), Current>| swapped.is_ok()
            } else {
                |_| false
            },
        )
        .await
    }
}

impl Inner {
    /// Runs `work` on the open database, unless an operation of its kind found no room a
    /// moment ago (`room`); after an I/O error, opens the file again, and runs `work` again
    /// while it was refused before it touched the file (`attempts`), or, for a delete, once
    /// the reserve was let go.
    fn run<T>(
        &self,
        effect: Effect,
        work: impl Fn(&Database) -> Result<T, redb::Error>,
        made_room: fn(&T) -> bool,
    ) -> Result<T, Fault> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let refusal = match effect {
                // A closed store says so (503), rather than that the disk was full.
                _ if self.is_closed() => None,
                Effect::Reads => None,
                Effect::Adds => self.room.refusal_to_add(),
                Effect::Removes { .. } => self.room.refusal_to_remove(),
            };
            if let Some(refusal) = refusal {
                return Err(Fault::NoRoom(refusal));
            }
            let (outcome, generation, released) = self.attempt(effect, &work);
            let fault = match outcome {
                Ok(value) => {
                    if made_room(&value) {
                        self.room.freed();
                        self.refill_reserve();
                    }
                    return Ok(value);
                }
                Err(fault) => fault,
            };
            let reopened = fault.needs_reopen() && self.reopen(generation, &fault);
            let again = match fault {
                Fault::Closed(_) => reopened,
                _ if released => effect == Effect::Removes { again: true },
                _ => fault.may_retry(),
            };
            if again && attempts < self::attempts(effect) {
                continue;
            }
            return Err(fault);
        }
    }

    fn is_closed(&self) -> bool {
        let open = self.open.read().unwrap_or_else(PoisonError::into_inner);
        open.database.is_none()
    }

    /// Runs `work` once, on the open database: its outcome, the database's generation, and
    /// whether it let the reserve go (a delete that found no room).
    fn attempt<T>(
        &self,
        effect: Effect,
        work: impl Fn(&Database) -> Result<T, redb::Error>,
    ) -> (Result<T, Fault>, u64, bool) {
        let open = self.open.read().unwrap_or_else(PoisonError::into_inner);
        let outcome = match &open.database {
            Some(database) => work(database).map_err(Fault::from),
            None => Err(Fault::Closed(open.refusal.clone())),
        };
        let mut released = false;
        if let Err(fault) = &outcome {
            // Said before the database is let go: the operations it made fail (`PreviousIo`)
            // find it when they try again, after the reopen.
            if fault.failure() == Failure::Full {
                match effect {
                    Effect::Adds => self.room.full(fault.to_string(), open.reopening),
                    Effect::Removes { .. } => {
                        released = self.release_reserve(fault);
                        if released {
                            // The room let go is for deletes: writes keep out until one of them
                            // removed a value.
                            self.room.full(fault.to_string(), open.reopening);
                        } else {
                            self.room
                                .full_for_removals(fault.to_string(), open.reopening);
                        }
                    }
                    Effect::Reads => {}
                }
            }
        }
        (outcome, open.generation, released)
    }

    /// Lets the reserve go, so that deletes (and the reopen before them) have room: whether
    /// it held anything.
    fn release_reserve(&self, fault: &Fault) -> bool {
        let released = self.reserve.release();
        if released == 0 {
            return false;
        }
        tracing::debug!("the store's reserve ({released} bytes) let go");
        if let Some(left_out) = self.releases_logged.pass() {
            tracing::warn!(
                "the disk of the store {} is full ({fault}): let its reserve {} ({} KiB) go so \
                 that deletes make room; free disk space (each delete makes the reserve again \
                 with what the disk holds){}",
                self.path.display(),
                self.reserve.path().display(),
                released / 1024,
                throttle::more(left_out)
            );
        }
        true
    }

    /// After a delete made room: the reserve again, if it was let go, while no operation runs
    /// (a write would take the room first).
    fn refill_reserve(&self) {
        if !self.reserve.is_short() {
            return;
        }
        let _alone = self.open.write().unwrap_or_else(PoisonError::into_inner);
        match self.reserve.fill() {
            Ok(held) => tracing::debug!("the store's reserve made again: {held} bytes"),
            Err(error) => tracing::warn!(
                "making the store's reserve {} again failed: {error}",
                self.reserve.path().display()
            ),
        }
    }

    /// Opens the file again, unless another operation did since `generation`, or, while it is
    /// closed, unless it was tried less than `CLOSED_RETRY` ago: whether it is open now.
    fn reopen(&self, generation: u64, fault: &Fault) -> bool {
        let mut open = self.open.write().unwrap_or_else(PoisonError::into_inner);
        let closed = open.database.is_none();
        if open.generation != generation || (closed && open.tried.elapsed() < CLOSED_RETRY) {
            return open.database.is_some();
        }
        open.generation += 1;
        let started = Instant::now();
        // Closed first: the new one takes the file's lock.
        drop(open.database.take());
        let mut reopened = open_again(&self.path, self.identity);
        if let Err(Refusal::NoRoom(_)) = &reopened {
            // Its repair had no room: the reserve is there for that too.
            if self.release_reserve(fault) {
                self.room.full(fault.to_string(), open.reopening);
                reopened = open_again(&self.path, self.identity);
            }
        }
        open.reopening = started.elapsed();
        open.tried = Instant::now();
        match reopened {
            Ok(database) => {
                open.database = Some(database);
                if closed {
                    tracing::info!("the store {} is open again", self.path.display());
                } else {
                    self.log_reopen(&mut open, fault);
                }
                true
            }
            Err(refusal) => {
                let refusal = refusal.into_message();
                // Once per cause, not once a second while the file is gone.
                if refusal != open.refusal {
                    tracing::error!(
                        "the store {} is closed after: {fault}; {refusal}",
                        self.path.display()
                    );
                }
                open.refusal = refusal;
                false
            }
        }
    }

    /// A WARN line for the first reopen, then at most one every `LOG_EVERY` (a full disk
    /// under many writers), and a DEBUG line for each.
    fn log_reopen(&self, open: &mut Open, fault: &Fault) {
        open.refusal.clear();
        tracing::debug!(
            "the store {} reopened (generation {}) in {:?}",
            self.path.display(),
            open.generation,
            open.reopening
        );
        if let Some(left_out) = self.reopens_logged.pass() {
            tracing::warn!(
                "the store {} reopened in {:?} after: {fault}{}",
                self.path.display(),
                open.reopening,
                throttle::more(left_out)
            );
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
