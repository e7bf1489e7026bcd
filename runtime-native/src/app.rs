//! The server's answer to a request: the plugin mounted at its path (longest prefix at a `/`
//! boundary, as in the browser), its body read within the plugin's `max_body_bytes`, and the
//! plugin's reply or the error, tagged.

use crate::files::{self, Files};
use crate::host::{self, Bindings, PluginContext};
use crate::inbound;
use crate::plugin::{self, Modules, Plugin};
use crate::registry::Registry;
use crate::reply::{self, Reply};
use crate::storage::Storage;
use bytes::Bytes;
use futures::future::{BoxFuture, FutureExt};
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use valor_host::bodies;
use valor_host::error::DispatchError;
use valor_host::local::{self, Local, LocalDispatch};
use valor_host::manifest::{Manifest, Mount, PluginSpec};
use valor_host::registry::{self, PluginState};

/// How much more fuel the JavaScript engine is metered with than a script's entry gives (see
/// `valor_host::script::metered_fuel`): wasmtime counts the instructions run, and a script's own
/// budget is spent long before this.
const SCRIPT_FUEL_FACTOR: u64 = 4;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What answers at a prefix: a plugin, or the reason its manifest entry is invalid.
pub type Mounted = valor_host::mounts::Mounted<Arc<Plugin>>;

/// The prefixes and what is mounted at each.
pub type Mounts = valor_host::mounts::Mounts<Arc<Plugin>>;

/// What every plugin of this server shares.
pub struct Shared {
    /// The origin plugins are told (their `valor_init`), and the registry's callers must be.
    pub origin: String,
    /// The engine, and the modules compiled for it (shared by plugins of the same file).
    pub modules: Arc<Modules>,
    /// The store behind plugins' `kv` and the registry's records.
    pub storage: Storage,
    /// The HTTP client of plugins' outbound fetches.
    pub client: reqwest::Client,
    /// Instances per plugin, at most.
    pub instances: usize,
}

/// The server's plugins, and how requests reach them.
pub struct App {
    shared: Shared,
    mounts: Mounts,
    /// The run-time registry, with `-w`.
    registry: Option<Registry>,
    /// The app's files, with `--static`: what no plugin's prefix claims.
    files: Option<Files>,
    /// This, for the plugins it creates (their requests to other plugins).
    me: Weak<App>,
}

impl App {
    /// Mounts the manifest's entries (an invalid one answers its prefix with the reason), then
    /// what the registry, if any, stored over them; `files` answers every other path.
    pub async fn new(
        shared: Shared,
        manifest: Manifest,
        registry: Option<Registry>,
        files: Option<Files>,
    ) -> Arc<Self> {
        let app = Arc::new_cyclic(|me: &Weak<App>| Self {
            shared,
            mounts: Mounts::new([]),
            registry,
            files,
            me: me.clone(),
        });
        for Mount { prefix, plugin } in manifest.mounts {
            let mounted = match plugin {
                Ok(spec) => Mounted::Plugin(app.plugin(spec)),
                Err(reason) => Mounted::Invalid(DispatchError::InvalidEntry {
                    prefix: prefix.clone(),
                    reason,
                }),
            };
            app.mounts.insert(prefix, mounted);
        }
        if let Some(registry) = &app.registry {
            registry.restore(&app.as_registry_host(registry)).await;
        }
        app
    }

    /// The origin plugins are told.
    pub fn origin(&self) -> &str {
        &self.shared.origin
    }

    /// What is mounted.
    pub fn mounts(&self) -> &Mounts {
        &self.mounts
    }

    /// The plugins mounted now.
    pub fn plugins(&self) -> Vec<Arc<Plugin>> {
        self.mounts.plugins()
    }

    /// A plugin for `spec`, not loaded yet.
    pub fn plugin(&self, spec: PluginSpec) -> Arc<Plugin> {
        let shared = &self.shared;
        let bindings = Bindings {
            storage: shared.storage.clone(),
            client: shared.client.clone(),
            local: self.me.clone() as Weak<host::LocalDispatch>,
        };
        let context =
            PluginContext::new(&spec, shared.origin.clone(), SCRIPT_FUEL_FACTOR, bindings);
        Arc::new(plugin::new(
            spec,
            context,
            Arc::clone(&shared.modules),
            shared.instances,
        ))
    }

    /// Compiles the JavaScript engine in the background if a mounted plugin is a script (the
    /// first request to it then waits only for what is left).
    pub fn prepare_script_engine(&self) {
        let mut plugins = self.plugins().into_iter();
        if plugins.any(|plugin| valor_host::script::is_script(&plugin.spec().url)) {
            self.shared.modules.prepare_script_engine();
        }
    }

    /// Loads the `eager` plugins now, side by side; a failure is logged (their requests will
    /// say why).
    pub async fn preload(&self) {
        let eager = self
            .plugins()
            .into_iter()
            .filter(|plugin| plugin.spec().eager);
        futures::future::join_all(eager.map(|plugin| async move {
            if let Err(error) = plugin.preload().await {
                tracing::error!("{error}");
            }
        }))
        .await;
    }

    /// The app, as `registry` (its own) sees it.
    fn as_registry_host<'a>(&'a self, registry: &'a Registry) -> RegistryHost<'a> {
        RegistryHost {
            app: self,
            registry,
        }
    }

    /// Answers a client's request, from `peer`.
    pub async fn handle<B>(
        &self,
        peer: SocketAddr,
        request: http::Request<B>,
    ) -> http::Response<files::Body>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError> + Send,
    {
        let path = request.uri().path();
        let claimed = self.registry.as_ref().is_some_and(|r| r.claims(path));
        match &self.files {
            Some(files) if !claimed && self.mounts.locate(path).is_none() => {
                let path = path.to_owned();
                // Boxed: serving a file takes a large future, which would make every request's
                // larger (and moved as a whole).
                Box::pin(files.serve(request.method(), &path)).await
            }
            _ => self.answer(peer, request).await,
        }
    }

    /// The registry's or a plugin's answer.
    async fn answer<B>(
        &self,
        peer: SocketAddr,
        request: http::Request<B>,
    ) -> http::Response<files::Body>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError> + Send,
    {
        let (parts, body) = request.into_parts();
        if let Some(registry) = self
            .registry
            .as_ref()
            .filter(|r| r.claims(parts.uri.path()))
        {
            let host = self.as_registry_host(registry);
            let request = http::Request::from_parts(parts, body);
            // Boxed: the registry's future is large, and unboxed it was copied into every
            // request's future (6 KB moved twice per request, 7% more CPU at 64 connections).
            return Box::pin(registry.serve(&host, self.origin(), peer, request)).await;
        }
        let path = parts.uri.path();
        let Some((mounted, relative_path)) = self.mounts.locate(path) else {
            let reply = Reply::text(404, &format!("no plugin is mounted at {path}\n"));
            return reply::into_http(reply, None);
        };
        let plugin = match mounted {
            Mounted::Plugin(plugin) => plugin,
            Mounted::Invalid(error) => return reply::into_http(Reply::error(&error, None), None),
        };
        let tag = plugin.tag();
        if bodies::streams(plugin.spec(), parts.method.as_str()) {
            let inbound = inbound::encode_streamed(&parts, relative_path);
            let limit = plugin.spec().max_stream_bytes;
            let (fill, source) = bodies::channel(bodies::REQUEST_BODY, limit);
            tokio::spawn(fill.from(inbound::chunks(body)));
            let reply = plugin::respond(&plugin, &inbound.encoded, Some(&source), inbound.safe, 0);
            return reply::into_http(reply.await, Some(tag));
        }
        let body = match read_body(&plugin, &parts, body).await {
            Ok(body) => body,
            Err(error) => return reply::into_http(Reply::error(&error, Some(tag)), Some(tag)),
        };
        let inbound = inbound::encode(&parts, relative_path, &body);
        drop(body);
        let reply = plugin::respond(&plugin, &inbound.encoded, None, inbound.safe, 0).await;
        reply::into_http(reply, Some(tag))
    }
}

/// The app, as its registry sees it: its mounts and plugins, and the registry's own rules for
/// where registered modules may come from.
struct RegistryHost<'a> {
    app: &'a App,
    registry: &'a Registry,
}

impl registry::Host for RegistryHost<'_> {
    type Plugin = Arc<Plugin>;

    fn mounts(&self) -> &Mounts {
        self.app.mounts()
    }

    fn resolve(&self, url: &str) -> Result<String, String> {
        self.registry.resolve(url)
    }

    fn admits(&self, url: &str, trusted_origins: &[String]) -> Result<(), String> {
        self.registry.admits(url, trusted_origins)
    }

    fn plugin(&self, spec: PluginSpec) -> Arc<Plugin> {
        self.app.plugin(spec)
    }

    async fn preload(&self, plugin: &Arc<Plugin>) -> Result<(), DispatchError> {
        plugin.preload().await
    }

    fn state(&self, plugin: &Arc<Plugin>) -> PluginState {
        plugin.state()
    }

    fn report(&self, message: &str) {
        tracing::error!("{message}");
    }
}

/// The request's body, refused (413) past the plugin's `max_body_bytes`, before the plugin is
/// called.
async fn read_body<B>(
    plugin: &Plugin,
    parts: &http::request::Parts,
    body: B,
) -> Result<Bytes, DispatchError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let limit = plugin.spec().max_body_bytes;
    inbound::read_body(parts, body, limit)
        .await
        .map_err(|unreadable| unreadable.into_error(plugin.name(), limit))
}

impl LocalDispatch<Vec<u8>> for App {
    type Answer = BoxFuture<'static, Vec<u8>>;

    fn dispatch_local(
        &self,
        request: http::Request<Vec<u8>>,
        path: &str,
        query: Option<&str>,
        depth: u32,
    ) -> Option<Self::Answer> {
        let refused = self.registry.as_ref().and_then(|r| r.refuses_plugin(path));
        Some(
            match local::route::<reply::Server, _, _>(refused, &self.mounts, request, path, query)?
            {
                Local::Refused(reply) => async move { reply }.boxed(),
                Local::Plugin(plugin, request) => async move {
                    let safe = valor_host::life::is_safe(request.method().as_str());
                    let (encoded, body) = bodies::encode_local(plugin.spec(), request);
                    let reply = plugin::respond(&plugin, &encoded, body.as_ref(), safe, depth);
                    let reply = reply.await;
                    let max_body_bytes = plugin.spec().max_body_bytes;
                    reply.into_abi(max_body_bytes, Some(plugin.tag())).await
                }
                .boxed(),
            },
        )
    }
}
