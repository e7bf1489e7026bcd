//! Plugins' persistent key-value store, kept in IndexedDB.
//!
//! Every plugin writes under its own namespace. Entries are keyed by the IndexedDB array key
//! `[namespace, key]` rather than a joined string, so no key a plugin chooses can name an entry
//! of another namespace, and a listing ends exactly at its namespace's edge.
//!
//! Writes resolve only once their transaction has committed, so whatever a plugin was told is
//! stored is still there when the browser stops the service worker and starts a new one. (With
//! the browser's default durability, "relaxed" since Chrome 121, committed means handed to the
//! OS: it survives a browser crash, not necessarily a power cut.)
//!
//! One database (by default `valor`) holds one object store, `kv`, of byte values
//! (`Uint8Array`). A [`Storage`] opens its database on first use; each operation is one
//! transaction.
//!
//! The database's IndexedDB version is the format's version ([`VERSION`]): an older database is
//! migrated when opened (see `migrate`), a newer one (a newer Valor's) refused with
//! [`StorageError::Newer`]. Failures carry the kind a plugin is told ([`Failure`]): a write over
//! the origin's quota is [`Failure::Full`], and IndexedDB's transactions make sure such a write
//! changed nothing.
//!
//! # Examples
//!
//! ```no_run
//! # async fn run() -> Result<(), valor_runtime::storage::StorageError> {
//! use valor_runtime::storage::Storage;
//!
//! let storage = Storage::default();
//! storage.put("todo", "item/1", b"buy milk").await?;
//! assert_eq!(storage.get("todo", "item/1").await?, Some(b"buy milk".to_vec()));
//! assert_eq!(storage.keys("todo", "item/").await?, ["item/1"]);
//! # Ok(())
//! # }
//! ```

use std::{cell::RefCell, fmt, rc::Rc};

use futures::future::{FutureExt, LocalBoxFuture, Shared};
use js_sys::{Array, Function, JsString, Promise, Reflect, Uint8Array};
use valor_host::kv::Failure;
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    IdbDatabase, IdbFactory, IdbKeyRange, IdbObjectStore, IdbRequest, IdbTransaction,
    IdbTransactionMode,
};

use crate::sys::{copy_to_js, describe};

/// The database [`Storage::default`] uses.
pub const DEFAULT_DATABASE: &str = "valor";
const STORE: &str = "kv";
/// The version of the stored format, which is the database's IndexedDB version.
pub const VERSION: u32 = 1;

/// What failed in a storage operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The global scope has no `indexedDB` (or refuses access to it): no retry will find one.
    #[error("IndexedDB is not available in this context: the browser gives this site no storage")]
    NoIndexedDb,
    /// The database could not be opened (or created).
    #[error("opening database {database} failed: {reason}")]
    Open {
        /// The database's name.
        database: String,
        /// What the browser said.
        reason: Reason,
    },
    /// The database is in a newer format than this runtime's: a newer Valor wrote it, and this
    /// one would misread it. Nothing in it is touched.
    #[error(
        "the IndexedDB database {database} is at version {found}, written by a newer Valor; this \
         Valor reads version {VERSION} and older. Serve the newer Valor again, or delete the \
         site's data to start empty (the plugins' stored values are then lost)"
    )]
    Newer {
        /// The database's name.
        database: String,
        /// Its version, the format it is in.
        found: u64,
    },
    /// [`Storage::get`] failed.
    #[error("reading key {key:?} in namespace {namespace:?} failed: {reason}")]
    Read {
        /// The namespace read from.
        namespace: String,
        /// The key read.
        key: String,
        /// What failed.
        reason: Reason,
    },
    /// [`Storage::put`] failed; nothing was written.
    #[error("writing key {key:?} in namespace {namespace:?} failed: {reason}")]
    Write {
        /// The namespace written to.
        namespace: String,
        /// The key written.
        key: String,
        /// What failed.
        reason: Reason,
    },
    /// [`Storage::delete`] failed; the entry, if any, is still there.
    #[error("deleting key {key:?} in namespace {namespace:?} failed: {reason}")]
    Delete {
        /// The namespace deleted from.
        namespace: String,
        /// The key deleted.
        key: String,
        /// What failed.
        reason: Reason,
    },
    /// [`Storage::keys`] failed.
    #[error("listing keys starting with {prefix:?} in namespace {namespace:?} failed: {reason}")]
    List {
        /// The namespace listed.
        namespace: String,
        /// The prefix asked for.
        prefix: String,
        /// What failed.
        reason: Reason,
    },
}

impl StorageError {
    /// The kind of failure this is, as a plugin is told it.
    pub fn failure(&self) -> Failure {
        match self {
            StorageError::NoIndexedDb | StorageError::Newer { .. } => Failure::Other,
            StorageError::Open { reason, .. }
            | StorageError::Read { reason, .. }
            | StorageError::Write { reason, .. }
            | StorageError::Delete { reason, .. }
            | StorageError::List { reason, .. } => reason.failure,
        }
    }
}

/// Why the browser failed an operation: what it said, and the kind of failure that is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    failure: Failure,
    text: String,
}

impl Reason {
    /// A failure the browser reported (a `DOMException`, thrown or in an `error` property),
    /// classified by its name.
    fn of(error: &JsValue) -> Self {
        let name = Reflect::get(error, &"name".into())
            .ok()
            .and_then(|name| name.as_string());
        let failure = match name.as_deref() {
            // Over the origin's quota, or (Chromium says so too) the disk itself full.
            Some("QuotaExceededError") => Failure::Full,
            // The browser's backing store could not be opened or did not answer, the connection
            // closed under the transaction (site data cleared, a version change), a transaction
            // timed out: the same operation later may well succeed.
            Some("UnknownError" | "AbortError" | "TimeoutError") => Failure::Unavailable,
            // A value or key refused, a store missing, a version refused: retrying changes nothing.
            _ => Failure::Other,
        };
        Self {
            failure,
            text: describe(error),
        }
    }

    /// A failure of another kind, found by the runtime itself (an answer of the wrong shape).
    fn other(text: String) -> Self {
        Self {
            failure: Failure::Other,
            text,
        }
    }

    /// The kind of failure: [`Failure::Full`] for a quota exceeded, and so on.
    pub fn failure(&self) -> Failure {
        self.failure
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A handle on one IndexedDB database of namespaced byte values. Clones share the connection.
///
/// # Examples
///
/// ```no_run
/// # async fn run() -> Result<(), valor_runtime::storage::StorageError> {
/// let storage = valor_runtime::storage::Storage::new("valor");
/// storage.put("counter", "hits", &7u32.to_le_bytes()).await?;
/// storage.delete("counter", "hits").await?;
/// assert_eq!(storage.get("counter", "hits").await?, None);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Storage {
    inner: Rc<Inner>,
}

struct Inner {
    database: String,
    /// The open in progress or done, shared by everyone who needs the connection meanwhile.
    /// Cleared when it failed or the browser closed the connection, so the next use retries.
    connection: RefCell<Option<Connection>>,
}

type Connection = Shared<LocalBoxFuture<'static, Result<IdbDatabase, StorageError>>>;

impl Storage {
    /// A handle on the database `database`; nothing is opened until the first operation.
    pub fn new(database: &str) -> Self {
        Self {
            inner: Rc::new(Inner {
                database: database.to_owned(),
                connection: RefCell::new(None),
            }),
        }
    }

    /// The value of `key` in `namespace`, or `None` if there is none.
    pub async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let failed = |reason| StorageError::Read {
            namespace: namespace.to_owned(),
            key: key.to_owned(),
            reason,
        };
        let (_, store) = self
            .transaction(IdbTransactionMode::Readonly, &failed)
            .await?;
        let request = store
            .get(&entry_key(namespace, key))
            .map_err(|e| failed(Reason::of(&e)))?;
        let value = outcome(&request).await.map_err(failed)?;
        stored_bytes(value).map_err(|text| failed(Reason::other(text)))
    }

    /// Stores `value` as the value of `key` in `namespace`, replacing any previous one.
    /// Resolves once the write has committed.
    pub async fn put(&self, namespace: &str, key: &str, value: &[u8]) -> Result<(), StorageError> {
        let failed = |reason| StorageError::Write {
            namespace: namespace.to_owned(),
            key: key.to_owned(),
            reason,
        };
        let (transaction, store) = self
            .transaction(IdbTransactionMode::Readwrite, &failed)
            .await?;
        store
            .put_with_key(&copy_to_js(value), &entry_key(namespace, key))
            .map_err(|e| failed(Reason::of(&e)))?;
        committed(&transaction).await.map_err(failed)
    }

    /// Removes `key` from `namespace`; removing a key that is not there succeeds.
    /// Resolves once the removal has committed.
    pub async fn delete(&self, namespace: &str, key: &str) -> Result<(), StorageError> {
        let failed = |reason| StorageError::Delete {
            namespace: namespace.to_owned(),
            key: key.to_owned(),
            reason,
        };
        let (transaction, store) = self
            .transaction(IdbTransactionMode::Readwrite, &failed)
            .await?;
        store
            .delete(&entry_key(namespace, key))
            .map_err(|e| failed(Reason::of(&e)))?;
        committed(&transaction).await.map_err(failed)
    }

    /// The keys of `namespace` that start with `prefix` (all of them for `""`), sorted as Rust
    /// sorts strings.
    pub async fn keys(&self, namespace: &str, prefix: &str) -> Result<Vec<String>, StorageError> {
        let failed = |reason| StorageError::List {
            namespace: namespace.to_owned(),
            prefix: prefix.to_owned(),
            reason,
        };
        let (_, store) = self
            .transaction(IdbTransactionMode::Readonly, &failed)
            .await?;
        let request = prefix_range(namespace, prefix)
            .and_then(|range| store.get_all_keys_with_key(&range))
            .map_err(|e| failed(Reason::of(&e)))?;
        let found = outcome(&request).await.map_err(failed)?;
        let mut keys = names(found).map_err(|text| failed(Reason::other(text)))?;
        // IndexedDB orders by UTF-16 code units, which differs from Rust's order above U+D7FF.
        keys.sort_unstable();
        Ok(keys)
    }

    /// The entries of `namespace` whose key starts with `prefix` (all of them for `""`), sorted
    /// by key as [`Storage::keys`]: one transaction, so a consistent snapshot.
    pub async fn scan(
        &self,
        namespace: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        let failed = |reason| StorageError::List {
            namespace: namespace.to_owned(),
            prefix: prefix.to_owned(),
            reason,
        };
        let (_, store) = self
            .transaction(IdbTransactionMode::Readonly, &failed)
            .await?;
        // Both requests go out before either is awaited: same transaction, same snapshot, and
        // both list the range in key order, so the n-th key owns the n-th value.
        let range = prefix_range(namespace, prefix).map_err(|e| failed(Reason::of(&e)))?;
        let keys = store
            .get_all_keys_with_key(&range)
            .map_err(|e| failed(Reason::of(&e)))?;
        let values = store
            .get_all_with_key(&range)
            .map_err(|e| failed(Reason::of(&e)))?;
        let keys = outcome(&keys).await.map_err(failed)?;
        let keys = names(keys).map_err(|text| failed(Reason::other(text)))?;
        let values = outcome(&values)
            .await
            .map_err(failed)?
            .dyn_into::<Array>()
            .map_err(|other| {
                failed(Reason::other(format!(
                    "getAll answered {}",
                    describe(&other)
                )))
            })?;
        let mut entries = keys
            .into_iter()
            .zip(values.iter())
            .map(|(key, value)| {
                let value = value.dyn_into::<Uint8Array>().map_err(|other| {
                    failed(Reason::other(format!(
                        "the value of {key:?} is not bytes: {}",
                        describe(&other)
                    )))
                })?;
                Ok((key, value.to_vec()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(entries)
    }

    /// Atomically sets `key` to `new` (`None` deletes it) if its value is `expected` (`None`:
    /// absent). `Ok(Ok(()))` once the change has committed; `Ok(Err(current))` with the value
    /// found when it was another, nothing changed.
    ///
    /// The read and the write are one readwrite transaction, which IndexedDB runs alone on the
    /// store: no other write can come between them, from this worker or another.
    pub async fn compare_and_swap(
        &self,
        namespace: &str,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Result<(), Option<Vec<u8>>>, StorageError> {
        let failed = |reason| StorageError::Write {
            namespace: namespace.to_owned(),
            key: key.to_owned(),
            reason,
        };
        let (transaction, store) = self
            .transaction(IdbTransactionMode::Readwrite, &failed)
            .await?;
        let entry = entry_key(namespace, key);
        let read = store.get(&entry).map_err(|e| failed(Reason::of(&e)))?;
        // The write is made from the read's success handler, while the transaction is still
        // active: awaiting the read first would let it commit (engines differ on whether a
        // promise reaction still counts as "during the event").
        let found: Rc<RefCell<Option<ReadOutcome>>> = Rc::default();
        let swap = {
            let (read, found, transaction) = (read.clone(), Rc::clone(&found), transaction.clone());
            let new = new.map(copy_to_js);
            let expected = expected.map(<[u8]>::to_vec);
            Closure::<dyn FnMut()>::new(move || {
                let outcome = read
                    .result()
                    .map_err(|e| Reason::of(&e))
                    .and_then(|value| stored_bytes(value).map_err(Reason::other));
                let write = match &outcome {
                    Ok(current) if *current == expected => match &new {
                        Some(value) => store.put_with_key(value, &entry).map(drop),
                        None => store.delete(&entry).map(drop),
                    },
                    _ => Ok(()),
                };
                let outcome =
                    outcome.and_then(|current| write.map(|()| current).map_err(|e| Reason::of(&e)));
                if outcome.is_err() {
                    let _ = transaction.abort();
                }
                found.replace(Some(outcome));
            })
        };
        read.set_onsuccess(Some(swap.as_ref().unchecked_ref()));
        let committed = committed(&transaction).await;
        read.set_onsuccess(None);
        drop(swap);
        let current = match found.take() {
            Some(Ok(current)) => current,
            Some(Err(reason)) => return Err(failed(reason)),
            None => {
                return Err(failed(committed.err().unwrap_or_else(|| {
                    Reason::other("the read never finished".to_owned())
                })))
            }
        };
        committed.map_err(failed)?;
        Ok(if current.as_deref() == expected {
            Ok(())
        } else {
            Err(current)
        })
    }

    /// A new transaction on the object store, opening the database if needed.
    async fn transaction(
        &self,
        mode: IdbTransactionMode,
        failed: &impl Fn(Reason) -> StorageError,
    ) -> Result<(IdbTransaction, IdbObjectStore), StorageError> {
        let (mut reopened, mut passed_cleanup) = (false, false);
        loop {
            let connection = self.connection();
            let database = connection.clone().await.inspect_err(|_| {
                self.forget(&connection);
            })?;
            match database.transaction_with_str_and_mode(STORE, mode) {
                // Firefox makes the first read-write transaction after one refused for quota a
                // "cleanup" one: it deletes, but refuses puts (InvalidStateError), and compacts
                // the database when it ends. Let it end empty; the next one is ordinary.
                Ok(transaction) if !passed_cleanup && is_cleanup(&transaction) => {
                    passed_cleanup = true;
                }
                Ok(transaction) => {
                    let store = transaction
                        .object_store(STORE)
                        .map_err(|e| failed(Reason::of(&e)))?;
                    return Ok((transaction, store));
                }
                // The connection was closed (see `open`, or the user cleared site data): reopen once.
                Err(e) if !reopened && is_named(&e, "InvalidStateError") => {
                    self.forget(&connection);
                    reopened = true;
                }
                Err(e) => return Err(failed(Reason::of(&e))),
            }
        }
    }

    /// The open of the database, started by the first caller and shared with the others.
    fn connection(&self) -> Connection {
        self.inner
            .connection
            .borrow_mut()
            .get_or_insert_with(|| open(self.inner.database.clone()).boxed_local().shared())
            .clone()
    }

    /// Drops `stale` so the next use opens again, unless someone already has.
    fn forget(&self, stale: &Connection) {
        let mut connection = self.inner.connection.borrow_mut();
        if connection.as_ref().is_some_and(|c| c.ptr_eq(stale)) {
            *connection = None;
        }
    }
}

impl Default for Storage {
    /// A handle on [`DEFAULT_DATABASE`].
    fn default() -> Self {
        Self::new(DEFAULT_DATABASE)
    }
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage")
            .field("database", &self.inner.database)
            .finish_non_exhaustive()
    }
}

async fn open(database: String) -> Result<IdbDatabase, StorageError> {
    let failed = |reason| StorageError::Open {
        database: database.clone(),
        reason,
    };
    let factory = factory()?;
    let request = factory
        .open_with_u32(&database, VERSION)
        .map_err(|e| failed(Reason::of(&e)))?;
    // Called only when the database is new or older than VERSION. A throw aborts the open,
    // and with it the upgrade's transaction: the database stays as it was.
    let upgrading = request.clone();
    let upgrade = Closure::<dyn FnMut(JsValue) -> Result<(), JsValue>>::once(move |event| {
        let database: IdbDatabase = upgrading.result()?.dyn_into()?;
        let from = Reflect::get(&event, &"oldVersion".into())?
            .as_f64()
            .unwrap_or(0.0);
        migrate(&database, from as u64)
    });
    request.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let opened = outcome(&request).await;
    // Settled: the browser will not call it any more.
    request.set_onupgradeneeded(None);
    drop(upgrade);
    let opened = match opened {
        Ok(opened) => opened,
        // At a version above VERSION: a newer Valor's. Said so, with its version.
        Err(reason) if failed_for_version(&request) => {
            return Err(match version_of(&factory, &database).await {
                Some(found) => StorageError::Newer { database, found },
                None => failed(reason),
            });
        }
        Err(reason) => return Err(failed(reason)),
    };
    let database: IdbDatabase = opened
        .dyn_into()
        .map_err(|other| failed(Reason::other(format!("open answered {}", describe(&other)))))?;
    // A newer runtime upgrading the database, or deleteDatabase, waits until every connection
    // is closed: close ours instead of blocking them; the next operation opens a new one.
    let closing = database.clone();
    let close = Closure::once_into_js(move || closing.close());
    database.set_onversionchange(Some(close.unchecked_ref()));
    Ok(database)
}

/// Brings a database in the format `from` (0: a database just created) to [`VERSION`], during
/// the open's upgrade transaction: one step per format, in order.
fn migrate(database: &IdbDatabase, from: u64) -> Result<(), JsValue> {
    if from < 1 {
        // Format 1: the object store `kv`, `[namespace, key]` to `Uint8Array`.
        database.create_object_store(STORE)?;
    }
    // Format 2 would add its step here, `if from < 2 { ... }` (its data reached through the
    // open request's `transaction`), and VERSION become 2.
    Ok(())
}

/// The version `database` is at, read by opening it at whatever version it has (then closing
/// it at once); `None` if that fails, or if it is not there any more (the open is aborted
/// instead of creating it).
async fn version_of(factory: &IdbFactory, database: &str) -> Option<u64> {
    let request = factory.open(database).ok()?;
    let creating = request.clone();
    let abort = Closure::<dyn FnMut()>::once(move || {
        if let Some(transaction) = creating.transaction() {
            let _ = transaction.abort();
        }
    });
    request.set_onupgradeneeded(Some(abort.as_ref().unchecked_ref()));
    let opened = outcome(&request).await;
    request.set_onupgradeneeded(None);
    drop(abort);
    let opened: IdbDatabase = opened.ok()?.dyn_into().ok()?;
    let version = opened.version() as u64;
    opened.close();
    Some(version)
}

/// `indexedDB` of whatever global scope this runs in (`web_sys::window()` is `None` in workers).
fn factory() -> Result<IdbFactory, StorageError> {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB"))
        .ok()
        .and_then(|factory| factory.dyn_into().ok())
        .ok_or(StorageError::NoIndexedDb)
}

/// What a compare-and-swap found: the stored value (`None`: none), or why reading failed.
type ReadOutcome = Result<Option<Vec<u8>>, Reason>;

/// The keys a plugin chose, in a `getAllKeys` answer's order: each entry's `[namespace, key]`.
fn names(found: JsValue) -> Result<Vec<String>, String> {
    let found = found
        .dyn_into::<Array>()
        .map_err(|other| format!("getAllKeys answered {}", describe(&other)))?;
    found
        .iter()
        .map(|entry| {
            entry
                .dyn_ref::<Array>()
                .and_then(|entry| entry.get(1).as_string())
                .ok_or_else(|| format!("unexpected key {}", describe(&entry)))
        })
        .collect()
}

/// A stored value: `None` for none, the bytes of a `Uint8Array`, else an error.
fn stored_bytes(value: JsValue) -> Result<Option<Vec<u8>>, String> {
    if value.is_undefined() {
        return Ok(None);
    }
    value
        .dyn_into::<Uint8Array>()
        .map(|bytes| Some(bytes.to_vec()))
        .map_err(|other| format!("the stored value is not bytes: {}", describe(&other)))
}

fn entry_key(namespace: &str, key: &str) -> JsValue {
    Array::of2(&namespace.into(), &key.into()).into()
}

/// Exactly the entries of `namespace` whose key starts with `prefix`: from `[namespace, prefix]`
/// up to (excluding) `[namespace, s]`, `s` the least string above every extension of `prefix`.
/// IndexedDB compares UTF-16 code units, so `s` is `prefix` with its last unit below 0xFFFF
/// incremented (a `prefix + '\u{10FFFF}'` bound would miss keys continuing with U+E000..U+FFFF).
/// Without such a unit, the bound is `[namespace, []]`: arrays sort above all strings.
fn prefix_range(namespace: &str, prefix: &str) -> Result<IdbKeyRange, JsValue> {
    let trimmed = prefix.trim_end_matches('\u{FFFF}');
    let upper: JsValue = match trimmed.chars().next_back() {
        None => Array::new().into(),
        Some(last) => {
            let head = JsString::from(&trimmed[..trimmed.len() - last.len_utf8()]);
            let mut units = [0; 2];
            let tail = last.encode_utf16(&mut units);
            // Not U+FFFF (trimmed) nor a high surrogate (a low one follows): no overflow.
            if let Some(unit) = tail.last_mut() {
                *unit += 1;
            }
            head.concat(&JsString::from_char_code(tail)).into()
        }
    };
    IdbKeyRange::bound_with_lower_open_and_upper_open(
        &entry_key(namespace, prefix),
        &Array::of2(&namespace.into(), &upper).into(),
        false,
        true,
    )
}

/// Whether an open failed because the database is at a higher version than asked for.
fn failed_for_version(request: &IdbRequest) -> bool {
    request
        .error()
        .ok()
        .flatten()
        .is_some_and(|error| is_named(&error, "VersionError"))
}

/// Whether `transaction` is one of Firefox's cleanup transactions (its `mode` says so).
fn is_cleanup(transaction: &IdbTransaction) -> bool {
    Reflect::get(transaction, &"mode".into()).is_ok_and(|mode| mode == "cleanup")
}

/// Whether `error` is the `DOMException` named `name` (`InvalidStateError`: a transaction could
/// not start because the connection is closed; `VersionError`: a database newer than asked).
fn is_named(error: &JsValue, name: &str) -> bool {
    Reflect::get(error, &"name".into()).is_ok_and(|found| found == name)
}

/// The result of a request (an open request included) once it has succeeded.
async fn outcome(request: &IdbRequest) -> Result<JsValue, Reason> {
    let settled = settled(|ok, fail| {
        request.set_onsuccess(Some(ok));
        request.set_onerror(Some(fail));
    });
    if settled.await.is_err() {
        return Err(match request.error() {
            Ok(Some(error)) => Reason::of(&error),
            _ => Reason::other("the request failed".to_owned()),
        });
    }
    request.result().map_err(|e| Reason::of(&e))
}

/// Waits for a write transaction to commit: only then is the write durable and visible to
/// every other connection (a request's success comes before that, and can still be undone).
/// A write refused for quota aborts it with `QuotaExceededError` (whether the engine refuses the
/// request or the commit): nothing of it is stored.
async fn committed(transaction: &IdbTransaction) -> Result<(), Reason> {
    let settled = settled(|ok, fail| {
        transaction.set_oncomplete(Some(ok));
        transaction.set_onabort(Some(fail));
    });
    settled
        .await
        .map(drop)
        .map_err(|_| match transaction.error() {
            Some(error) => Reason::of(&error),
            // Not by us (the compare-and-swap that aborts reports why itself): the browser
            // closed the connection under it. Worth another try.
            None => Reason {
                failure: Failure::Unavailable,
                text: "the transaction was aborted".to_owned(),
            },
        })
}

/// A future of the events that `wire` attaches the promise's `resolve` and `reject` to. Being
/// JS functions themselves, they need no Rust closure kept alive until the event comes.
fn settled(wire: impl Fn(&Function, &Function)) -> JsFuture {
    JsFuture::from(Promise::new(&mut |resolve, reject| wire(&resolve, &reject)))
}
