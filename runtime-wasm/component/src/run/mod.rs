//! Instantiating and calling a component in the worker (see the crate documentation).
