// Answers what the worker-like globals give for a few inputs whose answers browsers agree on
// (Headers, Request, Response, URL, URLSearchParams, TextEncoder, btoa), so that both hosts'
// engine is held to the web platform's behaviour.
const attempt = (f) => {
  try {
    return f();
  } catch (error) {
    return error.name;
  }
};

addEventListener('fetch', (event) => {
  event.respondWith((async () => {
    const headers = new Headers([['X-One', ' a '], ['x-one', 'b']]);
    headers.append('Content-Type', 'text/plain');
    const request = event.request;
    const relative = new URL(new Request('/x/../y?z=1').url);
    return Response.json({
      headers: {
        get: headers.get('x-ONE'),
        has: headers.has('content-type'),
        missing: headers.get('nope'),
        entries: [...headers],
        copied: [...new Headers(headers)],
        fromObject: new Headers({ Accept: '*/*' }).get('accept'),
        fromIterablePair: new Headers([new Set(['k', 'v'])]).get('k'),
        badName: attempt(() => new Headers([['bad name', 'x']])),
        badValue: attempt(() => new Headers({ a: 'x\ny' })),
        badPair: attempt(() => new Headers([['a', 'b', 'c']])),
      },
      request: {
        path: new URL(request.url).pathname,
        method: request.method,
        header: request.headers.get('X-Test'),
        body: await request.text(),
        relative: relative.pathname + relative.search,
        getWithBody: attempt(() => new Request('/x', { body: 'no' })),
        nullPath: new URL(new Request(null).url).pathname,
      },
      response: {
        textType: new Response('hi').headers.get('content-type'),
        jsonType: Response.json({}).headers.get('content-type'),
        bytes: (await new Response('hé').arrayBuffer()).byteLength,
        badStatus: attempt(() => new Response(null, { status: 99 })),
      },
      url: {
        resolved: new URL('../b?c#d', 'https://x.test/a/b/').href,
        param: new URLSearchParams('a=1&b=%20x+y').get('b'),
        invalid: attempt(() => new URL('no scheme')),
      },
      encoding: { utf8Bytes: new TextEncoder().encode('é').length, base64: btoa('hi'), decoded: atob('aGk=') },
    });
  })());
});
