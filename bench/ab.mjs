// A/B of two builds of Valor in one headless Chromium session, for changes too small to show
// through the noise of separate runs: in-worker dispatch, and cold starts (with and without the
// rewritten modules an earlier start kept), the two builds alternating.
//
//   node bench/ab.mjs --save    keep the current build (target/bench/valor) as the baseline
//   node bench/ab.mjs [--runs 9] [--only hello,echo,cold,first,jscold,c1000]
//                               the baseline against the current build
// Build with scripts/build.sh before each step.
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  firstAnswer, launchChromium, median, openPages, option, root, serveBenchApps, workerStopper,
} from './harness.mjs';

const apps = `${root}target/bench`;
if (process.argv.includes('--save')) {
  rmSync(`${apps}/baseline`, { recursive: true, force: true });
  cpSync(`${apps}/valor`, `${apps}/baseline`, { recursive: true });
  // Its plugins are mounted under its own directory, the scope of its worker.
  const manifest = `${apps}/baseline/plugins.json`;
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replaceAll('"/valor/', '"/baseline/'));
  console.log('baseline saved: target/bench/baseline');
  process.exit(0);
}
if (!existsSync(`${apps}/baseline`)) throw new Error('no baseline: run `node bench/ab.mjs --save` first');

const RUNS = Number(option('runs', 9));
// Each case measures one build's page: a figure, lower is better.
const dispatch = (message) => async (page) => (await page.evaluate((m) => bench.inWorker(m), message)).medianUs;
// The first answer after the browser stopped every worker (`rewrite`: and the kept rewritten
// modules were deleted, as on a first visit).
const coldStart = (rewrite, path) => (page) => firstAnswer(page, stopWorkers, { forgetRewritten: rewrite, path });
const cases = {
  hello: { unit: 'in-worker dispatch, µs/request', measure: dispatch({ kind: 'dispatch', path: 'api/hello', n: 1000 }) },
  echo: { unit: 'in-worker dispatch, µs/request', measure: dispatch({ kind: 'dispatch', path: 'api/echo', bytes: 1024, n: 500 }) },
  cold: { unit: 'cold start to first answer, ms', measure: coldStart(false) },
  first: { unit: 'cold start, rewriting hello, ms', measure: coldStart(true) },
  jscold: { unit: 'cold start to first answer, hello.js, ms', measure: coldStart(false, 'api/js/hello') },
  c1000: { unit: '1,000 in flight, 50 ms sleep, ms', measure: (page) => page.evaluate(async () => (await bench.concurrent('api/sleeper', 1000, 50)).ms) },
};
const only = option('only', 'hello,echo').split(',');
const origin = await serveBenchApps();
const browser = await launchChromium();
const context = await browser.newContext();
const pages = await openPages(context, origin, ['baseline', 'valor']);
const stopWorkers = await workerStopper(context, pages.valor);
console.log(`median of ${RUNS} alternating runs\n`);
console.log('| case | baseline | current | current / baseline |\n|---|---|---|---|');
for (const name of only) {
  const samples = { baseline: [], valor: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const build of run % 2 ? ['valor', 'baseline'] : ['baseline', 'valor']) {
      samples[build].push(await cases[name].measure(pages[build]));
    }
  }
  const [a, b] = [median(samples.baseline), median(samples.valor)];
  console.log(`| ${name}: ${cases[name].unit} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)} |`);
}
await browser.close();
process.exit(0);
