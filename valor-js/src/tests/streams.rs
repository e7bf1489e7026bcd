//! Streamed answers and work after the answer from a script, read as a host reads them
//! (`vlugin::test::serve`: the body chunk by chunk, each chunk only when asked for, then the
//! work after the answer).

use crate::{serve as engine, start};
use vlugin::test::{request, serve, Frame, Host, Installed, Served};

const SCRIPT: &str = r#"
let pulls = 0;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const cancels = [];
const hold = {};

// `count` lines "1\n" ... "n\n", one per pull, counted.
function lines(count, highWaterMark) {
  let n = 0;
  return new ReadableStream({
    pull(controller) {
      pulls += 1;
      n += 1;
      controller.enqueue(`${n}\n`);
      if (n === count) controller.close();
    },
  }, { highWaterMark });
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case '/lines': {
        const hwm = url.searchParams.has('hwm') ? Number(url.searchParams.get('hwm')) : undefined;
        return new Response(lines(5, hwm), { headers: { 'content-type': 'text/plain' } });
      }
      case '/state':
        return Response.json({ pulls, cancels });
      case '/error':
        return new Response(new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('first\n'));
          },
          pull(controller) {
            controller.error(new Error('the source failed'));
          },
        }));
      case '/not-bytes':
        return new Response(new ReadableStream({
          pull(controller) {
            controller.enqueue({ an: 'object' });
          },
          cancel(reason) {
            cancels.push(`${reason.name}: ${reason.message}`);
          },
        }));
      case '/endless':
        return new Response(new ReadableStream({
          pull(controller) {
            controller.enqueue(new Uint8Array([1, 2, 3]));
          },
          cancel(reason) {
            cancels.push(`${reason.name}: ${reason.message}`);
          },
        }));
      case '/spin':
        return new Response(new ReadableStream({
          start(controller) {
            controller.enqueue('before\n');
          },
          pull() {
            if (pulls++ > 0) for (;;) {}
          },
        }));
      case '/events': {
        let id = 0;
        const events = new ReadableStream({
          async pull(controller) {
            if (id > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
            id += 1;
            controller.enqueue(`id: ${id}\nevent: tick\ndata: tick ${id}\n\n`);
            if (id === 3) controller.close();
          },
        }, { highWaterMark: 0 });
        return new Response(events, {
          headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
        });
      }
      case '/generated':
        return new Response(ReadableStream.from((async function* () {
          for (const word of ['one ', 'two ', 'three']) yield word;
        })()));
      case '/after':
        // (The test host's timers end when first polled: the first ends in the poll that
        // answers, the second after the answer, in the work's own polls.)
        ctx.waitUntil(sleep(500).then(() => sleep(500)).then(() => kv.set('after', 'done')));
        ctx.waitUntil(Promise.reject(new Error('logged, not answered')));
        return new Response('answered');
      case '/streamed-after':
        // Work that waits for another request, so that it outlasts the body.
        ctx.waitUntil(new Promise((resolve) => (hold.release = resolve)).then(() => kv.set('streamed-after', 'done')));
        return new Response(lines(2, 0));
      case '/release':
        hold.release();
        return new Response('released');
      case '/locked': {
        const stream = new ReadableStream();
        stream.getReader();
        return new Response(stream);
      }
      case '/unawaited':
        kv.set('unawaited', 'sent');
        return new Response('answered');
      case '/keep-context':
        hold.ctx = ctx;
        return new Response('kept');
      case '/late-wait-until':
        try {
          hold.ctx.waitUntil(Promise.resolve());
          return new Response('extended');
        } catch (error) {
          return new Response(error.name);
        }
      case '/echo':
        return new Response(request.body);
      case '/read-body': {
        const stream = request.body;
        const chunks = [];
        for await (const chunk of stream) chunks.push(new TextDecoder().decode(chunk));
        const again = await request.text().then(() => 'read', (error) => error.name);
        return Response.json({ chunks, used: request.bodyUsed, again, same: request.body === stream });
      }
      case '/collect': {
        const text = await new Response(lines(3, 1)).text();
        return new Response(text);
      }
      default:
        return new Response('no route', { status: 404 });
    }
  },
};
"#;

fn host() -> Installed {
    let host = Host::new()
        .now(0.0)
        .config(serde_json::json!({
            "source": SCRIPT,
            "url": "https://example.com/plugins/streams.mjs",
            "memory_mb": 64,
        }))
        .install();
    start().unwrap();
    host
}

fn get(path: &str) -> Served {
    serve(engine, request("GET", path, ""))
}

fn text(path: &str) -> String {
    get(path).text()
}

fn chunk(served: &mut Served) -> String {
    String::from_utf8(served.next_chunk().expect("a chunk")).unwrap()
}

fn state() -> serde_json::Value {
    serde_json::from_str(&text("/state")).unwrap()
}

#[test]
fn a_streamed_response_arrives_chunk_by_chunk() {
    let _host = host();
    let mut served = get("/lines");
    assert!(served.is_streamed());
    assert_eq!(served.response().headers()["content-type"], "text/plain");
    assert_eq!(chunk(&mut served), "1\n");
    assert_eq!(chunk(&mut served), "2\n");
    assert_eq!(served.text(), "3\n4\n5\n");
    assert_eq!(served.ended_early(), None);
    let frames = served.finish();
    assert_eq!(
        frames.last(),
        Some(&Frame::End {
            reason: String::new(),
            continues: false
        })
    );
}

/// The source's `pull` runs only when the host asks for the next chunk: with the default
/// highWaterMark of 1 the stream holds one chunk ahead (as a browser's), with 0 none.
#[test]
fn the_script_is_pulled_only_when_the_reader_asks() {
    let _host = host();
    let mut served = get("/lines");
    assert_eq!(state()["pulls"], 1, "one chunk queued ahead, at the answer");
    assert_eq!(chunk(&mut served), "1\n");
    assert_eq!(state()["pulls"], 2);
    assert_eq!(state()["pulls"], 2, "no pull while the reader does not ask");
    assert_eq!(chunk(&mut served), "2\n");
    assert_eq!(state()["pulls"], 3);
    drop(served);

    let mut served = get("/lines?hwm=0");
    assert_eq!(state()["pulls"], 3, "none ahead of the reader");
    assert_eq!(chunk(&mut served), "1\n");
    assert_eq!(state()["pulls"], 4);
    assert_eq!(chunk(&mut served), "2\n");
    assert_eq!(state()["pulls"], 5);
}

#[test]
fn an_erroring_stream_ends_the_body_early_with_its_reason() {
    let _host = host();
    let mut served = get("/error");
    assert_eq!(chunk(&mut served), "first\n");
    assert_eq!(served.next_chunk(), None);
    assert_eq!(served.ended_early(), Some("Error: the source failed"));

    let mut served = get("/not-bytes");
    assert_eq!(served.next_chunk(), None);
    assert_eq!(
        served.ended_early(),
        Some(
            "TypeError: a chunk of a body is a string, an ArrayBuffer or a typed array, not object"
        )
    );
    assert_eq!(
        state()["cancels"],
        serde_json::json!([
            "TypeError: a chunk of a body is a string, an ArrayBuffer or a typed array, not object"
        ])
    );
}

#[test]
fn a_reader_that_goes_away_cancels_the_stream() {
    let _host = host();
    let mut served = get("/endless");
    assert_eq!(served.next_chunk().unwrap(), [1, 2, 3]);
    assert_eq!(served.next_chunk().unwrap(), [1, 2, 3]);
    assert_eq!(state()["cancels"], serde_json::json!([]));
    drop(served);
    assert_eq!(
        state()["cancels"],
        serde_json::json!(["AbortError: the reader of the answer went away"])
    );
}

#[test]
fn a_stream_that_runs_out_of_cpu_ends_early_and_the_script_starts_afresh() {
    let _host = host();
    let mut served = get("/spin");
    assert_eq!(chunk(&mut served), "before\n");
    assert_eq!(served.next_chunk(), None);
    let reason = served.ended_early().unwrap();
    assert!(
        reason.starts_with("streams.mjs used up its CPU budget"),
        "{reason}"
    );
    assert_eq!(state()["pulls"], 0, "a new script");
}

#[test]
fn server_sent_events_from_a_script_come_one_by_one() {
    let host = host();
    let mut served = get("/events");
    assert_eq!(
        served.response().headers()["content-type"],
        "text/event-stream"
    );
    assert_eq!(chunk(&mut served), "id: 1\nevent: tick\ndata: tick 1\n\n");
    assert_eq!(host.now(), 0.0);
    assert_eq!(chunk(&mut served), "id: 2\nevent: tick\ndata: tick 2\n\n");
    assert_eq!(host.now(), 1000.0, "the second event waited for its timer");
    assert_eq!(chunk(&mut served), "id: 3\nevent: tick\ndata: tick 3\n\n");
    assert_eq!(host.now(), 2000.0);
    assert_eq!(served.next_chunk(), None);
    assert_eq!(served.ended_early(), None);
}

#[test]
fn a_stream_from_an_async_generator_and_a_stream_read_whole() {
    let _host = host();
    assert_eq!(text("/generated"), "one two three");
    assert_eq!(text("/collect"), "1\n2\n3\n");
}

#[test]
fn wait_until_work_runs_after_the_answer() {
    let host = host();
    let served = get("/after");
    assert!(!served.is_streamed());
    assert_eq!(served.response().body().text().unwrap(), "answered");
    assert_eq!(host.kv_get("after"), None, "not before the answer");
    let frames = served.finish();
    assert_eq!(frames, [Frame::Response { continues: true }, Frame::Done]);
    assert_eq!(host.kv_get("after").as_deref(), Some(&b"done"[..]));
    assert_eq!(host.now(), 1000.0, "after its timer");
}

#[test]
fn wait_until_work_runs_after_a_streamed_body() {
    let host = host();
    let mut served = get("/streamed-after");
    assert_eq!(served.text(), "1\n2\n");
    assert_eq!(
        served.frames().last(),
        Some(&Frame::End {
            reason: String::new(),
            continues: true
        })
    );
    assert_eq!(host.kv_get("streamed-after"), None);
    assert_eq!(text("/release"), "released");
    assert_eq!(served.finish().last(), Some(&Frame::Done));
    assert_eq!(host.kv_get("streamed-after").as_deref(), Some(&b"done"[..]));
}

#[test]
fn a_stream_locked_to_a_reader_cannot_be_an_answer() {
    let _host = host();
    let served = get("/locked");
    assert_eq!(served.response().status(), 500);
    let text = served.response().body().text().unwrap();
    assert!(
        text.starts_with("Uncaught TypeError: the stream is locked to a reader"),
        "{text}"
    );
}

/// An operation the script does not wait for is started with the answer all the same (a
/// write is sent), though without `waitUntil` nothing goes on after the answer.
#[test]
fn a_write_not_waited_for_is_sent_with_the_answer() {
    let host = host();
    let served = get("/unawaited");
    assert_eq!(served.frames(), [Frame::Response { continues: false }]);
    assert_eq!(host.kv_get("unawaited").as_deref(), Some(&b"sent"[..]));
}

#[test]
fn wait_until_once_the_request_is_over_is_refused() {
    let _host = host();
    assert_eq!(text("/keep-context"), "kept");
    assert_eq!(text("/late-wait-until"), "InvalidStateError");
}

#[test]
fn a_request_body_is_a_stream_sharing_its_used_state() {
    let _host = host();
    let read = serve(engine, request("POST", "/read-body", "hello"));
    let read: serde_json::Value =
        serde_json::from_str(read.response().body().text().unwrap()).unwrap();
    assert_eq!(
        read,
        serde_json::json!({ "chunks": ["hello"], "used": true, "again": "TypeError", "same": true })
    );
    let mut echoed = serve(engine, request("POST", "/echo", "echo me"));
    assert!(echoed.is_streamed());
    assert_eq!(echoed.text(), "echo me");
}
