//! What the runtime does for plugins: the host operations behind their imports.
//!
//! Each operation is a future producing the ABI's result bytes (an `outcome` byte, then the
//! payload); the plugin's imports (`valor_host::guest::imports`, bound in `plugin::imports`)
//! start and cancel them, and their results are delivered through the protocol core.

pub mod kv;
pub mod outbound;
pub mod timer;

use crate::manifest::Credentials;
use crate::meter::{Limits, PAGE_BYTES};
use crate::storage::Storage;
use futures::future::LocalBoxFuture;
use std::rc::Weak;
use valor_host::local;

/// What a plugin's host functions know of it (`valor_host::context`), with the runtime's own.
pub type PluginContext = valor_host::context::PluginContext<Bindings>;

/// What only the browser runtime gives a plugin.
pub struct Bindings {
    /// Whether its outbound requests carry the browser's credentials.
    pub credentials: Credentials,
    /// The key-value store.
    pub storage: Storage,
    /// The runtime, to answer requests to plugins without going to the network (a service
    /// worker's own `fetch` bypasses its fetch handler).
    pub local: Weak<LocalDispatch>,
}

/// How the plugin's module is rewritten, unless its entry turned metering off.
pub fn meter_limits(context: &PluginContext) -> Option<Limits> {
    Some(Limits {
        fuel: context.fuel?,
        memory_pages: context.memory_bytes() / PAGE_BYTES,
    })
}

/// Requests from one plugin to another, answered in the worker.
pub type LocalDispatch =
    dyn local::LocalDispatch<vlugin::Body, Answer = LocalBoxFuture<'static, Vec<u8>>>;
