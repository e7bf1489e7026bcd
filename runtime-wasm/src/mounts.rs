//! The mount table: what answers at each prefix. Built from the manifest when the worker starts,
//! changed by the registry at run time. A request takes what is mounted when it arrives and
//! keeps it to its end, so a plugin replaced or removed meanwhile finishes what it started.

use crate::error::DispatchError;
use crate::plugin::Plugin;
use crate::routes::Routes;
use std::cell::RefCell;
use std::rc::Rc;

/// What is mounted at a prefix.
#[derive(Clone)]
pub enum Mounted {
    Plugin(Rc<Plugin>),
    /// An invalid manifest entry: its prefix answers 502 with the reason.
    Invalid(DispatchError),
}

/// The prefixes and what is mounted at each.
pub struct Mounts {
    routes: RefCell<Routes<Mounted>>,
}

impl Mounts {
    pub fn new(entries: impl IntoIterator<Item = (String, Mounted)>) -> Self {
        Self {
            routes: RefCell::new(Routes::new(entries)),
        }
    }

    /// What answers `path` (without its query), and the URI relative to its prefix.
    pub fn find(&self, path: &str, query: &str) -> Option<(Mounted, String)> {
        let routes = self.routes.borrow();
        let found = routes.find(path)?;
        Some((
            found.target.clone(),
            format!("{}{query}", found.relative_path),
        ))
    }

    /// Every mount, with its prefix, longest prefix first.
    pub fn all(&self) -> Vec<(String, Mounted)> {
        let routes = self.routes.borrow();
        routes
            .iter()
            .map(|(prefix, mounted)| (prefix.to_owned(), mounted.clone()))
            .collect()
    }

    /// Every mounted plugin (not the invalid entries).
    pub fn plugins(&self) -> Vec<Rc<Plugin>> {
        let routes = self.routes.borrow();
        routes
            .iter()
            .filter_map(|(_, mounted)| match mounted {
                Mounted::Plugin(plugin) => Some(Rc::clone(plugin)),
                Mounted::Invalid(_) => None,
            })
            .collect()
    }

    /// The plugin called `name`, and its prefix.
    pub fn named(&self, name: &str) -> Option<(String, Rc<Plugin>)> {
        self.all()
            .into_iter()
            .find_map(|(prefix, mounted)| match mounted {
                Mounted::Plugin(plugin) if plugin.name() == name => Some((prefix, plugin)),
                _ => None,
            })
    }

    /// What holds `prefix`, unless it is the plugin called `name`: its name, or how to call it.
    pub fn holder_of(&self, prefix: &str, name: &str) -> Option<String> {
        let routes = self.routes.borrow();
        let (_, mounted) = routes.iter().find(|(p, _)| *p == prefix)?;
        match mounted {
            Mounted::Plugin(plugin) if plugin.name() == name => None,
            Mounted::Plugin(plugin) => Some(format!("plugin '{}'", plugin.name())),
            Mounted::Invalid(_) => Some("an invalid manifest entry".into()),
        }
    }

    /// Mounts `mounted` at `prefix` (the manifest's entries, at start).
    pub fn insert(&self, prefix: String, mounted: Mounted) {
        self.routes.borrow_mut().insert(prefix, mounted);
    }

    /// Mounts `plugin` at `prefix` in place of the plugin of the same name, if there is one,
    /// in one step: every request goes either to the old one or to the new one.
    pub fn put(&self, prefix: String, plugin: Rc<Plugin>) {
        let mut routes = self.routes.borrow_mut();
        let old = routes.iter().find_map(|(p, mounted)| match mounted {
            Mounted::Plugin(old) if old.name() == plugin.name() => Some(p.to_owned()),
            _ => None,
        });
        if let Some(old) = old {
            routes.remove(&old);
        }
        routes.insert(prefix, Mounted::Plugin(plugin));
    }

    /// Unmounts the plugin called `name`; returns it.
    pub fn remove(&self, name: &str) -> Option<Rc<Plugin>> {
        let (prefix, plugin) = self.named(name)?;
        self.routes.borrow_mut().remove(&prefix);
        Some(plugin)
    }
}
