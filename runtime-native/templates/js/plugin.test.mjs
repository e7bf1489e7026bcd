// The plugin's handler, in Node (which has the same Request and Response): `node --test`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import plugin from './{{name}}.mjs';

const env = { mount: '/api/{{name}}', config: {}, origin: 'http://localhost' };
const send = (path, init) => plugin.fetch(new Request(`http://localhost/api/{{name}}${path}`, init), env);

test('it greets', async () => {
  const answer = await send('/');
  assert.equal(answer.status, 200);
  assert.equal(await answer.text(), 'Hello from {{name}}');
});

test('it echoes JSON, and says when the body is not JSON', async () => {
  const echoed = await send('/echo', { method: 'POST', body: '{"a":1}' });
  assert.deepEqual(await echoed.json(), { echo: { a: 1 } });
  assert.equal((await send('/echo', { method: 'POST', body: 'nope' })).status, 400);
});

test('other paths answer 404', async () => {
  assert.equal((await send('/nothing')).status, 404);
});
