// Valor in a service worker: `importScripts('valor/valor-worker.js')` defines the global `Valor`,
// and `Valor.mount(options)` boots the Rust runtime (its .wasm, beside this file) and returns the
// handle an app's own worker passes its events to. sw.js, the whole worker for apps without one,
// is this plus the install/activate policy a standalone worker wants.
//
// The file an app serves is built (scripts/build.sh): the runtime's glue (wasm-bindgen's, which
// defines `wasm_bindgen`, with the SHA-256 of each runtime file) and the component host's glue
// (`valor_component`) come first, then this. One script rather than three: each script a
// worker imports is fetched, one after the other, when it installs (and read again at every
// start), and importing three measured 20 to 40 ms slower on a first visit.
//
// Mounted, Valor adds only listeners that change nothing for the app: `install` (waits until
// every plugin's module is kept for starts without the network), and `error`/`unhandledrejection`
// (to notice a crash of the runtime itself). It calls clients.claim only when the app passes it
// the page's 'valor:claim' (`handleMessage`), deletes caches only when the app asks
// (`removeOldCaches`), and never calls skipWaiting.
'use strict';
(() => {
  // The package's version (npm/package.json; scripts/build.sh checks that the two agree): it
  // names the caches, so a new version of Valor never reads an older one's.
  const VERSION = '0.1.0';
  const CACHE = `valor-web-${VERSION}`;
  // The caches of Valor's versions: this scheme's, and the one before it (`valor-v1`).
  const VALOR_CACHE = /^valor-(v\d+|web-[^:]+)(:rewritten)?$/;
  // What the worker loads from `base`, and the page module beside them.
  const RUNTIME_FILES = ['valor-worker.js', 'valor_runtime_bg.wasm', 'valor_meter.wasm', 'valor_js.wasm',
    'valor_component_bg.wasm', 'page.js'];
  // The header of each kept copy that gives the SHA-256 of its bytes, checked before it is used.
  const DIGEST_HEADER = 'x-valor-digest';
  // The runtime's module.
  const RUNTIME_WASM = 'valor_runtime_bg.wasm';
  let mounted = false;

  // Whether `path` is one of `paths` or below one, at a `/` boundary, as plugins' prefixes match.
  const under = (paths) => {
    if (paths.includes('/')) return () => true;
    const prefixes = paths.map((path) => (path.endsWith('/') ? path : `${path}/`));
    return (path) => paths.includes(path) || prefixes.some((prefix) => path.startsWith(prefix));
  };

  function checkedPaths(paths) {
    if (!Array.isArray(paths) || paths.length === 0 || paths.some((path) => typeof path !== 'string' || !path.startsWith('/'))) {
      throw new TypeError(`Valor.mount: \`paths\` must be a non-empty array of paths starting with "/", like ["/api/"]; got ${JSON.stringify(paths)}`);
    }
    return paths;
  }

  function mount(options = {}) {
    if (mounted) throw new Error('Valor.mount was called twice: a worker holds one Valor');
    // A worker adds its `install` listener, which Valor's keeping for offline starts needs,
    // during the first evaluation of its script: mount there.
    if (typeof importScripts !== 'function' || !self.registration) {
      throw new Error('Valor.mount runs in a service worker script, during its first evaluation');
    }
    const base = new URL(options.base ?? 'valor/', self.location);
    const file = (name) => new URL(name, base).href;
    // `?manifest=` on the worker's URL may only name a manifest of this origin: a script
    // injected into a page could otherwise register the worker with a manifest of its own,
    // whose plugins would answer for the app from then on.
    const asked = new URL(self.location).searchParams.get('manifest');
    const manifest = new URL(options.manifest ?? asked ?? 'plugins.json', self.location);
    if (options.manifest === undefined && asked !== null && manifest.origin !== self.location.origin) {
      throw new Error(`Valor.mount: the worker's ?manifest=${asked} is not on this origin; a manifest from elsewhere is named by the worker's own code, Valor.mount({ manifest })`);
    }
    const manifestUrl = manifest.href;
    const claims = under(checkedPaths(options.paths ?? ['/']));
    // Valor's own files are never a plugin's to answer, whatever the registry mounts.
    const own = new Set([self.location.pathname, manifest.pathname, ...RUNTIME_FILES.map((name) => new URL(name, base).pathname)]);
    // The glues come first in this file (see above): a copy of this script without them is not
    // the one scripts/build.sh makes.
    if (typeof wasm_bindgen !== 'function' || typeof valor_component !== 'function') {
      throw new Error("Valor.mount: this valor-worker.js has no runtime glue in it; serve the one from Valor's package (npm valor-web, or scripts/build.sh), not npm/valor-worker.js from the source tree");
    }
    // The runtime's kept .wasm is looked up, and compiled; it is instantiated only once its
    // digest is checked against the one this script names.
    const keptRuntime = keptModule(RUNTIME_WASM);
    keptRuntime.catch(() => {});
    // The glue's `let` is a global binding, not a property of the global object, where the
    // runtime looks it up.
    self.valor_component = valor_component;
    mounted = true;
    performance.mark('valor:scripts-imported');

    // The SHA-256 of each of the runtime's files, which scripts/build.sh stamps into this
    // script: a new runtime changes a script this worker imports, so the browser's update check
    // installs a new worker. (None in a runtime built without it.)
    const expected = self.valor_digests ?? {};
    const sha256 = async (bytes) => {
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
      return `sha256-${btoa(String.fromCharCode(...digest))}`;
    };
    // `response`, the kept copy of `url` in `cache` whose bytes are `bytes`, with its digest if
    // they are the ones it was kept with (as the runtime keeps its copies:
    // runtime-wasm/src/offline.rs); else null, and the copy is dropped and said.
    async function checked(cache, url, response, bytes) {
      const claimed = response.headers.get(DIGEST_HEADER);
      const digest = await sha256(bytes);
      if (digest === claimed) return { response, digest };
      console.warn(`[valor] the kept copy of ${url} was dropped: it was kept with SHA-256 ${claimed}, its bytes have ${digest}; fetching it again`);
      await cache.delete(url);
      return null;
    }
    // Starts compiling the kept copy of the runtime's file `name`, if there is one: the copy, its
    // bytes and their compilation (a promise). Nothing of it is used before its digest is
    // checked (runtimeModule). Read once and compiled from the bytes: reading the copy twice,
    // once to hash it and once to compile it as it streams, measured 1.2 ms slower in a worker
    // start (and V8 kept no compiled code of it worth having: BENCHMARKS.md).
    async function keptModule(name) {
      const response = await (await caches.open(CACHE)).match(file(name));
      if (!response) return null;
      // A copy kept by another version of the runtime is not compiled for nothing.
      const wanted = (self.valor_digests ?? {})[name];
      if (wanted !== undefined && response.headers.get(DIGEST_HEADER) !== wanted) return null;
      const reading = response.arrayBuffer();
      const compiling = reading.then((bytes) => WebAssembly.compile(bytes));
      compiling.catch(() => {}); // a copy that does not compile is fetched again
      return { response, reading, compiling };
    }
    // The runtime's module: its kept copy, compiled while its digest was checked, if it is the
    // one this runtime was built with (no network); else the network's (revalidated), kept
    // with its digest. Never a kept copy of another version: the new glue of a new worker must
    // not run an older kept .wasm.
    async function runtimeModule() {
      const name = RUNTIME_WASM;
      const url = file(name);
      const cache = await caches.open(CACHE);
      const copy = await keptRuntime.then(async (found) => {
        if (!found) return null;
        const good = await checked(cache, url, found.response, await found.reading);
        performance.mark('valor:runtime-kept-checked');
        return good && { ...good, compiling: found.compiling };
      }).catch(() => null);
      if (copy && copy.digest === expected[name]) {
        try {
          return await copy.compiling;
        } catch (error) {
          console.warn(`[valor] the kept copy of ${url} did not compile (${error}); fetching it again`);
        }
      }
      try {
        const response = await fetch(url, { cache: 'no-cache' });
        // Kept in the background: the caller compiles the response meanwhile.
        if (response.ok) {
          const headers = { 'content-type': response.headers.get('content-type') ?? 'application/wasm' };
          response.clone().arrayBuffer().then(async (bytes) => {
            headers[DIGEST_HEADER] = await sha256(bytes);
            await cache.put(url, new Response(bytes, { headers }));
          }).catch(() => {});
        }
        return response;
      } catch (offline) {
        // A runtime built without digests starts from whatever copy it kept.
        if (copy && expected[name] === undefined) return copy.compiling;
        throw offline;
      }
    }

    // Set once the runtime is up, so that later fetch events are routed synchronously.
    let runtime = null;
    // The manifest downloads while the runtime loads; the runtime starts from its kept copy if
    // there is one and applies this one when it arrives, if it changed (else it waits for it).
    const manifestResponse = fetch(manifestUrl, { cache: 'no-store' });
    manifestResponse.catch(() => {}); // not unhandled: the runtime handles it
    // The marks time a cold start in DevTools (and in bench/): since the worker started.
    const booting = wasm_bindgen({ module_or_path: runtimeModule() })
      .then(() => performance.mark('valor:runtime-loaded'))
      .then(() => wasm_bindgen.Runtime.boot(manifestUrl, CACHE, manifestResponse, file('valor_meter.wasm')))
      .then((booted) => {
        performance.mark('valor:plugins-mounted');
        return (runtime = booted);
      });
    booting.catch((error) =>
      console.error('[valor] the runtime failed to start; requests go to the network:', error),
    );

    // Every plugin's module is kept for starts without the network, used yet or not. Failures
    // are logged, never fail the app's install.
    self.addEventListener('install', (event) => {
      event.waitUntil(booting.then((booted) => booted.keepOffline()).then(
        (problems) => problems.forEach((problem) => console.warn(`[valor] not kept for offline use: ${problem}`)),
        () => {},
      ));
    });

    // If the runtime itself traps (a bug in Valor: plugins' failures are answered by the
    // runtime), its state is unknown and the answers it was computing would never settle. Each
    // of them, and each later request it claims, then answers 500, until the worker restarts.
    let crash = null;
    const waiting = new Set(); // the `resolve` of each answer under way
    const failure = (error = crash) => new Response(
      `the Valor runtime failed (a bug in Valor, not in a plugin): ${error}\n`,
      { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } },
    );
    const crashed = (error) => {
      if (crash || !(error instanceof WebAssembly.RuntimeError)) return;
      crash = error;
      console.error('[valor] the runtime crashed; requests for plugins answer 500 until the worker restarts:', error);
      for (const resolve of waiting) resolve(failure());
      waiting.clear();
    };
    self.addEventListener('error', (event) => crashed(event.error));
    self.addEventListener('unhandledrejection', (event) => crashed(event.reason));
    // The runtime's answer (a response, or a promise of one), settled whatever happens to it.
    const guarded = (answer) => (crash ? Promise.resolve(failure()) : new Promise((resolve) => {
      waiting.add(resolve);
      const settle = (response) => { waiting.delete(resolve); resolve(response); };
      Promise.resolve(answer).then(settle, (error) => settle(failure(error)));
    }));
    // The runtime's answer; if the runtime traps while answering at once, a 500.
    const answerOrFailure = (booted, event) => {
      try {
        return booted.answer(event.request, event.clientId, event);
      } catch (error) {
        crashed(error);
        return failure(error);
      }
    };

    // Synchronous, as the platform requires: responds and returns true for a request that is
    // Valor's; returns false, untouched, for any other.
    function handleFetch(event) {
      const url = new URL(event.request.url);
      if (!claims(url.pathname)) return false;
      if (url.origin === self.location.origin && own.has(url.pathname)) return false;
      if (runtime) {
        // The response when it is ready at once (most are), else a promise of it; undefined
        // for a request no plugin is mounted at.
        const answer = answerOrFailure(runtime, event);
        if (!answer) return false;
        event.respondWith(answer instanceof Response ? answer : guarded(answer));
        return true;
      }
      // The browser (re)started the worker for this request and the routes are not known yet.
      // Only same-origin requests can be for a plugin: hold those until the runtime is up; it
      // answers the ones for plugins and passes the others on to the network unchanged.
      if (url.origin !== self.location.origin) return false;
      event.respondWith(booting.then(
        (booted) => {
          const answer = answerOrFailure(booted, event);
          return answer ? guarded(answer) : fetch(event.request);
        },
        () => fetch(event.request),
      ));
      return true;
    }

    // A page loaded while the worker was already active but without it (a hard reload bypasses
    // the worker) is not controlled, and no activation will claim it: it asks, with
    // 'valor:claim'. True for that message (claimed), false for others.
    function handleMessage(event) {
      if (event.data !== 'valor:claim') return false;
      event.waitUntil(self.clients.claim());
      return true;
    }

    // Deletes the caches of other versions of Valor, never any other cache.
    async function removeOldCaches() {
      const ours = (name) => name === CACHE || name.startsWith(`${CACHE}:`);
      const old = (await caches.keys()).filter((name) => VALOR_CACHE.test(name) && !ours(name));
      await Promise.all(old.map((name) => caches.delete(name)));
      return old;
    }

    return Object.freeze({
      version: VERSION,
      cacheName: CACHE,
      manifestUrl,
      ready: booting,
      handleFetch,
      handleMessage,
      removeOldCaches,
    });
  }

  self.Valor = Object.freeze({ version: VERSION, mount });
})();
