//! Running a handler as a host does: through the plugin's executor, reading the frames it
//! returns (PROTOCOL.md, sections 8.3 and 17), so that a test sees a streamed body chunk by
//! chunk and runs the work after the answer.

use crate::guest::{spawn, tasks};
use crate::{Body, IntoResponse, Request, Response};
use std::future::Future;
use valor_abi::codec;
use valor_abi::frame::{CHUNK, CONTINUES, DONE, END, HEAD, RESPONSE, STREAM};

/// A frame a plugin's task returned, decoded: what the host read, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A whole answer; `continues` if the task goes on working after it (`RESPONSE` with
    /// `CONTINUES`), `false` for the plain response frame of a buffered answer.
    Response {
        /// The task goes on after it, until [`Frame::Done`].
        continues: bool,
    },
    /// The status and headers of a streamed answer.
    Head,
    /// The next bytes of a streamed body (never empty).
    Chunk(Vec<u8>),
    /// The end of a streamed body: `reason` is empty if it is complete.
    End {
        /// Why the body ended early; empty if it did not.
        reason: String,
        /// The task goes on after it, until [`Frame::Done`].
        continues: bool,
    },
    /// The task finished its work after the answer.
    Done,
}

/// A handler's answer, as [`serve`] reads it: its status and headers at once, a streamed
/// body chunk by chunk. Dropping it drops the task, as a host does when the reader goes away
/// (which cancels its producer and its work after the answer).
pub struct Served {
    task: u32,
    response: Response,
    frames: Vec<Frame>,
    /// Whether the task has a frame left to give.
    going: bool,
}

/// Runs `handler` on `request` as a host does, until its answer (the status and headers of a
/// streamed one): through the plugin's executor, reading the frames it returns. Unlike
/// [`block_on`](super::block_on), it runs what the handler goes on with after its answer: its
/// streamed body ([`Served::next_chunk`], [`Served::text`]) and its
/// [`wait_until`](crate::wait_until) work ([`Served::finish`]). (A handler that is a plain
/// `fn`: `serve(|req| async move { handler(req) }, request)`.)
///
/// ```
/// use futures_util::stream::{self, StreamExt};
/// use std::convert::Infallible;
/// use vlugin::prelude::*;
/// use vlugin::sse::{Event, Sse};
/// use vlugin::test::{request, serve, Host};
///
/// async fn ticks(_req: Request) -> impl IntoResponse {
///     let events = stream::iter(1..=2).map(|i| Event::default().data(i.to_string()));
///     Sse::new(events.map(Ok::<_, Infallible>))
/// }
///
/// let _host = Host::new().install();
/// let mut served = serve(ticks, request("GET", "/", ""));
/// assert_eq!(served.response().headers()["content-type"], "text/event-stream");
/// assert_eq!(served.next_chunk().unwrap(), b"data: 1\n\n");
/// assert_eq!(served.text(), "data: 2\n\n"); // the rest of the body
/// assert_eq!(served.ended_early(), None);
/// ```
///
/// # Panics
/// If the handler waits for something that nothing in the test host will finish (as
/// `block_on`), or if the task's frames break the protocol (a bug of the SDK).
pub fn serve<H, F>(handler: H, request: Request) -> Served
where
    H: FnOnce(Request) -> F,
    F: Future + 'static,
    F::Output: IntoResponse,
{
    let task = spawn(request, handler);
    let mut served = Served {
        task,
        response: Response::new(Body::empty()),
        frames: Vec::new(),
        going: true,
    };
    let frame = served.next_frame();
    match frame {
        Frame::Response { .. } | Frame::Head => {}
        other => panic!("a task's first frame must be its answer, not {other:?}"),
    }
    served
}

impl Served {
    /// The answer: its status and headers, and its body if it is not streamed (a streamed
    /// one is read with [`next_chunk`](Served::next_chunk) or [`text`](Served::text)).
    pub fn response(&self) -> &Response {
        &self.response
    }

    /// Whether the body is streamed.
    pub fn is_streamed(&self) -> bool {
        self.frames.first() == Some(&Frame::Head)
    }

    /// The next bytes of a streamed body, polling the task as a host does when its reader
    /// wants more; `None` once the body has ended (see [`ended_early`](Served::ended_early)),
    /// and for a body that is not streamed.
    pub fn next_chunk(&mut self) -> Option<Vec<u8>> {
        if !self.is_streamed() || self.body_ended() {
            return None;
        }
        match self.next_frame() {
            Frame::Chunk(bytes) => Some(bytes),
            Frame::End { .. } => None,
            other => panic!("a streamed body goes on with a chunk or its end, not {other:?}"),
        }
    }

    /// The rest of the body: all of a body that is not streamed, or a streamed body read to
    /// its end (so never for an endless one). An ending cut short is in
    /// [`ended_early`](Served::ended_early).
    pub fn body(&mut self) -> Vec<u8> {
        if !self.is_streamed() {
            return self.response.body().as_bytes().to_vec();
        }
        let mut body = Vec::new();
        while let Some(chunk) = self.next_chunk() {
            body.extend(chunk);
        }
        body
    }

    /// [`body`](Served::body) as text (lossily decoded).
    pub fn text(&mut self) -> String {
        String::from_utf8_lossy(&self.body()).into_owned()
    }

    /// Why the streamed body ended early: `None` while it goes on, and when it ended complete.
    pub fn ended_early(&self) -> Option<&str> {
        self.frames.iter().find_map(|frame| match frame {
            Frame::End { reason, .. } if !reason.is_empty() => Some(reason.as_str()),
            _ => None,
        })
    }

    /// Runs the task to its end, as a host does after the answer: reads the rest of a streamed
    /// body (dropped), then runs the [`wait_until`](crate::wait_until) work until it is done.
    /// Returns every frame the task returned, in order.
    pub fn finish(mut self) -> Vec<Frame> {
        while self.going {
            self.next_frame();
        }
        std::mem::take(&mut self.frames)
    }

    /// The frames the task returned so far, in order.
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    fn body_ended(&self) -> bool {
        matches!(self.frames.last(), Some(Frame::End { .. } | Frame::Done))
    }

    /// Polls the task until it returns a frame, and reads it.
    fn next_frame(&mut self) -> Frame {
        assert!(self.going, "the task returned its last frame already");
        let bytes = loop {
            let address = tasks::poll(self.task);
            if let Some(bytes) = tasks::frame_at(self.task, address) {
                break bytes;
            }
            if !tasks::take_wake(self.task) {
                panic!("the handler waits for something that nothing in the test host will finish");
            }
        };
        let frame = self.read(&bytes);
        self.going = match &frame {
            Frame::Response { continues } | Frame::End { continues, .. } => *continues,
            Frame::Head | Frame::Chunk(_) => true,
            Frame::Done => false,
        };
        self.frames.push(frame.clone());
        frame
    }

    /// Decodes a frame, checking that it may come after the frames before it (section 17.1).
    fn read(&mut self, bytes: &[u8]) -> Frame {
        let word = u32::from_le_bytes(bytes[..4].try_into().expect("a length word"));
        let payload = &bytes[4..];
        let length = (word & !STREAM) as usize;
        if word & STREAM == 0 {
            assert_eq!(length, payload.len(), "a response frame's length");
            self.expect_first("a response frame");
            self.response = decode(payload);
            return Frame::Response { continues: false };
        }
        assert_eq!(length, payload.len(), "a stream frame's length");
        let (kind, payload) = payload.split_first().expect("a stream frame has a kind");
        let continues = kind & CONTINUES != 0;
        match (kind & !CONTINUES, continues) {
            (RESPONSE, true) => {
                self.expect_first("RESPONSE");
                self.response = decode(payload);
                Frame::Response { continues }
            }
            (HEAD, false) => {
                self.expect_first("HEAD");
                self.response = decode(payload);
                assert!(self.response.body().is_empty(), "a HEAD's body is empty");
                Frame::Head
            }
            (CHUNK, false) => {
                self.expect_streaming("CHUNK");
                assert!(!payload.is_empty(), "a CHUNK has at least one byte");
                Frame::Chunk(payload.to_vec())
            }
            (END, continues) => {
                self.expect_streaming("END");
                let reason = std::str::from_utf8(payload).expect("an END's reason is UTF-8");
                Frame::End {
                    reason: reason.to_owned(),
                    continues,
                }
            }
            (DONE, false) => {
                let continued = matches!(
                    self.frames.last(),
                    Some(
                        Frame::Response { continues: true }
                            | Frame::End {
                                continues: true,
                                ..
                            }
                    )
                );
                assert!(continued, "DONE comes only after an answer with CONTINUES");
                assert!(payload.is_empty(), "DONE is empty");
                Frame::Done
            }
            (kind, continues) => panic!("a malformed stream frame: kind {kind}, {continues}"),
        }
    }

    fn expect_first(&self, what: &str) {
        assert!(self.frames.is_empty(), "{what} after {:?}", self.frames);
    }

    fn expect_streaming(&self, what: &str) {
        let streaming = matches!(self.frames.last(), Some(Frame::Head | Frame::Chunk(_)));
        assert!(streaming, "{what} after {:?}", self.frames.last());
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        tasks::drop_task(self.task);
    }
}

fn decode(encoded: &[u8]) -> Response {
    codec::decode_response(encoded).expect("the task's response decodes")
}
