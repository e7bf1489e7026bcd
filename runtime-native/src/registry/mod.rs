//! The run-time registry (`valor serve -w`): `valor-host`'s registry over HTTP, its records in
//! the server's store (so they outlive a restart, and with Redis are seen by every server at
//! its start), its entries' URLs resolved against the manifest's location, and its callers
//! checked by `access`.

mod access;

pub use access::Access;

use crate::inbound;
use crate::reply::{self, Reply};
use crate::source;
use crate::storage::Storage;
use bytes::Bytes;
use std::net::SocketAddr;
use url::Url;
use valor_host::error::Unreadable;
use valor_host::manifest::RegistrySettings;
use valor_host::registry::{self, Host, MAX_ENTRY_BYTES};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The registry of one server.
pub struct Registry {
    core: registry::Registry<Storage>,
    /// The manifest's location: entries' URLs resolve against it, and registered modules come
    /// from beside it.
    base: Url,
    access: Access,
}

/// The host's registry is the core's (`claims`, `refuses_plugin`, `restore`, `settings`), with
/// the host's own bindings around it.
impl std::ops::Deref for Registry {
    type Target = registry::Registry<Storage>;

    fn deref(&self) -> &Self::Target {
        &self.core
    }
}

impl Registry {
    /// The registry `settings` describe, its records in `storage`, its entries' URLs resolved
    /// against `base` (the manifest's location), its callers checked by `access`.
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

    /// Answers a request from `peer`, for the app `host` serving `origin`.
    pub async fn serve<B>(
        &self,
        host: &impl Host,
        origin: &str,
        peer: SocketAddr,
        request: http::Request<B>,
    ) -> http::Response<crate::files::Body>
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = request.into_parts();
        let answer = match self.access.check(peer, &parts.headers, origin) {
            Err(refusal) => refusal,
            Ok(()) => {
                let (method, path) = (parts.method.as_str(), parts.uri.path());
                self.core
                    .serve(host, method, path, read(&parts, body))
                    .await
            }
        };
        reply::into_http(Reply::from_answer(answer), None)
    }

    /// An entry's `url` resolved against the manifest's location, as the manifest's own.
    pub fn resolve(&self, url: &str) -> Result<String, String> {
        source::resolve(&self.base, url)
    }

    /// Whether a module at `url` (resolved) may be registered: modules come from beside the
    /// manifest (its directory or below, or its origin), or from an origin the manifest
    /// trusts, never from anywhere else on this machine.
    pub fn admits(&self, url: &str, trusted_origins: &[String]) -> Result<(), String> {
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
}

/// A registration's body, within [`MAX_ENTRY_BYTES`].
async fn read<B>(parts: &http::request::Parts, body: B) -> Result<Vec<u8>, Unreadable>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    Ok(inbound::read_body(parts, body, MAX_ENTRY_BYTES)
        .await?
        .to_vec())
}
