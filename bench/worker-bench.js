// Measurements inside a service worker, shared by the Valor and floor workers: each calls
// installBenchMessages(dispatch) with its own request -> Promise<Response> function.
function installBenchMessages(dispatch) {
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const measures = {
    // Per-request cost of dispatch alone (no page round trip): request in, body read out.
    // Timed in batches: a worker's clock is coarse (100 µs without cross-origin isolation).
    async dispatch({ path, bytes = 0, n }) {
      const body = bytes ? new Uint8Array(bytes).fill(7) : undefined;
      const make = () => new Request(new URL(path, self.location), body ? { method: 'POST', body } : {});
      const answer = async () => {
        const response = await dispatch(make());
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`${path} answered ${response.status}`);
      };
      for (let i = 0; i < 50; i++) await answer(); // warm-up
      const batch = Math.max(1, Math.floor(n / 10));
      const perRequest = [];
      for (let b = 0; b < 10; b++) {
        const start = performance.now();
        for (let i = 0; i < batch; i++) await answer();
        perRequest.push((performance.now() - start) / batch);
      }
      return { medianUs: median(perRequest) * 1000 };
    },
    // The worker's start-up marks (see sw.js), in ms since the worker started, and now.
    async marks() {
      const marks = Object.fromEntries(performance.getEntriesByType('mark').map((m) => [m.name, m.startTime]));
      return { ...marks, now: performance.now() };
    },
    // instantiateStreaming of a plugin from the network (HTTP cache bypassed) vs Cache Storage.
    async instantiate({ url, n }) {
      const imports = new Proxy({}, { get: () => new Proxy({}, { get: () => () => 0 }) });
      const cache = await caches.open('valor-bench');
      await cache.put(url, await fetch(url, { cache: 'no-store' }));
      const time = async (source) => {
        const start = performance.now();
        await WebAssembly.instantiateStreaming(source(), imports);
        return performance.now() - start;
      };
      const network = [], cached = [];
      for (let i = 0; i < n; i++) {
        network.push(await time(() => fetch(url, { cache: 'no-store' })));
        cached.push(await time(() => cache.match(url)));
      }
      await caches.delete('valor-bench');
      return { networkMs: median(network), cacheMs: median(cached) };
    },
  };
  self.addEventListener('message', (event) => {
    const [port] = event.ports;
    const run = measures[event.data.kind];
    event.waitUntil(
      (run ? run(event.data) : Promise.reject(new Error(`unknown measure ${event.data.kind}`)))
        .then((result) => port.postMessage(result), (error) => port.postMessage({ error: String(error) })),
    );
  });
}
