// Runs the README's demo command, opens the served page in headless Chromium, and checks that
// the answers rendered on it came from the plugins, through the real service worker.
import { test, after } from 'node:test';
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

// Starts `scripts/demo.sh --port N` and resolves with the URL it prints once it answers.
async function startDemo() {
  const port = await freePort();
  const demo = spawn('scripts/demo.sh', ['--port', String(port)], {
    cwd: root, detached: true, stdio: ['ignore', 'pipe', 'inherit'],
  });
  after(() => { try { process.kill(-demo.pid); } catch { /* already gone */ } });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    demo.stdout.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/Valor demo: (http:\/\/\S+)/);
      if (match) resolve(match[1]);
    });
    demo.once('exit', (code) => reject(new Error(`demo command exited with ${code}:\n${out}`)));
  });
  for (let attempt = 0; attempt < 100; attempt++) {
    try { if ((await fetch(url)).ok) return url; } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within 10 s`);
}

test('the demo page shows answers from the hello and echo plugins', { timeout: 300_000 }, async () => {
  const url = await startDemo();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  after(() => browser.close());
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));

  await page.goto(url);
  const hello = page.locator('#hello');
  await page.waitForFunction(() => document.getElementById('hello').textContent !== '…', null, { timeout: 30_000 });
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
  await page.click('button');
  await page.waitForFunction(() => document.getElementById('echo').textContent.includes('"POST"'));
  const posted = JSON.parse((await echo.textContent()).split('\n').slice(1).join('\n'));
  assert.equal(posted.body_size, 12);

  await page.screenshot({ path: `${root}/target/demo.png`, fullPage: true });

  // Browsers stop idle service workers and wipe their globals. Stop it the same way, then fetch:
  // the browser restarts the worker for the request, which must wait for the runtime to boot.
  const devtools = await page.context().newCDPSession(page);
  const stopped = new Promise((resolve) => devtools.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
    if (versions.some((version) => version.runningStatus === 'stopped')) resolve();
  }));
  await devtools.send('ServiceWorker.enable');
  await devtools.send('ServiceWorker.stopAllWorkers');
  await stopped;
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
});
