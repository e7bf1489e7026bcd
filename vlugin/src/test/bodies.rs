//! The test host's streamed bodies (PROTOCOL.md, section 18): what a plugin reads with `read`,
//! handed over a chunk per read as a host does, within the body's `max_stream_bytes`.

use crate::body::BodyStream;
use std::collections::VecDeque;

/// The most bytes one read hands over, as on a real host: a longer chunk is split.
const MAX_CHUNK_BYTES: usize = 1 << 20;

/// What follows a body's queued chunks.
pub(crate) enum Then {
    /// The end: an empty `OK`.
    End,
    /// A read that fails (`FAILED`) with this reason.
    Fail(String),
    /// More chunks, from a stream (a `fetch_stream` stub's streamed body); taken out while it
    /// is polled.
    Stream(Option<BodyStream>),
}

/// A streamed body the test host holds, and what the plugin read of it.
pub(crate) struct TestBody {
    pub(crate) queued: VecDeque<Vec<u8>>,
    pub(crate) then: Then,
    /// Past this many bytes, the read is `DENIED` (a request's `max_stream_bytes`).
    pub(crate) max_bytes: Option<u64>,
    /// The length of each chunk the plugin read, in order.
    pub(crate) chunks: Vec<usize>,
    /// The plugin was handed its end, its `DENIED` or its `FAILED`: reads of it fail.
    pub(crate) over: bool,
    /// The plugin closed it (`close`).
    pub(crate) closed: bool,
}

impl TestBody {
    /// A body of `chunks` (empty ones left out), then `then`.
    pub(crate) fn new(chunks: impl IntoIterator<Item = Vec<u8>>, then: Then) -> Self {
        Self {
            queued: chunks
                .into_iter()
                .filter(|chunk| !chunk.is_empty())
                .collect(),
            then,
            max_bytes: None,
            chunks: Vec::new(),
            over: false,
            closed: false,
        }
    }

    /// The next step of a read, as far as it goes without polling a stream: a result, or the
    /// stream to poll (taken out; [`TestBody::polled`] puts it back).
    pub(crate) fn step(&mut self, handle: u32) -> Step {
        if self.over {
            return Step::Failed(format!("streamed body {handle} is over"));
        }
        if let Some(mut chunk) = self.queued.pop_front() {
            if chunk.len() > MAX_CHUNK_BYTES {
                self.queued.push_front(chunk.split_off(MAX_CHUNK_BYTES));
            }
            let read: usize = self.chunks.iter().sum();
            if let Some(max) = self.max_bytes {
                if (read + chunk.len()) as u64 > max {
                    self.over = true;
                    return Step::Denied(format!(
                        "the request body is larger than max_stream_bytes ({max} bytes)"
                    ));
                }
            }
            self.chunks.push(chunk.len());
            return Step::Chunk(chunk);
        }
        match &mut self.then {
            Then::End => {
                self.over = true;
                Step::Chunk(Vec::new())
            }
            Then::Fail(reason) => {
                self.over = true;
                Step::Failed(reason.clone())
            }
            Then::Stream(stream) => match stream.take() {
                Some(stream) => Step::Poll(stream),
                None => Step::Failed(format!("streamed body {handle} is being read")),
            },
        }
    }

    /// What polling the stream of [`Step::Poll`] gave: queued, or what follows. The stream is
    /// kept until its end, then given back, to be dropped outside the host's borrow.
    pub(crate) fn polled(
        &mut self,
        stream: BodyStream,
        item: Option<Result<Vec<u8>, String>>,
    ) -> Option<BodyStream> {
        match item {
            Some(Ok(chunk)) => {
                self.queued.extend((!chunk.is_empty()).then_some(chunk));
                self.then = Then::Stream(Some(stream));
                None
            }
            Some(Err(reason)) => {
                self.then = Then::Fail(reason);
                Some(stream)
            }
            None => {
                self.then = Then::End;
                Some(stream)
            }
        }
    }
}

/// A read's next step.
pub(crate) enum Step {
    /// `OK` with these bytes (empty: the end).
    Chunk(Vec<u8>),
    Denied(String),
    Failed(String),
    /// Poll this stream for more, outside the host's borrow (it may use the host).
    Poll(BodyStream),
}

/// The bodies a test host holds, by handle (counted from 1, as the hosts do).
#[derive(Default)]
pub(crate) struct Bodies {
    bodies: Vec<(u32, TestBody)>,
    last: u32,
}

impl Bodies {
    /// Holds `body`; its handle.
    pub(crate) fn open(&mut self, body: TestBody) -> u32 {
        self.last += 1;
        self.bodies.push((self.last, body));
        self.last
    }

    /// The body `handle` names, closed or not.
    pub(crate) fn get(&self, handle: u32) -> Option<&TestBody> {
        self.bodies
            .iter()
            .find_map(|(h, body)| (*h == handle).then_some(body))
    }

    /// The body `handle` names, if it is open.
    pub(crate) fn open_mut(&mut self, handle: u32) -> Option<&mut TestBody> {
        self.bodies
            .iter_mut()
            .find_map(|(h, body)| (*h == handle && !body.closed).then_some(body))
    }

    /// How many bodies are open.
    pub(crate) fn open_count(&self) -> usize {
        self.bodies.iter().filter(|(_, body)| !body.closed).count()
    }
}
