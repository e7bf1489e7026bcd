//! A listing is one Lua script: Redis runs it atomically (a consistent snapshot), filters the
//! namespace's keys by prefix itself, and weighs the entries (`HSTRLEN`) before it reads any
//! value, stopping with a marker once they pass the byte budget: so neither Valor nor the
//! script ever holds more than the budget of values, nor any entry outside the prefix (it
//! reads all the keys, `HKEYS`, but no value it does not return). It writes nothing, so it runs
//! on a replica and while Redis is out of memory; it has no `#!lua` flags line, which Redis
//! before 7 would refuse.

use redis::Script;
use std::sync::LazyLock;

/// Lists the fields of hash `KEYS[1]` starting with `ARGV[1]`; answers
/// `{'ok', key, value, ...}`, or `{'over'}` if their bytes pass `ARGV[2]`; with `ARGV[3]` `0`,
/// the keys alone (`{'ok', key, ...}`, weighed by their own bytes). Values are read `HMGET`
/// by `HMGET` of 256 keys (Lua's `unpack` has a bound on its arguments).
const LIST: &str = r#"
local prefix = ARGV[1]
local budget = tonumber(ARGV[2])
local keys = {}
local with_values = ARGV[3] == '1'
local bytes = 0
for _, key in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(key, 1, #prefix) == prefix then
    bytes = bytes + #key
    if with_values then bytes = bytes + redis.call('HSTRLEN', KEYS[1], key) end
    if bytes > budget then return {'over'} end
    keys[#keys + 1] = key
  end
end
local out = {'ok'}
if not with_values then
  for _, key in ipairs(keys) do out[#out + 1] = key end
  return out
end
for first = 1, #keys, 256 do
  local last = math.min(first + 255, #keys)
  local values = redis.call('HMGET', KEYS[1], unpack(keys, first, last))
  for i = first, last do
    out[#out + 1] = keys[i]
    out[#out + 1] = values[i - first + 1]
  end
end
return out
"#;

/// `LIST`, hashed once: sent by its hash, and in full only to a Redis that lacks it.
pub static LIST_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(LIST));

/// What the script answered.
pub enum Listed<T> {
    /// The entries (or keys), sorted by key as Rust sorts strings.
    Entries(Vec<T>),
    /// More bytes than the budget.
    OverBudget,
}

/// Reads the script's reply of entries; an error says what is wrong with it.
pub fn read_entries(reply: Vec<Vec<u8>>) -> Result<Listed<(String, Vec<u8>)>, String> {
    let Some(mut items) = opened(reply)? else {
        return Ok(Listed::OverBudget);
    };
    let mut entries = Vec::with_capacity(items.len() / 2);
    while let (Some(key), Some(value)) = (items.next(), items.next()) {
        entries.push((utf8(key)?, value));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Listed::Entries(entries))
}

/// Reads the script's reply of keys alone.
pub fn read_keys(reply: Vec<Vec<u8>>) -> Result<Listed<String>, String> {
    let Some(items) = opened(reply)? else {
        return Ok(Listed::OverBudget);
    };
    let mut keys = items.map(utf8).collect::<Result<Vec<_>, _>>()?;
    keys.sort();
    Ok(Listed::Entries(keys))
}

/// The items after the reply's marker, or `None` if it says over budget.
fn opened(reply: Vec<Vec<u8>>) -> Result<Option<std::vec::IntoIter<Vec<u8>>>, String> {
    let mut items = reply.into_iter();
    match items.next().as_deref() {
        Some(b"over") => Ok(None),
        Some(b"ok") => Ok(Some(items)),
        _ => Err("Redis answered the listing script with an unexpected reply".into()),
    }
}

fn utf8(key: Vec<u8>) -> Result<String, String> {
    String::from_utf8(key).map_err(|e| {
        let shown: String = String::from_utf8_lossy(e.as_bytes())
            .chars()
            .take(40)
            .collect();
        format!(
            "a key of this namespace in Redis is not UTF-8 ({shown:?}): something other than \
             Valor wrote it; remove or rename it with redis-cli"
        )
    })
}
