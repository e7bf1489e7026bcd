//! What a request gets back on the server: `valor-host`'s [`Reply`], a plugin's body kept as
//! read out of its memory, turned into an HTTP response for a client. Server errors are logged
//! through `tracing`.

use crate::files;
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use http::header::{HeaderName, HeaderValue};
use http_body_util::StreamBody;
use std::borrow::Cow;
use std::cell::RefCell;
use std::task::Poll;
use valor_host::error::DispatchError;
use valor_host::reply::{self, Body};
pub use valor_host::reply::{Tag, PLUGIN_HEADER};
use valor_host::streamed::Chunk;

/// The server's replies.
#[derive(Debug)]
pub enum Server {}

impl reply::Host for Server {
    type Body = Vec<u8>;
    type Stream = BoxStream<'static, Result<Chunk<Vec<u8>>, String>>;

    fn bytes(body: &Vec<u8>) -> Cow<'_, [u8]> {
        Cow::Borrowed(body)
    }

    fn log(error: &DispatchError) {
        tracing::error!("{error}");
    }
}

/// A status, headers and a body, on their way out.
pub type Reply = reply::Reply<Server>;

/// The response for a client: the reply, or a 500 saying why HTTP cannot carry it (a header
/// name or value HTTP forbids, a status outside 200 to 599, as the browser host allows).
pub fn into_http(reply: Reply, tag: Option<Tag>) -> http::Response<files::Body> {
    reply
        .into_response(tag, try_into_http)
        .expect("a plain-text 500 is always a response")
}

fn try_into_http(reply: Reply) -> Result<http::Response<files::Body>, String> {
    let status = http::StatusCode::from_u16(reply.status()).map_err(|e| e.to_string())?;
    let reply::SentParts {
        bytes,
        headers: ranges,
        body,
        ..
    } = reply.into_sent_parts();
    let mut response = http::Response::new(match body {
        Body::Bytes(bytes) | Body::Frame(bytes) => files::full(bytes),
        Body::Stream(chunks) => streamed(chunks),
    });
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.reserve(ranges.len());
    // One buffer for the values not known in advance, made only if there is one: each is a
    // slice of it, not a copy.
    let (mut bytes, mut shared) = (bytes, None::<Bytes>);
    for (name, value) in ranges {
        let all = shared.as_deref().unwrap_or(&bytes);
        let name = header_name(&all[name])?;
        let value = match known_value(&name, &all[value.clone()]) {
            Some(known) => known,
            None => {
                let shared = shared.get_or_insert_with(|| Bytes::from(std::mem::take(&mut bytes)));
                HeaderValue::from_maybe_shared(shared.slice(value))
                    .map_err(|_| format!("invalid value for header {name}"))?
            }
        };
        headers.append(name, value);
    }
    Ok(response)
}

/// The names the host tags every plugin's reply with, and the content type, taken as they
/// are rather than looked up (a name HTTP does not know would be copied into one of its own).
static PLUGIN: HeaderName = HeaderName::from_static(PLUGIN_HEADER);
static CONTENT_TYPE_OPTIONS: HeaderName = HeaderName::from_static("x-content-type-options");

fn header_name(name: &[u8]) -> Result<HeaderName, String> {
    Ok(match name {
        b"content-type" => http::header::CONTENT_TYPE,
        b"x-valor-plugin" => PLUGIN.clone(),
        b"x-content-type-options" => CONTENT_TYPE_OPTIONS.clone(),
        b"content-security-policy" => http::header::CONTENT_SECURITY_POLICY,
        name => HeaderName::from_bytes(name)
            .map_err(|_| format!("invalid header name {:?}", String::from_utf8_lossy(name)))?,
    })
}

thread_local! {
    /// The last plugin name this thread tagged a reply with, as a header value: a server's
    /// replies mostly come from a few plugins, whose names are not checked and copied anew for
    /// each.
    static LAST_PLUGIN: RefCell<Option<HeaderValue>> = const { RefCell::new(None) };
}

/// `value` of header `name` made without checking it byte by byte, if it is known: the values
/// of the host's tag (the plugin's name, nosniff, sandbox) and the content type of text.
fn known_value(name: &HeaderName, value: &[u8]) -> Option<HeaderValue> {
    // Checked once, when compiled.
    static NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
    static SANDBOX: HeaderValue = HeaderValue::from_static("sandbox");
    static TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
    match value {
        b"nosniff" => Some(NOSNIFF.clone()),
        b"sandbox" => Some(SANDBOX.clone()),
        b"text/plain; charset=utf-8" => Some(TEXT.clone()),
        _ if *name == PLUGIN => LAST_PLUGIN.with_borrow_mut(|last| {
            if last.as_ref().is_none_or(|last| last.as_bytes() != value) {
                *last = Some(HeaderValue::from_bytes(value).ok()?);
            }
            last.clone()
        }),
        _ => None,
    }
}

/// A streamed body: each chunk pulled from the plugin when the connection is ready for it. One
/// that ends early is an error, so hyper ends the chunked body without its last chunk; the
/// error waits one turn, so that hyper first sends what it holds (it drops its buffer when a
/// body fails). So does the chunk after the first: hyper writes only once its buffer is full
/// (about 400 KiB) or the body waits, and the head and first chunk should not wait for more.
fn streamed(mut chunks: BoxStream<'static, Result<Chunk<Vec<u8>>, String>>) -> files::Body {
    let (mut failed, mut first, mut flush) = (None, true, false);
    let frames = futures::stream::poll_fn(move |cx| {
        if let Some(reason) = failed.take() {
            return Poll::Ready(Some(Err(std::io::Error::other(reason))));
        }
        if std::mem::take(&mut flush) {
            cx.waker().wake_by_ref();
            return Poll::Pending; // hyper flushes while it waits
        }
        match chunks.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(Chunk::Plugin(bytes) | Chunk::Host(bytes)))) => {
                flush = std::mem::take(&mut first);
                Poll::Ready(Some(Ok(http_body::Frame::data(bytes.into()))))
            }
            Poll::Ready(Some(Err(reason))) => {
                failed = Some(reason);
                cx.waker().wake_by_ref();
                Poll::Pending // hyper flushes while it waits
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    });
    files::streamed(StreamBody::new(frames))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_http_cannot_carry_is_a_500_saying_why() {
        let tag = Tag {
            plugin: "p",
            sandbox: false,
        };
        let status = into_http(Reply::new(99), Some(tag));
        assert_eq!(status.status(), 500);
        let mut reply = Reply::new(200);
        reply.header("bad name", b"v");
        let header = into_http(reply, Some(tag));
        assert_eq!(header.status(), 500);
        assert_eq!(header.headers()[PLUGIN_HEADER], "p");
    }
}
