//! The plugin's persistent key-value store (IndexedDB in the browser).
//!
//! Each plugin has its own namespace, named after its manifest entry: no plugin can read or
//! change another's keys. Data survives the service worker being stopped and restarted.
//!
//! Requests run concurrently: a `get` then a `set` can interleave with another request's, and
//! one of the two writes is lost. [`update`] and [`update_json`] read, change and write a value
//! atomically (retrying when another write came first), and [`compare_and_swap`] is the step
//! they are made of.
//!
//! ```
//! # let _host = vlugin::test::Host::new().install();
//! # vlugin::test::block_on(async {
//! use vlugin::kv;
//!
//! kv::set("greeting", b"hello").await?;
//! assert_eq!(kv::get("greeting").await?.as_deref(), Some(&b"hello"[..]));
//! kv::set_json("todo/1", &serde_json::json!({ "title": "write docs" })).await?;
//! assert_eq!(kv::keys("todo/").await?, ["todo/1"]);
//! let todos: Vec<(String, serde_json::Value)> = kv::scan_json("todo/").await?;
//! assert_eq!(todos[0].1["title"], "write docs");
//! let next_id = kv::update_json("next-id", |id: Option<u64>| id.unwrap_or(0) + 1).await?;
//! assert_eq!(next_id, 1);
//! # Ok::<(), vlugin::Error>(()) }).unwrap();
//! ```

use crate::guest::{host, ops::HostOp};
use crate::Error;
use serde::de::DeserializeOwned;
use serde::Serialize;
use valor_abi::storage::{self, Command, Swap};

pub use valor_abi::storage::{Failure, RETRY_AFTER_SECONDS};

async fn run(command: Command<'_>) -> Result<Vec<u8>, Error> {
    HostOp::new(host::kv(&command.encode()))
        .result(failed)
        .await
}

/// The error of a command the host says failed, with how it failed (the start of its message).
fn failed(message: String) -> Error {
    let (failure, reason) = Failure::of(&message);
    Error::Storage {
        failure,
        message: reason.to_owned(),
    }
}

/// The value stored under `key`, if any.
pub async fn get(key: &str) -> Result<Option<Vec<u8>>, Error> {
    Ok(storage::decode_value(&run(Command::Get { key }).await?)?)
}

/// Stores `value` under `key`, replacing what was there.
pub async fn set(key: &str, value: impl AsRef<[u8]>) -> Result<(), Error> {
    let value = value.as_ref();
    run(Command::Put { key, value }).await.map(drop)
}

/// Removes `key` (a missing key is not an error).
pub async fn delete(key: &str) -> Result<(), Error> {
    run(Command::Delete { key }).await.map(drop)
}

/// The keys that start with `prefix` (`""` for all), sorted.
pub async fn keys(prefix: &str) -> Result<Vec<String>, Error> {
    Ok(storage::decode_keys(&run(Command::Keys { prefix }).await?)?)
}

/// The entries (key and value) whose key starts with `prefix` (`""` for all), sorted by key:
/// one consistent snapshot.
pub async fn scan(prefix: &str) -> Result<Vec<(String, Vec<u8>)>, Error> {
    Ok(storage::decode_entries(
        &run(Command::Scan { prefix }).await?,
    )?)
}

/// Sets `key` to `new` (`None` deletes it) only if its value is still `expected` (`None`: no
/// value), atomically. `Ok(Ok(()))` if it was and the change is stored; `Ok(Err(current))`,
/// nothing changed, with the value found if it was another.
pub async fn compare_and_swap(
    key: &str,
    expected: Option<&[u8]>,
    new: Option<&[u8]>,
) -> Result<std::result::Result<(), Option<Vec<u8>>>, Error> {
    let reply = run(Command::CompareAndSwap { key, expected, new }).await?;
    Ok(match storage::decode_swap(&reply)? {
        Swap::Done => Ok(()),
        Swap::Conflict(current) => Err(current),
    })
}

/// Atomically replaces the value under `key` by `change(current)` (`None` in: no value; `None`
/// out: delete it), and returns what was stored. When another write to `key` lands between the
/// read and the write, `change` is called again with the newer value: it must be a pure
/// function of its input, and may run more than once.
pub async fn update(
    key: &str,
    mut change: impl FnMut(Option<&[u8]>) -> Option<Vec<u8>>,
) -> Result<Option<Vec<u8>>, Error> {
    let mut current = get(key).await?;
    loop {
        let new = change(current.as_deref());
        match compare_and_swap(key, current.as_deref(), new.as_deref()).await? {
            Ok(()) => return Ok(new),
            // Someone else wrote first: start again from what they wrote.
            Err(found) => current = found,
        }
    }
}

/// [`update`] for a JSON value: `change` gets the current value (`None` if there is none) and
/// returns the new one, which is stored and returned.
///
/// ```
/// # let _host = vlugin::test::Host::new().install();
/// # vlugin::test::block_on(async {
/// use vlugin::kv;
///
/// let hits = kv::update_json("hits", |hits: Option<u64>| hits.unwrap_or(0) + 1).await?;
/// assert_eq!(hits, 1);
/// # Ok::<(), vlugin::Error>(()) }).unwrap();
/// ```
pub async fn update_json<T: Serialize + DeserializeOwned>(
    key: &str,
    mut change: impl FnMut(Option<T>) -> T,
) -> Result<T, Error> {
    // A value that does not parse, or a new one that does not serialize, is an error; the
    // stored value is then written back as it was, so nothing is lost.
    let mut failure = None;
    let stored = update(key, |current| {
        let new = current
            .map(serde_json::from_slice)
            .transpose()
            .and_then(|value| serde_json::to_vec(&change(value)));
        match new {
            Ok(new) => {
                failure = None;
                Some(new)
            }
            Err(error) => {
                failure = Some(Error::from(error));
                current.map(<[u8]>::to_vec)
            }
        }
    })
    .await?;
    if let Some(error) = failure {
        return Err(error);
    }
    let stored = stored.ok_or_else(|| Error::Protocol("an update stored nothing".into()))?;
    Ok(serde_json::from_slice(&stored)?)
}

/// The entries whose key starts with `prefix`, their values parsed from JSON.
pub async fn scan_json<T: DeserializeOwned>(prefix: &str) -> Result<Vec<(String, T)>, Error> {
    scan(prefix)
        .await?
        .into_iter()
        .map(|(key, value)| Ok((key, serde_json::from_slice(&value)?)))
        .collect()
}

/// The value under `key`, parsed from JSON.
pub async fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>, Error> {
    match get(key).await? {
        Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
        None => Ok(None),
    }
}

/// Stores `value` as JSON under `key`.
pub async fn set_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<(), Error> {
    set(key, serde_json::to_vec(value)?).await
}
