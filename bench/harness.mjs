// What bench/run.mjs and bench/soak.mjs share: the static server for target/bench, a headless
// Chromium, the benchmark pages (Valor, the floor, MSW), and DevTools sessions on their service
// workers.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { checkHello } from './answers.mjs';

const require = createRequire(new URL('../e2e/package.json', import.meta.url));
const { chromium } = require('playwright-core');
export const root = fileURLToPath(new URL('..', import.meta.url));

export const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : process.argv[at + 1] ?? true;
};
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

process.on('unhandledRejection', (error) => {
  console.error(error);
  process.exit(1);
});

/// Serves target/bench on a free loopback port; resolves to its origin once it answers.
export async function serveBenchApps() {
  const port = await new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
  const server = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', `${root}target/bench`], { stdio: 'ignore' });
  // The server is a child process: it would keep node running.
  process.on('exit', () => server.kill());
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${origin}/valor/index.html`)).ok) break; } catch { /* starting */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return origin;
}

/// Debian's Chromium, headless, with what the machines' closed network needs.
export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
  });
}

/// Opens each scope's benchmark page and waits until its worker controls it.
export async function openPages(context, origin, scopes) {
  const pages = {};
  for (const scope of scopes) {
    pages[scope] = await context.newPage();
    await pages[scope].goto(`${origin}/${scope}/index.html`);
    await pages[scope].evaluate(() => window.ready);
  }
  return pages;
}

/// A function that stops every service worker of the origin (as the browser does to idle ones)
/// and resolves once they are stopped: the next request starts its worker cold.
export async function workerStopper(context, page) {
  const devtools = await context.newCDPSession(page);
  await devtools.send('ServiceWorker.enable');
  const versions = new Map();
  devtools.on('ServiceWorker.workerVersionUpdated', ({ versions: updated }) => {
    for (const v of updated) versions.set(v.versionId, v.runningStatus);
  });
  return async () => {
    await devtools.send('ServiceWorker.stopAllWorkers');
    for (let i = 0; i < 200 && [...versions.values()].some((s) => s !== 'stopped'); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
  };
}

/// The time, in ms, for `page` to get its first answer from `path` (hello's bytes, checked) after
/// `stopWorkers` stopped every worker. `forgetRewritten`: delete the rewritten modules Valor kept first, as on
/// a first visit (Valor then loads its module rewriter and rewrites the plugin's module).
export async function firstAnswer(page, stopWorkers, { forgetRewritten = false, path = 'api/hello' } = {}) {
  if (forgetRewritten) {
    await page.evaluate(async () => {
      const rewritten = (await caches.keys()).filter((name) => /^valor-.*:rewritten$/.test(name));
      await Promise.all(rewritten.map((name) => caches.delete(name)));
    });
  }
  await stopWorkers();
  const { ms, ...answer } = await page.evaluate(async (path) => {
    const start = performance.now();
    const response = await fetch(path);
    const body = await response.text();
    return { ms: performance.now() - start, status: response.status, contentType: response.headers.get('content-type'), body };
  }, path);
  checkHello(answer, `${page.url()}: cold start, ${path}`);
  return ms;
}

/// A DevTools session on the service worker of `page`: `send(method, params)` resolves to the
/// result. (The page's session attaches to its worker; messages to the worker are relayed
/// through Target.sendMessageToTarget.)
export async function workerSession(context, page) {
  const session = await context.newCDPSession(page);
  // Auto-attaching reaches every worker of the origin: the page's is the one under its directory.
  const scope = new URL('.', page.url()).href;
  const attached = new Promise((resolve) => session.on('Target.attachedToTarget', ({ targetInfo, sessionId }) => {
    if (targetInfo.type === 'service_worker' && targetInfo.url.startsWith(scope)) resolve(sessionId);
  }));
  let nextId = 1;
  const pending = new Map();
  session.on('Target.receivedMessageFromTarget', ({ message }) => {
    const { id, result, error } = JSON.parse(message);
    if (pending.has(id)) { pending.get(id)[error ? 1 : 0](error ?? result); pending.delete(id); }
  });
  await session.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  const sessionId = await attached;
  return (method, params = {}) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, [resolve, reject]);
    session.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) });
  });
}

/// Whether a CPU profile's call frame is in the wasm-bindgen glue (the runtime's or the
/// component host's), which scripts/build.sh puts at the head of valor-worker.js, ahead of the
/// SHA-256s of the runtime's files and then npm/valor-worker.js.
export function isGlue(frame) {
  if (!frame.url.split('?')[0].endsWith('/valor-worker.js')) return false;
  glueEnd ??= readFileSync(`${root}target/bench/valor/valor/valor-worker.js`, 'utf8').split('\n')
    .findIndex((line) => line.startsWith('self.valor_digests = '));
  return frame.lineNumber < glueEnd;
}
let glueEnd;
