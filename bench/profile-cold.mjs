// Where a cold start's time goes: a CPU profile of the service worker from its very start
// (the profiler, started before the worker is stopped, restarts with it: see below) through the
// first answer, for Valor, the floor and MSW, each worker stopped first as bench/run.mjs's cold
// start does. Prints, per app (mean per run): self time by category, the top functions, and a
// timeline (first and last sample, the worker's performance marks, what each 2 ms went to).
//
//   node bench/profile-cold.mjs [--runs 5] [--interval-us 100] [--only valor,floor,msw] [--path api/hello]
//                               [--save target/bench/cold-profiles]
// --save writes each run's profile (.cpuprofile: open it in DevTools' Performance panel).
// Needs the apps built by scripts/build.sh (target/bench). MSW answers from its page: only its
// worker's part is profiled here.
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import {
  isGlue, launchChromium, median, openPages, option, root, serveBenchApps, workerStopper,
} from './harness.mjs';
import { checkHello } from './answers.mjs';

const RUNS = Number(option('runs', 5));
const INTERVAL_US = Number(option('interval-us', 100));
const SCOPES = option('only', 'valor,floor,msw').split(',');
const SAVE = option('save', null);
// What the first request asks for (only Valor's bench app mounts the others, such as api/js/hello).
const PATH = option('path', 'api/hello');


const origin = await serveBenchApps();
const browser = await launchChromium();
const context = await browser.newContext();
const pages = await openPages(context, origin, SCOPES);
const stopWorkers = await workerStopper(context, pages[SCOPES[0]]);

// One DevTools session reaches every worker of the origin, and stays attached to each across
// its restarts. A profiler started on a worker is started again by V8 when the stopped worker
// starts again (DevTools restores its session before the worker's script runs): the profile
// begins at the worker's start. (A pause on start, waitForDebuggerOnStart, applies only to a
// worker's first attach: a restarted worker is already attached.)
const workers = new Map(); // scope URL -> { session, id: the worker's DevTools session id }
let nextId = 1;
const pending = new Map();
const listeners = new Set();
const sendTo = ({ session, id: sessionId }, method, params = {}) => new Promise((resolve, reject) => {
  const id = nextId++;
  pending.set(id, [resolve, reject]);
  session.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject);
});
// Each page's session reaches its own worker.
for (const scope of SCOPES) {
  const session = await context.newCDPSession(pages[scope]);
  session.on('Target.receivedMessageFromTarget', ({ message }) => {
    const { id, result, error, method, params } = JSON.parse(message);
    if (method) for (const listener of listeners) listener(method, params);
    if (pending.has(id)) {
      pending.get(id)[error ? 1 : 0](error ? new Error(JSON.stringify(error)) : result);
      pending.delete(id);
    }
  });
  session.on('Target.attachedToTarget', ({ targetInfo, sessionId }) => {
    if (targetInfo.type === 'service_worker') workers.set(new URL('.', targetInfo.url).href, { session, id: sessionId });
  });
  await session.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
}
const workerOf = async (scope) => {
  for (let i = 0; i < 100 && !workers.has(`${origin}/${scope}/`); i++) await new Promise((r) => setTimeout(r, 20));
  return workers.get(`${origin}/${scope}/`);
};
const hello = (page) => page.evaluate(async (path) => {
  const start = performance.now();
  const response = await fetch(path);
  const body = await response.text();
  return { ms: performance.now() - start, status: response.status, contentType: response.headers.get('content-type'), body };
}, PATH);

/// One cold start of `scope`'s worker, profiled: the profile, the marks (ms since the worker
/// started), and the page's time to the answer.
async function profiledColdStart(scope) {
  // Running first: a stopped worker answers DevTools only once it starts again.
  await hello(pages[scope]);
  const worker = await workerOf(scope);
  await sendTo(worker, 'Profiler.enable');
  await sendTo(worker, 'Profiler.setSamplingInterval', { interval: INTERVAL_US });
  await sendTo(worker, 'Profiler.start');
  await stopWorkers();
  const { ms, ...answer } = await hello(pages[scope]);
  checkHello(answer, `${scope}: profiled cold start`);
  const { profile } = await sendTo(worker, 'Profiler.stop');
  const { result } = await sendTo(worker, 'Runtime.evaluate', {
    expression: 'JSON.stringify(performance.getEntriesByType("mark").map((m) => [m.name, m.startTime]))',
    returnByValue: true,
  });
  await sendTo(worker, 'Profiler.disable');
  return { profile, marks: JSON.parse(result.value), ms };
}

/// The WebAssembly modules a cold start of `scope` compiles, by the name V8 gives their code in
/// profiles (wasm://wasm/<hash of the bytes>): the file a streamed one came from, else its size.
/// Taken in a cold start of its own, with the debugger on (which would slow a profiled one).
async function wasmNames(scope) {
  await hello(pages[scope]);
  const worker = await workerOf(scope);
  const names = new Map();
  // The app's .wasm files by size (a module compiled from its bytes has no name of its own).
  const bySize = new Map();
  for (const dir of [`${scope}/valor`, `${scope}/plugins`]) {
    try {
      for (const name of readdirSync(`${root}target/bench/${dir}`)) {
        if (name.endsWith('.wasm')) bySize.set(statSync(`${root}target/bench/${dir}/${name}`).size, name);
      }
    } catch { /* not in this app */ }
  }
  const listener = (method, params) => {
    if (method !== 'Debugger.scriptParsed' || params.scriptLanguage !== 'WebAssembly') return;
    const from = params.embedderName && !params.embedderName.startsWith('wasm://') ? params.embedderName.split('/').pop().split('?')[0] : null;
    names.set(params.url, from ?? bySize.get(params.endColumn) ?? `a module of ${params.endColumn} B`);
  };
  listeners.add(listener);
  await sendTo(worker, 'Debugger.enable');
  await stopWorkers();
  await hello(pages[scope]);
  await new Promise((r) => setTimeout(r, 200));
  await sendTo(worker, 'Debugger.disable');
  listeners.delete(listener);
  return names;
}

// What a frame's self time is spent on. Native frames have no URL: they are named by the API.
const NATIVE = [
  [/^(digest)$/, 'crypto.subtle digest'],
  [/^(match|open|put|keys|delete|has|matchAll)$/, 'Cache Storage'],
  [/^(compile|compileStreaming|validate|Module)$/, 'WebAssembly compile'],
  [/^(instantiate|instantiateStreaming|Instance)$/, 'WebAssembly instantiate'],
  [/^importScripts$/, 'importScripts (fetch, compile, run the scripts)'],
  [/^(fetch|arrayBuffer|text|json|clone)$/, 'fetch / body reads'],
];
function category(frame, wasm) {
  const { functionName: name, url } = frame.callFrame;
  if (name === '(idle)') return '(idle): waiting, nothing to run';
  if (name === '(garbage collector)') return '(garbage collector)';
  if (name === '(program)') return '(program): V8 and Blink outside JS (parsing, compiling scripts, events)';
  if (name === '(root)') return '(root)';
  if (url.startsWith('wasm://')) {
    const file = wasm.get(url) ?? url;
    return file === 'valor_runtime_bg.wasm' ? "the runtime's wasm (valor_runtime_bg.wasm)" : `wasm: ${file}`;
  }
  if (isGlue(frame.callFrame)) return "the glue (wasm-bindgen's, in valor-worker.js)";
  if (url.endsWith('valor-worker.js')) return 'valor-worker.js';
  if (url) return `script: ${url.split('/').pop().split('?')[0]}`;
  for (const [pattern, named] of NATIVE) if (pattern.test(name)) return named;
  return `native: ${name || '(anonymous)'}`;
}

/// Self time in ms by category and by function, and the timeline, of one profile.
function analyse({ profile, marks }, wasm) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMs = new Map();
  const functions = new Map();
  const samples = [];
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i];
    samples.push({ id, at });
  });
  // Each sample stands for the time until the next one.
  for (let i = 0; i < samples.length; i++) {
    const next = i + 1 < samples.length ? samples[i + 1].at : profile.endTime;
    const ms = Math.max(0, next - samples[i].at) / 1000;
    const node = byId.get(samples[i].id);
    const cat = category(node, wasm);
    samples[i].cat = cat;
    samples[i].ms = ms;
    selfMs.set(cat, (selfMs.get(cat) ?? 0) + ms);
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.startsWith('wasm://') ? wasm.get(url) ?? url : `${url.split('/').pop().split('?')[0]}:${lineNumber + 1}`;
    const fn = `${functionName || '(anonymous)'} ${url ? where : ''}`.trim();
    functions.set(fn, (functions.get(fn) ?? 0) + ms);
  }
  const busy = samples.filter((s) => !s.cat.startsWith('(idle)') && !s.cat.startsWith('(root)'));
  const since = (t) => (t - profile.startTime) / 1000;
  // What each 2 ms from the profile's start went to, the busiest category first.
  const buckets = [];
  for (const s of samples) {
    const b = Math.floor(since(s.at) / 2);
    buckets[b] ??= new Map();
    buckets[b].set(s.cat, (buckets[b].get(s.cat) ?? 0) + s.ms);
  }
  return {
    selfMs, functions,
    firstBusyMs: busy.length ? since(busy[0].at) : 0,
    lastBusyMs: busy.length ? since(busy.at(-1).at) : 0,
    totalMs: (profile.endTime - profile.startTime) / 1000,
    marks,
    buckets,
  };
}

const f = (x) => x.toFixed(1);
const results = {};
const wasm = {};
for (const scope of SCOPES) {
  results[scope] = [];
  // Every kept copy in place (hello loaded once), as in bench/run.mjs's cold start.
  checkHello(await hello(pages[scope]), `${scope}: warm-up`);
  wasm[scope] = await wasmNames(scope);
}
for (let run = 0; run < RUNS; run++) {
  for (const scope of run % 2 ? [...SCOPES].reverse() : SCOPES) {
    const taken = await profiledColdStart(scope);
    if (SAVE) {
      mkdirSync(SAVE, { recursive: true });
      writeFileSync(`${SAVE}/${scope}-${run}.cpuprofile`, JSON.stringify(taken.profile));
    }
    results[scope].push({ ...analyse(taken, wasm[scope]), ms: taken.ms });
  }
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sumOver = (runs, key) => {
  const total = new Map();
  for (const r of runs) for (const [k, v] of r[key]) total.set(k, (total.get(k) ?? 0) + v / runs.length);
  return [...total].sort((a, b) => b[1] - a[1]);
};
console.log(`Cold start CPU profiles of the service worker, ${RUNS} runs each, sampled every ${INTERVAL_US} µs; ms are means per run (self time).`);
console.log('Times are ms since the profiler started, at the worker\'s start (marks: since the worker started). The profiler slows the worker: compare profiles with each other.\n');
for (const scope of SCOPES) {
  const runs = results[scope];
  console.log(`## ${scope}`);
  console.log(`profiled: ${f(mean(runs.map((r) => r.totalMs)))} ms (first busy sample at ${f(mean(runs.map((r) => r.firstBusyMs)))}, last at ${f(mean(runs.map((r) => r.lastBusyMs)))}); page's time to the answer, median ${f(median(runs.map((r) => r.ms)))} ms`);
  console.log('\n| self time by category | ms | share |\n|---|---|---|');
  const cats = sumOver(runs, 'selfMs');
  const total = cats.reduce((a, [, v]) => a + v, 0);
  for (const [cat, ms] of cats) if (ms >= 0.05) console.log(`| ${cat} | ${f(ms)} | ${Math.round((100 * ms) / total)}% |`);
  console.log('\n| top functions (self) | ms |\n|---|---|');
  for (const [fn, ms] of sumOver(runs, 'functions').filter(([fn]) => !/^\((idle|root)\)/.test(fn)).slice(0, 15)) {
    console.log(`| ${fn} | ${f(ms)} |`);
  }
  // The marks, median over runs (ms since the worker started).
  const names = [...new Set(runs.flatMap((r) => r.marks.map(([n]) => n)))];
  if (names.length) {
    const at = (name) => median(runs.map((r) => r.marks.find(([n]) => n === name)?.[1]).filter((x) => x !== undefined));
    console.log(`\nmarks (ms since the worker started, median): ${names.map((n) => [n, at(n)]).sort((a, b) => a[1] - b[1]).map(([n, t]) => `${n.replace(/^valor:/, '')} ${f(t)}`).join(' · ')}`);
  }
  // Run 0's timeline, 2 ms at a time: what each slice went to (categories above 0.3 ms).
  const { buckets } = runs[0];
  console.log('\ntimeline of run 1 (ms since the profiler started: what it went to):');
  buckets.forEach((bucket, i) => {
    if (!bucket) return;
    const parts = [...bucket].sort((a, b) => b[1] - a[1]).filter(([, ms]) => ms >= 0.3).map(([c, ms]) => `${c.split(':')[0]} ${f(ms)}`);
    console.log(`  ${String(i * 2).padStart(3)}-${String(i * 2 + 2).padEnd(3)} ${parts.join(', ')}`);
  });
  console.log('');
}
await browser.close();
process.exit(0);
