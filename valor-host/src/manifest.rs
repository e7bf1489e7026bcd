//! `plugins.json`: which plugins to mount where (the README, "The manifest").
//!
//! Parsing is per entry: a bad entry is reported on its own and never hides the good ones.

mod registry;

pub use registry::{RegistrySettings, DEFAULT_PREFIX as DEFAULT_REGISTRY_PREFIX};

use crate::allowlist::Allowlist;
use crate::integrity::Integrity;
use serde::Deserialize;
use std::collections::HashSet;

/// A parsed manifest: the entries that can be mounted, and the problems of those that cannot.
#[derive(Debug, Default)]
pub struct Manifest {
    /// The run-time registry (`/_plugins`), if the manifest turns it on.
    pub registry: Option<RegistrySettings>,
    /// Entries in manifest order. Invalid ones that still name a usable prefix are kept, so
    /// requests to that prefix can answer with the reason instead of going to the network.
    pub mounts: Vec<Mount>,
    /// Problems that leave nothing to mount (e.g. an entry without a prefix).
    pub problems: Vec<String>,
}

/// One manifest entry as the runtime mounts it.
#[derive(Debug, Clone, PartialEq)]
pub struct Mount {
    /// Where requests are routed from.
    pub prefix: String,
    /// The plugin to load, or why the entry is invalid.
    pub plugin: Result<PluginSpec, String>,
}

/// A valid entry: what the runtime needs to load and identify a plugin.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginSpec {
    /// Unique name, shown in `x-valor-plugin` and error messages.
    pub name: String,
    /// Mount point: a path like `/api/hello`.
    pub prefix: String,
    /// Where the plugin's .wasm is, resolved against the manifest's URL.
    pub url: String,
    /// Free-form configuration handed to the plugin.
    #[serde(default)]
    pub config: serde_json::Value,
    /// Hosts the plugin's outbound `fetch` may reach (see [`Allowlist`]); none by default.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// `allowed_hosts`, parsed (by [`Manifest::parse`]).
    #[serde(skip)]
    pub allowlist: Allowlist,
    /// Whether the plugin's outbound requests carry the browser's cookies and HTTP
    /// authentication: none by default, so a plugin cannot act as the user.
    #[serde(default)]
    pub credentials: Credentials,
    /// Whether the plugin answers page navigations (a link followed, an address typed, an
    /// iframe): off by default, so a plugin cannot serve pages as the app's origin; its
    /// navigations go to the network as without Valor.
    #[serde(default)]
    pub navigations: bool,
    /// Whether the plugin's responses carry `content-security-policy: sandbox`, so that a
    /// document it serves runs in an opaque origin, never as the app's (on by default).
    #[serde(default = "sandboxed")]
    pub sandbox: bool,
    /// The largest body a request to the plugin, its response, or a message it hands the host
    /// (an outbound request, a stored value) may carry: 1 to [`MAX_BODY_BYTES`].
    #[serde(
        default = "default_max_body_bytes",
        deserialize_with = "bounded_max_body_bytes"
    )]
    pub max_body_bytes: u32,
    /// How long a request may take before it is answered 504: 1 to [`MAX_TIMEOUT_MS`].
    #[serde(
        default = "default_timeout_ms",
        deserialize_with = "bounded_timeout_ms"
    )]
    pub timeout_ms: u32,
    /// The most bytes one streamed answer of the plugin, or one request body it reads as a
    /// stream, may carry, or `None` for no limit (PROTOCOL.md, sections 17.3 and 18.3): 1 to [`MAX_STREAM_BYTES`], 4 GiB by default.
    #[serde(
        default = "default_max_stream_bytes",
        deserialize_with = "bounded_max_stream_bytes"
    )]
    pub max_stream_bytes: Option<u64>,
    /// The longest a streamed answer may keep its reader waiting for the next chunk: 1 to
    /// [`MAX_STREAM_IDLE_MS`], 60 s by default.
    #[serde(
        default = "default_stream_idle_ms",
        deserialize_with = "bounded_stream_idle_ms"
    )]
    pub stream_idle_ms: u32,
    /// Whether the plugin reads the bodies of its requests as they arrive (PROTOCOL.md, section
    /// 18): then a request's body is bounded by `max_stream_bytes`, not `max_body_bytes`, and
    /// the module must speak ABI 4. Off by default.
    #[serde(default)]
    pub stream_requests: bool,
    /// Instructions the plugin may run per call into it (see `crate::meter`), 1 to
    /// [`MAX_FUEL`]; `null` turns metering off for a trusted plugin, which is then instantiated
    /// as it is (streamed), and a loop in it freezes the worker.
    #[serde(default = "default_fuel", deserialize_with = "bounded_fuel")]
    pub fuel: Option<u64>,
    /// The most memory the plugin's instance may have, in MiB: 1 to [`MAX_MEMORY_MB`].
    #[serde(default = "default_memory_mb", deserialize_with = "bounded_memory_mb")]
    pub memory_mb: u32,
    /// The digests the module must match (Subresource Integrity form), if any.
    #[serde(default, deserialize_with = "integrity")]
    pub integrity: Option<Integrity>,
    /// Whether the plugin is loaded as soon as the worker starts, rather than on its first
    /// request (off by default: an app loads only what it uses).
    #[serde(default)]
    pub eager: bool,
}

impl PluginSpec {
    /// Whether the entry names a native plugin: a shared library (its `url` ends in `.so`,
    /// `.dylib` or `.dll`), which only a server that trusts native plugins loads.
    pub fn is_native(&self) -> bool {
        valor_abi::native::is_native_url(&self.url)
    }
}

/// Why a browser refuses a native plugin's entry (its load fails, 502): it runs WebAssembly
/// only.
pub fn native_in_browser(url: &str) -> String {
    format!(
        "{url} is a native plugin (a shared library), which only a server started with \
         --allow-native-plugins runs: in the browser, mount the plugin built for WebAssembly \
         (cargo build --release --target wasm32-unknown-unknown) as a .wasm"
    )
}

/// Why a server that was not told to trust native plugins refuses one (its load fails, 502).
pub fn native_not_allowed(url: &str) -> String {
    format!(
        "{url} is a native plugin (a shared library): it would run in the server's own process, \
         with no fuel or memory limit, so `valor serve` loads native plugins only when started \
         with --allow-native-plugins (or mount the plugin built for WebAssembly, a .wasm)"
    )
}

fn integrity<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Integrity>, D::Error> {
    Option::<String>::deserialize(deserializer)?
        .map(|value| Integrity::parse(&value).map_err(serde::de::Error::custom))
        .transpose()
}

/// The `credentials` mode of a plugin's outbound requests, as in `fetch`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Credentials {
    /// No cookies or HTTP authentication, whatever the host.
    #[default]
    Omit,
    /// The browser's credentials for the app's own origin only.
    SameOrigin,
    /// The browser's credentials for every host (a cross-origin one must allow them by CORS).
    Include,
}

impl Credentials {
    /// The value as `fetch` and the manifest write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Credentials::Omit => "omit",
            Credentials::SameOrigin => "same-origin",
            Credentials::Include => "include",
        }
    }
}

impl<'de> Deserialize<'de> for Credentials {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        [
            Credentials::Omit,
            Credentials::SameOrigin,
            Credentials::Include,
        ]
        .into_iter()
        .find(|mode| value.as_str() == Some(mode.as_str()))
        .ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid credentials {value}: give \"omit\" (the default: no cookies), \
                     \"same-origin\" or \"include\""
            ))
        })
    }
}

/// 30 s: long enough for slow upstream APIs, short enough that a stuck handler is reported.
fn default_timeout_ms() -> u32 {
    30_000
}

fn sandboxed() -> bool {
    true
}

/// 32 MiB: twice the largest body the benchmarks send, far from what a page's API needs.
fn default_max_body_bytes() -> u32 {
    32 << 20
}

/// The largest `max_body_bytes` an entry may ask for (512 MiB): a body is copied into the
/// runtime's and the plugin's 32-bit memories, 4 GiB each at most.
pub const MAX_BODY_BYTES: u32 = 512 << 20;

fn bounded_max_body_bytes<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<u32, D::Error> {
    bounded(
        deserializer,
        "max_body_bytes",
        "the largest body in bytes",
        MAX_BODY_BYTES,
    )
}

/// The longest `timeout_ms` an entry may ask for: 5 minutes, the time after which Chromium ends a
/// service worker's event anyway. (Far larger values would also overflow `setTimeout`, whose
/// delay is a signed 32-bit count of milliseconds, and fire at once.)
pub const MAX_TIMEOUT_MS: u32 = 300_000;

fn bounded_timeout_ms<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    bounded(
        deserializer,
        "timeout_ms",
        "the milliseconds a request may take",
        MAX_TIMEOUT_MS,
    )
}

/// 4 GiB: a streamed body far larger than any buffered one, yet bounded.
fn default_max_stream_bytes() -> Option<u64> {
    Some(4 << 30)
}

/// The largest `max_stream_bytes` short of none: what a JavaScript number holds exactly.
pub const MAX_STREAM_BYTES: u64 = (1 << 53) - 1;

fn bounded_max_stream_bytes<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    Option::<u64>::deserialize(deserializer)?
        .map(|bytes| {
            within(
                bytes,
                "max_stream_bytes",
                "the most bytes of a streamed answer, or null",
                MAX_STREAM_BYTES,
            )
            .map_err(serde::de::Error::custom)
        })
        .transpose()
}

/// 60 s: twice the keep-alive interval of most server-sent-event servers (30 s).
fn default_stream_idle_ms() -> u32 {
    60_000
}

/// The longest `stream_idle_ms`: an hour.
pub const MAX_STREAM_IDLE_MS: u32 = 3_600_000;

fn bounded_stream_idle_ms<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<u32, D::Error> {
    bounded(
        deserializer,
        "stream_idle_ms",
        "the milliseconds a stream may wait for its next chunk",
        MAX_STREAM_IDLE_MS,
    )
}

/// One billion instructions per call: a loop is stopped after about 0.14 s (Chromium, on the
/// test machine; BENCHMARKS.md), a short freeze of the worker, while the CPU-heavy handlers of
/// the benchmarks (a SHA-256 of 256 KiB, JSON of 2,000 objects: 2-3 ms each) use a few percent.
pub const DEFAULT_FUEL: u64 = 1_000_000_000;

/// The largest `fuel` an entry may ask for: a thousand times the default.
pub const MAX_FUEL: u64 = 1_000 * DEFAULT_FUEL;

fn default_fuel() -> Option<u64> {
    Some(DEFAULT_FUEL)
}

fn bounded_fuel<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    Option::<u64>::deserialize(deserializer)?
        .map(|fuel| {
            within(fuel, "fuel", "the instructions per call, or null", MAX_FUEL)
                .map_err(serde::de::Error::custom)
        })
        .transpose()
}

/// 256 MiB: a request and its answer at the default `max_body_bytes` (32 MiB each), with the
/// copies a plugin makes of them, fit several times over.
fn default_memory_mb() -> u32 {
    256
}

/// The largest `memory_mb`: all that a 32-bit WebAssembly memory can address.
pub const MAX_MEMORY_MB: u32 = 4096;

fn bounded_memory_mb<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    bounded(
        deserializer,
        "memory_mb",
        "the most memory in MiB",
        MAX_MEMORY_MB,
    )
}

/// A whole number from 1 to `max`; otherwise an error naming `field` and saying what it means.
fn bounded<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
    field: &str,
    meaning: &str,
    max: u32,
) -> Result<u32, D::Error> {
    let value = u64::deserialize(deserializer)?;
    within(value, field, meaning, max.into())
        .map(|value| u32::try_from(value).unwrap_or(max))
        .map_err(serde::de::Error::custom)
}

fn within(value: u64, field: &str, meaning: &str, max: u64) -> Result<u64, String> {
    if (1..=max).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "invalid {field} {value}: give {meaning}, 1 to {max}"
        ))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    #[serde(default, deserialize_with = "registry::deserialize")]
    registry: Option<RegistrySettings>,
    plugins: Vec<serde_json::Value>,
}

/// Why a manifest could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("the manifest is not valid: {0}")]
pub struct ManifestError(#[from] serde_json::Error);

impl Manifest {
    /// Parses a manifest, keeping every entry that can be mounted.
    ///
    /// `resolve` turns an entry's `url` into an absolute one (relative to the manifest), or
    /// says why it cannot.
    pub fn parse(
        text: &str,
        resolve: impl Fn(&str) -> Result<String, String>,
    ) -> Result<Self, ManifestError> {
        let document: Document = serde_json::from_str(text)?;
        let mut manifest = Manifest {
            registry: document.registry,
            ..Manifest::default()
        };
        let mut names = HashSet::new();
        let mut prefixes = HashSet::new();
        for (index, entry) in document.plugins.into_iter().enumerate() {
            let prefix = entry
                .get("prefix")
                .and_then(|p| p.as_str())
                .map(str::to_owned);
            let plugin = parse_entry(entry, &resolve).and_then(|spec| {
                if !names.insert(spec.name.clone()) {
                    return Err(format!("the name {:?} is already used", spec.name));
                }
                Ok(spec)
            });
            match prefix {
                Some(prefix) if validate_prefix(&prefix).is_ok() => {
                    if prefixes.insert(prefix.clone()) {
                        manifest.mounts.push(Mount { prefix, plugin });
                    } else {
                        let what = plugin.as_ref().map_or("an invalid entry", |s| &s.name);
                        manifest.problems.push(format!(
                            "entry {index} ({what}): the prefix {prefix} is already mounted"
                        ));
                    }
                }
                _ => manifest.problems.push(format!(
                    "entry {index}: {}",
                    plugin.err().unwrap_or_else(|| "invalid prefix".into())
                )),
            }
        }
        Ok(manifest)
    }
}

/// One entry (of the manifest, or registered at run time), checked.
pub fn parse_entry(
    entry: serde_json::Value,
    resolve: impl Fn(&str) -> Result<String, String>,
) -> Result<PluginSpec, String> {
    let mut spec = PluginSpec::deserialize(entry).map_err(|e| e.to_string())?;
    validate_name(&spec.name)?;
    validate_prefix(&spec.prefix)?;
    spec.allowlist = Allowlist::parse(&spec.allowed_hosts)?;
    spec.url = resolve(&spec.url).map_err(|e| format!("invalid url {:?}: {e}", spec.url))?;
    Ok(spec)
}

/// Names appear in headers, logs and (later) storage keys: keep them to a safe alphabet.
pub fn validate_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid name {name:?}: use 1 to 64 of the characters A-Z a-z 0-9 - _ ."
        ))
    }
}

/// A prefix is an absolute path without a trailing slash, query or fragment, written as the
/// browser shows a URL's path: requests are matched against `URL.pathname`, so a prefix the
/// browser would never produce could never match.
pub fn validate_prefix(prefix: &str) -> Result<(), String> {
    let reason = if !prefix.starts_with('/') {
        "it must start with /"
    } else if prefix == "/" {
        "/ would capture the whole origin, the app's own pages included"
    } else if prefix.ends_with('/') {
        "it must not end with /"
    } else if prefix.contains(['?', '#']) {
        "it must not contain ? or #"
    } else if prefix.contains("//") {
        "it must not contain an empty segment (//)"
    } else if !prefix.bytes().all(is_kept_in_url_paths) {
        "write other characters than A-Z a-z 0-9 and -._~!$&'()*+,;=:@%/ percent-encoded, \
         as URL paths carry them (%C3%A9 for \u{e9})"
    } else if prefix
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        "a URL path never has . or .. segments (the browser resolves them)"
    } else {
        return Ok(());
    };
    Err(format!("invalid prefix {prefix:?}: {reason}"))
}

/// The bytes a URL parser leaves as they are in a path (RFC 3986 `pchar`, `%` and `/`).
fn is_kept_in_url_paths(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@%/".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(url: &str) -> Result<String, String> {
        Ok(format!("https://app.test/{url}"))
    }

    #[test]
    fn parses_the_documented_example() {
        let manifest = Manifest::parse(
            r#"{ "registry": false,
                 "plugins": [
                   { "name": "hello", "prefix": "/api/hello", "url": "plugins/hello.wasm",
                     "config": { "greeting": "hi" } } ] }"#,
            resolve,
        )
        .unwrap();
        assert!(manifest.registry.is_none());
        assert!(manifest.problems.is_empty());
        let spec = manifest.mounts[0].plugin.as_ref().unwrap();
        assert_eq!(spec.name, "hello");
        assert_eq!(spec.url, "https://app.test/plugins/hello.wasm");
        assert_eq!(spec.config["greeting"], "hi");
        assert!(
            spec.allowed_hosts.is_empty(),
            "outbound fetch is denied by default"
        );
        assert_eq!(spec.timeout_ms, 30_000);
    }

    #[test]
    fn an_entry_names_a_native_plugin_by_its_shared_library() {
        let manifest = Manifest::parse(
            r#"{ "plugins": [
                   { "name": "so", "prefix": "/api/so", "url": "plugins/libhello.so" },
                   { "name": "dll", "prefix": "/api/dll", "url": "hello.DLL?v=1" },
                   { "name": "wasm", "prefix": "/api/wasm", "url": "hello.wasm" },
                   { "name": "js", "prefix": "/api/js", "url": "hello.js" } ] }"#,
            resolve,
        )
        .unwrap();
        let native: Vec<bool> = (manifest.mounts.iter())
            .map(|mount| mount.plugin.as_ref().unwrap().is_native())
            .collect();
        assert_eq!(native, [true, true, false, false]);
        let refused = native_in_browser("https://app.test/plugins/libhello.so");
        assert!(refused.contains("--allow-native-plugins") && refused.contains(".wasm"));
        assert!(native_not_allowed("libhello.so").contains("--allow-native-plugins"));
    }

    #[test]
    fn a_bad_entry_does_not_hide_the_good_ones() {
        let manifest = Manifest::parse(
            r#"{ "plugins": [
                   { "name": "nourl", "prefix": "/api/nourl" },
                   { "name": "ok", "prefix": "/api/ok", "url": "ok.wasm" },
                   { "name": "typo", "prefix": "/api/typo", "url": "t.wasm", "confg": {} },
                   { "name": "noprefix", "url": "x.wasm" },
                   { "name": "ok", "prefix": "/api/again", "url": "dup.wasm" },
                   { "name": "other", "prefix": "/api/ok", "url": "o.wasm" },
                   { "name": "bad name!", "prefix": "/api/bad", "url": "b.wasm" },
                   42,
                   { "name": "hosts", "prefix": "/api/hosts", "url": "h.wasm",
                     "allowed_hosts": ["self", "http://x"] },
                   { "name": "limits", "prefix": "/api/limits", "url": "l.wasm",
                     "allowed_hosts": ["*.example.com"], "timeout_ms": 1500 } ] }"#,
            resolve,
        )
        .unwrap();
        let mounted: Vec<_> = manifest
            .mounts
            .iter()
            .map(|m| {
                (
                    m.prefix.as_str(),
                    m.plugin.as_ref().map(|s| s.name.as_str()),
                )
            })
            .collect();
        assert_eq!(mounted.len(), 7, "{mounted:?}");
        assert_eq!(mounted[1], ("/api/ok", Ok("ok")));
        let reason = |i: usize| manifest.mounts[i].plugin.clone().unwrap_err();
        assert!(reason(0).contains("missing field `url`"), "{}", reason(0));
        assert!(reason(2).contains("unknown field `confg`"), "{}", reason(2));
        assert!(reason(3).contains("already used"), "{}", reason(3));
        assert!(reason(4).contains("invalid name"), "{}", reason(4));
        assert!(
            reason(5).contains("invalid allowed_hosts entry \"http://x\""),
            "{}",
            reason(5)
        );
        let limits = manifest.mounts[6].plugin.as_ref().unwrap();
        assert_eq!((limits.timeout_ms, limits.allowed_hosts.len()), (1500, 1));
        assert_eq!(
            limits.allowlist,
            Allowlist::parse(&["*.example.com".into()]).unwrap()
        );
        assert_eq!(manifest.problems.len(), 3, "{:?}", manifest.problems);
        assert!(manifest.problems[0].contains("missing field `prefix`"));
        assert!(manifest.problems[1].contains("/api/ok is already mounted"));
        assert!(manifest.problems[2].contains("entry 7"));
    }

    #[test]
    fn a_document_that_is_not_a_manifest_is_an_error() {
        for text in [
            "",
            "[]",
            "{}",
            r#"{"plugins": {}}"#,
            "{not json",
            r#"{"plugins":[],"x":1}"#,
        ] {
            assert!(
                Manifest::parse(text, resolve).is_err(),
                "{text:?} was accepted"
            );
        }
    }

    #[test]
    fn an_unresolvable_url_is_reported_on_its_prefix() {
        let manifest = Manifest::parse(
            r#"{ "plugins": [ { "name": "a", "prefix": "/a", "url": "::" } ] }"#,
            |_| Err("no base".into()),
        )
        .unwrap();
        let reason = manifest.mounts[0].plugin.clone().unwrap_err();
        assert_eq!(reason, r#"invalid url "::": no base"#);
    }

    #[test]
    fn prefixes_are_validated() {
        for good in ["/api", "/api/hello", "/a-b/c.d"] {
            assert!(validate_prefix(good).is_ok(), "{good}");
        }
        for bad in ["", "api", "/", "/api/", "/a?b", "/a#b", "/a//b"] {
            assert!(validate_prefix(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn prefixes_no_url_path_can_have_are_refused_with_the_reason() {
        assert!(validate_prefix("/api/caf%C3%A9").is_ok());
        for (bad, reason) in [
            ("/api/caf\u{e9}", "percent-encoded"),
            ("/api/a b", "percent-encoded"),
            ("/api/a\"b", "percent-encoded"),
            ("/api/./x", ". or .. segments"),
            ("/api/..", ". or .. segments"),
            ("/..", ". or .. segments"),
        ] {
            let error = validate_prefix(bad).unwrap_err();
            assert!(error.contains(reason), "{bad}: {error}");
        }
        assert!(
            validate_prefix("/api/v1.2/..x").is_ok(),
            "dots inside a segment are fine"
        );
    }

    #[test]
    fn credentials_are_omitted_unless_the_entry_says_otherwise() {
        let entry = |credentials: &str| {
            let text = format!(
                r#"{{ "plugins": [ {{ "name": "c", "prefix": "/c", "url": "c.wasm"
                     {credentials} }} ] }}"#
            );
            Manifest::parse(&text, resolve).unwrap().mounts[0]
                .plugin
                .clone()
                .map(|spec| spec.credentials)
        };
        assert_eq!(entry(""), Ok(Credentials::Omit));
        assert_eq!(entry(r#", "credentials": "omit""#), Ok(Credentials::Omit));
        assert_eq!(
            entry(r#", "credentials": "same-origin""#),
            Ok(Credentials::SameOrigin)
        );
        assert_eq!(
            entry(r#", "credentials": "include""#),
            Ok(Credentials::Include)
        );
        for bad in [r#""Include""#, r#""all""#, "true", "null", "1"] {
            let error = entry(&format!(r#", "credentials": {bad}"#)).unwrap_err();
            assert!(
                error.starts_with(&format!("invalid credentials {bad}: give \"omit\"")),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn timeouts_are_bounded() {
        let entry = |ms: u64| {
            let text = format!(
                r#"{{ "plugins": [ {{ "name": "t", "prefix": "/t", "url": "t.wasm",
                     "timeout_ms": {ms} }} ] }}"#
            );
            Manifest::parse(&text, resolve).unwrap().mounts[0]
                .plugin
                .clone()
                .map(|spec| spec.timeout_ms)
        };
        assert_eq!(entry(1), Ok(1));
        assert_eq!(entry(u64::from(MAX_TIMEOUT_MS)), Ok(MAX_TIMEOUT_MS));
        for bad in [0, u64::from(MAX_TIMEOUT_MS) + 1, 1 << 31, 1 << 40] {
            let error = entry(bad).unwrap_err();
            assert!(error.contains("timeout_ms"), "{bad}: {error}");
        }
    }

    #[test]
    fn fuel_is_metered_by_default_and_bounded() {
        let entry = |extra: &str| {
            let text = format!(
                r#"{{ "plugins": [ {{ "name": "f", "prefix": "/f", "url": "f.wasm" {extra} }} ] }}"#
            );
            Manifest::parse(&text, resolve).unwrap().mounts[0]
                .plugin
                .clone()
                .map(|spec| (spec.fuel, spec.memory_mb))
        };
        assert_eq!(entry(""), Ok((Some(DEFAULT_FUEL), 256)));
        assert_eq!(entry(r#", "fuel": null"#), Ok((None, 256)));
        assert_eq!(
            entry(r#", "fuel": 5000, "memory_mb": 16"#),
            Ok((Some(5000), 16))
        );
        for bad in [
            r#", "fuel": 0"#,
            r#", "fuel": -1"#,
            r#", "fuel": "lots""#,
            r#", "fuel": 1.5"#,
            r#", "memory_mb": 0"#,
            r#", "memory_mb": 4097"#,
        ] {
            let field = if bad.contains("fuel") {
                "fuel"
            } else {
                "memory_mb"
            };
            let error = entry(bad).unwrap_err();
            assert!(
                error.contains(field) || error.contains("invalid"),
                "{bad}: {error}"
            );
        }
        let error = entry(&format!(r#", "fuel": {}"#, MAX_FUEL + 1)).unwrap_err();
        assert!(error.contains("invalid fuel"), "{error}");
    }
}
