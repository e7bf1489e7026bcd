// Headers, Request, Response and fetch, as in workers. A body is held whole, or is a
// ReadableStream: the script's (a Response's is streamed to the host as its reader asks), or
// the host's (a streamed request body, a fetched response's), read as the script pulls it.

// Bytes of a body given as a string, ArrayBuffer, typed array, URLSearchParams or null.
function bodyBytes(body) {
  if (body === null || body === undefined) return null;
  if (typeof body === 'string') return host.encode(body);
  if (body instanceof URLSearchParams) return host.encode(body.toString());
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return bufferOf(body).slice(0);
  throw new TypeError('a body is a string, an ArrayBuffer, a typed array, URLSearchParams, a ReadableStream or null');
}

// A body as held: a ReadableStream as given, otherwise its bytes.
const bodyOf = (body) => (body instanceof ReadableStream ? body : bodyBytes(body));

// A chunk of a streamed body as bytes: strings are encoded as UTF-8; anything but a string, an
// ArrayBuffer or a typed array is a TypeError.
function chunkBytes(chunk) {
  if (typeof chunk === 'string') return new Uint8Array(host.encode(chunk));
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`a chunk of a body is a string, an ArrayBuffer or a typed array, not ${chunk === null ? 'null' : typeof chunk}`);
}

// A body the host hands over as it is read (PROTOCOL.md, section 18), by its number: a
// ReadableStream of Uint8Array reading one chunk from the host per pull. Cancelling it, or
// letting go of it unread, closes the body. A read that fails errors the stream with the host's
// message, and a `status`: 413 when the body is larger than the entry's max_stream_bytes, 400
// otherwise (a broken upload or connection, no bytes within stream_idle_ms).
const unreachable = new FinalizationRegistry((number) => host.close(number));
function hostBody(number) {
  const stream = new ReadableStream(
    {
      async pull(controller) {
        let bytes;
        try {
          bytes = await operation(host.read(number));
        } catch (failed) {
          const [, status, message] = /^(\d{3}) ([\s\S]*)$/.exec(failed.message) ?? [null, '400', failed.message];
          const error = new Error(message);
          error.status = Number(status);
          throw error;
        }
        if (bytes === null) controller.close();
        else controller.enqueue(new Uint8Array(bytes));
      },
      cancel() {
        host.close(number);
      },
    },
    { highWaterMark: 0 },
  );
  unreachable.register(stream, number);
  return stream;
}

// All the bytes of a stream, in one ArrayBuffer.
async function collect(stream) {
  const reader = stream.getReader();
  const chunks = [];
  let length = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const bytes = chunkBytes(value);
    chunks.push(bytes);
    length += bytes.byteLength;
  }
  const all = new Uint8Array(length);
  let at = 0;
  for (const bytes of chunks) {
    all.set(bytes, at);
    at += bytes.byteLength;
  }
  return all.buffer;
}

// Header names already checked, lower-cased: most requests repeat the same few.
const knownNames = new Map();
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const isSpace = (code) => code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;

class Headers {
  #list = []; // [lower-case name, value], in insertion order
  constructor(init) {
    if (init instanceof Headers) this.#list = init.#list.map((pair) => [pair[0], pair[1]]);
    else if (Array.isArray(init)) {
      for (let i = 0; i < init.length; i++) this.#appendPair(init[i]);
    } else if (init && typeof init[Symbol.iterator] === 'function') {
      for (const pair of init) this.#appendPair(pair);
    } else if (init && typeof init === 'object') {
      for (const name of Object.keys(init)) this.append(name, init[name]);
    }
  }
  #appendPair(pair) {
    const items = Array.isArray(pair) ? pair : [...pair];
    if (items.length !== 2) throw new TypeError('header pairs must have two items');
    this.append(items[0], items[1]);
  }
  static #name(name) {
    const known = knownNames.get(name);
    if (known !== undefined) return known;
    const lower = String(name).toLowerCase();
    if (!TOKEN.test(lower)) throw new TypeError(`invalid header name: "${name}"`);
    if (typeof name === 'string' && knownNames.size < 512) knownNames.set(name, lower);
    return lower;
  }
  static #value(value) {
    let text = String(value);
    if (text.length && (isSpace(text.charCodeAt(0)) || isSpace(text.charCodeAt(text.length - 1)))) {
      text = text.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
    }
    if (text.includes('\0') || text.includes('\n') || text.includes('\r')) throw new TypeError(`invalid header value: "${value}"`);
    return text;
  }
  append(name, value) {
    this.#list.push([Headers.#name(name), Headers.#value(value)]);
  }
  delete(name) {
    const lower = Headers.#name(name);
    this.#list = this.#list.filter(([n]) => n !== lower);
  }
  get(name) {
    const lower = Headers.#name(name);
    let found = null;
    for (let i = 0; i < this.#list.length; i++) {
      const pair = this.#list[i];
      if (pair[0] === lower) found = found === null ? pair[1] : `${found}, ${pair[1]}`;
    }
    return found;
  }
  getSetCookie() {
    return this.#list.filter(([n]) => n === 'set-cookie').map(([, v]) => v);
  }
  has(name) {
    const lower = Headers.#name(name);
    for (let i = 0; i < this.#list.length; i++) if (this.#list[i][0] === lower) return true;
    return false;
  }
  set(name, value) {
    const lower = Headers.#name(name);
    const at = this.#list.findIndex(([n]) => n === lower);
    const entry = [lower, Headers.#value(value)];
    if (at < 0) this.#list.push(entry);
    else this.#list = this.#list.filter(([n], i) => n !== lower || i === at).map((pair, i) => (i === at ? entry : pair));
  }
  // Sorted by name, repeated names combined (but for set-cookie), as `fetch` shows them.
  *entries() {
    const names = [...new Set(this.#list.map(([n]) => n))].sort();
    for (const name of names) {
      if (name === 'set-cookie') for (const value of this.getSetCookie()) yield [name, value];
      else yield [name, this.get(name)];
    }
  }
  *keys() {
    for (const [name] of this.entries()) yield name;
  }
  *values() {
    for (const [, value] of this.entries()) yield value;
  }
  forEach(callback, thisArg) {
    for (const [name, value] of this.entries()) callback.call(thisArg, value, name, this);
  }
  [Symbol.iterator]() {
    return this.entries();
  }
  // A copy of every pair as given, for the host.
  _pairs() {
    return this.#list.map((pair) => [pair[0], pair[1]]);
  }
}

// What Request and Response share: a body read once, as text, JSON or bytes, or through its
// stream (`body`, made over the bytes when first asked for); reading either uses it.
class Body {
  #bytes = null; // ArrayBuffer, or null
  #stream = null; // the ReadableStream given, or made over #bytes
  #given = false; // #stream was given
  #used = false;
  constructor(body) {
    if (body instanceof ReadableStream) {
      this.#stream = body;
      this.#given = true;
    } else this.#bytes = body;
  }
  get bodyUsed() {
    return this.#used || (this.#stream !== null && isDisturbed(this.#stream));
  }
  get body() {
    if (this.#stream === null && this.#bytes !== null) {
      const bytes = this.#bytes;
      const stream = new ReadableStream(
        {
          pull(controller) {
            controller.enqueue(new Uint8Array(bytes));
            controller.close();
          },
        },
        { highWaterMark: 0 },
      );
      if (this.#used) stream.cancel(); // read already: empty, and disturbed
      this.#stream = stream;
    }
    return this.#stream;
  }
  #take() {
    if (this.bodyUsed) return Promise.reject(new TypeError('the body was already read'));
    if (this.#stream?.locked) return Promise.reject(new TypeError('the body is locked to a reader'));
    this.#used = true;
    if (this.#given) return collect(this.#stream);
    this.#stream?.cancel();
    return Promise.resolve(this.#bytes ?? new ArrayBuffer(0));
  }
  _bytes() {
    return this.#bytes;
  }
  // The body as held: the stream given, or the bytes (null if none).
  _payload() {
    return this.#given ? this.#stream : this.#bytes;
  }
  // The body of a clone: the bytes, or a stream's second branch (this body keeps the first).
  _cloned() {
    if (this.bodyUsed) throw new TypeError('the body was already read: it cannot be cloned');
    if (this.#stream?.locked) throw new TypeError('the body is locked to a reader: it cannot be cloned');
    if (!this.#given) return this.#bytes;
    const [mine, theirs] = this.#stream.tee();
    this.#stream = mine;
    return theirs;
  }
  arrayBuffer() {
    return this.#take();
  }
  async bytes() {
    return new Uint8Array(await this.#take());
  }
  async text() {
    return host.decode(await this.#take(), false);
  }
  async json() {
    return JSON.parse(await this.text());
  }
}

// The plugin's own origin: relative URLs resolve against it, as a worker's do against its own.
const appOrigin = () => site.origin + '/';

// The URL of the request being made by hostRequest: the host's, absolute and normalised already.
let hostUrl = null;
// A request from the host, its URL not parsed again.
function hostRequest(url, init) {
  hostUrl = url;
  try {
    return new Request(url, init);
  } finally {
    hostUrl = null;
  }
}

class Request extends Body {
  #url;
  #method;
  #headers;
  constructor(input, init = {}) {
    const from = input instanceof Request ? input : null;
    const body = 'body' in init ? bodyOf(init.body) : from ? from._payload() : null;
    super(body);
    this.#url = from ? from.url : hostUrl !== null && input === hostUrl ? input : new URL(String(input), appOrigin()).href;
    this.#method = String(init.method ?? (from ? from.method : 'GET')).toUpperCase();
    this.#headers = new Headers(init.headers ?? (from ? from.headers : undefined));
    if (body !== null && (this.#method === 'GET' || this.#method === 'HEAD')) {
      throw new TypeError(`a ${this.#method} request cannot have a body`);
    }
    if (typeof init.body === 'string' && !this.#headers.has('content-type')) {
      this.#headers.set('content-type', 'text/plain;charset=UTF-8');
    }
    if (init.body instanceof URLSearchParams && !this.#headers.has('content-type')) {
      this.#headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
    }
  }
  get url() {
    return this.#url;
  }
  get method() {
    return this.#method;
  }
  get headers() {
    return this.#headers;
  }
  clone() {
    return new Request(this, { body: this._cloned() });
  }
}

const REDIRECTS = [301, 302, 303, 307, 308];

class Response extends Body {
  #status;
  #statusText;
  #headers;
  #url = '';
  constructor(body = null, init = {}) {
    super(bodyOf(body));
    const status = init.status ?? 200;
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError(`a response status is an integer from 200 to 599, not ${status}`);
    }
    this.#status = status;
    this.#statusText = String(init.statusText ?? '');
    this.#headers = new Headers(init.headers);
    if (typeof body === 'string' && !this.#headers.has('content-type')) {
      this.#headers.set('content-type', 'text/plain;charset=UTF-8');
    }
  }
  static json(data, init = {}) {
    const headers = new Headers(init.headers);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    return new Response(JSON.stringify(data), { ...init, headers });
  }
  static redirect(url, status = 302) {
    if (!REDIRECTS.includes(status)) throw new RangeError(`a redirect status is one of ${REDIRECTS.join(', ')}`);
    return new Response(null, { status, headers: { location: new URL(url, appOrigin()).href } });
  }
  static _fetched(url, status, pairs, body) {
    const response = new Response(typeof body === 'number' ? hostBody(body) : body, { status, headers: pairs });
    response.#url = url;
    return response;
  }
  get status() {
    return this.#status;
  }
  get ok() {
    return this.#status >= 200 && this.#status < 300;
  }
  get statusText() {
    return this.#statusText;
  }
  get headers() {
    return this.#headers;
  }
  get url() {
    return this.#url;
  }
  get redirected() {
    return false;
  }
  get type() {
    return 'default';
  }
  clone() {
    return Response._fetched(this.#url, this.#status, this.#headers._pairs(), this._cloned());
  }
}

// An outbound request through the host: under the entry's allowed_hosts, redirects not
// followed, its body sent whole (a stream is read first). A URL on the app's own origin goes
// as its path, so the app's plugins answer it. The response's body is read from the host as
// the script pulls it (`fetch_stream`): a proxy answering with it holds a chunk at a time.
async function fetch(input, init) {
  const request = new Request(input, init);
  const url = new URL(request.url);
  const target = url.origin === site.origin ? url.pathname + url.search : url.href;
  const sent = request._payload() instanceof ReadableStream ? await request.arrayBuffer() : request._bytes();
  const op = host.fetch(request.method, target, request.headers._pairs(), sent);
  let status, pairs, body;
  try {
    [status, pairs, body] = await operation(op);
  } catch (error) {
    throw new TypeError(`fetch ${request.method} ${request.url} failed: ${error.message}`);
  }
  return Response._fetched(request.url, status, pairs, body);
}
