// Streamed answers (PROTOCOL.md, section 17) in a real service worker in each engine, on the
// conformance site (its manifest mounts the streaming plugin at /api/stream): an EventSource on
// a plugin's route gets its events one by one, a page reading a streamed answer with
// `response.body.getReader()` gets its first chunk before the plugin produced the last, and a
// page that cancels its reader stops the plugin (the plugin's own count stops), and a body the
// worker cuts short (past its entry's max_stream_bytes) makes the page's read() reject.
// Streamed request bodies and outbound streams (section 18), at the conformance site's mounts
// with stream_requests (/api/upload, the script's /api/js/upload): a page's Blob larger than
// max_body_bytes reaches the plugin in chunks; a page's ReadableStream body (duplex: 'half') and
// a download the plugin proxies from the site's upstream (conformance/upstream.mjs), cancelled
// by the page, do what each engine does with them, asserted per engine (STREAMED_UPLOAD,
// PROXIED); a proxied download arrives intact. Each test prints what it measured.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES, startEngine } from './browsers.mjs';
import { startConformanceSite } from './fixtures/conformance-site.mjs';
import { inPage, openApp } from './fixtures/storage-site.mjs';
import {
  postPattern, postStream, readBytes, readEvents, readFirstThenHold, readLinesThenStop, readThenStop, settledNumber,
  upstreamEnded,
} from '../conformance/probes.mjs';
import { patternSha256 } from '../conformance/uploads.mjs';

const [EVENTS, GAP] = [5, 200];

// In the page: an EventSource on `path` until `n` 'tick' events came (then closed, before it
// reconnects), or 20 s passed: each event's arrival (Date.now()), id and data, and the errors
// it reported.
async function eventSource({ path, n }) {
  const out = { started: Date.now(), events: [], errors: 0 };
  const source = new EventSource(path);
  await new Promise((resolve) => {
    source.addEventListener('tick', (event) => {
      out.events.push({ arrived: Date.now(), id: event.lastEventId, data: event.data });
      if (out.events.length === n) resolve();
    });
    source.addEventListener('error', () => { out.errors += 1; });
    setTimeout(resolve, 20_000);
  });
  source.close();
  return out;
}

// Asserts the events' ids and numbers, and that the first came before half of the plugin's
// time producing them (its clock and the page's are the machine's wall clock); the figures.
function timing(events) {
  const at = events.map(({ data }) => JSON.parse(data).at);
  const arrived = events.map((event) => event.arrived);
  assert.deepEqual(events.map(({ id, data }) => [id, JSON.parse(data).i]),
    Array.from({ length: EVENTS }, (_, i) => [String(i), i]));
  const [first, last] = [at[0], at.at(-1)];
  assert.ok(last - first >= (EVENTS - 1) * GAP * 0.9, `the plugin produced its events over ${last - first} ms`);
  assert.ok(arrived[0] < (first + last) / 2,
    `the first event arrived ${arrived[0] - first} ms into the plugin's ${last - first} ms of producing: not before half`);
  return `the first arrived ${last - arrived[0]} ms before the last was produced; gaps between arrivals `
    + `${arrived.slice(1).map((t, i) => t - arrived[i]).join(', ')} ms (produced every ${GAP})`;
}

describe('streamed answers in the browser', { timeout: 300_000 }, () => {
  let site;
  before(async () => { site = await startConformanceSite(); });
  after(() => site?.close());

  for (const name of Object.keys(ENGINES)) {
    test(`${name}: events arrive one by one, a reader gets the first chunk early, cancelling it stops the plugin`, async (t) => {
      const engine = await startEngine(name);
      const driver = await engine.session();
      try {
        await openApp(driver, site.origin);

        await t.test('an EventSource gets the events one by one', async () => {
          const seen = await inPage(driver, eventSource, { path: `/api/stream/sse?n=${EVENTS}&gap=${GAP}`, n: EVENTS });
          assert.equal(seen.events.length, EVENTS, `${seen.events.length} events came in 20 s, ${seen.errors} errors`);
          console.log(`${name}: EventSource: ${timing(seen.events)}`);
        });

        await t.test('a reader gets the first chunk before the last is produced', async () => {
          const seen = await inPage(driver, readEvents, { base: '', path: `/api/stream/sse?n=${EVENTS}&gap=${GAP}` });
          assert.equal(seen.status, 200);
          assert.deepEqual([seen.ended, seen.comments, seen.rest], ['complete', [], '']);
          console.log(`${name}: getReader(): the first chunk ${seen.events[0].arrived - seen.started} ms after the request; ${timing(seen.events)}`);
        });

        await t.test('cancelling the reader stops the plugin', async () => {
          const id = `${name}-${Date.now()}`;
          const read = await inPage(driver, readLinesThenStop,
            { base: '', path: `/api/stream/count?id=${id}&gap=50`, lines: 3, how: 'cancel' });
          assert.equal(read.status, 200);
          assert.deepEqual(read.text.split('\n').slice(0, 3), ['tick 0', 'tick 1', 'tick 2']);
          assert.ok(!read.endedFirst, 'the endless body ended by itself');
          const counted = await inPage(driver, settledNumber,
            { base: '', path: `/api/stream/produced?id=${id}`, apartMs: 500, withinMs: 5000 });
          console.log(`${name}: cancelled after 3 lines; the plugin's count ${counted.readings.join(' → ')} (read every 500 ms)`);
          assert.ok(counted.settled, `the plugin's count kept changing: ${counted.readings.join(', ')}`);
          // Three lines read, a few more produced ahead of the page (the pipe to the page).
          assert.ok(counted.readings.at(-1) <= 10, `the plugin stopped at ${counted.readings.at(-1)} only`);
        });

        await t.test("a body cut short rejects the page's read, after no more than came before", async () => {
          // At /api/stream-capped (max_stream_bytes 1000) three chunks of 300 bytes pass; read
          // ten times, since what arrives before the error may vary.
          const reads = [];
          for (let i = 0; i < 10; i++) {
            reads.push(await inPage(driver, readBytes, { base: '', path: '/api/stream-capped/bytes?mib=1&chunk=300' }));
          }
          const ends = [...new Set(reads.map((read) => read.ended))];
          console.log(`${name}: a body cut short after 900 bytes: the page read ${reads.map((read) => read.bytes).join(', ')} bytes, `
            + `then ${ends.join(' / ')}`);
          for (const read of reads) {
            assert.equal(read.status, 200);
            assert.match(read.ended, /^error: /, 'the read rejected');
            assert.ok(read.bytes <= 900 && read.wrongAt === null, `${read.bytes} bytes, the first wrong at ${read.wrongAt}`);
          }
        });
      } finally {
        await driver.quit();
        engine.stop();
      }
    });
  }
});

const MiB = 1024 * 1024;

// What each engine does with a page's `fetch(url, { method: 'POST', body: readableStream,
// duplex: 'half' })` to a plugin's path, as measured: `streams` (the plugin reads the stream's
// bytes), `text` (the stream is sent as the text it converts to), or `throws` (what fetch
// rejects with, matched).
const STREAMED_UPLOAD = {
  chromium: { streams: true },
  firefox: { text: '[object ReadableStream]' },
  webkit: { throws: /^NotSupportedError: ReadableStream uploading is not supported/ },
};

// What each engine does with a network response a plugin reads with fetch_stream while the page
// reads nothing more of the plugin's answer, as measured: `paced`, the upstream stops sending
// once the buffers between it and the page are full, and cancelling the page's reader closes
// its response (Chromium's network holds about 64 MiB of a response a page reads nothing of, as
// a page's own fetch of the upstream shows; through the worker, whose fetch and answer hold one
// such each, the upstream stops at about 120 MiB); `readsAhead`, the engine reads the whole
// response whatever the page reads (Firefox read 1 GiB so; WebKit's page got its first chunk
// when the upstream had sent 134 to 238 MiB of 256).
const PROXIED = { chromium: 'paced', firefox: 'readsAhead', webkit: 'readsAhead' };

describe('streamed uploads and outbound streams in the browser', { timeout: 300_000 }, () => {
  let site;
  before(async () => { site = await startConformanceSite(); });
  after(() => site?.close());

  for (const name of Object.keys(ENGINES)) {
    test(`${name}: a Blob upload reaches the plugin in chunks, a stream upload does what the engine does, a proxied download streams`, async (t) => {
      const engine = await startEngine(name);
      const driver = await engine.session();
      try {
        await openApp(driver, site.origin);

        // The script hashes in JavaScript, far slower: it gets less.
        for (const [base, size] of [['/api/upload', 24 * MiB], ['/api/js/upload', 1.5 * MiB]]) {
          await t.test(`a Blob larger than max_body_bytes reaches ${base} in chunks, intact`, async () => {
            const got = await inPage(driver, postPattern, { base: '', path: `${base}/upload`, bytes: size, as: 'blob' });
            assert.equal(got.status, 200, got.text.slice(0, 300));
            const answer = JSON.parse(got.text);
            console.log(`${name}: a Blob of ${size / MiB} MiB to ${base}/upload: ${answer.chunks} chunks, the largest ${answer.largest} bytes`);
            assert.deepEqual([answer.bytes, answer.sha256], [size, patternSha256(size)]);
            assert.ok(answer.chunks > 1 && answer.largest <= MiB, `${answer.chunks} chunks, the largest ${answer.largest} bytes`);
          });
        }

        await t.test('a ReadableStream body: what the engine does with it', async () => {
          const [chunks, chunkBytes] = [8, 64 * 1024];
          const got = await inPage(driver, postStream, { base: '', path: '/api/upload/upload', chunks, chunkBytes, gapMs: 50 });
          const expected = STREAMED_UPLOAD[name];
          console.log(`${name}: a ReadableStream upload of ${chunks} × ${chunkBytes} bytes, one every 50 ms: `
            + `${got.threw ? `fetch threw ${got.threw}` : `${got.status} ${got.text}`} (the stream gave ${got.given} chunks)`);
          if (expected.throws) {
            assert.match(got.threw ?? `no throw: ${got.status} ${got.text}`, expected.throws);
          } else if (expected.text !== undefined) {
            assert.equal(got.status, 200, got.threw ?? got.text);
            const answer = JSON.parse(got.text);
            const text = new TextEncoder().encode(expected.text);
            assert.deepEqual([answer.bytes, answer.chunks], [text.length, 1]);
          } else {
            assert.equal(got.status, 200, got.threw ?? got.text);
            const answer = JSON.parse(got.text);
            assert.deepEqual([answer.bytes, answer.sha256], [chunks * chunkBytes, patternSha256(chunks * chunkBytes)]);
            assert.equal(got.given, chunks);
            // Not held whole before the worker saw it (Chromium hands on each chunk as produced).
            assert.ok(answer.chunks > 1, `the plugin read ${answer.chunks} chunk`);
          }
        });

        await t.test('a proxied download comes as it arrives, as paced as the engine paces it, and cancelling the reader closes the upstream', async () => {
          // An engine that reads it whole reads it into its memory: it gets less.
          const size = (PROXIED[name] === 'paced' ? 1024 : 256) * MiB;
          const id = `e2e-${name}-${Date.now()}`;
          const url = `${site.origin}/upstream/bytes?mib=${size / MiB}&id=${id}`;
          const report = `${site.origin}/upstream/report?id=${id}`;
          // The page reads one chunk, then holds the body unread until the upstream's count stops.
          const held = await inPage(driver, readFirstThenHold,
            { base: '', path: `/api/upload/proxy?url=${encodeURIComponent(url)}`, reportUrl: report, apartMs: 300, withinMs: 20_000 });
          const ended = await inPage(driver, upstreamEnded, { url: report, apartMs: 100, withinMs: 10_000 });
          const sentWhileHeld = held.held.at(-1);
          console.log(`${name}: proxied ${size / MiB} MiB: the page read a first chunk of ${held.firstChunk} bytes and held the body; `
            + `the upstream's count ${held.held.map((sent) => (sent / MiB).toFixed(1)).join(' → ')} MiB (every 300 ms); `
            + `the page cancelled; the upstream sent ${(ended.last.sent / MiB).toFixed(1)} MiB, then its response was ${ended.last.ended}`);
          assert.equal(held.status, 200);
          assert.ok(held.firstChunk > 0, 'no first chunk');
          if (PROXIED[name] === 'paced') {
            // Back-pressure reached the upstream: its count stopped while the page read nothing.
            assert.ok(held.ended === 'open' && sentWhileHeld < size / 4,
              `the upstream sent ${sentWhileHeld} bytes (${held.ended}) while the page held the body after one chunk`);
            assert.equal(ended.last.ended, 'closed early');
            assert.ok(ended.last.sent < size / 4, `the upstream sent ${ended.last.sent} bytes before it stopped`);
          } else {
            assert.deepEqual([held.ended, sentWhileHeld], ['complete', size],
              `${name} paces the upstream now: ${sentWhileHeld} bytes sent (${held.ended}) while the page held the body`);
          }
        });

        await t.test('cancelling the reader of a proxied download closes the upstream', async () => {
          // Read ahead or not, the engine closes the upstream once the page cancels. The
          // upstream sends no faster than 64 MiB/s: an engine that reads ahead (WebKit) took
          // the whole GiB from a loopback upstream before a page slowed by a busy machine
          // cancelled.
          const size = 1024 * MiB;
          const id = `e2e-cancel-${name}-${Date.now()}`;
          const url = `${site.origin}/upstream/bytes?mib=${size / MiB}&id=${id}&mibps=64`;
          const report = `${site.origin}/upstream/report?id=${id}`;
          const read = await inPage(driver, readThenStop,
            { base: '', path: `/api/upload/proxy?url=${encodeURIComponent(url)}`, bytes: 2 * MiB, how: 'cancel' });
          const ended = await inPage(driver, upstreamEnded, { url: report, apartMs: 100, withinMs: 10_000 });
          console.log(`${name}: proxied ${size / MiB} MiB, cancelled after ${(read.read / MiB).toFixed(1)} MiB: the upstream sent `
            + `${(ended.last.sent / MiB).toFixed(1)} MiB, then its response was ${ended.last.ended}`);
          assert.deepEqual([read.status, read.endedFirst, ended.last.ended], [200, false, 'closed early']);
          assert.ok(ended.last.sent < size / 2, `the upstream sent ${ended.last.sent} bytes before it stopped`);
        });

        await t.test('a proxied download arrives intact', async () => {
          const size = 32 * MiB;
          const url = `${site.origin}/upstream/bytes?mib=${size / MiB}&id=e2e-whole-${name}-${Date.now()}`;
          const got = await inPage(driver, readBytes, { base: '', path: `/api/upload/proxy?url=${encodeURIComponent(url)}` });
          console.log(`${name}: proxied ${size / MiB} MiB whole in ${got.chunks} chunks, ${Math.round(got.totalMs)} ms`);
          assert.deepEqual([got.status, got.contentType, got.ended, got.bytes, got.wrongAt],
            [200, 'application/octet-stream', 'complete', size, null]);
        });
      } finally {
        await driver.quit();
        engine.stop();
      }
    });
  }
});
