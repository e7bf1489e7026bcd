// The smallest JavaScript plugin, in the Worker message style: each request arrives as a
// message, and the reply names the request it answers in `x-correlation-id`.
self.onmessage = (event) => {
  const { headers } = event.data;
  const id = new Headers(headers).get('x-request-id');
  postMessage({
    status: 200,
    headers: [['content-type', 'text/plain; charset=utf-8'], ['x-correlation-id', id]],
    body: 'Hello from JavaScript',
  });
};
