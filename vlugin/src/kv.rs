//! The plugin's persistent key-value store (IndexedDB in the browser).
//!
//! Each plugin has its own namespace, named after its manifest entry: no plugin can read or
//! change another's keys. Data survives the service worker being stopped and restarted.
//!
//! ```no_run
//! # async fn example() -> Result<(), vlugin::Error> {
//! use vlugin::kv;
//!
//! kv::set("greeting", b"hello").await?;
//! assert_eq!(kv::get("greeting").await?.as_deref(), Some(&b"hello"[..]));
//! kv::set_json("todo/1", &serde_json::json!({ "title": "write docs" })).await?;
//! let keys = kv::keys("todo/").await?; // ["todo/1"]
//! # Ok(()) }
//! ```

use crate::abi::storage::{self, Command};
use crate::guest::host;
use crate::Error;
use serde::de::DeserializeOwned;
use serde::Serialize;

async fn run(command: Command<'_>) -> Result<Vec<u8>, Error> {
    host::kv(&command.encode()).result(Error::Storage).await
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
