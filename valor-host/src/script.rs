//! JavaScript plugins: a manifest entry whose `url` ends in `.js` or `.mjs` is a script, run by
//! the JavaScript engine module (`valor_js.wasm`, crate `valor-js`), which every host
//! instantiates for it like any plugin module: one compiled engine for every script, one
//! instance per plugin. The script is fetched under the entry's rules (integrity, caching, the
//! registry's admission) and handed to the engine in its init config.

use crate::manifest::PluginSpec;

/// The engine module's file name, deployed beside each host's own files.
pub const ENGINE_FILE: &str = "valor_js.wasm";

/// Whether the entry's module is a JavaScript file (its URL's path ends in `.js` or `.mjs`).
pub fn is_script(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    path.ends_with(".js") || path.ends_with(".mjs")
}

/// The fuel the host meters the entry's module with: its `fuel` for a module; for a script,
/// the engine's, `script_factor` times more (each host's own). The engine stops a script itself, by its interrupt handler,
/// after a budget derived from `fuel` (valor-js's `budget`); the host's fuel is the backstop
/// for work QuickJS does without polling that handler (a builtin looping over a huge
/// array-like). An interpreter is metered far above what it runs by a meter that charges each
/// loop its longest path (the browser's), so there the factor is large (BENCHMARKS.md).
pub fn metered_fuel(spec: &PluginSpec, script_factor: u64) -> Option<u64> {
    match is_script(&spec.url) {
        true => spec.fuel.map(|fuel| fuel.saturating_mul(script_factor)),
        false => spec.fuel,
    }
}

/// What `valor_init` is handed for the entry: its `config` (JSON), mount and origin; for a
/// script, `engine_config` (from [`engine_config`]) in place of the `config`.
pub fn init_message(spec: &PluginSpec, origin: &str, engine_config: Option<Vec<u8>>) -> Vec<u8> {
    let config = engine_config
        .unwrap_or_else(|| serde_json::to_vec(&spec.config).unwrap_or_else(|_| b"null".to_vec()));
    valor_abi::init::Init {
        config: &config,
        mount: spec.prefix.trim_end_matches('/'),
        origin,
    }
    .encode()
}

/// The script's text, which must be UTF-8.
pub fn source_text(url: &str, bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|error| {
        format!(
            "{url} is not UTF-8 text (byte {}): a JavaScript plugin is a UTF-8 file",
            error.utf8_error().valid_up_to()
        )
    })
}

/// The init `config` the engine is given for the script at `url`: the source, the entry's own
/// `config`, and the limits it derives the script's from (PROTOCOL.md, "JavaScript plugins").
pub fn engine_config(spec: &PluginSpec, source: &str) -> Vec<u8> {
    let settings = serde_json::json!({
        "source": source,
        "url": spec.url,
        "config": spec.config,
        "fuel": spec.fuel,
        "memory_mb": spec.memory_mb,
    });
    serde_json::to_vec(&settings).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_told_by_their_path() {
        assert!(is_script("https://example.com/plugins/hello.js"));
        assert!(is_script("plugins/todos.mjs?v=2"));
        assert!(!is_script("plugins/hello.wasm"));
        assert!(!is_script("plugins/hello.wasm?from=x.js"));
        assert!(!is_script("plugins/json"));
    }

    #[test]
    fn a_script_must_be_utf8() {
        assert_eq!(source_text("a.js", b"ok".to_vec()), Ok("ok".into()));
        let error = source_text("a.js", vec![b'x', 0xff]).unwrap_err();
        assert!(
            error.contains("not UTF-8") && error.contains("byte 1"),
            "{error}"
        );
    }
}
