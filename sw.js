// Valor's service worker, for an app that has none of its own: the runtime mounted
// (valor/valor-worker.js) with the install and activate policy of a worker that is only Valor's.
// An app with its own worker (Workbox, vite-plugin-pwa, ...) mounts Valor in it instead: see
// valor/valor-worker.js.
//
// Deploy next to it: valor/ (valor-worker.js, with the runtime's glue; the runtime,
// valor_runtime_bg.wasm; valor_meter.wasm, the module rewriter, loaded only when a plugin's module
// must be rewritten for its limits; valor_js.wasm, the engine of JavaScript plugins;
// valor_component_bg.wasm, the host of components) and plugins.json, or register it as
// `sw.js?manifest=<url>` to read the manifest from elsewhere.

// Service workers cannot import() modules; importScripts works during the first evaluation.
importScripts('./valor/valor-worker.js'); // defines the global `Valor`

const valor = Valor.mount(); // every same-origin path; plugins.json beside this script

self.addEventListener('fetch', (event) => valor.handleFetch(event));
// Take over from an older worker at once, and control the page right after registering; a page
// that a hard reload left uncontrolled asks with 'valor:claim'.
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(
  valor.removeOldCaches().then(() => self.clients.claim()),
));
self.addEventListener('message', (event) => valor.handleMessage(event));
