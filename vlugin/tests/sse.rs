//! Server-sent events: how an `Event` is written, and what an `Sse` answer sends.
#![cfg(not(target_arch = "wasm32"))] // the test host is native-only
use futures_util::stream::{self, StreamExt};
use std::convert::Infallible;
use std::time::Duration;
use vlugin::prelude::*;
use vlugin::sse::{Event, Sse};
use vlugin::test::{request, serve, Frame, Host};

#[test]
fn an_events_lines_split_its_data_and_comments() {
    let event = Event::default()
        .comment("two\nlines")
        .data("a\r\nb\rc\nd")
        .data("")
        .retry(Duration::from_millis(1500));
    assert_eq!(
        event.to_string(),
        ": two\n: lines\ndata: a\ndata: b\ndata: c\ndata: d\ndata: \nretry: 1500\n\n"
    );
}

#[test]
fn a_line_break_in_a_name_or_id_is_no_new_field() {
    let event = Event::default().event("tick\ndata: forged").id("1\r2");
    assert_eq!(event.to_string(), "event: tick data: forged\nid: 1 2\n\n");
}

#[test]
fn an_sse_answer_sends_each_event_as_a_chunk() {
    let handler = |_| async {
        let events =
            stream::iter(["a", "b"]).map(|data| Ok::<_, Infallible>(Event::default().data(data)));
        (
            StatusCode::CREATED,
            [("x-feed", "letters")],
            Sse::new(events),
        )
    };
    let served = serve(handler, request("GET", "/", ""));
    let head = served.response();
    assert_eq!(head.status(), StatusCode::CREATED);
    assert_eq!(head.headers()["content-type"], "text/event-stream");
    assert_eq!(head.headers()["cache-control"], "no-cache");
    assert_eq!(head.headers()["x-feed"], "letters");
    assert_eq!(
        served.finish(),
        [
            Frame::Head,
            Frame::Chunk(b"data: a\n\n".to_vec()),
            Frame::Chunk(b"data: b\n\n".to_vec()),
            Frame::End {
                reason: String::new(),
                continues: false
            },
        ]
    );
}

#[test]
fn an_err_ends_the_events_with_its_reason() {
    let handler = |_| async {
        let items = [Ok(Event::default().data("1")), Err("the feed is gone")];
        Sse::new(stream::iter(items))
    };
    let mut served = serve(handler, request("GET", "/", ""));
    assert_eq!(served.text(), "data: 1\n\n");
    assert_eq!(served.ended_early(), Some("the feed is gone"));
}

#[test]
fn a_quiet_stream_is_kept_alive() {
    let host = Host::new().now(0.0).install();
    let handler = |_| async {
        // One event, then nothing ever: only the keep-alive timer goes on.
        let events = stream::iter([Ok::<_, Infallible>(Event::default().data("hi"))])
            .chain(stream::pending());
        Sse::new(events).keep_alive(Duration::from_secs(15))
    };
    let mut served = serve(handler, request("GET", "/", ""));
    assert_eq!(served.next_chunk().unwrap(), b"data: hi\n\n");
    assert_eq!(served.next_chunk().unwrap(), b": keep-alive\n\n");
    assert_eq!(served.next_chunk().unwrap(), b": keep-alive\n\n");
    // The test host's timers end at once, moving its clock.
    assert_eq!(host.now(), 30_000.0);
}
