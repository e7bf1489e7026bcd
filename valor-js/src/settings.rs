//! What the engine is told about its plugin: the init `config` every host sends a JavaScript
//! plugin's instance (written in valor-abi's PROTOCOL.md, "JavaScript plugins").

use serde::Deserialize;
use std::cell::OnceCell;

/// The engine's init config.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The script's text.
    pub source: String,
    /// Its URL: names it in error messages and stack traces; `.mjs` makes it a module.
    pub url: String,
    /// The manifest entry's own `config`, given to the script as `valor.config`.
    #[serde(default)]
    pub config: serde_json::Value,
    /// The entry's `fuel`, from which the script's CPU budget per call is derived (`null`:
    /// the default budget).
    #[serde(default)]
    pub fuel: Option<u64>,
    /// The entry's `memory_mb`: the script's heap is kept within it.
    pub memory_mb: u32,
}

thread_local! {
    /// Per thread, as the rest of the engine's state: an instance has one, and each native
    /// test runs a script of its own on its own.
    static SETTINGS: OnceCell<&'static Settings> = const { OnceCell::new() };
}

/// The settings, read from the init config once.
pub fn get() -> Result<&'static Settings, String> {
    if let Some(settings) = SETTINGS.with(|s| s.get().copied()) {
        return Ok(settings);
    }
    let settings: Settings = vlugin::config().map_err(|error| {
        format!(
            "the JavaScript engine was not given its settings ({error}): the host must send \
             {{source, url, config, fuel, memory_mb}} as the init config"
        )
    })?;
    // Read once per instance (per thread), so kept for good.
    Ok(SETTINGS.with(|s| *s.get_or_init(|| Box::leak(Box::new(settings)))))
}

impl Settings {
    /// Whether the script is an ES module by its name (`.mjs`); a `.js` file is one if it does
    /// not parse as a classic script for its `import`, `export` or top-level `await`.
    pub fn is_module(&self) -> bool {
        let path = self.url.split(['?', '#']).next().unwrap_or_default();
        path.ends_with(".mjs")
    }

    /// The file name shown in messages and stack traces.
    pub fn file_name(&self) -> &str {
        let path = self.url.split(['?', '#']).next().unwrap_or_default();
        path.rsplit('/').next().unwrap_or(path)
    }
}
