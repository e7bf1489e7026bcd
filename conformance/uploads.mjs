// The conformance cases of bodies a plugin reads as they arrive (PROTOCOL.md, section 18):
// streamed uploads (`stream_requests`) and outbound streams (`fetch_stream`), which a
// request→expect case of cases.json cannot say: each sends or reads a large body, checks its
// digest, and measures what the host holds meanwhile. They run against the routes /upload, /echo
// and /proxy of the plugin wasm-pack-tests/plugins/streaming and of the script
// conformance/plugins/streams.js, mounted with `stream_requests` (plugins.json, UPLOADING below);
// the proxy reads the harness's upstream (upstream.mjs), not a plugin.
//
// Cases are those of streams.mjs ({ name, run(host) } resolving to { seen, figures, wrong }),
// and may say `only: 'server'`: the 1 GiB ones, which run on the server hosts alone. A host
// here also has `upstream`, the origin serving upstream.mjs's paths.
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { postPattern, readBytes, readThenStop, upstreamEnded } from './probes.mjs';
import { SERVER_GROWTH, sampleMemory } from './streams.mjs';

const MiB = 1024 * 1024;

/** 251 × 4096 bytes of the pattern byte k = k % 251, which probes.mjs and upstream.mjs send. */
const BLOCK = Uint8Array.from({ length: 251 * 4096 }, (_, k) => k % 251);

/** The pieces of the first `size` bytes of the pattern, each a view of BLOCK. */
function* pattern(size) {
  for (let sent = 0; sent < size; sent += BLOCK.length) yield BLOCK.subarray(0, Math.min(BLOCK.length, size - sent));
}

const digests = new Map();

/** The SHA-256 of the first `size` bytes of the pattern, as hex (worked out once per size). */
export function patternSha256(size) {
  if (!digests.has(size)) {
    const hash = createHash('sha256');
    for (const piece of pattern(size)) hash.update(piece);
    digests.set(size, hash.digest('hex'));
  }
  return digests.get(size);
}

/**
 * POSTs `size` bytes of the pattern to the server at `origin` + `path`, generated as they are
 * sent at the pace the server reads them (never held whole): the answer's status and text.
 */
function postGenerated(origin, path, size) {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const sent = httpRequest({
      hostname, port, path, method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'content-length': size },
    }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, text: Buffer.concat(chunks).toString() }));
      response.on('error', reject);
    });
    sent.on('error', reject);
    (async () => {
      for (const piece of pattern(size)) {
        if (!sent.write(piece)) await new Promise((resolve) => sent.once('drain', resolve));
      }
      sent.end();
    })();
  });
}

const mib = (bytes) => `${(bytes / MiB).toFixed(1)} MiB`;

/** Adds a complaint to `wrong` unless `value` is what was expected. */
function expectEqual(wrong, what, value, expected) {
  if (JSON.stringify(value) !== JSON.stringify(expected)) {
    wrong.push(`${what}: ${JSON.stringify(value)}, expected ${JSON.stringify(expected)}`);
  }
}

/**
 * Checks /upload's answer `got` ({status, text}) to `size` bytes of the pattern, which came to
 * the plugin in chunks of at most 1 MiB, more than one: the complaints, what every host must see
 * alike, and the figures.
 */
function checkUpload(got, size, { chunks } = {}) {
  const wrong = [];
  let answer = null;
  try { answer = JSON.parse(got.text); } catch { wrong.push(`the answer is not JSON: ${JSON.stringify(got.text.slice(0, 300))}`); }
  expectEqual(wrong, 'status', got.status, 200);
  if (answer) {
    expectEqual(wrong, 'bytes', answer.bytes, size);
    expectEqual(wrong, 'sha256', answer.sha256, patternSha256(size));
    if (chunks !== undefined) expectEqual(wrong, 'chunks', answer.chunks, chunks);
    else if (!(answer.chunks > 1)) wrong.push(`${answer.chunks} chunk(s): the body was not read in pieces`);
    if (!(answer.largest <= MiB)) wrong.push(`the largest chunk was ${answer.largest} bytes, over 1 MiB`);
  }
  return {
    wrong,
    seen: { status: got.status, intact: answer?.bytes === size && answer?.sha256 === patternSha256(size), pieces: answer?.largest <= MiB },
    figures: answer ? `${mib(size)} in ${answer.chunks} chunks, the largest ${answer.largest} bytes` : got.text.slice(0, 200),
  };
}

/**
 * The plugins that read their requests as streams: the Rust one and the script, each mounted at
 * `base` with `stream_requests`, `max_body_bytes` 1 MiB and `"allowed_hosts": ["self"]` (to which
 * run.mjs adds the upstream on the server); `upload` is the size of the upload each host sends it
 * (the script hashes in JavaScript, at about 0.5 MiB/s on the server: less), `huge` whether the
 * server also gets 1 GiB.
 */
export const UPLOADING = [
  { label: '', base: '/api/upload', plugin: 'upload', upload: 48 * MiB, huge: true },
  { label: 'a script: ', base: '/api/js/upload', plugin: 'upload-js', upload: 1.5 * MiB, huge: false },
];

/** The cases, against the mount `mount` (one of UPLOADING). */
export const uploadCases = ({ label, base, plugin, upload, huge }) => [
  {
    name: `${label}an upload larger than max_body_bytes reaches the plugin in chunks, hashed as they come`,
    async run(host) {
      const got = await host.probe(postPattern, { path: `${base}/upload`, bytes: upload, contentType: 'application/octet-stream' });
      return checkUpload(got, upload);
    },
  },
  ...(huge ? [{
    name: `${label}an upload of 1 GiB, generated as it is sent, with the server's memory bounded`,
    only: 'server',
    async run(host) {
      const size = 1024 * MiB;
      const memory = sampleMemory(host);
      const started = performance.now();
      const got = await postGenerated(host.origin, `${base}/upload`, size);
      const seconds = (performance.now() - started) / 1000;
      const { before, peak } = memory.stop();
      const result = checkUpload(got, size);
      if (!(peak - before < SERVER_GROWTH)) result.wrong.push(`memory growth ${mib(peak - before)}, over ${mib(SERVER_GROWTH)}`);
      result.figures += `; ${seconds.toFixed(1)} s (${(1024 / seconds).toFixed(0)} MiB/s); resident memory ${mib(before)} before, peak ${mib(peak)}`;
      return result;
    },
  }] : []),
  {
    name: `${label}an upload echoed back streams through the plugin unchanged`,
    async run(host) {
      const size = 4 * MiB + 17;
      const type = 'application/x-valor-pattern';
      const got = await host.probe(postPattern, { path: `${base}/echo`, bytes: size, contentType: type, read: 'bytes' });
      const wrong = [];
      expectEqual(wrong, 'status', got.status, 200);
      expectEqual(wrong, 'content-type', got.contentType, type);
      expectEqual(wrong, 'end', got.ended, 'complete');
      expectEqual(wrong, 'bytes', got.bytes, size);
      if (got.wrongAt !== null) wrong.push(`byte ${got.wrongAt} is not ${got.wrongAt % 251}`);
      return {
        seen: { status: got.status, contentType: got.contentType, ended: got.ended, intact: got.bytes === size && got.wrongAt === null },
        figures: `${got.bytes} bytes back in ${got.chunks} chunks`,
        wrong,
      };
    },
  },
  {
    name: `${label}a large download proxied through fetch_stream arrives intact${huge ? ', the server\'s memory bounded' : ''}`,
    async run(host) {
      // The server's memory is bounded at 1 GiB; a browser's grows with garbage it collects
      // late (streams.mjs), so it proxies less, and its memory is only reported.
      const size = (host.kind === 'server' && huge ? 1024 : 64) * MiB;
      const id = `${plugin}-${host.name.replace(/\W+/g, '-')}-${Date.now()}`;
      const url = `${host.upstream}/upstream/bytes?mib=${size / MiB}&id=${id}`;
      const memory = sampleMemory(host);
      const got = await host.probe(readBytes, { path: `${base}/proxy?url=${encodeURIComponent(url)}` });
      const { before, peak } = memory.stop();
      const wrong = [];
      expectEqual(wrong, 'status', got.status, 200);
      expectEqual(wrong, 'content-type', got.contentType, 'application/octet-stream');
      expectEqual(wrong, 'end', got.ended, 'complete');
      expectEqual(wrong, 'bytes', got.bytes, size);
      if (got.wrongAt !== null) wrong.push(`byte ${got.wrongAt} is not ${got.wrongAt % 251}`);
      if (host.kind === 'server' && !(peak - before < SERVER_GROWTH)) wrong.push(`memory growth ${mib(peak - before)}, over ${mib(SERVER_GROWTH)}`);
      return {
        seen: { status: got.status, contentType: got.contentType, ended: got.ended, intact: got.bytes === size && got.wrongAt === null },
        figures: `${mib(size)} in ${got.chunks} chunks, ${Math.round(got.totalMs)} ms (${(size / MiB / (got.totalMs / 1000)).toFixed(0)} MiB/s); `
          + `resident memory ${mib(before)} before, peak ${mib(peak)} (${host.kind === 'server' ? 'the server process' : "all of the browser's processes"})`,
        wrong,
      };
    },
  },
  {
    name: `${label}a proxy whose client goes away stops reading the upstream`,
    async run(host) {
      // Large, so that a host that never closes the upstream is plain (it costs nothing when
      // the host does): what was sent varies with the buffers between the upstream and the
      // client (Chromium: 4 to 68 MiB here, and up to about 120 MiB while a page holds a body
      // unread: e2e/streaming.test.mjs).
      const size = 1024 * MiB;
      const id = `${plugin}-gone-${host.name.replace(/\W+/g, '-')}-${Date.now()}`;
      const url = `${host.upstream}/upstream/bytes?mib=${size / MiB}&id=${id}`;
      const report = `${host.upstream}/upstream/report?id=${id}`;
      // A page cancels its reader; a client of the server closes its connection.
      const how = host.kind === 'browser' ? 'cancel' : 'abort';
      const read = await host.probe(readThenStop, { path: `${base}/proxy?url=${encodeURIComponent(url)}`, bytes: 2 * MiB, how });
      const ended = await host.probe(upstreamEnded, { url: report, apartMs: 100, withinMs: 10_000 });
      const wrong = [];
      expectEqual(wrong, 'status', read.status, 200);
      if (read.endedFirst) wrong.push('the body ended before 2 MiB were read');
      expectEqual(wrong, "the upstream's response", ended.last?.ended, 'closed early');
      // 2 MiB read, more in flight (the host's chunk, the pipes and the sockets' buffers).
      const sent = ended.last?.sent;
      if (!(sent < size / 4)) wrong.push(`the upstream sent ${sent} bytes of ${size} before it stopped`);
      return {
        seen: { status: read.status, upstream: ended.last?.ended, little: sent < size / 4 },
        figures: `${how} after ${mib(read.read)}; the upstream sent ${mib(sent)} of ${mib(size)}, then its response was ${ended.last?.ended} `
          + `(${ended.sent.length} readings)`,
        wrong,
      };
    },
  },
  {
    name: `${label}another plugin's whole request body reaches the plugin in chunks of 1 MiB`,
    async run(host) {
      // host-api's POST /fetch forwards its request's body (read whole) with fetch: 1 MiB, then
      // the rest.
      const size = MiB + MiB / 2;
      const got = await host.probe(postPattern, { path: `/api/host/fetch?url=${encodeURIComponent(`${base}/upload`)}`, bytes: size });
      let relayed = { status: got.status, text: got.text };
      const wrong = [];
      try {
        const outer = JSON.parse(got.text);
        expectEqual(wrong, "host-api's answer", [got.status, outer.via], [200, plugin]);
        relayed = { status: outer.status, text: outer.body };
      } catch { wrong.push(`host-api answered ${got.status} ${JSON.stringify(got.text.slice(0, 300))}`); }
      const result = checkUpload(relayed, size, { chunks: 2 });
      result.wrong.unshift(...wrong);
      return result;
    },
  },
];
