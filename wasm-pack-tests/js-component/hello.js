// A `wasi:http/proxy` component in JavaScript, for Valor's tests: a service worker's fetch
// handler that componentize-js (SpiderMonkey in WebAssembly, StarlingMonkey's runtime) builds
// into a WASI 0.2 component (build.sh). Nothing of Valor: it runs on any host of the world.
//
// Routes (paths relative to the plugin's prefix):
// - `GET /hello`: a greeting.
// - `POST /echo`: the body back, with the request's `content-type`.
// - `GET /fetch?path=/api/...`: a `fetch` (wasi:http/outgoing-handler) of that path on the
//   origin this request came to; answers the upstream's status and body, or 502 with the error.
// - `GET /sleep?ms=N`: awaits a `setTimeout` (a monotonic-clock pollable); answers how long.
addEventListener('fetch', (event) => event.respondWith(handle(event.request)));

const text = (body, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'text/plain' } });

async function handle(request) {
  const url = new URL(request.url);
  switch (url.pathname) {
    case '/hello':
      return text('hello from a JavaScript component\n');
    case '/echo':
      return new Response(await request.arrayBuffer(), {
        headers: { 'content-type': request.headers.get('content-type') ?? 'application/octet-stream' },
      });
    case '/fetch': {
      const path = url.searchParams.get('path');
      if (path === null) return text('give ?path=\n', 400);
      try {
        const answer = await fetch(new URL(path, url.origin));
        return text(await answer.text(), answer.status);
      } catch (error) {
        return text(`${error}\n`, 502);
      }
    }
    case '/sleep': {
      const ms = Number(url.searchParams.get('ms') ?? 10);
      const start = Date.now();
      await new Promise((resolve) => setTimeout(resolve, ms));
      return text(`slept ${Date.now() - start} ms of ${ms}\n`);
    }
    default:
      return text(`no route ${url.pathname}\n`, 404);
  }
}
