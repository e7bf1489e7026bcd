// A/B of two builds of Valor in one headless Chromium session, for changes too small to show
// through the noise of separate runs: in-worker dispatch, the two builds alternating.
//
//   node bench/ab.mjs --save    keep the current build (target/bench/valor) as the baseline
//   node bench/ab.mjs [--runs 9] [--only hello,echo]
//                               the baseline against the current build
// Build with scripts/build.sh before each step.
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { launchChromium, median, openPages, option, root, serveBenchApps } from './harness.mjs';

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
const cases = {
  hello: { kind: 'dispatch', path: 'api/hello', n: 1000 },
  echo: { kind: 'dispatch', path: 'api/echo', bytes: 1024, n: 500 },
};
const only = option('only', Object.keys(cases).join(',')).split(',');
const origin = await serveBenchApps();
const browser = await launchChromium();
const pages = await openPages(await browser.newContext(), origin, ['baseline', 'valor']);
console.log(`in-worker dispatch, µs/request, median of ${RUNS} alternating runs\n`);
console.log('| case | baseline | current | current / baseline |\n|---|---|---|---|');
for (const name of only) {
  const samples = { baseline: [], valor: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const build of run % 2 ? ['valor', 'baseline'] : ['baseline', 'valor']) {
      const { medianUs } = await pages[build].evaluate((m) => bench.inWorker(m), cases[name]);
      samples[build].push(medianUs);
    }
  }
  const [a, b] = [median(samples.baseline), median(samples.valor)];
  console.log(`| ${name} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)} |`);
}
await browser.close();
process.exit(0);
