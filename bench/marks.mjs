// The service worker's performance marks (runtime-wasm's `sys::mark`, valor-worker.js's) after
// cold starts of Valor's bench app: each mark's median, in ms since the worker started, and the
// page's time to the answer. Marks a run did not reach (a revalidation 1 s later, say) show the
// median of the runs that did.
//
//   node bench/marks.mjs [--runs 9] [--path api/js/hello]
// Needs the apps built by scripts/build.sh (target/bench).
import { firstAnswer, launchChromium, median, openPages, option, serveBenchApps, workerStopper } from './harness.mjs';

const RUNS = Number(option('runs', 9));
const PATH = option('path', 'api/hello');
const origin = await serveBenchApps();
const browser = await launchChromium();
const context = await browser.newContext();
const pages = await openPages(context, origin, ['valor']);
const stopWorkers = await workerStopper(context, pages.valor);
const all = {};
for (let run = 0; run < RUNS; run++) {
  const pageMs = await firstAnswer(pages.valor, stopWorkers, { path: PATH });
  const marks = await pages.valor.evaluate(() => bench.inWorker({ kind: 'marks' }));
  for (const [name, ms] of Object.entries({ ...marks, 'page: the answer': pageMs })) (all[name] ??= []).push(ms);
}
console.log(`cold starts of ${PATH}, medians of ${RUNS} (ms; marks since the worker started)`);
for (const [name, times] of Object.entries(all).sort((a, b) => median(a[1]) - median(b[1]))) {
  console.log(`${name.padEnd(44)} ${median(times).toFixed(1)}${times.length < RUNS ? ` (${times.length} runs)` : ''}`);
}
await browser.close();
process.exit(0);
