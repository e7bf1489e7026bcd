//! What `valor dev` tells open pages, over server-sent events: the plugins they should have
//! (each manifest entry, its `url` carrying `?v=` and a hash of the module and the entry) or
//! the build's error, and a count of changes to the app's other files (a page reloads when it
//! goes up). A page connecting gets the current state at once.

use super::super::plugins::Built;
use super::super::project::Project;
use sha2::{Digest, Sha256};
use std::sync::Mutex;
use tokio::sync::watch;

/// The result of the last build.
#[derive(Debug, Clone)]
pub enum Build {
    /// The entries pages should have in their registry.
    Ready(Vec<serde_json::Value>),
    /// Why the plugins could not be built.
    Failed(String),
}

/// The state, and its subscribers.
pub struct State {
    now: Mutex<Now>,
    sender: watch::Sender<String>,
}

struct Now {
    build: Build,
    /// How many times the app's other files changed.
    file_changes: u64,
}

impl State {
    /// Nothing built yet, and no file changed.
    pub fn new() -> Self {
        let now = Now {
            build: Build::Ready(Vec::new()),
            file_changes: 0,
        };
        let (sender, _) = watch::channel(render(&now));
        Self {
            now: Mutex::new(now),
            sender,
        }
    }

    /// A build finished.
    pub fn set_build(&self, build: Build) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        now.build = build;
        self.sender.send_replace(render(&now));
    }

    /// One of the app's files changed: open pages reload.
    pub fn files_changed(&self) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        now.file_changes += 1;
        self.sender.send_replace(render(&now));
    }

    /// The state as JSON now, and each change.
    pub fn subscribe(&self) -> watch::Receiver<String> {
        self.sender.subscribe()
    }
}

fn render(now: &Now) -> String {
    let files = now.file_changes;
    let json = match &now.build {
        Build::Ready(plugins) => serde_json::json!({ "plugins": plugins, "files": files }),
        Build::Failed(error) => serde_json::json!({ "error": error, "files": files }),
    };
    json.to_string()
}

/// Every entry of the manifest, as a page should register it: a module of the app with
/// `?v=<hash>` on its URL, so that a changed module is a new URL (never a cached copy).
pub fn entries(project: &Project, built: &[Built]) -> Result<Vec<serde_json::Value>, String> {
    let manifest = project.manifest()?;
    let entries = manifest["plugins"].as_array().cloned().unwrap_or_default();
    Ok(entries
        .into_iter()
        .filter(|entry| entry.get("name").is_some_and(|n| n.is_string()))
        .map(|mut entry| {
            let url = entry["url"].as_str().unwrap_or_default().to_owned();
            let Some(file) = project.local_file(&url) else {
                return entry; // a module from elsewhere: as it is
            };
            let bytes = built
                .iter()
                .find(|b| b.plugin.output == file)
                .map(|b| b.bytes.clone())
                .or_else(|| std::fs::read(&file).ok())
                .unwrap_or_default();
            let mut hash = Sha256::new();
            hash.update(&bytes);
            hash.update(entry.to_string());
            let version: String = hash.finalize()[..6]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let path = url.split(['?', '#']).next().unwrap_or_default();
            entry["url"] = format!("{path}?v={version}").into();
            entry
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connecting_page_gets_the_state_and_its_changes() {
        let state = State::new();
        let mut page = state.subscribe();
        state.set_build(Build::Failed("hello does not compile".into()));
        assert!(page.has_changed().unwrap());
        let now: serde_json::Value = serde_json::from_str(&page.borrow_and_update()).unwrap();
        assert_eq!(now["error"], "hello does not compile");
        state.files_changed();
        let now: serde_json::Value = serde_json::from_str(&page.borrow_and_update()).unwrap();
        assert_eq!(now["files"], 1);
        assert_eq!(now["error"], "hello does not compile");
    }

    #[test]
    fn a_changed_module_gets_a_new_url() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("app");
        crate::cli::new::create(&root, "app", crate::cli::template::Language::JavaScript).unwrap();
        let project = Project::find(&root).unwrap();
        let module = project.web().join("plugins/app.mjs");
        std::fs::create_dir_all(module.parent().unwrap()).unwrap();
        std::fs::write(&module, "export default {}").unwrap();
        let first = entries(&project, &[]).unwrap();
        let url = first[0]["url"].as_str().unwrap().to_owned();
        assert!(url.starts_with("plugins/app.mjs?v="), "{url}");
        std::fs::write(&module, "export default { fetch() {} }").unwrap();
        let second = entries(&project, &[]).unwrap();
        assert_ne!(second[0]["url"].as_str().unwrap(), url);
        assert_eq!(second[0]["prefix"], "/api/app");
    }
}
