// Valor's benchmarks, side by side with the floor (a plain JS service worker answering the same
// routes with the same bytes) and, where it answers the same request, MSW (bench/msw: the
// mocking library a web developer would pick instead), in one headless Chromium session so
// machine noise cancels. Every figure is a median over runs; the scopes' runs alternate. Every
// app's answers are checked first (bench/answers.mjs), and each cold start's and first visit's.
//
//   node bench/run.mjs [--runs 5] [--json target/bench/results.json] [--profile] [--only a,b]
//                      [--stream-mib 256]
// --only runs the named measures alone (the keys of the JSON: dispatchHello, coldStart,
// firstStart, ...). --stream-mib: the size of streamThroughput's stream (16 with --runs 1).
// Needs the apps built by scripts/build.sh (target/bench); scripts/bench.sh does both.
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { checkAnswers, checkHello } from './answers.mjs';
import {
  firstAnswer, isGlue, launchChromium, median, openPages, option, root, serveBenchApps, workerSession,
  workerStopper,
} from './harness.mjs';

const RUNS = Number(option('runs', 5));
const JSON_OUT = option('json', `${root}target/bench/results.json`);
const PROFILE = process.argv.includes('--profile');
const ONLY = option('only', null)?.split(',');
const STREAM_MIB = Number(option('stream-mib', RUNS > 1 ? 256 : 16));
const wanted = (key) => !ONLY || ONLY.includes(key);

const origin = await serveBenchApps();
const browser = await launchChromium();
const context = await browser.newContext();
// The measures MSW takes part in: hello's warm throughput, cold start, first and return visit.
const WITH_MSW = ['sequential', 'pooled64', 'coldStart', 'firstStart', 'returnVisit'];
const THREE = ['valor', 'floor', 'msw'];
const pages = await openPages(context, origin, WITH_MSW.some(wanted) ? THREE : ['valor', 'floor']);
const stopWorkers = await workerStopper(context, pages.valor);
for (const scope of Object.keys(pages)) await checkAnswers(pages[scope], scope);

// Runs `measure(scope)` RUNS times per scope, alternating which goes first; medians per field.
async function compare(label, measure, scopes = ['valor', 'floor']) {
  const samples = Object.fromEntries(scopes.map((s) => [s, []]));
  for (let run = 0; run < RUNS; run++) {
    const order = run % 2 ? [...scopes].reverse() : scopes;
    for (const scope of order) samples[scope].push(await measure(scope));
  }
  const result = {};
  for (const scope of scopes) {
    result[scope] = {};
    for (const field of Object.keys(samples[scope][0])) result[scope][field] = median(samples[scope].map((s) => s[field]));
  }
  process.stderr.write(`  measured: ${label}\n`);
  return result;
}
const inPage = (scope, fn, arg) => pages[scope].evaluate(fn, arg);
// Where each variant of hello is answered, for the JavaScript plugins' measures: hello.js (the
// Worker message style) and hello-fetch.mjs (a module exporting `fetch`), in bench/plugins,
// answer the bytes hello.wasm and the floor answer.
const HELLO = {
  component: ['valor', 'api/component/hello'],
  js: ['valor', 'api/js/hello'], jsFetch: ['valor', 'api/js/fetch-hello'], rust: ['valor', 'api/hello'], floor: ['floor', 'api/hello'],
};

// Warm-up: load and instantiate every plugin once (and the JavaScript engine, for Valor).
const ROUTES = ['api/hello', 'api/echo', 'api/sleeper/stats', 'api/streaming/bytes?mib=1'];
const WARM_UP = {
  valor: [...ROUTES, HELLO.js[1], HELLO.jsFetch[1], HELLO.component[1]], floor: ROUTES, msw: ['api/hello', 'api/echo'],
};
for (const scope of Object.keys(pages)) {
  await inPage(scope, async ({ paths, mirror }) => {
    for (const path of paths) await (await fetch(path)).arrayBuffer();
    if (mirror) await (await fetch('api/mirror', { method: 'POST', body: 'x' })).arrayBuffer();
  }, { paths: WARM_UP[scope], mirror: scope !== 'msw' });
}

const results = { date: new Date().toISOString(), runs: RUNS, chromium: browser.version() };
if (wanted('sequential')) results.sequential = await compare('sequential hello', (s) => inPage(s, () => bench.sequential('api/hello', 300)), THREE);
if (wanted('pooled64')) results.pooled64 = await compare('64 in flight hello', (s) => inPage(s, () => bench.pooled('api/hello', 2000, 64)), THREE);
if (wanted('dispatchHello')) results.dispatchHello = await compare('in-worker dispatch hello', async (s) => {
  const hello = await inPage(s, () => bench.inWorker({ kind: 'dispatch', path: 'api/hello', n: 1000 }));
  if (s === 'valor') return hello;
  // The floor again, answering with the four headers Valor adds to every plugin's response,
  // then building that response as Valor does: what the browser's part costs.
  const headers = await inPage(s, () => bench.inWorker({ kind: 'dispatch', path: 'api/hello-valor-headers', n: 1000 }));
  const built = await inPage(s, () => bench.inWorker({ kind: 'dispatch', path: 'api/hello-as-valor-builds-it', n: 1000 }));
  return { ...hello, withValorHeadersUs: headers.medianUs, builtAsValorUs: built.medianUs };
});
if (wanted('dispatchEcho1k')) results.dispatchEcho1k = await compare('in-worker dispatch echo 1 KiB', (s) =>
  inPage(s, () => bench.inWorker({ kind: 'dispatch', path: 'api/echo', bytes: 1024, n: 500 })));
// The first answer of a worker the browser has just started. `rewrite`: without the rewritten
// modules an earlier start kept (a new version of the plugin, or a first visit's start), so
// that Valor loads its module rewriter and rewrites hello.wasm. MSW's page stays open (MSW
// answers from the page): its worker, started, hands the request to the page.
const coldStart = async (s, { rewrite = false } = {}) => {
  const ms = await firstAnswer(pages[s], stopWorkers, { forgetRewritten: rewrite && s === 'valor' });
  if (s !== 'valor') return { ms };
  // Where Valor's cold start goes, from the marks sw.js sets (ms since the worker started).
  const marks = await inPage(s, () => bench.inWorker({ kind: 'marks' }));
  return {
    ms,
    scriptsImported: marks['valor:scripts-imported'],
    runtimeKeptChecked: marks['valor:runtime-kept-checked'],
    runtimeLoaded: marks['valor:runtime-loaded'],
    manifestRead: marks['valor:manifest:read'],
    pluginsMounted: marks['valor:plugins-mounted'],
    helloLoad: marks['valor:hello:load'],
    helloRead: marks['valor:hello.wasm:read'],
    helloChecked: marks['valor:hello.wasm:checked'],
    helloMetered: marks['valor:hello.wasm:metered'],
    helloCompiled: marks['valor:hello:compiled'],
    helloInstantiated: marks['valor:hello:instantiated'],
    ...(rewrite && {
      rewriterCompiled: marks['valor:valor_meter.wasm:compiled'],
      rewriterWarmedUp: marks['valor:valor_meter.wasm:warmed up'],
    }),
  };
};
// A first visit: a fresh browser context (no worker, nothing in Cache Storage or the HTTP
// cache), the page loaded, its worker registered, installed and in control (MSW: its library
// loaded and `worker.start()` resolved), then the first answer, asked by the page itself (page.js,
// `?first=`). `ms` and `readyMs` count from the navigation's start. Valor's app for it
// (bench/valor-first) mounts hello alone: its install keeps every plugin of its manifest.
const FIRST_VISIT_APP = { valor: 'valor-first', floor: 'floor', msw: 'msw' };
async function firstVisit(scope) {
  const fresh = await browser.newContext();
  try {
    const page = await fresh.newPage();
    const times = await visit(page, FIRST_VISIT_APP[scope], 'first visit');
    return scope === 'valor' ? { ...times, ...await firstVisitMarks(fresh, page) } : times;
  } finally {
    await fresh.close();
  }
}
// Where a first visit's time went in Valor's worker: its marks, in ms since the navigation
// started (the worker's clock starts when the worker does).
async function firstVisitMarks(context, page) {
  const [worker] = context.serviceWorkers();
  const { origin, marks } = await worker.evaluate(() => ({
    origin: performance.timeOrigin,
    marks: Object.fromEntries(performance.getEntriesByType('mark').map((m) => [m.name, m.startTime])),
  }));
  const shift = origin - await page.evaluate(() => performance.timeOrigin);
  const at = (name) => marks[name] + shift;
  return {
    visitWorkerStarted: shift, visitScriptsImported: at('valor:scripts-imported'),
    visitRuntimeLoaded: at('valor:runtime-loaded'), visitPluginsMounted: at('valor:plugins-mounted'),
    visitRewriterWarmedUp: at('valor:valor_meter.wasm:warmed up'), visitHelloLoad: at('valor:hello:load'),
    visitHelloMetered: at('valor:hello.wasm:metered'), visitHelloInstantiated: at('valor:hello:instantiated'),
  };
}
// A return visit, the cold start a user meets: every worker stopped (as the browser stops idle
// ones), the benchmark's page loaded again (its files from the HTTP cache, its worker already
// registered: the navigation starts it), then its first answer, as for a first visit.
async function returnVisit(scope) {
  await stopWorkers();
  return visit(pages[scope], scope, 'return visit');
}
async function visit(page, app, what) {
  await page.goto(`${origin}/${app}/index.html?first=api/hello`);
  const { ms, readyMs, ...answer } = await page.evaluate(() => window.firstAnswer);
  checkHello(answer, `${app}: ${what}, api/hello`);
  return { ms, readyMs };
}
// With each first visit, for Valor and the floor, the cold start without kept rewritten modules
// in the benchmark's own context (`rewrite*`: what this measure was before it had first visits).
if (wanted('coldStart')) results.coldStart = await compare('cold start', (s) => coldStart(s), THREE);
if (wanted('firstStart')) results.firstStart = await compare('first visit; cold start, rewriting', async (s) => {
  const first = await firstVisit(s);
  if (s === 'msw') return first;
  const { ms: rewriteMs, ...marks } = await coldStart(s, { rewrite: true });
  return { ...first, rewriteMs, ...marks };
}, THREE);
if (wanted('returnVisit')) results.returnVisit = await compare('return visit', returnVisit, THREE);
if (wanted('instantiate')) results.instantiate = await compare('instantiate hello.wasm', () =>
  inPage('valor', () => bench.inWorker({ kind: 'instantiate', url: 'plugins/hello.wasm', n: 20 })), ['valor']);
if (wanted('body1MiB')) results.body1MiB = await compare('1 MiB echo', (s) => inPage(s, () => bench.body('api/mirror', 1 << 20, 5)));
if (wanted('body16MiB')) results.body16MiB = await compare('16 MiB echo', (s) => inPage(s, () => bench.body('api/mirror', 16 << 20, 3)));
if (wanted('concurrent1000')) results.concurrent1000 = await compare('1000 in flight, 50 ms sleep', (s) =>
  inPage(s, () => bench.concurrent('api/sleeper', 1000, 50)));
if (wanted('concurrent10000')) results.concurrent10000 = await compare('10,000 requests, 200 in flight, 50 ms sleep', (s) =>
  inPage(s, () => bench.concurrent('api/sleeper', 10000, 50, 200)));
// What counting fuel costs: the same modules, metered (the default) and with "fuel": null.
if (wanted('fuel')) results.fuel = await compare('fuel: metered vs unmetered', async () => {
  const dispatch = async (path, n) =>
    (await inPage('valor', (message) => bench.inWorker(message), { kind: 'dispatch', path, n })).medianUs;
  const pair = async (path, n) => ({
    metered: await dispatch(`api/${path}`, n),
    unmetered: await dispatch(`api/unmetered/${path}`, n),
  });
  const [hello, js, sha256, json] = [
    await pair('hello', 1000), await pair('js/hello', 1000), await pair('cpu/sha256?kib=256', 30), await pair('cpu/json?items=2000', 30),
  ];
  return {
    helloMetered: hello.metered, helloUnmetered: hello.unmetered,
    jsMetered: js.metered, jsUnmetered: js.unmetered,
    sha256Metered: sha256.metered, sha256Unmetered: sha256.unmetered,
    jsonMetered: json.metered, jsonUnmetered: json.unmetered,
  };
}, ['valor']);
// How long a loop freezes the worker before the default fuel (one billion) runs out.
if (wanted('loop')) results.loop = await compare('a loop, stopped by the default fuel', () => inPage('valor', async () => {
  const start = performance.now();
  const response = await fetch('api/hostile/spin');
  await response.arrayBuffer();
  const ms = performance.now() - start;
  if (response.status !== 504) throw new Error(`api/hostile/spin answered ${response.status}`);
  // A normal answer in between, or three loops in a row would quarantine the plugin.
  await (await fetch('api/hostile/fine')).arrayBuffer();
  return { ms };
}), ['valor']);
// Streamed answers: the streaming plugin's /bytes (wasm-pack-tests/plugins/streaming) against
// the floor's own ReadableStream making the same bytes in the same 64 KiB chunks. The first
// chunk of a 1 MiB stream (the producer is ready at once; median of 20), and a STREAM_MIB MiB
// stream read to the end.
const STREAM = 'api/streaming/bytes';
if (wanted('streamTtfb')) results.streamTtfb = await compare('streamed answer, first chunk', (s) =>
  inPage(s, (path) => bench.stream(path, 1, 20), STREAM));
if (wanted('streamThroughput')) results.streamThroughput = await compare(`streamed answer, ${STREAM_MIB} MiB`, async (s) =>
  ({ ...await inPage(s, ([path, mib]) => bench.stream(path, mib), [STREAM, STREAM_MIB]), mib: STREAM_MIB }));

// WASI components: the hello component (wasm-pack-tests/components/hello, the same bytes, run by
// the component host: an instance per request) against hello.wasm and the floor.
if (wanted('componentDispatch')) results.componentDispatch = await compare('in-worker dispatch, hello component', (v) => {
  const [scope, path] = HELLO[v];
  return inPage(scope, (path) => bench.inWorker({ kind: 'dispatch', path, n: 300 }), path);
}, ['component', 'rust', 'floor']);

// JavaScript plugins: hello.js against hello.wasm and the floor.
if (wanted('jsDispatch')) results.jsDispatch = await compare('in-worker dispatch, JavaScript hello', (v) => {
  const [scope, path] = HELLO[v];
  return inPage(scope, (path) => bench.inWorker({ kind: 'dispatch', path, n: 1000 }), path);
}, ['js', 'jsFetch', 'rust', 'floor']);
if (wanted('jsSequential')) results.jsSequential = await compare('sequential, JavaScript hello', (v) => {
  const [scope, path] = HELLO[v];
  return inPage(scope, (path) => bench.sequential(path, 300), path);
}, ['js', 'rust', 'floor']);
if (wanted('jsPooled64')) results.jsPooled64 = await compare('64 in flight, JavaScript hello', (v) => {
  const [scope, path] = HELLO[v];
  return inPage(scope, (path) => bench.pooled(path, 2000, 64), path);
}, ['js', 'rust', 'floor']);
// The first answer of a worker just started: for hello.js, the engine's kept rewritten module is
// compiled and instantiated, and the script fetched and evaluated. `rewrite`: with nothing kept
// (a first visit), the rewriter loads and rewrites the engine (and hello.wasm for `rust`).
const jsColdStart = async (v, rewrite) => {
  const [scope, path] = HELLO[v];
  const ms = await firstAnswer(pages[scope], stopWorkers, { forgetRewritten: rewrite && scope === 'valor', path });
  if (v !== 'js') return { ms };
  const marks = await inPage(scope, () => bench.inWorker({ kind: 'marks' }));
  return {
    ms,
    runtimeLoaded: marks['valor:runtime-loaded'],
    pluginsMounted: marks['valor:plugins-mounted'],
    load: marks['valor:hello-js:load'],
    scriptRead: marks['valor:hello.js:read'],
    engineRead: marks['valor:valor_js.wasm:read'],
    engineChecked: marks['valor:valor_js.wasm:checked'],
    engineMetered: marks['valor:valor_js.wasm:metered'],
    compiled: marks['valor:hello-js:compiled'],
    instantiated: marks['valor:hello-js:instantiated'],
    ...(rewrite && {
      rewriterCompiled: marks['valor:valor_meter.wasm:compiled'],
      rewriterWarmedUp: marks['valor:valor_meter.wasm:warmed up'],
    }),
  };
};
if (wanted('jsColdStart')) results.jsColdStart = await compare('cold start, JavaScript hello', (v) => jsColdStart(v, false), ['js', 'rust', 'floor']);
if (wanted('jsFirstStart')) results.jsFirstStart = await compare('cold start, rewriting, JavaScript hello', (v) => jsColdStart(v, true), ['js', 'rust']);

if (PROFILE) results.profile = await profileDispatch();
await browser.close();

const sizes = {};
const measureSize = (path) => {
  const bytes = readFileSync(`${root}${path}`);
  return { raw: statSync(`${root}${path}`).size, gzip: gzipSync(bytes, { level: 9 }).length };
};
const size = (label, path) => { sizes[label] = measureSize(path); };
size('runtime .wasm', 'target/www/valor/valor_runtime_bg.wasm');
size('module rewriter .wasm (loaded when a module must be rewritten)', 'target/www/valor/valor_meter.wasm');
size('sw.js', 'sw.js');
size('valor-worker.js (Valor mounted in a worker: sw.js, or an app\'s own; with the runtime\'s and the component host\'s glue)', 'target/www/valor/valor-worker.js');
size('page.js (for pages: registerValor, the registry)', 'target/www/valor/page.js');
size('JavaScript engine .wasm (loaded when a JavaScript plugin is mounted)', 'target/www/valor/valor_js.wasm');
for (const plugin of ['hello', 'echo', 'with_state', 'proxy', 'todos']) size(`${plugin}.wasm`, `target/www/plugins/${plugin}.wasm`);
size('hello.js', 'target/www/plugins/hello.js');
results.sizes = sizes;
// What each app downloads on a first visit to answer hello (firstVisit's apps), as served from
// target/bench (the page's HTML and the benchmark's own scripts, page.js and worker-bench.js,
// left out: each app has them).
const FIRST_VISIT = {
  valor: [
    ['runtime .wasm', 'valor-first/valor/valor_runtime_bg.wasm'],
    ['module rewriter .wasm', 'valor-first/valor/valor_meter.wasm'], ['hello.wasm', 'valor-first/plugins/hello.wasm'],
    ['sw.js', 'valor-first/sw.js'], ['valor-worker.js (with the runtime\'s and the component host\'s glue)', 'valor-first/valor/valor-worker.js'],
    ['plugins.json (hello alone)', 'valor-first/plugins.json'],
  ],
  floor: [['sw.js (every route of the benchmark)', 'floor/sw.js']],
  msw: [
    ['mockServiceWorker.js', 'msw/mockServiceWorker.js'], ['the library: lib/iife/index.js (msw.js)', 'msw/msw.js'],
    ['handlers.js (hello and echo, starts the worker)', 'msw/handlers.js'],
  ],
};
results.firstVisitBytes = Object.fromEntries(Object.entries(FIRST_VISIT).map(([scope, files]) => {
  const measured = Object.fromEntries(files.map(([label, path]) => [label, measureSize(`target/bench/${path}`)]));
  const total = (key) => Object.values(measured).reduce((sum, file) => sum + file[key], 0);
  return [scope, { files: measured, total: { raw: total('raw'), gzip: total('gzip') } }];
}));

writeFileSync(JSON_OUT, JSON.stringify(results, null, 2));
print(results);
process.exit(0);

function print(r) {
  const f = (x, digits = 1) => (x === undefined ? '' : x.toFixed(digits));
  const row = (metric, valor, floor, ratio, msw = '', mswRatio = '') =>
    console.log(`| ${metric} | ${valor} | ${floor} | ${msw} | ${ratio} | ${mswRatio} |`);
  console.log(`Valor benchmarks, ${r.date}, Chromium ${r.chromium}, median of ${r.runs} runs; ratio = floor (or MSW) time / Valor time (1.0 = as fast as the floor; above 1, faster than MSW)\n`);
  console.log('| measure | Valor | floor (plain JS worker) | MSW | ratio to the floor | ratio to MSW |\n|---|---|---|---|---|---|');
  for (const [key, label] of [['sequential', 'warm, sequential'], ['pooled64', 'warm, 64 in flight']]) {
    if (!r[key]) continue;
    const { valor, floor, msw } = r[key];
    row(`${label}: requests/s`, f(valor.perSecond, 0), f(floor.perSecond, 0), f(valor.perSecond / floor.perSecond, 2),
      f(msw.perSecond, 0), f(valor.perSecond / msw.perSecond, 2));
    row(`${label}: p50 / p99 ms`, `${f(valor.p50, 2)} / ${f(valor.p99, 2)}`, `${f(floor.p50, 2)} / ${f(floor.p99, 2)}`, f(floor.p50 / valor.p50, 2),
      `${f(msw.p50, 2)} / ${f(msw.p99, 2)}`, f(msw.p50 / valor.p50, 2));
  }
  for (const [key, label] of [['dispatchHello', 'dispatch in the worker, hello: µs/request'], ['dispatchEcho1k', 'dispatch in the worker, echo 1 KiB: µs/request']]) {
    if (!r[key]) continue;
    const { valor, floor } = r[key];
    row(label, f(valor.medianUs), f(floor.medianUs), f(floor.medianUs / valor.medianUs, 2));
    if (floor.withValorHeadersUs) {
      row('… against a floor answering with the same four headers as Valor', f(valor.medianUs), f(floor.withValorHeadersUs), f(floor.withValorHeadersUs / valor.medianUs, 2));
      row('… against a floor building that response as Valor does (bytes copied, init from JSON)', f(valor.medianUs), f(floor.builtAsValorUs), f(floor.builtAsValorUs / valor.medianUs, 2));
    }
  }
  if (r.coldStart) {
    const { valor, floor, msw } = r.coldStart;
    row('cold start to first answer (MSW: its worker started, its page open): ms', f(valor.ms), f(floor.ms), f(floor.ms / valor.ms, 2), f(msw.ms), f(msw.ms / valor.ms, 2));
    const c0 = r.coldStart.valor;
    row('… of which, from worker start: scripts imported / kept runtime checked / runtime loaded / manifest read / plugins mounted, ms',
      [c0.scriptsImported, c0.runtimeKeptChecked, c0.runtimeLoaded, c0.manifestRead, c0.pluginsMounted].map((x) => f(x)).join(' / '), '', '');
    row('… then hello: load starts / bytes read / SHA-256 / metered / compiled / instantiated, ms',
      [c0.helloLoad, c0.helloRead, c0.helloChecked, c0.helloMetered, c0.helloCompiled, c0.helloInstantiated].map((x) => f(x)).join(' / '), '', '');
  }
  if (r.firstStart) {
    const { valor, floor, msw } = r.firstStart;
    row('first visit (a fresh browser context), from navigation to the first answer: ms', f(valor.ms), f(floor.ms), f(floor.ms / valor.ms, 2), f(msw.ms), f(msw.ms / valor.ms, 2));
    row('… of which, until the worker is ready (registered, installed, in control; MSW: `start()` resolved): ms', f(valor.readyMs), f(floor.readyMs), '', f(msw.readyMs), '');
    row('… Valor, since the navigation: worker started / scripts imported / runtime loaded / plugins mounted / rewriter warmed up (install) / hello: load starts / metered / instantiated, ms',
      [valor.visitWorkerStarted, valor.visitScriptsImported, valor.visitRuntimeLoaded, valor.visitPluginsMounted, valor.visitRewriterWarmedUp,
        valor.visitHelloLoad, valor.visitHelloMetered, valor.visitHelloInstantiated].map((x) => f(x)).join(' / '), '', '');
    row('cold start without kept rewritten modules (the rewriter loaded, hello rewritten): ms', f(valor.rewriteMs), f(floor.rewriteMs), f(floor.rewriteMs / valor.rewriteMs, 2));
    const c1 = r.firstStart.valor;
    row('… then hello: bytes read / SHA-256 / rewriter compiled / warmed up / metered / compiled / instantiated, ms',
      [c1.helloRead, c1.helloChecked, c1.rewriterCompiled, c1.rewriterWarmedUp, c1.helloMetered, c1.helloCompiled, c1.helloInstantiated].map((x) => f(x)).join(' / '), '', '');
  }
  if (r.returnVisit) {
    const { valor, floor, msw } = r.returnVisit;
    row('return visit (every worker stopped, the page loaded again), from navigation to the first answer: ms', f(valor.ms), f(floor.ms), f(floor.ms / valor.ms, 2), f(msw.ms), f(msw.ms / valor.ms, 2));
    row('… of which, until the worker is ready (MSW: `start()` resolved): ms', f(valor.readyMs), f(floor.readyMs), '', f(msw.readyMs), '');
  }
  if (r.instantiate) {
    row('instantiateStreaming hello.wasm: network / Cache Storage ms', `${f(r.instantiate.valor.networkMs, 2)} / ${f(r.instantiate.valor.cacheMs, 2)}`, '', '');
  }
  for (const [key, label] of [['body1MiB', 'echo 1 MiB'], ['body16MiB', 'echo 16 MiB']]) {
    if (!r[key]) continue;
    const { valor, floor } = r[key];
    row(`${label}: MiB/s (ms)`, `${f(valor.mibPerSecond)} (${f(valor.ms)})`, `${f(floor.mibPerSecond)} (${f(floor.ms)})`, f(valor.mibPerSecond / floor.mibPerSecond, 2));
  }
  for (const [key, label] of [['concurrent1000', '1,000 in flight, handler sleeps 50 ms'], ['concurrent10000', '10,000 requests, 200 in flight, handler sleeps 50 ms']]) {
    if (!r[key]) continue;
    const { valor, floor } = r[key];
    row(`${label}: ms (max in flight)`, `${f(valor.ms)} (${valor.maxInFlight})`, `${f(floor.ms)} (${floor.maxInFlight})`, f(floor.ms / valor.ms, 2));
  }
  if (r.streamTtfb) {
    const { valor, floor } = r.streamTtfb;
    row('streamed answer: ms from fetch() to the first chunk read', f(valor.firstChunkMs, 2), f(floor.firstChunkMs, 2), f(floor.firstChunkMs / valor.firstChunkMs, 2));
  }
  if (r.streamThroughput) {
    const { valor, floor } = r.streamThroughput;
    row(`streamed answer, ${valor.mib} MiB read to the end: MiB/s (ms)`, `${f(valor.mibPerSecond)} (${f(valor.ms)})`, `${f(floor.mibPerSecond)} (${f(floor.ms)})`, f(valor.mibPerSecond / floor.mibPerSecond, 2));
  }
  if (r.fuel) {
    const fuel = r.fuel.valor;
    console.log('\n| fuel: dispatch in the worker, µs/request | metered (default fuel) | unmetered ("fuel": null) | metered / unmetered time |\n|---|---|---|---|');
    for (const [key, label] of [['hello', 'hello'], ['js', 'hello.js (the JavaScript engine metered)'], ['sha256', 'SHA-256 of 256 KiB'], ['json', 'JSON of 2,000 objects, out and back']]) {
      console.log(`| ${label} | ${f(fuel[`${key}Metered`])} | ${f(fuel[`${key}Unmetered`])} | ${f(fuel[`${key}Metered`] / fuel[`${key}Unmetered`], 2)} |`);
    }
  }
  printJavaScript(r, f);
  if (r.componentDispatch) {
    const { component, rust, floor } = r.componentDispatch;
    console.log('\n| WASI components | hello component | hello.wasm | floor | hello.wasm time / component time |\n|---|---|---|---|---|');
    console.log(`| dispatch in the worker: µs/request | ${f(component.medianUs)} | ${f(rust.medianUs)} | ${f(floor.medianUs)} | ${f(rust.medianUs / component.medianUs, 2)} |`);
  }
  if (r.loop) console.log(`\nA handler that loops for ever is stopped by the default fuel after ${f(r.loop.valor.ms, 0)} ms (answered 504).`);
  console.log('\n| file | raw bytes | gzip bytes |\n|---|---|---|');
  for (const [file, { raw, gzip }] of Object.entries(r.sizes)) console.log(`| ${file} | ${raw} | ${gzip} |`);
  printFirstVisitBytes(r.firstVisitBytes);
  if (r.profile) {
    console.log('\nWhere the workers spend their time: CPU profiles of 2,000 in-worker hello dispatches, self time in µs per request\n');
    for (const [key, heading] of [['byKind', 'kind of code'], ['byName', 'function']]) {
      console.log(`| ${heading} | Valor | floor |\n|---|---|---|`);
      for (const { name, valor, floor } of r.profile[key]) console.log(`| ${name} | ${valor.toFixed(1)} | ${floor.toFixed(1)} |`);
      console.log('');
    }
  }
  console.log(`\nJSON: ${JSON_OUT}`);
}

// What each app downloads on a first visit, file by file, and in all.
function printFirstVisitBytes(bytes) {
  const NAMES = { valor: 'Valor', floor: 'floor', msw: 'MSW' };
  console.log('\n| first visit: what each app downloads to answer hello | raw bytes | gzip bytes (level 9) |\n|---|---|---|');
  for (const [scope, { files, total }] of Object.entries(bytes)) {
    for (const [file, { raw, gzip }] of Object.entries(files)) console.log(`| ${NAMES[scope]}: ${file} | ${raw} | ${gzip} |`);
    console.log(`| **${NAMES[scope]}, in all** | **${total.raw}** | **${total.gzip}** |`);
  }
  const { valor, msw } = bytes;
  console.log(`\nValor downloads ${(valor.total.gzip / msw.total.gzip).toFixed(2)} times MSW's gzip bytes (${valor.total.gzip} against ${msw.total.gzip}).`);
}

// The JavaScript plugins' table: hello.js against hello.wasm and the floor.
function printJavaScript(r, f) {
  if (!r.jsDispatch && !r.jsSequential && !r.jsPooled64 && !r.jsColdStart && !r.jsFirstStart) return;
  const row = (metric, js, rust, floor, vsRust, vsFloor) => console.log(`| ${metric} | ${js} | ${rust} | ${floor} | ${vsRust} | ${vsFloor} |`);
  console.log('\n| JavaScript plugins | hello.js | hello.wasm | floor | hello.wasm time / hello.js time | floor time / hello.js time |\n|---|---|---|---|---|---|');
  if (r.jsDispatch) {
    const { js, jsFetch, rust, floor } = r.jsDispatch;
    row('dispatch in the worker: µs/request', f(js.medianUs), f(rust.medianUs), f(floor.medianUs), f(rust.medianUs / js.medianUs, 2), f(floor.medianUs / js.medianUs, 2));
    row('… hello-fetch.mjs (`export default { fetch }`, a Response)', f(jsFetch.medianUs), f(rust.medianUs), f(floor.medianUs), f(rust.medianUs / jsFetch.medianUs, 2), f(floor.medianUs / jsFetch.medianUs, 2));
  }
  for (const [key, label] of [['jsSequential', 'warm, sequential'], ['jsPooled64', 'warm, 64 in flight']]) {
    if (!r[key]) continue;
    const { js, rust, floor } = r[key];
    row(`${label}: requests/s`, f(js.perSecond, 0), f(rust.perSecond, 0), f(floor.perSecond, 0), f(js.perSecond / rust.perSecond, 2), f(js.perSecond / floor.perSecond, 2));
    row(`${label}: p50 / p99 ms`, `${f(js.p50, 2)} / ${f(js.p99, 2)}`, `${f(rust.p50, 2)} / ${f(rust.p99, 2)}`, `${f(floor.p50, 2)} / ${f(floor.p99, 2)}`, '', '');
  }
  if (r.jsColdStart) {
    const { js, rust, floor } = r.jsColdStart;
    row('cold start to first answer: ms', f(js.ms), f(rust.ms), f(floor.ms), f(rust.ms / js.ms, 2), f(floor.ms / js.ms, 2));
    row('… hello.js, from worker start: runtime loaded / plugins mounted / load starts / script read / engine read / SHA-256 / kept rewritten engine compiled / engine compiled / instantiated and the script evaluated, ms',
      [js.runtimeLoaded, js.pluginsMounted, js.load, js.scriptRead, js.engineRead, js.engineChecked, js.engineMetered, js.compiled, js.instantiated].map((x) => f(x)).join(' / '), '', '', '', '');
  }
  if (r.jsFirstStart) {
    const { js, rust } = r.jsFirstStart;
    row('cold start without kept rewritten modules (the engine rewritten): ms', f(js.ms), f(rust.ms), '', f(rust.ms / js.ms, 2), '');
    row('… hello.js: engine read / SHA-256 / rewriter compiled / warmed up / engine rewritten / compiled / instantiated and the script evaluated, ms',
      [js.engineRead, js.engineChecked, js.rewriterCompiled, js.rewriterWarmedUp, js.engineMetered, js.compiled, js.instantiated].map((x) => f(x)).join(' / '), '', '', '', '');
  }
}

// Sampling CPU profiles of both workers while each dispatches hello requests to itself: self
// time per request, by function and by kind of code, side by side.
async function profileDispatch() {
  const N = 2000, WARM_UP = 50; // worker-bench.js's dispatch warms up with 50 requests
  const perScope = {};
  for (const scope of ['valor', 'floor']) {
    const send = await workerSession(context, pages[scope]);
    await send('Profiler.enable');
    await send('Profiler.setSamplingInterval', { interval: 100 });
    await send('Profiler.start');
    await inPage(scope, (n) => bench.inWorker({ kind: 'dispatch', path: 'api/hello', n }), N);
    const { profile } = await send('Profiler.stop');
    const totalHits = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
    const usPerHit = (profile.endTime - profile.startTime) / totalHits / (N + WARM_UP);
    const byName = new Map(), byKind = new Map();
    const add = (map, key, hits) => map.set(key, (map.get(key) ?? 0) + hits * usPerHit);
    for (const { callFrame: frame, hitCount: hits = 0 } of profile.nodes) {
      const file = frame.url.split('/').pop();
      add(byName, frame.functionName || `(${file || 'anonymous'})`, hits);
      add(byKind, frame.url.startsWith('wasm://') ? 'WebAssembly (runtime and plugin)'
        : isGlue(frame) ? "the runtime's JS glue"
        : file.endsWith('.js') ? 'the worker\'s own JS'
        : /^\((idle|program|garbage collector)\)$/.test(frame.functionName) ? frame.functionName
        : 'browser built-ins', hits);
    }
    perScope[scope] = { byName, byKind };
  }
  const table = (key, limit) => {
    const names = new Set([...perScope.valor[key].keys(), ...perScope.floor[key].keys()]);
    return [...names].map((name) => ({ name: name.slice(0, 90), valor: perScope.valor[key].get(name) ?? 0, floor: perScope.floor[key].get(name) ?? 0 }))
      .sort((a, b) => b.valor - a.valor).slice(0, limit);
  };
  return { byKind: table('byKind', 10), byName: table('byName', 25) };
}
