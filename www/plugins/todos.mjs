// A to-do list API on the plugin's key-value store, as an ES module exporting `fetch`:
//   GET /            the list        POST /      adds {"title"}
//   GET /<id>        one item        PATCH /<id> changes {"title", "done"}
//   DELETE /<id>     removes it
const json = (value, status = 200) => Response.json(value, { status });
const problem = (status, message) => json({ error: message }, status);

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname.slice(env.mount.length).replace(/\/+$/, '');
    const id = path.slice(1);
    if (path === '') {
      if (request.method === 'GET') {
        const items = await kv.entries('todo/', 'json');
        return json(items.map(([, item]) => item).sort((a, b) => a.created - b.created));
      }
      if (request.method === 'POST') {
        let body;
        try {
          body = await request.json();
        } catch {
          return problem(400, 'the body is not JSON');
        }
        if (typeof body?.title !== 'string' || body.title.trim() === '') {
          return problem(422, 'a to-do needs a "title"');
        }
        const item = { id: crypto.randomUUID(), title: body.title.trim(), done: false, created: Date.now() };
        await kv.set(`todo/${item.id}`, JSON.stringify(item));
        return json(item, 201);
      }
      return problem(405, `${request.method} is not allowed on the list`);
    }
    const item = await kv.get(`todo/${id}`, 'json');
    if (item === null) return problem(404, `no to-do ${id}`);
    switch (request.method) {
      case 'GET':
        return json(item);
      case 'PATCH': {
        const change = await request.json().catch(() => null);
        if (change === null || typeof change !== 'object') return problem(400, 'the body is not a JSON object');
        if ('title' in change) item.title = String(change.title);
        if ('done' in change) item.done = Boolean(change.done);
        await kv.set(`todo/${id}`, JSON.stringify(item));
        return json(item);
      }
      case 'DELETE':
        await kv.delete(`todo/${id}`);
        return new Response(null, { status: 204 });
      default:
        return problem(405, `${request.method} is not allowed on a to-do`);
    }
  },
};
