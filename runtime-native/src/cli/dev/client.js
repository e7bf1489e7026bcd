// valor dev: added to every page the dev server serves. It follows the server's state
// (server-sent events): rebuilt plugins are swapped into this page's service worker through
// the runtime's registry (PUT /_plugins/<name>; only a page of the app may), a build error is
// shown over the page, and a change to another of the app's files reloads it.
(() => {
  const MANIFEST = new URL('/plugins.json', location.href);
  let files = null; // the count of file changes when this page loaded
  let syncing = Promise.resolve();

  const overlay = (message, title = 'valor dev: the plugins could not be built') => {
    let box = document.getElementById('valor-dev-overlay');
    if (message === null) return box?.remove();
    if (!box) {
      box = document.createElement('div');
      box.id = 'valor-dev-overlay';
      box.style.cssText = 'position:fixed;inset:0;z-index:2147483647;overflow:auto;margin:0;' +
        'padding:1.5em;background:rgba(24,24,24,.94);color:#f4f4f4;font:13px/1.45 monospace;';
      const close = document.createElement('button');
      close.textContent = 'close';
      close.style.cssText = 'float:right';
      close.onclick = () => box.remove();
      const title = document.createElement('div');
      title.className = 'valor-dev-title';
      title.style.cssText = 'color:#ff8a80;font-weight:bold;margin-bottom:1em';
      const text = document.createElement('pre');
      text.style.cssText = 'white-space:pre-wrap;margin:0';
      box.append(close, title, text);
      document.body.append(box);
    }
    box.querySelector('.valor-dev-title').textContent = title;
    box.querySelector('pre').textContent = message;
  };

  // The registry answers only through the worker: wait until it controls this page.
  const controlled = () => new Promise((resolve) => {
    if (!('serviceWorker' in navigator)) return; // never: nothing to swap into
    if (navigator.serviceWorker.controller) return resolve();
    navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true });
  });

  // Makes the worker's registry hold exactly `plugins`: new and changed entries PUT (a hot
  // swap: the old module answers until the new one is loaded), entries gone DELETEd.
  async function sync(plugins) {
    await controlled();
    const manifest = await (await fetch(MANIFEST)).json();
    const registry = manifest.registry?.prefix ?? '/_plugins';
    const listing = await fetch(registry);
    if (!listing.ok) throw new Error(`${registry} answered ${listing.status}: ${await listing.text()}`);
    const current = new Map((await listing.json()).filter((p) => p.name).map((p) => [p.name, p]));
    const swapped = [];
    for (const entry of plugins) {
      const url = new URL(entry.url, MANIFEST).href;
      if (current.get(entry.name)?.url === url) continue;
      const answer = await fetch(`${registry}/${encodeURIComponent(entry.name)}`, {
        method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(entry),
      });
      if (!answer.ok) throw new Error(`swapping in ${entry.name} failed: ${answer.status} ${await answer.text()}`);
      swapped.push(entry.name);
    }
    for (const name of current.keys()) {
      if (plugins.some((entry) => entry.name === name)) continue;
      await fetch(`${registry}/${encodeURIComponent(name)}`, { method: 'DELETE' });
      swapped.push(name);
    }
    if (swapped.length) {
      console.info(`[valor dev] swapped in: ${swapped.join(', ')}`);
      dispatchEvent(new CustomEvent('valor:plugins-swapped', { detail: swapped }));
    }
  }

  const events = new EventSource('/_valor/dev/events');
  events.onmessage = (event) => {
    const state = JSON.parse(event.data);
    if (files === null) files = state.files;
    if (state.files > files) return location.reload();
    if (state.error) return overlay(state.error);
    overlay(null);
    syncing = syncing.then(() => sync(state.plugins)).catch((error) => {
      console.error('[valor dev]', error);
      overlay(
        `${error.message}\n\nReload the page (its service worker reads plugins.json again when it starts).`,
        'valor dev: the plugins were built, but the page could not swap them in',
      );
    });
  };
})();
