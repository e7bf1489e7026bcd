//! The run-time registry (`/_plugins`): list, register, replace and remove plugins while a
//! host runs; what it does is stored and restored at every start. The same for every host:
//! a host checks who calls (its own rule), then hands the request to [`Registry::serve`].
//!
//! | request | answer |
//! |---|---|
//! | `GET /_plugins` | 200, every mount as JSON |
//! | `GET /_plugins/<name>` | 200, one; 404 |
//! | `POST /_plugins` (an entry) | 201 + `Location`; 409 name or prefix taken; 400; 413; 502 |
//! | `PUT /_plugins/<name>` (an entry) | 200 replaced (hot swap), 201 new; 409; 400; 413; 502 |
//! | `DELETE /_plugins/<name>` | 204; 404 |
//!
//! Other methods answer 405 with `Allow`. A module is loaded before it is mounted, so a
//! registration that answers 201 serves at once, and a replacement that cannot be loaded
//! leaves the old plugin in place.

mod answer;
mod listing;
mod records;

pub use answer::Answer;
pub use listing::{PluginState, Revalidation};

use crate::error::{DispatchError, Unreadable};
use crate::kv::{Store, StoreError};
use crate::manifest::{self, PluginSpec, RegistrySettings};
use crate::mounts::{Mountable, Mounted, Mounts};
use listing::Source;
use records::{Record, Records};
use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Mutex;

/// The largest entry a registration may send.
pub const MAX_ENTRY_BYTES: u32 = 64 * 1024;

/// What the registry needs of its host.
pub trait Host {
    /// The host's handle to a plugin.
    type Plugin: Mountable;

    /// What is mounted.
    fn mounts(&self) -> &Mounts<Self::Plugin>;

    /// An entry's `url` resolved against the manifest's location, as the manifest's own.
    fn resolve(&self, url: &str) -> Result<String, String>;

    /// Why a module at `url` (resolved) may not be registered, given the manifest's trusted
    /// origins; `Ok` if it may.
    fn admits(&self, url: &str, trusted_origins: &[String]) -> Result<(), String>;

    /// A new plugin of entry `spec`, not loaded yet.
    fn plugin(&self, spec: PluginSpec) -> Self::Plugin;

    /// Loads `plugin`'s module, or says why it cannot be.
    fn preload(&self, plugin: &Self::Plugin) -> impl Future<Output = Result<(), DispatchError>>;

    /// Where `plugin` stands.
    fn state(&self, plugin: &Self::Plugin) -> PluginState;

    /// What the host found when it asked whether `plugin`'s module changed, if it did (its
    /// listing's `"revalidation"`, and `"update"` for a new version not in use). Hosts that
    /// never revalidate a loaded module have nothing to say.
    fn revalidation(&self, _plugin: &Self::Plugin) -> Option<Revalidation> {
        None
    }

    /// Logs a problem no request is answered with (a stored record that cannot be applied).
    fn report(&self, message: &str);
}

/// The registry of one host, storing its records in `S`.
pub struct Registry<S> {
    settings: RegistrySettings,
    records: Records<S>,
    /// Plugins mounted from the registry (registered, or replacing a manifest entry).
    registered: Mutex<BTreeSet<String>>,
    /// Manifest plugins the registry removed.
    removed: Mutex<BTreeSet<String>>,
}

impl<S: Store> Registry<S> {
    /// The registry `settings` describe, keeping its records in `store`.
    pub fn new(settings: RegistrySettings, store: S) -> Self {
        Self {
            settings,
            records: Records::new(store),
            registered: Mutex::default(),
            removed: Mutex::default(),
        }
    }

    /// Its settings.
    pub fn settings(&self) -> &RegistrySettings {
        &self.settings
    }

    /// Whether `path` is the registry's (its prefix, or below it).
    pub fn claims(&self, path: &str) -> bool {
        self.name_in(path).is_some()
    }

    /// What a plugin's request for `path` answers, if `path` is the registry's: plugins never
    /// use the registry, on any host.
    pub fn refuses_plugin(&self, path: &str) -> Option<DispatchError> {
        self.claims(path).then(|| DispatchError::Forbidden {
            reason: "plugins may not use the plugin registry".into(),
        })
    }

    /// `Some("")` for the collection, `Some(name)` for one plugin.
    fn name_in<'p>(&self, path: &'p str) -> Option<&'p str> {
        let rest = path.strip_prefix(self.settings.prefix.as_str())?;
        match rest {
            "" | "/" => Some(""),
            _ => rest.strip_prefix('/'),
        }
    }

    fn registered(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.registered.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn removed(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.removed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the registry decides what is mounted under `name` (it registered, replaced or
    /// removed it), whatever the manifest says: a new manifest leaves that name alone.
    pub fn overrides(&self, name: &str) -> bool {
        self.registered().contains(name) || self.removed().contains(name)
    }

    /// Applies the stored records over the manifest's mounts: the registry wins on names (a
    /// stored entry replaces the manifest's of the same name; a removal removes it), the
    /// manifest on prefixes (a stored entry whose prefix another manifest plugin holds is
    /// dropped, and said).
    pub async fn restore<H: Host>(&self, host: &H) {
        let (records, unreadable) = match self.records.all().await {
            Ok(found) => found,
            Err(error) => {
                host.report(&format!(
                    "registry: the stored registrations could not be read: {error}"
                ));
                return;
            }
        };
        for (name, error) in unreadable {
            host.report(&format!(
                "registry: the stored registration of '{name}' is unreadable: {error}"
            ));
        }
        for (name, record) in records {
            let entry = match record {
                Record::Removed => {
                    host.mounts().remove(&name);
                    self.removed().insert(name);
                    continue;
                }
                Record::Entry(entry) => entry,
            };
            let spec = match manifest::parse_entry(entry, |url| Ok(url.to_owned())) {
                Ok(spec) => spec,
                Err(reason) => {
                    host.report(&format!(
                        "registry: the stored entry of '{name}' is invalid now: {reason}"
                    ));
                    continue;
                }
            };
            if let Some(holder) = host.mounts().holder_of(&spec.prefix, &spec.name) {
                host.report(&format!(
                    "registry: '{name}' is not mounted: the manifest gives its prefix {} to \
                     {holder}; its registration is dropped",
                    spec.prefix
                ));
                let _ = self.records.forget(&name).await;
                continue;
            }
            let prefix = spec.prefix.clone();
            host.mounts().put(prefix, host.plugin(spec));
            self.registered().insert(name);
        }
    }

    /// Answers a request to the registry, from a caller the host has let through: `method`
    /// on `path`, whose body `body` reads (within [`MAX_ENTRY_BYTES`]) if it is needed.
    pub async fn serve<H: Host>(
        &self,
        host: &H,
        method: &str,
        path: &str,
        body: impl Future<Output = Result<Vec<u8>, Unreadable>>,
    ) -> Answer {
        let name = self.name_in(path).unwrap_or_default();
        match (name, method) {
            ("", "GET") => self.list(host),
            ("", "POST") => match read_entry(body).await {
                Ok(entry) => self.register(host, entry, None).await,
                Err(answer) => answer,
            },
            ("", _) => Answer::not_allowed("GET, POST"),
            (name, "GET") => match host.mounts().named(name) {
                Some((prefix, plugin)) => Answer::json(200, &self.describe(host, &prefix, &plugin)),
                None => Answer::unknown(name),
            },
            (name, "PUT") => match read_entry(body).await {
                Ok(entry) => self.register(host, entry, Some(name)).await,
                Err(answer) => answer,
            },
            (name, "DELETE") => self.remove(host, name).await,
            _ => Answer::not_allowed("GET, PUT, DELETE"),
        }
    }

    fn describe<H: Host>(&self, host: &H, prefix: &str, plugin: &H::Plugin) -> serde_json::Value {
        let source = if self.registered().contains(plugin.name()) {
            Source::Registry
        } else {
            Source::Manifest
        };
        let revalidation = host.revalidation(plugin);
        listing::describe(
            prefix,
            plugin.spec(),
            host.state(plugin),
            source,
            revalidation,
        )
    }

    fn list<H: Host>(&self, host: &H) -> Answer {
        let mut mounts = host.mounts().all();
        mounts.sort_by(|(a, _), (b, _)| a.cmp(b));
        let entries: Vec<serde_json::Value> = mounts
            .iter()
            .map(|(prefix, mounted)| match mounted {
                Mounted::Plugin(plugin) => self.describe(host, prefix, plugin),
                Mounted::Invalid(error) => listing::describe_invalid(prefix, &error.to_string()),
            })
            .collect();
        Answer::json(200, &serde_json::Value::from(entries))
    }

    /// `POST` (`replacing` is `None`) or `PUT /_plugins/<replacing>`.
    async fn register<H: Host>(
        &self,
        host: &H,
        mut entry: serde_json::Value,
        replacing: Option<&str>,
    ) -> Answer {
        if let (Some(name), Some(fields)) = (replacing, entry.as_object_mut()) {
            let named = fields.entry("name").or_insert_with(|| name.into());
            if named.as_str() != Some(name) {
                return Answer::text(
                    400,
                    format!("invalid name: the entry is named {named}, but was sent to /{name}"),
                );
            }
        }
        if entry.get("fuel").is_some_and(serde_json::Value::is_null) {
            return Answer::text(
                400,
                "invalid fuel null: plugins registered at run time are always metered",
            );
        }
        let spec = match manifest::parse_entry(entry.clone(), |url| host.resolve(url)) {
            Ok(spec) => spec,
            Err(reason) => return Answer::text(400, reason),
        };
        if spec.is_native() {
            // Its code would run in the server's own process: only whoever starts the server
            // (its manifest and --allow-native-plugins) may decide that, never a token holder.
            return Answer::text(
                400,
                format!(
                    "invalid url {:?}: a native plugin is mounted only by the manifest the server                      started with, never through the registry",
                    spec.url
                ),
            );
        }
        if let Err(reason) = host.admits(&spec.url, &self.settings.trusted_origins) {
            return Answer::text(400, format!("invalid url {:?}: {reason}", spec.url));
        }
        let existing = match self.conflict(host, &spec, replacing) {
            Ok(existing) => existing,
            Err(conflict) => return Answer::text(409, conflict),
        };
        // Loaded before it is mounted: requests never wait for (or fail on) a new module.
        let plugin = host.plugin(spec.clone());
        if let Err(error) = host.preload(&plugin).await {
            let done = if existing { "replaced" } else { "registered" };
            return Answer::text(502, format!("'{}' was not {done}: {error}", spec.name));
        }
        // Things may have changed while it loaded.
        let existing = match self.conflict(host, &spec, replacing) {
            Ok(existing) => existing,
            Err(conflict) => return Answer::text(409, conflict),
        };
        if let Some(fields) = entry.as_object_mut() {
            fields.insert("url".into(), spec.url.clone().into());
        }
        if let Err(error) = self.records.save(&spec.name, &Record::Entry(entry)).await {
            let message = format!("'{}' could not be stored: {error}", spec.name);
            return Answer::store_failed(error.failure(), message);
        }
        host.mounts().put(spec.prefix.clone(), plugin.clone());
        self.registered().insert(spec.name.clone());
        self.removed().remove(&spec.name);
        let mut answer = Answer::json(
            if existing { 200 } else { 201 },
            &self.describe(host, &spec.prefix, &plugin),
        );
        let location = format!("{}/{}", self.settings.prefix, spec.name);
        answer.headers.push(("location", location));
        answer
    }

    /// Why `spec` conflicts with what is mounted (its name taken, unless it is `replacing` it,
    /// or its prefix); otherwise whether a plugin of that name exists.
    fn conflict<H: Host>(
        &self,
        host: &H,
        spec: &PluginSpec,
        replacing: Option<&str>,
    ) -> Result<bool, String> {
        let exists = host.mounts().named(&spec.name).is_some();
        if replacing.is_none() && exists {
            return Err(format!("the name '{}' is taken", spec.name));
        }
        let holder = if self.claims(&spec.prefix) || spec.prefix == self.settings.prefix {
            Some("the plugin registry".to_owned())
        } else {
            host.mounts().holder_of(&spec.prefix, &spec.name)
        };
        match holder {
            Some(holder) => Err(format!("the prefix {} is taken by {holder}", spec.prefix)),
            None => Ok(exists),
        }
    }

    async fn remove<H: Host>(&self, host: &H, name: &str) -> Answer {
        if host.mounts().named(name).is_none() {
            return Answer::unknown(name);
        }
        if let Err(error) = self.records.save(name, &Record::Removed).await {
            let message = format!("the removal of '{name}' could not be stored: {error}");
            return Answer::store_failed(error.failure(), message);
        }
        host.mounts().remove(name);
        self.registered().remove(name);
        self.removed().insert(name.to_owned());
        Answer::no_content()
    }
}

/// The entry a `POST` or `PUT` sends, as JSON; an answer if it is not one.
async fn read_entry(
    body: impl Future<Output = Result<Vec<u8>, Unreadable>>,
) -> Result<serde_json::Value, Answer> {
    let body = match body.await {
        Ok(body) => body,
        Err(Unreadable::TooLarge { size }) => {
            return Err(Answer::text(
                413,
                format!(
                    "an entry of {size} bytes is larger than the registry accepts \
                     ({MAX_ENTRY_BYTES} bytes)"
                ),
            ))
        }
        Err(Unreadable::Invalid(reason)) => return Err(Answer::text(400, reason)),
    };
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(entry) if entry.is_object() => Ok(entry),
        Ok(_) => Err(Answer::text(
            400,
            "the body must be a manifest entry: a JSON object",
        )),
        Err(error) => Err(Answer::text(400, format!("the body is not JSON: {error}"))),
    }
}
