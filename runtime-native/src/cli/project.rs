//! A project made by `valor new`: its root (the directory holding `web/plugins.json`), its
//! manifest, and each manifest entry's source under `plugins/`: a Rust crate
//! `plugins/<name>/`, or a script `plugins/<name>.mjs` / `plugins/<name>.js`. An entry with
//! neither (a module from elsewhere) is served as it is.

use std::path::{Path, PathBuf};
use valor_host::manifest::Manifest;

/// Where the app's files are, below the root.
pub const WEB_DIR: &str = "web";
/// The manifest, below the app's files.
pub const MANIFEST: &str = "plugins.json";
/// Where plugins' sources are, below the root.
pub const SOURCES_DIR: &str = "plugins";

/// A project.
#[derive(Debug, Clone)]
pub struct Project {
    /// The directory holding `web/plugins.json`.
    pub root: PathBuf,
}

/// What a manifest entry is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A crate (its directory), built to wasm32.
    Crate(PathBuf),
    /// A script, checked and copied.
    Script(PathBuf),
}

/// A manifest entry that this project builds.
#[derive(Debug, Clone)]
pub struct Plugin {
    /// The entry's `name`.
    pub name: String,
    /// What it is built from.
    pub source: Source,
    /// Where the built file goes: the entry's `url`, under `web/`.
    pub output: PathBuf,
}

impl Project {
    /// The project holding `start` (it, or the nearest directory above it with
    /// `web/plugins.json`).
    pub fn find(start: &Path) -> Result<Self, String> {
        let start = start
            .canonicalize()
            .map_err(|e| format!("{} cannot be read: {e}", start.display()))?;
        start
            .ancestors()
            .find(|dir| dir.join(WEB_DIR).join(MANIFEST).is_file())
            .map(|root| Self {
                root: root.to_owned(),
            })
            .ok_or_else(|| {
                format!(
                    "no Valor project in {} or above it (none holds {WEB_DIR}/{MANIFEST}): run \
                     this inside a project made by `valor new NAME`",
                    start.display()
                )
            })
    }

    /// The app's files: `web/`.
    pub fn web(&self) -> PathBuf {
        self.root.join(WEB_DIR)
    }

    /// The manifest: `web/plugins.json`.
    pub fn manifest_path(&self) -> PathBuf {
        self.web().join(MANIFEST)
    }

    /// The plugins' sources: `plugins/`.
    pub fn sources(&self) -> PathBuf {
        self.root.join(SOURCES_DIR)
    }

    /// The manifest, as JSON, once every entry passed the checks both hosts make (a typo in a
    /// field would otherwise build, then mount nothing at that prefix).
    pub fn manifest(&self) -> Result<serde_json::Value, String> {
        let path = self.manifest_path();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("{} cannot be read: {e}", path.display()))?;
        let manifest: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not valid JSON ({e}): fix it", path.display()))?;
        if !manifest.get("plugins").is_some_and(|p| p.is_array()) {
            return Err(format!(
                "{} has no \"plugins\" list: it should look like {{\"plugins\": [{{\"name\": \
                 ..., \"prefix\": ..., \"url\": ...}}]}}",
                path.display()
            ));
        }
        let checked = Manifest::parse(&text, |url| Ok(url.to_owned()))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let problems: Vec<String> = checked
            .mounts
            .iter()
            .filter_map(|mount| {
                let error = mount.plugin.as_ref().err()?;
                Some(format!("the entry at {}: {error}", mount.prefix))
            })
            .chain(checked.problems.iter().cloned())
            .collect();
        if !problems.is_empty() {
            return Err(format!(
                "{} has invalid entries: fix them\n  {}",
                path.display(),
                problems.join("\n  ")
            ));
        }
        Ok(manifest)
    }

    /// The manifest's entries, and for each the source this project builds it from (`None`:
    /// served as it is).
    pub fn plugins(&self) -> Result<Vec<(serde_json::Value, Option<Plugin>)>, String> {
        let manifest = self.manifest()?;
        let entries = manifest["plugins"].as_array().cloned().unwrap_or_default();
        Ok(entries
            .into_iter()
            .map(|entry| {
                let plugin = self.plugin(&entry);
                (entry, plugin)
            })
            .collect())
    }

    /// What the project builds `entry` from, if anything.
    fn plugin(&self, entry: &serde_json::Value) -> Option<Plugin> {
        let name = entry.get("name")?.as_str()?;
        let url = entry.get("url")?.as_str()?;
        let output = self.local_file(url)?;
        let sources = self.sources();
        let source = if url.ends_with(".wasm") {
            let dir = sources.join(name);
            dir.join("Cargo.toml")
                .is_file()
                .then_some(Source::Crate(dir))?
        } else {
            ["mjs", "js"]
                .iter()
                .map(|extension| sources.join(format!("{name}.{extension}")))
                .find(|path| path.is_file())
                .map(Source::Script)?
        };
        Some(Plugin {
            name: name.to_owned(),
            source,
            output,
        })
    }

    /// The file under `web/` that a relative `url` of the manifest names (`None` for a URL
    /// elsewhere, or one leaving `web/`).
    pub fn local_file(&self, url: &str) -> Option<PathBuf> {
        if url.contains("://") || url.starts_with("//") {
            return None;
        }
        let path = url.split(['?', '#']).next()?;
        let path = path.strip_prefix('/').unwrap_or(path);
        let mut file = self.web();
        for segment in path.split('/') {
            match segment {
                "" | "." => {}
                ".." => return None,
                segment => file.push(segment),
            }
        }
        Some(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::new::create;
    use crate::cli::template::Language;

    #[test]
    fn entries_are_matched_with_their_sources() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("app");
        create(&root, "app", Language::Rust).unwrap();
        let project = Project::find(&root.join("plugins/app/src")).unwrap();
        assert_eq!(project.root, root.canonicalize().unwrap());
        let plugins = project.plugins().unwrap();
        let plugin = plugins[0].1.as_ref().unwrap();
        assert_eq!(plugin.source, Source::Crate(project.sources().join("app")));
        assert_eq!(plugin.output, project.web().join("plugins/app.wasm"));

        let elsewhere = tempfile::tempdir().unwrap();
        let error = Project::find(elsewhere.path()).unwrap_err();
        assert!(error.contains("valor new"), "{error}");
    }

    #[test]
    fn a_manifest_with_an_invalid_entry_is_refused_with_its_fault() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("app");
        create(&root, "app", Language::Rust).unwrap();
        let project = Project::find(&root).unwrap();
        std::fs::write(
            project.manifest_path(),
            r#"{ "plugins": [
                { "name": "app", "prefx": "/api/app", "url": "plugins/app.wasm" },
                { "name": "ok", "prefix": "/api/ok", "url": "plugins/ok.wasm" },
                { "name": "twice", "prefix": "/api/ok", "url": "plugins/ok.wasm" } ] }"#,
        )
        .unwrap();
        let error = project.plugins().unwrap_err();
        assert!(error.contains("has invalid entries"), "{error}");
        assert!(error.contains("unknown field `prefx`"), "{error}");
        assert!(
            error.contains("the prefix /api/ok is already mounted"),
            "{error}"
        );
    }

    #[test]
    fn urls_outside_the_app_are_not_built() {
        let project = Project {
            root: PathBuf::from("/p"),
        };
        assert_eq!(
            project.local_file("plugins/a.wasm?v=1"),
            Some(PathBuf::from("/p/web/plugins/a.wasm"))
        );
        assert_eq!(project.local_file("https://cdn.example/a.wasm"), None);
        assert_eq!(project.local_file("../secret.wasm"), None);
    }
}
