//! The run-time registry (`valor serve -w`): `valor-host`'s registry over HTTP, its records in
//! the server's store (so they outlive a restart, and with Redis are seen by every server at
//! its start), its entries' URLs resolved against the manifest's location, and its callers
//! checked by `access`.

mod access;

pub use access::Access;

use crate::app::{App, Mounts};
use crate::inbound::{self, Unreadable};
use crate::plugin::Plugin;
use crate::reply::Reply;
use crate::source;
use crate::storage::Storage;
use bytes::Bytes;
use http_body_util::Full;
use std::net::SocketAddr;
use std::sync::Arc;
use url::Url;
use valor_host::error::DispatchError;
use valor_host::manifest::{PluginSpec, RegistrySettings};
use valor_host::registry::{self, Answer, BodyError, PluginState, MAX_ENTRY_BYTES};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The registry of one server.
pub struct Registry {
    core: registry::Registry<Storage>,
    /// The manifest's location: entries' URLs resolve against it, and registered modules come
    /// from beside it.
    base: Url,
    access: Access,
}

impl Registry {
    pub fn new(settings: RegistrySettings, base: Url, storage: Storage, access: Access) -> Self {
        Self {
            core: registry::Registry::new(settings, storage),
            base,
            access,
        }
    }

    /// Where it is served.
    pub fn prefix(&self) -> &str {
        &self.core.settings().prefix
    }

    /// Who may use it.
    pub fn access(&self) -> &Access {
        &self.access
    }

    /// Whether `path` is the registry's.
    pub fn claims(&self, path: &str) -> bool {
        self.core.claims(path)
    }

    /// What a plugin's request for `path` answers, if `path` is the registry's.
    pub fn refuses_plugin(&self, path: &str) -> Option<DispatchError> {
        self.core.refuses_plugin(path)
    }

    /// Applies the stored records over the manifest's mounts.
    pub async fn restore(&self, app: &App) {
        self.core.restore(&self.host(app)).await;
    }

    /// Answers a request from `peer`.
    pub async fn serve<B>(
        &self,
        app: &App,
        peer: SocketAddr,
        request: http::Request<B>,
    ) -> http::Response<Full<Bytes>>
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = request.into_parts();
        if let Err(refusal) = self.access.check(peer, &parts.headers, app.origin()) {
            return into_http(refusal);
        }
        let answer = self
            .core
            .serve(
                &self.host(app),
                parts.method.as_str(),
                parts.uri.path(),
                read(&parts, body),
            )
            .await;
        into_http(answer)
    }

    fn host<'a>(&'a self, app: &'a App) -> Host<'a> {
        Host {
            app,
            base: &self.base,
        }
    }
}

/// A registration's body, within [`MAX_ENTRY_BYTES`].
async fn read<B>(parts: &http::request::Parts, body: B) -> Result<Vec<u8>, BodyError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    match inbound::read_body(parts, body, MAX_ENTRY_BYTES).await {
        Ok(body) => Ok(body.to_vec()),
        Err(Unreadable::TooLarge { size }) => Err(BodyError::TooLarge { size }),
        Err(Unreadable::Invalid(reason)) => Err(BodyError::Invalid(reason)),
    }
}

fn into_http(answer: Answer) -> http::Response<Full<Bytes>> {
    let content_type = answer
        .content_type
        .map(|value| ("content-type", value.to_owned()));
    let headers = content_type
        .into_iter()
        .chain(answer.headers)
        .map(|(name, value)| (name.as_bytes().to_vec(), value.into_bytes()))
        .collect();
    Reply {
        status: answer.status,
        headers,
        body: answer.body.into_bytes(),
    }
    .into_http(None)
}

/// The server, as the registry sees it.
struct Host<'a> {
    app: &'a App,
    base: &'a Url,
}

impl registry::Host for Host<'_> {
    type Plugin = Arc<Plugin>;

    fn mounts(&self) -> &Mounts {
        self.app.mounts()
    }

    fn resolve(&self, url: &str) -> Result<String, String> {
        source::resolve(self.base, url)
    }

    /// Modules come from beside the manifest (its directory or below, or its origin), or from
    /// an origin the manifest trusts: never from anywhere else on this machine.
    fn admits(&self, url: &str, trusted_origins: &[String]) -> Result<(), String> {
        let url = Url::parse(url).map_err(|e| e.to_string())?;
        let beside = match self.base.scheme() {
            "file" => {
                let directory = self.base.join(".").map_err(|e| e.to_string())?;
                url.scheme() == "file" && url.as_str().starts_with(directory.as_str())
            }
            _ => url.origin() == self.base.origin(),
        };
        if beside || trusted_origins.contains(&url.origin().ascii_serialization()) {
            return Ok(());
        }
        Err(
            "registered modules must come from beside the manifest (its directory or below, \
             or its origin), or from an origin the manifest's \"registry\" lists in \
             \"trusted_origins\""
                .into(),
        )
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
