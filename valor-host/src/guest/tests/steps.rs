//! What a scripted fake task hands over, poll after poll ([`super::Act::Steps`]): the frames of
//! ABI 4 (PROTOCOL.md, section 17), as a plugin writes them with `valor_abi::frame`.

use crate::fault::Fault;
use valor_abi::codec;
use valor_abi::frame::{self, CHUNK, CONTINUES, DONE, END, HEAD, RESPONSE};

/// One poll of a scripted task.
#[derive(Clone, Debug)]
pub(super) enum Step {
    /// The poll hands over these bytes (a frame), written into plugin memory.
    Frame(Vec<u8>),
    /// The poll returns `PENDING`, the task waiting on a host operation (a sleep) it starts:
    /// completing that operation wakes it.
    Pending,
    /// The call fails (a trap, say).
    Fail(Fault),
}

/// An encoded response: `status`, `headers`, `body`.
pub(super) fn encoded(status: u16, headers: &[(&[u8], &[u8])], body: &[u8]) -> Vec<u8> {
    codec::encode_response_parts(status, headers, body)
}

/// `HEAD`: 200 with `headers`, the body to follow.
pub(super) fn head(headers: &[(&[u8], &[u8])]) -> Step {
    Step::Frame(frame::stream(HEAD, &encoded(200, headers, b"")))
}

/// The `HEAD` of an event stream.
pub(super) fn event_head() -> Step {
    head(&[(b"content-type", b"text/event-stream")])
}

/// `CHUNK` of `bytes`.
pub(super) fn chunk(bytes: &[u8]) -> Step {
    Step::Frame(frame::stream(CHUNK, bytes))
}

/// `END` with `reason` (empty: the body is complete).
pub(super) fn end(reason: &str) -> Step {
    Step::Frame(frame::stream(END, reason.as_bytes()))
}

/// `END` with `CONTINUES`: the body is complete, the task goes on working.
pub(super) fn end_continues() -> Step {
    Step::Frame(frame::stream(END | CONTINUES, b""))
}

/// `DONE`.
pub(super) fn done() -> Step {
    Step::Frame(frame::stream(DONE, b""))
}

/// `RESPONSE`, with `CONTINUES` if `continues`: a whole answer of 200 with `body`.
pub(super) fn whole(body: &[u8], continues: bool) -> Step {
    let kind = if continues {
        RESPONSE | CONTINUES
    } else {
        RESPONSE
    };
    Step::Frame(frame::stream(kind, &encoded(200, &[], body)))
}

/// A trap with the plugin's panic message `message`.
pub(super) fn panic(message: &str) -> Step {
    Step::Fail(Fault::Trap {
        panic: Some(message.into()),
        error: "unreachable".into(),
    })
}

/// A streamed answer of `chunks`, complete: `HEAD`, a `CHUNK` each, `END`.
pub(super) fn stream(chunks: &[&[u8]]) -> Vec<Step> {
    let mut steps = vec![head(&[])];
    steps.extend(chunks.iter().map(|bytes| chunk(bytes)));
    steps.push(end(""));
    steps
}
