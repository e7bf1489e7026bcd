//! The shared store: a Redis server, one hash per plugin namespace (`valor:kv:<name>`), so that
//! several Valor servers serve the same data. A compare-and-swap is one Lua script, which Redis
//! runs atomically; a listing is one too (`listing`), a consistent snapshot. The layout has a
//! format number (`format`); the connection outlives Redis restarts (`link`).

mod format;
mod link;
mod listing;
mod shown;

use super::{Current, StorageError};
use link::{Fault, Lane, Link};
use listing::{Listed, LIST_SCRIPT};
use redis::Script;
use std::sync::LazyLock;
use valor_host::kv::Failure;

/// Sets `ARGV[1]` of hash `KEYS[1]` to `ARGV[5]` (deletes it if `ARGV[4]` is `0`) when its
/// value is `ARGV[3]` (none, if `ARGV[2]` is `0`); answers `{1}`, or `{0}` and the value found.
const COMPARE_AND_SWAP: &str = r#"
local current = redis.call('HGET', KEYS[1], ARGV[1])
local matches
if ARGV[2] == '1' then matches = (current == ARGV[3]) else matches = (current == false) end
if not matches then
  if current == false then return {'0'} end
  return {'0', current}
end
if ARGV[4] == '1' then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[5])
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
return {'1'}
"#;

static COMPARE_AND_SWAP_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(COMPARE_AND_SWAP));

/// The store in a Redis server shared with other Valor servers; cheap to clone.
#[derive(Clone)]
pub struct Shared {
    link: Link,
}

fn failed(operation: String, namespace: &str) -> impl FnOnce(Fault) -> StorageError + '_ {
    move |fault| StorageError::new(operation, namespace, fault.failure, fault.reason)
}

fn listing_of(prefix: &str) -> String {
    format!("listing keys starting with {prefix:?}")
}

fn hash(namespace: &str) -> String {
    format!("valor:kv:{namespace}")
}

impl Shared {
    /// Connects to the Redis at `url` and checks the format of the data there.
    pub async fn connect(url: &str) -> Result<Self, String> {
        let link = Link::open(url).await?;
        format::check(&link).await?;
        Ok(Self { link })
    }

    /// Where the data is, for the log (the URL without its password).
    pub fn describe(&self) -> String {
        format!("Redis at {}", self.link.shown())
    }

    /// Runs `command`, bounded, on the connection.
    async fn query<T: redis::FromRedisValue>(&self, command: redis::Cmd) -> Result<T, Fault> {
        self.link
            .run(|mut connection| async move { command.query_async(&mut connection).await })
            .await
    }

    /// The value under `key`, if any.
    pub async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let mut command = redis::cmd("HGET");
        command.arg(hash(namespace)).arg(key);
        self.query(command)
            .await
            .map_err(failed(format!("reading key {key:?}"), namespace))
    }

    /// Stores `value` under `key`.
    pub async fn put(&self, namespace: &str, key: &str, value: &[u8]) -> Result<(), StorageError> {
        let mut command = redis::cmd("HSET");
        command.arg(hash(namespace)).arg(key).arg(value);
        self.query(command)
            .await
            .map_err(failed(format!("writing key {key:?}"), namespace))
    }

    /// Removes `key` (nothing to remove is no error).
    pub async fn delete(&self, namespace: &str, key: &str) -> Result<(), StorageError> {
        let mut command = redis::cmd("HDEL");
        command.arg(hash(namespace)).arg(key);
        self.query(command)
            .await
            .map_err(failed(format!("deleting key {key:?}"), namespace))
    }

    /// The entries whose keys start with `prefix`, sorted; at most `max_bytes` of them.
    pub async fn scan(
        &self,
        namespace: &str,
        prefix: &str,
        max_bytes: u64,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        let reply = self.list(namespace, prefix, max_bytes, true).await?;
        self.listed(namespace, prefix, max_bytes, listing::read_entries(reply))
    }

    /// The keys starting with `prefix`, sorted, their values never read: bounded by the
    /// keys' own bytes.
    pub async fn keys(
        &self,
        namespace: &str,
        prefix: &str,
        max_bytes: u64,
    ) -> Result<Vec<String>, StorageError> {
        let reply = self.list(namespace, prefix, max_bytes, false).await?;
        self.listed(namespace, prefix, max_bytes, listing::read_keys(reply))
    }

    /// Runs the listing script (see `listing`).
    async fn list(
        &self,
        namespace: &str,
        prefix: &str,
        max_bytes: u64,
        with_values: bool,
    ) -> Result<Vec<Vec<u8>>, StorageError> {
        self.link
            .run_in(Lane::Listings, |mut connection| async move {
                LIST_SCRIPT
                    .key(hash(namespace))
                    .arg(prefix)
                    .arg(max_bytes)
                    .arg(if with_values { "1" } else { "0" })
                    .invoke_async(&mut connection)
                    .await
            })
            .await
            .map_err(failed(listing_of(prefix), namespace))
    }

    fn listed<T>(
        &self,
        namespace: &str,
        prefix: &str,
        max_bytes: u64,
        listed: Result<Listed<T>, String>,
    ) -> Result<Vec<T>, StorageError> {
        let refused = |reason: String| {
            StorageError::new(listing_of(prefix), namespace, Failure::Other, reason)
        };
        match listed {
            Ok(Listed::Entries(entries)) => Ok(entries),
            Ok(Listed::OverBudget) => Err(refused(valor_host::kv::listing_too_large(max_bytes))),
            Err(reason) => Err(refused(reason)),
        }
    }

    /// Sets `key` to `new` (`None`: removes it) if its value is `expected` (`None`: absent),
    /// atomically (one script); otherwise answers the value it has.
    pub async fn compare_and_swap(
        &self,
        namespace: &str,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Result<(), Current>, StorageError> {
        let flag = |value: Option<&[u8]>| if value.is_some() { "1" } else { "0" };
        let reply: Vec<Vec<u8>> = self
            .link
            .run(|mut connection| async move {
                COMPARE_AND_SWAP_SCRIPT
                    .key(hash(namespace))
                    .arg(key)
                    .arg(flag(expected))
                    .arg(expected.unwrap_or_default())
                    .arg(flag(new))
                    .arg(new.unwrap_or_default())
                    .invoke_async(&mut connection)
                    .await
            })
            .await
            .map_err(failed(format!("swapping key {key:?}"), namespace))?;
        match reply.as_slice() {
            [done] if done == b"1" => Ok(Ok(())),
            [_] => Ok(Err(None)),
            [_, current] => Ok(Err(Some(current.clone()))),
            _ => Err(StorageError::new(
                format!("swapping key {key:?}"),
                namespace,
                Failure::Other,
                "Redis answered the script with an unexpected reply",
            )),
        }
    }
}
