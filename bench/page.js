// The benchmark page, loaded under /valor/ and /floor/: registers that scope's service worker
// (the <script>'s data-worker) and exposes the measurements that bench/run.mjs calls.
const worker = document.currentScript.dataset.worker;

window.ready = (async () => {
  await navigator.serviceWorker.register(worker);
  if (!navigator.serviceWorker.controller) {
    await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
  }
})();

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
  // Asks this scope's worker to measure something inside itself (see worker-bench.js).
  inWorker(message) {
    return new Promise((resolve, reject) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = ({ data }) => (data.error ? reject(new Error(data.error)) : resolve(data));
      navigator.serviceWorker.controller.postMessage(message, [channel.port2]);
    });
  },
};
