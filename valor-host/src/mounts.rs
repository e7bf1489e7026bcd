//! The mount table: what answers at each prefix. Built from the manifest when a host starts,
//! changed by the registry at run time. A request takes what is mounted when it arrives and
//! keeps it to its end, so a plugin replaced or removed meanwhile finishes what it started.

use crate::error::DispatchError;
use crate::manifest::PluginSpec;
use crate::routes::Routes;
use std::rc::Rc;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// A host's plugin, as the mount table and the registry see it: a handle to share, and its
/// manifest entry.
pub trait Mountable: Clone {
    /// Its manifest (or registry) entry.
    fn spec(&self) -> &PluginSpec;

    /// Its name, unique among the mounts.
    fn name(&self) -> &str {
        &self.spec().name
    }
}

/// A plugin behind `Rc` (the browser, one thread) is mountable if the plugin is.
impl<T: AsSpec> Mountable for Rc<T> {
    fn spec(&self) -> &PluginSpec {
        T::as_spec(self)
    }
}

/// A plugin behind `Arc` (a server, many threads) is mountable if the plugin is.
impl<T: AsSpec> Mountable for Arc<T> {
    fn spec(&self) -> &PluginSpec {
        T::as_spec(self)
    }
}

/// What a host's plugin type implements to be mounted behind `Rc` or `Arc`.
pub trait AsSpec {
    /// Its manifest (or registry) entry.
    fn as_spec(&self) -> &PluginSpec;
}

/// What is mounted at a prefix.
#[derive(Clone)]
pub enum Mounted<P> {
    /// A plugin.
    Plugin(P),
    /// An invalid manifest entry: its prefix answers 502 with the reason.
    Invalid(DispatchError),
}

/// The prefixes and what is mounted at each.
pub struct Mounts<P> {
    routes: RwLock<Routes<Mounted<P>>>,
}

impl<P: Mountable> Mounts<P> {
    /// The table of `entries` (prefix, what answers there).
    pub fn new(entries: impl IntoIterator<Item = (String, Mounted<P>)>) -> Self {
        Self {
            routes: RwLock::new(Routes::new(entries)),
        }
    }

    // A panic while the lock is held cannot leave the table half changed (each change is one
    // call on `Routes`), so a poisoned lock is used as it is.
    fn read(&self) -> RwLockReadGuard<'_, Routes<Mounted<P>>> {
        self.routes.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Routes<Mounted<P>>> {
        self.routes.write().unwrap_or_else(|p| p.into_inner())
    }

    /// What answers `path` (without its query), and the path relative to its prefix.
    pub fn find(&self, path: &str) -> Option<(Mounted<P>, String)> {
        let (mounted, relative_path) = self.locate(path)?;
        Some((mounted, relative_path.to_owned()))
    }

    /// What answers `path` (without its query), and the path relative to its prefix, borrowed
    /// from `path` (or `/`): a server's requests route with no copy.
    pub fn locate<'p>(&self, path: &'p str) -> Option<(Mounted<P>, &'p str)> {
        let routes = self.read();
        let found = routes.find(path)?;
        Some((found.target.clone(), found.relative_path))
    }

    /// Every mount, with its prefix, longest prefix first.
    pub fn all(&self) -> Vec<(String, Mounted<P>)> {
        self.read()
            .iter()
            .map(|(prefix, mounted)| (prefix.to_owned(), mounted.clone()))
            .collect()
    }

    /// Every mounted plugin (not the invalid entries).
    pub fn plugins(&self) -> Vec<P> {
        self.read()
            .values()
            .filter_map(|mounted| match mounted {
                Mounted::Plugin(plugin) => Some(plugin.clone()),
                Mounted::Invalid(_) => None,
            })
            .collect()
    }

    /// The plugin called `name`, and its prefix.
    pub fn named(&self, name: &str) -> Option<(String, P)> {
        self.read()
            .iter()
            .find_map(|(prefix, mounted)| match mounted {
                Mounted::Plugin(plugin) if plugin.name() == name => {
                    Some((prefix.to_owned(), plugin.clone()))
                }
                _ => None,
            })
    }

    /// What holds `prefix`, unless it is the plugin called `name`: its name, or how to call it.
    pub fn holder_of(&self, prefix: &str, name: &str) -> Option<String> {
        let routes = self.read();
        let (_, mounted) = routes.iter().find(|(p, _)| *p == prefix)?;
        match mounted {
            Mounted::Plugin(plugin) if plugin.name() == name => None,
            Mounted::Plugin(plugin) => Some(format!("plugin '{}'", plugin.name())),
            Mounted::Invalid(_) => Some("an invalid manifest entry".into()),
        }
    }

    /// Mounts `mounted` at `prefix` (the manifest's entries, at start).
    pub fn insert(&self, prefix: String, mounted: Mounted<P>) {
        self.write().insert(prefix, mounted);
    }

    /// Mounts `plugin` at `prefix` in place of the plugin of the same name, if there is one,
    /// in one step: every request goes either to the old one or to the new one.
    pub fn put(&self, prefix: String, plugin: P) {
        let mut routes = self.write();
        let old = routes.iter().find_map(|(p, mounted)| match mounted {
            Mounted::Plugin(old) if old.name() == plugin.name() => Some(p.to_owned()),
            _ => None,
        });
        if let Some(old) = old {
            routes.remove(&old);
        }
        routes.insert(prefix, Mounted::Plugin(plugin));
    }

    /// Unmounts whatever is mounted at `prefix` (an invalid entry a new manifest dropped).
    pub fn remove_at(&self, prefix: &str) -> Option<Mounted<P>> {
        self.write().remove(prefix)
    }

    /// Unmounts the plugin called `name`; returns it.
    pub fn remove(&self, name: &str) -> Option<P> {
        let mut routes = self.write();
        let prefix = routes.iter().find_map(|(prefix, mounted)| match mounted {
            Mounted::Plugin(plugin) if plugin.name() == name => Some(prefix.to_owned()),
            _ => None,
        })?;
        match routes.remove(&prefix)? {
            Mounted::Plugin(plugin) => Some(plugin),
            Mounted::Invalid(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;

    struct Fake(PluginSpec);

    impl AsSpec for Fake {
        fn as_spec(&self) -> &PluginSpec {
            &self.0
        }
    }

    fn plugin(name: &str, prefix: &str) -> Rc<Fake> {
        let text = format!(
            r#"{{"plugins": [{{"name": "{name}", "prefix": "{prefix}", "url": "x.wasm"}}]}}"#
        );
        let manifest = Manifest::parse(&text, |url| Ok(url.to_owned())).expect("valid");
        let spec = manifest
            .mounts
            .into_iter()
            .next()
            .and_then(|m| m.plugin.ok());
        Rc::new(Fake(spec.expect("one valid entry")))
    }

    #[test]
    fn put_replaces_the_plugin_of_the_same_name_wherever_it_was() {
        let mounts = Mounts::new([("/a".to_owned(), Mounted::Plugin(plugin("one", "/a")))]);
        mounts.put("/b".into(), plugin("one", "/b"));
        assert!(mounts.find("/a/x").is_none());
        let (found, relative) = mounts.find("/b/x").expect("moved to /b");
        assert!(matches!(found, Mounted::Plugin(p) if p.name() == "one"));
        assert_eq!(relative, "/x");
        assert_eq!(mounts.plugins().len(), 1);
    }

    #[test]
    fn holder_of_names_another_plugin_only() {
        let mounts = Mounts::new([("/a".to_owned(), Mounted::Plugin(plugin("one", "/a")))]);
        assert_eq!(mounts.holder_of("/a", "one"), None);
        assert_eq!(
            mounts.holder_of("/a", "two").as_deref(),
            Some("plugin 'one'")
        );
        assert_eq!(mounts.holder_of("/b", "two"), None);
    }

    #[test]
    fn remove_unmounts_by_name() {
        let mounts = Mounts::new([("/a".to_owned(), Mounted::Plugin(plugin("one", "/a")))]);
        assert!(mounts.remove("two").is_none());
        assert!(mounts.remove("one").is_some());
        assert!(mounts.all().is_empty());
    }
}
