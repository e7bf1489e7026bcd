// The plugin registry (`/_plugins`) of the demo, used through the page and the real sw.js in
// headless Chromium: every status of its API, who may use it, registrations that outlive the
// worker (stopped for real through DevTools), a hot swap under load, and integrity.
//
// Chromium only: stopping the worker on demand needs DevTools (Firefox's idle timeout is
// exercised by demo.test.mjs); the registry's code is the same in every engine.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, freePort } from './browsers.mjs';
import { DevToolsDemoPage, root, startDemo } from './demo.mjs';

let demo;
let browser;
before(async () => {
  demo = await startDemo();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}, { timeout: 600_000 });
after(async () => {
  await browser?.close();
  demo?.stop();
});

// The demo in a fresh browser context (its own service worker and IndexedDB), opened.
async function withDemo(use, url = demo.url) {
  const context = await browser.newContext();
  const page = new DevToolsDemoPage(await context.newPage(), url);
  try {
    await page.open();
    await use(page);
  } finally {
    await context.close();
  }
}

// A request from the page: its status, text and the headers asked for.
function call(page, method, path, body, headers = []) {
  return page.run(async (method, path, body, headers) => {
    const init = { method };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      init.headers = { 'content-type': 'application/json' };
    }
    const response = await fetch(path, init);
    return {
      status: response.status,
      text: await response.text(),
      headers: Object.fromEntries(headers.map((name) => [name, response.headers.get(name)])),
    };
  }, method, path, body, headers);
}

const HELLO = 'OK response from a plugin';
const entry = (name, prefix, url = 'plugins/hello.wasm', extra = {}) => ({ name, prefix, url, ...extra });

describe('the plugin registry', { timeout: 300_000 }, () => {
  test('answers every status of its API', () => withDemo(async (page) => {
    const list = await call(page, 'GET', '/_plugins');
    assert.equal(list.status, 200, list.text);
    const hello = JSON.parse(list.text).find((e) => e.name === 'hello');
    assert.equal(hello.prefix, '/api/hello');
    assert.equal(hello.origin, 'manifest');
    assert.equal(hello.state, 'loaded', 'the page showed its answer');
    assert.match(hello.digest, /^sha256-[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual(hello.limits, { fuel: 1000000000, memory_mb: 256, max_body_bytes: 33554432, timeout_ms: 30000 });

    const created = await call(page, 'POST', '/_plugins', entry('greeter', '/api/greeter'), ['location']);
    assert.equal(created.status, 201, created.text);
    assert.equal(created.headers.location, '/_plugins/greeter');
    assert.equal(JSON.parse(created.text).origin, 'registry');
    assert.equal((await call(page, 'GET', '/api/greeter/x')).text, HELLO, 'it answers at once');
    assert.equal(JSON.parse((await call(page, 'GET', '/_plugins/greeter')).text).state, 'loaded');

    const refused = [
      [entry('greeter', '/api/other'), 409, "the name 'greeter' is taken"],
      [entry('other', '/api/greeter'), 409, "the prefix /api/greeter is taken by plugin 'greeter'"],
      [entry('other', '/api/other', 'plugins/hello.wasm', { timeout_ms: 0 }), 400, 'invalid timeout_ms 0'],
      [entry('other', '/api/other', 'plugins/hello.wasm', { fuel: null }), 400, 'always metered'],
      [entry('other', '/api/other', 'https://elsewhere.example/p.wasm'), 400, 'must come from the app\'s origin'],
      // A blob: URL has the app's origin, but names bytes a script made, not a file the app serves.
      [entry('other', '/api/other', `blob:${new URL(demo.url).origin}/3f1c0b1e`), 400, 'must be http(s) URLs'],
      [entry('other', '/api/other', 'plugins/missing.wasm'), 502, "'other' was not registered"],
      [{ name: 'other', prefix: '/api/other' }, 400, 'missing field `url`'],
      ['not json', 400, 'the body is not JSON'],
      [entry('other', '/api/other', 'plugins/hello.wasm', { config: 'x'.repeat(70_000) }), 413, 'larger than the registry accepts'],
    ];
    for (const [body, status, reason] of refused) {
      const answer = await call(page, 'POST', '/_plugins', body);
      assert.equal(answer.status, status, `${JSON.stringify(body).slice(0, 80)}: ${answer.text}`);
      assert.ok(answer.text.includes(reason), `${reason} not in ${answer.text}`);
    }

    const replaced = await call(page, 'PUT', '/_plugins/greeter', entry('greeter', '/api/greeter', 'plugins/echo.wasm'));
    assert.equal(replaced.status, 200, replaced.text);
    const created2 = await call(page, 'PUT', '/_plugins/second', { prefix: '/api/second', url: 'plugins/hello.wasm' });
    assert.equal(created2.status, 201, created2.text);
    const misnamed = await call(page, 'PUT', '/_plugins/second', entry('third', '/api/second'));
    assert.equal(misnamed.status, 400, misnamed.text);

    const patch = await call(page, 'PATCH', '/_plugins/greeter', undefined, ['allow']);
    assert.deepEqual([patch.status, patch.headers.allow], [405, 'GET, PUT, DELETE']);
    const del = await call(page, 'DELETE', '/_plugins', undefined, ['allow']);
    assert.deepEqual([del.status, del.headers.allow], [405, 'GET, POST']);

    assert.equal((await call(page, 'DELETE', '/_plugins/second')).status, 204);
    assert.equal((await call(page, 'GET', '/_plugins/second')).status, 404);
    assert.equal((await call(page, 'DELETE', '/_plugins/second')).status, 404);
    const gone = await call(page, 'GET', '/api/second', undefined, ['x-valor-plugin']);
    assert.equal(gone.headers['x-valor-plugin'], null, 'its prefix is no longer intercepted');
  }));

  test('refuses callers other than the app\'s pages', () => withDemo(async (page) => {
    // A plugin (proxy, allowed to fetch "self") asking the registry: refused by the runtime.
    const viaPlugin = JSON.parse((await call(page, 'GET', '/api/proxy?path=/_plugins')).text);
    assert.equal(viaPlugin.status, 403);
    assert.match(viaPlugin.original, /plugins may not use the plugin registry/);
    // A navigation comes from no page.
    const navigation = await page.page.goto(new URL('/_plugins', demo.url).href);
    assert.equal(navigation.status(), 403);
    assert.match(await navigation.text(), /only the app's own pages may use the plugin registry/);
    // Another site (localhost is another origin than 127.0.0.1): its requests never reach this
    // origin's worker, so the server answers, and nothing is registered.
    const otherSite = demo.url.replace('127.0.0.1', 'localhost');
    await page.page.goto(otherSite);
    const crossSite = await page.page.evaluate(async (target) => {
      const post = await fetch(`${target}/_plugins`, {
        method: 'POST', mode: 'no-cors', body: JSON.stringify({ name: 'x', prefix: '/api/x', url: 'plugins/hello.wasm' }),
      });
      return post.type;
    }, demo.url.replace(/\/$/, ''));
    assert.equal(crossSite, 'opaque');
    await page.open();
    const names = JSON.parse((await call(page, 'GET', '/_plugins')).text).map((e) => e.name);
    assert.ok(!names.includes('x'), names.join());
  }));

  test("a plugin never answers for Valor's own files, and the worker takes no manifest from another origin", () => withDemo(async (page) => {
    // Mounted over the runtime's folder and the worker's script, a plugin answers the paths
    // beside them, never the files themselves: they come from the server.
    for (const prefix of ['/valor', '/sw.js', '/plugins.json']) {
      assert.equal((await call(page, 'POST', '/_plugins', entry(`over${prefix.replace(/\W/g, '-')}`, prefix))).status, 201);
    }
    const served = ['/valor/page.js', '/valor/valor-worker.js', '/sw.js', '/plugins.json'];
    for (const path of served) {
      const answer = await call(page, 'GET', path, undefined, ['x-valor-plugin']);
      assert.equal(answer.status, 200, path);
      assert.equal(answer.headers['x-valor-plugin'], null, `${path} came from a plugin`);
    }
    assert.equal((await call(page, 'GET', '/valor/anything', undefined, ['x-valor-plugin'])).headers['x-valor-plugin'], 'over-valor');
    // A script on the page re-registering the worker with a manifest of another origin fails:
    // the worker refuses to start, and the app's worker stays.
    const other = `${demo.url.replace('127.0.0.1', 'localhost').replace(/\/$/, '')}/plugins.json`;
    const registered = await page.run(async (other) => {
      try {
        await navigator.serviceWorker.register(`/sw.js?manifest=${encodeURIComponent(other)}`);
        return 'registered';
      } catch (error) {
        return `refused: ${error.name}`;
      }
    }, other);
    assert.match(registered, /^refused: TypeError/);
    assert.equal((await call(page, 'GET', '/api/hello')).text, HELLO);
  }));

  test('registrations, replacements and removals outlive the worker, 10 stops in a row', () => withDemo(async (page) => {
    assert.equal((await call(page, 'POST', '/_plugins', entry('kept', '/api/kept'))).status, 201);
    const swapped = entry('alice', '/api/alice', 'plugins/with_state.wasm', { config: { name: 'Replaced' } });
    assert.equal((await call(page, 'PUT', '/_plugins/alice', swapped)).status, 200);
    assert.equal((await call(page, 'DELETE', '/_plugins/bob')).status, 204);
    for (let stop = 1; stop <= 10; stop++) {
      await page.stopServiceWorkers();
      const after = await page.run(async () => {
        const [kept, alice, bob] = await Promise.all(['/api/kept', '/api/alice', '/api/bob'].map((p) => fetch(p)));
        return { kept: await kept.text(), alice: (await alice.json()).greeting, bob: bob.headers.get('x-valor-plugin') };
      });
      assert.deepEqual(after, { kept: HELLO, alice: 'Hello, I am Replaced', bob: null }, `after stop ${stop}`);
    }
    const listed = JSON.parse((await call(page, 'GET', '/_plugins')).text);
    assert.deepEqual(
      listed.filter((e) => ['kept', 'alice', 'bob'].includes(e.name)).map((e) => [e.name, e.origin]),
      [['alice', 'registry'], ['kept', 'registry']],
    );
  }));

  test('a hot swap under load fails no request', () => withDemo(async (page) => {
    assert.equal((await call(page, 'POST', '/_plugins', entry('swap', '/api/swap'))).status, 201);
    const result = await page.run(async () => {
      const answers = [];
      let next = 0;
      let swappedAt = null;
      const lane = async () => {
        while (next < 500) {
          const i = next++;
          if (i === 200) {
            const body = JSON.stringify({ name: 'swap', prefix: '/api/swap', url: 'plugins/with_state.wasm', config: { name: 'New' } });
            const put = fetch('/_plugins/swap', { method: 'PUT', body }).then((r) => { swappedAt = answers.length; return r.status; });
            answers.push({ put: await put });
            continue;
          }
          const response = await fetch('/api/swap');
          answers.push({ status: response.status, text: await response.text(), at: answers.length });
        }
      };
      await Promise.all(Array.from({ length: 32 }, lane));
      return { answers, swappedAt };
    });
    const requests = result.answers.filter((a) => a.put === undefined);
    assert.equal(requests.length, 499);
    assert.deepEqual(result.answers.filter((a) => a.put !== undefined).map((a) => a.put), [200]);
    const kind = (a) => (a.text === 'OK response from a plugin' ? 'old' : JSON.parse(a.text).greeting === 'Hello, I am New' ? 'new' : 'other');
    assert.deepEqual(requests.filter((a) => a.status !== 200), [], 'no request failed');
    assert.deepEqual(requests.filter((a) => kind(a) === 'other'), []);
    // Requests started after the PUT answered go to the new module only.
    const late = requests.filter((a) => a.at > result.swappedAt + 32);
    assert.ok(late.length > 0, 'requests after the swap');
    assert.deepEqual(late.filter((a) => kind(a) !== 'new').length, 0);
    assert.ok(requests.some((a) => kind(a) === 'old'), 'requests before the swap');
  }));

  test('registering a plugin and its first answer take milliseconds', (t) => withDemo(async (page) => {
    // Its module already compiled (echo's, at the default limits, which the page used), or
    // compiled afresh (other limits make another module: fuel and memory are written into it).
    const time = (fresh) => page.run(async (fresh) => {
      const times = [];
      for (let i = 0; i < 5; i++) {
        const name = `timed${fresh ? 'fresh' : ''}${i}`;
        const entry = { name, prefix: `/api/${name}`, url: 'plugins/echo.wasm' };
        if (fresh) entry.memory_mb = 64 + i;
        const start = performance.now();
        const registered = await fetch('/_plugins', { method: 'POST', body: JSON.stringify(entry) });
        const answer = await fetch(`/api/${name}`);
        await answer.text();
        if (registered.status !== 201 || answer.status !== 200) throw new Error(`${registered.status} ${answer.status}`);
        times.push(performance.now() - start);
      }
      return times.sort((a, b) => a - b)[2];
    }, fresh);
    const [shared, fresh] = [await time(false), await time(true)];
    const figures = `register a plugin and get its first answer, median of 5: ${shared.toFixed(1)} ms with its module compiled already, ${fresh.toFixed(1)} ms compiling it`;
    t.diagnostic(figures);
    console.log(figures);
  }));

  test('integrity: a matching module is mounted, another is refused with both digests', () => withDemo(async (page) => {
    const digest = await page.run(async () => {
      const bytes = await (await fetch('/plugins/hello.wasm')).arrayBuffer();
      const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
      return `sha256-${btoa(String.fromCharCode(...hash))}`;
    });
    const good = await call(page, 'POST', '/_plugins', entry('sealed', '/api/sealed', 'plugins/hello.wasm', { integrity: digest }));
    assert.equal(good.status, 201, good.text);
    assert.equal(JSON.parse(good.text).digest, digest);
    assert.equal((await call(page, 'GET', '/api/sealed')).text, HELLO);
    const bad = await call(page, 'POST', '/_plugins', entry('tampered', '/api/tampered', 'plugins/echo.wasm', { integrity: digest }));
    assert.equal(bad.status, 502, bad.text);
    assert.ok(bad.text.includes(`expected ${digest}, got sha256-`), bad.text);
    const invalid = await call(page, 'POST', '/_plugins', entry('odd', '/api/odd', 'plugins/hello.wasm', { integrity: 'md5-x' }));
    assert.equal(invalid.status, 400, invalid.text);
  }));
});

// A copy of the built demo, served by its own server, which a test may change or stop.
async function ownServer() {
  const dir = await mkdtemp(join(tmpdir(), 'valor-www-'));
  await cp(join(root, 'target/www'), dir, { recursive: true });
  const port = await freePort();
  const server = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  // Its access log: one line per request ("GET /plugins/hello.wasm HTTP/1.1" 200).
  const log = [];
  server.stderr.setEncoding('utf8').on('data', (chunk) => log.push(...chunk.split('\n')));
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(url)).ok) break; } catch { /* starting */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  const stopped = new Promise((resolve) => server.once('exit', resolve));
  return {
    url,
    dir,
    // How many requests for `path` the server has answered.
    served: (path) => log.filter((line) => line.includes(`"GET ${path} `)).length,
    stop: async () => { server.kill(); await stopped; },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

// Milliseconds from a stopped worker to the first answer of hello, the median of `n` starts.
async function coldStart(page, n) {
  const times = [];
  for (let i = 0; i < n; i++) {
    await page.stopServiceWorkers();
    times.push(await page.run(async () => {
      const start = performance.now();
      const response = await fetch('/api/hello');
      await response.text();
      if (response.status !== 200) throw new Error(`hello answered ${response.status}`);
      return performance.now() - start;
    }));
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)];
}

describe('the manifest, the store and the network', { timeout: 300_000 }, () => {
  test('a changed plugins.json is applied once the next start revalidated it; the manifest wins on prefixes', async () => {
    const server = await ownServer();
    try {
      await withDemo(async (page) => {
        assert.equal((await call(page, 'POST', '/_plugins', entry('late', '/api/late'))).status, 201);
        const manifestPath = join(server.dir, 'plugins.json');
        const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
        manifest.plugins.push(
          { name: 'newcomer', prefix: '/api/newcomer', url: 'plugins/hello.wasm' },
          { name: 'owner', prefix: '/api/late', url: 'plugins/hello.wasm' },
        );
        await writeFile(manifestPath, JSON.stringify(manifest));
        await page.stopServiceWorkers();
        // The next start answers from the kept manifest at once, and applies the new one in
        // the background once it arrives (the listing shows it then).
        const after = await page.run(async () => {
          const started = Date.now();
          while (!(await (await fetch('/_plugins')).json()).some((e) => e.name === 'newcomer')) {
            if (Date.now() - started > 20_000) throw new Error('the new manifest was not applied within 20 s');
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          const [newcomer, late] = await Promise.all([fetch('/api/newcomer'), fetch('/api/late')]);
          const list = await (await fetch('/_plugins')).json();
          return {
            newcomer: [newcomer.status, newcomer.headers.get('x-valor-plugin')],
            late: late.headers.get('x-valor-plugin'),
            names: list.map((e) => e.name),
          };
        });
        assert.deepEqual(after.newcomer, [200, 'newcomer'], 'the new manifest is read');
        assert.equal(after.late, 'owner', 'the manifest keeps its prefix');
        assert.ok(!after.names.includes('late'), after.names.join());
      }, server.url);
    } finally {
      await server.stop();
      await server.remove();
    }
  });

  test('a module mounted twice is fetched and compiled once', async () => {
    const server = await ownServer();
    try {
      await withDemo(async (page) => {
        await page.stopServiceWorkers();
        const before = server.served('/plugins/with_state.wasm');
        const greetings = await page.run(async () => Promise.all(['/api/alice', '/api/bob'].map(
          async (path) => (await (await fetch(path)).json()).greeting,
        )));
        assert.deepEqual(greetings, ['Hello, I am Alice', 'Hello, I am Bob']);
        // Both started from the kept copy; its revalidation, a second later, is the one fetch.
        const fetched = () => server.served('/plugins/with_state.wasm') - before;
        for (const started = Date.now(); fetched() === 0 && Date.now() - started < 10_000;) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        assert.equal(fetched(), 1, 'alice and bob share one fetch');
      }, server.url);
    } finally {
      await server.stop();
      await server.remove();
    }
  });

  test('with the network cut, a restarted worker mounts and answers every plugin', async (t) => {
    const server = await ownServer();
    try {
      await withDemo(async (page) => {
        assert.equal((await call(page, 'POST', '/_plugins', entry('registered', '/api/registered', 'plugins/echo.wasm'))).status, 201);
        const online = await coldStart(page, 5);
        await server.stop(); // the network is gone: every fetch to the origin fails
        const offline = await coldStart(page, 5);
        const answers = await page.run(async () => {
          const paths = ['/api/hello', '/api/alice', '/api/todos', '/api/registered'];
          return Promise.all(paths.map(async (path) => {
            const response = await fetch(path);
            return [path, response.status, response.headers.get('x-valor-plugin')];
          }));
        });
        assert.deepEqual(answers, [
          ['/api/hello', 200, 'hello'],
          ['/api/alice', 200, 'alice'],
          ['/api/todos', 200, 'todos'], // never used before: kept at install
          ['/api/registered', 200, 'registered'],
        ]);
        const figures = `cold start to hello's first answer, median of 5: online ${online.toFixed(1)} ms, offline ${offline.toFixed(1)} ms`;
        t.diagnostic(figures);
        console.log(figures);
      }, server.url);
    } finally {
      await server.stop();
      await server.remove();
    }
  });
});
