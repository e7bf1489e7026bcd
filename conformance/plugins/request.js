// Shows what the Worker message interface hands a script: the request's URL, method, headers
// (with its x-request-id) and body, and the manifest entry's config.
self.onmessage = async (event) => {
  const { url, method, headers, body } = event.data;
  const id = headers.find(([name]) => name === 'x-request-id')[1];
  const parsed = new URL(url);
  if (parsed.searchParams.has('wait')) {
    await new Promise((resolve) => setTimeout(resolve, Number(parsed.searchParams.get('wait'))));
  }
  const text = body === null ? null : new TextDecoder().decode(body);
  postMessage({
    status: 200,
    headers: [['content-type', 'application/json'], ['x-correlation-id', id]],
    body: JSON.stringify({
      path: parsed.pathname, query: Object.fromEntries(parsed.searchParams), method,
      header: headers.find(([name]) => name === 'x-test')?.[1] ?? null,
      has_request_id: /^\S+$/.test(id), body_is: body === null ? 'null' : body.constructor.name, text,
      config: valor.config,
    }),
  });
};
