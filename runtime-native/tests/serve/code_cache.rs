//! Compiled code kept across restarts (`--cache-dir`, here `VALOR_CACHE_DIR` set by
//! `serve_command`): a second start loads it from disk, a damaged file is ignored, compiled
//! again and rewritten, and a directory other users could write to is not used at all. The
//! JavaScript engine is compiled at start, before any request, when a script is mounted.

use crate::common::{answer, app_dir, serve_command, Log, Server};
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const MANIFEST: &str = r#"{ "plugins": [
    { "name": "hello", "prefix": "/api/hello", "url": "plugins/hello.wasm" },
    { "name": "script", "prefix": "/api/script", "url": "plugins/hello.js" }
] }"#;

/// hello.wasm alone.
const HELLO_ONLY: &str = r#"{ "plugins": [
    { "name": "hello", "prefix": "/api/hello", "url": "plugins/hello.wasm" }
] }"#;

/// What the hello plugin answers at its root, and the benchmark's hello.js too.
const HELLO: &str = "OK response from a plugin";
const HELLO_JS: &str = HELLO;

/// An app with hello.wasm and the benchmark's hello.js (the JavaScript engine runs it).
fn app() -> tempfile::TempDir {
    let dir = app_dir(MANIFEST, &["hello"]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/plugins/hello.js");
    std::fs::copy(script, dir.path().join("plugins/hello.js")).expect("hello.js copied");
    dir
}

fn cache_dir(app: &Path) -> PathBuf {
    app.join(".compiled")
}

fn start(app: &Path) -> (Server, Log) {
    Server::spawn_logged(serve_command(app, &app.join("kv.redb")))
}

async fn get(server: &Server, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("{}{path}", server.url)).await.unwrap();
    answer(response).await
}

/// The kept files of compiled code (not the ones being written).
fn kept(cache: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(cache) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            !name.starts_with('.')
        })
        .collect();
    files.sort();
    files
}

/// Waits (30 s at most) until `count` files are kept: they are written once the code they
/// hold is already in use.
fn wait_for_files(cache: &Path, count: usize) -> Vec<PathBuf> {
    let started = Instant::now();
    loop {
        let files = kept(cache);
        if files.len() >= count && files.iter().all(|file| is_whole(file)) {
            return files;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{count} files of compiled code were not written in 30 s: {files:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How many lines of `log` contain `text`, once there is one (10 s at most: the log is read
/// from the server's stderr by a thread of its own, a little after the server writes it).
fn lines(log: &Log, text: &str) -> usize {
    let started = Instant::now();
    while log.count(text) == 0 && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    log.count(text)
}

/// Whether a kept file's code matches the SHA-256 in its header (magic, key, digest, code).
fn is_whole(file: &Path) -> bool {
    let bytes = std::fs::read(file).unwrap_or_default();
    bytes.len() > 80 && bytes[48..80] == sha2::Sha256::digest(&bytes[80..])[..]
}

#[tokio::test]
async fn a_restarted_server_loads_compiled_code_from_disk() {
    let dir = app();
    let cache = cache_dir(dir.path());
    let (server, log) = start(dir.path());
    assert_eq!(get(&server, "/api/hello").await, (200, HELLO.into()));
    assert_eq!(get(&server, "/api/script").await, (200, HELLO_JS.into()));
    // hello.wasm and the JavaScript engine.
    let files = wait_for_files(&cache, 2);
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(log.count("compiled code loaded from"), 0);
    server.stop();

    let (server, log) = start(dir.path());
    assert_eq!(get(&server, "/api/hello").await, (200, HELLO.into()));
    assert_eq!(get(&server, "/api/script").await, (200, HELLO_JS.into()));
    assert_eq!(lines(&log, "hello.wasm: compiled code loaded from"), 1);
    assert_eq!(lines(&log, "valor_js.wasm: compiled code loaded from"), 1);
    assert_eq!(log.count("was ignored"), 0);
    assert_eq!(kept(&cache), files, "nothing more was written");
    server.stop();
}

#[tokio::test]
async fn the_javascript_engine_is_compiled_at_start() {
    let dir = app();
    let cache = cache_dir(dir.path());
    let (server, _log) = start(dir.path());
    // No request yet: the engine's compiled code is written all the same.
    let files = wait_for_files(&cache, 1);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].to_string_lossy().ends_with(".module"));
    assert_eq!(get(&server, "/api/script").await, (200, HELLO_JS.into()));
    server.stop();
}

#[tokio::test]
async fn a_damaged_file_is_ignored_compiled_again_and_rewritten() {
    let dir = app_dir(HELLO_ONLY, &["hello"]);
    let cache = cache_dir(dir.path());
    let (server, _log) = start(dir.path());
    assert_eq!(get(&server, "/api/hello").await, (200, HELLO.into()));
    let files = wait_for_files(&cache, 1);
    server.stop();
    let file = &files[0];
    let whole = std::fs::read(file).unwrap();

    let flipped = {
        let mut bytes = whole.clone();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        bytes
    };
    let damages = [
        ("a byte changed", flipped),
        ("cut short", whole[..whole.len() / 2].to_vec()),
        ("emptied", Vec::new()),
    ];
    for (damage, bytes) in damages {
        std::fs::write(file, &bytes).unwrap();
        let (server, log) = start(dir.path());
        assert_eq!(
            get(&server, "/api/hello").await,
            (200, HELLO.into()),
            "{damage}"
        );
        assert_eq!(lines(&log, "was ignored"), 1, "{damage}");
        assert_eq!(log.count("compiled code loaded from"), 0, "{damage}");
        assert_eq!(wait_for_files(&cache, 1), files, "{damage}: rewritten");
        server.stop();

        // The rewritten file is loaded by the next start.
        let (server, log) = start(dir.path());
        assert_eq!(get(&server, "/api/hello").await, (200, HELLO.into()));
        assert_eq!(
            lines(&log, "hello.wasm: compiled code loaded from"),
            1,
            "{damage}"
        );
        server.stop();
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_directory_other_users_can_write_to_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let dir = app();
    let cache = cache_dir(dir.path());
    std::fs::create_dir(&cache).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (server, log) = start(dir.path());
    assert_eq!(lines(&log, "is writable by other users (mode 777)"), 1);
    assert_eq!(get(&server, "/api/hello").await, (200, HELLO.into()));
    assert_eq!(get(&server, "/api/script").await, (200, HELLO_JS.into()));
    // What would have been written is written once the code is in use: give it time to show.
    std::thread::sleep(Duration::from_millis(500));
    server.stop();
    assert_eq!(kept(&cache), Vec::<PathBuf>::new());

    // A file planted there by another user (here, one others could write) is not loaded.
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o700)).unwrap();
    let (server, _log) = start(dir.path());
    assert_eq!(get(&server, "/api/hello").await, (200, HELLO.into()));
    let files = wait_for_files(&cache, 2);
    server.stop();
    for file in &files {
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o666)).unwrap();
    }
    let (server, log) = start(dir.path());
    assert_eq!(get(&server, "/api/hello").await, (200, HELLO.into()));
    assert_eq!(lines(&log, "hello.wasm: the compiled code in"), 1);
    assert_eq!(log.count("hello.wasm: compiled code loaded from"), 0);
    assert!(log.count("is writable by other users (mode 666)") >= 1);
    server.stop();
}

#[tokio::test]
async fn no_cache_keeps_nothing() {
    let dir = app();
    let cache = cache_dir(dir.path());
    let mut command = serve_command(dir.path(), &dir.path().join("kv.redb"));
    command.arg("--no-cache");
    let (server, _log) = Server::spawn_logged(command);
    assert_eq!(get(&server, "/api/hello").await, (200, HELLO.into()));
    assert_eq!(get(&server, "/api/script").await, (200, HELLO_JS.into()));
    std::thread::sleep(Duration::from_millis(500));
    server.stop();
    assert!(!cache.exists());
}
