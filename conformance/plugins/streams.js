// Streamed answers, server-sent events and work after the answer from a script: the routes of
// the Rust plugin wasm-pack-tests/plugins/streaming, made with ReadableStreams given to a
// `fetch` event's respondWith, and its waitUntil; and request.body as a stream. What they share
// between requests is in kv: a server may run a script in several instances.
//
// - GET /sse?n=N&gap=MS: N events (`id: i`, `event: tick`, `data: {"i":i,"at":MS_NOW}`), one
//   every MS ms (the first at once), then the end.
// - GET /bytes?mib=N&chunk=BYTES: N MiB where byte k is `k % 251`, in chunks of BYTES (65,536
//   by default), each made when the reader asks for it.
// - GET /count?id=X&gap=MS: endless, the line `tick i\n` every MS ms (50 by default), each
//   made when the reader asks (highWaterMark 0) after storing i under kv key `produced:X`.
//   GET /produced?id=X answers it (or 404): a reader that goes away stops the producer (the
//   stream is cancelled, and a pull under way stores nothing more).
// - GET /fail?after=K: K chunks `chunk i\n`, then the stream errors with
//   `new Error('the producer failed on purpose')` (the body ends early: "Error: the producer
//   failed on purpose").
// - GET /sse-fail: two events as /sse's, then the same error.
// - GET /transform?n=N&gap=MS: /sse's events, written by a loop to a TransformStream whose
//   readable side is the body (as service workers and Cloudflare Workers write them), kept
//   going with event.waitUntil: each write waits for the reader.
// - GET /after?id=X&ms=MS: answers `accepted` at once, and (event.waitUntil) sleeps MS ms and
//   then stores `done` under kv key `after:X`; GET /after-status?id=X answers it, or 404.
// - POST /echo: the request's body back, streamed from request.body.

const FAILURE = 'the producer failed on purpose';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const text = (body, status = 200) => new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
const eventStream = (stream) => new Response(stream, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } });
const tick = (i) => `id: ${i}\nevent: tick\ndata: ${JSON.stringify({ i, at: Date.now() })}\n\n`;

// `n` events of /sse, one every `gap` ms, then `end(controller)`.
function ticks(n, gap, end) {
  let i = 0;
  return new ReadableStream({
    async pull(controller) {
      if (i === n) return end(controller);
      if (i > 0) await sleep(gap);
      controller.enqueue(tick(i));
      i += 1;
    },
  }, { highWaterMark: 0 });
}

// N MiB, byte k being k % 251, in chunks of `chunk` bytes: each a view of one pattern.
function bytes(mib, chunk) {
  const total = mib * 1024 * 1024;
  const pattern = new Uint8Array(chunk + 251).map((_, k) => k % 251);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent === total) return controller.close();
      const length = Math.min(chunk, total - sent);
      controller.enqueue(pattern.subarray(sent % 251, (sent % 251) + length));
      sent += length;
    },
  }, { highWaterMark: 0 });
}

async function stored(key) {
  const value = await kv.get(key);
  return value === null ? text(`nothing under ${key}`, 404) : text(value);
}

async function handle(request, event) {
  const url = new URL(request.url);
  const query = url.searchParams;
  const id = query.get('id');
  switch (`${request.method} ${url.pathname.slice(valor.mount.length)}`) {
    case 'GET /sse':
      return eventStream(ticks(Number(query.get('n')), Number(query.get('gap') ?? 0), (c) => c.close()));
    case 'GET /transform': {
      const { readable, writable } = new TransformStream();
      const writer = writable.getWriter();
      const encoder = new TextEncoder();
      const [n, gap] = [Number(query.get('n')), Number(query.get('gap') ?? 0)];
      event.waitUntil((async () => {
        for (let i = 0; i < n; i += 1) {
          if (i > 0) await sleep(gap);
          await writer.write(encoder.encode(tick(i)));
        }
        await writer.close();
      })().catch(() => {})); // a reader that went away fails the write: the loop ends
      return eventStream(readable);
    }
    case 'GET /sse-fail':
      return eventStream(ticks(2, 0, (c) => c.error(new Error(FAILURE))));
    case 'GET /bytes':
      return new Response(bytes(Number(query.get('mib')), Number(query.get('chunk') ?? 65536)), {
        headers: { 'content-type': 'application/octet-stream' },
      });
    case 'GET /count': {
      const gap = Number(query.get('gap') ?? 50);
      let [i, cancelled] = [0, false];
      return text(new ReadableStream({
        async pull(controller) {
          await sleep(gap);
          if (cancelled) return;
          await kv.set(`produced:${id}`, String(i));
          controller.enqueue(`tick ${i}\n`);
          i += 1;
        },
        cancel() {
          cancelled = true;
        },
      }, { highWaterMark: 0 }));
    }
    case 'GET /produced':
      return stored(`produced:${id}`);
    case 'GET /fail': {
      const after = Number(query.get('after'));
      let i = 0;
      return text(new ReadableStream({
        pull(controller) {
          if (i === after) return controller.error(new Error(FAILURE));
          controller.enqueue(`chunk ${i}\n`);
          i += 1;
        },
      }, { highWaterMark: 0 }));
    }
    case 'GET /after':
      event.waitUntil(sleep(Number(query.get('ms'))).then(() => kv.set(`after:${id}`, 'done')));
      return text('accepted');
    case 'GET /after-status':
      return stored(`after:${id}`);
    case 'POST /echo':
      return new Response(request.body, { headers: { 'content-type': 'application/octet-stream' } });
    default:
      return text(`no route ${request.method} ${url.pathname}`, 404);
  }
}

addEventListener('fetch', (event) => event.respondWith(handle(event.request, event)));
