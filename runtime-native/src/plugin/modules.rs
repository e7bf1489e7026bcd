//! The engine every module is compiled with, its linker, and the modules compiled for it,
//! shared by the plugins that mount the same file: each is compiled once per server.

use super::imports;
use super::instance::State;
use crate::code_cache::{CodeCache, EngineCache, Kind};
use crate::component::{self, Component};
use sha2::Digest;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use valor_host::integrity::{sri_form, Algorithm};
use valor_host::script;
use wasmtime::{Engine, Linker, Module};

/// The engine, its linker, and the modules compiled for it by the SHA-256 of their bytes:
/// plugins mounting the same file (Alice and Bob), or a registration of a module already
/// loaded, share one compilation, as in the browser. A module no plugin holds any more is
/// dropped. What is compiled is also kept on disk, for the next start (`on_disk`).
pub struct Modules {
    /// The ABI's imports, defined once for the engine every module is compiled with (its
    /// `engine()`) and shared by every instance.
    linker: Linker<State>,
    compiled: Kept<Module>,
    on_disk: EngineCache,
    /// The imports of components, and the components compiled, as for modules.
    component_linker: Arc<wasmtime::component::Linker<component::State>>,
    components: Kept<Component>,
    components_on_disk: EngineCache,
    /// Why the components that failed to compile or link did, by digest: the same bytes fail
    /// alike, and compiling a large one again at each retry of its plugin took seconds of CPU.
    failed_components: Mutex<HashMap<String, String>>,
    script_engine: ScriptEngine,
    /// Whether native plugins (shared libraries) may be loaded (`--allow-native-plugins`).
    native_plugins: bool,
}

/// How many failed components' errors are kept (a registry could offer endless broken ones).
const MAX_FAILED_COMPONENTS: usize = 64;

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
    /// Modules compiled with `engine` (and kept in `code_cache`), scripts run by the
    /// JavaScript engine from `script_engine`; native plugins refused until
    /// [`Modules::with_native_plugins`].
    pub fn new(
        engine: Engine,
        script_engine: ScriptEngineSource,
        code_cache: &Arc<CodeCache>,
    ) -> Self {
        let component_linker = component::new_linker().expect("wasmtime starts");
        Self {
            on_disk: code_cache.for_engine(&engine, Kind::Module),
            components_on_disk: code_cache.for_engine(component_linker.engine(), Kind::Component),
            component_linker,
            linker: imports::linker(&engine),
            compiled: Kept::default(),
            components: Kept::default(),
            failed_components: Mutex::default(),
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

    /// Whether entries may name native plugins.
    pub fn native_plugins(&self) -> bool {
        self.native_plugins
    }

    /// Compiles the JavaScript engine (or loads it from the disk cache) in the background, so
    /// that the first request to a script waits only for what is left of it.
    pub fn prepare_script_engine(self: &Arc<Self>) {
        let modules = Arc::clone(self);
        tokio::spawn(async move {
            if let Err(why) = modules.script_engine().await {
                tracing::error!("{why}");
            }
        });
    }

    /// The JavaScript engine, compiled (once: scripts loading together wait for the same
    /// compilation; a failure is tried again by the next).
    pub async fn script_engine(&self) -> Result<Arc<Module>, String> {
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
                let digest = sri_form(Algorithm::Sha256, &sha2::Sha256::digest(&bytes));
                self.compile(&name, bytes, digest).await
            })
            .await
            .cloned()
    }

    /// The ABI's imports, for instances of the modules compiled here.
    pub fn linker(&self) -> &Linker<State> {
        &self.linker
    }

    /// The module of `bytes` (from `url`, whose SHA-256 is `digest`), compiled once for every
    /// plugin.
    pub async fn compile(
        &self,
        url: &str,
        bytes: Vec<u8>,
        digest: String,
    ) -> Result<Arc<Module>, String> {
        if let Some(module) = self.compiled.get(&digest) {
            return Ok(module);
        }
        let (engine, on_disk) = (self.linker.engine().clone(), self.on_disk.clone());
        let (name, key) = (url.to_owned(), digest.clone());
        // Compiling takes milliseconds to seconds of CPU: not on the threads that serve
        // requests.
        let module = tokio::task::spawn_blocking(move || {
            // SAFETY: wasmtime runs the code it deserialises: `load` hands over only the bytes
            // of a file that this user alone can write, whose header names this key and the
            // SHA-256 of these bytes (see code_cache), which valor wrote with
            // `Module::serialize`; wasmtime checks its version and settings itself.
            let kept = on_disk.load(&name, &key, |code| {
                unsafe { Module::deserialize(&engine, code) }.map_err(|e| format!("{e:#}"))
            });
            match kept {
                Some(module) => Ok::<_, String>(module),
                None => {
                    let module = Module::new(&engine, bytes)
                        .map_err(|e| format!("{name} is not a valid WebAssembly module: {e}"))?;
                    keep_on_disk(on_disk, name, key, module.clone(), Module::serialize);
                    Ok(module)
                }
            }
        })
        .await
        .map_err(|e| format!("compiling {url} failed: {e}"))??;
        let module = Arc::new(module);
        self.compiled.keep(digest, &module);
        Ok(module)
    }

    /// The component of `bytes` (from `url`, whose SHA-256 is `digest`), compiled and linked
    /// once for every plugin.
    pub async fn compile_component(
        &self,
        url: &str,
        bytes: Vec<u8>,
        digest: String,
    ) -> Result<Arc<Component>, String> {
        if let Some(component) = self.components.get(&digest) {
            return Ok(component);
        }
        let failed = (self.failed_components.lock())
            .unwrap_or_else(|p| p.into_inner())
            .get(&digest)
            .cloned();
        if let Some(why) = failed {
            return Err(why);
        }
        let (linker, on_disk) = (
            Arc::clone(&self.component_linker),
            self.components_on_disk.clone(),
        );
        let (name, key) = (url.to_owned(), digest.clone());
        let compiled = tokio::task::spawn_blocking(move || {
            let engine = linker.engine();
            // SAFETY: as for a module's (see `compile`), written by `Component::serialize`.
            let kept = on_disk.load(&name, &key, |code| {
                unsafe { wasmtime::component::Component::deserialize(engine, code) }
                    .map_err(|e| format!("{e:#}"))
            });
            let compiled = match kept {
                Some(compiled) => compiled,
                None => {
                    let compiled = component::compile(engine, &name, &bytes)?;
                    let serialize = wasmtime::component::Component::serialize;
                    keep_on_disk(on_disk, name.clone(), key, compiled.clone(), serialize);
                    compiled
                }
            };
            Component::link(&linker, &name, &compiled)
        })
        .await
        .map_err(|e| format!("compiling {url} failed: {e}"))?;
        let component = match compiled {
            Ok(component) => component,
            Err(why) => {
                let mut failed = self
                    .failed_components
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                if failed.len() >= MAX_FAILED_COMPONENTS {
                    failed.clear();
                }
                failed.insert(digest, why.clone());
                return Err(why);
            }
        };
        let component = Arc::new(component);
        self.components.keep(digest, &component);
        Ok(component)
    }
}

/// Writes `compiled` (from `url`, the bytes of `digest`) to the disk cache, after it was
/// handed to the plugin that waits for it.
fn keep_on_disk<T: Send + 'static>(
    on_disk: EngineCache,
    url: String,
    digest: String,
    compiled: T,
    serialize: fn(&T) -> wasmtime::Result<Vec<u8>>,
) {
    if !on_disk.is_on() {
        return;
    }
    tokio::task::spawn_blocking(move || match serialize(&compiled) {
        Ok(code) => on_disk.keep(&url, &digest, &code),
        Err(e) => tracing::warn!("{url}: its compiled code could not be serialised: {e:#}"),
    });
}

/// What was compiled, by the SHA-256 of its bytes, for as long as a plugin holds it.
struct Kept<T>(Mutex<HashMap<String, Weak<T>>>);

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Self(Mutex::default())
    }
}

impl<T> Kept<T> {
    /// What was compiled from the bytes of `digest`, if a plugin still holds it (what none
    /// holds is forgotten here).
    fn get(&self, digest: &str) -> Option<Arc<T>> {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|_, compiled| compiled.strong_count() > 0);
        kept.get(digest).and_then(Weak::upgrade)
    }

    fn keep(&self, digest: String, compiled: &Arc<T>) {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        kept.insert(digest, Arc::downgrade(compiled));
    }
}
