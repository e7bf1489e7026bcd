//! The shared store: a Redis server, one hash per plugin namespace (`valor:kv:<name>`), so that
//! several Valor servers serve the same data. A compare-and-swap is one Lua script, which Redis
//! runs atomically; a scan is one `HGETALL`, a consistent snapshot.

use super::{Current, StorageError};
use redis::aio::MultiplexedConnection;
use redis::Script;
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

#[derive(Clone)]
pub struct Shared {
    connection: MultiplexedConnection,
    url: String,
}

/// A failed command: unavailable if Redis could not be reached or did not answer.
fn failed(operation: String, namespace: &str, error: redis::RedisError) -> StorageError {
    let unreachable = error.is_io_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_timeout();
    let failure = if unreachable {
        Failure::Unavailable
    } else {
        Failure::Other
    };
    StorageError::new(operation, namespace, failure, error)
}

fn hash(namespace: &str) -> String {
    format!("valor:kv:{namespace}")
}

impl Shared {
    pub async fn connect(url: &str) -> Result<Self, String> {
        let fail = |e: redis::RedisError| format!("connecting to Redis at {url} failed: {e}");
        let client = redis::Client::open(url).map_err(fail)?;
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .map_err(fail)?;
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .map_err(fail)?;
        Ok(Self {
            connection,
            url: url.to_owned(),
        })
    }

    pub fn describe(&self) -> String {
        format!("Redis at {}", self.url)
    }

    pub async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        redis::cmd("HGET")
            .arg(hash(namespace))
            .arg(key)
            .query_async(&mut self.connection.clone())
            .await
            .map_err(|e| failed(format!("reading key {key:?}"), namespace, e))
    }

    pub async fn put(&self, namespace: &str, key: &str, value: &[u8]) -> Result<(), StorageError> {
        redis::cmd("HSET")
            .arg(hash(namespace))
            .arg(key)
            .arg(value)
            .query_async::<()>(&mut self.connection.clone())
            .await
            .map_err(|e| failed(format!("writing key {key:?}"), namespace, e))
    }

    pub async fn delete(&self, namespace: &str, key: &str) -> Result<(), StorageError> {
        redis::cmd("HDEL")
            .arg(hash(namespace))
            .arg(key)
            .query_async::<()>(&mut self.connection.clone())
            .await
            .map_err(|e| failed(format!("deleting key {key:?}"), namespace, e))
    }

    pub async fn scan(
        &self,
        namespace: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        let all: Vec<(String, Vec<u8>)> = redis::cmd("HGETALL")
            .arg(hash(namespace))
            .query_async(&mut self.connection.clone())
            .await
            .map_err(|e| {
                failed(
                    format!("listing keys starting with {prefix:?}"),
                    namespace,
                    e,
                )
            })?;
        let mut entries: Vec<_> = all
            .into_iter()
            .filter(|(key, _)| key.starts_with(prefix))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(entries)
    }

    pub async fn compare_and_swap(
        &self,
        namespace: &str,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Result<(), Current>, StorageError> {
        let flag = |value: Option<&[u8]>| if value.is_some() { "1" } else { "0" };
        let reply: Vec<Vec<u8>> = Script::new(COMPARE_AND_SWAP)
            .key(hash(namespace))
            .arg(key)
            .arg(flag(expected))
            .arg(expected.unwrap_or_default())
            .arg(flag(new))
            .arg(new.unwrap_or_default())
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| failed(format!("swapping key {key:?}"), namespace, e))?;
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
