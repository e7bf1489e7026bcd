// The benchmark page, loaded under /valor/, /floor/ and /msw/: registers that scope's service
// worker (the <script>'s data-worker; MSW's page starts its own before, in handlers.js) and
// exposes the measurements that bench/run.mjs calls.
const worker = document.currentScript.dataset.worker;

if (worker) {
  window.ready = (async () => {
    await navigator.serviceWorker.register(worker);
    if (!navigator.serviceWorker.controller) {
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    }
  })();
}

// A first visit (bench/run.mjs's firstStart, `?first=api/hello`) asks for its first answer as
// soon as the worker is ready, from here rather than from the harness: no idle time between the
// two that a worker could use to get ahead. Times in ms since the navigation started.
const first = new URLSearchParams(location.search).get('first');
if (first) {
  window.firstAnswer = window.ready.then(async () => {
    const readyMs = performance.now();
    const response = await fetch(first);
    const body = await response.text();
    return { readyMs, ms: performance.now(), status: response.status, contentType: response.headers.get('content-type'), body };
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const summary = (latencies, elapsed) => {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), perSecond: (latencies.length / elapsed) * 1000 };
};

async function timed(path, init) {
  const start = performance.now();
  const response = await fetch(path, init);
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return performance.now() - start;
}

window.bench = {
  // n requests one after another.
  async sequential(path, n) {
    const latencies = [];
    const start = performance.now();
    for (let i = 0; i < n; i++) latencies.push(await timed(path));
    return summary(latencies, performance.now() - start);
  },
  // `total` requests, `inFlight` at a time.
  async pooled(path, total, inFlight) {
    const latencies = [];
    let next = 0;
    const start = performance.now();
    const lane = async () => { while (next++ < total) latencies.push(await timed(path)); };
    await Promise.all(Array.from({ length: inFlight }, lane));
    return summary(latencies, performance.now() - start);
  },
  // Round trips of a `bytes`-long body echoed back; MiB of payload per second.
  async body(path, bytes, reps) {
    const payload = new Uint8Array(bytes).map((_, i) => (i * 2654435761) >>> 24);
    const times = [];
    for (let i = 0; i < reps; i++) {
      const start = performance.now();
      const response = await fetch(path, { method: 'POST', body: payload });
      const echoed = await response.arrayBuffer();
      times.push(performance.now() - start);
      if (echoed.byteLength !== bytes) throw new Error(`${path}: ${echoed.byteLength} bytes back`);
    }
    times.sort((a, b) => a - b);
    return { ms: times[Math.floor(times.length / 2)], mibPerSecond: bytes / 1048576 / (times[Math.floor(times.length / 2)] / 1000) };
  },
  // n requests to a handler that sleeps `ms`, `inFlight` at a time (all at once by default).
  async concurrent(base, n, ms, inFlight = n) {
    await fetch(`${base}/reset`);
    let next = 0, failed = 0;
    const start = performance.now();
    const lane = async () => {
      while (next++ < n) if ((await fetch(`${base}/sleep?ms=${ms}`)).status !== 200) failed++;
    };
    await Promise.all(Array.from({ length: Math.min(n, inFlight) }, lane));
    const elapsed = performance.now() - start;
    const stats = await (await fetch(`${base}/stats`)).json();
    if (failed) throw new Error(`${failed} sleeping requests failed`);
    return { ms: elapsed, maxInFlight: stats.max_in_flight };
  },
  // Streamed answers of `mib` MiB where byte k is k % 251 (the streaming plugin's /bytes, and
  // the floor's), n of them one after another, each read to the end: the median ms from
  // fetch() to the first chunk read, and MiB/s over all of them. The first and last byte of
  // every chunk read are checked, and the length, so that a wrong body fails the run.
  async stream(path, mib, n = 1) {
    const firstChunkMs = [];
    let bytes = 0;
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const begun = performance.now();
      const response = await fetch(`${path}${path.includes('?') ? '&' : '?'}mib=${mib}`);
      if (!response.ok) throw new Error(`${path}: ${response.status}`);
      const reader = response.body.getReader();
      let offset = 0;
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        const chunk = read.value;
        if (!chunk.length) continue;
        if (offset === 0) firstChunkMs.push(performance.now() - begun);
        const last = offset + chunk.length - 1;
        if (chunk[0] !== offset % 251 || chunk[chunk.length - 1] !== last % 251) {
          throw new Error(`${path}: wrong bytes at ${offset} to ${last}`);
        }
        offset += chunk.length;
      }
      if (offset !== mib * 1048576) throw new Error(`${path}: ${offset} bytes, not ${mib} MiB`);
      bytes += offset;
    }
    const ms = performance.now() - start;
    firstChunkMs.sort((a, b) => a - b);
    return { firstChunkMs: firstChunkMs[Math.floor(n / 2)], ms, mibPerSecond: bytes / 1048576 / (ms / 1000) };
  },
  // Asks this scope's worker to measure something inside itself (see worker-bench.js).
  inWorker(message) {
    return new Promise((resolve, reject) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = ({ data }) => (data.error ? reject(new Error(data.error)) : resolve(data));
      navigator.serviceWorker.controller.postMessage(message, [channel.port2]);
    });
  },
};
