// Runs the README's demo command and uses the served page in Chromium, Firefox and WebKit, as a
// person would, through each engine's WebDriver server: the answers it shows must come from the
// plugins, through the real service worker.
//
// Each test opens its own browser session with a fresh profile: its own service worker, plugin
// instances and IndexedDB, so no test sees another's visits or todos.
//
// The last groups stop the service worker as browsers stop idle ones, and reload the page
// bypassing it, which only Chromium (by its DevTools protocol, driven with playwright-core) and
// Firefox (by its idle timeout, and its WebDriver refresh) allow.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, ENGINES, startEngine } from './browsers.mjs';
import { DemoPage, DevToolsDemoPage, root, startDemo } from './demo.mjs';

let demo;

// The first run builds everything (bootstrap included), hence the long limit.
before(async () => { demo = await startDemo(); }, { timeout: 600_000 });
after(() => demo?.stop());

// Runs `use(page)` on the demo opened in `page` (a new browser session), closed afterwards.
async function onDemo(page, use) {
  try {
    await page.open();
    await use(page);
  } finally {
    await page.close();
  }
}

// wasm-bindgen's glue passes a Rust slice to JavaScript as a view of wasm memory
// (`getArrayU8FromWasm0(ptr, len)`). A view handed on to the browser is read later in WebKit,
// after the memory was freed and reused, so each one the glue makes must be copied at once.
// Both glues, the runtime's and the component host's, are in the worker's script.
test('the glue in the worker script the demo serves (valor-worker.js) hands the browser copies of wasm memory, never views', async () => {
  const glue = await readFile(`${root}/target/www/valor/valor-worker.js`, 'utf8');
  const copying = [
    /new Uint8Array\(getArrayU8FromWasm0\(/, // a new array with its own bytes
    /\.set\(getArrayU8FromWasm0\(/, // copied into another array (plugin memory)
    /Uint8Array\.prototype\.set\.call\(getArrayU8FromWasm0\(/, // the view is the destination
    /String\.fromCharCode\(\.\.\.\(getArrayU16FromWasm0\(/, // a new string
    /getArrayJsValueFromWasm0\([^)]*\)\.slice\(\)/, // a new array of values
  ];
  const views = glue.split('\n')
    .filter((line) => /getArray\w+FromWasm0\(/.test(line) && !/^\s*function /.test(line))
    .map((line) => line.trim());
  assert.ok(views.length > 0, 'the glue passes slices somewhere: the check would be vacuous');
  assert.deepEqual(views.filter((line) => !copying.some((copy) => copy.test(line))), [],
    'these lines of the glue hand out a view of wasm memory');
});

for (const name of Object.keys(ENGINES)) {
  describe(name, { timeout: 300_000 }, () => {
    let engine;
    before(async () => { engine = await startEngine(name); });
    after(() => engine?.stop());

    const withDemo = async (use) => onDemo(new DemoPage(await engine.session(), demo.url), use);

    test('the page shows answers from the hello and echo plugins, and posts the form', () => withDemo(async (page) => {
      assert.equal(await page.text('hello'), '200 OK response from a plugin (x-valor-plugin: hello)');
      // JavaScript plugins, run by the engine module: one answering, one calling hello.
      await page.shows('hello-js', '200 Hello from JavaScript (x-valor-plugin: hello-js)');
      await page.shows('relay-js', /"said": "OK response from a plugin"/);

      await page.shows('echo', /^200\n/);
      const [, seen] = await page.shownAnswer('echo');
      assert.equal(seen.method, 'GET');
      assert.equal(seen.path, '/items/42');
      assert.equal(seen.query, 'sort=asc');
      assert.ok(seen.headers.some(([header, value]) => header === 'x-demo' && value === 'valor'));

      // Send a POST from the form, as a person would: the plugin must see its body.
      await page.choose('method', 'POST');
      await page.fill('#echo-form input[name=body]', 'twelve bytes');
      await page.click('#echo-form button');
      await page.shows('echo', /"POST"/);
      const [status, posted] = await page.shownAnswer('echo');
      assert.equal(status, 200);
      assert.equal(posted.body_size, 12);
      assert.equal(posted.body_sha256, createHash('sha256').update('twelve bytes').digest('hex'));
      await page.screenshot(`${root}/target/demo-${name}.png`);

      // Many answers in flight at once, each read after all have arrived, byte for byte.
      const mismatches = await page.run(async () => {
        const bodies = Array.from({ length: 64 }, (_, i) => `answer ${i} `.repeat(1 + i * 37));
        const responses = await Promise.all(bodies.map((body) =>
          fetch('/api/echo/check', { method: 'PUT', body })));
        const texts = await Promise.all(responses.map((response) => response.text()));
        return texts
          .map((text, i) => [i, JSON.parse(text).body_size === bodies[i].length])
          .filter(([, same]) => !same);
      });
      assert.deepEqual(mismatches, [], 'every echo saw its own body');
    }));

    // A plugin answers navigations (an address typed, a link followed) only if its entry says
    // "navigations": true, as hello's does; echo's go to the server, which has no such page.
    test('only plugins whose entry accepts navigations answer them', () => withDemo(async (page) => {
      await page.goto(new URL('api/hello', demo.url).href);
      await page.until(async () => (await page.run(() => document.body.textContent)) === 'OK response from a plugin',
        'the hello plugin to answer the navigation');
      await page.goto(new URL('api/echo/page', demo.url).href);
      const shown = await page.run(() => document.body.textContent);
      assert.match(shown, /404/, 'the server answered, not the plugin');
      assert.doesNotMatch(shown, /"method"/);
    }));

    test('alice and bob: one plugin, two configs, each instance counting its own visits', () => withDemo(async (page) => {
      await page.shows('alice', /visits/);
      await page.shows('bob', /visits/);
      assert.deepEqual(await page.shownAnswer('alice'), [200, { greeting: 'Hello, I am Alice', visits: 1 }]);
      assert.deepEqual(await page.shownAnswer('bob'), [200, { greeting: 'Hello, I am Bob', visits: 1 }]);

      // "Call both again": each counter grows on its own.
      await page.click('#state-again');
      await page.shows('alice', /"visits": 2/);
      await page.shows('bob', /"visits": 2/);
      const third = await page.run(async () => {
        const alice = await fetch('/api/alice');
        return [alice.headers.get('x-valor-plugin'), await alice.json()];
      });
      assert.deepEqual(third, ['alice', { greeting: 'Hello, I am Alice', visits: 3 }]);
      await page.click('#state-again');
      await page.shows('alice', /"visits": 4/);
      await page.shows('bob', /"visits": 3/);
    }));

    test('the proxy plugin shows the hello answer transformed, names a denied host, follows no redirect', () => withDemo(async (page) => {
      await page.shows('proxy', /\n/);
      assert.deepEqual(await page.shownAnswer('proxy'), [200, {
        source: '/api/hello',
        status: 200,
        original: 'OK response from a plugin',
        transformed: 'OK RESPONSE FROM A PLUGIN',
        via: 'hello',
      }]);

      // Its manifest entry allows only "self": another host is refused, and the answer says
      // how to allow it.
      await page.fill('#proxy-form input[name=source]', 'https://example.com/');
      await page.click('#proxy-form button');
      await page.shows('proxy', /^403\n/);
      const [, message] = await page.shownAnswer('proxy');
      assert.match(message, /plugin 'proxy' may not reach host example\.com/);
      assert.match(message, /add "example\.com" to "allowed_hosts"/);

      // A redirect is not followed: the demo's server redirects /plugins to /plugins/, and the
      // browser hides where a redirect leads from the worker, so the plugin is told why.
      const [status, text] = await page.run(async () => {
        const answer = await fetch('/api/proxy?path=/plugins');
        return [answer.status, await answer.text()];
      });
      assert.equal(status, 502, text);
      assert.match(text, /^fetch failed: fetch to http:\/\/127\.0\.0\.1:\d+\/plugins: the host answered with a redirect, which Valor does not follow for plugins/);

      // Another plugin of the app, through the form.
      await page.fill('#proxy-form input[name=source]', '/api/echo/through?proxy=1');
      await page.click('#proxy-form button');
      await page.shows('proxy', /^200\n/);
      const [, echoed] = await page.shownAnswer('proxy');
      assert.equal(echoed.via, 'echo');
      assert.equal(JSON.parse(echoed.original).path, '/through');
      assert.match(echoed.transformed, /"PATH":"\/THROUGH"/);
    }));

    test('the todo list: add, toggle, delete, still there after a reload, clear all', () => withDemo(async (page) => {
      await page.shows('todo-count', 'Nothing to do.');

      // Add two, by typing and submitting (Enter, then the button): JSON bodies the plugin parses.
      await page.fill('#todo-title', 'Buy milk');
      await page.press('#todo-title', 'Enter');
      await page.shows('todo-count', '1 todo, 0 done');
      await page.fill('#todo-title', 'Write the docs');
      await page.click('#todo-form button');
      await page.shows('todo-count', '2 todos, 0 done');
      assert.deepEqual(await page.titles(), ['Buy milk', 'Write the docs'], 'oldest first');
      assert.equal(await page.run(() => document.getElementById('todo-title').value), '',
        'the form is cleared after adding');

      // An empty title is refused by the plugin (400), and the page shows its reason.
      await page.fill('#todo-title', '   ');
      await page.click('#todo-form button');
      await page.shows('todo-error', /400 the title must not be empty/);
      assert.deepEqual(await page.titles(), ['Buy milk', 'Write the docs']);

      // Toggle one (a PATCH with a JSON body).
      await page.clickTodo('Buy milk', 'input[type=checkbox]');
      await page.shows('todo-count', '2 todos, 1 done');
      assert.equal(await page.text('todo-error'), '', 'a success clears the error');
      assert.deepEqual(await page.todoState('Buy milk'), { done: true, checked: true });
      assert.deepEqual(await page.todoState('Write the docs'), { done: false, checked: false });

      // The API says what the page shows.
      const listed = await page.run(async () => (await fetch('/api/todos')).json());
      assert.deepEqual(listed.map(({ title, done }) => ({ title, done })),
        [{ title: 'Buy milk', done: true }, { title: 'Write the docs', done: false }]);
      assert.deepEqual(listed.map(({ id }) => id),
        await page.run(() => [...document.querySelectorAll('#todo-list li')].map((li) => li.dataset.id)));

      // Delete the other.
      await page.clickTodo('Write the docs', 'button.delete');
      await page.shows('todo-count', '1 todo, 1 done');
      assert.deepEqual(await page.titles(), ['Buy milk']);

      // Reload: the list comes back from IndexedDB through the plugin. (Firefox's WebDriver
      // refresh is a hard reload, which bypasses the worker: the page then asks sw.js to claim it.)
      await page.reload();
      await page.shows('todo-count', '1 todo, 1 done');
      assert.deepEqual(await page.titles(), ['Buy milk']);
      assert.deepEqual(await page.todoState('Buy milk'), { done: true, checked: true });

      await page.click('#todo-clear');
      await page.shows('todo-count', 'Nothing to do.');
      assert.deepEqual(await page.titles(), []);
      assert.deepEqual(await page.run(async () => (await fetch('/api/todos')).json()), []);
    }));

    test('the plugins section registers, replaces and removes a plugin through /_plugins', () => withDemo(async (page) => {
      await page.shows('plugin-list', /hello at \/api\/hello, manifest, loaded/);
      // The form's defaults: greeter at /api/greeter, plugins/hello.wasm.
      await page.click('#plugin-form button');
      await page.shows('plugin-result', '201 registered greeter');
      await page.shows('plugin-list', /greeter at \/api\/greeter, registry, loaded/);
      const greeter = () => page.run(async () => {
        const response = await fetch('/api/greeter/x');
        return [response.headers.get('x-valor-plugin'), await response.text()];
      });
      assert.deepEqual(await greeter(), ['greeter', 'OK response from a plugin']);
      // The same name with another module: a replacement.
      await page.fill('#plugin-url', 'plugins/echo.wasm');
      await page.click('#plugin-form button');
      await page.shows('plugin-result', '200 replaced greeter');
      const [via, echoed] = await greeter();
      assert.equal(via, 'greeter');
      assert.equal(JSON.parse(echoed).path, '/x', 'echo answers now');
      await page.click('#plugin-list button[data-name="greeter"]');
      await page.shows('plugin-result', '204 removed greeter');
      assert.doesNotMatch(await page.text('plugin-list'), /greeter/);
      assert.equal((await greeter())[0], null, 'its prefix goes to the network again');
    }));
  });
}

// The worker's life cycle, as far as an engine lets a test drive it. Browsers stop idle service
// workers and wipe their globals, plugin instances included; the next request starts the worker
// again, which must boot the runtime before it answers. WebDriver has no command to stop a
// worker, nor to reload a page bypassing it as Shift+Reload does, so each engine that can is
// made to do these its own way. WebKit (WebKitGTK's MiniBrowser) offers neither, and is left out.
const LIFE_CYCLES = {
  // DevTools' ServiceWorker.stopAllWorkers and Page.reload ignoring the cache, through
  // playwright-core.
  chromium: async () => {
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    return {
      page: async () => new DevToolsDemoPage(await browser.newPage(), demo.url),
      stopWorker: (page) => page.stopServiceWorkers(),
      hardReload: (page) => page.hardReload(),
      stop: () => browser.close(),
    };
  },
  // Firefox's own idle timeout, shortened from 30 s to 1 s: the browser itself stops the worker.
  // Its WebDriver refresh is a hard reload.
  firefox: async () => {
    const engine = await startEngine('firefox');
    const prefs = { 'dom.serviceWorkers.idle_timeout': 1000, 'dom.serviceWorkers.idle_extended_timeout': 1000 };
    return {
      page: async () => new DemoPage(await engine.session({ 'moz:firefoxOptions': { prefs } }), demo.url),
      stopWorker: () => new Promise((resolve) => setTimeout(resolve, 3000)),
      hardReload: (page) => page.refresh(),
      stop: () => engine.stop(),
    };
  },
};

for (const [name, start] of Object.entries(LIFE_CYCLES)) {
  describe(`${name}: the service worker's life cycle`, { timeout: 300_000 }, () => {
    let cycle;
    before(async () => { cycle = await start(); });
    after(() => cycle?.stop());
    const withDemo = async (use) => onDemo(await cycle.page(), use);

    test('the restarted worker answers plugin requests and passes the others on', () => withDemo(async (page) => {
      const visits = () => page.run(async () => (await (await fetch('/api/alice')).json()).visits);
      assert.equal(await visits(), 2, 'the page showed alice once');
      await cycle.stopWorker(page);
      // The browser starts the worker for these requests, which must wait for the runtime.
      const afterRestart = await page.run(async () => {
        const [hello, css] = await Promise.all([fetch('/api/hello'), fetch('/style.css')]);
        return {
          hello: [hello.status, await hello.text(), hello.headers.get('x-valor-plugin')],
          css: [css.status, css.headers.get('x-valor-plugin')],
        };
      });
      assert.deepEqual(afterRestart.hello, [200, 'OK response from a plugin', 'hello']);
      assert.deepEqual(afterRestart.css, [200, null], 'a non-plugin request still reaches the server');
      assert.equal(await visits(), 1, 'a new worker: a new instance of alice, counting from 1');
    }));

    test('a page loaded bypassing the worker (Shift+Reload) has it claim the page', () => withDemo(async (page) => {
      await cycle.hardReload(page);
      await page.served();
      assert.equal(await page.run(() => Boolean(navigator.serviceWorker.controller)), true);
      assert.deepEqual(await page.run(async () => (await fetch('/api/hello')).headers.get('x-valor-plugin')), 'hello');
    }));

    test('todos kept in IndexedDB survive the worker', () => withDemo(async (page) => {
      await page.fill('#todo-title', 'Outlive the worker');
      await page.press('#todo-title', 'Enter');
      await page.shows('todo-count', '1 todo, 0 done');
      await cycle.stopWorker(page);
      await page.reload();
      await page.shows('todo-count', '1 todo, 0 done');
      assert.deepEqual(await page.titles(), ['Outlive the worker']);
    }));
  });
}

// A trap inside the runtime itself (a bug in Valor) must not leave pages waiting for ever. No
// input makes today's runtime trap, so the trap is made in the worker through DevTools: an
// uncaught WebAssembly.RuntimeError thrown while answers are under way, as wasm-bindgen's task
// queue would let one escape. Chromium only: the others offer no way into the worker.
describe('chromium: a runtime that traps', { timeout: 300_000 }, () => {
  let browser;
  before(async () => { browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS }); });
  after(() => browser?.close());

  test('answers under way and later plugin requests answer 500; other requests still pass', async () => onDemo(
    new DevToolsDemoPage(await browser.newPage(), demo.url),
    async (page) => {
      await page.inWorker(async () => {
        const runtime = await valor.ready; // sw.js's mounted Valor
        const answer = runtime.answer.bind(runtime);
        // Plugin answers from now on never settle, and the runtime traps 100 ms from now.
        runtime.answer = (request) => (answer(request) ? new Promise(() => {}) : undefined);
        setTimeout(() => { throw new WebAssembly.RuntimeError('unreachable executed (made by the test)'); }, 100);
      });
      const answers = await page.run(async () => {
        const read = async (path) => { const r = await fetch(path); return [r.status, await r.text()]; };
        const underWay = await read('/api/hello');
        return { underWay, later: await read('/api/echo'), css: (await read('/style.css'))[0] };
      });
      const failed = 'the Valor runtime failed (a bug in Valor, not in a plugin): RuntimeError: unreachable executed (made by the test)\n';
      assert.deepEqual(answers.underWay, [500, failed]);
      assert.deepEqual(answers.later, [500, failed]);
      assert.equal(answers.css, 200, 'requests for no plugin still reach the server');
      await page.stopServiceWorkers();
      assert.deepEqual(await page.run(async () => (await fetch('/api/hello')).status), 200, 'a new worker, a new runtime');
    },
  ));

  // Most answers are made at once, inside `runtime.answer`: a trap there throws in the fetch
  // listener itself.
  test('a trap while answering at once answers 500; other requests still pass', async () => onDemo(
    new DevToolsDemoPage(await browser.newPage(), demo.url),
    async (page) => {
      await page.inWorker(async () => {
        const runtime = await valor.ready; // sw.js's mounted Valor
        const answer = runtime.answer.bind(runtime);
        runtime.answer = (request, clientId) => {
          if (!answer(request, clientId)) return undefined;
          throw new WebAssembly.RuntimeError('unreachable executed (made by the test)');
        };
      });
      const answers = await page.run(async () => {
        const read = async (path) => { const r = await fetch(path); return [r.status, await r.text()]; };
        return { hello: await read('/api/hello'), css: (await read('/style.css'))[0] };
      });
      const failed = 'the Valor runtime failed (a bug in Valor, not in a plugin): RuntimeError: unreachable executed (made by the test)\n';
      assert.deepEqual(answers.hello, [500, failed]);
      assert.equal(answers.css, 200, 'requests for no plugin still reach the server');
      await page.stopServiceWorkers();
      assert.deepEqual(await page.run(async () => (await fetch('/api/hello')).status), 200, 'a new worker, a new runtime');
    },
  ));
});
