// A JavaScript plugin: counts the visits it answered in its key-value store, which lives in the
// browser (IndexedDB), outside any cache.
export default {
  async fetch() {
    const visits = Number((await kv.get('visits')) ?? 0) + 1;
    await kv.set('visits', String(visits));
    return Response.json({ visits });
  },
};
