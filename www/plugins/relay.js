// A JavaScript plugin calling a Rust one: it fetches the hello plugin (a path on the app's own
// origin; its entry allows "self") and wraps the answer. A `fetch` event listener, as in a
// service worker.
addEventListener('fetch', (event) => {
  event.respondWith(relay());
});

async function relay() {
  const answer = await fetch('/api/hello');
  return Response.json({
    from: 'relay.js',
    status: answer.status,
    plugin: answer.headers.get('x-valor-plugin'),
    said: await answer.text(),
  });
}
