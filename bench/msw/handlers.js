// MSW's handlers for the routes bench/run.mjs measures, answering the bytes, status and content
// type of the floor (bench/floor/sw.js) and of Valor's plugins (hello, echo). MSW answers from
// this page: its worker (mockServiceWorker.js) hands each request to the page and back.
const { setupWorker, http, HttpResponse } = MockServiceWorker;

const HELLO = 'OK response from a plugin';
const text = { 'content-type': 'text/plain; charset=utf-8' };

const handlers = [
  http.get('/msw/api/hello', () => HttpResponse.text(HELLO, { headers: text })),
  http.all('/msw/api/echo*', async ({ request }) => {
    const url = new URL(request.url);
    const body = await request.arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
    return HttpResponse.json({
      method: request.method,
      path: url.pathname.slice('/msw/api/echo'.length) || '/',
      query: url.search ? url.search.slice(1) : null,
      headers: [...request.headers],
      body_size: body.byteLength,
      body_sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''),
    });
  }),
];

// The worker lives beside this page (scope /msw/), as the other benchmark apps' do. `quiet`:
// no console line per request (what an app measured for speed would choose).
window.ready = setupWorker(...handlers).start({ serviceWorker: { url: 'mockServiceWorker.js' }, quiet: true });
