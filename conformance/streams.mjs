// The conformance cases of streamed answers (PROTOCOL.md, section 17), which a request→expect
// case of cases.json cannot say: each reads a body as it arrives, times and checks it, and
// measures what the host holds meanwhile. They run against the plugin
// wasm-pack-tests/plugins/streaming and against the script conformance/plugins/streams.js, each
// at three mounts (plugins.json, STREAMING below).
//
// A case's `run(host)` resolves to { seen, figures, wrong }: `seen` is what every host must see
// alike (compared by run.mjs, as the answers of cases.json are), `figures` what was measured
// (printed), `wrong` the complaints. A host is { name, kind: 'browser' | 'server',
// probe(fn, args), processes() } — probe runs one of probes.mjs where the host's client is,
// processes() lists the process ids whose memory is the host's.
import { readFileSync, readdirSync } from 'node:fs';
import { get } from 'node:http';
import { answerThenWork, readBytes, readEvents, readLinesThenStop, readText, settledNumber } from './probes.mjs';

const MiB = 1024 * 1024;
// How much a server's resident memory may grow while a large body crosses it (it held 0.3 MiB
// more at its peak, measured): a body held whole would add its size.
export const SERVER_GROWTH = 64 * MiB;

/** The resident memory of `pids`, in bytes, summed (a process gone since counts nothing). */
function residentBytes(pids) {
  let total = 0;
  for (const pid of pids) {
    try {
      const kib = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
      total += kib ? Number(kib[1]) * 1024 : 0;
    } catch { /* gone */ }
  }
  return total;
}

/** The processes descended from `root` whose name matches `name` (Linux's /proc). */
export function descendants(root, name) {
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      parents.set(Number(entry), { ppid: Number(stat.slice(close + 2).split(' ')[1]), comm });
    } catch { /* gone */ }
  }
  const under = (pid) => {
    for (let p = parents.get(pid)?.ppid; p; p = parents.get(p)?.ppid) if (p === root) return true;
    return false;
  };
  return [...parents].filter(([pid, { comm }]) => name.test(comm) && under(pid)).map(([pid]) => pid);
}

/** Samples the resident memory of `host.processes()` every 50 ms until `stop()`: the peak. */
export function sampleMemory(host) {
  const pids = host.processes();
  const before = residentBytes(pids);
  let peak = before;
  const timer = setInterval(() => { peak = Math.max(peak, residentBytes(pids)); }, 50);
  return {
    stop() {
      clearInterval(timer);
      return { before, peak: Math.max(peak, residentBytes(pids)) };
    },
  };
}

/**
 * GET `path` of the server with node's HTTP client, which hands on every byte of a message cut
 * short before it says so (node's fetch rejects whole when the connection closes in the read
 * that brought the head): the status, the body's length, text and first byte off the pattern
 * of /bytes (k % 251), and how it ended.
 */
function readOverHttp(origin, path) {
  return new Promise((resolve, reject) => {
    get(origin + path, (response) => {
      const chunks = [];
      let error = 'the connection closed before the end';
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('error', (why) => { error = why.message; });
      response.on('close', () => {
        const body = Buffer.concat(chunks);
        const wrong = body.findIndex((byte, k) => byte !== k % 251);
        resolve({
          status: response.statusCode,
          bytes: body.length,
          text: body.toString(),
          wrongAt: wrong < 0 ? null : wrong,
          ended: response.complete ? 'complete' : `error: ${error}`,
        });
      });
    }).on('error', reject);
  });
}

/** A body the host cuts short, read by `probe` in a page, over node's HTTP client from the server. */
const readCutShort = (host, probe, path) => (host.kind === 'server'
  ? readOverHttp(host.origin, path) : host.probe(probe, { path }));

const mib = (bytes) => `${(bytes / MiB).toFixed(1)} MiB`;
const ms = (value) => `${Math.round(value)} ms`;

/** What the events of a stream are, without their times: what every host must see alike. */
const eventsSeen = (got) => ({
  status: got.status,
  contentType: got.contentType,
  events: got.events.map(({ id, event, data }) => ({ id, event, i: JSON.parse(data ?? 'null')?.i })),
  comments: got.comments,
  ended: got.ended,
  rest: got.rest,
});

/** How a body ended, as hosts alike see it: an error's text is the client's, not the host's. */
const endOf = (ended) => (ended.startsWith('error') ? 'cut short' : ended);

/** Adds a complaint to `wrong` unless `value` is what was expected. */
function expectEqual(wrong, what, value, expected) {
  if (JSON.stringify(value) !== JSON.stringify(expected)) {
    wrong.push(`${what}: ${JSON.stringify(value)}, expected ${JSON.stringify(expected)}`);
  }
}

/** An event stream that some limit of the mount ends early: what it saw, and the comment. */
async function endedByLimit(host, path, field) {
  const got = await host.probe(readEvents, { path });
  const wrong = [];
  expectEqual(wrong, 'status', got.status, 200);
  expectEqual(wrong, 'end', got.ended, 'complete');
  if (got.comments.length !== 1 || !got.comments[0].startsWith(': valor: ') || !got.comments[0].includes(field)) {
    wrong.push(`comments ${JSON.stringify(got.comments)}: expected one ': valor: ...' naming ${field}`);
  }
  const last = got.events.at(-1)?.arrived ?? got.started;
  return {
    seen: eventsSeen(got),
    figures: `${got.events.length} events, then ${JSON.stringify(got.comments[0])} ${ms(got.finished - last)} after the last chunk`,
    wrong,
    got,
  };
}

/** The streaming plugins: the Rust one and the script (conformance/plugins/streams.js), each
 * mounted at `base`, `base-capped` (max_stream_bytes 1000) and `base-idle` (stream_idle_ms 300),
 * with the same routes; `fails` is the reason its failing producer gives, `mib` the size of the
 * large body it streams. */
export const STREAMING = [
  { label: '', base: '/api/stream', plugin: 'streaming', fails: 'the producer failed on purpose', mib: 1024 },
  {
    label: 'a script: ', base: '/api/js/stream', plugin: 'streams-js',
    fails: 'Error: the producer failed on purpose', mib: 256,
  },
];

/** /sse's case, against `path` (a route with /sse's events): they arrive one by one, the
 * first before the last is produced. */
async function eventsOneByOne(host, path) {
  const [n, gap] = [5, 200];
  const got = await host.probe(readEvents, { path: `${path}?n=${n}&gap=${gap}` });
  const wrong = [];
  expectEqual(wrong, 'status', got.status, 200);
  if (!got.contentType?.startsWith('text/event-stream')) wrong.push(`content-type ${got.contentType}`);
  expectEqual(wrong, 'events', got.events.map(({ id, event, data }) => [id, event, JSON.parse(data ?? 'null')?.i]),
    Array.from({ length: n }, (_, i) => [String(i), 'tick', i]));
  expectEqual(wrong, 'end', [got.ended, got.comments, got.rest], ['complete', [], '']);
  const at = got.events.map(({ data }) => JSON.parse(data ?? '{}').at);
  const arrived = got.events.map((event) => event.arrived);
  // The plugin's clock and the client's are the same machine's wall clock.
  const [first, last] = [at[0], at.at(-1)];
  if (!(last - first >= (n - 1) * gap * 0.9)) wrong.push(`the plugin produced its events over ${last - first} ms, not ${(n - 1) * gap}`);
  if (!(arrived[0] < (first + last) / 2)) {
    wrong.push(`the first event arrived at ${arrived[0] - first} ms of the plugin's ${last - first} ms of producing: not before half`);
  }
  const gaps = arrived.slice(1).map((t, i) => t - arrived[i]);
  return {
    seen: eventsSeen(got),
    figures: `the first event arrived ${arrived[0] - got.started} ms after the request, ${last - arrived[0]} ms before the last was produced; `
      + `gaps between arrivals ${gaps.join(', ')} ms (produced every ${gap}); latency from production ${arrived.map((t, i) => t - at[i]).join(', ')} ms`,
    wrong,
  };
}

/** The cases, against the streaming plugin `mount` (one of STREAMING). */
export const streamCases = ({ label, base, plugin, fails, mib: largeMib }) => [
  {
    name: `${label}server-sent events arrive one by one, the first before the last is produced`,
    run: (host) => eventsOneByOne(host, `${base}/sse`),
  },
  ...(plugin === 'streams-js' ? [{
    name: `${label}server-sent events written to a TransformStream arrive one by one, the first before the last is produced`,
    run: (host) => eventsOneByOne(host, `${base}/transform`),
  }] : []),
  {
    name: `${label}a large streamed body crosses intact with the host's memory bounded`,
    async run(host) {
      // The growth of memory while the stream crosses is bounded: the server's by little (what
      // it held before depends on the plugins the suite loaded first: the JavaScript component
      // compiled took a server from 29 to 406 MiB), a browser's by more, as it grows with garbage it
      // collects late (each chunk is a Uint8Array in the worker and another in the page): in
      // Chromium its renderer's peak grew by 250 to 370 MiB over 1 GiB, by 450 over 2 GiB, and
      // fell once collected; a body held whole would add its size.
      const [size, bound] = [largeMib, host.kind === 'server' ? SERVER_GROWTH : 512 * MiB];
      const memory = sampleMemory(host);
      const got = await host.probe(readBytes, { path: `${base}/bytes?mib=${size}` });
      const { before, peak } = memory.stop();
      const wrong = [];
      expectEqual(wrong, 'status', got.status, 200);
      expectEqual(wrong, 'end', got.ended, 'complete');
      expectEqual(wrong, 'bytes', got.bytes, size * MiB);
      if (got.wrongAt !== null) wrong.push(`byte ${got.wrongAt} is not ${got.wrongAt % 251}`);
      // The server's own resident memory; the browser's is every process of it (the worker's
      // and the page's renderer, the network's).
      const held = peak - before;
      if (!(held < bound)) wrong.push(`memory growth ${mib(held)}, over ${mib(bound)}`);
      return {
        seen: { status: got.status, ended: got.ended, intact: got.bytes === size * MiB && got.wrongAt === null },
        figures: `${size} MiB in ${got.chunks} chunks, ${ms(got.totalMs)} (${(size / (got.totalMs / 1000)).toFixed(0)} MiB/s, first chunk after ${ms(got.firstMs)}); `
          + `resident memory ${mib(before)} before, peak ${mib(peak)} (${host.kind === 'server' ? 'the server process' : "all of the browser's processes"})`,
        wrong,
      };
    },
  },
  {
    name: `${label}a client that goes away mid-stream stops the producer`,
    async run(host) {
      const id = `${plugin}-${host.kind}-${Date.now()}`;
      // A page cancels its reader; a client of the server closes its connection.
      const how = host.kind === 'browser' ? 'cancel' : 'abort';
      const read = await host.probe(readLinesThenStop, { path: `${base}/count?id=${id}&gap=50`, lines: 3, how });
      const counted = await host.probe(settledNumber, { path: `${base}/produced?id=${id}`, apartMs: 500, withinMs: 5000 });
      const wrong = [];
      expectEqual(wrong, 'status', read.status, 200);
      expectEqual(wrong, 'the lines read', read.text.split('\n').slice(0, 3), ['tick 0', 'tick 1', 'tick 2']);
      if (read.endedFirst) wrong.push('the endless body ended by itself');
      if (!counted.settled) wrong.push(`the producer's count kept changing: ${counted.readings.join(', ')} (every 500 ms)`);
      const stopped = counted.readings.at(-1);
      // Three lines read, a few more produced ahead of the reader (the host holds one, pipes more).
      if (!(typeof stopped === 'number' && stopped <= 10)) wrong.push(`the producer stopped at ${stopped}, after 3 lines read`);
      return {
        seen: { status: read.status, lines: read.text.split('\n').slice(0, 3), settled: counted.settled, small: stopped <= 10 },
        figures: `${how} after 3 lines; the plugin's count ${counted.readings.join(' → ')} (read every 500 ms)`,
        wrong,
      };
    },
  },
  {
    name: `${label}a body past max_stream_bytes is cut short`,
    async run(host) {
      // max_stream_bytes 1000 at base-capped: three chunks of 300 bytes pass, the fourth
      // would make 1200.
      const got = await readCutShort(host, readBytes, `${base}-capped/bytes?mib=1&chunk=300`);
      const wrong = [];
      expectEqual(wrong, 'status', got.status, 200);
      // A client of the server gets every byte before the cut. A page may get fewer: Chromium
      // (and WebKit) may pass the worker's error on before the bytes the worker had already
      // handed over, which the page then loses (in 1 to 6 of 10 reads here; Firefox never).
      // The worker pulls a chunk only for a read (wasm-streams' high-water mark is 0), so
      // nothing is left in its stream's queue when it errors.
      if (host.kind === 'server') expectEqual(wrong, 'bytes', got.bytes, 900);
      else if (!(got.bytes <= 900)) wrong.push(`${got.bytes} bytes came, more than the 900 before the limit`);
      if (got.wrongAt !== null) wrong.push(`byte ${got.wrongAt} is not ${got.wrongAt % 251}`);
      if (!got.ended.startsWith('error')) wrong.push(`the body ended '${got.ended}', not cut short`);
      return {
        seen: { status: got.status, ended: endOf(got.ended) },
        figures: `${got.bytes} bytes, then the client read: ${got.ended}`,
        wrong,
      };
    },
  },
  {
    name: `${label}an event stream past max_stream_bytes ends with a comment naming it`,
    run: (host) => endedByLimit(host, `${base}-capped/sse?n=100&gap=1`, 'max_stream_bytes'),
  },
  {
    name: `${label}an event stream idle past stream_idle_ms ends with a comment naming it`,
    async run(host) {
      // stream_idle_ms 300 at base-idle; the plugin waits 1000 ms between events.
      const result = await endedByLimit(host, `${base}-idle/sse?n=3&gap=1000`, 'stream_idle_ms');
      if (!(result.got.events.length < 3)) result.wrong.push(`${result.got.events.length} events came, the stream did not end early`);
      return result;
    },
  },
  {
    name: `${label}a body whose producer fails is cut short after what it produced`,
    async run(host) {
      const got = await readCutShort(host, readText, `${base}/fail?after=3`);
      const wrong = [];
      const produced = 'chunk 0\nchunk 1\nchunk 2\n';
      expectEqual(wrong, 'status', got.status, 200);
      // As above: a page may get less than was produced before the failure, never else.
      if (host.kind === 'server') expectEqual(wrong, 'text', got.text, produced);
      else if (!produced.startsWith(got.text)) wrong.push(`the page read ${JSON.stringify(got.text)}, not a start of ${JSON.stringify(produced)}`);
      if (!got.ended.startsWith('error')) wrong.push(`the body ended '${got.ended}', not cut short`);
      return {
        seen: { status: got.status, ended: endOf(got.ended) },
        figures: `${got.text.length} of ${produced.length} bytes, then the client read: ${got.ended}`,
        wrong,
      };
    },
  },
  {
    name: `${label}an event stream whose producer fails ends with a comment saying why`,
    async run(host) {
      const got = await host.probe(readEvents, { path: `${base}/sse-fail` });
      const wrong = [];
      expectEqual(wrong, 'status', got.status, 200);
      expectEqual(wrong, 'events', got.events.length, 2);
      expectEqual(wrong, 'comments', got.comments, [`: valor: plugin '${plugin}' ended its stream early: ${fails}`]);
      expectEqual(wrong, 'end', [got.ended, got.rest], ['complete', '']);
      return { seen: eventsSeen(got), figures: `${got.events.length} events, then ${JSON.stringify(got.comments)}`, wrong };
    },
  },
  {
    name: `${label}work after the answer: the answer comes first, the work ends later`,
    async run(host) {
      const [id, work] = [`${plugin}-${host.kind}-${Date.now()}`, 300];
      const got = await host.probe(answerThenWork, {
        path: `${base}/after?id=${id}&ms=${work}`, statusPath: `${base}/after-status?id=${id}`, withinMs: 5000,
      });
      const wrong = [];
      expectEqual(wrong, 'answer', got.answer, { status: 200, text: 'accepted' });
      // Not there yet once the answer came: the answer did not wait for the work.
      expectEqual(wrong, 'the status at once', got.atOnce.status, 404);
      expectEqual(wrong, 'the status at last', [got.last.status, got.last.text], [200, 'done']);
      if (!(got.last.ms >= work)) wrong.push(`the work was done ${ms(got.last.ms)} after the request, before its ${work} ms`);
      return {
        seen: { answer: got.answer, atOnce: got.atOnce.status, last: [got.last.status, got.last.text] },
        figures: `answered in ${ms(got.answerMs)}; the status ${got.atOnce.status} at ${ms(got.atOnce.ms)}, 'done' at ${ms(got.last.ms)} (the work sleeps ${work} ms)`,
        wrong,
      };
    },
  },
];
