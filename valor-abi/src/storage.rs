//! Commands of the key-value store (`imports::KV`) and their replies.
//!
//! ```text
//! command := 0 key:field                 get    -> reply: found:u8 (1 then value bytes, or 0)
//!          | 1 key:field value:field     put    -> reply: empty
//!          | 2 key:field                 delete -> reply: empty
//!          | 3 prefix:field              keys   -> reply: count:u32 key:field*
//!          | 4 prefix:field              scan   -> reply: count:u32 (key:field value:field)*
//!          | 5 key:field expected:option new:option
//!                                        compare-and-swap
//!                                               -> reply: 1, or 0 current:option
//! option  := 0 | 1 value:field
//! ```
//! Keys are UTF-8; values are bytes. Every plugin sees only its own namespace. Listings are
//! sorted by key as Rust sorts strings. A compare-and-swap is atomic: if the key's value is
//! `expected` (`0` for no value) it becomes `new` (`0` deletes it) and the reply is `1`;
//! otherwise nothing changes and the reply is `0` followed by the value found.

use crate::codec::{DecodeError, Reader, Writer};

/// One key-value operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    /// Read a value.
    Get {
        /// The key.
        key: &'a str,
    },
    /// Write a value.
    Put {
        /// The key.
        key: &'a str,
        /// The bytes to store.
        value: &'a [u8],
    },
    /// Remove a key (missing keys are fine).
    Delete {
        /// The key.
        key: &'a str,
    },
    /// List the keys that start with a prefix, sorted.
    Keys {
        /// The prefix; empty for all keys.
        prefix: &'a str,
    },
    /// List the entries (key and value) whose key starts with a prefix, sorted by key.
    Scan {
        /// The prefix; empty for all entries.
        prefix: &'a str,
    },
    /// Atomically replace a value, if it is still the one expected.
    CompareAndSwap {
        /// The key.
        key: &'a str,
        /// The value the key must hold for the swap to happen (`None`: no value).
        expected: Option<&'a [u8]>,
        /// The value it then holds (`None`: the key is deleted).
        new: Option<&'a [u8]>,
    },
}

impl<'a> Command<'a> {
    /// The command's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Writer(Vec::new());
        match *self {
            Command::Get { key } => {
                out.0.push(0);
                out.field(key.as_bytes());
            }
            Command::Put { key, value } => {
                out.0.push(1);
                out.field(key.as_bytes());
                out.field(value);
            }
            Command::Delete { key } => {
                out.0.push(2);
                out.field(key.as_bytes());
            }
            Command::Keys { prefix } => {
                out.0.push(3);
                out.field(prefix.as_bytes());
            }
            Command::Scan { prefix } => {
                out.0.push(4);
                out.field(prefix.as_bytes());
            }
            Command::CompareAndSwap { key, expected, new } => {
                out.0.push(5);
                out.field(key.as_bytes());
                out.option(expected);
                out.option(new);
            }
        }
        out.0
    }

    /// Reads a command.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let (&kind, rest) = bytes
            .split_first()
            .ok_or(DecodeError::Storage("empty command"))?;
        let mut input = Reader::new(rest);
        let text = |bytes: &'a [u8]| {
            std::str::from_utf8(bytes).map_err(|_| DecodeError::Storage("a key is not UTF-8"))
        };
        let command = match kind {
            0 => Command::Get {
                key: text(input.field()?)?,
            },
            1 => Command::Put {
                key: text(input.field()?)?,
                value: input.field()?,
            },
            2 => Command::Delete {
                key: text(input.field()?)?,
            },
            3 => Command::Keys {
                prefix: text(input.field()?)?,
            },
            4 => Command::Scan {
                prefix: text(input.field()?)?,
            },
            5 => Command::CompareAndSwap {
                key: text(input.field()?)?,
                expected: input.option()?,
                new: input.option()?,
            },
            _ => return Err(DecodeError::Storage("unknown command")),
        };
        input.finish()?;
        Ok(command)
    }
}

/// The reply to [`Command::Get`].
pub fn encode_value(value: Option<&[u8]>) -> Vec<u8> {
    match value {
        Some(value) => [&[1][..], value].concat(),
        None => vec![0],
    }
}

/// Reads the reply to [`Command::Get`].
pub fn decode_value(reply: &[u8]) -> Result<Option<Vec<u8>>, DecodeError> {
    match reply.split_first() {
        Some((1, value)) => Ok(Some(value.to_vec())),
        Some((0, [])) => Ok(None),
        _ => Err(DecodeError::Storage("malformed value reply")),
    }
}

/// The reply to [`Command::Keys`].
pub fn encode_keys<S: AsRef<str>>(keys: &[S]) -> Vec<u8> {
    let mut out = Writer(Vec::new());
    out.u32(keys.len() as u32);
    for key in keys {
        out.field(key.as_ref().as_bytes());
    }
    out.0
}

/// Reads the reply to [`Command::Keys`].
pub fn decode_keys(reply: &[u8]) -> Result<Vec<String>, DecodeError> {
    let mut input = Reader::new(reply);
    let count = input.u32()? as usize;
    let mut keys = Vec::with_capacity(count.min(input.remaining() / 4));
    for _ in 0..count {
        let key = std::str::from_utf8(input.field()?)
            .map_err(|_| DecodeError::Storage("a key is not UTF-8"))?;
        keys.push(key.to_owned());
    }
    input.finish()?;
    Ok(keys)
}

/// The reply to [`Command::Scan`].
pub fn encode_entries<K: AsRef<str>, V: AsRef<[u8]>>(entries: &[(K, V)]) -> Vec<u8> {
    let mut out = Writer(Vec::new());
    out.u32(entries.len() as u32);
    for (key, value) in entries {
        out.field(key.as_ref().as_bytes());
        out.field(value.as_ref());
    }
    out.0
}

/// Reads the reply to [`Command::Scan`].
pub fn decode_entries(reply: &[u8]) -> Result<Vec<(String, Vec<u8>)>, DecodeError> {
    let mut input = Reader::new(reply);
    let count = input.u32()? as usize;
    let mut entries = Vec::with_capacity(count.min(input.remaining() / 8));
    for _ in 0..count {
        let key = std::str::from_utf8(input.field()?)
            .map_err(|_| DecodeError::Storage("a key is not UTF-8"))?;
        entries.push((key.to_owned(), input.field()?.to_vec()));
    }
    input.finish()?;
    Ok(entries)
}

/// What a [`Command::CompareAndSwap`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Swap {
    /// The value was the one expected and has been replaced.
    Done,
    /// The value was another (`None`: there was none); nothing changed.
    Conflict(Option<Vec<u8>>),
}

/// The reply to [`Command::CompareAndSwap`].
pub fn encode_swap(outcome: Result<(), Option<&[u8]>>) -> Vec<u8> {
    let mut out = Writer(Vec::new());
    match outcome {
        Ok(()) => out.0.push(1),
        Err(current) => {
            out.0.push(0);
            out.option(current);
        }
    }
    out.0
}

/// Reads the reply to [`Command::CompareAndSwap`].
pub fn decode_swap(reply: &[u8]) -> Result<Swap, DecodeError> {
    let mut input = Reader::new(reply);
    let swap = match input.take(1)? {
        [1] => Swap::Done,
        [0] => Swap::Conflict(input.option()?.map(<[u8]>::to_vec)),
        _ => return Err(DecodeError::Storage("malformed swap reply")),
    };
    input.finish()?;
    Ok(swap)
}

impl Writer {
    fn option(&mut self, value: Option<&[u8]>) {
        match value {
            Some(value) => {
                self.0.push(1);
                self.field(value);
            }
            None => self.0.push(0),
        }
    }
}

impl<'a> Reader<'a> {
    fn option(&mut self) -> Result<Option<&'a [u8]>, DecodeError> {
        match self.take(1)? {
            [0] => Ok(None),
            [1] => Ok(Some(self.field()?)),
            _ => Err(DecodeError::Storage("an option is neither 0 nor 1")),
        }
    }
}

/// The `retry-after` (seconds) of the 503 a request answers while the store is unavailable:
/// about the time a server takes to reconnect to a Redis that is back.
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// Why a store failed, for a plugin to answer by: a `kv` result with outcome `FAILED` whose
/// message starts with `unavailable: ` or `full: ` (PROTOCOL.md section 9). Any other message
/// (a malformed command, a value over the limit, another store error) is [`Failure::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The store could not be reached, or did not answer in time: it may be back soon, so the
    /// same request can be tried again later.
    Unavailable,
    /// The store has no room for the write (disk full, quota used up); nothing was written.
    Full,
    /// Any other failure.
    Other,
}

impl Failure {
    const UNAVAILABLE: &'static str = "unavailable: ";
    const FULL: &'static str = "full: ";

    /// The message a host sends for a store failure of this kind.
    pub fn message(self, reason: &str) -> String {
        match self {
            Failure::Unavailable => format!("{}{reason}", Self::UNAVAILABLE),
            Failure::Full => format!("{}{reason}", Self::FULL),
            Failure::Other => reason.to_owned(),
        }
    }

    /// The kind of failure a `FAILED` message tells, and its reason.
    pub fn of(message: &str) -> (Failure, &str) {
        if let Some(reason) = message.strip_prefix(Self::UNAVAILABLE) {
            (Failure::Unavailable, reason)
        } else if let Some(reason) = message.strip_prefix(Self::FULL) {
            (Failure::Full, reason)
        } else {
            (Failure::Other, message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_round_trip_through_their_message() {
        for failure in [Failure::Unavailable, Failure::Full, Failure::Other] {
            let message = failure.message("writing key \"k\" failed: no room");
            assert_eq!(
                Failure::of(&message),
                (failure, "writing key \"k\" failed: no room")
            );
        }
        assert_eq!(
            Failure::of("malformed storage command: unknown command"),
            (Failure::Other, "malformed storage command: unknown command")
        );
    }

    #[test]
    fn commands_round_trip() {
        for command in [
            Command::Get { key: "a" },
            Command::Put {
                key: "todo/1",
                value: b"\0\xff",
            },
            Command::Put {
                key: "",
                value: b"",
            },
            Command::Delete { key: "x" },
            Command::Keys { prefix: "todo/" },
            Command::Scan { prefix: "" },
            Command::CompareAndSwap {
                key: "n",
                expected: None,
                new: Some(b"1"),
            },
            Command::CompareAndSwap {
                key: "n",
                expected: Some(b""),
                new: None,
            },
        ] {
            assert_eq!(Command::decode(&command.encode()).unwrap(), command);
        }
    }

    #[test]
    fn replies_round_trip() {
        assert_eq!(
            decode_value(&encode_value(Some(b"v"))).unwrap(),
            Some(b"v".to_vec())
        );
        assert_eq!(
            decode_value(&encode_value(Some(b""))).unwrap(),
            Some(vec![])
        );
        assert_eq!(decode_value(&encode_value(None)).unwrap(), None);
        let keys = ["a".to_owned(), "b/c".to_owned()];
        assert_eq!(decode_keys(&encode_keys(&keys)).unwrap(), keys);
        let entries = [("a".to_owned(), b"1".to_vec()), ("b".to_owned(), vec![])];
        assert_eq!(decode_entries(&encode_entries(&entries)).unwrap(), entries);
        assert_eq!(decode_swap(&encode_swap(Ok(()))).unwrap(), Swap::Done);
        assert_eq!(
            decode_swap(&encode_swap(Err(Some(b"7")))).unwrap(),
            Swap::Conflict(Some(b"7".to_vec()))
        );
        assert_eq!(
            decode_swap(&encode_swap(Err(None))).unwrap(),
            Swap::Conflict(None)
        );
    }

    #[test]
    fn malformed_input_is_an_error() {
        for bad in [
            &b""[..],
            b"\x09",
            b"\x00\x05\x00\x00\x00ab",
            b"\x03\x01\x00\x00\x00\xff",
        ] {
            assert!(Command::decode(bad).is_err(), "{bad:?}");
        }
        let mut trailing = Command::Get { key: "k" }.encode();
        trailing.push(0);
        assert!(Command::decode(&trailing).is_err());
        assert!(decode_value(b"").is_err());
        assert!(decode_value(b"\x00x").is_err());
        assert!(decode_keys(b"\x02\x00\x00\x00").is_err());
        assert!(decode_entries(b"\x01\x00\x00\x00\x00\x00\x00\x00").is_err());
        assert!(decode_swap(b"\x02").is_err());
        assert!(decode_swap(b"\x01\x00").is_err());
        assert!(Command::decode(b"\x05\x00\x00\x00\x00\x02\x00").is_err());
    }
}
