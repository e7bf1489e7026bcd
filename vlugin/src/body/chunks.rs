//! A body read as a stream of chunks ([`Body::into_stream`]), and read whole
//! ([`Body::collect`]).

use super::read::Reader;
use super::{Body, BodyStream, Inner};
use crate::{Error, StatusCode};
use futures_core::Stream;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

impl Body {
    /// The body as a stream of chunks, each read when the stream is polled: a body handed over
    /// by the host (a request's, when the entry sets `stream_requests`; a response's from
    /// [`fetch_stream`](crate::fetch_stream)) yields what each `read` returns (at least one
    /// byte, at most 1 MiB); a body of bytes yields them at once (nothing if it is empty); a
    /// stream of [`Body::from_stream`] yields its items.
    ///
    /// A body that ends early yields an [`Error`], then ends: past the entry's
    /// `max_stream_bytes`, one of status 413 (`PAYLOAD_TOO_LARGE`); broken off (the client's
    /// upload, the fetched connection, or no bytes within `stream_idle_ms`), one of status 400;
    /// an item of `from_stream` that is an `Err`, one of status 500; each with the reason's
    /// text. So a handler may answer it with `?`.
    ///
    /// Dropping the stream before its end closes the body: the host reads no more of it (and a
    /// read in flight is cancelled).
    ///
    /// # Examples
    /// ```
    /// use vlugin::prelude::*;
    ///
    /// /// The upload's length, read a chunk at a time.
    /// async fn length(req: Request) -> vlugin::Result<String> {
    ///     let mut chunks = req.into_body().into_stream();
    ///     let mut length = 0;
    ///     while let Some(chunk) = chunks.next_chunk().await {
    ///         length += chunk?.len();
    ///     }
    ///     Ok(length.to_string())
    /// }
    /// # let request = http::Request::post("/").body(Body::from("12345")).unwrap();
    /// # assert_eq!(vlugin::test::block_on(length(request)).unwrap(), "5");
    /// ```
    pub fn into_stream(self) -> BodyChunks {
        BodyChunks(match self.0 {
            Inner::Bytes(bytes) => Chunks::Bytes((!bytes.is_empty()).then_some(bytes)),
            Inner::Stream(stream) => Chunks::Stream(stream),
            Inner::Host(handle) => Chunks::Host(Reader::new(handle)),
        })
    }

    /// The whole body: its bytes, or a streamed body read to its end. It fails as
    /// [`into_stream`](Body::into_stream) does (a 413 past `max_stream_bytes`, ...). It holds
    /// the whole body in memory: to hash, count or pass on an upload, read its chunks instead.
    ///
    /// # Examples
    /// ```
    /// use vlugin::prelude::*;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Todo { title: String }
    ///
    /// async fn create(req: Request) -> vlugin::Result<String> {
    ///     let body = req.into_body().collect().await?;
    ///     let todo: Todo = serde_json::from_slice(&body)?;
    ///     Ok(todo.title)
    /// }
    /// # let request = http::Request::post("/").body(Body::from(r#"{"title":"a"}"#)).unwrap();
    /// # assert_eq!(vlugin::test::block_on(create(request)).unwrap(), "a");
    /// ```
    pub async fn collect(self) -> Result<Vec<u8>, Error> {
        let mut chunks = match self.0 {
            Inner::Bytes(bytes) => return Ok(bytes),
            streamed => Body(streamed).into_stream(),
        };
        let mut all = Vec::new();
        while let Some(chunk) = chunks.next_chunk().await {
            all.extend_from_slice(&chunk?);
        }
        Ok(all)
    }
}

/// A [`Body`] as a stream of chunks: see [`Body::into_stream`]. Each item is the next bytes
/// of the body (never empty), or the [`Error`] that ends it; dropping it closes the body.
pub struct BodyChunks(Chunks);

enum Chunks {
    /// The bytes, until they are taken.
    Bytes(Option<Vec<u8>>),
    Stream(BodyStream),
    Host(Reader),
}

impl BodyChunks {
    /// The next chunk, the error that ends the body, or `None` at its end: what
    /// `StreamExt::next` gives, without the `futures` crates.
    pub async fn next_chunk(&mut self) -> Option<Result<Vec<u8>, Error>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl Stream for BodyChunks {
    type Item = Result<Vec<u8>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match &mut self.0 {
            Chunks::Bytes(bytes) => Poll::Ready(bytes.take().map(Ok)),
            Chunks::Host(reader) => reader
                .poll_next(cx)
                .map(|item| item.map(|item| item.map_err(Error::from))),
            Chunks::Stream(stream) => loop {
                // An empty item of the plugin's stream is no chunk.
                return match stream.poll_chunk(cx) {
                    Poll::Ready(Some(Ok(chunk))) if chunk.is_empty() => continue,
                    Poll::Ready(item) => Poll::Ready(item.map(|item| {
                        item.map_err(|reason| Error::new(StatusCode::INTERNAL_SERVER_ERROR, reason))
                    })),
                    Poll::Pending => Poll::Pending,
                };
            },
        }
    }
}

impl fmt::Debug for BodyChunks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BodyChunks")
    }
}
