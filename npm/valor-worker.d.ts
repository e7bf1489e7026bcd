// Types of the global `Valor` that `importScripts('/valor/valor-worker.js')` defines in a
// service worker. Reference them with `/// <reference types="valor-web/valor-worker" />`.

export interface MountOptions {
  /** The manifest's URL, relative to the worker script (default: its `?manifest=`, else `plugins.json`). */
  manifest?: string;
  /**
   * The path prefixes Valor may answer (default `["/"]`, every same-origin path). Requests
   * outside them are never touched, even in the moment after the worker starts, before the
   * manifest is read: give the prefixes of your plugins (and `/_plugins` for the registry) so
   * that the app's own routes (a precache, a navigation route) keep every other request.
   */
  paths?: string[];
  /** Where the runtime's files are, relative to the worker script (default `valor/`). */
  base?: string;
}

export interface MountedValor {
  readonly version: string;
  /** Valor's cache (`valor-web-<version>`); rewritten modules are kept in `<cacheName>:rewritten`. */
  readonly cacheName: string;
  readonly manifestUrl: string;
  /** Settles once the runtime is up (rejects if it could not start: then requests go to the network). */
  readonly ready: Promise<unknown>;
  /** Responds to, and returns true for, a request that is Valor's; false (untouched) for others. */
  handleFetch(event: FetchEvent): boolean;
  /** Claims the clients on the page's 'valor:claim' message and returns true; false for others. */
  handleMessage(event: ExtendableMessageEvent): boolean;
  /** Deletes the caches of other versions of Valor (`valor-web-<version>`, `valor-v1`), never another cache; resolves to their names. */
  removeOldCaches(): Promise<string[]>;
}

export interface ValorGlobal {
  readonly version: string;
  /** Boots Valor in this worker; call it once, during the worker script's first evaluation. */
  mount(options?: MountOptions): MountedValor;
}

declare global {
  const Valor: ValorGlobal;
}
