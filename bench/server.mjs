// The server host's benchmark: `valor serve` answering the hello plugin, against the floor
// (`valor-bench-floor`: the same hyper stack answering the same bytes with no plugin), loaded
// by wrk on loopback. Every figure is a median over runs; Valor and floor runs alternate.
//
//   node bench/server.mjs [--runs 3] [--seconds 5] [--json target/bench/server.json]
//                         [--stream-mib 256] [--only hello,fuel,native,js,component,stream,cold]
//
// The measures (--only runs the named ones alone; all by default):
// - hello: requests/s, p50 and p99, at 1 and at 64 connections;
// - fuel: the same plugin mounted with "fuel": null (unmetered) beside the metered one;
// - js: hello.js (bench/plugins, the same bytes) run by the JavaScript engine;
// - native: hello built as a shared library (`--allow-native-plugins`) beside hello.wasm;
// - component: hello as a WASI 0.2 component (wasm-pack-tests/components/hello, the same bytes),
//   run by wasmtime-wasi-http with a store and an instance per request, beside hello.wasm;
// - stream: the streaming plugin's GET /bytes (wasm-pack-tests/plugins/streaming) against the
//   floor's, the same bytes in the same 64 KiB chunks, read by Node's http client over one
//   connection: the time to the first bytes, and MiB/s of a --stream-mib MiB stream (256; 16
//   with --runs 1);
// - cold: a fresh server's start, and its first request, which compiles the module (for
//   hello.js, the engine, which the server begins compiling at start, then the script is
//   evaluated; for the component, the component): with no compiled code kept (a new, empty
//   --cache-dir each run) and with it kept (a --cache-dir a first, unmeasured run filled).
// Needs target/server/{valor,valor-bench-floor,libhello.so}, www/plugins/hello.wasm and
// target/plugins/streaming.wasm (scripts/bench-server.sh builds them) and wrk
// (scripts/bootstrap.sh installs it). Load generator and server share this machine's cores:
// ratios, not absolute figures, are what carries to another machine.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { median, option, root } from './harness.mjs';
import { oneConnection, readStream } from './read-stream.mjs';

const RUNS = Number(option('runs', 3));
const SECONDS = Number(option('seconds', 5));
const JSON_OUT = option('json', `${root}target/bench/server.json`);
const BODY = 'OK response from a plugin';
const STREAM_MIB = Number(option('stream-mib', RUNS > 1 ? 256 : 16));
const ONLY = option('only', null)?.split(',');
const wanted = (key) => !ONLY || ONLY.includes(key);
const MIB = 1 << 20;

// A directory with the manifest, hello.wasm, hello.js and streaming.wasm: "hello" metered (the
// defaults), "unmetered" the same module with "fuel": null, "hello-js" the script.
const dir = mkdtempSync(join(tmpdir(), 'valor-bench-'));
mkdirSync(join(dir, 'plugins'));
copyFileSync(`${root}www/plugins/hello.wasm`, join(dir, 'plugins/hello.wasm'));
copyFileSync(`${root}bench/plugins/hello.js`, join(dir, 'plugins/hello.js'));
copyFileSync(`${root}target/plugins/streaming.wasm`, join(dir, 'plugins/streaming.wasm'));
copyFileSync(`${root}target/plugins/component_hello.wasm`, join(dir, 'plugins/component_hello.wasm'));
// hello built natively too (scripts/build-native.sh; this benchmark runs on Linux, hence .so).
copyFileSync(`${root}target/server/libhello.so`, join(dir, 'plugins/libhello.so'));
const entries = {
  plugins: [
    { name: 'hello', prefix: '/api/hello', url: 'plugins/hello.wasm' },
    { name: 'unmetered', prefix: '/api/unmetered', url: 'plugins/hello.wasm', fuel: null },
    { name: 'hello-js', prefix: '/api/js/hello', url: 'plugins/hello.js' },
    { name: 'hello-native', prefix: '/api/native/hello', url: 'plugins/libhello.so' },
    { name: 'streaming', prefix: '/api/streaming', url: 'plugins/streaming.wasm' },
    { name: 'hello-component', prefix: '/api/component/hello', url: 'plugins/component_hello.wasm' },
  ],
};
writeFileSync(join(dir, 'plugins.json'), JSON.stringify(entries));

// Starts a server binary; resolves to { url, stop, startedMs } once it prints its address.
function start(binary, args) {
  const begun = performance.now();
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`${binary} exited (${code}) before listening`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      const url = line.match(/listening on (http:\/\/\S+)/)?.[1];
      if (!url) return reject(new Error(`${binary} printed ${line}`));
      const stop = () => new Promise((done) => { child.removeAllListeners('exit'); child.once('exit', done); child.kill('SIGTERM'); });
      resolve({ url, stop, startedMs: performance.now() - begun });
    });
  });
}

const valorArgs = (data, manifest) => ['serve', '-p', manifest, '--listen', '127.0.0.1:0', '--data', data,
  '--allow-native-plugins'];
// `more`: further arguments (the cold measures' --cache-dir); `manifest`: another manifest (a
// cold measure's, of one plugin).
const startValor = (more = [], manifest = join(dir, 'plugins.json')) =>
  start(`${root}target/server/valor`, [...valorArgs(join(dir, `kv-${Math.random()}.redb`), manifest), ...more]);

// One wrk run: requests/s, and p50/p99 in ms. Fails on any error or wrong status.
function wrk(url, connections) {
  const threads = Math.min(connections, 2);
  const run = spawnSync('wrk', ['-t', `${threads}`, '-c', `${connections}`, '-d', `${SECONDS}s`, '--latency', url], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`wrk failed: ${run.stderr || run.stdout}`);
  const out = run.stdout;
  const bad = out.match(/Non-2xx or 3xx responses: (\d+)|Socket errors: .*/);
  if (bad) throw new Error(`${url}: ${bad[0]}\n${out}`);
  const ms = (text) => {
    const [, value, unit] = text.match(/([\d.]+)(us|ms|s)/);
    return Number(value) * { us: 0.001, ms: 1, s: 1000 }[unit];
  };
  return {
    rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]),
    p50: ms(out.match(/\n\s+50%\s+(\S+)/)[1]),
    p99: ms(out.match(/\n\s+99%\s+(\S+)/)[1]),
  };
}

// Each check on a connection of its own: fetch's pool would reuse one left idle through a
// whole wrk run (spawnSync blocks its timers), which the server closed after 30 s.
async function check(url) {
  const { status, text } = await new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk) => { text += chunk; });
      response.on('end', () => resolve({ status: response.statusCode, text })).on('error', reject);
    }).on('error', reject);
  });
  if (status !== 200 || text !== BODY) throw new Error(`${url} answered ${status} ${text}`);
}

// Streamed answers, each target over one connection of its own: per run, the median ms to the
// first bytes of 20 streams of 1 MiB (the producer is ready at once), then MiB/s reading one
// of STREAM_MIB MiB to the end; medians over RUNS runs, alternating which target goes first.
async function compareStreams(targets) {
  const agents = Object.fromEntries(Object.keys(targets).map((name) => [name, oneConnection()]));
  const samples = Object.fromEntries(Object.keys(targets).map((name) => [name, { firstMs: [], mibPerSecond: [] }]));
  for (const [name, url] of Object.entries(targets)) await readStream(`${url}?mib=1`, MIB, agents[name]);
  for (let run = 0; run < RUNS; run++) {
    const names = Object.keys(targets);
    for (const name of run % 2 ? names.reverse() : names) {
      const firsts = [];
      for (let i = 0; i < 20; i++) firsts.push((await readStream(`${targets[name]}?mib=1`, MIB, agents[name])).firstMs);
      samples[name].firstMs.push(median(firsts));
      const { ms } = await readStream(`${targets[name]}?mib=${STREAM_MIB}`, STREAM_MIB * MIB, agents[name]);
      samples[name].mibPerSecond.push(STREAM_MIB / (ms / 1000));
    }
  }
  for (const agent of Object.values(agents)) agent.destroy();
  return Object.fromEntries(Object.entries(samples).map(([name, { firstMs, mibPerSecond }]) => [name, {
    firstMs: median(firstMs), mibPerSecond: median(mibPerSecond), mib: STREAM_MIB,
  }]));
}

// Medians of each field over RUNS runs per target, alternating which goes first.
function compare(targets, connections) {
  const samples = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
  for (let run = 0; run < RUNS; run++) {
    const names = Object.keys(targets);
    for (const name of run % 2 ? names.reverse() : names) samples[name].push(wrk(targets[name], connections));
  }
  return Object.fromEntries(Object.entries(samples).map(([name, runs]) => [name, {
    rps: median(runs.map((r) => r.rps)), p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)),
  }]));
}

const results = {};
const floor = await start(`${root}target/server/valor-bench-floor`, ['127.0.0.1:0']);
const valor = await startValor();
try {
  const targets = { valor: `${valor.url}/api/hello`, floor: `${floor.url}/` };
  for (const url of Object.values(targets)) await check(url);
  await check(`${valor.url}/api/unmetered`);
  // The server compiles the JavaScript engine at start, in the background (hello.js is
  // mounted): waited for here, so that no measure runs beside that compilation.
  const js = `${valor.url}/api/js/hello`;
  await check(js);
  for (const connections of [1, 64]) {
    if (!wanted('hello')) break;
    results[`hello_${connections}`] = compare(targets, connections);
    process.stderr.write(`  measured: hello at ${connections} connection(s)\n`);
  }
  if (wanted('fuel')) {
    results.fuel_64 = compare({ metered: targets.valor, unmetered: `${valor.url}/api/unmetered` }, 64);
    process.stderr.write('  measured: fuel\n');
  }
  const native = `${valor.url}/api/native/hello`;
  await check(native);
  for (const connections of [1, 64]) {
    if (!wanted('native')) break;
    results[`native_${connections}`] = compare({ native, wasm: targets.valor }, connections);
    process.stderr.write(`  measured: hello native at ${connections} connection(s)\n`);
  }
  for (const connections of [1, 64]) {
    if (!wanted('js')) break;
    results[`js_${connections}`] = compare({ js, rust: targets.valor, floor: targets.floor }, connections);
    process.stderr.write(`  measured: hello.js at ${connections} connection(s)\n`);
  }
  const component = `${valor.url}/api/component/hello`;
  await check(component);
  for (const connections of [1, 64]) {
    if (!wanted('component')) break;
    results[`component_${connections}`] = compare({ component, wasm: targets.valor, floor: targets.floor }, connections);
    process.stderr.write(`  measured: hello as a component at ${connections} connection(s)\n`);
  }
  if (wanted('stream')) {
    results.stream = await compareStreams({ valor: `${valor.url}/api/streaming/bytes`, floor: `${floor.url}/bytes` });
    process.stderr.write('  measured: streamed answers\n');
  }
} finally {
  await valor.stop();
  await floor.stop();
}

// Cold start: a fresh server each run, with a manifest of the one plugin `name` (mounted at
// `path`); its first request loads (reads, hashes, compiles, instantiates) the module; the
// second is warm. For hello.js, the first request waits for the engine (compiled from server
// start on) and evaluates the script. `kept`: the compiled code is kept in a --cache-dir
// filled by a first, unmeasured run; else each run has a new, empty one.
async function coldStart(name, path, kept) {
  const cold = { listening: [], first: [], second: [] };
  const manifest = join(dir, `plugins-${name}.json`);
  writeFileSync(manifest, JSON.stringify({ plugins: entries.plugins.filter((entry) => entry.name === name) }));
  const cacheDir = () => mkdtempSync(join(dir, 'compiled-'));
  const keptDir = kept ? cacheDir() : null;
  for (let run = kept ? -1 : 0; run < Math.max(RUNS, 3); run++) {
    const server = await startValor(['--cache-dir', keptDir ?? cacheDir()], manifest);
    try {
      for (const field of ['first', 'second']) {
        const begun = performance.now();
        await check(`${server.url}${path}`);
        if (run >= 0) cold[field].push(performance.now() - begun);
      }
      if (run >= 0) cold.listening.push(server.startedMs);
      // The compiled code is written once it answers: let the writing end before the stop.
      if (kept && run < 0) await new Promise((done) => setTimeout(done, 1000));
    } finally {
      await server.stop();
    }
  }
  return Object.fromEntries(Object.entries(cold).map(([k, v]) => [k, median(v)]));
}
if (wanted('cold')) {
  const measures = [['cold_start_ms', 'hello'], ['js_cold_start_ms', 'hello-js'], ['component_cold_start_ms', 'hello-component']];
  for (const [key, name] of measures) {
    const { prefix } = entries.plugins.find((entry) => entry.name === name);
    results[key] = await coldStart(name, prefix, false);
    results[`${key}_kept`] = await coldStart(name, prefix, true);
  }
}
rmSync(dir, { recursive: true, force: true });

const f = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const rows = [];
for (const connections of [1, 64]) {
  if (!results[`hello_${connections}`]) continue;
  const { valor: v, floor: fl } = results[`hello_${connections}`];
  rows.push(`hello, ${connections} connection${connections > 1 ? 's' : ''}: valor ${f(v.rps)} req/s (p50 ${f(v.p50, 3)} ms, p99 ${f(v.p99, 3)} ms); floor ${f(fl.rps)} req/s (p50 ${f(fl.p50, 3)} ms, p99 ${f(fl.p99, 3)} ms); ratio ${f(v.rps / fl.rps, 2)}`);
}
if (results.fuel_64) {
  const { metered, unmetered } = results.fuel_64;
  rows.push(`fuel, 64 connections: metered ${f(metered.rps)} req/s, unmetered ${f(unmetered.rps)} req/s; ratio ${f(metered.rps / unmetered.rps, 2)}`);
}
for (const connections of [1, 64]) {
  if (!results[`js_${connections}`]) continue;
  const { js, rust, floor: fl } = results[`js_${connections}`];
  rows.push(`hello.js, ${connections} connection${connections > 1 ? 's' : ''}: ${f(js.rps)} req/s (p50 ${f(js.p50, 3)} ms, p99 ${f(js.p99, 3)} ms); hello.wasm ${f(rust.rps)} req/s; floor ${f(fl.rps)} req/s; ratios ${f(js.rps / rust.rps, 2)} of hello.wasm, ${f(js.rps / fl.rps, 2)} of the floor`);
}
for (const connections of [1, 64]) {
  if (!results[`native_${connections}`]) continue;
  const { native, wasm } = results[`native_${connections}`];
  rows.push(`hello native, ${connections} connection${connections > 1 ? 's' : ''}: ${f(native.rps)} req/s (p50 ${f(native.p50, 3)} ms, p99 ${f(native.p99, 3)} ms); hello.wasm ${f(wasm.rps)} req/s; ratio ${f(native.rps / wasm.rps, 2)} of hello.wasm`);
}
for (const connections of [1, 64]) {
  if (!results[`component_${connections}`]) continue;
  const { component: c, wasm, floor: fl } = results[`component_${connections}`];
  rows.push(`hello as a component, ${connections} connection${connections > 1 ? 's' : ''}: ${f(c.rps)} req/s (p50 ${f(c.p50, 3)} ms, p99 ${f(c.p99, 3)} ms); hello.wasm ${f(wasm.rps)} req/s; floor ${f(fl.rps)} req/s; ratios ${f(c.rps / wasm.rps, 2)} of hello.wasm, ${f(c.rps / fl.rps, 2)} of the floor`);
}
if (results.stream) {
  const { valor: v, floor: fl } = results.stream;
  rows.push(`streamed answer, 1 connection: first bytes of 1 MiB after valor ${f(v.firstMs, 3)} ms, floor ${f(fl.firstMs, 3)} ms (ratio ${f(fl.firstMs / v.firstMs, 2)}); ${STREAM_MIB} MiB read to the end: valor ${f(v.mibPerSecond)} MiB/s, floor ${f(fl.mibPerSecond)} MiB/s; ratio ${f(v.mibPerSecond / fl.mibPerSecond, 2)}`);
}
if (results.cold_start_ms) {
  const row = (label, work, c, k) => `${label}: listening after ${f(c.listening, 1)} ms; first request ${f(c.first, 2)} ms (${work}), ${f(k.first, 2)} ms with the compiled code kept; second ${f(c.second, 2)} ms`;
  rows.push(row('cold start', 'loads the module', results.cold_start_ms, results.cold_start_ms_kept));
  rows.push(row('cold start, hello.js', 'waits for the engine compiled from start, evaluates the script', results.js_cold_start_ms, results.js_cold_start_ms_kept));
  rows.push(row('cold start, hello as a component', 'compiles the component', results.component_cold_start_ms, results.component_cold_start_ms_kept));
}
console.log(`valor serve vs the floor (hyper alone), wrk on loopback, ${RUNS} runs of ${SECONDS} s, medians:\n${rows.map((r) => `  ${r}`).join('\n')}`);
mkdirSync(`${root}target/bench`, { recursive: true });
writeFileSync(JSON_OUT, JSON.stringify(results, null, 2));
