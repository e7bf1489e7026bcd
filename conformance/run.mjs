// The conformance suite: every case of cases.json, in order, against both hosts — the browser
// runtime in a real service worker (headless Chromium) and the server host (`valor serve`)
// over real HTTP — each checked against its expectation, and the two hosts against each other
// (status, body unless the case says why it differs, and the headers the protocol defines).
//
//   node conformance/run.mjs            (after scripts/build.sh and the server's build)
//   node conformance/run.mjs TEXT       only the cases whose name contains TEXT
//
// A case whose path a browser would change (dot segments: `/api/a/../b`) says `as_written`: the
// page's fetch sends what the browser makes of it, the server gets it byte for byte.
//
// Both hosts start empty (a new browser profile, a new data file) and mount
// target/conformance/plugins.json (conformance/plugins.json, with the plugins beside it).
//
// The server runs a second time with the Rust plugins built natively (scripts/build-native.sh
// puts libhello.so, ... beside their .wasm): target/conformance/plugins-native.json mounts
// them instead of the .wasm, under `--allow-native-plugins`, and every case must answer there
// as it does on the server from the .wasm (status, body unless the case says why it differs,
// protocol headers), except where NATIVE_DIFFERS says why not.
//
// Then the cases of streams.mjs (streamed answers: read as they arrive, timed, the host's memory
// measured) and of uploads.mjs (streamed uploads and outbound streams, digests checked) run on
// the browser and the server, and on the native server when its streaming plugin is native; what
// each host saw must be alike. The browser host's static site also serves the upstream those
// outbound streams read (upstream.mjs): "self" there; the server hosts' manifest
// (target/conformance/plugins-server.json) adds its host to the entries that read it.
import { spawn } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS } from '../e2e/browsers.mjs';
// playwright-core is installed with the e2e tests' packages (scripts/bootstrap.sh).
import { chromium } from '../e2e/node_modules/playwright-core/index.mjs';
import { descendants, STREAMING, streamCases } from './streams.mjs';
import { UPLOADING, uploadCases } from './uploads.mjs';
import { serveUpstream } from './upstream.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const site = join(root, 'target/conformance');
const only = process.argv[2] ?? '';
const cases = JSON.parse(readFileSync(join(root, 'conformance/cases.json'), 'utf8')).cases
  .filter((testCase) => testCase.name.includes(only));
const streamed = [...STREAMING.flatMap(streamCases), ...UPLOADING.flatMap(uploadCases)]
  .filter((testCase) => testCase.name.includes(only));

/**
 * The cases a native plugin answers otherwise than its .wasm, by design, and what it answers
 * (PROTOCOL.md, "Native plugins").
 */
const NATIVE_DIFFERS = {
  'a native plugin is a 502 unless the server trusts native plugins': {
    why: 'started with --allow-native-plugins, the server runs it',
    expect: { status: 200 },
  },
  'after a panic the plugin answers from a fresh instance': {
    why: "a native plugin's statics outlive a panic: its fresh instance counts on",
    expect: { status: 200 },
  },
};

/**
 * target/conformance/plugins-native.json: plugins.json with every entry whose module has a
 * native build beside it (plugins/libNAME.so for plugins/NAME.wasm) mounting that instead,
 * unless it sets `fuel` or `memory_mb`, limits a native plugin does not have.
 */
function nativeManifest() {
  const suffix = { darwin: 'dylib', win32: 'dll' }[process.platform] ?? 'so';
  const prefix = process.platform === 'win32' ? '' : 'lib';
  const manifest = JSON.parse(readFileSync(join(site, 'plugins-server.json'), 'utf8'));
  let native = 0;
  for (const entry of manifest.plugins) {
    const wasm = entry.url?.match(/^plugins\/(.+)\.wasm$/);
    const library = wasm && `plugins/${prefix}${wasm[1]}.${suffix}`;
    if (library && existsSync(join(site, library)) && !('fuel' in entry) && !('memory_mb' in entry)) {
      entry.url = library;
      native += 1;
    }
  }
  if (native === 0) {
    throw new Error(`no native plugin in ${join(site, 'plugins')}: run scripts/build-native.sh (after scripts/build.sh)`);
  }
  const path = join(site, 'plugins-native.json');
  writeFileSync(path, JSON.stringify(manifest, null, 2));
  return path;
}

/**
 * target/conformance/plugins-server.json: plugins.json whose entries with `stream_requests` and
 * `"allowed_hosts": ["self"]` also allow `upstream` (host:port), which is "self" to the browser
 * host only.
 */
function serverManifest(upstream) {
  const manifest = JSON.parse(readFileSync(join(site, 'plugins.json'), 'utf8'));
  for (const entry of manifest.plugins) {
    if (entry.stream_requests && entry.allowed_hosts?.includes('self')) entry.allowed_hosts.push(upstream);
  }
  const path = join(site, 'plugins-server.json');
  writeFileSync(path, JSON.stringify(manifest, null, 2));
  return path;
}

/** Headers whose values the protocol defines: both hosts must agree on them. */
const PROTOCOL_HEADERS = ['x-valor-plugin', 'x-content-type-options', 'content-security-policy',
  'content-type', 'location', 'allow'];

/** A case's request body: text, or `{ "bytes": n }`, n bytes counting 0..250 over and over. */
function body(spec) {
  if (spec === undefined) return undefined;
  if (typeof spec === 'string') return spec;
  return Array.from({ length: spec.bytes }, (_, i) => i % 251);
}

/** What a client that parses URLs (a page's `fetch`, node's) sends for `path`. */
function parsed(path) {
  const url = new URL(path, 'http://x');
  return url.pathname + url.search;
}

/**
 * A case's path is sent as written: a page's `fetch` sends `parsed(path)`, so a path that
 * parsing changes (`/a/../b`) must say `as_written: true`, and then the server is sent it byte
 * for byte, as a client that is no browser may send it; such a case checks that both hosts
 * answer the raw target as a browser answers what it makes of it.
 */
function checkAsWritten(testCase) {
  const { path, as_written: asWritten } = testCase.request;
  const changed = parsed(path) !== path;
  if (changed && !asWritten) {
    throw new Error(`case "${testCase.name}": fetch would send ${parsed(path)} for ${path}: `
      + 'add "as_written": true to its request to send the server the path as written');
  }
  if (!changed && asWritten) {
    throw new Error(`case "${testCase.name}": ${path} is what fetch sends anyway: drop "as_written"`);
  }
}

/** One request to `origin` whose target is `path` byte for byte (fetch would parse it). */
function sendAsWritten(origin, request, payload) {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const sent = httpRequest({ hostname, port, path: request.path, method: request.method ?? 'GET',
      headers: request.headers ?? {} }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, headers: response.headers,
        body: Buffer.concat(chunks).toString() }));
      response.on('error', reject);
    });
    sent.on('error', reject);
    sent.end(payload === undefined ? undefined : typeof payload === 'string' ? payload : Buffer.from(payload));
  });
}

/** Serves target/conformance as a static site, for the browser host, and the upstream. */
async function staticSite() {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm' };
  const server = createServer(async (request, response) => {
    if (await serveUpstream(request, response)) return;
    const path = normalize(decodeURIComponent(new URL(request.url, 'http://x').pathname)).replace(/^\/+/, '');
    try {
      const bytes = await readFile(join(site, path || 'index.html'));
      response.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' });
      response.end(bytes);
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('not found\n');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

/** The browser host: a page of `site` (the static site), controlled by the Valor service worker. */
async function browserHost({ server, origin }) {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const page = await browser.newPage();
  await page.goto(`${origin}/index.html`);
  await page.evaluate(() => window.controlled);
  return {
    name: 'browser',
    kind: 'browser',
    origin,
    upstream: origin,
    // A probe of streams.mjs, run in the page.
    probe: (fn, args) => page.evaluate(fn, { base: '', ...args }),
    // Chromium's processes (the browser's, the worker's and the page's renderers, the network's).
    processes: () => descendants(process.pid, /^(chrome|chromium)/),
    async send(request, times) {
      return page.evaluate(async ({ request, times }) => {
        const one = async () => {
          const init = { method: request.method ?? 'GET', headers: request.headers ?? {} };
          if (request.body !== undefined) {
            init.body = typeof request.body === 'string' ? request.body : new Uint8Array(request.body);
          }
          const response = await fetch(request.path, init);
          return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
        };
        return Promise.all(Array.from({ length: times }, one));
      }, { request: { ...request, body: body(request.body) }, times });
    },
    async close() {
      await browser.close();
      server.close();
    },
  };
}

/**
 * The server host: `valor serve` on a free port, with a data file of its own, mounting
 * `manifest` (`options` adds arguments).
 */
async function nativeHost(upstream, name = 'server', manifest = join(site, 'plugins-server.json'), options = []) {
  const data = mkdtempSync(join(tmpdir(), 'valor-conformance-'));
  const child = spawn(join(root, 'target/server/valor'), ['serve', '-p', manifest,
    '--listen', '127.0.0.1:0', '--data', join(data, 'kv.redb'), ...options], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => { log += chunk; });
  const origin = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const listening = out.match(/listening on (http:\/\/[^\s]+)/);
      if (listening) resolve(listening[1]);
    });
    child.on('exit', (code) => reject(new Error(`valor serve exited with ${code}:\n${log}`)));
  });
  return {
    name,
    kind: 'server',
    origin,
    upstream,
    log: () => log,
    probe: (fn, args) => fn({ base: origin, ...args }),
    processes: () => [child.pid],
    async send(request, times) {
      const one = async () => {
        const payload = body(request.body);
        if (request.as_written) return sendAsWritten(origin, request, payload);
        const response = await fetch(origin + request.path, {
          method: request.method ?? 'GET',
          headers: request.headers ?? {},
          body: payload === undefined ? undefined : typeof payload === 'string' ? payload : new Uint8Array(payload),
        });
        return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
      };
      return Promise.all(Array.from({ length: times }, one));
    },
    async close() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** `{origin}` in expectations stands for the host's origin. */
function at(origin, value) {
  if (typeof value === 'string') return value.replaceAll('{origin}', origin);
  if (Array.isArray(value)) return value.map((v) => at(origin, v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, at(origin, v)]));
  return value;
}

/** Whether `actual` has every field of `expected` (objects: a subset; arrays: exactly). */
function matches(expected, actual) {
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && expected.length === actual.length && expected.every((e, i) => matches(e, actual[i]));
  }
  if (expected && typeof expected === 'object') {
    return actual !== null && typeof actual === 'object' && Object.entries(expected).every(([k, e]) => matches(e, actual[k]));
  }
  return expected === actual;
}

/** What is wrong with one response, as a list of complaints. */
function check(expect, origin, response) {
  const wrong = [];
  const want = at(origin, expect);
  if (want.status !== undefined && response.status !== want.status) wrong.push(`status ${response.status}, expected ${want.status}`);
  if (want.body !== undefined && response.body !== want.body) wrong.push(`body ${JSON.stringify(response.body)}, expected ${JSON.stringify(want.body)}`);
  if (want.body_starts_with !== undefined && !response.body.startsWith(want.body_starts_with)) wrong.push(`body ${JSON.stringify(response.body)} does not start with ${JSON.stringify(want.body_starts_with)}`);
  if (want.body_contains !== undefined && !response.body.includes(want.body_contains)) wrong.push(`body ${JSON.stringify(response.body)} does not contain ${JSON.stringify(want.body_contains)}`);
  if (want.json !== undefined) {
    let parsed;
    try { parsed = JSON.parse(response.body); } catch { wrong.push(`body is not JSON: ${JSON.stringify(response.body)}`); }
    if (parsed !== undefined && !matches(want.json, parsed)) wrong.push(`JSON ${response.body} does not match ${JSON.stringify(want.json)}`);
  }
  for (const [name, value] of Object.entries(want.headers ?? {})) {
    const got = response.headers[name] ?? null;
    if (got !== value) wrong.push(`header ${name}: ${JSON.stringify(got)}, expected ${JSON.stringify(value)}`);
  }
  return wrong;
}

/** What differs between two hosts' answers to one case (`differs`: their bodies may). */
function compare(differs, [a, b], [x, y]) {
  const wrong = [];
  if (x.status !== y.status) wrong.push(`status: ${a.name} ${x.status}, ${b.name} ${y.status}`);
  // Each host's own address (in URLs, and as a host in messages) stands for itself.
  const body = (host, response) => response.body.replaceAll(host.origin, '{origin}')
    .replaceAll(new URL(host.origin).host, '{host}');
  if (!differs && body(a, x) !== body(b, y)) {
    wrong.push(`body: ${a.name} ${JSON.stringify(x.body)}, ${b.name} ${JSON.stringify(y.body)}`);
  }
  for (const name of PROTOCOL_HEADERS) {
    if ((x.headers[name] ?? null) !== (y.headers[name] ?? null)) {
      wrong.push(`header ${name}: ${a.name} ${JSON.stringify(x.headers[name])}, ${b.name} ${JSON.stringify(y.headers[name])}`);
    }
  }
  return wrong;
}

cases.forEach(checkAsWritten);
const staticServer = await staticSite();
serverManifest(new URL(staticServer.origin).host);
const natives = nativeManifest();
const hosts = [await browserHost(staticServer), await nativeHost(staticServer.origin),
  await nativeHost(staticServer.origin, 'server (native)', natives, ['--allow-native-plugins'])];
let failures = 0;
try {
  for (const testCase of cases) {
    const times = testCase.concurrently ?? 1;
    const answers = [];
    for (const host of hosts) answers.push(await host.send(testCase.request, times));
    const wrong = [];
    const native = NATIVE_DIFFERS[testCase.name];
    hosts.forEach((host, h) => answers[h].forEach((response, i) => {
      const expect = h === 2 && native ? native.expect : testCase.expect;
      for (const complaint of check(expect, host.origin, response)) {
        wrong.push(`${host.name}${times > 1 ? ` #${i}` : ''}: ${complaint}`);
      }
    }));
    wrong.push(...compare(testCase.differs, hosts, [answers[0][0], answers[1][0]]).map((w) => `hosts differ: ${w}`));
    if (!native) {
      wrong.push(...compare(testCase.differs, hosts.slice(1), [answers[1][0], answers[2][0]])
        .map((w) => `native differs: ${w}`));
    }
    const statuses = hosts.map((host, h) => `${host.name} ${answers[h][0].status}`).join(', ');
    const note = native ? ` [native: ${native.why}]` : '';
    console.log(`${wrong.length ? 'FAIL' : 'ok  '} ${testCase.name} (${statuses})${note}`);
    for (const complaint of wrong) console.log(`       ${complaint}`);
    failures += wrong.length ? 1 : 0;
  }
  // The native server runs the stream cases only if its streaming plugin is native (as .wasm
  // it is the server's case again).
  const nativeStreaming = JSON.parse(readFileSync(natives, 'utf8')).plugins
    .some((entry) => entry.name === 'streaming' && !entry.url.endsWith('.wasm'));
  const streamingHosts = nativeStreaming ? hosts : hosts.slice(0, 2);
  for (const testCase of streamed) {
    const streaming = streamingHosts.filter((host) => !testCase.only || host.kind === testCase.only);
    const results = [];
    for (const host of streaming) {
      results.push(await testCase.run(host).catch((error) => ({ seen: null, figures: '', wrong: [`threw: ${error.stack ?? error}`] })));
    }
    const wrong = results.flatMap((result, h) => result.wrong.map((w) => `${streaming[h].name}: ${w}`));
    for (let h = 1; h < streaming.length; h++) {
      const [x, y] = [JSON.stringify(results[0].seen), JSON.stringify(results[h].seen)];
      if (x !== y) wrong.push(`hosts differ: ${streaming[0].name} saw ${x}, ${streaming[h].name} ${y}`);
    }
    console.log(`${wrong.length ? 'FAIL' : 'ok  '} ${testCase.name} (streamed, on ${streaming.map((host) => host.name).join(', ')})`);
    results.forEach((result, h) => console.log(`       ${streaming[h].name}: ${result.figures}`));
    for (const complaint of wrong) console.log(`       ${complaint}`);
    failures += wrong.length ? 1 : 0;
  }
} finally {
  for (const host of hosts) await host.close();
}
const total = cases.length + streamed.length;
console.log(`${total - failures} of ${total} cases pass on the three hosts`);
if (failures) {
  console.log(`server log:\n${hosts[1].log()}`);
  console.log(`native server log:\n${hosts[2].log()}`);
  process.exitCode = 1;
}
