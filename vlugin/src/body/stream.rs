//! A streamed body: the plugin's stream behind a trait object, each item made bytes or the
//! reason the body ends early.

use super::{Body, Handle, Inner};
use crate::guest::tasks::Rest;
use futures_core::Stream;
use std::fmt::Display;
use std::pin::Pin;
use std::task::{Context, Poll};

impl Body {
    /// A body produced over time: each `Ok` item of `stream` is the next bytes of the body, and
    /// the body is complete when the stream ends. An `Err` item ends it early, its text the
    /// reason (the host logs it; see the book's "Streaming" page for what the reader sees).
    ///
    /// The answer's status and headers go first; then the stream is polled only when the
    /// reader wants more, so a producer never runs ahead of its reader. Empty items are
    /// skipped, and each item must stay within the plugin's `max_body_bytes`. A reader that
    /// goes away drops the stream (and what it awaits).
    ///
    /// The stream is `Send`, so that a `Body` stays `Send` and `Sync` (as `http` and code
    /// that keeps bodies in a `static` expect): what it shares with other requests lives in a
    /// `thread_local!` or an `Arc`, not an `Rc`. The host's futures (`sleep`, `fetch`, `kv`)
    /// are `Send`.
    ///
    /// A streamed body is for answers: a request sent with [`fetch`](crate::fetch) or
    /// [`fetch_stream`](crate::fetch_stream) sends the bytes of its body, and a streamed one has
    /// none yet.
    ///
    /// # Examples
    /// ```
    /// use futures_util::stream::{self, StreamExt}; // the `futures-util` crate
    /// use std::convert::Infallible;
    /// use vlugin::prelude::*;
    ///
    /// let lines = stream::iter(1..=3).map(|n| Ok::<_, Infallible>(format!("line {n}\n")));
    /// let response = ([(header::CONTENT_TYPE, "text/plain")], Body::from_stream(lines))
    ///     .into_response();
    /// assert!(response.body().is_streamed());
    /// ```
    pub fn from_stream<S, T, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<T, E>> + Send + 'static,
        T: Into<Vec<u8>>,
        E: Display,
    {
        Self(Inner::Stream(BodyStream {
            chunks: Box::pin(Chunks {
                stream,
                ended: false,
            }),
            sender: crate::guest::going::Going::boxed,
        }))
    }
}

/// A body's stream, as the executor sends it.
pub(crate) struct BodyStream {
    chunks: Pin<Box<dyn NextChunk + Send>>,
    /// Makes what sends the body (`guest::going`): reached only through here, so that a plugin
    /// that never streams does not link it.
    pub(crate) sender: fn() -> Pin<Box<dyn Rest>>,
}

impl BodyStream {
    /// A body the host hands over, sent on as it is read: one `read` per chunk.
    pub(crate) fn read(handle: Handle) -> Self {
        Self {
            chunks: Box::pin(super::read::Reader::new(handle)),
            sender: crate::guest::going::Going::boxed,
        }
    }

    /// The next item: bytes, or the reason the body ends early (`Err`), or `None` at its end.
    /// After its end (either), `None` again, without polling the plugin's stream.
    pub(crate) fn poll_chunk(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Vec<u8>, String>>> {
        self.chunks.as_mut().poll_chunk(cx)
    }

    /// Whether `self` and `other` are the same stream.
    pub(crate) fn is(&self, other: &Self) -> bool {
        std::ptr::addr_eq(&*self.chunks, &*other.chunks)
    }
}

// SAFETY: a `&BodyStream` gives no access to the stream (`is` compares addresses), which only
// `&mut` methods poll: so sharing a `&BodyStream` between threads shares nothing. (Streams need
// not be `Sync`, and a `Body` is `Sync`, as it was before streams.)
unsafe impl Sync for BodyStream {}

// A panic inside the stream ends its task (and, in WebAssembly, its instance): no one sees a
// stream a panic broke. (So a `Body` is unwind-safe, as it was before streams.)
impl std::panic::UnwindSafe for BodyStream {}
impl std::panic::RefUnwindSafe for BodyStream {}

/// The plugin's stream, and whether it has ended (never polled again then).
struct Chunks<S> {
    stream: S,
    ended: bool,
}

/// What a streamed body's stream gives the executor: the next bytes, the reason the body ends
/// early, or `None` at its end.
pub(super) trait NextChunk {
    fn poll_chunk(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Vec<u8>, String>>>;
}

impl<S, T, E> NextChunk for Chunks<S>
where
    S: Stream<Item = Result<T, E>>,
    T: Into<Vec<u8>>,
    E: Display,
{
    fn poll_chunk(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Vec<u8>, String>>> {
        // SAFETY: `stream` is pinned with its `Chunks` (structurally): it is never moved out
        // nor swapped, and `Chunks` has no `Drop` that could; `ended` is not pinned.
        let (stream, ended) = unsafe {
            let this = self.get_unchecked_mut();
            (Pin::new_unchecked(&mut this.stream), &mut this.ended)
        };
        if *ended {
            return Poll::Ready(None);
        }
        let item = match stream.poll_next(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(item) => item,
        };
        *ended = !matches!(item, Some(Ok(_)));
        Poll::Ready(item.map(|item| item.map(Into::into).map_err(|error| error.to_string())))
    }
}
