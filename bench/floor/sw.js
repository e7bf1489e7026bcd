// The floor: a plain JavaScript service worker answering the same routes as the Valor plugins
// with the same bytes. What any service-worker API costs at least, in the same browser session.
importScripts('worker-bench.js');
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

const HELLO = 'OK response from a plugin';
const text = { 'content-type': 'text/plain; charset=utf-8' };
const VALOR_HEADERS = [
  ['content-type', 'text/plain; charset=utf-8'],
  ['x-valor-plugin', 'hello'],
  ['x-content-type-options', 'nosniff'],
  ['content-security-policy', 'sandbox'],
];
const HELLO_BYTES = new TextEncoder().encode(HELLO);
const VALOR_INIT = JSON.stringify({ status: 200, headers: VALOR_HEADERS });
const stats = { in_flight: 0, max_in_flight: 0 };

async function handle(request) {
  const url = new URL(request.url);
  const route = url.pathname.replace(/^\/floor\/api/, '');
  if (route === '/hello') return new Response(HELLO, { headers: text });
  // For the dispatch measure, hello with the headers Valor adds to every plugin's response
  // (README, "The manifest"); and built as Valor builds it: a copy of the body's bytes, and the
  // init parsed from JSON (reply.rs).
  if (route === '/hello-valor-headers') return new Response(HELLO, { headers: VALOR_HEADERS });
  if (route === '/hello-as-valor-builds-it') return new Response(new Uint8Array(HELLO_BYTES), JSON.parse(VALOR_INIT));
  if (route.startsWith('/echo')) {
    const body = await request.arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
    return Response.json({
      method: request.method,
      path: route.slice('/echo'.length) || '/',
      query: url.search ? url.search.slice(1) : null,
      headers: [...request.headers],
      body_size: body.byteLength,
      body_sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''),
    });
  }
  if (route === '/mirror') {
    return new Response(await request.arrayBuffer(), { headers: { 'content-type': 'application/octet-stream' } });
  }
  if (route === '/streaming/bytes') return streamedBytes(url.searchParams);
  if (route === '/sleeper/sleep') {
    stats.in_flight++;
    stats.max_in_flight = Math.max(stats.max_in_flight, stats.in_flight);
    await new Promise((r) => setTimeout(r, Number(url.searchParams.get('ms'))));
    stats.in_flight--;
    return new Response('slept', { headers: text });
  }
  if (route === '/sleeper/reset') {
    Object.assign(stats, { in_flight: 0, max_in_flight: 0 });
    return new Response(null, { status: 204 });
  }
  if (route === '/sleeper/stats') return Response.json(stats);
  return new Response('no route', { status: 404 });
}

// What the streaming plugin's `GET /bytes?mib=N&chunk=BYTES` answers: N MiB where byte k is
// k % 251, in chunks of BYTES (65,536 by default), each made when the stream is pulled (when
// the page has taken the one before: a stream's default high-water mark is one chunk).
function streamedBytes(params) {
  const total = Number(params.get('mib')) * 1048576;
  const size = Math.max(1, Number(params.get('chunk') ?? 65536));
  let next = 0;
  const body = new ReadableStream({
    pull(controller) {
      const end = Math.min(total, next + size);
      const chunk = periodic(next, end - next);
      next = end;
      if (chunk.length) controller.enqueue(chunk);
      if (next === total) controller.close();
    },
  });
  return new Response(body, { headers: { 'content-type': 'application/octet-stream' } });
}

// `length` bytes from byte `start` of that stream, copied as the plugin copies them from one
// period: the period (from start's place in it) written once, then what is written so far
// copied after itself (a whole number of periods, so the pattern goes on).
const PERIOD = Uint8Array.from({ length: 251 }, (_, k) => k);
function periodic(start, length) {
  const bytes = new Uint8Array(length);
  const k = start % 251;
  bytes.set(PERIOD.subarray(k, Math.min(251, k + length)));
  if (length > 251 - k) bytes.set(PERIOD.subarray(0, Math.min(k, length - (251 - k))), 251 - k);
  for (let written = 251; written < length; written *= 2) bytes.copyWithin(written, 0, written);
  return bytes;
}

self.addEventListener('fetch', (event) => {
  if (new URL(event.request.url).pathname.startsWith('/floor/api/')) event.respondWith(handle(event.request));
});
installBenchMessages(handle);
