//! Answers streamed through a `TransformStream`, as service workers and Cloudflare Workers
//! write them: a loop writes to the writable side, the readable side is the body. The reader
//! paces the writer, and a reader that goes away makes its writes fail. And the prelude's
//! `WritableStream`, `TransformStream` and pipes behave as the WHATWG standard says.

use crate::{serve as engine, start};
use vlugin::test::{request, serve, Host, Installed, Served};

const SCRIPT: &str = r#"
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const encoder = new TextEncoder();
const state = { written: 0, ended: null, piped: null };
const upper = () => new TransformStream({ transform(chunk, c) { c.enqueue(chunk.toUpperCase()); } });
const outcome = (promise) => promise.then((value) => value ?? 'resolved', (error) => (error instanceof Error ? `${error.name}: ${error.message}` : error));

// Writes `count` chunks (endless without one) made by `make(i)`, one after the other, as the
// writer lets it; counts them in `state.written`, and keeps in `state.ended` how it ended.
function produce(count, make, gap = 0) {
  const { readable, writable } = new TransformStream();
  const writer = writable.getWriter();
  (async () => {
    for (let i = 1; i !== count + 1; i += 1) {
      if (i > 1 && gap) await sleep(gap);
      await writer.write(make(i));
      state.written += 1;
    }
    await writer.close();
    state.ended = 'closed';
  })().catch((error) => (state.ended = `${error.name}: ${error.message}`));
  return readable;
}

async function checks() {
  const results = {};
  {
    const log = [];
    const stream = new WritableStream({
      write(chunk) { log.push(chunk); return sleep(0); },
      close() { log.push('close'); },
    }, { highWaterMark: 2 });
    const writer = stream.getWriter();
    const sizes = [writer.desiredSize];
    const first = writer.write('a');
    sizes.push(writer.desiredSize);
    writer.write('b');
    sizes.push(writer.desiredSize);
    let ready = 'pending';
    writer.ready.then(() => (ready = 'resolved'));
    await null;
    const readyWhileFull = ready;
    await first;
    results.desiredSizes = sizes;
    results.readyWhileFullThenAfterWrite = [readyWhileFull, (await writer.ready, ready)];
    results.closeQueued = await outcome(writer.close());
    results.writeAfterClose = await outcome(writer.write('c'));
    results.sinkSaw = log;
    results.closedAfterClose = await outcome(writer.closed);
  }
  {
    let aborted = null;
    const stream = new WritableStream({ abort(reason) { aborted = reason; } });
    const writer = stream.getWriter();
    results.abort = [await outcome(writer.abort('why')), aborted, await outcome(writer.closed), await outcome(writer.write('x'))];
    results.lockedAbort = await outcome(stream.abort());
    writer.releaseLock();
    results.releasedWrite = await outcome(writer.write('x'));
    results.relockAfterRelease = stream.locked === false && stream.getWriter() !== null;
  }
  {
    const stream = new WritableStream({ write() { throw new TypeError('bad sink'); } });
    const writer = stream.getWriter();
    results.sinkThrows = [await outcome(writer.write('x')), await outcome(writer.ready), writer.desiredSize];
  }
  {
    let flushed = false;
    const doubled = new TransformStream({
      transform(chunk, c) { c.enqueue(chunk); c.enqueue(chunk); },
      flush(c) { flushed = true; c.enqueue('end'); },
    }, undefined, { highWaterMark: 10 });
    const writer = doubled.writable.getWriter();
    writer.write('x');
    writer.close();
    const got = [];
    for await (const chunk of doubled.readable) got.push(chunk);
    results.transformAndFlush = [got, flushed];
  }
  {
    const dest = [];
    const sink = new WritableStream({ write(chunk) { dest.push(chunk); } });
    await ReadableStream.from(['1', '2']).pipeTo(sink, { preventClose: true });
    const writer = sink.getWriter();
    await writer.write('3');
    results.preventClose = dest;
  }
  {
    let aborted = null;
    const failing = new ReadableStream({ start(c) { c.enqueue('a'); c.error(new Error('source failed')); } });
    const sink = new WritableStream({ abort(reason) { aborted = reason.message; } });
    results.sourceErrorAborts = [await outcome(failing.pipeTo(sink)), aborted];
  }
  {
    let cancelled = null;
    const source = new ReadableStream({ pull(c) { c.enqueue('a'); }, cancel(reason) { cancelled = reason.message; } });
    const sink = new WritableStream({ write() { throw new Error('sink failed'); } });
    results.destErrorCancels = [await outcome(source.pipeTo(sink)), cancelled, source.locked];
  }
  {
    const { readable, writable } = new TransformStream({ transform(chunk, c) { c.terminate(); } });
    const read = readable.getReader().read();
    const writer = writable.getWriter();
    results.terminate = [await outcome(writer.write('x')), (await read).done, await outcome(writer.write('y'))];
  }
  return results;
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get('n') ?? 0);
    switch (url.pathname) {
      case '/sse': {
        const events = produce(n, (i) => encoder.encode(`id: ${i}\ndata: tick ${i}\n\n`), 1000);
        return new Response(events, { headers: { 'content-type': 'text/event-stream' } });
      }
      case '/endless':
        return new Response(produce(undefined, (i) => `${i}\n`));
      case '/state':
        return Response.json(state);
      case '/piped': {
        const { readable, writable } = new TransformStream();
        ReadableStream.from(['one ', 'two ', 'three']).pipeTo(writable).then(() => (state.piped = 'done'));
        return new Response(readable.pipeThrough(upper()));
      }
      case '/failing':
        return new Response(produce(3, (i) => `line ${i}\n`).pipeThrough(new TransformStream({
          transform(chunk, c) {
            if (chunk === 'line 2\n') throw new Error('the transform failed');
            c.enqueue(chunk);
          },
        })));
      case '/source-failing':
      {
        let sent = false;
        return new Response(new ReadableStream({
          pull(c) {
            if (sent) c.error(new Error('the source failed'));
            else c.enqueue('a\n');
            sent = true;
          },
        }).pipeThrough(upper()));
      }
      case '/checks':
        return Response.json(await checks());
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
            "url": "https://example.com/plugins/transform.mjs",
            "memory_mb": 64,
        }))
        .install();
    start().unwrap();
    host
}

fn get(path: &str) -> Served {
    serve(engine, request("GET", path, ""))
}

fn chunk(served: &mut Served) -> String {
    String::from_utf8(served.next_chunk().expect("a chunk")).unwrap()
}

fn state() -> serde_json::Value {
    serde_json::from_str(&get("/state").text()).unwrap()
}

#[test]
fn server_sent_events_written_to_a_transform_stream_come_one_by_one() {
    let host = host();
    let mut served = get("/sse?n=3");
    assert_eq!(
        served.response().headers()["content-type"],
        "text/event-stream"
    );
    // The writer sleeps as soon as its write is taken, while the reader reads the event (and
    // the test host's timers end when first polled): the clock is one gap ahead of the reader.
    assert_eq!(chunk(&mut served), "id: 1\ndata: tick 1\n\n");
    assert_eq!(host.now(), 1000.0);
    assert_eq!(chunk(&mut served), "id: 2\ndata: tick 2\n\n");
    assert_eq!(host.now(), 2000.0);
    assert_eq!(chunk(&mut served), "id: 3\ndata: tick 3\n\n");
    assert_eq!(host.now(), 2000.0, "two gaps between three events");
    assert_eq!(served.next_chunk(), None);
    assert_eq!(served.ended_early(), None);
    assert_eq!(state()["ended"], "closed");
}

/// A write is done when the transform took its chunk, which it does only when the reader asks
/// for one: so the writer is never more than one chunk ahead of the reader.
#[test]
fn the_reader_paces_the_writer() {
    let _host = host();
    let mut served = get("/endless");
    assert_eq!(
        state()["written"],
        0,
        "nothing taken before the reader asks"
    );
    for pulled in 1..=3 {
        assert_eq!(chunk(&mut served), format!("{pulled}\n"));
        assert_eq!(state()["written"], pulled);
        assert_eq!(
            state()["written"],
            pulled,
            "no write while the reader waits"
        );
    }
}

#[test]
fn a_reader_that_goes_away_fails_the_writes() {
    let _host = host();
    let mut served = get("/endless");
    assert_eq!(chunk(&mut served), "1\n");
    assert_eq!(state()["ended"], serde_json::Value::Null);
    drop(served);
    assert_eq!(
        state()["ended"],
        "AbortError: the reader of the answer went away"
    );
    assert_eq!(state()["written"], 1);
}

#[test]
fn a_stream_piped_through_transform_streams() {
    let _host = host();
    assert_eq!(get("/piped").text(), "ONE TWO THREE");
    assert_eq!(state()["piped"], "done");
}

#[test]
fn an_error_in_a_transform_or_its_source_ends_the_body_early_with_its_reason() {
    let _host = host();
    let mut served = get("/failing");
    assert_eq!(chunk(&mut served), "line 1\n");
    assert_eq!(served.next_chunk(), None);
    assert_eq!(served.ended_early(), Some("Error: the transform failed"));
    assert_eq!(state()["ended"], "Error: the transform failed");

    let mut served = get("/source-failing");
    assert_eq!(chunk(&mut served), "A\n");
    assert_eq!(served.next_chunk(), None);
    assert_eq!(served.ended_early(), Some("Error: the source failed"));
}

#[test]
fn writable_and_transform_streams_behave_as_the_standard_says() {
    let _host = host();
    let text = get("/checks").text();
    let results: serde_json::Value = serde_json::from_str(&text).expect(&text);
    assert_eq!(
        results,
        serde_json::json!({
            "desiredSizes": [2, 1, 0],
            "readyWhileFullThenAfterWrite": ["pending", "resolved"],
            "closeQueued": "resolved",
            "writeAfterClose": "TypeError: the stream is closed: it takes no more chunks",
            "sinkSaw": ["a", "b", "close"],
            "closedAfterClose": "resolved",
            "abort": ["resolved", "why", "why", "why"],
            "lockedAbort": "TypeError: the stream is locked to a writer",
            "releasedWrite": "TypeError: the writer was released",
            "relockAfterRelease": true,
            "sinkThrows": ["TypeError: bad sink", "TypeError: bad sink", null],
            "transformAndFlush": [["x", "x", "end"], true],
            "preventClose": ["1", "2", "3"],
            "sourceErrorAborts": ["Error: source failed", "source failed"],
            "destErrorCancels": ["Error: sink failed", "sink failed", false],
            "terminate": ["resolved", true, "TypeError: the transform stream was terminated"],
        })
    );
}
