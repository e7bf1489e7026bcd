//! The message `valor_init` receives: what a plugin learns once, before its first request.
//!
//! ```text
//! init := config:field  mount:field  origin:field
//! ```
//! `config` is the manifest entry's `config` as JSON (`null` when it has none); `mount` is the
//! path prefix the plugin serves, without a trailing slash (`/api/todos`); `origin` is the
//! app's origin, `scheme://host[:port]` (`https://example.com`). A request's URI is relative to
//! the mount, so its absolute URL is `origin + mount + uri` (just `origin + mount` for `/`).

use crate::codec::{DecodeError, Reader, Writer};

/// What a plugin is told at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Init<'a> {
    /// The manifest entry's `config`, as JSON.
    pub config: &'a [u8],
    /// The mount prefix, e.g. `/api/todos`.
    pub mount: &'a str,
    /// The app's origin, e.g. `https://example.com`.
    pub origin: &'a str,
}

impl<'a> Init<'a> {
    /// The message's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Writer(Vec::with_capacity(
            12 + self.config.len() + self.mount.len() + self.origin.len(),
        ));
        out.field(self.config);
        out.field(self.mount.as_bytes());
        out.field(self.origin.as_bytes());
        out.0
    }

    /// Reads a message.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let mut input = Reader::new(bytes);
        let text = |bytes: &'a [u8]| {
            std::str::from_utf8(bytes)
                .map_err(|_| DecodeError::Init("mount or origin is not UTF-8"))
        };
        let init = Init {
            config: input.field()?,
            mount: text(input.field()?)?,
            origin: text(input.field()?)?,
        };
        input.finish()?;
        Ok(init)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_garbage() {
        let init = Init {
            config: br#"{"greeting":"hi"}"#,
            mount: "/api/todos",
            origin: "https://example.com",
        };
        assert_eq!(Init::decode(&init.encode()), Ok(init));
        let mut trailing = init.encode();
        trailing.push(0);
        assert!(Init::decode(&trailing).is_err());
        assert!(Init::decode(b"\x00\x00\x00\x00\x01\x00\x00\x00\xff\x00\x00\x00\x00").is_err());
        assert!(Init::decode(b"").is_err());
    }
}
