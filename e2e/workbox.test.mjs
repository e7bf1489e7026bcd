// The Workbox example (examples/workbox-app/) as a user builds it, outside the checkout, from the
// packed npm package (target/npm/valor-web-*.tgz, made by scripts/build.sh) and Workbox's npm
// packages, and used in Chromium, Firefox and WebKit: one service worker in which Workbox
// precaches the pages and answers its own route and Valor answers a plugin's; both answer
// offline; and an update of the app, then an update of Valor, each leave the other's caches.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { By, until } from 'selenium-webdriver';
import { ENGINES, freePort, startEngine } from './browsers.mjs';
import { root } from './demo.mjs';

const run = (command, args, cwd, env = {}) =>
  execFileSync(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });

let work; // the temporary directory: the app, the packages
let app; // the app's copy there
let tarball; // the packed valor-web
let version;

// A copy of the packed package with another version: what an upgrade of valor-web brings.
async function repack(newVersion) {
  const dir = join(work, `repack-${newVersion}`);
  await rm(dir, { recursive: true, force: true });
  await cp(join(app, 'node_modules', 'valor-web'), join(dir, 'package'), { recursive: true });
  const edit = async (file, from, to) => {
    const text = await readFile(join(dir, 'package', file), 'utf8');
    assert.ok(text.includes(from), `${file} says ${from}`);
    await writeFile(join(dir, 'package', file), text.replace(from, to));
  };
  await edit('package.json', `"version": "${version}"`, `"version": "${newVersion}"`);
  await edit('valor/valor-worker.js', `const VERSION = '${version}';`, `const VERSION = '${newVersion}';`);
  run('npm', ['pack', '--silent', '--pack-destination', dir, join(dir, 'package')], dir);
  return join(dir, `valor-web-${newVersion}.tgz`);
}

const build = (appBuild) => run('node', ['build.mjs'], app, { APP_BUILD: appBuild });

// The app's dist/ over plain HTTP (Python's server sends .wasm as application/wasm); stop() is
// the network going away, start() again on the same port its return.
function staticServer(port) {
  let server;
  return {
    url: `http://127.0.0.1:${port}`,
    async start() {
      server = spawn('python3', ['-m', 'http.server', '--bind', '127.0.0.1', '--directory', 'dist', String(port)], {
        cwd: app, stdio: 'ignore',
      });
      for (let attempt = 0; attempt < 100; attempt++) {
        try { if ((await fetch(`${this.url}/index.html`)).ok) return; } catch { /* not yet */ }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the static server did not start');
    },
    async stop() {
      if (!server) return;
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill();
      await exited;
      server = null;
    },
  };
}

before(async () => {
  const packed = (await readdir(join(root, 'target/npm'))).filter((name) => /^valor-web-.*\.tgz$/.test(name));
  assert.equal(packed.length, 1, 'scripts/build.sh packs exactly one valor-web tarball into target/npm/');
  tarball = join(root, 'target/npm', packed[0]);
  version = packed[0].replace(/^valor-web-|\.tgz$/g, '');
  work = await mkdtemp(join(tmpdir(), 'valor-workbox-'));
  app = join(work, 'workbox-app');
  await cp(join(root, 'examples/workbox-app'), app, {
    recursive: true,
    filter: (path) => !/\/(node_modules|dist)(\/|$)/.test(path),
  });
  run('npm', ['ci', '--silent', '--no-audit', '--no-fund'], app);
}, { timeout: 300_000 });
after(async () => { if (work) await rm(work, { recursive: true, force: true }); });

// What the page shows once it has finished: 'ready', or the failure it says.
async function shown(driver) {
  const status = await driver.findElement(By.id('status'));
  await driver.wait(async () => (await status.getText()) !== 'starting', 20_000, 'the page did not finish');
  return {
    status: await status.getText(),
    build: await driver.findElement(By.id('build')).getText(),
    visits: await driver.findElement(By.id('visits')).getText(),
  };
}

// Cache names, and whether each holds `url`, as the page sees them (whatever the query: Workbox
// keys its entries with their revision, `?__WB_REVISION__=...`).
const cacheState = (driver, url) => driver.executeAsyncScript(async (url, done) => {
  const state = {};
  for (const name of await caches.keys()) {
    state[name] = Boolean(await (await caches.open(name)).match(url, { ignoreSearch: true }));
  }
  done(state);
}, url);

// Asks the browser to check for a new worker and resolves once one has taken over the page.
const updated = (driver) => driver.executeAsyncScript(async (done) => {
  const { serviceWorker } = navigator;
  const before = serviceWorker.controller;
  const changed = new Promise((resolve) => serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
  await (await serviceWorker.ready).update();
  const late = new Promise((resolve) => setTimeout(() => resolve('timed out'), 20_000));
  done((await Promise.race([changed, late])) === 'timed out' ? 'no new worker took over' : serviceWorker.controller !== before);
});

// How each engine is made to stop the app's worker, as browsers stop idle ones, so that going
// offline is also a cold start: Chromium by DevTools, Firefox by a short idle timeout. WebKitGTK
// offers no way to, so there the worker goes offline warm.
const STOPPING = {
  chromium: {
    options: {},
    async stop(driver) {
      await driver.sendDevToolsCommand('ServiceWorker.enable', {});
      await driver.sendDevToolsCommand('ServiceWorker.stopAllWorkers', {});
    },
  },
  firefox: {
    options: { 'moz:firefoxOptions': { prefs: { 'dom.serviceWorkers.idle_timeout': 1000, 'dom.serviceWorkers.idle_extended_timeout': 1000 } } },
    stop: () => new Promise((resolve) => setTimeout(resolve, 3000)),
  },
  webkit: { options: {}, stop: async () => {} },
};

for (const name of Object.keys(ENGINES)) {
  describe(name, { timeout: 300_000 }, () => {
    let engine;
    let server;
    before(async () => {
      engine = await startEngine(name);
      // The packed valor-web again (the last engine's test upgraded it), then the app's first build.
      run('npm', ['install', '--no-save', '--silent', '--no-audit', '--no-fund', tarball], app);
      build('1');
      server = staticServer(await freePort());
      await server.start();
    }, { timeout: 120_000 });
    after(async () => { await server?.stop(); engine?.stop(); });

    test('Workbox and Valor share one worker: both answer, offline too, and updates keep each other\'s caches', async () => {
      const driver = await engine.session(STOPPING[name].options);
      // Opens the app; it must show Workbox's answer for `build` and the plugin's count.
      // Resolves to when the worker that answered started.
      const opens = async (build, visits) => {
        await driver.get(`${server.url}/`);
        const { status, build: built, visits: counted } = await shown(driver);
        const [, answer, started] = built.match(/^(200 \S+ from workbox), a worker started at (\S+)$/) ?? [];
        assert.deepEqual({ status, answer, visits: counted }, {
          status: 'ready',
          answer: `200 ${build} from workbox`,
          visits: `200 {"visits":${visits}} (x-valor-plugin: visits)`,
        });
        return started;
      };
      try {
        const firstWorker = await opens(1, 1);
        const valorCache = `valor-web-${version}`;
        const plugin = `${server.url}/plugins/visits.js`;
        const initial = await cacheState(driver, plugin);
        assert.equal(initial[valorCache], true, `Valor kept the plugin's module at install: ${JSON.stringify(initial)}`);
        const precache = Object.keys(initial).find((cache) => cache.startsWith('workbox-precache-v2-'));
        assert.ok(precache, `Workbox precached the pages: ${JSON.stringify(initial)}`);

        // Offline, the worker stopped (but in WebKit): the page comes from Workbox's precache,
        // the runtime, the manifest and the plugin's module from Valor's cache.
        await server.stop();
        await STOPPING[name].stop(driver);
        const offlineWorker = await opens(1, 2);
        if (name !== 'webkit') assert.notEqual(offlineWorker, firstWorker, 'a new worker started offline');
        await server.start();

        // An update of the app: a new build of its pages and worker, the same Valor.
        build('2');
        assert.equal(await updated(driver), true);
        await opens(2, 3);
        const afterApp = await cacheState(driver, plugin);
        assert.equal(afterApp[valorCache], true, `the app's update kept Valor's cache: ${JSON.stringify(afterApp)}`);
        assert.ok(precache in afterApp, `the precache is still there: ${JSON.stringify(afterApp)}`);

        // An update of Valor alone: the app's build unchanged, another valor-web version. The
        // app has a cache whose name merely starts like Valor's, and an older Valor's is there.
        await driver.executeAsyncScript(async (done) => {
          await Promise.all(['valor-app-images', 'valor-v1'].map((name) => caches.open(name)));
          done();
        });
        const next = `${version}-next`;
        run('npm', ['install', '--no-save', '--silent', '--no-audit', '--no-fund', await repack(next)], app);
        build('2');
        assert.equal(await updated(driver), true);
        await opens(2, 4);
        const afterValor = await cacheState(driver, `${server.url}/index.html`);
        assert.equal(afterValor[precache], true, `Valor's update kept Workbox's precache: ${JSON.stringify(afterValor)}`);
        assert.ok(`valor-web-${next}` in afterValor, `the new Valor has its cache: ${JSON.stringify(afterValor)}`);
        assert.ok(!(valorCache in afterValor), `the new Valor removed the old one's cache: ${JSON.stringify(afterValor)}`);
        assert.ok(!('valor-v1' in afterValor), `and the older scheme's: ${JSON.stringify(afterValor)}`);
        assert.ok('valor-app-images' in afterValor, `the app's own cache is kept: ${JSON.stringify(afterValor)}`);
      } finally {
        await driver.quit();
      }
    });
  });
}
