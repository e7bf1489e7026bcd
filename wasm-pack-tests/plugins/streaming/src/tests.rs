//! The routes, read as a host reads them (`vlugin::test::serve`).
use super::streaming;
use vlugin::test::{request, serve, Frame, Host};

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
