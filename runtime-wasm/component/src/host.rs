//! What the instance's imports call: the contract between the wiring (`run`, which lifts the
//! arguments of a lowered import and lowers its results) and the host of the interfaces
//! ([`crate::wasi`], which works on values only).

use crate::abi::{Resource, Val};
use futures::future::LocalBoxFuture;

/// A host function, as [`Host::resolve`] found it: resolved once per instantiation, called by
/// number afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostFunc(pub u32);

/// The host of a component's imports.
pub trait Host {
    /// The function `name` (`[method]fields.set`, `get-environment`) of the imported
    /// `interface` (with its version as the component names it: `wasi:http/types@0.2.12`), or
    /// `None` if this host does not provide it: then the component cannot be instantiated.
    fn resolve(&self, interface: &str, name: &str) -> Option<HostFunc>;

    /// Calls `func` with its arguments (lifted from the instance); its results, to be lowered.
    fn call(&mut self, func: HostFunc, args: Vec<Val>) -> Result<Vec<Val>, Fault>;

    /// The instance dropped its handle `handle` of `resource` (`canon resource.drop`).
    fn drop(&mut self, resource: &Resource, handle: u32) -> Result<(), Fault>;
}

/// Why a host function did not return.
pub enum Fault {
    /// The instance broke the rules (a handle that is not one, a handle of the wrong type, a
    /// body written twice): it traps, with this message.
    Trap(String),
    /// The instance waits on something not ready yet: the run stops here, and runs again from
    /// the start once this future has completed (see the crate's documentation).
    Block(LocalBoxFuture<'static, ()>),
}

impl std::fmt::Debug for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Trap(why) => write!(f, "Trap({why:?})"),
            Fault::Block(_) => f.write_str("Block"),
        }
    }
}
