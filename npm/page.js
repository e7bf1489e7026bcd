// Valor for pages: register the worker, wait until it serves this page, and the run-time
// registry (`/_plugins`) as functions. Plugins themselves need nothing from here: once the page
// is controlled, `fetch('/api/...')` reaches them.

/** Resolves once a service worker controls this page; asks the active one to claim it if needed. */
export async function untilControlled({ timeoutMs = 10000 } = {}) {
  const { serviceWorker } = navigator;
  if (serviceWorker.controller) return serviceWorker.controller;
  const controlled = new Promise((resolve) =>
    serviceWorker.addEventListener('controllerchange', () => resolve(serviceWorker.controller), { once: true }),
  );
  // First visit: a worker that claims clients when it activates (sw.js does) takes the page.
  // After a hard reload (Shift+Reload) the worker is already active but the page bypassed it,
  // and nothing will claim it unless asked: sw.js answers 'valor:claim' (an app's own worker
  // does when it passes its message events to `valor.handleMessage`).
  (await serviceWorker.ready).active.postMessage('valor:claim');
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(
      `no service worker took control of this page within ${timeoutMs} ms: the worker must call ` +
        "clients.claim() when it activates, and answer 'valor:claim' (sw.js does both; in your own " +
        'worker, call valor.handleMessage(event) from its message listener)',
    )), timeoutMs);
  });
  try {
    return await Promise.race([controlled, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Registers the service worker that runs Valor (by default `/sw.js`, the package's own) and
 * resolves once it controls this page, so that the page's next `fetch` reaches plugins.
 */
export async function registerValor(scriptUrl = '/sw.js', { manifest, timeoutMs, ...options } = {}) {
  if (!('serviceWorker' in navigator)) {
    throw new Error('this browser offers no service workers here: Valor needs a secure context (https, or http://localhost)');
  }
  const url = new URL(scriptUrl, document.baseURI);
  if (manifest !== undefined) url.searchParams.set('manifest', manifest);
  const registration = await navigator.serviceWorker.register(url, options);
  await untilControlled({ timeoutMs });
  return registration;
}

/** An answer of the registry that is not a success, with its status and Valor's explanation. */
export class RegistryError extends Error {
  constructor(status, message) {
    super(`${status}: ${message}`);
    this.name = 'RegistryError';
    this.status = status;
  }
}

async function expect(response, ...statuses) {
  if (statuses.includes(response.status)) return response;
  throw new RegistryError(response.status, (await response.text()).trim() || response.statusText);
}

/** The run-time registry at `prefix` (the manifest's `"registry"`: `/_plugins` unless moved). */
export function registry(prefix = '/_plugins') {
  const at = (name) => `${prefix}/${encodeURIComponent(name)}`;
  const send = (method, url, entry) => fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(entry),
  });
  return Object.freeze({
    /** Every plugin with its state (loaded, or failed and why). */
    async list() {
      return (await expect(await fetch(prefix), 200)).json();
    },
    /** One plugin with its state (a RegistryError with status 404 if there is none). */
    async get(name) {
      return (await expect(await fetch(at(name)), 200)).json();
    },
    /** Mounts a new plugin (409 if its name or prefix is taken, 400 for an invalid entry). */
    async add(entry) {
      return (await expect(await send('POST', prefix, entry), 201)).json();
    },
    /**
     * Replaces the plugin `name` with `entry` (a hot swap; the old one stays if the new module
     * cannot be loaded), or mounts it if there is none.
     */
    async replace(name, entry) {
      return (await expect(await send('PUT', at(name), entry), 200, 201)).json();
    },
    /** Unmounts the plugin `name`. */
    async remove(name) {
      await expect(await fetch(at(name), { method: 'DELETE' }), 204);
    },
  });
}

/** The registry at its default place, `/_plugins`. */
export const plugins = registry();
