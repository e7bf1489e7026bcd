// The format of the plugins' values in IndexedDB (database `valor`, version 1, object store `kv`
// of `Uint8Array` values under `[namespace, key]`), in a real service worker in each engine:
// a database of today's format written with the raw IndexedDB API, as no Valor wrote it, is read
// by plugins through Valor; a database at a newer version, as a newer Valor would leave it, is
// refused with a message that says what to do, and touched by nothing, while a plugin that keeps
// no values keeps answering.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES, startEngine } from './browsers.mjs';
import { inPage, openApp, startSite } from './fixtures/storage-site.mjs';

// A todo as the todos plugin stores it (its `url` is made anew for every answer).
const TODO = { id: '0b6f1c2e-4a55-4f1e-9d8a-2f0c3e4b5a69', title: 'written by a fixture', done: true, created_ms: 1700000000000 };
const FIXTURE_BYTES = [0, 1, 2, 127, 128, 254, 255];

// In the page, with the raw IndexedDB API: the database `name` at `version`, holding `entries`
// ([namespace, key, bytes]) in its object store `kv`. Resolves once it is written and closed.
async function writeDatabase(name, version, entries) {
  await new Promise((resolve, reject) => {
    const deletion = indexedDB.deleteDatabase(name);
    deletion.onsuccess = resolve;
    deletion.onerror = () => reject(deletion.error);
    deletion.onblocked = () => reject(new Error(`deleting ${name} is blocked by an open connection`));
  });
  const database = await new Promise((resolve, reject) => {
    const request = indexedDB.open(name, version);
    request.onupgradeneeded = () => {
      const store = request.result.createObjectStore('kv');
      for (const [namespace, key, bytes] of entries) store.put(new Uint8Array(bytes), [namespace, key]);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  database.close();
}

// In the page: the version of the database `name` and the keys in its `kv`, read raw.
async function readDatabase(name) {
  const database = await new Promise((resolve, reject) => {
    const request = indexedDB.open(name);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const keys = await new Promise((resolve, reject) => {
    const request = database.transaction('kv').objectStore('kv').getAllKeys();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  database.close();
  return { version: database.version, keys };
}

// In the page: requests through Valor, each answered as { status, text, retryAfter }.
async function ask(requests) {
  const answers = [];
  for (const [method, path, body] of requests) {
    const response = await fetch(path, body === undefined ? { method } : { method, body, headers: { 'content-type': 'application/json' } });
    answers.push({ status: response.status, text: await response.text(), retryAfter: response.headers.get('retry-after') });
  }
  return answers;
}

describe('the stored format', { timeout: 300_000 }, () => {
  let site;
  before(async () => { site = await startSite(); });
  after(() => site?.close());

  for (const name of Object.keys(ENGINES)) {
    test(`${name}: today's format written raw is read; a newer version is refused with what to do`, async () => {
      const engine = await startEngine(name);
      const driver = await engine.session();
      try {
        await openApp(driver, site.origin);
        const todoBytes = [...new TextEncoder().encode(JSON.stringify(TODO))];
        await inPage(driver, writeDatabase, 'valor', 1, [
          ['todos', `todo/${TODO.id}`, todoBytes],
          ['host-api', 'fixture', FIXTURE_BYTES],
        ]);
        const [fixture, todos, created, after] = await inPage(driver, ask, [
          ['GET', '/api/host/kv/scan?prefix=fix'],
          ['GET', '/api/todos'],
          ['POST', '/api/todos', JSON.stringify({ title: 'written through Valor' })],
          ['GET', '/api/todos'],
        ]);
        assert.equal(fixture.status, 200, fixture.text);
        assert.deepEqual(JSON.parse(fixture.text), [['fixture', new TextDecoder().decode(new Uint8Array(FIXTURE_BYTES))]]);
        assert.equal(todos.status, 200, todos.text);
        assert.deepEqual(JSON.parse(todos.text).map(({ url, ...todo }) => todo), [TODO]);
        assert.equal(created.status, 201, created.text);
        assert.deepEqual(JSON.parse(after.text).map((todo) => todo.title), [TODO.title, 'written through Valor']);

        // A newer Valor's database: the worker's connection closes when asked (deleteDatabase
        // is not blocked), then every kv request answers why, and nothing is changed.
        await inPage(driver, writeDatabase, 'valor', 2, [['host-api', 'newer', [2]]]);
        const answers = await inPage(driver, ask, [
          ['GET', '/api/host/kv?key=newer'],
          ['PUT', '/api/host/kv?key=newer', 'x'],
          ['GET', '/api/todos'],
          ['GET', '/api/hello'],
        ]);
        const expected = 'the IndexedDB database valor is at version 2, written by a newer Valor; this Valor reads '
          + 'version 1 and older. Serve the newer Valor again, or delete the site\'s data to start empty';
        for (const answer of answers.slice(0, 3)) {
          // A store failure that is neither full nor unavailable: 503, without retry-after.
          assert.deepEqual([answer.status, answer.retryAfter], [503, null], answer.text);
          assert.ok(answer.text.includes(expected), answer.text);
        }
        console.log(`${name}: a newer database answers ${answers[0].status}: ${answers[0].text}`);
        assert.equal(answers[3].status, 200, `a plugin without kv still answers: ${answers[3].text}`);
        assert.deepEqual(await inPage(driver, readDatabase, 'valor'), { version: 2, keys: [['host-api', 'newer']] });
      } finally {
        await driver.quit();
        engine.stop();
      }
    });
  }
});
