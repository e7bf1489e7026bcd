//! What a plugin's imports and host operations know of the plugin, on every host: its name and
//! the limits of its entry, the app's origin, and what only its host gives it (`H`: the store,
//! the HTTP client, the way back to the host's other plugins).

use crate::allowlist::Allowlist;
use crate::kv;
use crate::manifest::PluginSpec;
use crate::outbound::Policy;

/// One plugin's context.
pub struct PluginContext<H> {
    /// The plugin's name: its log tag and storage namespace.
    pub name: String,
    /// Where its outbound requests may go.
    pub allowlist: Allowlist,
    /// The largest body (of a request, a response, an outbound request, a stored value) the
    /// plugin may hand over or be handed, from its entry's `max_body_bytes`.
    pub max_body_bytes: u32,
    /// Instructions per call into the plugin, if metered (its entry's `fuel`, or for a
    /// JavaScript plugin the engine's).
    pub fuel: Option<u64>,
    /// The most memory its instance may have, in MiB (its entry's `memory_mb`).
    pub memory_mb: u32,
    /// The longest wait for the next chunk of a streamed body it reads, in milliseconds (its
    /// entry's `stream_idle_ms`).
    pub stream_idle_ms: u32,
    /// Whether it reads its requests' bodies as streams (its entry's `stream_requests`).
    pub stream_requests: bool,
    /// The app's origin (`"self"` in the allowlist; where paths resolve).
    pub origin: String,
    /// What only its host gives it.
    pub host: H,
}

impl<H> PluginContext<H> {
    /// The context of the plugin of `spec`, on an app at `origin`; a JavaScript plugin's engine
    /// gets `script_fuel_factor` times the entry's fuel (see [`crate::script::metered_fuel`]).
    pub fn new(spec: &PluginSpec, origin: String, script_fuel_factor: u64, host: H) -> Self {
        Self {
            name: spec.name.clone(),
            allowlist: spec.allowlist.clone(),
            max_body_bytes: spec.max_body_bytes,
            fuel: crate::script::metered_fuel(spec, script_fuel_factor),
            memory_mb: spec.memory_mb,
            stream_idle_ms: spec.stream_idle_ms,
            stream_requests: spec.stream_requests,
            origin,
            host,
        }
    }

    /// `memory_mb` in bytes.
    pub fn memory_bytes(&self) -> u64 {
        u64::from(self.memory_mb) << 20
    }

    /// What its outbound requests are checked against.
    pub fn policy(&self) -> Policy<'_> {
        Policy {
            plugin: &self.name,
            max_body_bytes: self.max_body_bytes,
            allowlist: &self.allowlist,
            origin: &self.origin,
        }
    }

    /// The limits of its storage commands: a value within its body limit, a listing within its
    /// memory (a larger one could not be written into the plugin).
    pub fn kv_limits(&self) -> kv::Limits {
        kv::Limits {
            max_body_bytes: self.max_body_bytes,
            max_listing_bytes: self.memory_bytes(),
        }
    }
}
