//! Instantiating and calling a component in the worker (see the crate documentation): the
//! module's JavaScript API ([`Component`]), the generated adapter, the instantiation of the
//! plan's core instances, the host calls, and the replay of blocked runs.

mod adapter;
mod api;
mod bridge;
mod compile;
mod encoded;
mod errors;
mod handler;
mod instantiate;
mod memory;
mod outside;
mod replay;
mod state;
#[cfg(test)]
mod tests;

pub use api::Component;
