// A script misbehaving on purpose, one way per path. Its entry's limits stop each.
let calls = 0;
export default {
  async fetch(request) {
    calls += 1;
    const path = new URL(request.url).pathname.split('/').pop();
    switch (path) {
      case 'loop':
        while (true) {}
      case 'loop-caught':
        try {
          while (true) {}
        } catch {
          return new Response('the loop was caught, which must not be possible');
        }
      case 'recurse': {
        const down = (n) => down(n + 1) + 1;
        return new Response(String(down(0)));
      }
      case 'grow': {
        const hoard = [];
        while (true) hoard.push(new ArrayBuffer(1 << 20));
      }
      case 'throw':
        throw new TypeError('thrown on purpose');
      case 'reject':
        return Promise.reject(new Error('rejected on purpose'));
      case 'no-response':
        return 'not a Response';
      case 'globals':
        return Response.json(['Worker', 'importScripts', 'caches', 'indexedDB', 'XMLHttpRequest', 'WebAssembly', 'clients', 'registration', 'host', 'site']
          .filter((name) => name in globalThis));
      case 'calls':
        return new Response(String(calls));
      default:
        return new Response('fine');
    }
  },
};
