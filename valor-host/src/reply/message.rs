//! A reply as every host keeps it on its way out: its status, its headers (bytes, the web's
//! ByteStrings, in one buffer: a plugin's are read in place from its frame's head) and its body,
//! the host's own bytes or a plugin's as the host read it out of plugin memory. The host turns
//! it into its own response; a plugin that fetched another gets it in the ABI's encoding.

use super::{check_status, has_null_body, set_by_host, unsendable, Tag, TEXT};
use crate::error::DispatchError;
use crate::frame::FrameHead;
use crate::guest::Frame;
use crate::registry::Answer;
use crate::streamed::Chunk;
use futures::{Stream, StreamExt};
use std::borrow::Cow;
use std::fmt::{self, Debug};
use std::ops::Range;

/// What replies are made of on one host: a plugin's body as the host reads it, and where the
/// host logs.
pub trait Host {
    /// A plugin's body, as the host read it out of plugin memory (`guest::Frame::body`).
    type Body: Debug;
    /// A streamed body: the chunks of [`streamed::body`](crate::streamed::body), boxed.
    type Stream: Stream<Item = Result<Chunk<Self::Body>, String>> + Unpin;

    /// `body`'s bytes.
    fn bytes(body: &Self::Body) -> Cow<'_, [u8]>;

    /// Logs `error`, a server error a reply answers with: the client sees only its status and
    /// its text.
    fn log(error: &DispatchError);
}

/// What a reply carries.
pub enum Body<B, S> {
    /// The host's own bytes (a text, the registry's answer).
    Bytes(Vec<u8>),
    /// A plugin's.
    Frame(B),
    /// A plugin's, streamed.
    Stream(S),
}

impl<B: Debug, S> Debug for Body<B, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Bytes(bytes) => f.debug_tuple("Bytes").field(bytes).finish(),
            Body::Frame(body) => f.debug_tuple("Frame").field(body).finish(),
            Body::Stream(_) => f.write_str("Stream"),
        }
    }
}

/// A reply taken apart to be sent ([`Reply::into_sent_parts`]).
pub struct SentParts<H: Host> {
    /// The status.
    pub status: u16,
    /// The bytes `headers` point into.
    pub bytes: Vec<u8>,
    /// Each header's name and value, in order (names may repeat).
    pub headers: Vec<(Range<usize>, Range<usize>)>,
    /// The body to send.
    pub body: Body<H::Body, H::Stream>,
}

/// A status, headers and a body, on their way out.
pub struct Reply<H: Host> {
    status: u16,
    /// The bytes `headers` point into.
    bytes: Vec<u8>,
    headers: Vec<(Range<usize>, Range<usize>)>,
    body: Body<H::Body, H::Stream>,
}

impl<H: Host> Debug for Reply<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<_> = self
            .headers()
            .map(|(name, value)| {
                (
                    String::from_utf8_lossy(name),
                    String::from_utf8_lossy(value),
                )
            })
            .collect();
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("headers", &headers)
            .field("body", &self.body)
            .finish()
    }
}

impl<H: Host> Reply<H> {
    /// A reply with no headers and an empty body.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            bytes: Vec::new(),
            headers: Vec::new(),
            body: Body::Bytes(Vec::new()),
        }
    }

    /// A plain-text reply.
    pub fn text(status: u16, text: &str) -> Self {
        let mut reply = Self::new(status);
        reply.header("content-type", TEXT.as_bytes());
        reply.body = Body::Bytes(text.into());
        reply
    }

    /// The answer for `error`, tagged with the plugin it concerns, if any. Server errors are
    /// logged here, and only here.
    pub fn error(error: &DispatchError, tag: Option<Tag>) -> Self {
        if error.status().is_server_error() {
            H::log(error);
        }
        let mut reply = Self::text(error.status().as_u16(), &format!("{error}\n"));
        if let Some(tag) = tag {
            reply.tag(tag);
        }
        reply
    }

    /// What a plugin answered, tagged with `tag`: its reply, or the reply for the error it
    /// failed with.
    pub fn tagged(answer: Result<Self, DispatchError>, tag: Tag) -> Self {
        match answer {
            Ok(mut reply) => {
                reply.tag(tag);
                reply
            }
            Err(error) => Self::error(&error, Some(tag)),
        }
    }

    /// A plugin's response: its frame's head, parsed, and its body, out of its memory.
    pub fn from_frame(frame: Frame<H::Body>) -> Self {
        let FrameHead {
            status,
            bytes,
            headers,
            ..
        } = frame.head;
        Self {
            status,
            bytes,
            headers,
            body: Body::Frame(frame.body),
        }
    }

    /// A plugin's streamed answer: its status and headers, and its body's chunks.
    pub fn streamed(head: FrameHead, body: H::Stream) -> Self {
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
            body: Body::Stream(body),
        }
    }

    /// This reply with its body streamed: a component's answer, whose status and headers were
    /// given one by one.
    pub fn with_stream(mut self, body: H::Stream) -> Self {
        self.body = Body::Stream(body);
        self
    }

    /// The registry's answer.
    pub fn from_answer(answer: Answer) -> Self {
        let mut reply = Self::new(answer.status);
        if let Some(content_type) = answer.content_type {
            reply.header("content-type", content_type.as_bytes());
        }
        for (name, value) in &answer.headers {
            reply.header(name, value.as_bytes());
        }
        reply.body = Body::Bytes(answer.body.into_bytes());
        reply
    }

    /// The status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Appends a header.
    pub fn header(&mut self, name: &str, value: &[u8]) {
        let name = self.push(name.as_bytes());
        let value = self.push(value);
        self.headers.push((name, value));
    }

    fn push(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        start..self.bytes.len()
    }

    /// Each header's name and value, in order (names may repeat).
    pub fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.headers
            .iter()
            .map(|(name, value)| (&self.bytes[name.clone()], &self.bytes[value.clone()]))
    }

    /// The body to send: none for a status that carries none (a plugin's is dropped rather
    /// than refused).
    pub fn into_sent_body(self) -> Body<H::Body, H::Stream> {
        match self.body {
            _ if has_null_body(self.status) => Body::Bytes(Vec::new()),
            body => body,
        }
    }

    /// What is sent, taken apart: the status, the headers (each name's and value's range in
    /// the bytes) and the body ([`Reply::into_sent_body`]'s): a host that can share the bytes
    /// among its header values copies them no more.
    pub fn into_sent_parts(self) -> SentParts<H> {
        let (status, bytes, headers) = (self.status, self.bytes, self.headers);
        let body = match self.body {
            _ if has_null_body(status) => Body::Bytes(Vec::new()),
            body => body,
        };
        SentParts {
            status,
            bytes,
            headers,
            body,
        }
    }

    /// The reply to a HEAD request: its status and headers, no body. (HTTP never sends one;
    /// Chromium passes on whatever body a worker's response has.)
    pub fn without_body(mut self) -> Self {
        self.body = Body::Bytes(Vec::new());
        self
    }

    /// Marks the reply as `tag`'s plugin's. Headers the plugin set under the host's names (in
    /// any case: the browser lowercases them) are dropped, so it cannot pass for another.
    pub fn tag(&mut self, tag: Tag) {
        let bytes = &self.bytes;
        self.headers
            .retain(|(name, value)| !set_by_host(&bytes[name.clone()], &bytes[value.clone()]));
        for (name, value) in tag.headers() {
            self.header(name, value.as_bytes());
        }
    }

    /// The reply in the plugin ABI's encoding (`valor_abi::codec`), for a plugin that fetched
    /// another. A streamed body is read whole first, up to `max_body_bytes` (the answering
    /// plugin's): past it, or if it ends early, the answer is the 502 saying so, for `tag`'s
    /// plugin.
    pub async fn into_abi(mut self, max_body_bytes: u32, tag: Option<Tag<'_>>) -> Vec<u8> {
        if let Body::Stream(stream) = &mut self.body {
            match collect::<H>(stream, max_body_bytes).await {
                Ok(bytes) => self.body = Body::Bytes(bytes),
                Err(reason) => return Self::error(&unsendable(tag, reason), tag).to_abi(),
            }
        }
        self.to_abi()
    }

    /// The reply in the plugin ABI's encoding, for a plugin that fetched another: its body
    /// must not be streamed (see [`Reply::into_abi`]).
    pub fn to_abi(&self) -> Vec<u8> {
        let body = match &self.body {
            Body::Bytes(bytes) => Cow::Borrowed(bytes.as_slice()),
            Body::Frame(body) => H::bytes(body),
            Body::Stream(_) => Cow::Borrowed(&[][..]),
        };
        let headers: Vec<(&[u8], &[u8])> = self.headers().collect();
        valor_abi::codec::encode_response_parts(self.status, &headers, &body)
    }

    /// The host's response for the reply, made by `convert` if the status is one a host sends
    /// (200 to 599, as browsers allow a service worker). If it is not, or `convert` fails
    /// (saying why: a header name or value HTTP forbids), the 500 saying why, for `tag`'s
    /// plugin, converted.
    pub fn into_response<R>(
        self,
        tag: Option<Tag>,
        convert: impl Fn(Self) -> Result<R, String>,
    ) -> Result<R, String> {
        let checked = |reply: Self| {
            check_status(reply.status)?;
            convert(reply)
        };
        checked(self).or_else(|reason| checked(Self::error(&unsendable(tag, reason), tag)))
    }
}

/// A streamed body read whole, up to `max_body_bytes`, or why it could not be.
async fn collect<H: Host>(stream: &mut H::Stream, max_body_bytes: u32) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        match chunk? {
            Chunk::Plugin(body) => bytes.extend_from_slice(&H::bytes(&body)),
            Chunk::Host(comment) => bytes.extend_from_slice(&comment),
        }
        if bytes.len() as u64 > u64::from(max_body_bytes) {
            return Err(format!(
                "its streamed answer to another plugin is over {max_body_bytes} bytes (its \
                 entry's max_body_bytes)"
            ));
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::reply::Test;

    fn lines(reply: &Reply<Test>) -> Vec<String> {
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
    fn a_tag_replaces_the_plugins_own_in_any_case() {
        let mut reply = Reply::<Test>::new(200);
        reply.header("X-Valor-Plugin", b"admin");
        reply.header("x-content-type-options", b"sniff");
        reply.header("content-security-policy", b"default-src 'self'");
        reply.tag(Tag {
            plugin: "notes",
            sandbox: true,
        });
        assert_eq!(
            lines(&reply),
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
        let mut reply = Reply::<Test>::text(404, "no such note");
        reply.header("x-a", b"1");
        let response: http::Response<Vec<u8>> =
            valor_abi::codec::decode_response(&reply.to_abi()).unwrap();
        assert_eq!(response.status(), 404);
        assert_eq!(response.headers()["x-a"], "1");
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; charset=utf-8"
        );
        assert_eq!(response.body(), b"no such note");
    }

    #[test]
    fn a_plugins_frame_is_read_in_place_and_tagged() {
        let headers: [(&[u8], &[u8]); 2] = [(b"x-a", b"1"), (b"x-valor-plugin", b"admin")];
        let encoded = valor_abi::codec::encode_response_parts(201, &headers, b"made");
        let head = FrameHead::parse(encoded.clone(), encoded.len() as u32)
            .unwrap()
            .unwrap();
        let body = encoded[head.body.start as usize..].to_vec();
        let answer = Ok(Reply::<Test>::from_frame(Frame { head, body }));
        let reply = Reply::tagged(answer, Tag::of(&spec()));
        assert_eq!(reply.status(), 201);
        assert_eq!(
            lines(&reply),
            [
                "x-a: 1",
                "x-valor-plugin: notes",
                "x-content-type-options: nosniff",
                "content-security-policy: sandbox"
            ]
        );
        let response: http::Response<Vec<u8>> =
            valor_abi::codec::decode_response(&reply.to_abi()).unwrap();
        assert_eq!(response.body(), b"made");
    }

    #[test]
    fn a_failure_is_its_error_text_tagged() {
        let error = DispatchError::Aborted;
        let reply = Reply::<Test>::tagged(Err(error), Tag::of(&spec()));
        assert_eq!(reply.status(), DispatchError::Aborted.status().as_u16());
        assert_eq!(
            lines(&reply),
            [
                "content-type: text/plain; charset=utf-8",
                "x-valor-plugin: notes",
                "x-content-type-options: nosniff",
                "content-security-policy: sandbox"
            ]
        );
        let Body::Bytes(text) = reply.into_sent_body() else {
            panic!("an error's text is the host's")
        };
        assert_eq!(text, format!("{}\n", DispatchError::Aborted).as_bytes());
    }

    #[test]
    fn the_registrys_answer_keeps_its_type_and_headers() {
        let mut answer = Answer::text(201, "registered");
        answer.headers.push(("location", "/_plugins/notes".into()));
        let reply = Reply::<Test>::from_answer(answer);
        assert_eq!(
            lines(&reply),
            [
                "content-type: text/plain; charset=utf-8",
                "location: /_plugins/notes"
            ]
        );
        let body = reply.into_sent_body();
        assert!(matches!(body, Body::Bytes(text) if text == b"registered\n"));
    }

    #[test]
    fn what_a_host_cannot_send_is_a_500_saying_why() {
        let spec = spec();
        let tag = Some(Tag::of(&spec));
        let sent = |reply: Reply<Test>| Ok((reply.status(), lines(&reply)));
        let (status, _) = Reply::new(99).into_response(tag, sent).unwrap();
        assert_eq!(status, 500);
        let refuse_headers = |reply: Reply<Test>| match reply.headers().count() {
            0 => Err("invalid header name".to_owned()),
            _ => Ok(reply),
        };
        let reply = Reply::new(200).into_response(tag, refuse_headers).unwrap();
        assert_eq!(reply.status(), 500);
        let Body::Bytes(text) = reply.into_sent_body() else {
            panic!("an error's text is the host's")
        };
        assert!(String::from_utf8(text)
            .unwrap()
            .contains("invalid header name"));
    }

    #[test]
    fn a_null_body_status_sends_no_body() {
        let mut reply = Reply::<Test>::text(204, "dropped");
        assert!(matches!(reply.into_sent_body(), Body::Bytes(body) if body.is_empty()));
        reply = Reply::text(200, "kept");
        assert!(matches!(reply.into_sent_body(), Body::Bytes(body) if body == b"kept"));
    }

    fn spec() -> crate::manifest::PluginSpec {
        let entry = serde_json::json!({"name": "notes", "prefix": "/notes", "url": "n.wasm"});
        crate::manifest::parse_entry(entry, |url| Ok(url.to_owned())).unwrap()
    }
}
