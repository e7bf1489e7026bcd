//! A plugin's module: read from its URL, checked against its `integrity`, compiled (once for
//! every plugin, by `Modules`), and its imports and memory checked before any of its code runs.

use super::modules::Modules;
use crate::component::Component;
use crate::host::PluginContext;
use crate::native::Library;
use crate::source;
use sha2::Digest;
use std::sync::Arc;
use valor_host::guest::exports::{refuse_imports, Import};
use valor_host::integrity::{self, sri_form, Algorithm};
use valor_host::manifest::{self, PluginSpec};
use valor_host::script;
use wasmtime::{ExternType, Module};

/// What a plugin's instances are made from: a compiled WebAssembly module, or a native
/// plugin's loaded library.
pub enum Code {
    /// A WebAssembly module (a plugin's, or the JavaScript engine for a script), compiled.
    Wasm(Arc<Module>),
    /// A native plugin's shared library, loaded.
    Native(Arc<Library>),
    /// A WASI 0.2 component, compiled and linked.
    Component(Arc<Component>),
}

/// What a plugin's instances are made from.
pub struct Compiled {
    /// The module, or the library, its instances are made from.
    pub module: Code,
    /// The SHA-256 of the entry's file (Subresource Integrity form).
    pub digest: String,
    /// For a JavaScript plugin, the engine's init config (with the script); else none.
    pub script: Option<Vec<u8>>,
}

/// The entry's module, compiled, or for a script the JavaScript engine's.
pub async fn compile(
    modules: &Modules,
    spec: &PluginSpec,
    context: &Arc<PluginContext>,
) -> Result<Compiled, String> {
    let url = &spec.url;
    if spec.is_native() && !modules.native_plugins() {
        return Err(manifest::native_not_allowed(url));
    }
    let bytes = source::read(url).await?;
    let digest = checked(spec, &bytes).await?;
    if spec.is_native() {
        let (name, url, streams) = (spec.name.clone(), url.clone(), spec.stream_requests);
        // Loading runs the library's initialisers and copies the file: not on the threads
        // that serve requests.
        let library =
            tokio::task::spawn_blocking(move || Library::load(&name, &url, &bytes, streams))
                .await
                .map_err(|e| format!("loading {} failed: {e}", spec.url))??;
        return Ok(Compiled {
            module: Code::Native(library),
            digest,
            script: None,
        });
    }
    if valor_host::component::is_component(&bytes) {
        if spec.stream_requests {
            return Err(valor_host::component::no_stream_requests(url));
        }
        let component = modules
            .compile_component(url, bytes, digest.clone())
            .await?;
        component
            .check_memory(context)
            .await
            .map_err(|reason| format!("{url} was refused: {reason}"))?;
        return Ok(Compiled {
            module: Code::Component(component),
            digest,
            script: None,
        });
    }
    if !script::is_script(url) {
        let module = modules.compile(url, bytes, digest.clone()).await?;
        check_module(&module, spec)?;
        return Ok(Compiled {
            module: Code::Wasm(module),
            digest,
            script: None,
        });
    }
    let source = script::source_text(url, bytes)?;
    let module = modules
        .script_engine()
        .await
        .map_err(|reason| format!("{url} is a JavaScript plugin, and {reason}"))?;
    check_module(&module, spec)?;
    Ok(Compiled {
        module: Code::Wasm(module),
        digest,
        script: Some(script::engine_config(spec, &source)),
    })
}

fn check_module(module: &Module, spec: &PluginSpec) -> Result<(), String> {
    check_imports(module)?;
    check_memory(module, spec.memory_mb)
        .map_err(|reason| format!("{} was refused: {reason}", spec.url))
}

/// The entry's file checked against its `integrity`; its SHA-256.
async fn checked(spec: &PluginSpec, bytes: &[u8]) -> Result<String, String> {
    let url = &spec.url;
    integrity::check(spec.integrity.as_ref(), |algorithm| {
        let digest = match algorithm {
            Algorithm::Sha256 => sha2::Sha256::digest(bytes).to_vec(),
            Algorithm::Sha384 => sha2::Sha384::digest(bytes).to_vec(),
            Algorithm::Sha512 => sha2::Sha512::digest(bytes).to_vec(),
        };
        std::future::ready(Ok(sri_form(algorithm, &digest)))
    })
    .await
    .map_err(|reason| format!("{url} was refused: {reason}"))
}

/// A module may import only the ABI's functions (their signatures are checked when it is
/// linked): anything else is most often a plugin built for another ABI version.
fn check_imports(module: &Module) -> Result<(), String> {
    let imports = module.imports().map(|import| Import {
        module: import.module(),
        name: import.name(),
        function: matches!(import.ty(), ExternType::Func(_)),
    });
    refuse_imports(imports).map_or(Ok(()), Err)
}

/// A module whose memory starts larger than its `memory_mb` is refused before it runs.
fn check_memory(module: &Module, memory_mb: u32) -> Result<(), String> {
    for export in module.exports() {
        if let ExternType::Memory(memory) = export.ty() {
            if memory.is_64() || memory.is_shared() || memory.page_size() != 1 << 16 {
                return Err(
                    "its memory is 64-bit, shared or has custom pages, which plugins may not use"
                        .into(),
                );
            }
            let initial_mb = (memory.minimum() << 16) >> 20;
            if memory.minimum() << 16 > u64::from(memory_mb) << 20 {
                return Err(format!(
                    "its memory starts at {initial_mb} MiB, more than its memory_mb allows ({memory_mb} MiB)"
                ));
            }
        }
    }
    Ok(())
}
