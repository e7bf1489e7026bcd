//! `valor serve`: the plugins of a manifest over HTTP, and with `--static` the app's files.

use super::assets;
use std::net::SocketAddr;
use std::path::PathBuf;
use valor_server::serve::{self, CacheSetting, Options, ScriptEngineSource};

/// The arguments of `valor serve`.
#[derive(clap::Args)]
pub struct Args {
    /// The manifest (plugins.json): a path, or an http(s) URL. Entries' `url`s are resolved
    /// against it.
    #[arg(short = 'p', long = "plugins")]
    manifest: String,
    /// The address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8787", value_parser = super::listen_address)]
    listen: SocketAddr,
    /// The app's files, served at every path that no plugin's prefix (nor the registry) claims:
    /// `index.html` for a directory, no path outside DIR, no hidden file (but `.well-known/`).
    #[arg(long = "static", value_name = "DIR")]
    static_dir: Option<PathBuf>,
    /// The public origin plugins are told (`origin()`, `"self"` in `allowed_hosts`), e.g.
    /// https://api.example.com behind a proxy; by default http://<listen address>.
    #[arg(long)]
    origin: Option<String>,
    /// The file of the embedded key-value store (never inside the --static DIR).
    #[arg(long, default_value = "valor-data/kv.redb")]
    data: PathBuf,
    /// Keep the key-value store in Redis instead (redis://[:password@]host:port/db), shared by
    /// every server that names it. Each command has 2 s; while Redis is unreachable, kv
    /// requests answer 503 with retry-after: 1 (writes too while it is a read-only replica),
    /// and the server reconnects by itself; while it is out of memory, writes answer 507.
    #[arg(long, env = "VALOR_REDIS", hide_env_values = true)]
    redis: Option<String>,
    /// Instances of each plugin at most, serving requests in parallel (default: one per core).
    #[arg(long)]
    instances: Option<usize>,
    /// Serve the run-time registry (/_plugins, or the manifest's "registry" prefix): to this
    /// machine only, or with VALOR_REGISTRY_TOKEN set, to clients sending that bearer token.
    #[arg(short = 'w', long = "registry")]
    registry: bool,
    /// The JavaScript engine module that runs .js and .mjs plugins (default: the one built
    /// into valor).
    #[arg(long, env = "VALOR_JS_ENGINE")]
    js_engine: Option<PathBuf>,
    /// Load native plugins: entries whose url ends in .so, .dylib or .dll, plugins built as
    /// shared libraries for this machine. They are trusted code, run in this process with its
    /// rights and no fuel or memory_mb limit; without this flag they answer 502.
    #[arg(long)]
    allow_native_plugins: bool,
    /// Where compiled plugins (and the JavaScript engine) are kept across restarts, so that a
    /// restarted server does not compile them again (default: $XDG_CACHE_HOME/valor, else
    /// ~/.cache/valor). It must belong to the user valor runs as and be writable by no one
    /// else: otherwise it is not used (said in the log).
    #[arg(long, env = "VALOR_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Keep no compiled code on disk: every plugin is compiled at each start.
    #[arg(long)]
    no_cache: bool,
}

/// Serves the manifest's plugins until Ctrl-C (or SIGTERM).
pub fn run(args: Args) -> Result<(), String> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let options = Options {
        manifest: args.manifest,
        listen: args.listen,
        origin: args.origin,
        data: args.data,
        redis: args.redis,
        instances: args.instances.unwrap_or(cores),
        registry: args.registry,
        script_engine: match args.js_engine {
            Some(path) => ScriptEngineSource::File(path),
            None => ScriptEngineSource::Embedded(assets::script_engine()),
        },
        static_dir: args.static_dir,
        allow_native_plugins: args.allow_native_plugins,
        code_cache: match (args.no_cache, args.cache_dir) {
            (true, _) => CacheSetting::Off,
            (false, Some(dir)) => CacheSetting::Dir(dir),
            (false, None) => CacheSetting::Default,
        },
    };
    super::runtime()?.block_on(serve::run(
        options,
        // One line on stdout, for scripts that started it with port 0.
        |address| println!("valor: listening on http://{address}"),
        serve::shutdown_signal(),
    ))
}
