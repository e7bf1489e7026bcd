//! What a module must export to be a plugin of this ABI, and what a host answers when it does
//! not: each host reads the exports its own way (a JavaScript object, wasmtime's typed
//! functions, a shared library's symbols), and every refusal reads the same.

use valor_abi::{exports, ABI_VERSION, IMPORT_MODULE, OLDEST_ABI_VERSION};

/// A module without `valor_abi_version`.
pub fn not_a_plugin() -> String {
    format!(
        "the module is not a Valor plugin: it does not export `{}` as a function returning i32 \
         (build it with the vlugin SDK and #[vlugin])",
        exports::ABI_VERSION
    )
}

/// `valor_abi_version` failed (the host's description of the failure).
pub fn version_failed(error: &str) -> String {
    format!("`{}` failed: {error}", exports::ABI_VERSION)
}

/// Accepts the ABI version a plugin was built for (as its host reads it: a number, written as
/// JavaScript writes it in the browser), or says what to do.
pub fn check_version(version: Option<u32>, shown: &str) -> Result<(), String> {
    if version.is_some_and(|version| (OLDEST_ABI_VERSION..=ABI_VERSION).contains(&version)) {
        return Ok(());
    }
    Err(format!(
        "the plugin was built for Valor plugin ABI version {shown}, but this runtime speaks \
         versions {OLDEST_ABI_VERSION} and {ABI_VERSION}: rebuild it with a vlugin release for \
         ABI version {ABI_VERSION}"
    ))
}

/// Accepts a module of ABI `version` for plugin `name`, whose entry may set `stream_requests`:
/// only an ABI 4 module reads a streamed body (PROTOCOL.md, section 18.2).
pub fn check_streams_requests(
    version: u32,
    name: &str,
    stream_requests: bool,
) -> Result<(), String> {
    if !stream_requests || version >= 4 {
        return Ok(());
    }
    Err(format!(
        "plugin '{name}' sets stream_requests, which needs ABI 4; its module speaks ABI \
         {version}: rebuild it with a vlugin release for ABI version {ABI_VERSION}, or remove \
         stream_requests from its entry"
    ))
}

/// Accepts the exports a plugin has, or names those it lacks.
pub fn check_present(mut has: impl FnMut(&str) -> bool) -> Result<(), String> {
    let missing: Vec<&str> = exports::REQUIRED
        .into_iter()
        .filter(|name| !has(name))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the plugin does not export {} (build it with #[vlugin])",
        missing.join(", ")
    ))
}

/// Its `memory` export is not a memory the host can use (`what` it must be).
pub fn bad_memory(what: &str) -> String {
    format!("its `{}` export is not a {what}", exports::MEMORY)
}

/// Its export `name` does not have the type the ABI gives it (`why`, as the host sees it).
pub fn wrong_type(name: &str, why: &str) -> String {
    format!("its `{name}` export has the wrong type: {why}")
}

/// Its export `name` takes `got` parameters where the ABI gives it `want`.
pub fn wrong_arity(name: &str, got: u32, want: u32) -> String {
    format!("its `{name}` export takes {got} parameters, the ABI says {want}")
}

/// Its export `name` is not a function.
pub fn not_a_function(name: &str) -> String {
    format!("its `{name}` export is not a function")
}

/// One import of a module, as its host lists them.
#[derive(Debug, Clone, Copy)]
pub struct Import<'a> {
    /// The module it is imported from.
    pub module: &'a str,
    /// Its name in that module.
    pub name: &'a str,
    /// Whether it is a function (the ABI's imports all are).
    pub function: bool,
}

/// Why a module cannot be linked, from what it imports, or `None` if it imports only the ABI's
/// functions: a function of the ABI's module this host lacks (or an ABI name imported as
/// something else than a function) means a plugin built for another ABI version; anything
/// else, a module not built as a plugin.
pub fn refuse_imports<'a>(imports: impl IntoIterator<Item = Import<'a>>) -> Option<String> {
    let unknown: Vec<String> = imports
        .into_iter()
        .filter(|import| {
            import.module != IMPORT_MODULE
                || !valor_abi::imports::ALL.contains(&import.name)
                || !import.function
        })
        .map(|Import { module, name, .. }| format!("{module}.{name}"))
        .collect();
    if unknown.is_empty() {
        return None;
    }
    let newer = unknown
        .iter()
        .any(|name| name.starts_with(&format!("{IMPORT_MODULE}.")));
    let listed = unknown.join(", ");
    Some(if newer {
        format!(
            "it imports {listed}, which this runtime does not provide: the plugin was built for \
             another plugin ABI version than this runtime's ({ABI_VERSION}); rebuild it with a \
             vlugin release for ABI version {ABI_VERSION}, or update the runtime"
        )
    } else {
        format!(
            "it imports {listed}: a plugin may import only the runtime's `{IMPORT_MODULE}` \
             functions (build it with vlugin, without wasm-bindgen or WASI)"
        )
    })
}
