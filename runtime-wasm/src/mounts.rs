//! The mount table of the browser runtime: `valor-host`'s, holding this runtime's plugins.

use crate::plugin::Plugin;
use std::rc::Rc;

/// What is mounted at a prefix: a plugin, or an invalid manifest entry.
pub type Mounted = valor_host::mounts::Mounted<Rc<Plugin>>;

/// The prefixes and what is mounted at each.
pub type Mounts = valor_host::mounts::Mounts<Rc<Plugin>>;
