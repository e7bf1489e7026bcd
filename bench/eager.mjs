// The first API answer 300 ms after the worker started (as when a page's navigation started it),
// from a plugin loaded on its first request and from one with "eager": true, alternating, in one
// headless Chromium session. Two entries for hello.wasm are added to the bench app's manifest
// for the run (under their own URLs, so that neither shares the other's compiled module).
//
//   node bench/eager.mjs [--runs 9]      (build with scripts/build.sh first)
import { readFileSync, writeFileSync } from 'node:fs';
import { launchChromium, median, openPages, option, root, serveBenchApps, workerStopper } from './harness.mjs';
const RUNS = Number(option('runs', 9));
const manifestPath = `${root}target/bench/valor/plugins.json`;
const original = readFileSync(manifestPath, 'utf8');
const manifest = JSON.parse(original);
manifest.plugins.push({ name: 'hello-eager', prefix: '/valor/api/eager/hello', url: 'plugins/hello.wasm?eager', eager: true });
manifest.plugins.push({ name: 'hello-lazy', prefix: '/valor/api/lazy/hello', url: 'plugins/hello.wasm?lazy' });
writeFileSync(manifestPath, JSON.stringify(manifest));
try {
  const origin = await serveBenchApps();
  const browser = await launchChromium();
  const context = await browser.newContext();
  const pages = await openPages(context, origin, ['valor']);
  const stop = await workerStopper(context, pages.valor);
  const samples = { lazy: [], eager: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const kind of run % 2 ? ['eager', 'lazy'] : ['lazy', 'eager']) {
      await stop();
      samples[kind].push(await pages.valor.evaluate(async (path) => {
        await (await fetch('index.html', { cache: 'no-store' })).text(); // starts the worker
        await new Promise((r) => setTimeout(r, 300));
        const start = performance.now();
        await (await fetch(path)).text();
        return performance.now() - start;
      }, `api/${kind}/hello`));
    }
  }
  console.log(`first answer 300 ms after the worker started, median of ${RUNS}: lazy ${median(samples.lazy).toFixed(1)} ms, eager ${median(samples.eager).toFixed(1)} ms`);
  await browser.close();
} finally {
  writeFileSync(manifestPath, original);
}
process.exit(0);
