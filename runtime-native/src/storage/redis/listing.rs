//! A listing is one Lua script: Redis runs it atomically (a consistent snapshot), filters the
//! namespace's hash by prefix itself (`HSCAN ... MATCH`), and stops with a marker once the
//! entries pass the byte budget, so Valor never receives more than the budget, nor any entry
//! outside the prefix. It writes nothing, so it runs on a replica and while Redis is out of
//! memory; it has no `#!lua` flags line, which Redis before 7 would refuse.

use redis::Script;
use std::sync::LazyLock;

/// Lists the fields of hash `KEYS[1]` matching glob `ARGV[1]` and starting with `ARGV[2]`;
/// answers `{'ok', key, value, ...}`, or `{'over'}` once their bytes pass `ARGV[3]`. An entry
/// `HSCAN` returns twice is counted once.
const LIST: &str = r#"
local prefix = ARGV[2]
local budget = tonumber(ARGV[3])
local cursor = '0'
local seen = {}
local bytes = 0
local out = {'ok'}
repeat
  local page = redis.call('HSCAN', KEYS[1], cursor, 'MATCH', ARGV[1], 'COUNT', 256)
  cursor = page[1]
  local items = page[2]
  for i = 1, #items, 2 do
    local key, value = items[i], items[i + 1]
    if not seen[key] and string.sub(key, 1, #prefix) == prefix then
      seen[key] = true
      bytes = bytes + #key + #value
      if bytes > budget then return {'over'} end
      out[#out + 1] = key
      out[#out + 1] = value
    end
  end
until cursor == '0'
return out
"#;

pub static LIST_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(LIST));

/// The `MATCH` pattern of the keys starting with `prefix`: its glob characters escaped.
pub fn pattern(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('*');
    pattern
}

/// What the script answered.
pub enum Listed {
    /// The entries, sorted by key as Rust sorts strings.
    Entries(Vec<(String, Vec<u8>)>),
    /// More bytes than the budget.
    OverBudget,
}

/// Reads the script's reply; an error says what is wrong with it.
pub fn read(reply: Vec<Vec<u8>>) -> Result<Listed, String> {
    let mut items = reply.into_iter();
    match items.next().as_deref() {
        Some(b"over") => return Ok(Listed::OverBudget),
        Some(b"ok") => {}
        _ => return Err("Redis answered the listing script with an unexpected reply".into()),
    }
    let mut entries = Vec::with_capacity(items.len() / 2);
    while let (Some(key), Some(value)) = (items.next(), items.next()) {
        let key = String::from_utf8(key).map_err(|e| {
            let shown: String = String::from_utf8_lossy(e.as_bytes())
                .chars()
                .take(40)
                .collect();
            format!(
                "a key of this namespace in Redis is not UTF-8 ({shown:?}): something other \
                 than Valor wrote it; remove or rename it with redis-cli"
            )
        })?;
        entries.push((key, value));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Listed::Entries(entries))
}

#[cfg(test)]
mod tests {
    use super::pattern;

    #[test]
    fn glob_characters_in_a_prefix_match_only_themselves() {
        assert_eq!(pattern(""), "*");
        assert_eq!(pattern("todo/"), "todo/*");
        assert_eq!(pattern(r"a*b?[c]\d"), r"a\*b\?\[c\]\\d*");
    }
}
