//! `valor`: the Valor command. `valor new` starts a project, `valor build` builds its plugins,
//! `valor dev` serves it while it is worked on, `valor serve` serves plugins (and an app's
//! files) in production.

mod cli;

use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "valor",
    version,
    about = "Valor: HTTP APIs made of WebAssembly plugins, served from a page's service worker or \
             from this server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Makes a new project: a plugin (Rust, or JavaScript with --js), its tests, a page and
    /// the manifest that mounts the plugin.
    New(cli::new::Args),
    /// Builds the project's plugins into web/, where its manifest points, with Valor's
    /// service worker and runtime.
    Build(cli::build::Args),
    /// Serves the project on localhost; rebuilds plugins on change and swaps them into the
    /// open page's service worker.
    Dev(cli::dev::Args),
    /// Serves the plugins of a manifest over HTTP (and, with --static, the app's files).
    Serve(cli::serve::Args),
}

/// What wasmtime's compiler says at `debug` (tens of thousands of lines a module) is about
/// wasmtime, not about plugins: kept at `warn` unless `VALOR_LOG` names those crates itself.
const QUIET: &str = "cranelift_codegen=warn,wasmtime_cranelift=warn,wasmtime=warn";

fn main() -> ExitCode {
    let wanted = std::env::var("VALOR_LOG").unwrap_or_else(|_| "info".into());
    let filter = tracing_subscriber::EnvFilter::try_new(format!("{QUIET},{wanted}"))
        .unwrap_or_else(|_| {
            eprintln!("valor: VALOR_LOG={wanted} is not a log filter (e.g. debug, or valor_server=debug): using info");
            tracing_subscriber::EnvFilter::new(format!("{QUIET},info"))
        });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours for a terminal, not for a log file.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let done = match Cli::parse().command {
        Command::New(args) => cli::new::run(args),
        Command::Build(args) => cli::build::run(args),
        Command::Dev(args) => cli::dev::run(args),
        Command::Serve(args) => cli::serve::run(args),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("valor: {error}");
            ExitCode::FAILURE
        }
    }
}
