//! Instantiating and calling a component in the worker (see the crate documentation): the
//! module's JavaScript API ([`Component`]), the generated adapter (instantiated once per
//! component), the instantiation of the plan's core instances for each run, the host calls,
//! and the replay of blocked runs.

mod adapter;
mod adapter_instance;
mod api;
mod bridge;
mod compile;
mod encoded;
mod errors;
mod handler;
mod instantiate;
mod link;
mod memory;
mod outside;
mod plain;
mod replay;
#[cfg(test)]
mod shared_tests;
mod state;
#[cfg(test)]
mod tests;

pub use api::Component;
