//! What `GET /_plugins` says of each mount.

use crate::mounts::Mounted;
use crate::plugin::PluginState;
use serde_json::{json, Value};

/// Where an entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Manifest,
    Registry,
}

/// The JSON of one mount.
pub fn describe(prefix: &str, mounted: &Mounted, source: Source) -> Value {
    let origin = match source {
        Source::Manifest => "manifest",
        Source::Registry => "registry",
    };
    let plugin = match mounted {
        Mounted::Plugin(plugin) => plugin,
        Mounted::Invalid(error) => {
            return json!({ "prefix": prefix, "origin": origin, "state": "invalid", "reason": error.to_string() })
        }
    };
    let spec = plugin.spec();
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
    let state = match plugin.state() {
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
