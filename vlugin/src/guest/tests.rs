//! The executor's frames as bytes: what `valor_poll` points at (PROTOCOL.md, sections 8.3
//! and 17.1).

use super::{spawn, tasks};
use crate::{Body, Request};
use futures_util::stream;
use std::convert::Infallible;
use valor_abi::codec::encode_response_parts;
use valor_abi::frame::{self, CHUNK, CONTINUES, DONE, END, HEAD, RESPONSE};

/// Polls `task` once, and copies the frame it returned.
fn poll(task: u32) -> Option<Vec<u8>> {
    tasks::frame_at(task, tasks::poll(task))
}

const TEXT: &[(&[u8], &[u8])] = &[(b"content-type", b"text/plain; charset=utf-8")];

#[test]
fn a_buffered_answer_is_a_plain_response_frame() {
    let task = spawn(Request::default(), |_| async { "hi" });
    let encoded = encode_response_parts(200, TEXT, b"hi");
    assert_eq!(poll(task), Some(frame::response(&encoded)));
    // Polled again, a task that is done answers its frame again.
    assert_eq!(poll(task), Some(frame::response(&encoded)));
    tasks::drop_task(task);
}

#[test]
fn a_streamed_answer_is_head_chunks_end() {
    let task = spawn(Request::default(), |_| async {
        Body::from_stream(stream::iter([Ok::<_, Infallible>("ab"), Ok("")]))
    });
    let head = encode_response_parts(200, &[], b"");
    assert_eq!(poll(task), Some(frame::stream(HEAD, &head)));
    assert_eq!(poll(task), Some(frame::stream(CHUNK, b"ab")));
    assert_eq!(poll(task), Some(frame::stream(END, b"")));
    tasks::drop_task(task);
}

#[test]
fn work_after_the_answer_continues_it_until_done() {
    let task = spawn(Request::default(), |_| async {
        crate::wait_until(async {});
        "hi"
    });
    let encoded = encode_response_parts(200, TEXT, b"hi");
    assert_eq!(
        poll(task),
        Some(frame::stream(RESPONSE | CONTINUES, &encoded))
    );
    // The answer's poll woke the task, so that the host polls it for its work.
    assert!(tasks::take_wake(task));
    assert_eq!(poll(task), Some(frame::stream(DONE, b"")));
    tasks::drop_task(task);
}

/// Pending once (without waking its task: the test polls it again), then ready.
struct PendingOnce(bool);

impl std::future::Future for PendingOnce {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        match std::mem::replace(&mut self.0, true) {
            true => std::task::Poll::Ready(()),
            false => std::task::Poll::Pending,
        }
    }
}

#[test]
fn work_belongs_to_the_task_that_added_it() {
    // `a` adds work, then waits; `b` answers meanwhile, with no work of its own.
    let a = spawn(Request::default(), |_| async {
        crate::wait_until(async {});
        PendingOnce(false).await;
        "a"
    });
    let b = spawn(Request::default(), |_| async { "b" });
    let (a_answer, b_answer) = (
        encode_response_parts(200, TEXT, b"a"),
        encode_response_parts(200, TEXT, b"b"),
    );
    assert_eq!(poll(a), None);
    assert_eq!(poll(b), Some(frame::response(&b_answer)));
    let continues = frame::stream(RESPONSE | CONTINUES, &a_answer);
    assert_eq!(poll(a), Some(continues));
    assert_eq!(poll(a), Some(frame::stream(DONE, b"")));
    tasks::drop_task(a);
    tasks::drop_task(b);
}

#[test]
fn a_task_dropped_before_its_answer_drops_its_work() {
    struct Flag(std::rc::Rc<std::cell::Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let dropped = std::rc::Rc::new(std::cell::Cell::new(false));
    let flag = Flag(std::rc::Rc::clone(&dropped));
    let task = spawn(Request::default(), move |_| async move {
        crate::wait_until(async move { drop(flag) });
        std::future::pending::<()>().await;
    });
    assert_eq!(poll(task), None);
    assert!(!dropped.get());
    tasks::drop_task(task);
    assert!(dropped.get(), "the work was dropped with its task");
}
