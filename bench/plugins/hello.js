// hello for the benchmark as a JavaScript plugin, in the Worker message style (as
// www/plugins/hello.js is written): the same bytes and content type as hello.wasm and the floor.
self.onmessage = (event) => {
  const { headers } = event.data;
  const id = new Headers(headers).get('x-request-id');
  postMessage({
    status: 200,
    headers: [['content-type', 'text/plain; charset=utf-8'], ['x-correlation-id', id]],
    body: 'OK response from a plugin',
  });
};
