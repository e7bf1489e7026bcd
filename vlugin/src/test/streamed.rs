//! Streamed bodies in tests: a request whose body the plugin reads as it arrives, as it does
//! when its entry sets `stream_requests`, with chunks given by the test; and what it read.

use super::answers::State;
use super::bodies::{TestBody, Then};
use super::Installed;
use crate::{Body, Request};
use std::cell::RefCell;
use std::rc::Rc;
use valor_abi::codec::BodyField;

/// A streamed body the test host hands a plugin, as a host hands an upload: each `read` gets
/// the next chunk (a chunk over 1 MiB is split, as on a host), then the end.
///
/// ```
/// use vlugin::prelude::*;
/// use vlugin::test::{block_on, Host, StreamedBody};
///
/// async fn length(req: Request) -> vlugin::Result<String> {
///     Ok(req.into_body().collect().await?.len().to_string())
/// }
///
/// let host = Host::new().install();
/// let (request, reads) = host.streamed_request("POST", "/", StreamedBody::new(["ab", "cde"]));
/// assert!(request.body().is_streamed());
/// assert_eq!(block_on(length(request)).unwrap(), "5");
/// assert_eq!(reads.chunks(), [2, 3]);
/// assert!(reads.is_over() && reads.is_closed());
///
/// // Past max_stream_bytes, the read is DENIED: an error of status 413.
/// let limited = StreamedBody::new(["ab", "cde"]).max_stream_bytes(4);
/// let (request, reads) = host.streamed_request("POST", "/", limited);
/// assert_eq!(block_on(length(request)).unwrap_err().status(), 413);
/// assert_eq!(reads.chunks(), [2]);
/// ```
pub struct StreamedBody {
    chunks: Vec<Vec<u8>>,
    max_stream_bytes: Option<u64>,
    failure: Option<String>,
}

impl StreamedBody {
    /// A body of `chunks`, in order (empty ones are left out: a read never gets none).
    pub fn new<I>(chunks: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Vec<u8>>,
    {
        Self {
            chunks: chunks.into_iter().map(Into::into).collect(),
            max_stream_bytes: None,
            failure: None,
        }
    }

    /// The entry's `max_stream_bytes`: the read that passes it is `DENIED` (the plugin sees an
    /// [`Error`](crate::Error) of status 413), and nothing more is read.
    pub fn max_stream_bytes(mut self, max: u64) -> Self {
        self.max_stream_bytes = Some(max);
        self
    }

    /// After the chunks, the body breaks off: the next read fails (`FAILED`) with `reason`, as
    /// when a client's upload stops (the plugin sees an [`Error`](crate::Error) of status 400).
    pub fn fails(mut self, reason: impl Into<String>) -> Self {
        self.failure = Some(reason.into());
        self
    }
}

impl Installed {
    /// Hands `body` to the plugin as the host hands a streamed body: the [`Body`] to give the
    /// handler (streamed, read through this host), and what the plugin read of it.
    pub fn streamed_body(&self, body: StreamedBody) -> (Body, BodyReads) {
        let then = match body.failure {
            Some(reason) => Then::Fail(reason),
            None => Then::End,
        };
        let mut held = TestBody::new(body.chunks, then);
        held.max_bytes = body.max_stream_bytes;
        let handle = self.state.borrow_mut().bodies.open(held);
        let body = Body::from_field(BodyField::Streamed(handle)).expect("a streamed body field");
        let reads = BodyReads {
            handle,
            state: Rc::clone(&self.state),
        };
        (body, reads)
    }

    /// A request as a host hands it to a plugin whose entry sets `stream_requests`: `uri`
    /// relative to the mount, its body `body`, streamed. And what the plugin read of it.
    ///
    /// # Panics
    /// If the method or URI is invalid.
    pub fn streamed_request(
        &self,
        method: &str,
        uri: &str,
        body: StreamedBody,
    ) -> (Request, BodyReads) {
        let (body, reads) = self.streamed_body(body);
        (super::request(method, uri, body), reads)
    }

    /// How many streamed bodies the plugin holds open: those of [`streamed_body`] not yet
    /// closed, and those of its [`fetch_stream`](crate::fetch_stream)s. A plugin closes a body
    /// it drops.
    ///
    /// [`streamed_body`]: Installed::streamed_body
    pub fn open_bodies(&self) -> usize {
        self.state.borrow().bodies.open_count()
    }
}

/// What a plugin read of a [`StreamedBody`].
pub struct BodyReads {
    handle: u32,
    state: Rc<RefCell<State>>,
}

impl BodyReads {
    /// The length of each chunk it read, in order.
    pub fn chunks(&self) -> Vec<usize> {
        self.with(|body| body.chunks.clone())
    }

    /// The bytes it read.
    pub fn bytes(&self) -> usize {
        self.with(|body| body.chunks.iter().sum())
    }

    /// Whether it read the body's end, or the error that ended it (`DENIED`, `FAILED`).
    pub fn is_over(&self) -> bool {
        self.with(|body| body.over)
    }

    /// Whether it closed the body (it does when it drops it).
    pub fn is_closed(&self) -> bool {
        self.with(|body| body.closed)
    }

    fn with<R>(&self, f: impl FnOnce(&TestBody) -> R) -> R {
        let state = self.state.borrow();
        f(state
            .bodies
            .get(self.handle)
            .expect("the body stays known to its host"))
    }
}
