//! The runtime: the mounted plugins, and the path of a request through them.

use crate::error::DispatchError;
use crate::host::{LocalDispatch, PluginContext};
use crate::manifest::{Manifest, PluginSpec};
use crate::mounts::{Mounted, Mounts};
use crate::offline;
use crate::plugin::{Modules, Plugin};
use crate::registry::Registry;
use crate::storage::Storage;
use crate::sys;
use crate::web_http::{self, Unreadable};
use futures::future::{FutureExt, LocalBoxFuture};
use std::rc::{Rc, Weak};
use vlugin::{Request, Response};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

/// The IndexedDB database that holds every plugin's key-value namespace.
const STORAGE_DATABASE: &str = "valor";

/// The Cache Storage cache for starts without the network, unless sw.js names its own.
pub const DEFAULT_CACHE: &str = "valor";

/// The Valor runtime of one service worker: routes requests to plugins and answers for them.
///
/// From JavaScript (see sw.js): `await Runtime.boot(manifestUrl)`, then for each fetch event
/// `runtime.answer(request, event.clientId)`, synchronous: a promise of the response to pass to
/// `respondWith`, or `undefined` for a request that is not for a plugin nor the registry.
#[wasm_bindgen]
pub struct Runtime {
    inner: Rc<Inner>,
}

pub(crate) struct Inner {
    /// Only requests to this origin can be for a plugin.
    pub origin: String,
    pub mounts: Mounts,
    /// The run-time registry, if the manifest turns it on.
    registry: Option<Registry>,
    storage: Storage,
    /// Compiled modules, by file and limits.
    modules: Rc<Modules>,
    /// This, for the plugins it creates (their requests to other plugins).
    me: Weak<Inner>,
}

impl Runtime {
    /// Loads the manifest and mounts its plugins. Never fails: problems are logged to the
    /// console, and an invalid entry's prefix answers with the reason.
    pub async fn boot(manifest_url: &str) -> Runtime {
        Self::boot_with_cache(manifest_url, DEFAULT_CACHE).await
    }

    /// As [`Runtime::boot`], keeping the manifest and the modules in the Cache Storage cache
    /// `cache` (and starting from them when the network is down).
    pub async fn boot_with_cache(manifest_url: &str, cache: &str) -> Runtime {
        let manifest = match load_manifest(manifest_url, cache).await {
            Ok(manifest) => manifest,
            Err(error) => {
                console_error(&format!(
                    "[valor] {manifest_url}: {error}. No plugin is mounted; requests go to the network."
                ));
                Manifest::default()
            }
        };
        for problem in &manifest.problems {
            console_error(&format!("[valor] {manifest_url}: {problem}"));
        }
        let storage = Storage::new(STORAGE_DATABASE);
        let registry = manifest
            .registry
            .map(|settings| Registry::new(settings, manifest_url, storage.clone()));
        let inner = Rc::new_cyclic(|me: &Weak<Inner>| Inner {
            origin: scope_origin(),
            mounts: Mounts::new([]),
            registry,
            storage,
            modules: Rc::new(Modules::new(cache)),
            me: me.clone(),
        });
        for mount in manifest.mounts {
            let mounted = match mount.plugin {
                Ok(spec) => Mounted::Plugin(inner.plugin(spec)),
                Err(reason) => {
                    console_error(&format!(
                        "[valor] {manifest_url}: the entry for {} is invalid: {reason}; \
                         requests to it answer 502",
                        mount.prefix
                    ));
                    Mounted::Invalid(DispatchError::InvalidEntry {
                        prefix: mount.prefix.clone(),
                        reason,
                    })
                }
            };
            inner.mounts.insert(mount.prefix, mounted);
        }
        // Before the first request is routed: what the registry changed is mounted too.
        if let Some(registry) = &inner.registry {
            registry.restore(&inner).await;
        }
        Runtime { inner }
    }

    /// Whether a request to `url` is for a plugin. Decided synchronously: a fetch listener must
    /// call `respondWith` before it returns, and must not call it for requests it leaves alone.
    /// (A page navigation to such a URL is still left alone unless the plugin's entry accepts
    /// navigations; `answer` and `handle` see the request's mode.)
    pub fn claims(&self, url: &str) -> bool {
        self.inner.target(url).is_some()
    }

    /// Answers a request. Never fails: errors become responses with their status. A request
    /// for no plugin (not `claims`ed) is passed on to the network unchanged.
    pub async fn handle(&self, request: web_sys::Request) -> web_sys::Response {
        Rc::clone(&self.inner).handle(request).await
    }
}

#[wasm_bindgen]
impl Runtime {
    /// JavaScript: `Runtime.boot(manifestUrl, cacheName?) -> Promise<Runtime>`.
    #[wasm_bindgen(js_name = boot)]
    pub fn boot_js(manifest_url: String, cache: Option<String>) -> js_sys::Promise {
        future_to_promise(async move {
            let cache = cache.as_deref().unwrap_or(DEFAULT_CACHE);
            Ok(Runtime::boot_with_cache(&manifest_url, cache).await.into())
        })
    }

    /// JavaScript: `runtime.keepOffline() -> Promise<string[]>`: fetches every mounted
    /// plugin's module into the cache (sw.js does at install), so that the app answers without
    /// the network even for plugins it has not used yet. Resolves to the problems, if any.
    #[wasm_bindgen(js_name = keepOffline)]
    pub fn keep_offline_js(&self) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let mut urls: Vec<String> = inner
                .mounts
                .all()
                .into_iter()
                .filter_map(|(_, mounted)| match mounted {
                    Mounted::Plugin(plugin) => Some(plugin.spec().url.clone()),
                    Mounted::Invalid(_) => None,
                })
                .collect();
            urls.sort();
            urls.dedup();
            // One at a time: install is not in a hurry, and against the browser tests' server,
            // Firefox took over 10 s for some 30 modules fetched all at once (under a second
            // one after another).
            let cache = inner.modules.cache_name().to_owned();
            let problems = js_sys::Array::new();
            for url in &urls {
                if let Err(problem) = offline::keep(&cache, url).await {
                    problems.push(&JsValue::from(problem));
                }
            }
            Ok(problems.into())
        })
    }

    /// JavaScript: `runtime.claims(url) -> boolean`.
    #[wasm_bindgen(js_name = claims)]
    pub fn claims_js(&self, url: &str) -> bool {
        self.claims(url)
    }

    /// JavaScript: `runtime.handle(request) -> Promise<Response>`; never rejects.
    #[wasm_bindgen(js_name = handle)]
    pub fn handle_js(&self, request: web_sys::Request) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move { Ok(inner.handle(request).await.into()) })
    }

    /// JavaScript: `runtime.answer(request, clientId) -> Promise<Response> | undefined`:
    /// `claims` and `handle` in one call (the URL is parsed once), for a fetch listener's hot
    /// path. `clientId` is the fetch event's: the registry answers only the app's pages.
    #[wasm_bindgen(js_name = answer)]
    pub fn answer_js(
        &self,
        request: web_sys::Request,
        client_id: Option<String>,
    ) -> Option<js_sys::Promise> {
        let inner = Rc::clone(&self.inner);
        match self.inner.target_of(&request)? {
            Target::Registry => Some(future_to_promise(async move {
                let registry = inner.registry.as_ref().expect("targeted only when on");
                let response = registry.serve(&inner, request, client_id).await;
                Ok(to_web_response(response, None).into())
            })),
            Target::Mount(mounted, relative_uri) => Some(future_to_promise(async move {
                Ok(respond(mounted, relative_uri, request).await.into())
            })),
        }
    }
}

/// What answers a request.
enum Target {
    Registry,
    Mount(Mounted, String),
}

impl Inner {
    /// A plugin for `spec`, not loaded yet.
    pub fn plugin(&self, spec: PluginSpec) -> Rc<Plugin> {
        let context = PluginContext {
            name: spec.name.clone(),
            allowlist: spec.allowlist.clone(),
            credentials: spec.credentials,
            max_body_bytes: spec.max_body_bytes,
            fuel: spec.fuel,
            memory_mb: spec.memory_mb,
            origin: self.origin.clone(),
            storage: self.storage.clone(),
            local: self.me.clone(),
        };
        Rc::new(Plugin::new(spec, context, Rc::clone(&self.modules)))
    }

    /// What answers a request to `url`: the registry, or a mount and the URI relative to it
    /// (path + query).
    fn target(&self, url: &str) -> Option<Target> {
        let url = web_sys::Url::new(url).ok()?;
        if url.origin() != self.origin {
            return None;
        }
        let path = url.pathname();
        if self.registry.as_ref().is_some_and(|r| r.claims(&path)) {
            return Some(Target::Registry);
        }
        let (mounted, relative_uri) = self.mounts.find(&path, &url.search())?;
        Some(Target::Mount(mounted, relative_uri))
    }

    /// What answers `request`, if anything: as [`Inner::target`], except that a page
    /// navigation is left to the network unless the plugin's entry accepts navigations.
    fn target_of(&self, request: &web_sys::Request) -> Option<Target> {
        let target = self.target(&request.url())?;
        let navigation = request.mode() == web_sys::RequestMode::Navigate;
        let answers = match &target {
            Target::Registry => true, // and refused: a navigation comes from no page
            Target::Mount(Mounted::Plugin(plugin), _) => plugin.accepts_navigations(),
            Target::Mount(Mounted::Invalid(_), _) => false,
        };
        (!navigation || answers).then_some(target)
    }

    async fn handle(self: Rc<Self>, request: web_sys::Request) -> web_sys::Response {
        match self.target_of(&request) {
            Some(Target::Registry) => {
                let registry = self.registry.as_ref().expect("targeted only when on");
                to_web_response(registry.serve(&self, request, None).await, None)
            }
            Some(Target::Mount(mounted, relative_uri)) => {
                respond(mounted, relative_uri, request).await
            }
            None => pass_through(&request).await,
        }
    }
}

/// Answers a page's request with what is mounted at its URL.
async fn respond(
    mounted: Mounted,
    relative_uri: String,
    request: web_sys::Request,
) -> web_sys::Response {
    let (response, plugin) = match &mounted {
        Mounted::Invalid(error) => (error.to_response(), None),
        Mounted::Plugin(plugin) => {
            let limit = plugin.max_body_bytes();
            let response = match web_http::read_request(&request, &relative_uri, limit).await {
                Ok(http_request) => {
                    plugin
                        .dispatch(&http_request, 0, Some(&request.signal()))
                        .await
                }
                Err(Unreadable::TooLarge { size }) => DispatchError::RequestTooLarge {
                    plugin: plugin.name().to_owned(),
                    size,
                    limit,
                }
                .to_response(),
                Err(Unreadable::Invalid(reason)) => {
                    DispatchError::BadRequest { reason }.to_response()
                }
            };
            (response, Some(plugin.name()))
        }
    };
    to_web_response(response, plugin)
}

/// The web response for `response`, from `plugin` if any; a 500 if it cannot be one.
fn to_web_response(response: Response, plugin: Option<&str>) -> web_sys::Response {
    web_http::to_web_response(response).unwrap_or_else(|reason| {
        let error = DispatchError::InvalidResponse {
            plugin: plugin.unwrap_or_default().to_owned(),
            reason,
        };
        console_error(&format!("[valor] {error}"));
        let mut response = error.to_response();
        if let Some(plugin) = plugin {
            web_http::tag(&mut response, plugin);
        }
        // A 500 with a text body always converts.
        web_http::to_web_response(response).unwrap_or_else(|_| web_sys::Response::error())
    })
}

impl LocalDispatch for Inner {
    fn dispatch_local(
        &self,
        mut request: Request,
        (path, query): (&str, &str),
        depth: u32,
    ) -> Option<LocalBoxFuture<'static, Response>> {
        if self.registry.as_ref().is_some_and(|r| r.claims(path)) {
            let refused = DispatchError::Forbidden {
                reason: "plugins may not use the plugin registry".into(),
            }
            .to_response();
            return Some(async move { refused }.boxed_local());
        }
        let (mounted, relative_uri) = self.mounts.find(path, query)?;
        match mounted {
            Mounted::Invalid(error) => {
                let response = error.to_response();
                Some(async move { response }.boxed_local())
            }
            Mounted::Plugin(plugin) => {
                *request.uri_mut() = relative_uri.parse().ok()?;
                Some(async move { plugin.dispatch(&request, depth, None).await }.boxed_local())
            }
        }
    }
}

/// Sends a request to the network as if Valor were not there.
async fn pass_through(request: &web_sys::Request) -> web_sys::Response {
    match JsFuture::from(sys::fetch(request)).await {
        Ok(response) => response.unchecked_into(),
        // A network error must stay a network error for the page, as without Valor.
        Err(_) => web_sys::Response::error(),
    }
}

async fn load_manifest(url: &str, cache: &str) -> Result<Manifest, String> {
    let response = offline::fetch(cache, url, offline::Freshness::Whole)
        .await
        .map_err(|e| format!("the manifest could not be fetched: {}", sys::describe(&e)))?;
    if !response.ok() {
        return Err(format!(
            "fetching the manifest answered {}",
            response.status()
        ));
    }
    let base = response.url();
    let text = JsFuture::from(response.text().map_err(|e| sys::describe(&e))?)
        .await
        .map_err(|e| format!("the manifest could not be read: {}", sys::describe(&e)))?
        .as_string()
        .unwrap_or_default();
    let resolve = |relative: &str| {
        web_sys::Url::new_with_base(relative, &base)
            .map(|url| url.href())
            .map_err(|e| sys::describe(&e))
    };
    Manifest::parse(&text, resolve).map_err(|e| e.to_string())
}

fn scope_origin() -> String {
    js_sys::Reflect::get(&js_sys::global(), &"location".into())
        .and_then(|location| js_sys::Reflect::get(&location, &"origin".into()))
        .ok()
        .and_then(|origin| origin.as_string())
        .unwrap_or_default()
}

fn console_error(message: &str) {
    web_sys::console::error_1(&message.into());
}
