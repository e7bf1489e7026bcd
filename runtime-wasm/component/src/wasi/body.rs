//! Bodies, whole: an incoming body is bytes already received; an outgoing body collects what
//! the component writes (at most [`BODY_LIMIT`]) until `outgoing-body.finish`.
//!
//! As in wasmtime-wasi-http, the stream of a body is its child (the body cannot be finished or
//! dropped while the stream is alive: that traps), a `content-length` the headers declare must
//! match what was written (`finish` answers `HTTP-request-body-size` /
//! `HTTP-response-body-size` otherwise), and dropping an outgoing body without finishing it
//! aborts it.

use super::args::{err, ok, Answer, Args};
use super::codes::error_code;
use super::fields::Fields;
use super::io::{InputStream, OutputStream};
use super::response::HostFutureTrailers;
use super::session::Session;
use crate::abi::Val;
use std::cell::RefCell;
use std::rc::Rc;

/// The most bytes an outgoing body (the answer's, or an outgoing request's) may hold: the
/// write that would pass it traps.
pub(super) const BODY_LIMIT: usize = 64 << 20;

/// Where an outgoing body goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyOf {
    /// An outgoing request's.
    Request,
    /// The answer's.
    Response,
}

/// How far an outgoing body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyState {
    /// Being written.
    Open,
    /// `outgoing-body.finish` succeeded.
    Finished,
    /// Dropped unfinished, or finished with the wrong length.
    Aborted,
}

/// The bytes of an outgoing body, shared by the body, its stream, and the request or response
/// it belongs to (which the component may hand over before the body is finished).
pub(super) struct BodyBuf {
    /// What was written.
    pub bytes: Vec<u8>,
    /// How far it is.
    pub state: BodyState,
    /// The `content-length` its headers declared.
    pub expected: Option<u64>,
    /// Request or response.
    pub of: BodyOf,
    /// The outgoing request (its number in the session) that waits for this body to be sent.
    pub fetch: Option<usize>,
}

/// An outgoing body, shared.
pub(super) type SharedBody = Rc<RefCell<BodyBuf>>;

/// A new, open body.
pub(super) fn new_body(of: BodyOf, expected: Option<u64>) -> SharedBody {
    Rc::new(RefCell::new(BodyBuf {
        bytes: Vec::new(),
        state: BodyState::Open,
        expected,
        of,
        fetch: None,
    }))
}

/// The body of an outgoing request or response whose `slot` holds none yet, if its `headers`'
/// `content-length` is readable: then kept in `slot` too. `None` otherwise.
pub(super) fn open_body(
    slot: &mut Option<SharedBody>,
    headers: &Fields,
    of: BodyOf,
) -> Option<SharedBody> {
    if slot.is_some() {
        return None;
    }
    let expected = headers.content_length().ok()?;
    let buf = new_body(of, expected);
    *slot = Some(buf.clone());
    Some(buf)
}

impl BodyBuf {
    /// The `error-code` for a body of the wrong size, `written` bytes long.
    pub fn size_error(&self, written: u64) -> Val {
        match self.of {
            BodyOf::Request => error_code::request_body_size(written),
            BodyOf::Response => error_code::response_body_size(written),
        }
    }
}

/// The resource `incoming-body`.
pub(super) struct HostIncomingBody {
    /// The bytes.
    pub bytes: Rc<[u8]>,
    /// Whether `stream` was called.
    pub streamed: bool,
}

/// The resource `outgoing-body`.
pub(super) struct HostOutgoingBody {
    /// Its bytes.
    pub buf: SharedBody,
    /// Whether `write` was called.
    pub written: bool,
}

impl Session {
    /// `[method]outgoing-request.body` and `[method]outgoing-response.body`: an `outgoing-body`
    /// over `buf` (`ok`), or `err` when the request or response has none to give.
    pub(super) fn outgoing_body(&mut self, args: &Args, buf: Option<SharedBody>) -> Answer {
        let Some(buf) = buf else {
            return Ok(Some(err(None)));
        };
        let body = (self.run.table).push(
            args,
            HostOutgoingBody {
                buf,
                written: false,
            },
        )?;
        Ok(Some(ok(Some(Val::Handle(body)))))
    }

    /// `[method]incoming-body.stream`.
    pub(super) fn incoming_body_stream(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        let body = self.run.table.get::<HostIncomingBody>(args, handle)?;
        if body.streamed {
            return Ok(Some(err(None)));
        }
        body.streamed = true;
        let stream = InputStream::new(body.bytes.clone());
        let stream = self.run.table.push_child(args, stream, handle)?;
        Ok(Some(ok(Some(Val::Handle(stream)))))
    }

    /// `[static]incoming-body.finish`.
    pub(super) fn incoming_body_finish(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        self.run.table.remove::<HostIncomingBody>(args, handle)?;
        let trailers = self
            .run
            .table
            .push(args, HostFutureTrailers { taken: false })?;
        Ok(Some(Val::Handle(trailers)))
    }

    /// `[method]outgoing-body.write`.
    pub(super) fn outgoing_body_write(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        let body = self.run.table.get::<HostOutgoingBody>(args, handle)?;
        if body.written {
            return Ok(Some(err(None)));
        }
        body.written = true;
        let stream = OutputStream::Body(body.buf.clone());
        let stream = self.run.table.push_child(args, stream, handle)?;
        Ok(Some(ok(Some(Val::Handle(stream)))))
    }

    /// `[static]outgoing-body.finish`: trailers are taken and left out (a browser's `fetch`
    /// and `Response` carry none).
    pub(super) fn outgoing_body_finish(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        let trailers = args.option(1)?;
        let body = self.run.table.remove::<HostOutgoingBody>(args, handle)?;
        if let Some(trailers) = trailers {
            let Val::Handle(trailers) = trailers else {
                return Err(args.trap("the trailers are not a handle"));
            };
            self.run.table.remove::<Fields>(args, trailers)?;
        }
        let mut buf = body.buf.borrow_mut();
        let written = buf.bytes.len() as u64;
        if buf.expected.is_some_and(|expected| expected != written) {
            buf.state = BodyState::Aborted;
            let code = buf.size_error(written);
            let fetch = buf.fetch;
            drop(buf);
            if let Some(fetch) = fetch {
                self.fail_fetch(fetch, error_code::protocol_error());
            }
            return Ok(Some(err(Some(code))));
        }
        buf.state = BodyState::Finished;
        let fetch = buf.fetch;
        let bytes = if fetch.is_some() {
            std::mem::take(&mut buf.bytes)
        } else {
            Vec::new()
        };
        drop(buf);
        if let Some(fetch) = fetch {
            self.send_fetch(fetch, bytes);
        }
        Ok(Some(ok(None)))
    }

    /// `[resource-drop]outgoing-body`: unfinished, the body is aborted (an outgoing request
    /// waiting for it fails with `HTTP-protocol-error`; the answer fails likewise).
    pub(super) fn outgoing_body_dropped(&mut self, body: HostOutgoingBody) {
        let mut buf = body.buf.borrow_mut();
        if buf.state != BodyState::Open {
            return;
        }
        buf.state = BodyState::Aborted;
        let fetch = buf.fetch;
        drop(buf);
        if let Some(fetch) = fetch {
            self.fail_fetch(fetch, error_code::protocol_error());
        }
    }
}
