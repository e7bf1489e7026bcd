//! A client's request as a plugin sees it: the ABI's encoding of the method, the URI relative
//! to the plugin's mount, the headers and the body.
//!
//! Plugins see what they see in the browser host, where a request passes through the Fetch
//! standard's `Headers`: names lowercase and sorted, a repeated name joined into one value
//! (`a, b`), and no connection-level headers (`host`, `content-length`, ...), which belong to
//! the connection rather than to the request. GET and HEAD carry no body.

use bytes::Bytes;
use http::request::Parts;
use http_body_util::{BodyExt, Limited};

/// Headers of the connection, not of the request: a browser's `Headers` never shows them.
const CONNECTION_HEADERS: [&str; 9] = [
    "connection",
    "content-length",
    "host",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// A request on its way to a plugin: encoded, and whether it is safe to run twice.
pub struct Inbound {
    pub encoded: Vec<u8>,
    /// GET, HEAD or OPTIONS: it may run again if another request crashed its instance.
    pub safe: bool,
}

/// Encodes `parts` and `body` for the plugin mounted where `relative_path` is left of the path.
pub fn encode(parts: &Parts, relative_path: &str, body: &[u8]) -> Inbound {
    let uri = match parts.uri.query() {
        Some(query) if !query.is_empty() => format!("{relative_path}?{query}"),
        _ => relative_path.to_owned(),
    };
    let mut headers: Vec<(&str, Vec<u8>)> = Vec::new();
    for name in parts.headers.keys() {
        if CONNECTION_HEADERS.contains(&name.as_str()) {
            continue;
        }
        let mut joined = Vec::new();
        for (i, value) in parts.headers.get_all(name).iter().enumerate() {
            if i > 0 {
                joined.extend_from_slice(b", ");
            }
            joined.extend_from_slice(value.as_bytes());
        }
        headers.push((name.as_str(), joined));
    }
    headers.sort_by(|a, b| a.0.cmp(b.0));
    let raw: Vec<(&[u8], &[u8])> = headers
        .iter()
        .map(|(name, value)| (name.as_bytes(), value.as_slice()))
        .collect();
    let method = parts.method.as_str();
    let body = if matches!(method, "GET" | "HEAD") {
        &[][..]
    } else {
        body
    };
    let mut encoded = valor_abi::codec::encode_request_head(
        method.as_bytes(),
        uri.as_bytes(),
        &raw,
        body.len() as u32,
    );
    encoded.extend_from_slice(body);
    Inbound {
        encoded,
        safe: matches!(method, "GET" | "HEAD" | "OPTIONS"),
    }
}

/// Why a request's body was not read.
#[derive(Debug)]
pub enum Unreadable {
    /// It is larger than the limit: `size` bytes (declared, or the limit plus one once more
    /// arrived).
    TooLarge { size: u64 },
    /// The connection failed; says why.
    Invalid(String),
}

/// A request's body, refused past `limit` bytes: at once by its `content-length` if it has
/// one, else as it arrives.
pub async fn read_body<B>(parts: &Parts, body: B, limit: u32) -> Result<Bytes, Unreadable>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if let Some(size) = declared.filter(|size| *size > u64::from(limit)) {
        return Err(Unreadable::TooLarge { size });
    }
    match Limited::new(body, limit as usize).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(Unreadable::TooLarge {
            size: u64::from(limit) + 1,
        }),
        Err(error) => Err(Unreadable::Invalid(format!(
            "its body could not be read: {error}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugins_see_what_a_browser_shows_them() {
        let request = http::Request::post("http://example.com/api/echo/x?y=1")
            .header("host", "example.com")
            .header("x-b", "2")
            .header("X-A", "1")
            .header("x-a", "3")
            .header("content-length", "2")
            .body(())
            .unwrap();
        let (parts, ()) = request.into_parts();
        let inbound = encode(&parts, "/x", b"hi");
        let decoded: http::Request<Vec<u8>> =
            valor_abi::codec::decode_request(&inbound.encoded).unwrap();
        assert_eq!(decoded.uri(), "/x?y=1");
        let headers: Vec<_> = decoded
            .headers()
            .iter()
            .map(|(n, v)| format!("{n}: {}", v.to_str().unwrap()))
            .collect();
        assert_eq!(headers, ["x-a: 1, 3", "x-b: 2"]);
        assert_eq!(decoded.body(), b"hi");
        assert!(!inbound.safe);
    }
}
