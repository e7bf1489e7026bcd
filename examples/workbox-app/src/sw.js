// The app's own service worker, built from Workbox's npm packages (bundled by build.mjs with
// esbuild): it precaches the app's pages and answers its own route, and mounts Valor, which
// answers the plugins' routes. One worker, one scope.
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, precacheAndRoute } from 'workbox-precaching';
import { registerRoute } from 'workbox-routing';

// Valor first: its fetch listener must see the events before Workbox's router does. It answers
// only under `paths`, so everything else (the precached pages) is Workbox's, offline too. Its
// version in the URL makes an update of Valor alone an update of this worker's script.
importScripts(`valor/valor-worker.js?v=${VALOR_VERSION}`);
const valor = Valor.mount({ manifest: 'plugins.json', paths: ['/api/', '/_plugins'] });
self.addEventListener('fetch', (event) => { valor.handleFetch(event); });
self.addEventListener('message', (event) => { valor.handleMessage(event); });

// The app's own policy, not Valor's: take over at once; on activation drop outdated precaches
// (Workbox's) and older versions' caches (Valor's). Neither touches the other's caches.
self.skipWaiting();
clientsClaim();
cleanupOutdatedCaches();
self.addEventListener('activate', (event) => { event.waitUntil(valor.removeOldCaches()); });

precacheAndRoute(self.__WB_MANIFEST);
// A route of the app's own, answered by Workbox: which build this worker is, and when it started.
const started = Date.now();
registerRoute(
  ({ url }) => url.pathname === '/app/build',
  () => Response.json({ from: 'workbox', build: APP_BUILD, started }),
);
