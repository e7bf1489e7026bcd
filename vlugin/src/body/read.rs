//! A body the host hands over as it arrives (PROTOCOL.md, section 18): its handle, closed when
//! it is dropped, and its reads, one at a time.

use super::stream::NextChunk;
use super::{Body, Inner};
use crate::guest::{host, ops::HostOp};
use crate::{Error, StatusCode};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use valor_abi::codec::BodyField;
use valor_abi::{outcome, DecodeError};

/// A streamed body's handle. Dropping it closes the body (`close`): the host reads no more of
/// it (the rest of an upload, a fetched connection).
///
/// The import is reached through `close`, set where a handle is made (decoding what the host
/// wrote): code that only builds and drops bodies (a host that uses vlugin's types, as the
/// browser runtime does) must not link the guest's imports.
pub(crate) struct Handle {
    id: u32,
    close: fn(u32),
}

impl Handle {
    /// The handle the host named.
    pub(crate) fn id(&self) -> u32 {
        self.id
    }
}

impl PartialEq for Handle {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Handle {}

impl Drop for Handle {
    fn drop(&mut self) {
        (self.close)(self.id);
    }
}

impl Body {
    /// The body field of a message the host wrote (a request to the plugin, the response of a
    /// `fetch_stream`): its bytes, or the streamed body it names.
    pub(crate) fn from_field(field: BodyField<'_>) -> Result<Self, DecodeError> {
        Ok(match field {
            BodyField::Bytes(bytes) => Self::from(bytes),
            BodyField::Streamed(id) => Self(Inner::Host(Handle {
                id,
                close: host::close,
            })),
        })
    }
}

/// Reads a streamed body a chunk at a time: one `read` in flight, the next started only when
/// the reader is polled for more. The body is closed at its end, at its first error, or when
/// this is dropped.
pub(super) struct Reader {
    /// Declared first, so that a read in flight is cancelled before its body is closed.
    read: Option<HostOp>,
    /// `None` once the body is over.
    body: Option<Handle>,
}

impl Reader {
    pub(super) fn new(handle: Handle) -> Self {
        Self {
            read: None,
            body: Some(handle),
        }
    }

    /// The next chunk (at least one byte), why the body ended early, or `None` at its end.
    pub(super) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Vec<u8>, Ended>>> {
        let Some(body) = &self.body else {
            return Poll::Ready(None);
        };
        let read = self
            .read
            .get_or_insert_with(|| HostOp::new(host::read(body.id())));
        let Poll::Ready(result) = Pin::new(read).poll(cx) else {
            return Poll::Pending;
        };
        self.read = None;
        let item = chunk_of(result);
        if !matches!(item, Some(Ok(_))) {
            self.body = None;
        }
        Poll::Ready(item)
    }
}

/// Why a body ended early: the status of the [`Error`] it is to a handler, and the host's text.
/// (Not an `Error` until a handler asks: the executor, which sends a body on, needs only the
/// text, and an `Error`'s `Display` would add its every variant's to each plugin that answers
/// with a body.)
pub(super) struct Ended {
    status: StatusCode,
    message: String,
}

impl From<Ended> for Error {
    fn from(ended: Ended) -> Self {
        Error::new(ended.status, ended.message)
    }
}

/// What a `read`'s result says: a chunk, the end (`None`), or why the body ended early: past
/// `max_stream_bytes` (`DENIED`) a 413, broken off (`FAILED`) a 400, each with the host's text.
fn chunk_of(mut result: Vec<u8>) -> Option<Result<Vec<u8>, Ended>> {
    let Some(&code) = result.first() else {
        return Some(Err(protocol("an empty read result".into())));
    };
    result.remove(0);
    let ended = |status| {
        let message = String::from_utf8_lossy(&result).into_owned();
        Some(Err(Ended { status, message }))
    };
    match code {
        outcome::OK if result.is_empty() => None,
        outcome::OK => Some(Ok(result)),
        outcome::DENIED => ended(StatusCode::PAYLOAD_TOO_LARGE),
        outcome::FAILED => ended(StatusCode::BAD_REQUEST),
        other => Some(Err(protocol(format!("unknown outcome {other}")))),
    }
}

/// A result the SDK cannot read (a host/SDK mismatch): a 500, as [`Error::Protocol`] is.
fn protocol(what: String) -> Ended {
    Ended {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        message: format!("unexpected answer from the runtime: {what}"),
    }
}

/// A body the host hands over, sent on as an answer's body: a chunk read each time the
/// executor polls for the next one.
impl NextChunk for Reader {
    fn poll_chunk(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Vec<u8>, String>>> {
        self.get_mut()
            .poll_next(cx)
            .map(|item| item.map(|item| item.map_err(|ended| ended.message)))
    }
}
