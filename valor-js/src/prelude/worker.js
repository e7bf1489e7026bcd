// The plugin's side of a request: the Worker message interface (onmessage / postMessage with
// x-request-id and x-correlation-id), a `fetch` event listener, or a module's default export
// `{ fetch(request, env, ctx) }`; answers streamed from a ReadableStream, and waitUntil; and
// the key-value store.

// Host operations in flight: op id -> { resolve, reject }, settled by the engine.
const operations = new Map();
function operation(op) {
  return new Promise((resolve, reject) => operations.set(op, { resolve, reject }));
}
function forget(op) {
  operations.delete(op);
  host.cancel(op);
}
function settle(op, error, value) {
  const waiting = operations.get(op);
  if (!waiting) return;
  operations.delete(op);
  if (error === undefined) waiting.resolve(value);
  else waiting.reject(new Error(error));
}

// What the manifest entry says, readable by the script.
const valor = Object.freeze({
  config: site.config,
  mount: site.mount,
  origin: site.origin,
});

const listeners = { message: [], fetch: [] };
let defaultExport = null;

function addEventListener(type, listener) {
  if (listeners[type] && typeof listener === 'function' && !listeners[type].includes(listener)) {
    listeners[type].push(listener);
  }
}
function removeEventListener(type, listener) {
  if (listeners[type]) listeners[type] = listeners[type].filter((l) => l !== listener);
}

// Request ids not answered yet (a reply to any other id is dropped).
const unanswered = new Set();

// A postMessage reply: `{status, headers: [[name, value], ...], body}` with an
// `x-correlation-id` header naming the request it answers.
function postMessage(message) {
  const headers = new Headers(message?.headers);
  const id = headers.get('x-correlation-id');
  if (id === null) {
    console.error('postMessage: the reply has no x-correlation-id header (the x-request-id of the request it answers); it was dropped');
    return;
  }
  if (!unanswered.has(id)) return; // answered already, or given up by the host (timed out)
  answer(id, message.status ?? 200, headers, message.body ?? null);
}

function answer(id, status, headers, body) {
  if (!unanswered.delete(id)) return;
  try {
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError(`the reply's status is an integer from 200 to 599, not ${status}`);
    }
    const pairs = (headers instanceof Headers ? headers : new Headers(headers))._pairs();
    if (body instanceof ReadableStream) {
      const reader = body.getReader(); // a TypeError if the stream is locked
      try {
        host.respond(id, status, pairs, null, true);
      } catch (error) {
        reader.releaseLock();
        throw error;
      }
      bodies.set(id, reader);
    } else host.respond(id, status, pairs, bodyBytes(body), false);
  } catch (error) {
    host.fail(id, describe(error));
  }
}

// Streamed answers: request id -> the reader of the script's stream, read once each time the
// host asks for the next chunk (so the source's pull runs only as fast as the answer's reader).
const bodies = new Map();

// Called by the engine: hands back the stream's next chunk (empty ones skipped), or its end;
// a stream that errors, or gives a chunk that is not bytes or a string, ends the body early,
// with the error as the reason.
function pullBody(id) {
  const reader = bodies.get(id);
  if (reader === undefined) {
    host.chunk(id, null, 'the stream of the answer was cancelled');
    return;
  }
  reader.read().then(({ value, done }) => {
    if (bodies.get(id) !== reader) return;
    if (done) {
      bodies.delete(id);
      host.chunk(id, null, null);
      return;
    }
    const bytes = chunkBytes(value);
    if (bytes.byteLength === 0) pullBody(id);
    else host.chunk(id, bufferOf(bytes), null);
  }).catch((error) => {
    if (bodies.get(id) !== reader) return;
    bodies.delete(id);
    reader.cancel(error).catch(() => {});
    host.chunk(id, null, error instanceof Error ? `${error.name}: ${error.message}` : formatted([error]));
  });
}

// Called by the engine when the reader of the answer went away: cancels the stream.
function cancelBody(id) {
  const reader = bodies.get(id);
  if (reader === undefined) return;
  bodies.delete(id);
  reader.cancel(new DOMException('the reader of the answer went away', 'AbortError')).catch(() => {});
}

// `waitUntil(promise)` of request `id`: the request goes on until `promise` settles (a
// rejection is logged), after its answer if need be. Once the request is over (answered, its
// body ended, and every promise it waited for settled) there is nothing to extend.
function waitUntil(id, promise) {
  if (!host.extend(id, true)) {
    throw new DOMException('the request is over: waitUntil extends a request until its answer and the work it waits for are done', 'InvalidStateError');
  }
  Promise.resolve(promise)
    .catch((error) => console.error(describe(error)))
    .then(() => host.extend(id, false));
}

// The host gave up on request `id`.
function abandon(id) {
  unanswered.delete(id);
}

function fail(id, error) {
  if (error instanceof StorageError) {
    // As a Rust plugin's `?` answers it: 507 when full, 503 (with retry-after) otherwise.
    const headers = [['content-type', 'text/plain; charset=utf-8']];
    if (error.failure === 'unavailable') headers.push(['retry-after', String(host.retryAfterSeconds)]);
    answer(id, error.status, headers, error.message);
    return;
  }
  if (unanswered.delete(id)) host.fail(id, describe(error));
}

function describe(error) {
  if (error instanceof Error) {
    const stack = error.stack ? '\n' + error.stack.trimEnd() : '';
    return `Uncaught ${error.name}: ${error.message}${stack}`;
  }
  return `Uncaught ${formatted([error])}`;
}

function isResponse(value) {
  return value instanceof Response;
}

async function answerWith(id, produced) {
  const response = await produced;
  if (!isResponse(response)) throw new TypeError(`the fetch handler returned ${formatted([response])}, not a Response`);
  answer(id, response.status, response.headers, response._payload());
}

// Called by the engine for each request; a streamed body comes as its number, made a stream.
function dispatch(id, data) {
  unanswered.add(id);
  if (typeof data.body === 'number') data.body = hostBody(data.body);
  try {
    if (defaultExport && typeof defaultExport.fetch === 'function') {
      const context = { waitUntil: (promise) => waitUntil(id, promise), passThroughOnException() {} };
      answerWith(id, defaultExport.fetch(requestOf(data), moduleEnv, context)).catch((error) => fail(id, error));
    } else if (listeners.fetch.length) {
      dispatchFetch(id, requestOf(data));
    } else if (typeof globalThis.onmessage === 'function' || listeners.message.length) {
      const event = { type: 'message', data, target: globalThis };
      for (const listener of [globalThis.onmessage, ...listeners.message]) {
        if (typeof listener !== 'function') continue;
        const returned = listener.call(globalThis, event);
        if (returned && typeof returned.then === 'function') returned.then(undefined, (error) => fail(id, error));
      }
    } else {
      fail(id, new Error('the script handles no requests: set self.onmessage, add a "fetch" event listener, or export default { fetch(request) { ... } }'));
    }
  } catch (error) {
    fail(id, error);
  }
}

function dispatchFetch(id, request) {
  let responded = null;
  const event = {
    type: 'fetch',
    request,
    respondWith(response) {
      if (responded) throw new DOMException('respondWith was already called', 'InvalidStateError');
      responded = Promise.resolve(response);
    },
    waitUntil(promise) {
      waitUntil(id, promise);
    },
  };
  for (const listener of listeners.fetch) {
    const returned = listener.call(globalThis, event);
    if (!responded && returned !== undefined) responded = Promise.resolve(returned);
    if (responded) break;
  }
  if (!responded) throw new Error('no "fetch" listener answered: call event.respondWith(response)');
  answerWith(id, responded).catch((error) => fail(id, error));
}

function requestOf(data) {
  return hostRequest(data.url, { method: data.method, headers: data.headers, body: data.body });
}

function setModule(namespace) {
  defaultExport = namespace.default ?? null;
}

// The plugin's key-value store: the same namespace, keys and limits as a Rust plugin's.
// Values are bytes; `get` reads them as 'text' (the default), 'json' or 'arrayBuffer'.
function readAs(bytes, type) {
  if (bytes === null) return null;
  switch (typeof type === 'object' && type !== null ? type.type ?? 'text' : type) {
    case 'text':
      return host.decode(bytes, false);
    case 'json':
      return JSON.parse(host.decode(bytes, false));
    case 'arrayBuffer':
      return bytes;
    default:
      throw new TypeError(`kv reads values as 'text', 'json' or 'arrayBuffer', not ${formatted([type])}`);
  }
}
function valueBytes(value) {
  if (typeof value === 'string') return host.encode(value);
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return bufferOf(value).slice(0);
  throw new TypeError('kv.set stores a string or bytes: JSON.stringify an object first');
}
// A failed store command: `failure` is 'unavailable' (try again later), 'full' (nothing was
// written) or 'failed'; `status` is what the request answers if the script does not catch it.
class StorageError extends Error {
  constructor(message) {
    const [, kind, reason] = /^(unavailable|full): ([\s\S]*)$/.exec(message) ?? [null, 'failed', message];
    super(`storage ${kind}: ${reason}`);
    this.name = 'StorageError';
    this.failure = kind;
    this.status = kind === 'full' ? 507 : 503;
  }
}
function command(name, key, value) {
  return operation(host.kv(name, String(key), value)).catch((error) => {
    throw new StorageError(error.message);
  });
}
const kv = Object.freeze({
  async get(key, type = 'text') {
    return readAs(await command('get', key, null), type);
  },
  async set(key, value) {
    await command('set', key, valueBytes(value));
  },
  async delete(key) {
    await command('delete', key, null);
  },
  async keys(prefix = '') {
    return command('keys', prefix, null);
  },
  async entries(prefix = '', type = 'text') {
    const entries = await command('entries', prefix, null);
    return entries.map(([key, bytes]) => [key, readAs(bytes, type)]);
  },
});

// The module interface's `env`, the same for every request (its `ctx` is the request's own).
const moduleEnv = Object.freeze({ ...valor, kv });
