//! The app's plugins and the path of a request through them: the mounts (the manifest's
//! entries, and the registry's over them), and [`Runtime`], the handle the service worker's
//! JavaScript boots and hands its fetch events to.

use crate::error::DispatchError;
use crate::host::{Bindings, PluginContext};
use crate::inbound::{self, RequestFrame};
use crate::manifest::{Manifest, Mount, PluginSpec};
use crate::offline;
use crate::plugin::{self, Modules, Plugin};
use crate::registry::Registry;
use crate::reply::{into_web, Reply, Worker};
use crate::storage::Storage;
use crate::sys;
use futures::future::{FutureExt, LocalBoxFuture};
use std::cell::RefCell;
use std::future::Future;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};
use valor_host::bodies;
use valor_host::local::{self, Local, LocalDispatch};
use valor_host::registry::{self, PluginState, Revalidation};
use vlugin::Request;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// What answers at a prefix: a plugin, or the reason its manifest entry is invalid.
type Mounted = valor_host::mounts::Mounted<Rc<Plugin>>;

/// The prefixes and what is mounted at each.
type Mounts = valor_host::mounts::Mounts<Rc<Plugin>>;

/// The IndexedDB database that holds every plugin's key-value namespace.
const STORAGE_DATABASE: &str = "valor";

/// How the manifest is fetched: whole, never from the HTTP cache. (It is small, and a server's
/// one-second modification times would let a change made in the same second as the last fetch
/// pass a revalidation unseen.)
const MANIFEST_FRESHNESS: &str = "no-store";

/// Where the module rewriter is, relative to the worker's script, unless sw.js names it.
const METER_PATH: &str = "valor/valor_meter.wasm";

/// How much more fuel the JavaScript engine is metered with than a script's entry gives (see
/// `valor_host::script::metered_fuel`): the rewriter charges each turn of QuickJS's interpreter
/// loop its longest path, about 10,000 instructions per bytecode step, so a script stops at its
/// own budget well before this.
const SCRIPT_FUEL_FACTOR: u64 = 200;

/// The Cache Storage cache for starts without the network, unless sw.js names its own.
pub const DEFAULT_CACHE: &str = "valor";

/// The Valor runtime of one service worker: routes requests to plugins and answers for them.
///
/// From JavaScript (see sw.js): `await Runtime.boot(manifestUrl, cacheName, manifestResponse,
/// meterUrl)`,
/// then for each fetch event `runtime.answer(request, event.clientId, event)`, synchronous: the
/// response (or a promise of it, when it is not ready at once) to pass to `respondWith`, or
/// `undefined` for a request that is not for a plugin nor the registry.
#[wasm_bindgen]
pub struct Runtime {
    app: Rc<App>,
}

/// The app's plugins, and how requests reach them: the runtime's state, shared with its
/// plugins (their requests to other plugins).
struct App {
    /// Only requests to this origin can be for a plugin.
    origin: String,
    /// What answers at each prefix: the manifest's entries, and the registry's over them.
    mounts: Mounts,
    /// The run-time registry, if the manifest turns it on.
    registry: Option<Registry>,
    storage: Storage,
    /// Compiled modules, by file and limits.
    modules: Rc<Modules>,
    /// The manifest's entries, as last applied.
    manifest: RefCell<Vec<Mount>>,
    /// This, for the plugins it creates (their requests to other plugins).
    me: Weak<App>,
}

impl Runtime {
    /// Loads the manifest and mounts its plugins. Never fails: problems are logged to the
    /// console, and an invalid entry's prefix answers with the reason. Plugin modules are
    /// rewritten for their limits by `valor/valor_meter.wasm`, beside the worker's script.
    pub async fn boot(manifest_url: &str) -> Runtime {
        Self::boot_with_cache(manifest_url, DEFAULT_CACHE).await
    }

    /// As [`Runtime::boot`], keeping the manifest and the modules in the Cache Storage cache
    /// `cache` (and starting from them when the network is down).
    pub async fn boot_with_cache(manifest_url: &str, cache: &str) -> Runtime {
        Self::boot_with_meter(manifest_url, cache, &default_meter_url()).await
    }

    /// As [`Runtime::boot_with_cache`], with the module rewriter (`valor_meter.wasm`) at
    /// `meter_url`.
    pub async fn boot_with_meter(manifest_url: &str, cache: &str, meter_url: &str) -> Runtime {
        let fetching = sys::fetch_with_cache_mode(manifest_url, MANIFEST_FRESHNESS);
        Self::boot_fetching(manifest_url, cache, fetching, meter_url).await
    }

    /// As [`Runtime::boot_with_cache`], with the manifest's fetch already under way (`fetching`,
    /// a promise of its response, fetched with `cache: "no-store"`), and the module rewriter at
    /// `meter_url`.
    async fn boot_fetching(
        manifest_url: &str,
        cache: &str,
        fetching: js_sys::Promise,
        meter_url: &str,
    ) -> Runtime {
        let (manifest, revalidating) = match open_manifest(manifest_url, cache, fetching).await {
            Ok(opened) => opened,
            Err(error) => {
                console_error(&format!(
                    "[valor] {manifest_url}: {error}. No plugin is mounted; requests go to the network."
                ));
                (Manifest::default(), None)
            }
        };
        for problem in &manifest.problems {
            console_error(&format!("[valor] {manifest_url}: {problem}"));
        }
        let storage = Storage::new(STORAGE_DATABASE);
        let registry = manifest
            .registry
            .map(|settings| Registry::new(settings, manifest_url, storage.clone()));
        let app = Rc::new_cyclic(|me: &Weak<App>| App {
            origin: scope_origin(),
            mounts: Mounts::new([]),
            registry,
            storage,
            modules: Modules::new(cache, meter_url),
            manifest: RefCell::new(manifest.mounts.clone()),
            me: me.clone(),
        });
        let me = Rc::downgrade(&app);
        app.modules.on_renewed(move |url| {
            if let Some(app) = me.upgrade() {
                app.renew(url);
            }
        });
        for mount in manifest.mounts {
            let mounted = app.mounted(manifest_url, mount.clone());
            app.mounts.insert(mount.prefix, mounted);
        }
        // Before the first request is routed: what the registry changed is mounted too.
        if let Some(registry) = &app.registry {
            registry.restore(&app.as_registry_host(registry)).await;
        }
        for plugin in app.mounts.plugins() {
            preload_if_eager(plugin);
        }
        // The kept manifest answers at once; the network's says in the background whether it
        // changed.
        if let Some((fetching, kept)) = revalidating {
            let (app, url) = (Rc::clone(&app), manifest_url.to_owned());
            wasm_bindgen_futures::spawn_local(async move {
                app.revalidate_manifest(&url, fetching, &kept).await;
                sys::mark("manifest", "revalidated");
            });
        }
        Runtime { app }
    }

    /// Answers a request as sw.js has it answered: `None` if it is not for a plugin nor the
    /// registry (the network answers it), else the response, or a promise of it when it is not
    /// ready at once. Never fails: errors become responses with their status. `event`, the
    /// request's fetch event, holds the worker while a streamed answer is read or a plugin
    /// works on after its answer (`waitUntil`).
    pub fn answer(
        &self,
        request: web_sys::Request,
        client_id: Option<String>,
        event: Option<web_sys::ExtendableEvent>,
    ) -> Option<JsValue> {
        let app = Rc::clone(&self.app);
        match self.app.target_of(&request)? {
            Target::Registry => Some(
                future_to_promise(async move {
                    let registry = app.registry.as_ref().expect("targeted only when on");
                    let host = app.as_registry_host(registry);
                    let origin = &app.origin;
                    let reply = registry.serve(&host, origin, request, client_id).await;
                    Ok(into_web(reply, None).into())
                })
                .into(),
            ),
            Target::Mount(Mounted::Invalid(error), _) => {
                Some(into_web(Reply::error(&error, None), None).into())
            }
            Target::Mount(Mounted::Plugin(plugin), relative_uri) => Some(at_once_or_later(
                respond(plugin, relative_uri, request, event),
            )),
        }
    }
}

/// The output of `future` if it is ready in its first poll (most handlers of a loaded plugin
/// are), else a promise of it: no promise, task or microtask for an answer that is ready.
fn at_once_or_later(future: impl Future<Output = web_sys::Response> + 'static) -> JsValue {
    let mut future = Box::pin(future);
    // A waker that does nothing is enough for the first poll: if the future is not ready, the
    // promise's task polls it again at once, and futures keep the waker of their latest poll.
    let waker = futures::task::noop_waker();
    match future.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(response) => response.into(),
        Poll::Pending => future_to_promise(async move { Ok(future.await.into()) }).into(),
    }
}

#[wasm_bindgen]
impl Runtime {
    /// JavaScript: `Runtime.boot(manifestUrl, cacheName?, manifestResponse?, meterUrl?) ->
    /// Promise<Runtime>`. `manifestResponse`, a promise of `fetch(manifestUrl, { cache:
    /// "no-store" })`, lets the manifest download while the runtime itself loads (sw.js does);
    /// without it, the runtime fetches the manifest. `meterUrl` is where the module rewriter
    /// (`valor_meter.wasm`) is; by default `valor/valor_meter.wasm` beside the worker's script.
    #[wasm_bindgen(js_name = boot)]
    pub fn boot_js(
        manifest_url: String,
        cache: Option<String>,
        manifest_response: Option<js_sys::Promise>,
        meter_url: Option<String>,
    ) -> js_sys::Promise {
        future_to_promise(async move {
            let cache = cache.as_deref().unwrap_or(DEFAULT_CACHE);
            let fetching = manifest_response
                .unwrap_or_else(|| sys::fetch_with_cache_mode(&manifest_url, MANIFEST_FRESHNESS));
            let meter_url = meter_url.unwrap_or_else(default_meter_url);
            let runtime = Runtime::boot_fetching(&manifest_url, cache, fetching, &meter_url).await;
            Ok(runtime.into())
        })
    }

    /// JavaScript: `runtime.keepOffline() -> Promise<string[]>`: fetches every mounted
    /// plugin's module into the cache (sw.js does at install), so that the app answers without
    /// the network even for plugins it has not used yet. Resolves to the problems, if any.
    #[wasm_bindgen(js_name = keepOffline)]
    pub fn keep_offline_js(&self) -> js_sys::Promise {
        let app = Rc::clone(&self.app);
        future_to_promise(async move {
            let plugins = app.mounts.plugins();
            let mut urls: Vec<String> = plugins.iter().map(|p| p.spec().url.clone()).collect();
            // The JavaScript engine too if a plugin is a script (the rewriter below).
            if plugins
                .iter()
                .any(|p| valor_host::script::is_script(&p.spec().url))
            {
                urls.push(app.modules.script_engine_url().to_owned());
            }
            urls.sort();
            urls.dedup();
            // One at a time: install is not in a hurry, and against the browser tests' server,
            // Firefox took over 10 s for some 30 modules fetched all at once (under a second
            // one after another).
            let cache = app.modules.cache_name().to_owned();
            let problems = js_sys::Array::new();
            // The rewriter first, if a plugin's module may have to be rewritten, then loaded in
            // the background while the modules download: the worker that installs answers the
            // app's first requests, whose modules it rewrites.
            if plugins.iter().any(|plugin| plugin.spec().fuel.is_some()) {
                match offline::keep_offline(&cache, app.modules.rewriter_url()).await {
                    Ok(rewriter) => app.modules.preload_rewriter_from(rewriter.response),
                    Err(problem) => {
                        problems.push(&JsValue::from(problem));
                    }
                }
            }
            let mut components = false;
            for url in &urls {
                match offline::keep_offline(&cache, url).await {
                    // A component is known by its bytes, not its name.
                    Ok(file) => components = components || file.is_component(),
                    Err(problem) => {
                        problems.push(&JsValue::from(problem));
                    }
                }
            }
            // The host of components too, if a module is one.
            if components {
                let host = app.modules.component_host_url();
                if let Err(problem) = offline::keep_offline(&cache, host).await {
                    problems.push(&JsValue::from(problem));
                }
            }
            Ok(problems.into())
        })
    }

    /// JavaScript: `runtime.answer(request, clientId, event?) -> Response | Promise<Response> |
    /// undefined`, for each fetch event (see [`Runtime::answer`]). `clientId` is the event's:
    /// the registry answers only the app's pages.
    #[wasm_bindgen(js_name = answer)]
    pub fn answer_js(
        &self,
        request: web_sys::Request,
        client_id: Option<String>,
        event: Option<web_sys::ExtendableEvent>,
    ) -> JsValue {
        self.answer(request, client_id, event)
            .unwrap_or(JsValue::UNDEFINED)
    }
}

/// What answers a request.
enum Target {
    Registry,
    Mount(Mounted, String),
}

impl App {
    /// What a manifest entry mounts: its plugin, or the reason it is invalid (logged).
    fn mounted(&self, manifest_url: &str, mount: Mount) -> Mounted {
        match mount.plugin {
            Ok(spec) => Mounted::Plugin(self.plugin(spec)),
            Err(reason) => {
                console_error(&format!(
                    "[valor] {manifest_url}: the entry for {} is invalid: {reason}; \
                     requests to it answer 502",
                    mount.prefix
                ));
                Mounted::Invalid(DispatchError::InvalidEntry {
                    prefix: mount.prefix,
                    reason,
                })
            }
        }
    }

    /// A plugin for `spec`, not loaded yet.
    fn plugin(&self, spec: PluginSpec) -> Rc<Plugin> {
        let bindings = Bindings {
            credentials: spec.credentials,
            storage: self.storage.clone(),
            local: self.me.clone(),
        };
        let context = PluginContext::new(&spec, self.origin.clone(), SCRIPT_FUEL_FACTOR, bindings);
        Rc::new(plugin::new(spec, context, Rc::clone(&self.modules)))
    }

    /// The app, as `registry` (its own) sees it.
    fn as_registry_host<'a>(&'a self, registry: &'a Registry) -> RegistryHost<'a> {
        RegistryHost {
            app: self,
            registry,
        }
    }

    /// What answers a request to `url`: the registry, or a mount and the URI relative to it
    /// (path + query).
    fn target(&self, url: &str) -> Option<Target> {
        let (path, query) = split_url(url, &self.origin)?;
        if self.registry.as_ref().is_some_and(|r| r.claims(path)) {
            return Some(Target::Registry);
        }
        let (mounted, relative_path) = self.mounts.find(path)?;
        Some(Target::Mount(mounted, format!("{relative_path}{query}")))
    }

    /// What answers `request`, if anything: as [`App::target`], except that a page
    /// navigation is left to the network unless the plugin's entry accepts navigations.
    fn target_of(&self, request: &web_sys::Request) -> Option<Target> {
        let target = self.target(&request.url())?;
        let navigation = request.mode() == web_sys::RequestMode::Navigate;
        let answers = match &target {
            Target::Registry => true, // and refused: a navigation comes from no page
            Target::Mount(Mounted::Plugin(plugin), _) => plugin.spec().navigations,
            Target::Mount(Mounted::Invalid(_), _) => false,
        };
        (!navigation || answers).then_some(target)
    }
}

/// Changes found in the background (a module's new bytes, a new manifest), applied in place:
/// each plugin is swapped in one step (`Mounts::put`, as the registry replaces one), so the new
/// version answers from the next request on, while the requests under way finish on the old.
impl App {
    /// Swaps a new plugin, loaded from the new version of the file at `url`, for each loaded
    /// plugin made of it (one not loaded yet will load the new version). If the new one cannot
    /// be loaded, the old one stays, and `GET /_plugins` says why.
    fn renew(&self, url: &str) {
        for (prefix, mounted) in self.mounts.all() {
            let Mounted::Plugin(old) = mounted else {
                continue;
            };
            if old.spec().url != url || old.state() == PluginState::NotLoaded {
                continue;
            }
            let (app, url) = (self.me.upgrade().expect("alive"), url.to_owned());
            wasm_bindgen_futures::spawn_local(async move {
                let new = app.plugin(old.spec().clone());
                match new.preload().await {
                    Ok(()) => app.swap(prefix, &old, new),
                    Err(error) => app.modules.refused(&url, error.to_string()),
                }
            });
        }
    }

    /// Mounts `new` at `prefix` in place of `old`, unless something else replaced `old`
    /// meanwhile (the registry, a new manifest).
    fn swap(&self, prefix: String, old: &Rc<Plugin>, new: Rc<Plugin>) {
        let current = self.mounts.named(old.name());
        if current.is_some_and(|(_, current)| Rc::ptr_eq(&current, old)) {
            sys::mark(old.name(), "swapped");
            self.mounts.put(prefix, new);
        }
    }

    /// Applies the manifest the network has at `url` (`fetching`), if it is not the kept one
    /// (SHA-256 `kept`), and keeps it.
    async fn revalidate_manifest(&self, url: &str, fetching: js_sys::Promise, kept: &str) {
        // Without the network, the kept manifest is the one.
        let Ok(file) = offline::arrived(url, fetching).await else {
            return;
        };
        if file.digest == kept {
            return;
        }
        match parse_manifest(&file, url) {
            Ok(manifest) => {
                offline::keep_later(self.modules.cache_name(), url, &file);
                self.apply(url, manifest).await;
            }
            Err(error) => console_error(&format!(
                "[valor] {url} changed, and the new one cannot be used: {error}; the kept one \
                 stays in use"
            )),
        }
    }

    /// Mounts the entries of a new `manifest` (from `url`) that are new or changed, and
    /// unmounts those it dropped; names the registry decides are left to it. A changed plugin
    /// that was loaded is loaded again before it is swapped in: if it cannot be, the old one
    /// stays, and `GET /_plugins` says why.
    async fn apply(&self, url: &str, manifest: Manifest) {
        for problem in &manifest.problems {
            console_error(&format!("[valor] {url}: {problem}"));
        }
        if manifest.registry != self.registry.as_ref().map(|r| r.settings().clone()) {
            console_error(&format!(
                "[valor] {url}: the registry's settings changed; they apply at the worker's next start"
            ));
        }
        let old = self.manifest.replace(manifest.mounts.clone());
        let new = manifest.mounts;
        let registry_decides = |mount: &Mount| {
            let name = mount.plugin.as_ref().map(|spec| spec.name.as_str());
            name.is_ok_and(|name| self.registry.as_ref().is_some_and(|r| r.overrides(name)))
        };
        let name_of = |mount: &Mount| mount.plugin.as_ref().ok().map(|spec| spec.name.clone());
        for gone in old.iter().filter(|mount| !new.contains(mount)) {
            if registry_decides(gone) {
                continue;
            }
            match name_of(gone) {
                Some(name) if !new.iter().any(|m| name_of(m).as_ref() == Some(&name)) => {
                    self.mounts.remove(&name);
                }
                Some(_) => {} // changed: swapped below
                None if !new.iter().any(|m| m.prefix == gone.prefix) => {
                    self.mounts.remove_at(&gone.prefix);
                }
                None => {}
            }
        }
        for mount in new.into_iter().filter(|mount| !old.contains(mount)) {
            if registry_decides(&mount) {
                continue;
            }
            let prefix = mount.prefix.clone();
            let plugin = match self.mounted(url, mount) {
                Mounted::Plugin(plugin) => plugin,
                invalid => {
                    self.mounts.insert(prefix, invalid);
                    continue;
                }
            };
            match self.mounts.named(plugin.name()) {
                Some((_, old)) if old.state() != PluginState::NotLoaded => {
                    match plugin.preload().await {
                        Ok(()) => self.swap(prefix, &old, plugin),
                        Err(error) => self.modules.refused(
                            &old.spec().url,
                            format!(
                                "the new manifest's entry for '{}' could not be loaded: {error}",
                                old.name()
                            ),
                        ),
                    }
                }
                _ => {
                    self.mounts.put(prefix, Rc::clone(&plugin));
                    preload_if_eager(plugin);
                }
            }
        }
    }
}

/// The app, as its registry sees it: its mounts and plugins, and the registry's own rules for
/// where registered modules may come from.
struct RegistryHost<'a> {
    app: &'a App,
    registry: &'a Registry,
}

impl registry::Host for RegistryHost<'_> {
    type Plugin = Rc<Plugin>;

    fn mounts(&self) -> &Mounts {
        &self.app.mounts
    }

    fn resolve(&self, url: &str) -> Result<String, String> {
        self.registry.resolve(url)
    }

    fn admits(&self, url: &str, trusted_origins: &[String]) -> Result<(), String> {
        self.registry.admits(url, trusted_origins, &self.app.origin)
    }

    fn plugin(&self, spec: PluginSpec) -> Rc<Plugin> {
        self.app.plugin(spec)
    }

    async fn preload(&self, plugin: &Rc<Plugin>) -> Result<(), DispatchError> {
        plugin.preload().await
    }

    fn state(&self, plugin: &Rc<Plugin>) -> PluginState {
        plugin.state()
    }

    fn revalidation(&self, plugin: &Rc<Plugin>) -> Option<Revalidation> {
        self.app.modules.revalidation(&plugin.spec().url)
    }

    fn report(&self, message: &str) {
        console_error(&format!("[valor] {message}"));
    }
}

/// Answers a page's request with `plugin`.
async fn respond(
    plugin: Rc<Plugin>,
    relative_uri: String,
    request: web_sys::Request,
    event: Option<web_sys::ExtendableEvent>,
) -> web_sys::Response {
    let spec = plugin.spec();
    let limit = spec.max_body_bytes;
    let read = match bodies::streams(spec, &request.method()) {
        true => Ok(inbound::streamed(
            &request,
            &relative_uri,
            spec.max_stream_bytes,
        )),
        false => inbound::read(&request, &relative_uri, limit).await,
    };
    let reply = match read {
        Ok(frame) => {
            let event = event.as_ref();
            let page = plugin::Page {
                request: &request,
                event,
            };
            plugin::respond(&plugin, &frame, 0, Some(page)).await
        }
        Err(unreadable) => {
            let error = unreadable.into_error(plugin.name(), limit);
            Reply::error(&error, Some(plugin.tag()))
        }
    };
    let reply = if request.method() == "HEAD" {
        reply.without_body()
    } else {
        reply
    };
    into_web(reply, Some(plugin.tag()))
}

/// The path and query (`?` included, or empty) of `url`, a request's serialised URL, if it is
/// on `origin`. (Read from the string rather than with `URL`: a request's URL is already
/// parsed and serialised by the browser.)
fn split_url<'a>(url: &'a str, origin: &str) -> Option<(&'a str, &'a str)> {
    let rest = url.strip_prefix(origin)?;
    // Not "https://app.example.evil/...": the origin must end where the path starts.
    if !rest.starts_with('/') {
        return None;
    }
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    Some(match rest.find('?') {
        // `URL.search` is empty for a query that is: "/x?" has none.
        Some(at) if at + 1 == rest.len() => (&rest[..at], ""),
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    })
}

impl LocalDispatch<vlugin::Body> for App {
    type Answer = LocalBoxFuture<'static, Vec<u8>>;

    fn dispatch_local(
        &self,
        request: Request,
        path: &str,
        query: Option<&str>,
        depth: u32,
    ) -> Option<Self::Answer> {
        let refused = self.registry.as_ref().and_then(|r| r.refuses_plugin(path));
        Some(
            match local::route::<Worker, _, _>(refused, &self.mounts, request, path, query)? {
                Local::Refused(reply) => async move { reply }.boxed_local(),
                Local::Plugin(plugin, request) => {
                    let frame = RequestFrame::from_http(plugin.spec(), request);
                    async move {
                        let reply = plugin::respond(&plugin, &frame, depth, None).await;
                        let max_body_bytes = plugin.spec().max_body_bytes;
                        reply.into_abi(max_body_bytes, Some(plugin.tag())).await
                    }
                    .boxed_local()
                }
            },
        )
    }
}

/// The manifest at `url`: its kept copy if there is a good one, with the network's
/// (`fetching`) and the kept copy's SHA-256, to revalidate it with; else the network's, kept.
async fn open_manifest(
    url: &str,
    cache: &str,
    fetching: js_sys::Promise,
) -> Result<(Manifest, Option<(js_sys::Promise, String)>), String> {
    if let Some(kept) = offline::kept(cache, url).await {
        match parse_manifest(&kept, url) {
            Ok(manifest) => return Ok((manifest, Some((fetching, kept.digest)))),
            Err(error) => console_error(&format!("[valor] the kept {url}: {error}")),
        }
    }
    let file = offline::arrived(url, fetching).await?;
    let manifest = parse_manifest(&file, url)?;
    offline::keep_later(cache, url, &file);
    Ok((manifest, None))
}

/// The manifest in `file`, fetched from `url`; its relative URLs resolve against where it came
/// from (after redirects), or `url` for a kept copy.
fn parse_manifest(file: &offline::File, url: &str) -> Result<Manifest, String> {
    let text = String::from_utf8_lossy(&js_sys::Uint8Array::new(&file.bytes).to_vec()).into_owned();
    sys::mark("manifest", "read");
    let base = match file.response.url() {
        from if !from.is_empty() => from,
        _ => web_sys::Url::new_with_base(url, &worker_location("href"))
            .map(|url| url.href())
            .map_err(|e| sys::describe(&e))?,
    };
    let resolve = |relative: &str| {
        web_sys::Url::new_with_base(relative, &base)
            .map(|url| url.href())
            .map_err(|e| sys::describe(&e))
    };
    Manifest::parse(&text, resolve).map_err(|e| e.to_string())
}

/// Loads `plugin` now, in the background, if its entry says `eager`: a failure is logged, and a
/// request after the pause loads the plugin again.
fn preload_if_eager(plugin: Rc<Plugin>) {
    if plugin.spec().eager {
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(error) = plugin.preload().await {
                console_error(&format!("[valor] loading ahead of requests: {error}"));
            }
        });
    }
}

fn scope_origin() -> String {
    worker_location("origin")
}

/// A field of the worker's `location` (its script's URL), e.g. `origin` or `href`.
fn worker_location(field: &str) -> String {
    js_sys::Reflect::get(&js_sys::global(), &"location".into())
        .and_then(|location| js_sys::Reflect::get(&location, &field.into()))
        .ok()
        .and_then(|value| value.as_string())
        .unwrap_or_default()
}

/// `valor/valor_meter.wasm`, resolved against the worker's script (as sw.js finds the runtime).
fn default_meter_url() -> String {
    web_sys::Url::new_with_base(METER_PATH, &worker_location("href"))
        .map(|url| url.href())
        .unwrap_or_else(|_| METER_PATH.to_owned())
}

fn console_error(message: &str) {
    web_sys::console::error_1(&message.into());
}
