//! `valor serve`: reads the manifest, opens the store, mounts the plugins and serves them.

use crate::app::{App, Shared};
use crate::code_cache::CodeCache;
use crate::files::Files;
use crate::plugin::Modules;
use crate::registry::{Access, Registry};
use crate::storage::Storage;
use crate::{server, source};
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use valor_host::manifest::Manifest;

/// What `valor serve` is told.
#[derive(Debug, Clone)]
pub struct Options {
    /// The manifest: a path, or an http(s) URL.
    pub manifest: String,
    /// Where to listen (port 0: any free port).
    pub listen: SocketAddr,
    /// The public origin plugins are told (`origin()`, `"self"`); by default
    /// `http://<the address listened on>`.
    pub origin: Option<String>,
    /// The embedded store's file.
    pub data: PathBuf,
    /// A Redis URL: the store shared with other servers, instead of the file.
    pub redis: Option<String>,
    /// Instances per plugin, at most.
    pub instances: usize,
    /// Whether to serve the run-time registry (`-w`).
    pub registry: bool,
    /// The JavaScript engine module (`valor_js.wasm`) that runs `.js` and `.mjs` plugins.
    pub script_engine: ScriptEngineSource,
    /// The app's files, served at every path no plugin's prefix claims (`--static`).
    pub static_dir: Option<PathBuf>,
    /// Whether entries may name native plugins, shared libraries run in the server's own
    /// process (`--allow-native-plugins`).
    pub allow_native_plugins: bool,
    /// Where compiled code is kept across restarts (`--cache-dir`, `--no-cache`).
    pub code_cache: CacheSetting,
}

pub use crate::code_cache::Setting as CacheSetting;
pub use crate::plugin::ScriptEngineSource;

/// Serves until `shutdown` completes. `ready` is told the address listened on, once requests
/// can be served.
pub async fn run(
    options: Options,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    let location = source::locate(&options.manifest)?;
    let text = source::read(location.as_str()).await?;
    let text = String::from_utf8(text).map_err(|_| format!("{location} is not UTF-8 text"))?;
    let manifest = Manifest::parse(&text, |url| source::resolve(&location, url))
        .map_err(|e| format!("{location}: {e}"))?;
    for problem in &manifest.problems {
        tracing::error!("{location}: {problem}");
    }
    let files = options.static_dir.as_deref().map(Files::new).transpose()?;
    if let (Some(files), None) = (&files, &options.redis) {
        if lies_inside(&options.data, files.root()) {
            return Err(format!(
                "the store's file {} is inside the static directory {}, which would let anyone \
                 download it: give --data a path outside it (or --static another directory)",
                options.data.display(),
                files.root().display()
            ));
        }
    }
    let storage = match &options.redis {
        Some(url) => Storage::connect_redis(url).await?,
        None => Storage::open_file(&options.data)?,
    };
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| {
            format!(
                "listening on {} failed: {e} (choose another address with --listen)",
                options.listen
            )
        })?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let origin = options
        .origin
        .clone()
        .unwrap_or_else(|| format!("http://{address}"))
        .trim_end_matches('/')
        .to_owned();
    let shared = Shared {
        origin,
        modules: Arc::new(
            Modules::new(
                engine()?,
                options.script_engine.clone(),
                &CodeCache::open(&options.code_cache),
            )
            .with_native_plugins(options.allow_native_plugins),
        ),
        storage,
        client: client()?,
        instances: options.instances,
    };
    tracing::info!(
        "{} plugins from {location}; data: {}",
        manifest.mounts.len(),
        shared.storage.describe()
    );
    let registry = match (options.registry, &manifest.registry) {
        (true, settings) => {
            let settings = settings.clone().unwrap_or_default();
            let registry = Registry::new(
                settings,
                location.clone(),
                shared.storage.clone(),
                Access::from_env(),
            );
            tracing::info!(
                "the plugin registry is at {}, open {}",
                registry.prefix(),
                registry.access().describe()
            );
            Some(registry)
        }
        (false, Some(_)) => {
            tracing::info!(
                "the manifest turns the plugin registry on; the server serves it only with -w"
            );
            None
        }
        (false, None) => None,
    };
    if let Some(files) = &files {
        tracing::info!("the app's files: {}", files.root().display());
    }
    let app = App::new(shared, manifest, registry, files).await;
    tracing::info!("plugins are told they are served at {}", app.origin());
    app.prepare_script_engine();
    app.preload().await;
    ready(address);
    server::serve(listener, app, shutdown).await;
    Ok(())
}

/// Whether `path` (which may not exist yet) is inside `dir` (canonical): its nearest existing
/// ancestor is resolved, links and all, and the rest taken as written.
fn lies_inside(path: &Path, dir: &Path) -> bool {
    let Ok(path) = std::path::absolute(path) else {
        return false;
    };
    let mut rest = Vec::new();
    let mut existing = path.as_path();
    let mut real = loop {
        if let Ok(real) = existing.canonicalize() {
            break real;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return false,
        }
    };
    for name in rest.iter().rev() {
        real.push(name);
    }
    real.starts_with(dir)
}

/// Stack for the wasm of a call: 2 MiB, room for the JavaScript engine's recursion (about 1 KiB
/// of it per level of a script's recursion, which the engine stops by itself at 128 KiB of its
/// own stack), well inside the runtime's threads' stacks ([`THREAD_STACK_BYTES`]).
const MAX_WASM_STACK_BYTES: usize = 2 << 20;

/// The stack of the threads that run plugins.
pub const THREAD_STACK_BYTES: usize = 8 << 20;

/// The engine every plugin is compiled for (see [`engine_config`]).
fn engine() -> Result<wasmtime::Engine, String> {
    wasmtime::Engine::new(&engine_config()).map_err(|e| format!("starting wasmtime failed: {e}"))
}

/// What every plugin is compiled for: fuel counted, a deeper stack than wasmtime's default
/// (512 KiB), everything else wasmtime's defaults.
pub(crate) fn engine_config() -> wasmtime::Config {
    let mut config = wasmtime::Config::new();
    config.consume_fuel(true);
    config.max_wasm_stack(MAX_WASM_STACK_BYTES);
    config
}

/// Plugins' outbound client: no redirects followed (each hop would have to pass the allowlist,
/// and the browser host cannot check them), no cookies.
fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("starting the HTTP client failed: {e}"))
}
pub use crate::server::{http1_builder, shutdown_signal, HEADER_TIMEOUT};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_inside_the_static_directory_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let web = dir.path().join("web");
        std::fs::create_dir(&web).unwrap();
        let root = web.canonicalize().unwrap();
        assert!(lies_inside(&web.join("valor-data/kv.redb"), &root));
        assert!(lies_inside(&web.join("kv.redb"), &root));
        assert!(!lies_inside(&dir.path().join("valor-data/kv.redb"), &root));
        assert!(!lies_inside(&web.join("../kv.redb"), &root));
        #[cfg(unix)]
        {
            // A link into the directory counts as the directory.
            std::os::unix::fs::symlink(&web, dir.path().join("alias")).unwrap();
            assert!(lies_inside(&dir.path().join("alias/kv.redb"), &root));
        }
    }
}
