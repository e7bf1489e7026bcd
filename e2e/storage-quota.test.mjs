// IndexedDB refusing a plugin's write for quota, in a real service worker: the plugin's request
// answers 507 with the reason, nothing of the refused write is stored (a bigger value refused
// leaves the old one, a compare-and-swap refused leaves the old value), reads and other plugins
// keep answering. The quota is made small per engine: Chromium by DevTools
// (Storage.overrideQuotaForOrigin), Firefox by its quota manager's fixed limit (a preference).
// WebKitGTK offers no way (see WEBKIT_HAS_NO_QUOTA_KNOB): it is skipped, and says why.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEngine } from './browsers.mjs';
import { inPage, openApp, startSite } from './fixtures/storage-site.mjs';

const MiB = 1024 * 1024;

// How each engine gets a small quota; `limit` runs once the app is open and says what it set.
const QUOTA = {
  chromium: {
    options: {},
    async limit(driver, origin) {
      const { usage } = await inPage(driver, () => navigator.storage.estimate());
      const quotaSize = usage + 4 * MiB;
      await driver.sendDevToolsCommand('Storage.overrideQuotaForOrigin', { origin, quotaSize });
      return `Storage.overrideQuotaForOrigin ${quotaSize} bytes (usage ${usage} + 4 MiB)`;
    },
  },
  // The limit of all temporary storage, in KiB; under 10 MiB, one origin may use all of it.
  firefox: {
    options: { 'moz:firefoxOptions': { prefs: { 'dom.quotaManager.temporaryStorage.fixedLimit': 8 * 1024 } } },
    limit: async () => 'dom.quotaManager.temporaryStorage.fixedLimit 8192 KiB',
  },
};

// WebKitGTK's quota of an origin is set by the embedding application (WebKitWebsiteDataManager's
// origin-storage-ratio, a share of the volume of its data directory). MiniBrowser, the browser
// WebKitWebDriver drives, has no option for it, runs automation sessions ephemeral (in memory:
// no data directory to put on a small volume) and has no navigator.storage; the WebDriver session
// has no capability nor command for it. Measured (WebKitGTK 2.50): 1.4 GiB of random values
// stored by a plugin without a refusal, in 22 s.
const WEBKIT_HAS_NO_QUOTA_KNOB = 'WebKitGTK: MiniBrowser and WebDriver offer no way to make the quota small';

// In the page: values written until the quota refuses one, then what the app sees.
async function fillUntilRefused() {
  const random = (n) => {
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
    return bytes;
  };
  // Text that compresses little (Firefox compresses stored values): random bytes in base64.
  const randomText = (n) => {
    const bytes = random(n);
    let binary = '';
    for (let i = 0; i < n; i += 8192) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
    return btoa(binary);
  };
  const MiB = 1024 * 1024;
  const answer = async (response) => ({ status: response.status, text: await response.text() });
  const put = (key, body) => fetch(`/api/host/kv?key=${encodeURIComponent(key)}`, { method: 'PUT', body });
  const json = (method, path, value) => fetch(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
  const out = {};
  // Every answer from the first refusal on, by status (the figures of RELIABILITY.md); a request
  // that got no answer at all would be counted as lost.
  const network = window.fetch;
  let counting = false;
  out.during = { lost: 0 };
  window.fetch = async (...args) => {
    try {
      const response = await network(...args);
      if (counting) out.during[response.status] = (out.during[response.status] ?? 0) + 1;
      return response;
    } catch (error) {
      if (counting) out.during.lost += 1;
      throw error;
    }
  };

  const kept = random(64 * 1024);
  out.kept = (await put('kept', kept)).status;
  const created = await json('POST', '/api/todos', { title: 'before the quota' });
  out.created = created.status;
  const todo = await created.json();

  const CHUNK = 512 * 1024;
  out.written = 0;
  for (let i = 0; i < 200; i++) {
    const response = await put(`fill/${i}`, random(CHUNK));
    if (response.status !== 204) {
      counting = true;
      out.during[response.status] = 1;
      out.refused = { key: `fill/${i}`, ...(await answer(response)) };
      out.refusedKeyAfter = (await fetch(`/api/host/kv?key=fill/${i}`)).status;
      // What still fits is still written (in Firefox, past the cleanup transaction it opens).
      out.smallAfter = (await put('small', random(16))).status;
      break;
    }
    out.written += CHUNK;
  }

  out.bigger = await answer(await put('kept', random(2 * MiB)));
  const back = new Uint8Array(await (await fetch('/api/host/kv?key=kept')).arrayBuffer());
  out.keptUnchanged = back.length === kept.length && back.every((byte, i) => byte === kept[i]);

  out.swap = await answer(await json('PATCH', `/api/todos/${todo.id}`, { title: randomText(1.5 * MiB) }));
  out.titleAfter = (await (await fetch(`/api/todos/${todo.id}`)).json()).title;
  // A JavaScript plugin's write refused, uncaught: answered as a Rust plugin's `?` would.
  out.jsCreate = await answer(await json('POST', '/api/js/todos', { title: randomText(1.5 * MiB) }));
  out.jsList = await answer(await fetch('/api/js/todos'));
  out.hello = (await fetch('/api/hello')).status;
  out.usage = (await navigator.storage.estimate()).usage;

  // Room made again: the values written to fill it deleted, the bigger value fits (tried until
  // it does, for 20 s at most: engines may free the space after the deletions commit).
  for (let i = 0; out.written > i * CHUNK; i++) await fetch(`/api/host/kv?key=fill/${i}`, { method: 'DELETE' });
  const freed = performance.now();
  out.retries = 0;
  do {
    out.recovered = (await put('kept', random(2 * MiB))).status;
    if (out.recovered === 204) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  } while (++out.retries && performance.now() - freed < 20_000);
  out.recoveryMs = Math.round(performance.now() - freed);
  window.fetch = network;
  return out;
}

describe('IndexedDB over quota', { timeout: 300_000 }, () => {
  let site;
  before(async () => { site = await startSite(); });
  after(() => site?.close());

  for (const name of ['chromium', 'firefox']) {
    test(`${name}: a write refused for quota answers 507 and stores nothing of it`, async () => {
      const engine = await startEngine(name);
      const driver = await engine.session(QUOTA[name].options);
      try {
        await openApp(driver, site.origin);
        const limit = await QUOTA[name].limit(driver, site.origin);
        const seen = await inPage(driver, fillUntilRefused);
        // The figures (RELIABILITY.md): what was set, written, refused and said.
        console.log(`${name}: ${limit}; ${seen.written} bytes written in 512 KiB values before the 507; `
          + `usage then ${seen.usage}; said: ${seen.refused?.text}; the JavaScript plugin: ${seen.jsCreate?.text}; `
          + `once the filling values were deleted, the bigger value answered ${seen.recovered} after ${seen.retries} `
          + `refusals, ${seen.recoveryMs} ms; answers from the first refusal on: ${JSON.stringify(seen.during)}`);
        assert.deepEqual([seen.kept, seen.created], [204, 201], 'the writes before the quota was reached');
        assert.ok(seen.refused, `no write was refused after ${seen.written} bytes`);
        assert.equal(seen.refused.status, 507, seen.refused.text);
        assert.match(seen.refused.text,
          new RegExp(`^storage full: writing key "${seen.refused.key}" in namespace "host-api" failed: QuotaExceededError`));
        assert.equal(seen.refusedKeyAfter, 404, 'the refused value is not there');
        assert.equal(seen.smallAfter, 204, 'a small value still fits');
        assert.equal(seen.bigger.status, 507, seen.bigger.text);
        assert.ok(seen.keptUnchanged, 'a bigger value refused left the old one as it was');
        assert.equal(seen.swap.status, 507, `the compare-and-swap: ${seen.swap.text}`);
        // The todos plugin answers its errors as JSON.
        assert.match(JSON.parse(seen.swap.text).error,
          new RegExp(`^storage full: writing key "todo/[-0-9a-f]+" in namespace "todos" failed: QuotaExceededError`));
        assert.equal(seen.titleAfter, 'before the quota', 'a compare-and-swap refused left the old value');
        assert.equal(seen.jsCreate.status, 507, `a JavaScript plugin's write: ${seen.jsCreate.text}`);
        assert.deepEqual([seen.jsList.status, seen.jsList.text], [200, '[]'], 'nothing of it stored');
        assert.equal(seen.hello, 200, 'another plugin still answers');
        assert.equal(seen.recovered, 204, 'once values are deleted, the bigger value fits');
        assert.equal(seen.during.lost, 0, 'every request was answered');
      } finally {
        await driver.quit();
        engine.stop();
      }
    });
  }

  test('webkit: a write refused for quota answers 507', { skip: WEBKIT_HAS_NO_QUOTA_KNOB }, () => {});
});
