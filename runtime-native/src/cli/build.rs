//! `valor build`: the project's plugins, built into `web/` where its manifest points, with
//! Valor's service worker and runtime, so that `web/` is the whole app.

use super::plugins::{self, Optimise};
use super::project::Project;
use super::say;
use std::path::PathBuf;

/// The arguments of `valor build`.
#[derive(clap::Args)]
pub struct Args {
    /// The project (default: the one holding the current directory).
    #[arg(long, default_value = ".")]
    project: PathBuf,
}

/// Builds the project's plugins into `web/`, beside Valor's runtime.
pub fn run(args: Args) -> Result<(), String> {
    let project = Project::find(&args.project)?;
    let built = plugins::build_all(
        &project,
        Optimise::WhenPresent,
        "fix it, then run valor build again",
    )
    .map_err(|failure| failure.summary)?;
    for plugin in &built {
        let output = plugin
            .plugin
            .output
            .strip_prefix(&project.root)
            .unwrap_or(&plugin.plugin.output);
        say(format!("{} -> {}", plugin.plugin.name, output.display()));
    }
    say(format!(
        "{} plugin(s) built; web/ is the app: serve it with `valor serve -p web/plugins.json \
         --static web` in {}, or from any static host",
        built.len(),
        project.root.display()
    ));
    Ok(())
}
