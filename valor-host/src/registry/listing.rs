//! What the registry says of each mount.

use crate::manifest::PluginSpec;
use serde_json::{json, Value};

/// Where a plugin stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginState {
    /// No request has needed it yet.
    NotLoaded,
    /// Its module is being fetched and compiled.
    Loading,
    /// Ready; `digest` is its module's SHA-256 (Subresource Integrity form).
    Loaded {
        /// `sha256-<base64>`.
        digest: String,
    },
    /// Its module could not be loaded; a request after `retry_in_s` tries again.
    Failed {
        /// Why.
        reason: String,
        /// Seconds until a request tries again.
        retry_in_s: u32,
    },
    /// It used up its fuel too often in a row; requests answer 503 for `seconds` more.
    Quarantined {
        /// Seconds left.
        seconds: u32,
    },
}

/// Where an entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Manifest,
    Registry,
}

/// The JSON of an invalid manifest entry at `prefix`.
pub fn describe_invalid(prefix: &str, reason: &str) -> Value {
    json!({ "prefix": prefix, "origin": "manifest", "state": "invalid", "reason": reason })
}

/// The JSON of the plugin of entry `spec`, mounted at `prefix`.
pub fn describe(prefix: &str, spec: &PluginSpec, state: PluginState, source: Source) -> Value {
    let origin = match source {
        Source::Manifest => "manifest",
        Source::Registry => "registry",
    };
    let mut entry = json!({
        "name": spec.name,
        "prefix": prefix,
        "url": spec.url,
        "origin": origin,
        "limits": {
            "fuel": spec.fuel,
            "memory_mb": spec.memory_mb,
            "max_body_bytes": spec.max_body_bytes,
            "timeout_ms": spec.timeout_ms,
        },
    });
    let state = match state {
        PluginState::NotLoaded => json!({ "state": "not loaded" }),
        PluginState::Loading => json!({ "state": "loading" }),
        PluginState::Loaded { digest } => json!({ "state": "loaded", "digest": digest }),
        PluginState::Failed { reason, retry_in_s } => {
            json!({ "state": "failed", "reason": reason, "retry_in_s": retry_in_s })
        }
        PluginState::Quarantined { seconds } => {
            json!({ "state": "quarantined", "seconds_left": seconds })
        }
    };
    if let (Value::Object(entry), Value::Object(state)) = (&mut entry, state) {
        entry.extend(state);
        if let Some(integrity) = &spec.integrity {
            entry.insert("integrity".into(), Value::from(integrity.to_string()));
        }
    }
    entry
}
