//! The routes, read as a host reads them (`vlugin::test::serve`).
use super::streaming;
use futures_util::stream::{self, StreamExt};
use std::convert::Infallible;
use vlugin::prelude::*;
use vlugin::test::{request, serve, Frame, Host, StreamedBody};

fn get(uri: &str) -> vlugin::test::Served {
    serve(streaming, request("GET", uri, ""))
}

#[test]
fn events_tick_with_their_number() {
    let _host = Host::new().now(1_000.0).install();
    let mut served = get("/sse?n=3&gap=100");
    assert_eq!(
        served.response().headers()["content-type"],
        "text/event-stream"
    );
    assert_eq!(
        served.text(),
        "id: 0\nevent: tick\ndata: {\"i\":0,\"at\":1000}\n\n\
         id: 1\nevent: tick\ndata: {\"i\":1,\"at\":1100}\n\n\
         id: 2\nevent: tick\ndata: {\"i\":2,\"at\":1200}\n\n"
    );
    assert_eq!(served.ended_early(), None);
}

#[test]
fn bytes_count_modulo_251_across_chunks() {
    let mut served = get("/bytes?mib=1&chunk=1000");
    assert_eq!(
        served.response().headers()["content-type"],
        "application/octet-stream"
    );
    assert_eq!(served.next_chunk().unwrap().len(), 1000);
    let rest = served.body();
    assert_eq!(rest.len(), (1 << 20) - 1000);
    let wrong = rest
        .iter()
        .enumerate()
        .find(|&(k, &byte)| byte != ((k + 1000) % 251) as u8);
    assert_eq!(wrong, None);
}

#[test]
fn count_stores_each_chunk_it_produced_until_dropped() {
    let host = Host::new().install();
    let mut served = get("/count?id=a&gap=10");
    assert_eq!(served.next_chunk().unwrap(), b"tick 0\n");
    assert_eq!(served.next_chunk().unwrap(), b"tick 1\n");
    drop(served);
    assert_eq!(host.kv_get("produced:a").as_deref(), Some(&b"1"[..]));
    assert_eq!(get("/produced?id=a").body(), b"1");
    assert_eq!(get("/produced?id=b").response().status(), 404);
}

#[test]
fn fail_ends_early_with_its_reason() {
    let mut served = get("/fail?after=2");
    assert_eq!(served.text(), "chunk 0\nchunk 1\n");
    assert_eq!(served.ended_early(), Some("the producer failed on purpose"));
    let mut served = get("/sse-fail");
    assert_eq!(served.text().matches("event: tick").count(), 2);
    assert_eq!(served.ended_early(), Some("the producer failed on purpose"));
}

#[test]
fn after_answers_then_stores_done() {
    let host = Host::new().install();
    let mut served = get("/after?id=x&ms=300");
    assert_eq!(served.text(), "accepted");
    assert_eq!(get("/after-status?id=x").response().status(), 404);
    assert_eq!(
        served.finish(),
        [Frame::Response { continues: true }, Frame::Done]
    );
    assert_eq!(host.kv_get("after:x").as_deref(), Some(&b"done"[..]));
    assert_eq!(get("/after-status?id=x").text(), "done");
}

/// The JSON `POST /upload` answered.
fn uploaded(served: &mut vlugin::test::Served) -> serde_json::Value {
    assert_eq!(served.response().status(), 200, "{}", served.text());
    serde_json::from_slice(&served.body()).expect("JSON")
}

#[test]
fn upload_hashes_a_streamed_body_chunk_by_chunk() {
    let host = Host::new().install();
    let chunks = ["hello ", "streamed ", "world"];
    let (request, reads) = host.streamed_request("POST", "/upload", StreamedBody::new(chunks));
    let mut served = serve(streaming, request);
    assert_eq!(
        uploaded(&mut served),
        serde_json::json!({
            "bytes": 20,
            // sha256("hello streamed world")
            "sha256": "e259dfa4dea319dd52fda0a37bed745120a1f605c04b0769606313338ef3f7d2",
            "chunks": 3,
            "largest": 9,
        })
    );
    assert_eq!(reads.chunks(), [6, 9, 5]);
    assert!(reads.is_closed());
}

#[test]
fn upload_reads_a_whole_body_as_one_chunk() {
    let _host = Host::new().install();
    let mut served = serve(streaming, request("POST", "/upload", "abc"));
    let answer = uploaded(&mut served);
    assert_eq!(answer["bytes"], 3);
    assert_eq!(
        answer["sha256"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        (answer["chunks"].clone(), answer["largest"].clone()),
        (1.into(), 3.into())
    );
}

#[test]
fn upload_past_max_stream_bytes_answers_413_and_reads_no_more() {
    let host = Host::new().install();
    let limited = StreamedBody::new(["abc", "def", "ghi"]).max_stream_bytes(5);
    let (request, reads) = host.streamed_request("POST", "/upload", limited);
    let mut served = serve(streaming, request);
    assert_eq!(served.response().status(), 413);
    assert_eq!(
        served.text(),
        "the request body is larger than max_stream_bytes (5 bytes)"
    );
    assert_eq!(reads.chunks(), [3]);
    assert!(reads.is_closed());
}

#[test]
fn upload_that_breaks_off_answers_400() {
    let host = Host::new().install();
    let broken = StreamedBody::new(["abc"]).fails("the upload broke off");
    let (request, _) = host.streamed_request("POST", "/upload", broken);
    let mut served = serve(streaming, request);
    assert_eq!(served.response().status(), 400);
    assert_eq!(served.text(), "the upload broke off");
}

#[test]
fn echo_streams_the_upload_back_as_it_reads_it() {
    let host = Host::new().install();
    let (mut request, reads) =
        host.streamed_request("POST", "/echo", StreamedBody::new(["one ", "two"]));
    request
        .headers_mut()
        .insert(header::CONTENT_TYPE, "text/x-test".parse().unwrap());
    let mut served = serve(streaming, request);
    assert!(served.is_streamed());
    assert_eq!(served.response().headers()["content-type"], "text/x-test");
    assert_eq!(served.next_chunk().unwrap(), b"one ");
    assert_eq!(reads.chunks(), [4], "a chunk read per chunk sent");
    assert_eq!(served.next_chunk().unwrap(), b"two");
    assert_eq!(served.next_chunk(), None);
    assert_eq!(served.ended_early(), None);
}

#[test]
fn echo_answers_a_whole_body_whole() {
    let mut served = serve(streaming, request("POST", "/echo", "whole"));
    assert!(!served.is_streamed());
    assert!(served.response().headers().get("content-type").is_none());
    assert_eq!(served.text(), "whole");
}

#[test]
fn proxy_passes_a_download_on_as_it_reads_it() {
    let host = Host::new()
        .fetch(|req: Request| {
            assert_eq!(req.uri(), "https://files.example.com/a?x=1&y=2");
            let parts = stream::iter(["part 1, ", "part 2"]).map(Ok::<_, Infallible>);
            (
                StatusCode::PARTIAL_CONTENT,
                [
                    (header::CONTENT_TYPE, "text/plain"),
                    (header::ETAG, "\"e\""),
                ],
                Body::from_stream(parts),
            )
        })
        .install();
    let url = "/proxy?url=https%3A%2F%2Ffiles.example.com%2Fa%3Fx%3D1%26y%3D2";
    let mut served = serve(streaming, request("GET", url, ""));
    assert_eq!(served.response().status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(served.response().headers()["content-type"], "text/plain");
    assert!(served.response().headers().get("etag").is_none());
    assert_eq!(served.next_chunk().unwrap(), b"part 1, ");
    assert_eq!(host.open_bodies(), 1);
    assert_eq!(served.next_chunk().unwrap(), b"part 2");
    assert_eq!(served.next_chunk(), None);
    assert_eq!(host.open_bodies(), 0);
}

#[test]
fn proxy_answers_502_when_the_fetch_fails() {
    let _host = Host::new().install(); // no stub: no answer
    let mut served = serve(
        streaming,
        request("GET", "/proxy?url=https%3A%2F%2Fx.test%2F", ""),
    );
    assert_eq!(served.response().status(), StatusCode::BAD_GATEWAY);
    assert_eq!(
        served.text(),
        "fetch failed: no fetch stub in this test's Host"
    );
}
