// A WASI 0.2 `wasi:http/proxy` component (wasm-pack-tests/components/wasi-http, built with the
// standard `wasi` crate for wasm32-wasip2) through Valor's service worker in each engine, on the
// conformance site (its manifest mounts it at /api/wasi): it answers what it saw of the request,
// echoes a body, sleeps on a pollable (the handler blocks, and is run again once the timer
// fired), sends an outgoing request to another plugin of the app and one to the network (the
// site's upstream, allowed as "self"), and is stopped at its limits
// (fuel: 504, memory_mb: 503, a panic: 500) while the other plugins keep answering. Each engine
// prints how long the first request took (the component host loaded, the component compiled)
// and the later ones, against the Rust hello plugin's in the same page.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES, startEngine } from './browsers.mjs';
import { startConformanceSite } from './fixtures/conformance-site.mjs';
import { inPage, openApp } from './fixtures/storage-site.mjs';

// In the page: each request of `requests` in turn ({ path, method?, body? }), with the time its
// answer took (to the whole body read).
async function send(requests) {
  const out = [];
  for (const { path, method = 'GET', body, headers = {} } of requests) {
    const started = performance.now();
    const response = await fetch(path, { method, body, headers });
    const bytes = new Uint8Array(await response.arrayBuffer());
    const text = new TextDecoder().decode(bytes);
    out.push({
      status: response.status, text, ms: performance.now() - started, length: bytes.length,
      // Where the bytes first differ from the upstream's pattern (byte k is k % 251), if they do.
      wrongAt: bytes.findIndex((byte, k) => byte !== k % 251),
      plugin: response.headers.get('x-valor-plugin'), type: response.headers.get('content-type'),
    });
  }
  return out;
}

// Whether each engine has JSPI (`WebAssembly.Suspending` and `WebAssembly.promising`), as
// measured: a component's blocking calls could suspend on it instead of running the handler
// again; Valor replays everywhere (the component host's "Blocking calls"), which WebKit needs.
const JSPI = { chromium: true, firefox: true, webkit: false };

// The median of `values`.
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

describe('a WASI component in the browser', { timeout: 300_000 }, () => {
  let site;
  before(async () => { site = await startConformanceSite(); });
  after(() => site?.close());

  for (const name of Object.keys(ENGINES)) {
    test(`${name}: a wasi:http/proxy component answers through sw.js, within its limits`, async () => {
      const engine = await startEngine(name);
      const driver = await engine.session();
      try {
        await openApp(driver, site.origin);
        // Installed with a manifest that mounts components, the worker kept the component host
        // for starts without the network, beside the modules, before any request needed it.
        const kept = await inPage(driver, async (files) => {
          const found = [];
          for (const name of await caches.keys()) {
            const cache = await caches.open(name);
            for (const file of files) if (await cache.match(new URL(file, location.href).href)) found.push(file);
          }
          return found.sort();
        }, ['valor/valor_component_bg.wasm', 'plugins/component_http.wasm']);
        assert.deepEqual(kept, ['plugins/component_http.wasm', 'valor/valor_component_bg.wasm']);

        const jspi = await inPage(driver, () => typeof WebAssembly.Suspending === 'function'
          && typeof WebAssembly.promising === 'function');
        assert.equal(jspi, JSPI[name], `JSPI in ${name}`);
        const [first, ...warm] = await inPage(driver, send, Array(21).fill({ path: '/api/wasi/hello' }));
        for (const answer of [first, ...warm]) {
          assert.deepEqual([answer.status, answer.text, answer.plugin], [200, 'hello from a component\n', 'wasi']);
        }
        const hello = await inPage(driver, send, Array(20).fill({ path: '/api/hello' }));
        console.log(`${name}: JSPI ${jspi ? 'present' : 'absent'}; the component's first answer took ${first.ms.toFixed(1)} ms (its host loaded, `
          + `the component compiled); later ones ${median(warm.map((a) => a.ms)).toFixed(2)} ms (median of 20), `
          + `the Rust hello plugin's ${median(hello.map((a) => a.ms)).toFixed(2)} ms, page to page`);

        const upstream = `${site.origin}/upstream/bytes?mib=1`;
        const [request, echo, slept, fetched, network] = await inPage(driver, send, [
          { path: '/api/wasi/request?x=1', method: 'PUT', headers: { 'x-test-one': '1' } },
          { path: '/api/wasi/echo', method: 'POST', body: 'a body for the component', headers: { 'content-type': 'application/x-test' } },
          { path: '/api/wasi/sleep?ms=50' },
          { path: '/api/wasi/fetch?path=/api/hello' },
          // Not a plugin's path: the worker's network, within the entry's allowed_hosts.
          { path: `/api/wasi/fetch?url=${encodeURIComponent(upstream)}` },
        ]);
        const authority = new URL(site.origin).host;
        assert.equal(request.text,
          `method PUT\nscheme http\nauthority ${authority}\npath /request?x=1\nheader x-test-one: 1\n`);
        assert.deepEqual([echo.status, echo.text, echo.type], [200, 'a body for the component', 'application/x-test']);
        assert.equal(slept.status, 200);
        assert.ok(Number(slept.text.split(' ')[1]) >= 50, slept.text);
        assert.deepEqual([fetched.status, fetched.text], [200, 'OK response from a plugin']);
        assert.deepEqual([network.status, network.length, network.wrongAt], [200, 1 << 20, -1]);

        const [loop, grow, trap, after, other] = await inPage(driver, send, [
          { path: '/api/wasi/loop' }, { path: '/api/wasi/grow' }, { path: '/api/wasi/trap' },
          { path: '/api/wasi/hello' }, { path: '/api/hello' },
        ]);
        assert.equal(loop.status, 504, loop.text);
        assert.match(loop.text, /plugin 'wasi' used up its fuel/);
        assert.equal(grow.status, 503, grow.text);
        assert.equal(trap.status, 500, trap.text);
        assert.equal(trap.text, "plugin 'wasi' panicked: the component panicked on purpose\n");
        assert.deepEqual([after.status, other.status], [200, 200]);
        console.log(`${name}: a loop stopped by fuel in ${loop.ms.toFixed(0)} ms, memory growth in ${grow.ms.toFixed(0)} ms`);

        // A later start of the worker loads the component host again, from the glue it
        // imports and the module kept at install. Chromium's DevTools stop the worker as
        // browsers stop idle ones (the other engines' workers cannot be stopped from a test).
        // alice counts its visits from 1 in each life of the worker: the answer 1 is the new
        // life.
        if (name === 'chromium') {
          const visits = () => inPage(driver, async () => (await (await fetch('/api/alice')).json()).visits);
          assert.ok(await visits() >= 1);
          await driver.sendDevToolsCommand('ServiceWorker.enable', {});
          await driver.sendDevToolsCommand('ServiceWorker.stopAllWorkers', {});
          let life = 0;
          for (let tries = 0; life !== 1 && tries < 100; tries++) {
            life = await visits();
            if (life !== 1) await new Promise((resolve) => setTimeout(resolve, 100));
          }
          assert.equal(life, 1, 'the worker started again');
          const [restarted] = await inPage(driver, send, [{ path: '/api/wasi/hello' }]);
          assert.deepEqual([restarted.status, restarted.text], [200, 'hello from a component\n'], 'a component after a restart');
        }
      } finally {
        await driver.quit();
        engine.stop();
      }
    });
  }
});
