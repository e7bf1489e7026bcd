//! The prelude's `ReadableStream` behaves as the WHATWG standard says, in the cases a script
//! meets: each check is what a browser answers.

use crate::{serve as engine, start};
use vlugin::test::{request, serve, Host};

const SCRIPT: &str = r#"
const outcome = (promise) => promise.then((value) => value, (error) => `${error.name}: ${error.message}`);
const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

export default {
  async fetch() {
    const results = {};
    {
      const stream = new ReadableStream({ start(c) { c.enqueue('a'); c.enqueue('b'); c.close(); } });
      const reader = stream.getReader();
      const reads = [await reader.read(), await reader.read(), await reader.read()];
      results.drainThenDone = reads.map((read) => (read.done ? 'done' : read.value));
      results.closed = await outcome(reader.closed.then(() => 'closed'));
    }
    {
      let controller;
      new ReadableStream({ start(c) { controller = c; } }, { highWaterMark: 2 });
      const sizes = [controller.desiredSize];
      controller.enqueue(1);
      sizes.push(controller.desiredSize);
      controller.enqueue(2);
      controller.enqueue(3);
      sizes.push(controller.desiredSize);
      controller.close();
      sizes.push(controller.desiredSize);
      results.desiredSizes = sizes;
      try {
        controller.enqueue(4);
        results.enqueueAfterClose = 'enqueued';
      } catch (error) {
        results.enqueueAfterClose = error.name;
      }
    }
    {
      let pulls = 0;
      let started;
      new ReadableStream({ start: () => new Promise((resolve) => (started = resolve)), pull() { pulls += 1; } });
      await nextTask();
      const before = pulls;
      started();
      await nextTask();
      results.pullAfterStart = [before, pulls];
    }
    {
      const stream = new ReadableStream({ pull() { throw new TypeError('bad pull'); } });
      const reader = stream.getReader();
      results.pullThrows = await outcome(reader.read());
      results.closedRejects = await outcome(reader.closed);
    }
    {
      const stream = new ReadableStream();
      const reader = stream.getReader();
      const pending = reader.read();
      reader.releaseLock();
      results.releasedRead = await outcome(pending);
      results.lockedAfterRelease = stream.locked;
      stream.getReader();
      results.cancelLocked = await outcome(stream.cancel());
    }
    {
      let reason = 'not cancelled';
      const stream = new ReadableStream({
        pull(c) { c.enqueue(1); },
        cancel(why) { reason = String(why); },
      });
      for await (const chunk of stream) break;
      results.breakCancels = [reason, stream.locked];
    }
    results.fromIterable = await new Response(ReadableStream.from(['x', 'y'])).text();
    try {
      new ReadableStream({ type: 'bytes' });
    } catch (error) {
      results.bytesType = error.name;
    }
    return Response.json(results);
  },
};
"#;

#[test]
fn readable_streams_behave_as_the_standard_says() {
    let _host = Host::new()
        .config(serde_json::json!({
            "source": SCRIPT,
            "url": "https://example.com/plugins/readable.mjs",
            "memory_mb": 64,
        }))
        .install();
    start().unwrap();
    let served = serve(engine, request("GET", "/", ""));
    let text = served.response().body().text().unwrap();
    let results: serde_json::Value = serde_json::from_str(text).expect(text);
    assert_eq!(
        results,
        serde_json::json!({
            "drainThenDone": ["a", "b", "done"],
            "closed": "closed",
            "desiredSizes": [2, 1, -1, -1],
            "enqueueAfterClose": "TypeError",
            "pullAfterStart": [0, 1],
            "pullThrows": "TypeError: bad pull",
            "closedRejects": "TypeError: bad pull",
            "releasedRead": "TypeError: the reader was released",
            "lockedAfterRelease": false,
            "cancelLocked": "TypeError: the stream is locked to a reader",
            "breakCancels": ["undefined", false],
            "fromIterable": "xy",
            "bytesType": "RangeError",
        })
    );
}
