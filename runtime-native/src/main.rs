//! `valor`, the Valor server host: `valor serve -p plugins.json`.

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use valor_server::serve::{self, Options};

#[derive(Parser)]
#[command(
    version,
    about = "Serves Valor plugins (.wasm built with vlugin, or JavaScript) over HTTP"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serves the plugins of a manifest.
    Serve {
        /// The manifest (plugins.json): a path, or an http(s) URL. Entries' `url`s are resolved
        /// against it.
        #[arg(short = 'p', long = "plugins")]
        manifest: String,
        /// The address to listen on (port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: SocketAddr,
        /// The public origin plugins are told (`origin()`, `"self"` in `allowed_hosts`), e.g.
        /// https://api.example.com behind a proxy; by default http://<listen address>.
        #[arg(long)]
        origin: Option<String>,
        /// The file of the embedded key-value store.
        #[arg(long, default_value = "valor-data/kv.redb")]
        data: PathBuf,
        /// Keep the key-value store in Redis instead (redis://host:port/db), shared by every
        /// server that names it.
        #[arg(long, env = "VALOR_REDIS")]
        redis: Option<String>,
        /// Instances of each plugin at most, serving requests in parallel (default: one per
        /// core).
        #[arg(long)]
        instances: Option<usize>,
        /// Serve the run-time registry (/_plugins, or the manifest's "registry" prefix):
        /// to this machine only, or with VALOR_REGISTRY_TOKEN set, to clients sending that
        /// bearer token.
        #[arg(short = 'w', long = "registry")]
        registry: bool,
        /// The JavaScript engine module that runs .js and .mjs plugins (default:
        /// valor_js.wasm beside this program).
        #[arg(long, env = "VALOR_JS_ENGINE")]
        js_engine: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VALOR_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let Command::Serve {
        manifest,
        listen,
        origin,
        data,
        redis,
        instances,
        registry,
        js_engine,
    } = Cli::parse().command;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let options = Options {
        manifest,
        listen,
        origin,
        data,
        redis,
        instances: instances.unwrap_or(cores),
        registry,
        script_engine: js_engine.unwrap_or_else(beside_this_program),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(serve::THREAD_STACK_BYTES)
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("valor: starting the runtime failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(serve::run(
        options,
        // One line on stdout, for scripts that started it with port 0.
        |address| println!("valor: listening on http://{address}"),
        valor_server_shutdown(),
    ));
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("valor: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `valor_js.wasm` in the directory of the running program.
fn beside_this_program() -> PathBuf {
    let file = valor_host::script::ENGINE_FILE;
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join(file)))
        .unwrap_or_else(|| PathBuf::from(file))
}

async fn valor_server_shutdown() {
    valor_server::serve::shutdown_signal().await;
}
