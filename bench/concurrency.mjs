// Benchmark: N concurrent page fetches through the service worker to a plugin handler that
// sleeps S ms, against S ms (the ideal: all of them sleeping at once). Prints a table.
//   node bench/concurrency.mjs [--requests 1000] [--sleep-ms 50] [--runs 5]
// Needs the app built by scripts/build.sh (target/bench); scripts/bench.sh does both.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../e2e/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const requests = arg('requests', 1000);
const sleepMs = arg('sleep-ms', 50);
const runs = arg('runs', 5);
const port = arg('port', 8181);

const server = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', `${root}/target/bench`], { stdio: 'ignore' });
process.on('exit', () => server.kill());
const url = `http://127.0.0.1:${port}/`;
for (let i = 0; i < 100; i++) {
  try { if ((await fetch(url)).ok) break; } catch { /* starting */ }
  await new Promise((r) => setTimeout(r, 100));
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const page = await browser.newPage();
await page.goto(url);
await page.evaluate(() => window.controlled);

const measure = (n, ms) => page.evaluate(async ([n, ms]) => {
  await fetch('/api/sleeper/reset');
  const start = performance.now();
  const answers = await Promise.all(
    Array.from({ length: n }, () => fetch(`/api/sleeper/sleep?ms=${ms}`).then((r) => r.status)),
  );
  const elapsed = performance.now() - start;
  const stats = await (await fetch('/api/sleeper/stats')).json();
  return { elapsed, ok: answers.filter((s) => s === 200).length, maxInFlight: stats.max_in_flight };
}, [n, ms]);

await measure(50, sleepMs); // warm-up: load and instantiate the plugin
const results = [];
for (let i = 0; i < runs; i++) results.push(await measure(requests, sleepMs));
await browser.close();

const elapsed = results.map((r) => r.elapsed).sort((a, b) => a - b);
const median = elapsed[Math.floor(elapsed.length / 2)];
const failed = results.some((r) => r.ok !== requests);
console.log(`${requests} concurrent requests, handler sleeps ${sleepMs} ms, ${runs} runs (Chromium headless)`);
console.log(`  wall time   median ${median.toFixed(1)} ms   min ${elapsed[0].toFixed(1)}   max ${elapsed.at(-1).toFixed(1)}`);
console.log(`  ideal       ${sleepMs} ms  ->  median / ideal = ${(median / sleepMs).toFixed(2)}`);
console.log(`  overhead    ${((median - sleepMs) / requests * 1000).toFixed(1)} us per request beyond the sleep`);
console.log(`  max in flight in the plugin: ${Math.max(...results.map((r) => r.maxInFlight))} of ${requests}`);
if (failed) { console.error('some requests failed'); process.exit(1); }
