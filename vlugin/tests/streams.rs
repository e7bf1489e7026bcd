//! Streamed bodies and work after the answer, read as a host reads them: the frames of
//! PROTOCOL.md section 17, decoded in order by `vlugin::test::serve`.
#![cfg(not(target_arch = "wasm32"))] // the test host is native-only
use futures_util::stream::{self, StreamExt};
use std::cell::Cell;
use std::convert::Infallible;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use vlugin::prelude::*;
use vlugin::test::{request, serve, Frame, Host};

fn get() -> Request {
    request("GET", "/", "")
}

fn chunk(bytes: &str) -> Frame {
    Frame::Chunk(bytes.as_bytes().to_vec())
}

fn end(reason: &str, continues: bool) -> Frame {
    Frame::End {
        reason: reason.to_owned(),
        continues,
    }
}

#[test]
fn a_buffered_answer_is_one_plain_response_frame() {
    let served = serve(|_| async { (StatusCode::CREATED, "made") }, get());
    assert_eq!(served.response().status(), StatusCode::CREATED);
    assert_eq!(served.response().body().as_bytes(), b"made");
    assert!(!served.is_streamed());
    assert_eq!(served.finish(), [Frame::Response { continues: false }]);
}

#[test]
fn a_streamed_body_is_a_head_its_chunks_and_an_end() {
    let handler = |_| async {
        let chunks = stream::iter(["one ", "", "two"]).map(Ok::<_, Infallible>);
        (
            StatusCode::ACCEPTED,
            [("content-type", "text/plain"), ("x-kind", "stream")],
            Body::from_stream(chunks),
        )
    };
    let mut served = serve(handler, get());
    let head = served.response();
    assert_eq!(head.status(), StatusCode::ACCEPTED);
    assert_eq!(head.headers()["content-type"], "text/plain");
    assert_eq!(head.headers()["x-kind"], "stream");
    assert!(head.body().is_empty());
    assert_eq!(served.text(), "one two");
    assert_eq!(served.ended_early(), None);
    // The empty item is no chunk: a CHUNK has at least one byte.
    assert_eq!(
        served.finish(),
        [Frame::Head, chunk("one "), chunk("two"), end("", false)]
    );
}

#[test]
fn an_item_over_a_mebibyte_is_sent_in_chunks_of_one() {
    // A plugin does not know its entry's max_body_bytes: no CHUNK is over 1 MiB.
    let item: Vec<u8> = (0..(5 << 19)).map(|k| (k % 251) as u8).collect();
    let expected = item.clone();
    let handler = move |_| {
        let item = item.clone();
        async move { Body::from_stream(stream::iter([Ok::<_, Infallible>(item), Ok(vec![7])])) }
    };
    let frames = serve(handler, get()).finish();
    let sizes: Vec<usize> = frames
        .iter()
        .filter_map(|frame| match frame {
            Frame::Chunk(bytes) => Some(bytes.len()),
            _ => None,
        })
        .collect();
    assert_eq!(sizes, [1 << 20, 1 << 20, 1 << 19, 1]);
    let body: Vec<u8> = frames
        .into_iter()
        .filter_map(|frame| match frame {
            Frame::Chunk(bytes) => Some(bytes),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(body[..expected.len()], expected[..]);
    assert_eq!(body[expected.len()..], [7]);
}

#[test]
fn an_err_item_ends_the_body_early_with_its_text() {
    let handler = |_| async {
        let items = [Ok("a"), Err("the disk is gone"), Ok("never sent")];
        Body::from_stream(stream::iter(items))
    };
    let mut served = serve(handler, get());
    assert_eq!(served.text(), "a");
    assert_eq!(served.ended_early(), Some("the disk is gone"));
    assert_eq!(
        served.finish(),
        [Frame::Head, chunk("a"), end("the disk is gone", false)]
    );
}

#[test]
fn a_producer_is_paced_by_its_reader() {
    let produced = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&produced);
    let handler = move |_| async move {
        let lines = stream::iter(0..).map(move |i| {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok::<_, Infallible>(format!("{i}\n"))
        });
        Body::from_stream(lines)
    };
    let mut served = serve(handler, get());
    let produced = || produced.load(Ordering::SeqCst);
    assert_eq!(produced(), 0, "nothing is produced before the reader asks");
    assert_eq!(served.next_chunk().unwrap(), b"0\n");
    assert_eq!(served.next_chunk().unwrap(), b"1\n");
    assert_eq!(produced(), 2, "one item per chunk the reader took");
}

/// Set when dropped.
struct Flag(Arc<AtomicBool>);

impl Drop for Flag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn a_reader_that_goes_away_drops_the_producer() {
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = Flag(Arc::clone(&dropped));
    let handler = move |_| async move {
        let lines = stream::repeat(()).map(move |()| {
            let _held = &flag;
            Ok::<_, Infallible>("tick\n")
        });
        Body::from_stream(lines)
    };
    let mut served = serve(handler, get());
    assert_eq!(served.next_chunk().unwrap(), b"tick\n");
    assert!(!dropped.load(Ordering::SeqCst));
    drop(served);
    let dropped = dropped.load(Ordering::SeqCst);
    assert!(dropped, "dropping the task dropped its stream");
}

#[test]
fn work_after_a_whole_answer_runs_after_it() {
    let host = Host::new().install();
    let handler = |_| async {
        wait_until(async {
            sleep(Duration::from_secs(5)).await;
            kv::set("after", "done").await.unwrap();
        });
        "accepted"
    };
    let served = serve(handler, get());
    assert_eq!(served.response().body().as_bytes(), b"accepted");
    assert_eq!(host.kv_get("after"), None, "the work runs after the answer");
    assert_eq!(
        served.finish(),
        [Frame::Response { continues: true }, Frame::Done]
    );
    assert_eq!(host.kv_get("after").as_deref(), Some(&b"done"[..]));
}

#[test]
fn work_after_a_streamed_answer_ends_after_its_end() {
    let host = Host::new().install();
    let handler = |_| async {
        let chunks = stream::iter(["a", "b"]).map(|chunk| {
            // Work added by the producer itself, while the body is sent.
            wait_until(async move { kv::set(chunk, "seen").await.unwrap() });
            Ok::<_, Infallible>(chunk)
        });
        wait_until(Yield(5));
        Body::from_stream(chunks)
    };
    let frames = serve(handler, get()).finish();
    assert_eq!(
        frames,
        [
            Frame::Head,
            chunk("a"),
            chunk("b"),
            end("", true),
            Frame::Done
        ]
    );
    assert_eq!(host.kv_keys(), ["a", "b"]);
}

/// Pending that many polls (waking itself), then ready: work that outlasts a few frames.
struct Yield(u32);

impl std::future::Future for Yield {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 == 0 {
            return std::task::Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

#[test]
fn work_may_add_work() {
    let host = Host::new().install();
    let handler = |_| async {
        wait_until(async {
            wait_until(async { kv::set("second", "").await.unwrap() });
            kv::set("first", "").await.unwrap();
        });
    };
    let frames = serve(handler, get()).finish();
    assert_eq!(frames, [Frame::Response { continues: true }, Frame::Done]);
    assert_eq!(host.kv_keys(), ["first", "second"]);
}

#[test]
fn dropping_a_task_drops_its_work() {
    let ran = Rc::new(Cell::new(false));
    let flag = Rc::clone(&ran);
    let handler = move |_| async move {
        wait_until(async move { flag.set(true) });
        "accepted"
    };
    drop(serve(handler, get()));
    assert!(!ran.get());
}

#[test]
#[should_panic(expected = "outside a request's task")]
fn wait_until_outside_a_task_panics() {
    wait_until(async {});
}

#[test]
fn a_streamed_body_has_no_bytes_and_equals_only_itself() {
    let body = Body::from_stream(stream::iter([Ok::<_, Infallible>("x")]));
    assert!(body.is_streamed());
    assert!(body.as_bytes().is_empty());
    assert_eq!(body, body);
    assert_ne!(body, Body::empty());
    let copy = body.clone();
    assert!(!copy.is_streamed());
    assert_eq!(copy, Body::empty());
}

#[test]
fn bodies_are_still_send_sync_and_unwind_safe() {
    fn shared<T: Send + Sync>() {}
    fn unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}
    shared::<Request>();
    shared::<Response>();
    unwind_safe::<Body>();
}
