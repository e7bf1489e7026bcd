//! Commands of the key-value store (`imports::KV`) and their replies.
//!
//! ```text
//! command := 0 key:field                 get    -> reply: found:u8 (1 then value bytes, or 0)
//!          | 1 key:field value:field     put    -> reply: empty
//!          | 2 key:field                 delete -> reply: empty
//!          | 3 prefix:field              keys   -> reply: count:u32 key:field*
//! ```
//! Keys are UTF-8; values are bytes. Every plugin sees only its own namespace.

use super::codec::{DecodeError, Reader, Writer};

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

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
