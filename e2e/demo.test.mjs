// Runs the README's demo command, opens the served page in headless Chromium, and checks that
// the answers rendered on it came from the plugins, through the real service worker.
//
// Each test opens its own page in its own browser context: its own service worker, plugin
// instances and IndexedDB, so no test sees another's visits or todos.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));

// The flags this machine's closed network needs (see the project's TOOLCHAIN notes).
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

let demo;
let browser;
let url;

// Starts `scripts/demo.sh --port N` and resolves with the URL it prints once it answers.
async function startDemo() {
  const port = await freePort();
  demo = spawn('scripts/demo.sh', ['--port', String(port)], {
    cwd: root, detached: true, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const served = await new Promise((resolve, reject) => {
    let out = '';
    demo.stdout.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/Valor demo: (http:\/\/\S+)/);
      if (match) resolve(match[1]);
    });
    demo.once('exit', (code) => reject(new Error(`demo command exited with ${code}:\n${out}`)));
  });
  for (let attempt = 0; attempt < 100; attempt++) {
    try { if ((await fetch(served)).ok) return served; } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${served} did not answer within 10 s`);
}

// The first run builds everything (bootstrap included), hence the long limit.
before(async () => {
  url = await startDemo();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}, { timeout: 300_000 });

after(async () => {
  await browser?.close();
  try { process.kill(-demo.pid); } catch { /* already gone */ }
});

// Opens the demo in a fresh context, once the hello answer shows the service worker is serving.
async function openDemo() {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('hello').textContent !== '…', null, { timeout: 30_000 });
  return { page, errors };
}

// Waits until the element `id` shows `expected` (a string it must equal, or a RegExp), and says
// what it showed instead if it never does.
async function shows(page, id, expected) {
  const wanted = expected instanceof RegExp ? { source: expected.source } : { text: expected };
  try {
    await page.waitForFunction(([id, { text, source }]) => {
      const shown = document.getElementById(id).textContent;
      return text !== undefined ? shown === text : new RegExp(source).test(shown);
    }, [id, wanted], { timeout: 10_000 });
  } catch {
    const shown = await page.locator(`#${id}`).textContent();
    assert.fail(`#${id} shows ${JSON.stringify(shown)}, expected ${expected}`);
  }
}

// An answer shown as "status\nbody" (the page's format for JSON answers): [status, parsed body].
async function shownAnswer(page, id) {
  const [status, ...body] = (await page.locator(`#${id}`).textContent()).split('\n');
  const text = body.join('\n');
  try { return [Number(status), JSON.parse(text)]; } catch { return [Number(status), text]; }
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

test('the demo page shows answers from the hello and echo plugins', { timeout: 60_000 }, async () => {
  const { page, errors } = await openDemo();
  const hello = page.locator('#hello');
  assert.equal(await hello.textContent(), '200 OK response from a plugin (x-valor-plugin: hello)');

  const echo = page.locator('#echo');
  await page.waitForFunction(() => document.getElementById('echo').textContent.length > 0);
  const [status, ...json] = (await echo.textContent()).split('\n');
  assert.equal(status, '200');
  const seen = JSON.parse(json.join('\n'));
  assert.equal(seen.method, 'GET');
  assert.equal(seen.path, '/items/42');
  assert.equal(seen.query, 'sort=asc');
  assert.ok(seen.headers.some(([name, value]) => name === 'x-demo' && value === 'valor'));

  // Send a POST from the form, as a person would.
  await page.selectOption('select[name=method]', 'POST');
  await page.fill('input[name=body]', 'twelve bytes');
  await page.click('#echo-form button');
  await page.waitForFunction(() => document.getElementById('echo').textContent.includes('"POST"'));
  const posted = JSON.parse((await echo.textContent()).split('\n').slice(1).join('\n'));
  assert.equal(posted.body_size, 12);

  await page.screenshot({ path: `${root}/target/demo.png`, fullPage: true });

  // After a stop, the browser restarts the worker for the request, which must wait for the
  // runtime to boot.
  await stopServiceWorkers(page);
  const afterRestart = await page.evaluate(async () => {
    const [hello, css] = await Promise.all([fetch('/api/hello'), fetch('/style.css')]);
    return {
      hello: [hello.status, await hello.text(), hello.headers.get('x-valor-plugin')],
      css: [css.status, css.headers.get('x-valor-plugin')],
    };
  });
  assert.deepEqual(afterRestart.hello, [200, 'OK response from a plugin', 'hello']);
  assert.deepEqual(afterRestart.css, [200, null], 'a non-plugin request still reaches the server');
  assert.deepEqual(errors, []);
  await page.close();
});

test('alice and bob: one plugin, two configs, each instance counting its own visits', { timeout: 60_000 }, async () => {
  const { page, errors } = await openDemo();
  await shows(page, 'alice', /visits/);
  await shows(page, 'bob', /visits/);
  assert.deepEqual(await shownAnswer(page, 'alice'), [200, { greeting: 'Hello, I am Alice', visits: 1 }]);
  assert.deepEqual(await shownAnswer(page, 'bob'), [200, { greeting: 'Hello, I am Bob', visits: 1 }]);

  // "Call both again": each counter grows on its own.
  await page.click('#state-again');
  await shows(page, 'alice', /"visits": 2/);
  await shows(page, 'bob', /"visits": 2/);
  const third = await page.evaluate(async () => {
    const alice = await fetch('/api/alice');
    return [alice.headers.get('x-valor-plugin'), await alice.json()];
  });
  assert.deepEqual(third, ['alice', { greeting: 'Hello, I am Alice', visits: 3 }]);
  await page.click('#state-again');
  await shows(page, 'alice', /"visits": 4/);
  await shows(page, 'bob', /"visits": 3/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the proxy plugin shows the hello answer transformed, and names a denied host', { timeout: 60_000 }, async () => {
  const { page, errors } = await openDemo();
  await shows(page, 'proxy', /\n/);
  assert.deepEqual(await shownAnswer(page, 'proxy'), [200, {
    source: '/api/hello',
    status: 200,
    original: 'OK response from a plugin',
    transformed: 'OK RESPONSE FROM A PLUGIN',
    via: 'hello',
  }]);

  // Its manifest entry allows only "self": another host is refused, and the answer says how to
  // allow it.
  await page.fill('#proxy-form input[name=source]', 'https://example.com/');
  await page.click('#proxy-form button');
  await shows(page, 'proxy', /^403\n/);
  const [, message] = await shownAnswer(page, 'proxy');
  assert.match(message, /plugin 'proxy' may not reach host example\.com/);
  assert.match(message, /add "example\.com" to "allowed_hosts"/);

  // Another plugin of the app, through the form.
  await page.fill('#proxy-form input[name=source]', '/api/echo/through?proxy=1');
  await page.click('#proxy-form button');
  await shows(page, 'proxy', /^200\n/);
  const [, echoed] = await shownAnswer(page, 'proxy');
  assert.equal(echoed.via, 'echo');
  assert.equal(JSON.parse(echoed.original).path, '/through');
  assert.match(echoed.transformed, /"PATH":"\/THROUGH"/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the todo list: add, toggle, delete, still there after a reload, clear all', { timeout: 60_000 }, async () => {
  const { page, errors } = await openDemo();
  const titles = () => page.locator('#todo-list li .title').allTextContents();
  const item = (title) => page.locator('#todo-list li', { hasText: title });
  await shows(page, 'todo-count', 'Nothing to do.');

  // Add two, by typing and submitting (Enter, then the button).
  await page.fill('#todo-title', 'Buy milk');
  await page.press('#todo-title', 'Enter');
  await shows(page, 'todo-count', '1 todo, 0 done');
  await page.fill('#todo-title', 'Write the docs');
  await page.click('#todo-form button');
  await shows(page, 'todo-count', '2 todos, 0 done');
  assert.deepEqual(await titles(), ['Buy milk', 'Write the docs'], 'oldest first');
  assert.equal(await page.inputValue('#todo-title'), '', 'the form is cleared after adding');

  // An empty title is refused by the plugin (400), and the page shows its reason.
  await page.fill('#todo-title', '   ');
  await page.click('#todo-form button');
  await shows(page, 'todo-error', /400 the title must not be empty/);
  assert.deepEqual(await titles(), ['Buy milk', 'Write the docs']);

  // Toggle one.
  await item('Buy milk').locator('input[type=checkbox]').click();
  await shows(page, 'todo-count', '2 todos, 1 done');
  assert.equal(await page.locator('#todo-error').textContent(), '', 'a success clears the error');
  assert.ok(await item('Buy milk').evaluate((li) => li.classList.contains('done')));
  assert.equal(await item('Write the docs').locator('input[type=checkbox]').isChecked(), false);

  // The API says what the page shows.
  const listed = await page.evaluate(async () => (await fetch('/api/todos')).json());
  assert.deepEqual(listed.map(({ title, done }) => ({ title, done })),
    [{ title: 'Buy milk', done: true }, { title: 'Write the docs', done: false }]);
  assert.deepEqual(listed.map(({ id }) => id),
    await page.locator('#todo-list li').evaluateAll((items) => items.map((li) => li.dataset.id)));
  assert.ok(listed[0].created_ms <= listed[1].created_ms);

  // Delete the other.
  await item('Write the docs').locator('button.delete').click();
  await shows(page, 'todo-count', '1 todo, 1 done');
  assert.deepEqual(await titles(), ['Buy milk']);

  // Stop the service worker (and with it the plugin instance) and reload: the list comes back
  // from IndexedDB through the plugin.
  await stopServiceWorkers(page);
  await page.reload();
  await shows(page, 'todo-count', '1 todo, 1 done');
  assert.deepEqual(await titles(), ['Buy milk']);
  assert.equal(await item('Buy milk').locator('input[type=checkbox]').isChecked(), true);

  await page.click('#todo-clear');
  await shows(page, 'todo-count', 'Nothing to do.');
  assert.equal(await page.locator('#todo-list li').count(), 0);
  assert.deepEqual(await page.evaluate(async () => (await fetch('/api/todos')).json()), []);
  assert.deepEqual(errors, []);
  await page.close();
});
