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
// - POST /echo: the request's body back, streamed from request.body, its content-type copied
//   (application/octet-stream if it has none).
// - POST /upload: reads request.body chunk by chunk, hashing it as it goes, and answers
//   {"bytes": N, "sha256": "<hex>", "chunks": K, "largest": M}; a read that fails answers its
//   message, with 413 when the body is larger than max_stream_bytes, 400 otherwise.
// - GET /proxy?url=U: fetch(U), answered with its status, content-type and body, streamed
//   through a chunk at a time; a fetch that fails answers 502 with its message.

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

// SHA-256 (FIPS 180-4) fed chunk by chunk: the engine's crypto has no incremental digest.
const K = Uint32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
// (Plain variables and rotations written out: QuickJS counts its steps, and a call is bounded.)
class Sha256 {
  #state = Uint32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  #block = new Uint8Array(64);
  #filled = 0;
  #length = 0; // bytes
  #w = new Int32Array(64);

  update(bytes) {
    let at = 0;
    if (this.#filled) {
      at = Math.min(64 - this.#filled, bytes.length);
      this.#block.set(bytes.subarray(0, at), this.#filled);
      this.#filled += at;
      if (this.#filled < 64) return void (this.#length += at);
      this.#compress(this.#block, 0);
    }
    for (; at + 64 <= bytes.length; at += 64) this.#compress(bytes, at);
    this.#block.set(bytes.subarray(at), 0);
    this.#filled = bytes.length - at;
    this.#length += bytes.length;
  }

  // The digest in lowercase hex (the hash takes no more bytes after).
  hex() {
    const bits = this.#length * 8;
    const tail = new Uint8Array((this.#filled < 56 ? 64 : 128) - this.#filled);
    tail[0] = 0x80;
    const length = new DataView(tail.buffer, tail.length - 8);
    length.setUint32(0, Math.floor(bits / 2 ** 32));
    length.setUint32(4, bits >>> 0);
    this.update(tail);
    return [...this.#state].map((word) => word.toString(16).padStart(8, '0')).join('');
  }

  // The 64 bytes of `bytes` from `at`, into the state.
  #compress(bytes, at) {
    const w = this.#w;
    for (let i = 0; i < 16; i++, at += 4) w[i] = (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15], y = w[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    const state = this.#state;
    let a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6], h = state[7];
    for (let i = 0; i < 64; i++) {
      const t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
      const t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    state[0] += a; state[1] += b; state[2] += c; state[3] += d; state[4] += e; state[5] += f; state[6] += g; state[7] += h;
  }
}

// The bytes one call into the engine hashes: a call's work is bounded (the entry's `fuel`), and
// a chunk may be 1 MiB, so the event loop turns (a timer) between slices. (The browser's meter
// charges QuickJS's loop pessimistically: 64 KiB of this hash in one call used up its fuel.)
const SLICE = 16384;

// POST /upload: the body hashed and counted as it is read.
async function upload(body) {
  const hash = new Sha256();
  let [bytes, chunks, largest] = [0, 0, 0];
  try {
    for await (const chunk of body ?? []) {
      for (let at = 0; at < chunk.length; at += SLICE) {
        if (at > 0) await sleep(0);
        hash.update(chunk.subarray(at, at + SLICE));
      }
      bytes += chunk.length;
      chunks += 1;
      largest = Math.max(largest, chunk.length);
    }
  } catch (error) {
    return text(error.message, error.status === 413 ? 413 : 400);
  }
  return Response.json({ bytes, sha256: hash.hex(), chunks, largest });
}

// GET /proxy: the fetched answer passed on as it is read.
async function proxy(url) {
  let fetched;
  try {
    fetched = await fetch(url);
  } catch (error) {
    return text(error.message, 502);
  }
  const type = fetched.headers.get('content-type');
  return new Response(fetched.body, { status: fetched.status, headers: type === null ? {} : { 'content-type': type } });
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
      return new Response(request.body, { headers: { 'content-type': request.headers.get('content-type') ?? 'application/octet-stream' } });
    case 'POST /upload':
      return upload(request.body);
    case 'GET /proxy':
      return proxy(query.get('url'));
    default:
      return text(`no route ${request.method} ${url.pathname}`, 404);
  }
}

addEventListener('fetch', (event) => event.respondWith(handle(event.request, event)));
