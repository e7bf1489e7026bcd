// {{name}}: a Valor plugin in JavaScript, mounted at /api/{{name}} (web/plugins.json).
//   GET  /        a greeting
//   POST /echo    the JSON body, sent back
// `env` holds `mount` (the prefix), `config` (the entry's "config"), `origin` and `kv`.
export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname.slice(env.mount.length) || '/';
    if (request.method === 'GET' && path === '/') {
      return new Response('Hello from {{name}}');
    }
    if (request.method === 'POST' && path === '/echo') {
      let body;
      try {
        body = await request.json();
      } catch {
        return new Response('the body is not JSON\n', { status: 400 });
      }
      return Response.json({ echo: body });
    }
    return new Response(`no route for ${request.method} ${path}\n`, { status: 404 });
  },
};
