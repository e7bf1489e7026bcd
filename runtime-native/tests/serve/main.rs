//! The server host's tests: each module starts the real `valor` binary (and, for some, a real
//! Redis or a small real disk) and speaks to it over real HTTP.
//!
//! One test binary rather than one per file: each binary links its own copy of the helpers and
//! their dependencies, and 23 of them took most of the server step's build time.

mod common;
mod embedded_disk;
mod redis_server;

mod code_cache;
mod components;
mod crash;
mod dot_segments;
mod embedded_format;
mod embedded_full_disk;
mod embedded_full_disk_load;
mod embedded_lock;
mod embedded_store_gone;
mod listing;
mod native_plugins;
mod redis;
mod redis_format;
mod redis_full;
mod redis_listing;
mod redis_pause;
mod redis_replica;
mod redis_restart;
mod redis_secrets;
mod redis_slow_listing;
mod registry;
mod static_files;
