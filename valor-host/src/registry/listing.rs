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

/// What a host found when it asked the network whether a plugin's module (or script), loaded
/// from the copy it kept, changed (the browser does, once per life of its worker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revalidation {
    /// Under way.
    Running,
    /// The network has the kept bytes.
    Unchanged,
    /// A new version, of SHA-256 `digest`, swapped in (or used by the next load).
    Renewed {
        /// `sha256-<base64>`.
        digest: String,
    },
    /// A new version that is not in use, and why: the loaded version answers meanwhile.
    Refused {
        /// The new version's SHA-256, if its bytes arrived.
        digest: Option<String>,
        /// Why it is not in use.
        reason: String,
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

/// The JSON of the plugin of entry `spec`, mounted at `prefix`; with `revalidation`, what the
/// host found when it asked whether its module changed.
pub fn describe(
    prefix: &str,
    spec: &PluginSpec,
    state: PluginState,
    source: Source,
    revalidation: Option<Revalidation>,
) -> Value {
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
        let found = match revalidation {
            None => None,
            Some(Revalidation::Running) => Some("running"),
            Some(Revalidation::Unchanged) => Some("unchanged"),
            Some(Revalidation::Renewed { .. }) => Some("renewed"),
            Some(Revalidation::Refused { digest, reason }) => {
                let update = json!({ "digest": digest, "reason": reason });
                entry.insert("update".into(), update);
                Some("refused")
            }
        };
        if let Some(found) = found {
            entry.insert("revalidation".into(), found.into());
        }
    }
    entry
}
