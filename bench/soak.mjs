// The soak: many requests through the page at once, across four plugins, in headless Chromium,
// while two of them fail on purpose:
//   hello     a fixed answer;
//   mirror    POST bodies echoed back;
//   sleeper   async, waits on the host (a 5 ms sleep) and panics after it on every 100th of its
//             requests (`--panic-every`); GET and POST alternate (both are replayed when another
//             request's panic takes their instance down, as they only slept);
//   hostile   loops for ever on every 500th of its requests (stopped by the default fuel).
// Every request must be answered; the failing ones with their stated 5xx, and fewer than 1% of
// the others with anything but their normal answer, sleeper's innocent ones (whose instance
// another request's panic takes down) counted on their own too; the worker's JS heap (measured after a
// garbage collection) must end where it started, within 1 MiB. Prints answers by plugin and
// status, the time, and the heap before and after; exits 1 if a criterion fails.
//
//   node bench/soak.mjs [--requests 10000] [--in-flight 200] [--panic-every 100]
//                       [--json target/bench/soak.json]
// Needs the apps built by scripts/build.sh (target/bench); scripts/soak.sh does both.
import { writeFileSync } from 'node:fs';
import { launchChromium, openPages, option, root, serveBenchApps, workerSession } from './harness.mjs';

const REQUESTS = Number(option('requests', 10000));
const IN_FLIGHT = Number(option('in-flight', 200));
const PANIC_EVERY = Number(option('panic-every', 100));
const JSON_OUT = option('json', `${root}target/bench/soak.json`);

const origin = await serveBenchApps();
const browser = await launchChromium();
const context = await browser.newContext();
const { valor: page } = await openPages(context, origin, ['valor']);
const worker = await workerSession(context, page);

async function heapMiB() {
  await worker('HeapProfiler.collectGarbage');
  const { usedSize, totalSize } = await worker('Runtime.getHeapUsage');
  return { usedMiB: usedSize / 2 ** 20, totalMiB: totalSize / 2 ** 20 };
}

// Every plugin loaded once, so that the heap before includes the instances.
await page.evaluate(async () => {
  for (const path of ['api/hello', 'api/sleeper/sleep?ms=1', 'api/hostile/warm']) await (await fetch(path)).text();
  await (await fetch('api/mirror', { method: 'POST', body: 'x' })).text();
});
const heapBefore = await heapMiB();

const soak = await page.evaluate(async ({ total, inFlight, panicEvery }) => {
  // What request `i` is, and what it must answer.
  const plan = (i) => {
    const nth = Math.floor(i / 4); // among its plugin's requests
    switch (i % 4) {
      case 0:
        return { plugin: 'hello', kind: 'normal', path: 'api/hello', status: 200, text: 'OK response from a plugin' };
      case 1: {
        const body = `body of request ${i}`;
        return { plugin: 'mirror', kind: 'normal', path: 'api/mirror', init: { method: 'POST', body }, status: 200, text: body };
      }
      case 2: {
        const init = { method: nth % 2 ? 'POST' : 'GET' };
        return nth % panicEvery === panicEvery - 1
          ? { plugin: 'sleeper', kind: 'panics', path: 'api/sleeper/sleep?ms=5&panic=1', init, status: 500, includes: 'deliberate panic after sleeping 5 ms' }
          : { plugin: 'sleeper', kind: 'normal', path: 'api/sleeper/sleep?ms=5', init, status: 200, text: 'slept 5 ms' };
      }
      default:
        return nth % 500 === 499
          ? { plugin: 'hostile', kind: 'loops', path: 'api/hostile/spin', status: 504, includes: 'used up its fuel' }
          : { plugin: 'hostile', kind: 'normal', path: `api/hostile/r${i}`, status: 200, text: `hostile at /r${i}` };
    }
  };
  const answers = {}; // "plugin kind status" -> count
  const wrong = []; // the first few answers that were not as planned
  let expected = 0, unexpected = 0, unanswered = 0, next = 0;
  const innocent = { sleeper: 0, wrong: 0 }; // sleeper's requests that do not panic
  const one = async (i) => {
    const request = plan(i);
    let status = 'no answer', text = '';
    try {
      const response = await fetch(request.path, request.init);
      [status, text] = [response.status, await response.text()];
    } catch (error) {
      unanswered++;
      text = String(error);
    }
    const key = `${request.plugin} ${request.kind} ${status}`;
    answers[key] = (answers[key] ?? 0) + 1;
    const ok = status === request.status && (request.text === undefined || text === request.text)
      && (request.includes === undefined || text.includes(request.includes));
    if (request.plugin === 'sleeper' && request.kind === 'normal') {
      innocent.sleeper++;
      if (!ok) innocent.wrong++;
    }
    if (ok) expected++;
    else {
      unexpected++;
      if (wrong.length < 10) wrong.push({ i, path: request.path, status, text: text.slice(0, 200) });
    }
  };
  const failing = Array.from({ length: total }, (_, i) => plan(i)).filter((r) => r.kind !== 'normal').length;
  const start = performance.now();
  const lane = async () => { while (next < total) await one(next++); };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return { ms: performance.now() - start, answers, wrong, expected, unexpected, unanswered, failing, innocent };
}, { total: REQUESTS, inFlight: IN_FLIGHT, panicEvery: PANIC_EVERY });

const heapAfter = await heapMiB();
await browser.close();

const normal = REQUESTS - soak.failing;
const failedAsStated = Object.entries(soak.answers)
  .filter(([key]) => !key.includes(' normal '))
  .reduce((sum, [key, n]) => sum + (/ panics 500$| loops 504$/.test(key) ? n : 0), 0);
const criteria = {
  'every request answered': soak.unanswered === 0,
  'every panic and loop answered its stated 5xx': failedAsStated === soak.failing,
  'fewer than 1% of the others answered anything but their normal answer': soak.unexpected < normal / 100,
  'fewer than 1% of sleeper\'s innocent requests answered anything but their normal answer':
    soak.innocent.wrong < soak.innocent.sleeper / 100,
  // A leak of 100 bytes per request would show as 1 MiB.
  'the worker\'s JS heap grew by less than 1 MiB': heapAfter.usedMiB - heapBefore.usedMiB < 1,
};
const result = { date: new Date().toISOString(), requests: REQUESTS, inFlight: IN_FLIGHT, panicEvery: PANIC_EVERY, ...soak, heapBefore, heapAfter, criteria };
writeFileSync(JSON_OUT, JSON.stringify(result, null, 2));

const f = (x, digits = 1) => x.toFixed(digits);
console.log(`Soak, ${result.date}: ${REQUESTS} requests, ${IN_FLIGHT} in flight, sleeper panicking on 1 in ${PANIC_EVERY}, in ${f(soak.ms / 1000)} s (${f(REQUESTS / (soak.ms / 1000), 0)} requests/s)\n`);
console.log('| plugin | request | status | answers |\n|---|---|---|---|');
for (const [key, n] of Object.entries(soak.answers).sort()) console.log(`| ${key.split(' ').join(' | ')} | ${n} |`);
console.log(`\nOther requests not answered normally: ${soak.unexpected - (soak.failing - failedAsStated)} of ${normal}`);
console.log(`Of them sleeper's innocent requests: ${soak.innocent.wrong} of ${soak.innocent.sleeper}`);
console.log(`Worker JS heap (used / total, MiB): before ${f(heapBefore.usedMiB)} / ${f(heapBefore.totalMiB)}, after ${f(heapAfter.usedMiB)} / ${f(heapAfter.totalMiB)}`);
for (const wrong of soak.wrong) console.log('unexpected:', JSON.stringify(wrong));
for (const [criterion, met] of Object.entries(criteria)) console.log(`${met ? 'ok  ' : 'FAIL'} ${criterion}`);
console.log(`\nJSON: ${JSON_OUT}`);
process.exit(Object.values(criteria).every(Boolean) ? 0 : 1);
