//! The manifest's `registry` field: whether the app's pages may change the plugins at run time
//! through `/_plugins`, where, and from which origins registered modules may come.
//!
//! `false` (the default) or absent: no registry, and its path is not intercepted. `true`: the
//! registry at `/_plugins`, modules from the app's origin only. An object sets either part:
//! `{"prefix": "/admin/plugins", "trusted_origins": ["https://cdn.example"]}`.

use serde::Deserialize;

/// Where the registry is served, and which other origins registered modules may come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrySettings {
    /// The path of the API: `/_plugins` unless the manifest moves it.
    pub prefix: String,
    /// Origins (`https://cdn.example`) besides the app's that registered modules may come from.
    pub trusted_origins: Vec<String>,
}

/// The registry's path unless the manifest says otherwise.
pub const DEFAULT_PREFIX: &str = "/_plugins";

impl Default for RegistrySettings {
    fn default() -> Self {
        Self {
            prefix: DEFAULT_PREFIX.to_owned(),
            trusted_origins: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Field {
    Enabled(bool),
    Settings(Settings),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    trusted_origins: Vec<String>,
}

/// Deserializes the `registry` field: `None` when it is off.
pub fn deserialize<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<RegistrySettings>, D::Error> {
    let field = Field::deserialize(deserializer).map_err(|_| {
        serde::de::Error::custom(
            "invalid registry: give true, false, or {\"prefix\": \"/path\", \"trusted_origins\": [\"https://host\"]}",
        )
    })?;
    match field {
        Field::Enabled(false) => Ok(None),
        Field::Enabled(true) => Ok(Some(RegistrySettings::default())),
        Field::Settings(settings) => {
            let prefix = settings.prefix.unwrap_or_else(|| DEFAULT_PREFIX.to_owned());
            super::validate_prefix(&prefix)
                .map_err(|e| serde::de::Error::custom(format!("registry: {e}")))?;
            let trusted_origins = settings
                .trusted_origins
                .iter()
                .map(|origin| normalize_origin(origin))
                .collect::<Result<_, _>>()
                .map_err(serde::de::Error::custom)?;
            Ok(Some(RegistrySettings {
                prefix,
                trusted_origins,
            }))
        }
    }
}

/// `scheme://host[:port]`, lowercase, as `URL.origin` writes it; anything else is refused.
fn normalize_origin(origin: &str) -> Result<String, String> {
    let lower = origin.trim().to_ascii_lowercase();
    let valid = ["https://", "http://"].iter().any(|scheme| {
        lower.strip_prefix(scheme).is_some_and(|host| {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
    });
    if valid {
        Ok(lower)
    } else {
        Err(format!(
            "invalid registry trusted origin {origin:?}: give scheme://host[:port], like \
             \"https://cdn.example\" (no path)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Option<RegistrySettings>, String> {
        deserialize(&mut serde_json::Deserializer::from_str(json)).map_err(|e| e.to_string())
    }

    #[test]
    fn off_on_or_configured() {
        assert_eq!(parse("false"), Ok(None));
        assert_eq!(parse("true"), Ok(Some(RegistrySettings::default())));
        assert_eq!(
            parse(
                r#"{"prefix": "/admin/plugins", "trusted_origins": ["https://CDN.example:8443"]}"#
            ),
            Ok(Some(RegistrySettings {
                prefix: "/admin/plugins".into(),
                trusted_origins: vec!["https://cdn.example:8443".into()],
            }))
        );
        assert_eq!(parse("{}"), Ok(Some(RegistrySettings::default())));
    }

    #[test]
    fn bad_settings_say_why() {
        for (json, reason) in [
            ("1", "invalid registry"),
            (r#"{"prefix": "plugins"}"#, "registry: invalid prefix"),
            (
                r#"{"trusted_origins": ["https://cdn.example/path"]}"#,
                "no path",
            ),
            (r#"{"trusted_origins": ["cdn.example"]}"#, "scheme://host"),
            (r#"{"other": 1}"#, "invalid registry"),
        ] {
            let error = parse(json).unwrap_err();
            assert!(error.contains(reason), "{json}: {error}");
        }
    }
}
