//! What a request gets back, whoever produced it (a plugin's frame, the registry, an error): one
//! `Reply`, turned into a web `Response` in one step, or into the plugin ABI's bytes for a plugin
//! that fetched another. Errors become replies, are logged and are tagged here, and only here.
//!
//! Header names and values are bytes (the web's ByteStrings, one code unit per byte), kept in one
//! buffer; a plugin's body goes from its memory into the `Response` in one copy, made by
//! `plugin::instance` while the frame is still live.

use crate::error::DispatchError;
use crate::sys;
use std::ops::Range;
use wasm_bindgen::JsCast;

pub use valor_host::frame::FrameHead;
use valor_host::reply::{self as rules, set_by_host};
pub use valor_host::reply::{Tag, PLUGIN_HEADER};

/// A status, headers and a body, on their way out.
#[derive(Debug)]
pub struct Reply {
    status: u16,
    /// The bytes `headers` and a `Body::Bytes` point into.
    bytes: Vec<u8>,
    headers: Vec<(Range<usize>, Range<usize>)>,
    body: Body,
}

#[derive(Debug)]
enum Body {
    /// Bytes of `Reply::bytes`.
    Bytes(Range<usize>),
    /// A copy of its own (WebKit read freed plugin memory through views), from a plugin.
    Js(js_sys::Uint8Array),
}

impl Reply {
    /// A reply with no headers and an empty body.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            bytes: Vec::new(),
            headers: Vec::new(),
            body: Body::Bytes(0..0),
        }
    }

    /// A plugin's response: its frame's head, parsed, and its body, copied out of its memory.
    pub fn from_frame(head: FrameHead, body: js_sys::Uint8Array) -> Self {
        let FrameHead {
            status,
            bytes,
            headers,
            ..
        } = head;
        Self {
            status,
            bytes,
            headers,
            body: Body::Js(body),
        }
    }

    /// The runtime's answer for `error`, tagged with the plugin it concerns, if any. Every
    /// server error is logged to the console here: the page sees only the status and the text.
    pub fn error(error: &DispatchError, tag: Option<Tag>) -> Self {
        if error.status().is_server_error() {
            web_sys::console::error_1(&format!("[valor] {error}").into());
        }
        let (status, text) = rules::error(error);
        let mut reply = Self::text(status, &text);
        if let Some(tag) = tag {
            reply.tag(tag);
        }
        reply
    }

    /// A plain-text reply.
    pub fn text(status: u16, text: &str) -> Self {
        let mut reply = Self::new(status);
        reply.header("content-type", rules::TEXT.as_bytes());
        reply.set_body(text.as_bytes());
        reply
    }

    /// An `http` response (the registry's answers) as a reply.
    pub fn from_http(response: &vlugin::Response) -> Self {
        let mut reply = Self::new(response.status().as_u16());
        for (name, value) in response.headers() {
            reply.header(name.as_str(), value.as_bytes());
        }
        reply.set_body(response.body().as_bytes());
        reply
    }

    /// The reply to a HEAD request: its status and headers, no body. (HTTP never sends one;
    /// Chromium passes on whatever body a worker's response has.)
    pub fn without_body(mut self) -> Self {
        self.body = Body::Bytes(0..0);
        self
    }

    /// Appends a header.
    pub fn header(&mut self, name: &str, value: &[u8]) {
        let name = self.push(name.as_bytes());
        let value = self.push(value);
        self.headers.push((name, value));
    }

    fn set_body(&mut self, body: &[u8]) {
        self.body = Body::Bytes(self.push(body));
    }

    fn push(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        start..self.bytes.len()
    }

    /// Marks the reply as `tag`'s plugin's. Headers the plugin set under the runtime's names (in
    /// any case: the browser lowercases them) are dropped, so it cannot pass for another.
    pub fn tag(&mut self, tag: Tag) {
        let bytes = &self.bytes;
        self.headers
            .retain(|(name, value)| !set_by_host(&bytes[name.clone()], &bytes[value.clone()]));
        for (name, value) in tag.headers() {
            self.header(name, value.as_bytes());
        }
    }

    fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.headers
            .iter()
            .map(|(name, value)| (&self.bytes[name.clone()], &self.bytes[value.clone()]))
    }

    /// The `ResponseInit` dictionary, as JSON: built in Rust and parsed by the engine in one
    /// call, rather than one call into JavaScript per header.
    fn init_json(&self) -> String {
        let reason = http::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|status| status.canonical_reason())
            .unwrap_or("");
        let mut json = format!(
            r#"{{"status":{},"statusText":"{reason}","headers":["#,
            self.status
        );
        for (i, (name, value)) in self.headers().enumerate() {
            json.push_str(if i == 0 { "[" } else { ",[" });
            push_byte_string(&mut json, name);
            json.push(',');
            push_byte_string(&mut json, value);
            json.push(']');
        }
        json.push_str("]}");
        json
    }

    /// The web response. Fails, saying why, if the browser refuses it (a status outside 200 to
    /// 599, a header name or value HTTP forbids).
    pub fn to_web(&self) -> Result<web_sys::Response, String> {
        rules::check_status(self.status)?;
        let init: web_sys::ResponseInit = js_sys::JSON::parse(&self.init_json())
            .map_err(|e| sys::describe(&e))?
            .unchecked_into();
        // The Fetch standard forbids a body on these statuses: drop it rather than throw.
        let null_body = rules::has_null_body(self.status);
        let body = match &self.body {
            _ if null_body => None,
            Body::Bytes(range) if range.is_empty() => None,
            Body::Bytes(range) => Some(sys::copy_to_js(&self.bytes[range.clone()])),
            Body::Js(bytes) => Some(bytes.clone()),
        };
        web_sys::Response::new_with_opt_js_u8_array_and_init(body.as_ref(), &init)
            .map_err(|e| sys::describe(&e))
    }

    /// The reply for a page: its web response, or a 500 saying why the browser refused it.
    pub fn into_web(self, tag: Option<Tag>) -> web_sys::Response {
        self.to_web().unwrap_or_else(|reason| {
            let error = rules::unsendable(tag, reason);
            // A 500 with a text body always converts.
            Self::error(&error, tag)
                .to_web()
                .unwrap_or_else(|_| web_sys::Response::error())
        })
    }

    /// The reply in the plugin ABI's encoding (`valor_abi::codec`), for a plugin that fetched
    /// another.
    pub fn to_abi(&self) -> Vec<u8> {
        let body = match &self.body {
            Body::Bytes(range) => self.bytes[range.clone()].to_vec(),
            Body::Js(bytes) => bytes.to_vec(),
        };
        let headers: Vec<(&[u8], &[u8])> = self.headers().collect();
        valor_abi::codec::encode_response_parts(self.status, &headers, &body)
    }
}

/// Appends `bytes` as a JSON string of the same code units (a ByteString).
fn push_byte_string(json: &mut String, bytes: &[u8]) {
    json.push('"');
    for &byte in bytes {
        match byte {
            b'"' => json.push_str("\\\""),
            b'\\' => json.push_str("\\\\"),
            0x20..=0x7e => json.push(char::from(byte)),
            _ => json.push_str(&format!("\\u{byte:04x}")),
        }
    }
    json.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(reply: &Reply) -> Vec<String> {
        reply
            .headers()
            .map(|(name, value)| {
                format!(
                    "{}: {}",
                    String::from_utf8_lossy(name),
                    String::from_utf8_lossy(value)
                )
            })
            .collect()
    }

    #[test]
    fn init_is_json_of_the_same_byte_strings() {
        let mut reply = Reply::new(201);
        reply.header("x-quote", b"a \"b\" \\ c");
        reply.header("x-latin1", &[b'c', 0xe9, 0x7f]);
        reply.header("set-cookie", b"a=1");
        reply.header("set-cookie", b"b=2");
        let init: serde_json::Value = serde_json::from_str(&reply.init_json()).unwrap();
        assert_eq!(
            init,
            serde_json::json!({
                "status": 201,
                "statusText": "Created",
                "headers": [
                    ["x-quote", "a \"b\" \\ c"],
                    ["x-latin1", "c\u{e9}\u{7f}"],
                    ["set-cookie", "a=1"],
                    ["set-cookie", "b=2"],
                ],
            })
        );
    }

    #[test]
    fn a_tag_replaces_the_plugins_own_in_any_case() {
        let mut reply = Reply::new(200);
        reply.header("X-Valor-Plugin", b"admin");
        reply.header("x-content-type-options", b"sniff");
        reply.header("content-security-policy", b"default-src 'self'");
        reply.tag(Tag {
            plugin: "notes",
            sandbox: true,
        });
        assert_eq!(
            names(&reply),
            [
                "content-security-policy: default-src 'self'",
                "x-valor-plugin: notes",
                "x-content-type-options: nosniff",
                "content-security-policy: sandbox",
            ]
        );
    }

    #[test]
    fn abi_bytes_decode_as_the_same_response() {
        let mut reply = Reply::text(404, "no such note");
        reply.header("x-a", b"1");
        let response: vlugin::Response =
            valor_abi::codec::decode_response(&reply.to_abi()).unwrap();
        assert_eq!(response.status(), 404);
        assert_eq!(response.headers()["x-a"], "1");
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; charset=utf-8"
        );
        assert_eq!(response.body().as_bytes(), b"no such note");
    }
}
