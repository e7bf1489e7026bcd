//! The run-time registry (`/_plugins`, when the manifest turns it on): the app's pages list,
//! register, replace and remove plugins; what they do is stored and restored at every start.
//!
//! | request | answer |
//! |---|---|
//! | `GET /_plugins` | 200, every mount as JSON |
//! | `GET /_plugins/<name>` | 200, one; 404 |
//! | `POST /_plugins` (an entry) | 201 + `Location`; 409 name or prefix taken; 400; 413; 502 |
//! | `PUT /_plugins/<name>` (an entry) | 200 replaced (hot swap), 201 new; 409; 400; 413; 502 |
//! | `DELETE /_plugins/<name>` | 204; 404 |
//!
//! Other methods answer 405 with `Allow`; callers other than the app's pages, 403. A module is
//! loaded before it is mounted, so a registration that answers 201 serves at once, and a
//! replacement that cannot be loaded leaves the old plugin in place.

mod answers;
mod caller;
mod listing;
mod store;

use answers::{json, not_allowed, text, unknown};

use crate::inbound::{self, Unreadable};
use crate::manifest::{self, RegistrySettings};
use crate::runtime::Inner;
use crate::storage::Storage;
use http::{header, StatusCode};
use listing::Source;
use std::cell::RefCell;
use std::collections::BTreeSet;
use store::{Record, Store};
use vlugin::Response;

/// The largest entry a registration may send.
pub const MAX_ENTRY_BYTES: u32 = 64 * 1024;

/// The registry of one runtime.
pub struct Registry {
    settings: RegistrySettings,
    /// Where entries' relative URLs resolve from: the manifest's URL, as for its own entries.
    base: String,
    store: Store,
    /// Plugins mounted from the registry (registered, or replacing a manifest entry).
    registered: RefCell<BTreeSet<String>>,
}

impl Registry {
    pub fn new(settings: RegistrySettings, base: &str, storage: Storage) -> Self {
        Self {
            settings,
            base: base.to_owned(),
            store: Store::new(storage),
            registered: RefCell::default(),
        }
    }

    /// Whether `path` is the registry's (its prefix, or below it).
    pub fn claims(&self, path: &str) -> bool {
        self.name_in(path).is_some()
    }

    /// `Some("")` for the collection, `Some(name)` for one plugin.
    fn name_in<'p>(&self, path: &'p str) -> Option<&'p str> {
        let rest = path.strip_prefix(self.settings.prefix.as_str())?;
        match rest {
            "" | "/" => Some(""),
            _ => rest.strip_prefix('/'),
        }
    }

    /// Applies the stored records over the manifest's mounts: the registry wins on names (a
    /// stored entry replaces the manifest's of the same name; a removal removes it), the
    /// manifest on prefixes (a stored entry whose prefix another manifest plugin holds is
    /// dropped, and said).
    pub async fn restore(&self, runtime: &Inner) {
        let records = match self.store.all().await {
            Ok(records) => records,
            Err(error) => {
                console_error(&format!(
                    "[valor] registry: the stored registrations could not be read: {error}"
                ));
                return;
            }
        };
        for (name, record) in records {
            match record {
                Record::Removed => {
                    runtime.mounts.remove(&name);
                }
                Record::Entry(entry) => {
                    let spec = match manifest::parse_entry(entry, |url| Ok(url.to_owned())) {
                        Ok(spec) => spec,
                        Err(reason) => {
                            console_error(&format!("[valor] registry: the stored entry of '{name}' is invalid now: {reason}"));
                            continue;
                        }
                    };
                    if let Some(holder) = runtime.mounts.holder_of(&spec.prefix, &spec.name) {
                        console_error(&format!(
                            "[valor] registry: '{name}' is not mounted: the manifest gives its prefix {} to {holder}; its registration is dropped",
                            spec.prefix
                        ));
                        let _ = self.store.forget(&name).await;
                        continue;
                    }
                    let prefix = spec.prefix.clone();
                    runtime.mounts.put(prefix, runtime.plugin(spec));
                    self.registered.borrow_mut().insert(name);
                }
            }
        }
    }

    /// Answers a request to the registry from the client `client_id`.
    pub async fn serve(
        &self,
        runtime: &Inner,
        request: web_sys::Request,
        client_id: Option<String>,
    ) -> Response {
        if let Err(reason) = caller::check(&request, client_id.as_deref(), &runtime.origin).await {
            return text(
                StatusCode::FORBIDDEN,
                format!("only the app's own pages may use the plugin registry: {reason}"),
            );
        }
        let url = web_sys::Url::new(&request.url()).ok();
        let path = url.as_ref().map(web_sys::Url::pathname).unwrap_or_default();
        let name = self.name_in(&path).unwrap_or_default().to_owned();
        let method = request.method();
        match (name.as_str(), method.as_str()) {
            ("", "GET") => self.list(runtime),
            ("", "POST") => match read_entry(&request).await {
                Ok(entry) => self.register(runtime, entry, None).await,
                Err(response) => response,
            },
            ("", _) => not_allowed("GET, POST"),
            (name, "GET") => match runtime.mounts.named(name) {
                Some((prefix, plugin)) => json(
                    StatusCode::OK,
                    &listing::describe(
                        &prefix,
                        &crate::mounts::Mounted::Plugin(plugin),
                        self.source(name),
                    ),
                ),
                None => unknown(name),
            },
            (name, "PUT") => match read_entry(&request).await {
                Ok(entry) => self.register(runtime, entry, Some(name)).await,
                Err(response) => response,
            },
            (name, "DELETE") => self.remove(runtime, name).await,
            _ => not_allowed("GET, PUT, DELETE"),
        }
    }

    fn source(&self, name: &str) -> Source {
        if self.registered.borrow().contains(name) {
            Source::Registry
        } else {
            Source::Manifest
        }
    }

    fn list(&self, runtime: &Inner) -> Response {
        let mut mounts = runtime.mounts.all();
        mounts.sort_by(|(a, _), (b, _)| a.cmp(b));
        let entries: Vec<serde_json::Value> = mounts
            .iter()
            .map(|(prefix, mounted)| {
                let source = match mounted {
                    crate::mounts::Mounted::Plugin(plugin) => self.source(plugin.name()),
                    crate::mounts::Mounted::Invalid(_) => Source::Manifest,
                };
                listing::describe(prefix, mounted, source)
            })
            .collect();
        json(StatusCode::OK, &serde_json::Value::from(entries))
    }

    /// `POST` (`replacing` is `None`) or `PUT /_plugins/<replacing>`.
    async fn register(
        &self,
        runtime: &Inner,
        mut entry: serde_json::Value,
        replacing: Option<&str>,
    ) -> Response {
        if let (Some(name), Some(fields)) = (replacing, entry.as_object_mut()) {
            let named = fields.entry("name").or_insert_with(|| name.into());
            if named.as_str() != Some(name) {
                return text(
                    StatusCode::BAD_REQUEST,
                    format!("invalid name: the entry is named {named}, but was sent to /{name}"),
                );
            }
        }
        if entry.get("fuel").is_some_and(serde_json::Value::is_null) {
            return text(
                StatusCode::BAD_REQUEST,
                "invalid fuel null: plugins registered at run time are always metered".into(),
            );
        }
        let resolve = |url: &str| {
            web_sys::Url::new_with_base(url, &self.base)
                .map(|url| url.href())
                .map_err(|e| crate::sys::describe(&e))
        };
        let spec = match manifest::parse_entry(entry.clone(), resolve) {
            Ok(spec) => spec,
            Err(reason) => return text(StatusCode::BAD_REQUEST, reason),
        };
        let module_origin = web_sys::Url::new(&spec.url)
            .map(|u| u.origin())
            .unwrap_or_default();
        if module_origin != runtime.origin
            && !self.settings.trusted_origins.contains(&module_origin)
        {
            return text(
                StatusCode::BAD_REQUEST,
                format!(
                    "invalid url {:?}: registered modules must come from the app's origin, or \
                     from an origin the manifest's \"registry\" lists in \"trusted_origins\"",
                    spec.url
                ),
            );
        }
        let existing = match self.conflict(runtime, &spec, replacing) {
            Ok(existing) => existing,
            Err(conflict) => return text(StatusCode::CONFLICT, conflict),
        };
        // Loaded before it is mounted: requests never wait for (or fail on) a new module.
        let plugin = runtime.plugin(spec.clone());
        if let Err(error) = plugin.preload().await {
            return text(
                StatusCode::BAD_GATEWAY,
                format!(
                    "'{}' was not {}: {error}",
                    spec.name,
                    if existing { "replaced" } else { "registered" }
                ),
            );
        }
        // Things may have changed while it loaded.
        let existing = match self.conflict(runtime, &spec, replacing) {
            Ok(existing) => existing,
            Err(conflict) => return text(StatusCode::CONFLICT, conflict),
        };
        if let Some(fields) = entry.as_object_mut() {
            fields.insert("url".into(), spec.url.clone().into());
        }
        if let Err(error) = self.store.save(&spec.name, &Record::Entry(entry)).await {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("'{}' could not be stored: {error}", spec.name),
            );
        }
        runtime
            .mounts
            .put(spec.prefix.clone(), std::rc::Rc::clone(&plugin));
        self.registered.borrow_mut().insert(spec.name.clone());
        let status = if existing {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        };
        let mut response = json(
            status,
            &listing::describe(
                &spec.prefix,
                &crate::mounts::Mounted::Plugin(plugin),
                Source::Registry,
            ),
        );
        if let Ok(location) =
            header::HeaderValue::from_str(&format!("{}/{}", self.settings.prefix, spec.name))
        {
            response.headers_mut().insert(header::LOCATION, location);
        }
        response
    }

    /// Why `spec` conflicts with what is mounted (its name taken, unless it is `replacing` it,
    /// or its prefix); otherwise whether a plugin of that name exists.
    fn conflict(
        &self,
        runtime: &Inner,
        spec: &manifest::PluginSpec,
        replacing: Option<&str>,
    ) -> Result<bool, String> {
        let exists = runtime.mounts.named(&spec.name).is_some();
        if replacing.is_none() && exists {
            return Err(format!("the name '{}' is taken", spec.name));
        }
        if let Some(holder) = self.prefix_holder(runtime, spec) {
            return Err(format!("the prefix {} is taken by {holder}", spec.prefix));
        }
        Ok(exists)
    }

    /// What holds the prefix `spec` asks for, other than the plugin it replaces.
    fn prefix_holder(&self, runtime: &Inner, spec: &manifest::PluginSpec) -> Option<String> {
        if self.claims(&spec.prefix) || spec.prefix == self.settings.prefix {
            return Some("the plugin registry".into());
        }
        runtime.mounts.holder_of(&spec.prefix, &spec.name)
    }

    async fn remove(&self, runtime: &Inner, name: &str) -> Response {
        if runtime.mounts.named(name).is_none() {
            return unknown(name);
        }
        if let Err(error) = self.store.save(name, &Record::Removed).await {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the removal of '{name}' could not be stored: {error}"),
            );
        }
        runtime.mounts.remove(name);
        self.registered.borrow_mut().remove(name);
        let mut response = Response::new(Default::default());
        *response.status_mut() = StatusCode::NO_CONTENT;
        response
    }
}

/// The entry a `POST` or `PUT` sends, as JSON; an answer if it is not one.
async fn read_entry(request: &web_sys::Request) -> Result<serde_json::Value, Response> {
    let body = match inbound::read_body(request, &request.method(), MAX_ENTRY_BYTES).await {
        Ok(body) => body.map(|body| body.to_vec()).unwrap_or_default(),
        Err(Unreadable::TooLarge { size }) => {
            return Err(text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("an entry of {size} bytes is larger than the registry accepts ({MAX_ENTRY_BYTES} bytes)"),
            ))
        }
        Err(Unreadable::Invalid(reason)) => return Err(text(StatusCode::BAD_REQUEST, reason)),
    };
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(entry) if entry.is_object() => Ok(entry),
        Ok(_) => Err(text(
            StatusCode::BAD_REQUEST,
            "the body must be a manifest entry: a JSON object".into(),
        )),
        Err(error) => Err(text(
            StatusCode::BAD_REQUEST,
            format!("the body is not JSON: {error}"),
        )),
    }
}

fn console_error(message: &str) {
    web_sys::console::error_1(&message.into());
}
