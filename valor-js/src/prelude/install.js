// The globals a script sees, beside the language's own. Nothing else is reachable: the host
// object stays inside this function.
for (const [name, value] of Object.entries({
  self: globalThis,
  console, setTimeout, clearTimeout, setInterval, clearInterval: clearTimeout, queueMicrotask,
  crypto, TextEncoder, TextDecoder, atob, btoa, URL, URLSearchParams,
  Headers, Request, Response, fetch, ReadableStream, WritableStream, TransformStream,
  addEventListener, removeEventListener, postMessage, onmessage: null,
  kv, valor,
})) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
return { dispatch, settle, setModule, abandon, pullBody, cancelBody };
