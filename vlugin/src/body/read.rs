//! A body the host hands over as it arrives (PROTOCOL.md, section 18): its handle, closed when
//! it is dropped, and its reads, one at a time.

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
#[derive(PartialEq, Eq)]
pub(crate) struct Handle(u32);

impl Drop for Handle {
    fn drop(&mut self) {
        host::close(self.0);
    }
}

impl Body {
    /// The body field of a message the host wrote (a request to the plugin, the response of a
    /// `fetch_stream`): its bytes, or the streamed body it names.
    pub(crate) fn from_field(field: BodyField<'_>) -> Result<Self, DecodeError> {
        Ok(match field {
            BodyField::Bytes(bytes) => Self::from(bytes),
            BodyField::Streamed(handle) => Self(Inner::Host(Handle(handle))),
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

    /// The next chunk (at least one byte), the error that ends the body, or `None` at its end.
    pub(super) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Vec<u8>, Error>>> {
        let Some(body) = &self.body else {
            return Poll::Ready(None);
        };
        let read = self
            .read
            .get_or_insert_with(|| HostOp::new(host::read(body.0)));
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

/// What a `read`'s result says: a chunk, the end (`None`), or why the body ended early: past
/// `max_stream_bytes` (`DENIED`) a 413, broken off (`FAILED`) a 400, each with the host's text.
fn chunk_of(mut result: Vec<u8>) -> Option<Result<Vec<u8>, Error>> {
    if result.is_empty() {
        return Some(Err(Error::Protocol("an empty operation result".into())));
    }
    let code = result.remove(0);
    let message = || String::from_utf8_lossy(&result).into_owned();
    match code {
        outcome::OK if result.is_empty() => None,
        outcome::OK => Some(Ok(result)),
        outcome::DENIED => Some(Err(Error::new(StatusCode::PAYLOAD_TOO_LARGE, message()))),
        outcome::FAILED => Some(Err(Error::new(StatusCode::BAD_REQUEST, message()))),
        other => Some(Err(Error::Protocol(format!("unknown outcome {other}")))),
    }
}
