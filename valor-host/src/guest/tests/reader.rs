//! A host's side of a streamed answer, as the tests of `valor_host::streamed` play it: the
//! entry's limits, the host's log and timers, and what its reader gets.

use super::steps::Step;
use super::{block_on, Act, FakeInstance};
use crate::frame::FrameHead;
use crate::guest::{dispatch, Answer, Task};
use crate::streamed::{Chunk, Limits};
use futures::future;
use std::cell::RefCell;

/// The fake's entry: `stream_idle_ms` 250, `timeout_ms` 500, and `max_stream_bytes`.
pub(super) fn limits(max_stream_bytes: Option<u64>) -> Limits {
    let entry = serde_json::json!({
        "name": "fake",
        "prefix": "/fake",
        "url": "fake.wasm",
        "max_body_bytes": 1024,
        "max_stream_bytes": max_stream_bytes,
        "stream_idle_ms": 250,
        "timeout_ms": 500,
    });
    Limits::of(&crate::manifest::parse_entry(entry, |url| Ok(url.into())).unwrap())
}

thread_local! {
    /// What this test's host logged (each test runs on a thread of its own).
    static LOGGED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// The host's log.
pub(super) fn log(line: &str) {
    LOGGED.with(|logged| logged.borrow_mut().push(line.into()));
}

/// What the host logged so far.
pub(super) fn logged() -> Vec<String> {
    LOGGED.with(|logged| logged.borrow().clone())
}

/// A timer that never ends.
pub(super) fn never(_ms: u32) -> future::Pending<()> {
    future::pending()
}

/// A timer already up.
pub(super) fn at_once(_ms: u32) -> future::Ready<()> {
    future::ready(())
}

/// A `keep` for a body whose task must not go on working after it.
pub(super) fn not_kept(_task: Task<&FakeInstance>) {
    panic!("a task kept for work after its answer");
}

/// What the reader of a body gets, one pull.
#[derive(Debug, PartialEq)]
pub(super) enum Got {
    /// The plugin's bytes.
    Plugin(Vec<u8>),
    /// The host's (a comment that says why an event stream ended), as text.
    Host(String),
    /// The body cut short, and why.
    Cut(String),
}

impl Got {
    /// The reader's view of `item`.
    pub(super) fn of(item: Result<Chunk<Vec<u8>>, String>) -> Self {
        match item {
            Ok(Chunk::Plugin(bytes)) => Got::Plugin(bytes),
            Ok(Chunk::Host(bytes)) => Got::Host(String::from_utf8(bytes).unwrap()),
            Err(why) => Got::Cut(why),
        }
    }
}

/// The plugin's bytes `bytes`, as the reader gets them.
pub(super) fn plugin(bytes: &[u8]) -> Got {
    Got::Plugin(bytes.to_vec())
}

/// The head and the task of the streamed answer of a task that takes `steps`.
pub(super) fn streamed(fake: &FakeInstance, steps: Vec<Step>) -> (FrameHead, Task<&FakeInstance>) {
    let request = fake.request(Act::Steps(steps));
    match block_on(dispatch(fake, &request, None, 0)) {
        Ok(Answer::Streamed { head, body }) => (head, body),
        other => panic!("a streamed answer, not {other:?}"),
    }
}
