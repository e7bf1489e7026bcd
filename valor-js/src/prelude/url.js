// URL and URLSearchParams: the WHATWG URL standard for http(s)-like URLs, without IDNA
// (a host must be ASCII), which is what a plugin parses: its request's URL, the URLs it fetches.

const SPECIAL = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443', 'ftp:': '21', 'file:': '' };

// Percent-encodes the UTF-8 bytes of the characters `keep` does not accept.
function percentEncode(text, keep) {
  let out = '';
  for (const char of text) {
    if (keep(char)) {
      out += char;
      continue;
    }
    for (const byte of new Uint8Array(host.encode(char))) {
      out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
    }
  }
  return out;
}
const c0OrAbove = (char) => char > ' ' && char <= '~';
const inPath = (char) => c0OrAbove(char) && !'"#<>?`{}'.includes(char);
const inQuery = (special) => (char) => c0OrAbove(char) && !'"#<>'.includes(char) && !(special && char === "'");
const inFragment = (char) => c0OrAbove(char) && !'"<>`'.includes(char);
const inUserinfo = (char) => inPath(char) && !'/:;=@[\\]^|'.includes(char);

// Decodes %XX escapes to bytes, then the bytes as UTF-8 (invalid sequences become U+FFFD).
function percentDecode(text) {
  if (!text.includes('%')) return text;
  const bytes = [];
  for (let i = 0; i < text.length; i++) {
    const hex = text.slice(i + 1, i + 3);
    if (text[i] === '%' && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...new Uint8Array(host.encode(text[i])));
    }
  }
  return host.decode(new Uint8Array(bytes).buffer, false);
}

function resolveDots(segments) {
  const out = [];
  for (const [i, segment] of segments.entries()) {
    const last = i === segments.length - 1;
    const lower = segment.toLowerCase();
    if (segment === '..' || lower === '.%2e' || lower === '%2e.' || lower === '%2e%2e') {
      out.pop();
      if (last) out.push('');
    } else if (segment === '.' || lower === '%2e') {
      if (last) out.push('');
    } else {
      out.push(segment);
    }
  }
  return out;
}

function parseUrl(input, base) {
  let text = String(input).replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '').replace(/[\t\n\r]/g, '');
  const record = { protocol: '', username: '', password: '', hostname: '', port: '', path: '', opaque: false, query: null, fragment: null };
  const hashAt = text.indexOf('#');
  if (hashAt >= 0) {
    record.fragment = percentEncode(text.slice(hashAt + 1), inFragment);
    text = text.slice(0, hashAt);
  }
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(text);
  let rest;
  if (scheme) {
    record.protocol = scheme[1].toLowerCase() + ':';
    rest = text.slice(scheme[0].length);
  } else {
    if (!base) throw new TypeError(`Invalid URL: "${input}" is relative and has no base`);
    if (base.opaque) throw new TypeError(`Invalid URL: "${input}" is relative to a URL that cannot be a base`);
    record.protocol = base.protocol;
    rest = text;
  }
  const special = record.protocol in SPECIAL;
  if (special) rest = rest.replace(/\\/g, '/');
  const relative = !scheme || (base && base.protocol === record.protocol && special && !rest.startsWith('/'));
  const queryAt = rest.indexOf('?');
  if (queryAt >= 0) {
    record.query = percentEncode(rest.slice(queryAt + 1), inQuery(special));
    rest = rest.slice(0, queryAt);
  }
  if (rest.startsWith('//') || (special && !relative)) {
    parseAuthority(record, rest.replace(/^\/*/, ''), special, input);
    rest = rest.replace(/^\/*[^/]*/, '');
  } else if (relative) {
    Object.assign(record, { username: base.username, password: base.password, hostname: base.hostname, port: base.port });
    if (rest === '') {
      record.path = base.path;
      if (queryAt < 0) record.query = base.query;
      return record;
    }
    if (!rest.startsWith('/')) rest = base.path.replace(/[^/]*$/, '') + rest;
  } else if (!rest.startsWith('/')) {
    record.opaque = true;
    record.path = percentEncode(rest, c0OrAbove);
    return record;
  }
  const segments = resolveDots(rest.split('/').slice(1).map((segment) => percentEncode(segment, inPath)));
  record.path = segments.length || special ? '/' + segments.join('/') : '';
  return record;
}

function parseAuthority(record, text, special, input) {
  const end = text.search(/[/?#]/);
  const authority = end < 0 ? text : text.slice(0, end);
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const [user, ...password] = authority.slice(0, at).split(':');
    record.username = percentEncode(user, inUserinfo);
    record.password = percentEncode(password.join(':'), inUserinfo);
  }
  const hostPort = authority.slice(at + 1);
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:]*)(?::(\d*))?$/.exec(hostPort);
  if (!match) throw new TypeError(`Invalid URL: "${input}" has an invalid host or port`);
  const hostname = special ? percentDecode(match[1]).toLowerCase() : match[1];
  if ((special && hostname === '' && record.protocol !== 'file:') || /[\u0000-\u0020#%/:<>?@[\\\]^|\u007f-\uffff]/.test(hostname.replace(/^\[.*\]$/, ''))) {
    throw new TypeError(`Invalid URL: "${input}" has an invalid host`);
  }
  const port = match[2] === undefined || match[2] === '' ? '' : String(Number(match[2]));
  if (Number(port) > 65535) throw new TypeError(`Invalid URL: "${input}" has a port out of range`);
  record.hostname = hostname;
  record.port = port === SPECIAL[record.protocol] ? '' : port;
}

class URLSearchParams {
  #list = [];
  #update = null;
  constructor(init = '') {
    if (init instanceof URLSearchParams) this.#list = init.#list.map(([k, v]) => [k, v]);
    else if (typeof init === 'object' && init !== null && typeof init[Symbol.iterator] === 'function') {
      for (const pair of init) {
        const [name, value, ...more] = [...pair];
        if (value === undefined || more.length) throw new TypeError('URLSearchParams pairs must have two items');
        this.#list.push([String(name), String(value)]);
      }
    } else if (typeof init === 'object' && init !== null) {
      for (const name of Object.keys(init)) this.#list.push([name, String(init[name])]);
    } else this.#parse(String(init));
  }
  #parse(text) {
    this.#list = [];
    for (const part of text.replace(/^\?/, '').split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const [name, value] = eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
      this.#list.push([percentDecode(name.replace(/\+/g, ' ')), percentDecode(value.replace(/\+/g, ' '))]);
    }
  }
  static _link(params, text, update) {
    params.#parse(text);
    params.#update = update;
  }
  #changed() {
    if (this.#update) this.#update(this.toString());
  }
  get size() {
    return this.#list.length;
  }
  append(name, value) {
    this.#list.push([String(name), String(value)]);
    this.#changed();
  }
  delete(name, value) {
    this.#list = this.#list.filter(([k, v]) => k !== String(name) || (value !== undefined && v !== String(value)));
    this.#changed();
  }
  get(name) {
    const found = this.#list.find(([k]) => k === String(name));
    return found ? found[1] : null;
  }
  getAll(name) {
    return this.#list.filter(([k]) => k === String(name)).map(([, v]) => v);
  }
  has(name, value) {
    return this.#list.some(([k, v]) => k === String(name) && (value === undefined || v === String(value)));
  }
  set(name, value) {
    const at = this.#list.findIndex(([k]) => k === String(name));
    if (at < 0) this.#list.push([String(name), String(value)]);
    else {
      this.#list[at][1] = String(value);
      this.#list = this.#list.filter(([k], i) => i <= at || k !== String(name));
    }
    this.#changed();
  }
  sort() {
    this.#list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.#changed();
  }
  forEach(callback, thisArg) {
    for (const [name, value] of this.#list) callback.call(thisArg, value, name, this);
  }
  *entries() {
    for (const [name, value] of this.#list) yield [name, value];
  }
  *keys() {
    for (const [name] of this.#list) yield name;
  }
  *values() {
    for (const [, value] of this.#list) yield value;
  }
  [Symbol.iterator]() {
    return this.entries();
  }
  toString() {
    const form = (text) =>
      percentEncode(text, (char) => /[A-Za-z0-9*\-._ ]/.test(char)).replace(/ /g, '+');
    return this.#list.map(([name, value]) => `${form(name)}=${form(value)}`).join('&');
  }
}

class URL {
  #url;
  #params = new URLSearchParams();
  constructor(input, base) {
    const baseRecord = base === undefined ? null : new URL(base).#url;
    this.#url = parseUrl(input, baseRecord);
    this.#link();
  }
  static canParse(input, base) {
    try {
      new URL(input, base);
      return true;
    } catch {
      return false;
    }
  }
  static parse(input, base) {
    try {
      return new URL(input, base);
    } catch {
      return null;
    }
  }
  #link() {
    URLSearchParams._link(this.#params, this.#url.query ?? '', (text) => {
      this.#url.query = text === '' ? null : text;
    });
  }
  get href() {
    const u = this.#url;
    const authority = u.opaque || (u.hostname === '' && !(u.protocol in SPECIAL) && u.path.startsWith('/') === false)
      ? ''
      : '//' + (u.username || u.password ? u.username + (u.password ? ':' + u.password : '') + '@' : '') + this.host;
    return u.protocol + authority + u.path + this.search + this.hash;
  }
  set href(value) {
    this.#url = parseUrl(value, null);
    this.#link();
  }
  get origin() {
    return this.#url.protocol in SPECIAL && this.#url.protocol !== 'file:' ? `${this.#url.protocol}//${this.host}` : 'null';
  }
  get protocol() {
    return this.#url.protocol;
  }
  get username() {
    return this.#url.username;
  }
  get password() {
    return this.#url.password;
  }
  get host() {
    return this.#url.hostname + (this.#url.port ? ':' + this.#url.port : '');
  }
  get hostname() {
    return this.#url.hostname;
  }
  get port() {
    return this.#url.port;
  }
  get pathname() {
    return this.#url.path;
  }
  set pathname(value) {
    if (this.#url.opaque) return;
    const path = String(value).startsWith('/') ? String(value) : '/' + value;
    this.#url.path = '/' + resolveDots(path.split('/').slice(1).map((s) => percentEncode(s, inPath))).join('/');
  }
  get search() {
    return this.#url.query ? '?' + this.#url.query : '';
  }
  set search(value) {
    const text = String(value).replace(/^\?/, '');
    this.#url.query = text === '' ? null : percentEncode(text, inQuery(this.#url.protocol in SPECIAL));
    this.#link();
  }
  get searchParams() {
    return this.#params;
  }
  get hash() {
    return this.#url.fragment ? '#' + this.#url.fragment : '';
  }
  set hash(value) {
    const text = String(value).replace(/^#/, '');
    this.#url.fragment = text === '' ? null : percentEncode(text, inFragment);
  }
  toString() {
    return this.href;
  }
  toJSON() {
    return this.href;
  }
}
