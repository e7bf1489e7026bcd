// Valor's service worker: a thin bootstrap around the Rust runtime (runtime-wasm/).
// It loads the runtime and hands it the fetch events that are for plugins; all logic is in Rust.
//
// Deploy next to it: valor/valor_runtime.js and valor/valor_runtime_bg.wasm (the runtime, built
// by `wasm-pack build --target no-modules`), valor/valor_meter.wasm (the module rewriter, which
// the runtime loads only when a plugin's module must be rewritten for its limits) and
// plugins.json, or register it as `sw.js?manifest=<url>` to read the manifest from elsewhere.

// Service workers cannot import() modules; importScripts works for scripts cached at install.
importScripts('./valor/valor_runtime.js'); // defines the global `wasm_bindgen`

const manifestUrl = new URL(
  new URL(self.location).searchParams.get('manifest') ?? 'plugins.json',
  self.location,
).href;

// What the worker needs to start without the network (the runtime's .wasm here; the manifest
// and the plugins' modules, by the runtime) is kept in this cache, and the runtime keeps the
// modules it rewrote in `${CACHE}:rewritten`. A new version of the caching scheme gets a new
// name; activation removes the caches of older ones.
const CACHE = 'valor-v1';

// From the network (revalidated), kept for later; the kept copy when the network fails.
async function networkFirst(url) {
  try {
    const response = await fetch(url, { cache: 'no-cache' });
    // Kept in the background: the caller compiles the response meanwhile.
    if (response.ok) {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(url, copy)).catch(() => {});
    }
    return response;
  } catch (offline) {
    const kept = await (await caches.open(CACHE)).match(url);
    if (kept) return kept;
    throw offline;
  }
}

// Set once the runtime is up, so that later fetch events are routed synchronously.
let runtime = null;
// The manifest downloads while the runtime loads; the runtime reads it (or its kept copy, if
// this fetch fails).
const manifestResponse = fetch(manifestUrl, { cache: 'no-store' });
manifestResponse.catch(() => {}); // not unhandled: the runtime handles it
// The marks time a cold start in DevTools (and in bench/): since the worker started.
const valorFile = (name) => new URL(`./valor/${name}`, self.location).href;
const booting = wasm_bindgen({ module_or_path: networkFirst(valorFile('valor_runtime_bg.wasm')) })
  .then(() => performance.mark('valor:runtime-loaded'))
  .then(() => wasm_bindgen.Runtime.boot(manifestUrl, CACHE, manifestResponse, valorFile('valor_meter.wasm')))
  .then((booted) => {
    performance.mark('valor:plugins-mounted');
    return (runtime = booted);
  });
booting.catch((error) =>
  console.error('[valor] the runtime failed to start; requests go to the network:', error),
);

self.addEventListener('install', (event) => {
  // Take over from an older worker at once, and control the page right after registering.
  self.skipWaiting();
  // Every plugin's module is kept for starts without the network, used yet or not.
  event.waitUntil(booting.then((booted) => booted.keepOffline()).then(
    (problems) => problems.forEach((problem) => console.warn(`[valor] not kept for offline use: ${problem}`)),
    () => {},
  ));
});
self.addEventListener('activate', (event) => event.waitUntil((async () => {
  const ours = (name) => name === CACHE || name.startsWith(`${CACHE}:`);
  const old = (await caches.keys()).filter((name) => name.startsWith('valor-') && !ours(name));
  await Promise.all(old.map((name) => caches.delete(name)));
  await self.clients.claim();
})()));
// A page loaded while this worker was already active but without it (a hard reload, Shift+Reload,
// bypasses the worker) is not controlled, and no activation will claim it: it asks to be.
self.addEventListener('message', (event) => {
  if (event.data === 'valor:claim') event.waitUntil(self.clients.claim());
});

// If the runtime itself traps (a bug in Valor: plugins' failures are answered by the runtime),
// its state is unknown and the answers it was computing would never settle. Each of them, and
// each later request it claims, then answers 500, until the browser starts the worker again.
let crash = null;
const waiting = new Set(); // the `resolve` of each answer under way
const crashed = (error) => {
  if (crash || !(error instanceof WebAssembly.RuntimeError)) return;
  crash = error;
  console.error('[valor] the runtime crashed; requests for plugins answer 500 until the worker restarts:', error);
  for (const resolve of waiting) resolve(failure());
  waiting.clear();
};
self.addEventListener('error', (event) => crashed(event.error));
self.addEventListener('unhandledrejection', (event) => crashed(event.reason));
const failure = (error = crash) => new Response(
  `the Valor runtime failed (a bug in Valor, not in a plugin): ${error}\n`,
  { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } },
);
// The runtime's answer (a response, or a promise of one), settled whatever happens to the runtime.
const guarded = (answer) => (crash ? Promise.resolve(failure()) : new Promise((resolve) => {
  waiting.add(resolve);
  const settle = (response) => { waiting.delete(resolve); resolve(response); };
  Promise.resolve(answer).then(settle, (error) => settle(failure(error)));
}));

// The runtime's answer; if the runtime traps while answering at once (a bug in Valor), a 500,
// as for the answers under way when it traps.
const answerOrFailure = (runtime, { request, clientId }) => {
  try {
    return runtime.answer(request, clientId);
  } catch (error) {
    crashed(error);
    return failure(error);
  }
};

// Must be registered during the script's first evaluation, and decide synchronously.
self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (runtime) {
    // The response when it is ready at once (most are), else a promise of it; undefined for a
    // request that is not for a plugin, left untouched.
    const answer = answerOrFailure(runtime, event);
    if (answer) event.respondWith(answer instanceof Response ? answer : guarded(answer));
    return;
  }
  // The browser (re)started this worker for this request and the routes are not known yet.
  // Only same-origin requests can be for a plugin: hold those until the runtime is up; it
  // answers the ones for plugins and passes the others on to the network unchanged.
  if (new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    booting.then(
      (booted) => {
        const answer = answerOrFailure(booted, event);
        return answer ? guarded(answer) : fetch(request);
      },
      () => fetch(request),
    ),
  );
});
