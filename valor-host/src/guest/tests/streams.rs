//! The body of a streamed answer (`valor_host::streamed::body`): its chunks, pulled from the task
//! only as its reader asks, and each way it ends early (PROTOCOL.md, sections 17.2 to 17.4).

use super::reader::{at_once, limits, log, logged, never, not_kept, plugin, streamed, Got};
use super::steps::{chunk, event_head, head, panic, stream, Step};
use super::{block_on, calls, poll_once, Act, FakeInstance};
use crate::frame::FrameHead;
use crate::streamed::{self, is_event_stream};
use futures::{Stream, StreamExt};
use std::cell::RefCell;
use std::task::{Context, Poll};
use valor_abi::frame::{self, END};

/// Pulls the next item of `body` once, as a reader whose executor polls it one turn.
fn pull<S>(body: &mut S) -> Poll<Option<Got>>
where
    S: Stream<Item = Result<streamed::Chunk<Vec<u8>>, String>> + Unpin,
{
    let turn = &mut Context::from_waker(futures::task::noop_waker_ref());
    body.poll_next_unpin(turn).map(|item| item.map(Got::of))
}

/// Everything a reader gets from the body of a task that takes `steps`, with no wait (plain,
/// or an event stream as its head says), under `max_stream_bytes`.
fn read_all(fake: &FakeInstance, steps: Vec<Step>, max_stream_bytes: Option<u64>) -> Vec<Got> {
    let (head, task) = streamed(fake, steps);
    let limits = limits(max_stream_bytes);
    let body = streamed::body(task, is_event_stream(&head), limits, never, log, not_kept);
    block_on(body.map(Got::of).collect())
}

/// A sleep step's operation, completed: its task is woken.
fn complete(fake: &FakeInstance, op: u32) {
    let mut guest = fake;
    calls::complete(&mut guest, op, &crate::result::ok(b""));
}

#[test]
fn a_streamed_body_yields_its_chunks_in_order_then_ends() {
    let fake = FakeInstance::new();
    let got = read_all(&fake, stream(&[b"a", b"bc", b"d"]), None);
    assert_eq!(got, [plugin(b"a"), plugin(b"bc"), plugin(b"d")]);
    // HEAD, three CHUNKs, END: then the task is dropped, never polled again.
    assert_eq!(fake.polls(1), 5);
    assert_eq!(fake.plugin.borrow().dropped, [1]);
    assert!(logged().is_empty());
}

#[test]
fn the_task_is_polled_only_when_its_reader_pulls() {
    let fake = FakeInstance::new();
    let (_, task) = streamed(&fake, stream(&[b"1", b"2", b"3"]));
    let mut body = Box::pin(streamed::body(
        task,
        false,
        limits(None),
        never,
        log,
        not_kept,
    ));
    assert_eq!(fake.polls(1), 1, "made, the body asks for nothing");
    for (pulls, expected) in [(1, b"1"), (2, b"2")] {
        assert_eq!(pull(&mut body), Poll::Ready(Some(plugin(expected))));
        // A plugin ready with more is not polled ahead of its reader.
        assert_eq!(fake.polls(1), 1 + pulls);
    }
    // The reader goes away mid-way: the task is dropped inside the plugin.
    drop(body);
    assert_eq!(fake.plugin.borrow().dropped, [1]);
    assert_eq!(fake.polls(1), 3);
}

#[test]
fn a_chunk_not_ready_is_read_once_the_task_is_woken() {
    let fake = FakeInstance::new();
    let steps = vec![head(&[]), Step::Pending, chunk(b"late"), Step::Pending];
    let (_, task) = streamed(&fake, [steps, stream(&[]).split_off(1)].concat());
    let mut body = Box::pin(streamed::body(
        task,
        false,
        limits(None),
        never,
        log,
        not_kept,
    ));
    assert_eq!(pull(&mut body), Poll::Pending);
    assert_eq!(pull(&mut body), Poll::Pending);
    assert_eq!(fake.polls(1), 2, "not polled again until woken");
    complete(&fake, 1);
    assert_eq!(pull(&mut body), Poll::Ready(Some(plugin(b"late"))));
    assert_eq!(pull(&mut body), Poll::Pending);
    complete(&fake, 2);
    assert_eq!(pull(&mut body), Poll::Ready(None));
    assert_eq!(fake.polls(1), 5);
    assert_eq!(fake.plugin.borrow().dropped, [1]);
}

#[test]
fn dropping_a_body_that_waits_drops_its_task_and_the_operation_it_waits_on() {
    let fake = FakeInstance::new();
    let (_, task) = streamed(&fake, vec![head(&[]), chunk(b"a"), Step::Pending]);
    let mut body = Box::pin(streamed::body(
        task,
        false,
        limits(None),
        never,
        log,
        not_kept,
    ));
    assert_eq!(pull(&mut body), Poll::Ready(Some(plugin(b"a"))));
    assert_eq!(pull(&mut body), Poll::Pending);
    assert_eq!(fake.table.borrow().ops_in_flight(), 1);
    drop(body);
    assert_eq!(fake.plugin.borrow().dropped, [1]);
    assert_eq!(
        fake.table.borrow().ops_in_flight(),
        0,
        "its sleep cancelled"
    );
    assert!(logged().is_empty(), "a reader gone is no early end");
}

#[test]
fn the_idle_timer_is_set_only_while_a_chunk_is_not_ready() {
    let fake = FakeInstance::new();
    let timers = RefCell::new(Vec::new());
    let sleep = |ms| {
        timers.borrow_mut().push(ms);
        never(ms)
    };
    let steps = vec![head(&[]), chunk(b"a"), Step::Pending, chunk(b"b")];
    let (_, task) = streamed(&fake, steps);
    let mut body = Box::pin(streamed::body(
        task,
        false,
        limits(None),
        sleep,
        log,
        not_kept,
    ));
    assert_eq!(pull(&mut body), Poll::Ready(Some(plugin(b"a"))));
    assert!(
        timers.borrow().is_empty(),
        "a chunk ready at once sets no timer"
    );
    assert_eq!(pull(&mut body), Poll::Pending);
    assert_eq!(*timers.borrow(), [250], "the entry's stream_idle_ms");
}

#[test]
fn a_chunk_not_ready_within_stream_idle_ms_ends_the_stream() {
    let fake = FakeInstance::new();
    let steps = vec![head(&[]), chunk(b"a"), Step::Pending, chunk(b"b")];
    let (_, task) = streamed(&fake, steps);
    let body = streamed::body(task, false, limits(None), at_once, log, not_kept);
    let got: Vec<Got> = block_on(body.map(Got::of).collect());
    let why = "plugin 'fake' sent no chunk for 250 ms (its entry's stream_idle_ms)";
    assert_eq!(got, [plugin(b"a"), Got::Cut(why.into())]);
    assert_eq!(logged(), [why]);
    assert_eq!(fake.plugin.borrow().dropped, [1]);
    assert_eq!(fake.table.borrow().ops_in_flight(), 0);
}

#[test]
fn max_stream_bytes_cuts_a_plain_body_short() {
    let fake = FakeInstance::new();
    let got = read_all(&fake, stream(&[b"abc", b"de", b"f", b"g"]), Some(5));
    let why = "plugin 'fake' streamed more than 5 bytes (its entry's max_stream_bytes)";
    assert_eq!(got, [plugin(b"abc"), plugin(b"de"), Got::Cut(why.into())]);
    assert_eq!(logged(), [why]);
    // The chunk past the limit was the last one polled.
    assert_eq!(fake.polls(1), 4);
    assert_eq!(fake.plugin.borrow().dropped, [1]);
}

#[test]
fn a_body_of_exactly_max_stream_bytes_is_whole() {
    let fake = FakeInstance::new();
    let got = read_all(&fake, stream(&[b"abc", b"de"]), Some(5));
    assert_eq!(got, [plugin(b"abc"), plugin(b"de")]);
    assert!(logged().is_empty());
}

#[test]
fn max_stream_bytes_ends_an_event_stream_with_a_comment() {
    let fake = FakeInstance::new();
    let mut steps = stream(&[b"data: 1\n\n", b"data: 2\n\n"]);
    steps[0] = event_head();
    let got = read_all(&fake, steps, Some(12));
    let why = "plugin 'fake' streamed more than 12 bytes (its entry's max_stream_bytes)";
    let comment = format!(": valor: {why}\n\n");
    assert_eq!(got, [plugin(b"data: 1\n\n"), Got::Host(comment)]);
    assert_eq!(logged(), [why]);
    assert_eq!(fake.plugin.borrow().dropped, [1]);
}

#[test]
fn an_end_with_a_reason_ends_the_stream_early() {
    let fake = FakeInstance::new();
    let steps = vec![head(&[]), chunk(b"a"), super::steps::end("database gone")];
    let got = read_all(&fake, steps, None);
    let why = "plugin 'fake' ended its stream early: database gone";
    assert_eq!(got, [plugin(b"a"), Got::Cut(why.into())]);
    assert_eq!(logged(), [why]);
    assert_eq!(fake.plugin.borrow().dropped, [1]);
}

#[test]
fn an_early_end_of_an_event_stream_is_a_comment_line_for_each_line_of_its_reason() {
    let fake = FakeInstance::new();
    let steps = vec![event_head(), super::steps::end("gone\nfor good")];
    let got = read_all(&fake, steps, None);
    let comment = ": valor: plugin 'fake' ended its stream early: gone\n: valor: for good\n\n";
    assert_eq!(got, [Got::Host(comment.into())]);
    assert_eq!(logged().len(), 1);
}

#[test]
fn a_fault_mid_stream_ends_it_with_the_plugins_error() {
    let fake = FakeInstance::new();
    let got = read_all(&fake, vec![head(&[]), chunk(b"a"), panic("boom")], None);
    let why = "plugin 'fake' panicked: boom";
    assert_eq!(got, [plugin(b"a"), Got::Cut(why.into())]);
    assert_eq!(logged(), [why]);
    assert!(fake.table.borrow().is_broken());
    // A broken instance is never called again: not even to drop the task.
    assert!(fake.plugin.borrow().dropped.is_empty());
}

#[test]
fn a_malformed_frame_mid_stream_ends_it_and_keeps_the_instance() {
    let invalid = "plugin 'fake' returned an invalid response: ";
    let cases = [
        (
            head(&[]),
            "a frame other than CHUNK or END in a streamed body",
        ),
        (
            super::steps::done(),
            "a frame other than CHUNK or END in a streamed body",
        ),
        (chunk(b""), "an empty CHUNK"),
        (
            Step::Frame(frame::stream(END | 0x40, b"")),
            "unknown frame kind 67",
        ),
    ];
    for (step, reason) in cases {
        let fake = FakeInstance::new();
        let got = read_all(&fake, vec![head(&[]), step, chunk(b"after")], None);
        assert_eq!(got, [Got::Cut(format!("{invalid}{reason}"))]);
        assert!(!fake.table.borrow().is_broken());
        assert_eq!(fake.plugin.borrow().dropped, [1]);
    }
}

#[test]
fn a_stream_whose_instance_another_request_breaks_is_lost() {
    let fake = FakeInstance::new();
    let (_, task) = streamed(&fake, vec![head(&[]), Step::Pending, chunk(b"b")]);
    let mut body = Box::pin(streamed::body(
        task,
        true,
        limits(None),
        never,
        log,
        not_kept,
    ));
    assert_eq!(pull(&mut body), Poll::Pending);
    let trap = fake.request(Act::Trap);
    let mut trapping = Box::pin(crate::guest::dispatch(&fake, &trap, None, 0));
    assert!(matches!(poll_once(&mut trapping), Poll::Ready(Err(_))));
    let Poll::Ready(Some(Got::Host(comment))) = pull(&mut body) else {
        panic!("an event stream ends with a comment");
    };
    assert!(
        comment.starts_with(": valor: plugin 'fake' lost the instance"),
        "{comment}"
    );
    assert_eq!(pull(&mut body), Poll::Ready(None));
}

/// The head of a response with `headers`.
fn head_of(headers: &[(&[u8], &[u8])]) -> FrameHead {
    let encoded = super::steps::encoded(200, headers, b"");
    FrameHead::parse(encoded.clone(), encoded.len() as u32)
        .unwrap()
        .unwrap()
}

#[test]
fn an_event_stream_is_told_by_its_content_type() {
    let events = [
        &b"text/event-stream"[..],
        b"Text/Event-Stream; charset=utf-8",
    ];
    for value in events {
        assert!(is_event_stream(&head_of(&[(b"Content-Type", value)])));
    }
    let others = [&b"text/plain"[..], b"text/event", b"application/json"];
    for value in others {
        assert!(!is_event_stream(&head_of(&[(b"content-type", value)])));
    }
    assert!(!is_event_stream(&head_of(&[(
        b"x-type",
        b"text/event-stream"
    )])));
    assert!(!is_event_stream(&head_of(&[])));
}
