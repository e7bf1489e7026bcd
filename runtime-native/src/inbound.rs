//! A client's request as a plugin sees it: the ABI's encoding of the method, the URI relative
//! to the plugin's mount, the headers and the body.
//!
//! Plugins see what they see in the browser host, where a request passes through the Fetch
//! standard's `Headers`: names lowercase and sorted, a repeated name joined into one value
//! (`a, b`), and no connection-level headers (`host`, `content-length`, ...), which belong to
//! the connection rather than to the request. GET and HEAD carry no body. And the path is the
//! one a browser would have sent: dot segments removed before anything routes it.

use bytes::Bytes;
use http::request::Parts;
use http::Uri;
use http_body_util::{BodyExt, Limited};
use std::borrow::Cow;
use valor_host::routes::normalize_path;

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

/// Gives `request` its path as a browser sends it ([`normalize_path`]: `/api/a/../b` is
/// `/api/b`, never above the root), its query untouched: what the browser host's service worker
/// is given for the same URL, so both hosts route it alike, and the registry, a plugin and the
/// app's files each see only the paths that are theirs. In place: a request is a few hundred
/// bytes, copied at each move.
pub fn normalize<B>(request: &mut http::Request<B>) {
    let uri = request.uri();
    let Cow::Owned(path) = normalize_path(uri.path()) else {
        return; // what browsers send: nothing to change
    };
    let target = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    let mut parts = uri.clone().into_parts();
    // The path is the parsed one's characters with `\` made `/`, the query the parsed one: valid.
    parts.path_and_query = Some(target.parse().expect("a valid path, normalized, is valid"));
    *request.uri_mut() = Uri::from_parts(parts).expect("the same parts, another path");
}

/// A request on its way to a plugin: encoded, and whether it is safe to run twice.
pub struct Inbound {
    pub encoded: Vec<u8>,
    /// GET, HEAD or OPTIONS: it may run again if another request crashed its instance.
    pub safe: bool,
}

/// Encodes `parts` and `body` for the plugin mounted where `relative_path` is left of the path.
pub fn encode(parts: &Parts, relative_path: &str, body: &[u8]) -> Inbound {
    encode_with(parts, relative_path, Body::Bytes(body))
}

/// Encodes `parts` for the plugin mounted where `relative_path` is left of the path, which reads
/// the body as a stream (PROTOCOL.md, section 18): its body field is a streamed body's, of
/// handle 0 (the core writes the handle the instance gives it).
pub fn encode_streamed(parts: &Parts, relative_path: &str) -> Inbound {
    encode_with(parts, relative_path, Body::Streamed)
}

/// What a request's body field holds.
enum Body<'a> {
    Bytes(&'a [u8]),
    Streamed,
}

fn encode_with(parts: &Parts, relative_path: &str, body: Body) -> Inbound {
    let uri = match parts.uri.query() {
        Some(query) if !query.is_empty() => Cow::Owned(format!("{relative_path}?{query}")),
        _ => Cow::Borrowed(relative_path),
    };
    // One pass over the map, which yields a name's values one after another: a value is copied
    // only to join it to the one before it.
    let mut headers: Vec<(&str, Cow<[u8]>)> = Vec::new();
    for (name, value) in &parts.headers {
        let name = name.as_str();
        if CONNECTION_HEADERS.contains(&name) {
            continue;
        }
        match headers.last_mut() {
            Some((last, joined)) if *last == name => {
                let joined = joined.to_mut();
                joined.extend_from_slice(b", ");
                joined.extend_from_slice(value.as_bytes());
            }
            _ => headers.push((name, Cow::Borrowed(value.as_bytes()))),
        }
    }
    headers.sort_by(|a, b| a.0.cmp(b.0));
    let raw: Vec<(&[u8], &[u8])> = headers
        .iter()
        .map(|(name, value)| (name.as_bytes(), &value[..]))
        .collect();
    let method = parts.method.as_str();
    let body = match body {
        _ if matches!(method, "GET" | "HEAD") => Body::Bytes(&[]),
        body => body,
    };
    let (body_len, body) = match body {
        Body::Bytes(bytes) => (bytes.len() as u32, bytes),
        Body::Streamed => (valor_abi::codec::STREAMED_BODY, &[0; 4][..]), // handle 0
    };
    let mut encoded =
        valor_abi::codec::encode_request_head(method.as_bytes(), uri.as_bytes(), &raw, body_len);
    encoded.extend_from_slice(body);
    Inbound {
        encoded,
        safe: valor_host::life::is_safe(method),
    }
}

use valor_host::error::Unreadable;

/// A request's body as chunks for a plugin that reads it as a stream: each frame's data as it
/// arrives (trailers skipped), or why the connection failed.
pub fn chunks<B>(body: B) -> impl futures::Stream<Item = valor_host::bodies::Chunk>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use futures::StreamExt;
    http_body_util::BodyStream::new(body).filter_map(|frame| async move {
        match frame {
            Ok(frame) => frame.into_data().ok().map(|data| Ok(data.to_vec())),
            Err(error) => Some(Err(format!("the client's upload failed: {}", error.into()))),
        }
    })
}

/// A request's body, refused past `limit` bytes: at once by its `content-length` if it has
/// one, else as it arrives.
pub async fn read_body<B>(parts: &Parts, body: B, limit: u32) -> Result<Bytes, Unreadable>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if body.is_end_stream() {
        return Ok(Bytes::new()); // none (most GETs): nothing to read or check
    }
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
    fn normalized(target: &str) -> String {
        let mut request = http::Request::get(target).body(()).unwrap();
        normalize(&mut request);
        request.uri().to_string()
    }

    #[test]
    fn the_path_is_normalized_and_the_query_left_as_it_is() {
        assert_eq!(normalized("/api/hello/../../etc/passwd"), "/etc/passwd");
        assert_eq!(
            normalized("/api/a/%2E%2e/b?x=/../y&z=%2e"),
            "/api/b?x=/../y&z=%2e"
        );
        assert_eq!(normalized("/a/..?"), "/?");
        assert_eq!(normalized("/a\\b"), "/a/b");
        assert_eq!(normalized("http://h:1/a/../b?q"), "http://h:1/b?q");
        assert_eq!(normalized("*"), "*");
    }

    /// The `url` crate implements the URL standard's parser (and passes the web platform's
    /// tests): the server's paths are what it, and so a browser, makes of the same target.
    #[test]
    fn paths_are_what_the_url_standard_makes_of_them() {
        // Every path of up to 5 pieces (dots, encoded dots, separators, names), of characters
        // the standard encodes in no browser, so only the dot-segment rules can differ.
        let pieces = ["/", "\\", ".", "%2e", "%2E", "a", "%2f", "..%2F", "e"];
        let mut paths = vec![String::new()];
        let mut checked = 0;
        for _ in 0..5 {
            paths = paths
                .iter()
                .flat_map(|path| pieces.iter().map(move |piece| format!("{path}{piece}")))
                .collect();
            for path in &paths {
                let target = format!("/{path}");
                let base = url::Url::parse(&format!("http://h{target}")).unwrap();
                assert_eq!(normalized(&target), base.path(), "{target}");
                checked += 1;
            }
        }
        assert!(checked > 60_000, "{checked}");
    }
}
