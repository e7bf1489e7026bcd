//! A plugin's module: read from its URL, checked against its `integrity`, compiled, and its
//! imports and memory checked before any of its code runs.

use super::imports;
use super::instance::State;
use crate::native::Library;
use crate::source;
use sha2::Digest;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use valor_abi::{ABI_VERSION, IMPORT_MODULE};
use valor_host::integrity::{self, sri_form, Algorithm};
use valor_host::manifest::{self, PluginSpec};
use valor_host::script;
use wasmtime::{Engine, ExternType, Linker, Module};

/// The engine, its linker, and the modules compiled for it by the SHA-256 of their bytes:
/// plugins mounting the same file (Alice and Bob), or a registration of a module already
/// loaded, share one compilation, as in the browser. A module no plugin holds any more is
/// dropped.
pub struct Modules {
    /// The ABI's imports, defined once for the engine every module is compiled with (its
    /// `engine()`) and shared by every instance.
    linker: Linker<State>,
    compiled: Mutex<HashMap<String, Weak<Module>>>,
    script_engine: ScriptEngine,
    /// Whether native plugins (shared libraries) may be loaded (`--allow-native-plugins`).
    native_plugins: bool,
}

/// The JavaScript engine module (`valor_js.wasm`), which runs `.js` and `.mjs` entries:
/// compiled once, by the first script loaded, and kept for every later one. Cranelift takes
/// most of a second over its megabyte (an `eager` script pays it before the server listens).
struct ScriptEngine {
    source: ScriptEngineSource,
    compiled: tokio::sync::OnceCell<Arc<Module>>,
}

/// Where the JavaScript engine module comes from.
#[derive(Debug, Clone)]
pub enum ScriptEngineSource {
    /// A file (`--js-engine`).
    File(PathBuf),
    /// Bytes built into the program (the `valor` binary embeds the engine).
    Embedded(&'static [u8]),
}

impl Modules {
    /// Modules compiled with `engine`, scripts run by the JavaScript engine from
    /// `script_engine`; native plugins refused until [`Modules::with_native_plugins`].
    pub fn new(engine: Engine, script_engine: ScriptEngineSource) -> Self {
        Self {
            linker: imports::linker(&engine),
            compiled: Mutex::default(),
            script_engine: ScriptEngine {
                source: script_engine,
                compiled: tokio::sync::OnceCell::new(),
            },
            native_plugins: false,
        }
    }

    /// Lets entries name native plugins: trusted code, run in the server's own process.
    pub fn with_native_plugins(mut self, allowed: bool) -> Self {
        self.native_plugins = allowed;
        self
    }

    /// The JavaScript engine, compiled (once: scripts loading together wait for the same
    /// compilation; a failure is tried again by the next).
    async fn script_engine(&self) -> Result<Arc<Module>, String> {
        let ScriptEngine { source, compiled } = &self.script_engine;
        compiled
            .get_or_try_init(|| async {
                let (name, bytes) = match source {
                    ScriptEngineSource::Embedded(bytes) => {
                        (script::ENGINE_FILE.to_owned(), bytes.to_vec())
                    }
                    ScriptEngineSource::File(path) => {
                        let bytes = tokio::fs::read(path).await.map_err(|error| {
                            format!(
                                "the JavaScript engine could not be read from {} ({error}): \
                                 name a {} with --js-engine, or leave --js-engine out to use \
                                 the one built into valor",
                                path.display(),
                                script::ENGINE_FILE
                            )
                        })?;
                        (path.display().to_string(), bytes)
                    }
                };
                let digest = checked_digest(&bytes);
                compiled_module(self, &name, bytes, digest).await
            })
            .await
            .cloned()
    }

    /// The ABI's imports, for instances of the modules compiled here.
    pub fn linker(&self) -> &Linker<State> {
        &self.linker
    }

    fn get(&self, digest: &str) -> Option<Arc<Module>> {
        let mut modules = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        modules.retain(|_, module| module.strong_count() > 0);
        modules.get(digest).and_then(Weak::upgrade)
    }

    fn keep(&self, digest: String, module: &Arc<Module>) {
        let mut modules = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        modules.insert(digest, Arc::downgrade(module));
    }
}

/// What a plugin's instances are made from: a compiled WebAssembly module, or a native
/// plugin's loaded library.
pub enum Code {
    /// A WebAssembly module (a plugin's, or the JavaScript engine for a script), compiled.
    Wasm(Arc<Module>),
    /// A native plugin's shared library, loaded.
    Native(Arc<Library>),
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
pub async fn compile(modules: &Modules, spec: &PluginSpec) -> Result<Compiled, String> {
    let url = &spec.url;
    if spec.is_native() && !modules.native_plugins {
        return Err(manifest::native_not_allowed(url));
    }
    let bytes = source::read(url).await?;
    let digest = checked(spec, &bytes).await?;
    if spec.is_native() {
        let (name, url) = (spec.name.clone(), url.clone());
        // Loading runs the library's initialisers and copies the file: not on the threads
        // that serve requests.
        let library = tokio::task::spawn_blocking(move || Library::load(&name, &url, &bytes))
            .await
            .map_err(|e| format!("loading {} failed: {e}", spec.url))??;
        return Ok(Compiled {
            module: Code::Native(library),
            digest,
            script: None,
        });
    }
    if !script::is_script(url) {
        let module = compiled_module(modules, url, bytes, digest.clone()).await?;
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

/// The SHA-256 of `bytes`, in Subresource Integrity form.
fn checked_digest(bytes: &[u8]) -> String {
    sri_form(Algorithm::Sha256, &sha2::Sha256::digest(bytes))
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

/// The module of `bytes` (whose SHA-256 is `digest`), compiled once for every plugin.
async fn compiled_module(
    modules: &Modules,
    url: &str,
    bytes: Vec<u8>,
    digest: String,
) -> Result<Arc<Module>, String> {
    let module = match modules.get(&digest) {
        Some(module) => module,
        None => {
            let engine = modules.linker.engine().clone();
            // Compiling takes milliseconds to seconds of CPU: not on the threads that serve
            // requests.
            let module = tokio::task::spawn_blocking(move || Module::new(&engine, bytes))
                .await
                .map_err(|e| format!("compiling {url} failed: {e}"))?
                .map_err(|e| format!("{url} is not a valid WebAssembly module: {e}"))?;
            let module = Arc::new(module);
            modules.keep(digest, &module);
            module
        }
    };
    Ok(module)
}

/// A module may import only the ABI's functions (their signatures are checked when it is
/// linked): anything else is most often a plugin built for another ABI version.
fn check_imports(module: &Module) -> Result<(), String> {
    let foreign: Vec<String> = module
        .imports()
        .filter(|import| {
            import.module() != IMPORT_MODULE
                || !valor_abi::imports::ALL.contains(&import.name())
                || !matches!(import.ty(), ExternType::Func(_))
        })
        .map(|import| format!("{}.{}", import.module(), import.name()))
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    let listed = foreign.join(", ");
    if foreign
        .iter()
        .any(|name| name.starts_with(&format!("{IMPORT_MODULE}.")))
    {
        Err(format!(
            "it imports {listed}, which this runtime does not provide: the plugin was built for \
             another plugin ABI version than this runtime's ({ABI_VERSION}); rebuild it with a \
             vlugin release for ABI version {ABI_VERSION}, or update the runtime"
        ))
    } else {
        Err(format!(
            "it imports {listed}: a plugin may import only the runtime's `{IMPORT_MODULE}` \
             functions (build it with vlugin, without wasm-bindgen or WASI)"
        ))
    }
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
