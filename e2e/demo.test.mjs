// Runs the README's demo command and uses the served page in Chromium, Firefox and WebKit, as a
// person would, through each engine's WebDriver server: the answers it shows must come from the
// plugins, through the real service worker.
//
// Each test opens its own browser session with a fresh profile: its own service worker, plugin
// instances and IndexedDB, so no test sees another's visits or todos.
//
// The last group runs in Chromium only, driven by playwright-core over the DevTools protocol:
// stopping a service worker for real, as browsers do to idle ones, has no WebDriver command, and
// only Chromium's DevTools protocol offers one (ServiceWorker.stopAllWorkers).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, ENGINES, startEngine } from './browsers.mjs';
import { DemoPage, root, startDemo } from './demo.mjs';

let demo;

// The first run builds everything (bootstrap included), hence the long limit.
before(async () => { demo = await startDemo(); }, { timeout: 600_000 });
after(() => demo?.stop());

for (const name of Object.keys(ENGINES)) {
  describe(name, { timeout: 300_000 }, () => {
    let engine;
    before(async () => { engine = await startEngine(name); });
    after(() => engine?.stop());

    // Runs `use(page)` on the demo, opened in a new session that is closed afterwards.
    async function withDemo(use) {
      const driver = await engine.session();
      try {
        const page = new DemoPage(driver, demo.url);
        await page.open();
        await use(page);
      } finally {
        await driver.quit();
      }
    }

    test('the page shows answers from the hello and echo plugins, and posts the form', () => withDemo(async (page) => {
      assert.equal(await page.text('hello'), '200 OK response from a plugin (x-valor-plugin: hello)');

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

    test('the proxy plugin shows the hello answer transformed, and names a denied host', () => withDemo(async (page) => {
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
      await page.press('#todo-title', 'ENTER');
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
  });
}

describe('chromium only: after the browser stops the idle service worker', { timeout: 300_000 }, () => {
  let browser;
  before(async () => {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });
  after(() => browser?.close());

  // Opens the demo in a fresh context, once the hello answer shows the worker is serving.
  async function openDemo() {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(demo.url);
    await page.waitForFunction(() => document.getElementById('hello').textContent !== '…', null, { timeout: 30_000 });
    return { page, errors };
  }

  // Browsers stop idle service workers and wipe their globals (plugin instances included). Stops
  // them the same way; the next request restarts the worker, which must boot the runtime again.
  async function stopServiceWorkers(page) {
    const devtools = await page.context().newCDPSession(page);
    const stopped = new Promise((resolve) => devtools.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
      if (versions.some((version) => version.runningStatus === 'stopped')) resolve();
    }));
    await devtools.send('ServiceWorker.enable');
    await devtools.send('ServiceWorker.stopAllWorkers');
    await stopped;
  }

  test('the restarted worker answers plugin requests and passes the others on', async () => {
    const { page, errors } = await openDemo();
    const visits = () => page.evaluate(async () => (await (await fetch('/api/alice')).json()).visits);
    const before = await visits();
    await stopServiceWorkers(page);
    // The browser restarts the worker for these requests, which must wait for the runtime.
    const afterRestart = await page.evaluate(async () => {
      const [hello, css] = await Promise.all([fetch('/api/hello'), fetch('/style.css')]);
      return {
        hello: [hello.status, await hello.text(), hello.headers.get('x-valor-plugin')],
        css: [css.status, css.headers.get('x-valor-plugin')],
      };
    });
    assert.deepEqual(afterRestart.hello, [200, 'OK response from a plugin', 'hello']);
    assert.deepEqual(afterRestart.css, [200, null], 'a non-plugin request still reaches the server');
    assert.ok(before >= 2, `alice counted ${before} visits before the stop`);
    assert.equal(await visits(), 1, 'a new worker: a new instance of alice, counting from 1');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('todos kept in IndexedDB survive the worker', async () => {
    const { page, errors } = await openDemo();
    await page.fill('#todo-title', 'Outlive the worker');
    await page.press('#todo-title', 'Enter');
    await page.waitForFunction(() => document.getElementById('todo-count').textContent === '1 todo, 0 done');
    await stopServiceWorkers(page);
    await page.reload();
    await page.waitForFunction(() => document.getElementById('todo-count').textContent === '1 todo, 0 done');
    assert.deepEqual(await page.locator('#todo-list li .title').allTextContents(), ['Outlive the worker']);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
