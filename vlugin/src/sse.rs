//! Server-sent events: a streamed answer of `text/event-stream`, which a page reads with an
//! `EventSource` (names as axum's `axum::response::sse`).
//!
//! ```
//! use futures_util::stream; // the `futures-util` crate
//! use std::time::Duration;
//! use vlugin::prelude::*;
//! use vlugin::sse::{Event, Sse};
//!
//! async fn ticks(_req: Request, _params: Params) -> impl IntoResponse {
//!     let events = stream::unfold(0, |i| async move {
//!         sleep(Duration::from_secs(1)).await;
//!         Some((Ok::<_, Error>(Event::default().data(i.to_string())), i + 1))
//!     });
//!     Sse::new(events).keep_alive(Duration::from_secs(15))
//! }
//! ```

mod event;

pub use event::Event;

use crate::{Body, IntoResponse, Response};
use futures_core::Stream;
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// An answer of server-sent events: each `Ok` item of the stream is sent as it comes, and the
/// stream's end ends the answer. An `Err` ends it early with its text as the reason: the host
/// logs it and sends it as the stream's last comment (`: valor: ...`, PROTOCOL.md section
/// 17.3), after which a page's `EventSource` reconnects.
///
/// Its `content-type` is `text/event-stream` and its `cache-control` `no-cache`; as any
/// answer, it may be given a status or more headers (`(headers, Sse::new(events))`).
#[must_use]
pub struct Sse<S> {
    events: S,
    keep_alive: Option<Duration>,
}

impl<S> Sse<S> {
    /// The answer of the events `events` produces.
    pub fn new(events: S) -> Self {
        Self {
            events,
            keep_alive: None,
        }
    }

    /// Sends a `: keep-alive` comment whenever the stream has produced nothing for
    /// `interval` since the reader asked for more (through the host's timer,
    /// [`sleep`](crate::sleep)): so that a proxy or the host's `stream_idle_ms` does not take
    /// a quiet stream for a dead one (given an interval shorter than theirs).
    pub fn keep_alive(mut self, interval: Duration) -> Self {
        self.keep_alive = Some(interval);
        self
    }
}

impl<S, E> IntoResponse for Sse<S>
where
    S: Stream<Item = Result<Event, E>> + Send + 'static,
    E: Display,
{
    fn into_response(self) -> Response {
        let body = Body::from_stream(EventBody {
            events: Box::pin(self.events),
            keep_alive: self.keep_alive,
            timer: None,
        });
        let mut response = Response::new(body);
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }
}

/// The body of an [`Sse`]: the events as text, and keep-alive comments.
struct EventBody<S> {
    events: Pin<Box<S>>,
    keep_alive: Option<Duration>,
    /// The keep-alive timer, from the last event on.
    timer: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl<S, E> Stream for EventBody<S>
where
    S: Stream<Item = Result<Event, E>>,
    E: Display,
{
    type Item = Result<String, String>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.events.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(event))) => {
                self.timer = None;
                Poll::Ready(Some(Ok(event.to_string())))
            }
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error.to_string()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => self.poll_keep_alive(cx),
        }
    }
}

impl<S> EventBody<S> {
    /// A keep-alive comment if the events have been quiet for the interval.
    fn poll_keep_alive(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<String, String>>> {
        let Some(interval) = self.keep_alive else {
            return Poll::Pending;
        };
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(crate::sleep(interval)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.timer = None;
                Poll::Ready(Some(Ok(": keep-alive\n\n".to_owned())))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
