//! Bodies a script reads as they arrive (PROTOCOL.md, section 18): a streamed request body as
//! `request.body`, a fetched response's body, and a fetched body passed on as the answer; read
//! from the test host a chunk per pull, failing with the host's reason and status, and closed
//! when the script cancels them or lets go of them.

use crate::{serve as engine, start};
use futures::stream;
use vlugin::test::{request, serve, Host, Installed, Served, StreamedBody};
use vlugin::{Body, Response};

const SCRIPT: &str = r#"
const upstream = 'https://upstream.example/file';

// Each chunk's length as read, and the text of all of them.
async function chunks(stream) {
  const reader = stream.getReader();
  const lengths = [];
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return { lengths, text };
    lengths.push(value instanceof Uint8Array ? value.length : `not bytes: ${value}`);
    text += new TextDecoder().decode(value);
  }
}

const failure = (error) => Response.json({ name: error.name, message: error.message, status: error.status });

export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    switch (path) {
      case '/chunks': {
        const stream = request.body instanceof ReadableStream;
        const before = request.bodyUsed;
        const read = await chunks(request.body);
        return Response.json({ stream, before, after: request.bodyUsed, ...read });
      }
      case '/text': {
        const text = await request.text();
        const again = await request.text().then(() => 'read twice', (error) => error.name);
        return Response.json({ text, used: request.bodyUsed, again });
      }
      case '/json':
        return Response.json(await request.json());
      case '/bytes':
        return new Response(String((await request.arrayBuffer()).byteLength));
      case '/first': {
        const reader = request.body.getReader();
        const { value } = await reader.read();
        await reader.cancel();
        return new Response(new TextDecoder().decode(value));
      }
      case '/failed':
        return request.text().then(() => new Response('read'), failure);
      case '/echo':
        return new Response(request.body, { headers: { 'content-type': request.headers.get('content-type') } });
      case '/fetch': {
        const fetched = await fetch(upstream);
        const stream = fetched.body instanceof ReadableStream;
        const read = await chunks(fetched.body);
        return Response.json({ status: fetched.status, type: fetched.headers.get('content-type'), stream, ...read });
      }
      case '/fetch-text': {
        const fetched = await fetch(upstream);
        return new Response(`${await fetched.text()} (${fetched.bodyUsed ? 'used' : 'unused'})`);
      }
      case '/fetch-first': {
        const reader = (await fetch(upstream)).body.getReader();
        const { value } = await reader.read();
        await reader.cancel();
        return new Response(value);
      }
      case '/ignore':
        return new Response('ignored');
      case '/fetch-unread':
        return new Response(String((await fetch(upstream)).status));
      case '/fetch-failed':
        return (await fetch(upstream)).text().then(() => new Response('read'), failure);
      case '/proxy': {
        const fetched = await fetch(upstream);
        return new Response(fetched.body, { status: fetched.status, headers: { 'content-type': fetched.headers.get('content-type') } });
      }
      case '/clones': {
        const fetched = await fetch(upstream);
        const copy = fetched.clone();
        const [first, second] = [await copy.text(), await fetched.text()];
        const clone = request.clone();
        return Response.json({ first, second, request: await request.text(), clone: await clone.text() });
      }
      case '/pass':
        return fetch(upstream);
      default:
        return new Response('no route', { status: 404 });
    }
  },
};
"#;

/// The engine, with the test host answering its fetches with `upstream`.
fn host(upstream: impl FnMut() -> Response + 'static) -> Installed {
    let mut upstream = upstream;
    let host = Host::new()
        .config(serde_json::json!({
            "source": SCRIPT,
            "url": "https://example.com/plugins/reading.mjs",
            "memory_mb": 64,
        }))
        .fetch(move |_| upstream())
        .install();
    start().unwrap();
    host
}

/// An upstream answer of `chunks`, one per read, typed text/plain and of status 203.
fn chunked(chunks: &[&'static str]) -> Response {
    let items: Vec<Result<&'static str, String>> = chunks.iter().copied().map(Ok).collect();
    let mut response = Response::new(Body::from_stream(stream::iter(items)));
    *response.status_mut() = vlugin::StatusCode::NON_AUTHORITATIVE_INFORMATION;
    response
        .headers_mut()
        .insert("content-type", "text/plain".parse().unwrap());
    response
}

fn json(served: &mut Served) -> serde_json::Value {
    serde_json::from_str(&served.text()).unwrap()
}

fn post(host: &Installed, path: &str, body: StreamedBody) -> (Served, vlugin::test::BodyReads) {
    let (request, reads) = host.streamed_request("POST", path, body);
    (serve(engine, request), reads)
}

#[test]
fn a_streamed_request_body_is_read_a_chunk_per_pull() {
    let host = host(|| chunked(&[]));
    let (mut served, reads) = post(&host, "/chunks", StreamedBody::new(["ab", "cde", "f"]));
    assert_eq!(
        json(&mut served),
        serde_json::json!({
            "stream": true, "before": false, "after": true,
            "lengths": [2, 3, 1], "text": "abcdef",
        })
    );
    assert_eq!(reads.chunks(), [2, 3, 1]);
    assert!(reads.is_over() && reads.is_closed());

    let (mut served, _) = post(&host, "/text", StreamedBody::new(["é", "t", "é"]));
    assert_eq!(
        json(&mut served),
        serde_json::json!({ "text": "été", "used": true, "again": "TypeError" })
    );
    let (mut served, _) = post(&host, "/json", StreamedBody::new([r#"{"a":"#, "[1, 2]}"]));
    assert_eq!(json(&mut served), serde_json::json!({ "a": [1, 2] }));
    let (mut served, _) = post(&host, "/bytes", StreamedBody::new(vec![vec![7; 3 << 20]]));
    assert_eq!(served.text(), (3 << 20).to_string());

    // A body that is not streamed reads as before.
    let mut served = serve(engine, request("POST", "/text", "whole"));
    assert_eq!(json(&mut served)["text"], "whole");
}

#[test]
fn cancelling_a_request_body_closes_it_and_the_request_closes_what_was_left() {
    let host = host(|| chunked(&[]));
    let (mut served, reads) = post(&host, "/first", StreamedBody::new(["one", "two", "three"]));
    assert_eq!(served.text(), "one");
    assert_eq!(reads.chunks(), [3]);
    assert!(reads.is_closed() && !reads.is_over());

    // Not read at all: closed when the request is over.
    let (mut served, reads) = post(&host, "/ignore", StreamedBody::new(["unread"]));
    assert_eq!(served.text(), "ignored");
    assert!(reads.is_closed() && reads.chunks().is_empty());
    assert_eq!(host.open_bodies(), 0);
}

#[test]
fn a_failed_read_rejects_with_the_hosts_reason_and_status() {
    let host = host(|| chunked(&[]));
    let (mut served, _) = post(
        &host,
        "/failed",
        StreamedBody::new(["abc", "def"]).max_stream_bytes(4),
    );
    let denied = json(&mut served);
    assert_eq!(
        (denied["name"].as_str(), denied["status"].as_u64()),
        (Some("Error"), Some(413))
    );
    assert!(
        denied["message"]
            .as_str()
            .unwrap()
            .contains("max_stream_bytes"),
        "{denied}"
    );

    let (mut served, _) = post(
        &host,
        "/failed",
        StreamedBody::new(["abc"]).fails("the client went away"),
    );
    assert_eq!(
        json(&mut served),
        serde_json::json!({ "name": "Error", "message": "the client went away", "status": 400 })
    );
}

#[test]
fn a_request_body_streamed_back_is_read_as_the_reader_asks() {
    let host = host(|| chunked(&[]));
    let (request, reads) =
        host.streamed_request("POST", "/echo", StreamedBody::new(["a", "bb", "ccc"]));
    let mut served = serve(engine, request);
    assert!(served.is_streamed());
    assert_eq!(served.next_chunk().unwrap(), b"a");
    assert_eq!(reads.chunks(), [1], "nothing read ahead of the reader");
    assert_eq!(served.text(), "bbccc");
    assert_eq!(served.ended_early(), None);
    assert!(reads.is_closed());

    // The reader goes away: the body is closed.
    let (request, reads) = host.streamed_request("POST", "/echo", StreamedBody::new(["a", "bb"]));
    let mut served = serve(engine, request);
    assert_eq!(served.next_chunk().unwrap(), b"a");
    drop(served);
    assert!(reads.is_closed() && !reads.is_over());
}

#[test]
fn a_fetched_body_is_read_as_the_script_pulls_it() {
    let host = host(|| chunked(&["up", "str", "eam"]));
    let mut served = serve(engine, request("GET", "/fetch", ""));
    assert_eq!(
        json(&mut served),
        serde_json::json!({
            "status": 203, "type": "text/plain", "stream": true,
            "lengths": [2, 3, 3], "text": "upstream",
        })
    );
    assert_eq!(
        serve(engine, request("GET", "/fetch-text", "")).text(),
        "upstream (used)"
    );
    assert_eq!(
        serve(engine, request("GET", "/fetch-first", "")).text(),
        "up"
    );
    assert_eq!(
        host.open_bodies(),
        0,
        "read to the end, or cancelled: closed"
    );
}

/// Fetched bodies the script lets go of unread are closed when its garbage is collected, which
/// the engine does when they pile up (at 16): they never pile up past that. (QuickJS collects
/// on its own too, when its heap has grown enough, so some may be closed before.)
#[test]
fn fetched_bodies_left_unread_are_closed_once_unreachable() {
    let host = host(|| chunked(&["never", "read"]));
    let mut most = 0;
    for _ in 0..40 {
        assert_eq!(
            serve(engine, request("GET", "/fetch-unread", "")).text(),
            "203"
        );
        most = most.max(host.open_bodies());
    }
    assert_eq!(most, 16, "the bodies pile up to 16, then are closed");
    assert!(host.open_bodies() < 16, "{} still open", host.open_bodies());
}

#[test]
fn a_fetched_body_that_fails_rejects_with_the_hosts_reason() {
    let _host = host(|| {
        let items: Vec<Result<&str, &str>> = vec![Ok("part"), Err("the connection broke")];
        Response::new(Body::from_stream(stream::iter(items)))
    });
    let mut served = serve(engine, request("GET", "/fetch-failed", ""));
    let failed = json(&mut served);
    assert_eq!(failed["status"], 400, "{failed}");
    assert!(
        failed["message"]
            .as_str()
            .unwrap()
            .contains("the connection broke"),
        "{failed}"
    );
}

/// A clone of a streamed body reads the same chunks (the stream is teed, as in a browser).
#[test]
fn a_streamed_body_is_cloned_by_teeing_it() {
    let host = host(|| chunked(&["up", "stream"]));
    let (mut served, reads) = post(&host, "/clones", StreamedBody::new(["up", "load"]));
    assert_eq!(
        json(&mut served),
        serde_json::json!({
            "first": "upstream", "second": "upstream", "request": "upload", "clone": "upload",
        })
    );
    assert_eq!(reads.chunks(), [2, 4], "each chunk read once");
    assert_eq!(host.open_bodies(), 0);
}

#[test]
fn a_fetched_body_passed_on_is_streamed_a_chunk_at_a_time() {
    let host = host(|| chunked(&["one ", "two ", "three"]));
    for path in ["/proxy", "/pass"] {
        let mut served = serve(engine, request("GET", path, ""));
        assert!(served.is_streamed(), "{path}");
        assert_eq!(served.response().status(), 203, "{path}");
        assert_eq!(served.response().headers()["content-type"], "text/plain");
        assert_eq!(served.next_chunk().unwrap(), b"one ", "{path}");
        assert_eq!(
            host.open_bodies(),
            1,
            "{path}: held while the answer streams"
        );
        assert_eq!(served.text(), "two three", "{path}");
        assert_eq!(served.ended_early(), None, "{path}");
        assert_eq!(host.open_bodies(), 0, "{path}");
    }

    // The reader goes away: the fetched body is closed.
    let mut served = serve(engine, request("GET", "/proxy", ""));
    assert_eq!(served.next_chunk().unwrap(), b"one ");
    drop(served);
    assert_eq!(
        serve(engine, request("GET", "/nothing", "")).text(),
        "no route"
    );
    assert_eq!(host.open_bodies(), 0);
}
