//! Watching the project: a change under `plugins/` or to the manifest rebuilds the plugins;
//! a change to another of the app's files under `web/` reloads open pages. What the build
//! writes into `web/` (modules, Valor's worker and runtime) is not a change.

use super::super::assets;
use super::super::project::Project;
use super::state::State;
use notify::{EventKind, RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// Changes closer together than this are one change (an editor saving several files).
const SETTLE: Duration = Duration::from_millis(150);

/// What a change calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Change {
    None,
    Files,
    Plugins,
}

/// Watches `project` until the returned watcher is dropped.
pub fn start(project: Project, state: Arc<State>) -> Result<notify::RecommendedWatcher, String> {
    let (sender, changes) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(sender)
        .map_err(|e| format!("watching the project's files failed: {e}"))?;
    for dir in [project.sources(), project.web()] {
        if dir.is_dir() {
            watcher
                .watch(&dir, RecursiveMode::Recursive)
                .map_err(|e| format!("watching {} failed: {e}", dir.display()))?;
        }
    }
    std::thread::spawn(move || {
        while let Ok(event) = changes.recv() {
            let mut change = classify(&project, event);
            // Let the burst of one save end, taking its other changes too.
            while let Ok(event) = changes.recv_timeout(SETTLE) {
                change = change.max(classify(&project, event));
            }
            match change {
                Change::None => {}
                Change::Files => state.files_changed(),
                Change::Plugins => {
                    super::say("a plugin's source or the manifest changed");
                    state.set_build(super::build(&project));
                }
            }
        }
    });
    Ok(watcher)
}

fn classify(project: &Project, event: notify::Result<notify::Event>) -> Change {
    let Ok(event) = event else {
        return Change::None;
    };
    if matches!(event.kind, EventKind::Access(_)) {
        return Change::None;
    }
    event
        .paths
        .iter()
        .map(|path| change_of(project, path))
        .max()
        .unwrap_or(Change::None)
}

fn change_of(project: &Project, path: &Path) -> Change {
    if path.starts_with(project.sources()) {
        // Not the build's own output, should a crate have its own target/.
        let in_target = path.components().any(|c| c.as_os_str() == "target");
        return match in_target {
            true => Change::None,
            false => Change::Plugins,
        };
    }
    if path == project.manifest_path() {
        return Change::Plugins;
    }
    if !path.starts_with(project.web()) || written_by_the_build(project, path) {
        return Change::None;
    }
    Change::Files
}

/// The build writes the modules (wherever the manifest points) and Valor's files.
fn written_by_the_build(project: &Project, path: &Path) -> bool {
    let runtime = assets::RUNTIME
        .iter()
        .any(|asset| path == project.web().join(asset.path));
    let outputs: Vec<PathBuf> = project
        .plugins()
        .map(|plugins| {
            plugins
                .into_iter()
                .filter_map(|(_, p)| Some(p?.output))
                .collect()
        })
        .unwrap_or_default();
    runtime
        || outputs.iter().any(|output| path == output)
        || path.starts_with(project.web().join("valor"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("app");
        crate::cli::new::create(&root, "app", crate::cli::template::Language::Rust).unwrap();
        let project = Project::find(&root).unwrap();
        let at = |path: &str| change_of(&project, &project.root.join(path));
        assert_eq!(at("plugins/app/src/lib.rs"), Change::Plugins);
        assert_eq!(at("web/plugins.json"), Change::Plugins);
        assert_eq!(at("web/index.html"), Change::Files);
        assert_eq!(at("web/plugins/app.wasm"), Change::None);
        assert_eq!(at("web/sw.js"), Change::None);
        assert_eq!(at("web/valor/valor-worker.js"), Change::None);
        assert_eq!(at("target/release/x"), Change::None);
        assert_eq!(at("plugins/app/target/x"), Change::None);
    }
}
