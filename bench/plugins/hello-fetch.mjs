// hello for the benchmark as a JavaScript module exporting `fetch`, answering a `Response`.
export default {
  fetch() {
    return new Response('OK response from a plugin', { headers: { 'content-type': 'text/plain; charset=utf-8' } });
  },
};
