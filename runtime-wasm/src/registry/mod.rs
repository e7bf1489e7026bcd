//! The run-time registry (`/_plugins`, when the manifest turns it on), as `valor-host` defines
//! it, in a service worker: only the app's own pages may call it (`access`), its records are
//! kept in IndexedDB, and entries' URLs resolve against the manifest's URL.

mod access;

use crate::inbound;
use crate::manifest::RegistrySettings;
use crate::reply::Reply;
use crate::storage::Storage;
use valor_host::registry::{self, Host, MAX_ENTRY_BYTES};

/// The registry of one runtime.
pub struct Registry {
    core: registry::Registry<Storage>,
    /// Where entries' relative URLs resolve from: the manifest's URL, as for its own entries.
    base: String,
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
    /// The registry `settings` describe, its records in `storage`, its entries' relative URLs
    /// resolved against `base` (the manifest's URL).
    pub fn new(settings: RegistrySettings, base: &str, storage: Storage) -> Self {
        Self {
            core: registry::Registry::new(settings, storage),
            base: base.to_owned(),
        }
    }

    /// Answers a request to the registry from the client `client_id`, for the app `host` at
    /// `origin`.
    pub async fn serve(
        &self,
        host: &impl Host,
        origin: &str,
        request: web_sys::Request,
        client_id: Option<String>,
    ) -> Reply {
        if let Err(reason) = access::check(&request, client_id.as_deref(), origin).await {
            return Reply::from_answer(registry::Answer::forbidden(&reason));
        }
        let path = web_sys::Url::new(&request.url())
            .map(|url| url.pathname())
            .unwrap_or_default();
        let method = request.method();
        let body = async {
            let body = inbound::read_body(&request, &method, MAX_ENTRY_BYTES).await?;
            Ok(body.map(|body| body.to_vec()).unwrap_or_default())
        };
        Reply::from_answer(self.core.serve(host, &method, &path, body).await)
    }

    /// An entry's `url` resolved against the manifest's URL, as the manifest's own.
    pub fn resolve(&self, url: &str) -> Result<String, String> {
        web_sys::Url::new_with_base(url, &self.base)
            .map(|url| url.href())
            .map_err(|e| crate::sys::describe(&e))
    }

    /// Whether a module at `url` (resolved) may be registered by the app at `origin`: modules
    /// come from the app's origin, or from an origin the manifest trusts, over http(s): a
    /// `blob:` or `data:` URL would let any script on the page mount bytes it made.
    pub fn admits(
        &self,
        url: &str,
        trusted_origins: &[String],
        origin: &str,
    ) -> Result<(), String> {
        let Ok(url) = web_sys::Url::new(url) else {
            return Err(format!("{url} is not a URL"));
        };
        if !matches!(url.protocol().as_str(), "http:" | "https:") {
            return Err(format!(
                "registered modules must be http(s) URLs, not {}",
                url.protocol()
            ));
        }
        let module_origin = url.origin();
        if module_origin == origin || trusted_origins.contains(&module_origin) {
            return Ok(());
        }
        Err(
            "registered modules must come from the app's origin, or from an origin the \
             manifest's \"registry\" lists in \"trusted_origins\""
                .into(),
        )
    }
}
