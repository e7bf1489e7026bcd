// Starts from kept copies, revalidated in the background, in Chromium, Firefox and WebKit: a
// worker answers at once from the modules it kept, asks the network meanwhile whether they
// changed, and swaps a changed one in place (the next request gets the new version, in the same
// life of the worker); an unchanged one keeps its instance; new bytes that do not load (not
// WebAssembly, a 404) leave the old version answering, and `GET /_plugins` says why; a kept copy
// whose bytes changed in Cache Storage is dropped and fetched again; a start without the network
// answers from the kept copies.
//
// Each "life" is a new worker (the page registers sw.js under a new URL: the worker takes over at
// once), as a browser that stopped an idle worker starts one again: the same caches, nothing in
// memory.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINES, startEngine } from './browsers.mjs';
import { inPage, openApp } from './fixtures/storage-site.mjs';

const built = fileURLToPath(new URL('../target/conformance', import.meta.url));
const page = fileURLToPath(new URL('fixtures/storage/index.html', import.meta.url));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm' };
const HELLO = 'OK response from a plugin';
const sha256 = (bytes) => `sha256-${createHash('sha256').update(bytes).digest('base64')}`;

// The app: the conformance site's runtime and worker, this test's page, manifest and plugin
// files (in `dir`, changed by the test). `offline = true` is the network gone for everything but
// the worker's own scripts (a new worker is registered from the network; what it loads itself
// must come from its caches).
async function serveApp(dir) {
  const own = (path) => (path === 'index.html' ? page : path.startsWith('plugins/') || path === 'plugins.json' ? join(dir, path) : null);
  const scripts = new Set(['sw.js', 'valor/valor-worker.js']);
  const app = { offline: false };
  const server = createServer(async (request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url, 'http://x').pathname)).replace(/^\/+/, '') || 'index.html';
    if (app.offline && !scripts.has(path)) return request.socket.destroy();
    try {
      const bytes = await readFile(own(path) ?? join(built, path));
      response.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
      response.end(bytes);
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end(`not found (is ${built} built? scripts/build.sh)\n`);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  app.origin = `http://127.0.0.1:${server.address().port}`;
  app.close = () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); });
  return app;
}

const MANIFEST = {
  registry: true,
  plugins: [
    { name: 'live', prefix: '/api/live', url: 'plugins/live.wasm' },
    { name: 'counter', prefix: '/api/counter', url: 'plugins/counter.wasm', config: { name: 'Counter' } },
    { name: 'broken', prefix: '/api/broken', url: 'plugins/broken.wasm' },
    { name: 'gone', prefix: '/api/gone', url: 'plugins/gone.wasm' },
    { name: 'corrupt', prefix: '/api/corrupt', url: 'plugins/corrupt.wasm' },
  ],
};

// In the page: each path's status and text.
const get = (driver, ...paths) => inPage(driver, async (paths) => Promise.all(paths.map(async (path) => {
  const response = await fetch(path);
  return { status: response.status, text: await response.text() };
})), paths);

// The registry's listing, by name.
async function listing(driver) {
  const [{ status, text }] = await get(driver, '/_plugins');
  assert.equal(status, 200, text);
  return Object.fromEntries(JSON.parse(text).map((entry) => [entry.name, entry]));
}

// The listing once `done(listing)` holds (the background revalidations report there), within
// 30 s; fails with the last listing otherwise.
async function listed(driver, done, what) {
  let last;
  for (const started = Date.now(); Date.now() - started < 30_000;) {
    last = await listing(driver);
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`${what}: not seen in GET /_plugins within 30 s; last: ${JSON.stringify(last)}`);
}

// A new worker takes over the page (a new life: same caches, nothing in memory).
const restart = (driver, life) => inPage(driver, async (life) => {
  const changed = new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
  await navigator.serviceWorker.register(`sw.js?life=${life}`);
  await changed;
  return true;
}, life);

// In the page: the kept copies whose URL contains `part` (the module's, and its rewritten one),
// each with the digest it was kept with and its bytes' own.
const keptCopies = (driver, part) => inPage(driver, async (part) => {
  const hex = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
  const found = [];
  for (const name of (await caches.keys()).filter((name) => name.startsWith('valor-web-'))) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      if (!request.url.includes(part)) continue;
      const response = await cache.match(request);
      const digest = `sha256-${hex(await crypto.subtle.digest('SHA-256', await response.arrayBuffer()))}`;
      found.push({ cache: name, url: request.url, kept: response.headers.get('x-valor-digest'), digest });
    }
  }
  return found;
}, part);

// In the page: one byte of each kept copy whose URL contains `part` flipped, its headers (and
// the digest it was kept with) left as they were: bytes corrupted in Cache Storage.
const corrupt = (driver, part) => inPage(driver, async (part) => {
  let corrupted = 0;
  for (const name of (await caches.keys()).filter((name) => name.startsWith('valor-web-'))) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      if (!request.url.includes(part)) continue;
      const response = await cache.match(request);
      const bytes = new Uint8Array(await response.arrayBuffer());
      bytes[bytes.length >> 1] ^= 0xff;
      await cache.put(request, new Response(bytes, { headers: response.headers }));
      corrupted++;
    }
  }
  return corrupted;
}, part);

describe('starting from kept copies, revalidated in the background', { timeout: 600_000 }, () => {
  let dir;
  let files;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'valor-revalidate-'));
    files = {
      hello: await readFile(join(built, 'plugins/hello.wasm')),
      echo: await readFile(join(built, 'plugins/echo.wasm')),
      counter: await readFile(join(built, 'plugins/with_state.wasm')),
      broken: Buffer.from('not a WebAssembly module'),
    };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const name of Object.keys(ENGINES)) {
    test(`${name}: kept copies answer at once, a change is swapped in place, a broken one is said`, async () => {
      await rm(join(dir, 'plugins'), { recursive: true, force: true });
      await mkdir(join(dir, 'plugins'));
      await writeFile(join(dir, 'plugins.json'), JSON.stringify(MANIFEST));
      for (const plugin of ['live', 'broken', 'gone', 'corrupt']) await writeFile(join(dir, `plugins/${plugin}.wasm`), files.hello);
      await writeFile(join(dir, 'plugins/counter.wasm'), files.counter);
      const app = await serveApp(dir);
      const engine = await startEngine(name);
      const driver = await engine.session();
      try {
        // Life 1, a first visit: from the network, every module kept at install.
        await openApp(driver, app.origin);
        const first = await get(driver, '/api/live', '/api/counter', '/api/broken', '/api/gone', '/api/corrupt');
        assert.deepEqual(first.map((a) => a.status), [200, 200, 200, 200, 200], JSON.stringify(first));
        assert.equal(first[0].text, HELLO);
        // This life revalidates the copies it started from too: the server changes only once
        // it has its answers, else this life would find and keep the new versions itself.
        await listed(driver, (l) => Object.values(l).every((plugin) => plugin.revalidation !== 'running'), 'life 1 revalidated');

        // The server changes: live.wasm is now echo, broken.wasm is not WebAssembly, gone.wasm is gone.
        await writeFile(join(dir, 'plugins/live.wasm'), files.echo);
        await writeFile(join(dir, 'plugins/broken.wasm'), files.broken);
        await rm(join(dir, 'plugins/gone.wasm'));

        // Life 2: the kept versions answer at once, while the network is asked.
        await restart(driver, 2);
        const kept = await get(driver, '/api/live', '/api/counter', '/api/broken', '/api/gone');
        assert.deepEqual(kept.map((a) => [a.status, a.text]), [
          [200, HELLO], [200, '{"greeting":"Hello, I am Counter","visits":1}'], [200, HELLO], [200, HELLO],
        ], 'the kept versions answer first');

        // (a) live.wasm changed: swapped in place, the next request answers with the new version.
        await listed(driver, (l) => l.live.digest === sha256(files.echo), 'live swapped for echo');
        const [swapped] = await get(driver, '/api/live/after?x=1');
        assert.equal(swapped.status, 200, swapped.text);
        assert.deepEqual([JSON.parse(swapped.text).path, JSON.parse(swapped.text).query], ['/after', 'x=1'], 'echo answers');

        // (b) counter.wasm did not change: no swap, its instance (and its count) goes on.
        const unchanged = await listed(driver, (l) => l.counter.revalidation === 'unchanged', 'counter revalidated');
        assert.equal(unchanged.counter.digest, sha256(files.counter));
        assert.equal(unchanged.counter.update, undefined);
        const [counted] = await get(driver, '/api/counter');
        assert.equal(JSON.parse(counted.text).visits, 2, 'the same instance answers');

        // (d) New bytes that do not load, and a file gone: the old version answers, and the
        // listing says why.
        const refused = await listed(driver, (l) => l.broken.update && l.gone.update, 'broken and gone refused');
        assert.equal(refused.broken.revalidation, 'refused');
        assert.equal(refused.broken.update.digest, sha256(files.broken));
        assert.match(refused.broken.update.reason, /broken\.wasm is not a valid WebAssembly module/);
        assert.equal(refused.broken.digest, sha256(files.hello), 'the kept version is loaded');
        assert.equal(refused.gone.update.digest, null);
        assert.match(refused.gone.update.reason, /gone\.wasm answered 404/);
        const old = await get(driver, '/api/broken', '/api/gone');
        assert.deepEqual(old.map((a) => [a.status, a.text]), [[200, HELLO], [200, HELLO]]);

        // A kept copy whose bytes changed in Cache Storage (the module's and its rewritten
        // copy): dropped, fetched (and rewritten) again, kept again with the right digest.
        assert.equal(await corrupt(driver, '/plugins/corrupt.wasm'), 2, 'the module and its rewritten copy were kept');
        await restart(driver, 3);
        const [repaired] = await get(driver, '/api/corrupt');
        assert.deepEqual([repaired.status, repaired.text], [200, HELLO]);
        let copies;
        for (const started = Date.now(); Date.now() - started < 30_000;) {
          copies = await keptCopies(driver, '/plugins/corrupt.wasm');
          if (copies.length === 2 && copies.every((copy) => copy.kept === copy.digest)) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.equal(copies.length, 2, JSON.stringify(copies));
        for (const copy of copies) assert.equal(copy.kept, copy.digest, `${copy.url} kept again whole`);
        assert.ok(copies.some((copy) => copy.digest === sha256(files.hello)), 'the module itself');

        // (c) A start without the network: every kept copy answers, the renewed one included.
        app.offline = true;
        await restart(driver, 4);
        const offline = await get(driver, '/api/live/offline', '/api/counter', '/api/broken', '/api/corrupt');
        assert.deepEqual(offline.map((a) => a.status), [200, 200, 200, 200], JSON.stringify(offline));
        assert.equal(JSON.parse(offline[0].text).path, '/offline', 'the new version was kept');
        assert.equal(JSON.parse(offline[1].text).visits, 1);
        assert.deepEqual([offline[2].text, offline[3].text], [HELLO, HELLO]);
        const unreachable = await listed(driver, (l) => l.live.update, 'live not revalidated offline');
        assert.equal(unreachable.live.update.digest, null);
        assert.match(unreachable.live.update.reason, /fetching .*live\.wasm failed/);
      } finally {
        await driver.quit();
        engine.stop();
        await app.close();
      }
    });
  }
});
