// console, timers, crypto, queueMicrotask: the worker's globals, each through the host API.
// Evaluated inside the prelude's function, where `host` is the engine's native object.

const formatted = (args) =>
  args
    .map((value) => {
      if (typeof value === 'string') return value;
      if (value instanceof Error) return `${value.name}: ${value.message}${value.stack ? '\n' + value.stack : ''}`;
      if (typeof value === 'object' && value !== null) {
        try {
          return JSON.stringify(value);
        } catch {
          return String(value);
        }
      }
      return String(value);
    })
    .join(' ');

// Levels as the plugin log's: 1 error, 2 warn, 3 info, 4 debug, 5 trace.
const console = {
  error: (...args) => host.log(1, formatted(args)),
  warn: (...args) => host.log(2, formatted(args)),
  info: (...args) => host.log(3, formatted(args)),
  log: (...args) => host.log(3, formatted(args)),
  debug: (...args) => host.log(4, formatted(args)),
  trace: (...args) => host.log(5, formatted(args)),
};

// Timers are host sleeps; a cleared one cancels its sleep.
const timers = new Map(); // timer id -> host operation id
let lastTimer = 0;
function arm(id, callback, ms, args, repeat) {
  const delay = Math.max(0, Number(ms) || 0);
  const op = host.sleep(delay);
  timers.set(id, op);
  operation(op).then(() => {
    if (timers.get(id) !== op) return; // cleared meanwhile
    if (repeat) arm(id, callback, delay, args, true);
    else timers.delete(id);
    if (typeof callback === 'function') callback(...args);
  }, (error) => {
    timers.delete(id);
    console.error(`a timer could not be set: ${error.message}`);
  });
}
function setTimeout(callback, ms = 0, ...args) {
  const id = ++lastTimer;
  arm(id, callback, ms, args, false);
  return id;
}
function setInterval(callback, ms = 0, ...args) {
  const id = ++lastTimer;
  arm(id, callback, ms, args, true);
  return id;
}
function clearTimeout(id) {
  const op = timers.get(id);
  if (op === undefined) return;
  timers.delete(id);
  forget(op);
}
const queueMicrotask = (callback) => {
  Promise.resolve().then(callback);
};

const crypto = {
  getRandomValues(array) {
    if (!ArrayBuffer.isView(array) || array instanceof Float32Array || array instanceof Float64Array) {
      throw new TypeError('getRandomValues takes an integer typed array');
    }
    if (array.byteLength > 65536) {
      throw new RangeError(`getRandomValues takes at most 65536 bytes, not ${array.byteLength}`);
    }
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(new Uint8Array(host.random(array.byteLength)));
    return array;
  },
  randomUUID() {
    const b = new Uint8Array(host.random(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  },
};
