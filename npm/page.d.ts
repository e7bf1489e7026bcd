// Types of page.js: register Valor's service worker, and the run-time registry.

/** A manifest entry (plugins.json's `plugins[]`, or a body for the registry). */
export interface PluginEntry {
  /** Unique name: A-Z a-z 0-9 - _ . ; shown in `x-valor-plugin` and error messages. */
  name: string;
  /** Mount point, a path like `/api/hello` (no trailing slash). */
  prefix: string;
  /** The module (.wasm) or JavaScript plugin (.js, .mjs), resolved against the manifest's URL. */
  url: string;
  /** Free-form configuration handed to the plugin. */
  config?: unknown;
  /** Hosts the plugin's outbound fetch may reach: "self", "api.example.com", "*.example.com:8443". */
  allowed_hosts?: string[];
  /** Whether its outbound requests carry the browser's credentials (default "omit"). */
  credentials?: 'omit' | 'same-origin' | 'include';
  /** Whether it answers page navigations (default false). */
  navigations?: boolean;
  /** Whether its responses carry `content-security-policy: sandbox` (default true). */
  sandbox?: boolean;
  /** Largest body in either direction, bytes (default 32 MiB). */
  max_body_bytes?: number;
  /** Time to answer one request, ms (default 30000). */
  timeout_ms?: number;
  /** Instructions per call into the plugin (default 1e9); null turns metering off. */
  fuel?: number | null;
  /** The instance's memory, MiB (default 256). */
  memory_mb?: number;
  /** Subresource Integrity digests the module must match, e.g. "sha256-...". */
  integrity?: string;
  /** Load at the worker's start rather than on the first request (default false). */
  eager?: boolean;
}

/** A mounted plugin as the registry describes it. */
export interface PluginState {
  name?: string;
  prefix: string;
  url?: string;
  /** Where it was mounted from. */
  origin: 'manifest' | 'registry';
  state: 'not loaded' | 'loading' | 'loaded' | 'failed' | 'quarantined' | 'invalid';
  /** The module's SHA-256, once loaded. */
  digest?: string;
  /** Why it failed, or why its manifest entry is invalid. */
  reason?: string;
  retry_in_s?: number;
  seconds_left?: number;
  limits?: { fuel: number | null; memory_mb: number; max_body_bytes: number; timeout_ms: number };
}

/** Resolves once a service worker controls this page, asking the active one to claim it if needed. */
export function untilControlled(options?: { timeoutMs?: number }): Promise<ServiceWorker>;

/**
 * Registers the worker that runs Valor (default `/sw.js`) and resolves once it controls this
 * page. `manifest` sets the worker's `?manifest=` (default: plugins.json beside the worker).
 */
export function registerValor(
  scriptUrl?: string | URL,
  options?: RegistrationOptions & { manifest?: string; timeoutMs?: number },
): Promise<ServiceWorkerRegistration>;

/** A registry answer that is not a success. */
export class RegistryError extends Error {
  readonly status: number;
}

export interface Registry {
  list(): Promise<PluginState[]>;
  get(name: string): Promise<PluginState>;
  add(entry: PluginEntry): Promise<PluginState>;
  replace(name: string, entry: PluginEntry): Promise<PluginState>;
  remove(name: string): Promise<void>;
}

/** The registry at `prefix` (the manifest's "registry"; default `/_plugins`). */
export function registry(prefix?: string): Registry;

/** The registry at `/_plugins`. */
export const plugins: Registry;
