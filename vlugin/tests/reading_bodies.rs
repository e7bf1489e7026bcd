//! Bodies a plugin reads as they arrive (PROTOCOL.md section 18): a request's streamed body
//! and a `fetch_stream` response's, read through the test host a chunk per `read`.
#![cfg(not(target_arch = "wasm32"))] // the test host is native-only
use futures_util::stream::{self, StreamExt};
use std::convert::Infallible;
use vlugin::prelude::*;
use vlugin::test::{block_on, serve, Host, StreamedBody};
use vlugin::BodyChunks;

/// Every item of `chunks`, until its end.
fn read_all(mut chunks: BodyChunks) -> Vec<Result<Vec<u8>, Error>> {
    block_on(async move {
        let mut items = Vec::new();
        while let Some(item) = chunks.next().await {
            items.push(item);
        }
        items
    })
}

#[test]
fn a_streamed_request_body_is_read_a_chunk_per_read_then_closed() {
    let host = Host::new().install();
    let (request, reads) =
        host.streamed_request("POST", "/up", StreamedBody::new(["ab", "", "cde"]));
    let body = request.into_body();
    assert!(body.is_streamed());
    assert_eq!(body.as_bytes(), b"");
    let mut chunks = body.into_stream();
    assert_eq!(block_on(chunks.next_chunk()).unwrap().unwrap(), b"ab");
    assert_eq!(
        reads.chunks(),
        [2],
        "nothing is read before it is asked for"
    );
    assert_eq!(block_on(chunks.next_chunk()).unwrap().unwrap(), b"cde");
    assert!(!reads.is_over());
    assert!(block_on(chunks.next_chunk()).is_none());
    assert!(reads.is_over());
    assert!(reads.is_closed(), "closed at its end");
    assert!(
        block_on(chunks.next_chunk()).is_none(),
        "no read after the end"
    );
    assert_eq!(reads.bytes(), 5);
}

#[test]
fn a_chunk_over_a_mib_is_read_in_two() {
    let host = Host::new().install();
    let big = vec![7u8; (1 << 20) + 1];
    let (body, reads) = host.streamed_body(StreamedBody::new([big.clone()]));
    assert_eq!(block_on(body.collect()).unwrap(), big);
    assert_eq!(reads.chunks(), [1 << 20, 1]);
}

#[test]
fn dropping_a_body_unread_or_half_read_closes_it() {
    let host = Host::new().install();
    let (body, reads) = host.streamed_body(StreamedBody::new(["a", "b"]));
    drop(body);
    assert!(reads.is_closed());
    assert_eq!(reads.chunks(), Vec::<usize>::new());

    let (body, reads) = host.streamed_body(StreamedBody::new(["a", "b"]));
    let mut chunks = body.into_stream();
    assert_eq!(block_on(chunks.next_chunk()).unwrap().unwrap(), b"a");
    assert!(!reads.is_closed());
    drop(chunks);
    assert!(reads.is_closed());
    assert_eq!(reads.chunks(), [1]);
    assert_eq!(host.open_bodies(), 0);
}

#[test]
fn a_body_past_max_stream_bytes_is_a_413_with_the_hosts_text() {
    let host = Host::new().install();
    let limited = StreamedBody::new(["abc", "def"]).max_stream_bytes(5);
    let (body, reads) = host.streamed_body(limited);
    let items = read_all(body.into_stream());
    assert_eq!(items.len(), 2, "a chunk, then the error, then the end");
    assert_eq!(items[0].as_ref().unwrap(), b"abc");
    let error = items[1].as_ref().unwrap_err();
    assert_eq!(error.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        error.to_string(),
        "the request body is larger than max_stream_bytes (5 bytes)"
    );
    assert!(reads.is_over() && reads.is_closed());
}

#[test]
fn a_body_that_breaks_off_is_a_400_with_the_hosts_text() {
    let host = Host::new().install();
    let broken = StreamedBody::new(["abc"]).fails("the client's upload broke off");
    let (body, _) = host.streamed_body(broken);
    let error = block_on(body.collect()).unwrap_err();
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error.to_string(), "the client's upload broke off");
    let answer = Err::<(), _>(error).into_response();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
}

#[test]
fn a_body_of_bytes_is_one_chunk_and_an_empty_one_none() {
    let items = read_all(Body::from("abc").into_stream());
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].as_ref().unwrap(), b"abc");
    assert!(read_all(Body::empty().into_stream()).is_empty());
    assert_eq!(block_on(Body::from("abc").collect()).unwrap(), b"abc");
}

#[test]
fn a_streamed_answer_read_as_a_stream_yields_its_items_and_its_error_as_a_500() {
    let items = stream::iter([Ok("a"), Ok(""), Err("broke")]);
    let items = read_all(Body::from_stream(items).into_stream());
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_ref().unwrap(), b"a");
    let error = items[1].as_ref().unwrap_err();
    assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error.to_string(), "broke");
}

#[test]
fn an_upload_returned_as_the_answer_is_sent_on_a_read_per_chunk() {
    let host = Host::new().install();
    let (request, reads) = host.streamed_request("POST", "/", StreamedBody::new(["ab", "cd"]));
    let mut served = serve(|req: Request| async move { req.into_body() }, request);
    assert!(served.is_streamed());
    assert_eq!(reads.chunks(), Vec::<usize>::new(), "the head goes first");
    assert_eq!(served.next_chunk().unwrap(), b"ab");
    assert_eq!(reads.chunks(), [2], "one read per chunk asked for");
    assert_eq!(served.next_chunk().unwrap(), b"cd");
    assert_eq!(served.next_chunk(), None);
    assert_eq!(served.ended_early(), None);
    assert!(reads.is_closed());
}

#[test]
fn an_upload_sent_on_past_its_limit_ends_early_with_the_hosts_text() {
    let host = Host::new().install();
    let limited = StreamedBody::new(["ab", "cd"]).max_stream_bytes(3);
    let (request, _) = host.streamed_request("POST", "/", limited);
    let mut served = serve(|req: Request| async move { req.into_body() }, request);
    assert_eq!(served.text(), "ab");
    assert_eq!(
        served.ended_early(),
        Some("the request body is larger than max_stream_bytes (3 bytes)")
    );
}

#[test]
fn a_reader_that_goes_away_closes_the_upload_it_was_sent() {
    let host = Host::new().install();
    let (request, reads) = host.streamed_request("POST", "/", StreamedBody::new(["ab", "cd"]));
    let mut served = serve(|req: Request| async move { req.into_body() }, request);
    assert_eq!(served.next_chunk().unwrap(), b"ab");
    drop(served);
    assert!(reads.is_closed());
    assert_eq!(reads.chunks(), [2]);
}

fn fetched(url: &str) -> Request {
    http::Request::get(url).body(Body::empty()).unwrap()
}

#[test]
fn fetch_stream_hands_over_a_streamed_body_with_the_status_and_headers() {
    let host = Host::new()
        .fetch(|req: Request| {
            assert_eq!(req.uri(), "https://files.example.com/a");
            (StatusCode::CREATED, [("x-kind", "file")], "the file")
        })
        .install();
    let response = block_on(fetch_stream(fetched("https://files.example.com/a"))).unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["x-kind"], "file");
    assert!(response.body().is_streamed());
    assert_eq!(host.open_bodies(), 1);
    let body = block_on(response.into_body().collect()).unwrap();
    assert_eq!(body, b"the file");
    assert_eq!(host.open_bodies(), 0, "closed at its end");
}

#[test]
fn a_fetched_body_dropped_unread_is_closed() {
    let host = Host::new().fetch(|_| "unread").install();
    let response = block_on(fetch_stream(fetched("/x"))).unwrap();
    assert_eq!(host.open_bodies(), 1);
    drop(response);
    assert_eq!(host.open_bodies(), 0);
}

#[test]
fn fetch_stream_fails_as_fetch_does() {
    let _host = Host::new().install(); // no stub: the request gets no answer
    let error = block_on(fetch_stream(fetched("/x"))).unwrap_err();
    assert_eq!(error.status(), StatusCode::BAD_GATEWAY);
}

#[test]
fn a_fetched_stream_is_proxied_chunk_by_chunk() {
    let host = Host::new()
        .fetch(|_| {
            let parts = stream::iter(["one ", "two ", "three"]).map(Ok::<_, Infallible>);
            Body::from_stream(parts)
        })
        .install();
    let proxy = |_: Request| async {
        let upstream = fetch_stream(fetched("https://files.example.com/a")).await?;
        Ok::<_, Error>(upstream.into_body())
    };
    let mut served = serve(proxy, http::Request::get("/").body(Body::empty()).unwrap());
    assert_eq!(served.next_chunk().unwrap(), b"one ");
    assert_eq!(served.next_chunk().unwrap(), b"two ");
    assert_eq!(host.open_bodies(), 1);
    assert_eq!(served.next_chunk().unwrap(), b"three");
    assert_eq!(served.next_chunk(), None);
    assert_eq!(host.open_bodies(), 0);
}

#[test]
fn a_fetched_stream_that_fails_ends_the_proxied_answer_early() {
    let _host = Host::new()
        .fetch(|_| Body::from_stream(stream::iter([Ok("a"), Err("connection reset")])))
        .install();
    let proxy = |_: Request| async {
        let upstream = fetch_stream(fetched("/a")).await?;
        Ok::<_, Error>(upstream.into_body())
    };
    let mut served = serve(proxy, http::Request::get("/").body(Body::empty()).unwrap());
    assert_eq!(served.text(), "a");
    assert_eq!(served.ended_early(), Some("connection reset"));
}

#[test]
fn the_chunks_and_the_futures_that_read_them_are_send() {
    fn send_unpin<T: Send + Unpin>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let chunks = Body::empty().into_stream();
    send_unpin(&chunks);
    send(&Body::empty().collect());
    send(&fetch_stream(fetched("/x")));
}

#[test]
fn parsing_a_streamed_request_says_to_collect_it_first() {
    let host = Host::new().install();
    let (request, reads) = host.streamed_request("POST", "/", StreamedBody::new([r#"{"a":1}"#]));
    let error = request.json::<serde_json::Value>().unwrap_err();
    assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(error.to_string().contains("Body::collect"), "{error}");
    assert!(request.form::<Vec<(String, String)>>().is_err());
    assert_eq!(reads.chunks(), Vec::<usize>::new());
    let bytes = block_on(request.into_body().collect()).unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()["a"],
        1
    );
}
