//! The example with state: configuration from the manifest, and memory kept between requests.
//!
//! One `with_state.wasm` is mounted twice in `plugins.json`, each time with its own `config`:
//!
//! ```json
//! { "name": "alice", "prefix": "/api/alice", "url": "plugins/with_state.wasm", "config": { "name": "Alice" } }
//! { "name": "bob",   "prefix": "/api/bob",   "url": "plugins/with_state.wasm", "config": { "name": "Bob" } }
//! ```
//!
//! Each entry gets its own instance of the module, so `/api/alice` and `/api/bob` greet with
//! different names and count their visits separately:
//! `{ "greeting": "Hello, I am Alice", "visits": 3 }`.
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use vlugin::prelude::*;

/// The `config` of this plugin's manifest entry, typed: a missing or misspelled `name` is a 500
/// that says what is wrong with the config.
#[derive(Deserialize)]
struct Config {
    name: String,
}

/// The answer.
#[derive(Serialize)]
struct Greeting {
    greeting: String,
    /// How many requests this instance has served, this one included.
    visits: u64,
}

thread_local! {
    // State lives as long as the instance: across requests, until the service worker is stopped
    // (browsers stop idle workers) or the plugin panics (the runtime then starts a fresh one).
    // Data that must outlive that belongs in `vlugin::kv` (see the todos example).
    static VISITS: Cell<u64> = const { Cell::new(0) };
}

#[vlugin]
fn with_state(_req: Request) -> Result<Json<Greeting>, vlugin::Error> {
    let config: Config = config()?;
    let visits = VISITS.get() + 1;
    VISITS.set(visits);
    Ok(Json(Greeting {
        greeting: format!("Hello, I am {}", config.name),
        visits,
    }))
}
