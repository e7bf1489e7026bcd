//! Compiled code kept across restarts: wasmtime's serialised modules and components, one file
//! each in a directory of this user's (`--cache-dir`), named by a key of everything that
//! changes the code (see [`EngineCache::key`]). A file is trusted only in a directory that no
//! other user can write to ([`directory`]), and only when its header matches its key and the
//! SHA-256 of its code ([`file`]); anything else is ignored, compiled again and rewritten.

mod directory;
mod file;

pub use directory::Setting;

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wasmtime::Engine;

/// The directory compiled code is kept in, if there is a trusted one.
pub struct CodeCache {
    dir: Option<PathBuf>,
}

/// What is compiled: core modules and components are told apart by their files' names as well
/// as by their engines.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A core WebAssembly module (a plugin's, or the JavaScript engine).
    Module,
    /// A WASI 0.2 component.
    Component,
}

impl Kind {
    fn extension(self) -> &'static str {
        match self {
            Kind::Module => "module",
            Kind::Component => "component",
        }
    }
}

impl CodeCache {
    /// The cache `setting` names, or none (said in the log) when it is off or its directory
    /// cannot be trusted.
    pub fn open(setting: &Setting) -> Arc<Self> {
        let dir = directory::trusted(setting);
        if let Some(dir) = &dir {
            tracing::info!("compiled code is kept in {}", dir.display());
        }
        Arc::new(Self { dir })
    }

    /// No cache: everything is compiled at each start.
    pub fn off() -> Arc<Self> {
        Arc::new(Self { dir: None })
    }

    /// The part of the cache for the code `engine` compiles, of `kind`.
    pub fn for_engine(self: &Arc<Self>, engine: &Engine, kind: Kind) -> EngineCache {
        EngineCache {
            cache: Arc::clone(self),
            engine: fingerprint(engine),
            kind,
        }
    }
}

/// The files of one engine's compiled code.
#[derive(Clone)]
pub struct EngineCache {
    cache: Arc<CodeCache>,
    /// The SHA-256 of what makes this engine's code differ from another's (see
    /// [`fingerprint`]).
    engine: [u8; 32],
    kind: Kind,
}

impl EngineCache {
    /// The key of the code compiled from bytes whose SHA-256 is `digest` (Subresource
    /// Integrity form): those bytes, the engine's settings, wasmtime's version and the CPU's
    /// features (all in [`fingerprint`]), and the kind.
    fn key(&self, digest: &str) -> [u8; 32] {
        let mut key = Sha256::new();
        key.update(b"valor compiled code\0");
        key.update(self.kind.extension());
        key.update([0]);
        key.update(self.engine);
        key.update(digest.as_bytes());
        key.finalize().into()
    }

    fn path(&self, key: &[u8; 32]) -> Option<PathBuf> {
        let dir = self.cache.dir.as_ref()?;
        let name: String = key.iter().map(|byte| format!("{byte:02x}")).collect();
        Some(dir.join(format!("{name}.{}", self.kind.extension())))
    }

    /// The code compiled from the bytes of `digest` (from `url`), if it was kept:
    /// `deserialize` makes it from the file's bytes once their header is checked. A file that
    /// does not check, or that `deserialize` refuses, is logged and ignored (and removed:
    /// [`EngineCache::keep`] writes it anew).
    pub fn load<T>(
        &self,
        url: &str,
        digest: &str,
        deserialize: impl FnOnce(&[u8]) -> Result<T, String>,
    ) -> Option<T> {
        let key = self.key(digest);
        let path = self.path(&key)?;
        let bytes = match file::read(&path, &key) {
            Ok(Some(code)) => code,
            Ok(None) => return None,
            Err(why) => return ignored(url, &path, &why),
        };
        match deserialize(bytes.code()) {
            Ok(compiled) => {
                tracing::info!("{url}: compiled code loaded from {}", path.display());
                Some(compiled)
            }
            Err(why) => ignored(url, &path, &why),
        }
    }

    /// Keeps `serialized`, the code compiled from the bytes of `digest` (from `url`), for the
    /// next start; a failure is logged (the code is compiled again next time).
    pub fn keep(&self, url: &str, digest: &str, serialized: &[u8]) {
        let key = self.key(digest);
        let Some(path) = self.path(&key) else {
            return;
        };
        match file::write(&path, &key, serialized) {
            Ok(()) => tracing::debug!("{url}: compiled code kept in {}", path.display()),
            Err(why) => tracing::warn!(
                "{url}: its compiled code could not be kept in {}: {why}",
                path.display()
            ),
        }
    }

    /// Whether compiled code is kept at all (no need to serialise it otherwise).
    pub fn is_on(&self) -> bool {
        self.cache.dir.is_some()
    }
}

/// A kept file that was not used: said, and removed so that it is written anew.
fn ignored<T>(url: &str, path: &Path, why: &str) -> Option<T> {
    tracing::warn!(
        "{url}: the compiled code in {} was ignored ({why}): compiling it again",
        path.display()
    );
    let _ = std::fs::remove_file(path);
    None
}

/// The SHA-256 of what wasmtime says changes compiled code (its
/// `precompile_compatibility_hash`: target, CPU features, compiler flags, settings, version).
fn fingerprint(engine: &Engine) -> [u8; 32] {
    use std::hash::Hash;
    let mut hasher = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.0.finalize().into()
}

/// A `Hasher` that feeds SHA-256: the same engine gives the same fingerprint in every run and
/// every build of valor (std's hasher promises neither).
struct Sha256Hasher(Sha256);

impl std::hash::Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
    }
}
