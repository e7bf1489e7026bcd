//! `valor dev`: the project served on localhost while it is worked on. The plugins are built
//! at start and again whenever their sources or the manifest change (`watch`); every open page
//! learns the result over server-sent events (`state`) and, through a script the server adds
//! to the HTML it serves (`client.js`), swaps the rebuilt plugins into its service worker with
//! the runtime's registry (`PUT /_plugins/<name>`, the module's URL carrying a hash of its
//! bytes), or shows the build's errors over the page. The manifest is served with the
//! registry turned on (`server`).

mod host;
mod server;
mod state;
mod watch;

use super::plugins::{self, Optimise};
use super::project::Project;
use super::say;
use state::{Build, State};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// The arguments of `valor dev`.
#[derive(clap::Args)]
pub struct Args {
    /// The project (default: the one holding the current directory).
    #[arg(long, default_value = ".")]
    project: PathBuf,
    /// The address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080", value_parser = super::listen_address)]
    listen: SocketAddr,
}

/// What a plugin that does not compile should be met with, in `valor dev`.
pub const HINT: &str = "fix it and save: valor dev builds it again";

/// Builds the project, then serves it and builds it again at every change, until stopped.
pub fn run(args: Args) -> Result<(), String> {
    let project = Project::find(&args.project)?;
    // The port first: a port in use is said before a first build of a minute.
    let listener = std::net::TcpListener::bind(args.listen)
        .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
        .map_err(|e| {
            format!(
                "listening on {} failed: {e} (choose another with --listen)",
                args.listen
            )
        })?;
    let state = Arc::new(State::new());
    state.set_build(build(&project));
    let watcher = watch::start(project.clone(), Arc::clone(&state))?;
    let served = super::runtime()?.block_on(server::serve(project, listener, state));
    drop(watcher);
    served
}

/// Builds the project's plugins: the entries pages should have, or what went wrong.
fn build(project: &Project) -> Build {
    let started = std::time::Instant::now();
    // Every save waits for this build: no wasm-opt (`valor build` optimises what is deployed).
    match plugins::build_all(project, Optimise::Never, HINT) {
        Ok(built) => match state::entries(project, &built) {
            Ok(entries) => {
                say(format!(
                    "{} plugin(s) ready in {:.1} s",
                    built.len(),
                    started.elapsed().as_secs_f64()
                ));
                Build::Ready(entries)
            }
            Err(error) => {
                say(&error);
                Build::Failed(error)
            }
        },
        Err(failure) => {
            say(&failure.summary);
            let mut message = failure.summary;
            if !failure.details.trim().is_empty() {
                message = format!("{message}\n\n{}", failure.details.trim_end());
            }
            Build::Failed(message)
        }
    }
}
