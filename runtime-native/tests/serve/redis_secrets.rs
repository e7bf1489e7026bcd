//! The Redis password stays out of what valor prints: `--help` (which shows the environment's
//! values), the errors at start, whatever the URL's form (a unix socket's `?pass=`, a URL that
//! does not parse); and a refused password says so at start.

use crate::common::{app_dir, refusal, serve_command};
use crate::redis_server::RedisServer;
use std::process::Command;

const MANIFEST: &str = r#"{ "plugins": [
    { "name": "host-api", "prefix": "/api/host", "url": "plugins/host_api.wasm" }
] }"#;

const SECRET: &str = "s3cret-pw";

#[test]
fn help_does_not_print_the_password_from_the_environment() {
    let output = Command::new(env!("CARGO_BIN_EXE_valor"))
        .args(["serve", "--help"])
        .env("VALOR_REDIS", format!("redis://:{SECRET}@127.0.0.1:6379/"))
        .output()
        .expect("valor ran");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(help.contains("VALOR_REDIS"), "{help}");
    assert!(!help.contains(SECRET), "{help}");
}

/// What `valor serve --redis <url>` says when it refuses to start.
fn refusal_of(url: &str) -> String {
    let dir = app_dir(MANIFEST, &["host_api"]);
    let mut command = serve_command(dir.path(), &dir.path().join("kv.redb"));
    command.args(["--redis", url]);
    let (code, stderr) = refusal(command);
    assert_ne!(code, Some(0), "{stderr}");
    stderr
}

#[test]
fn errors_at_start_do_not_print_the_password() {
    let socket = tempfile::tempdir().expect("a directory");
    let unix = format!(
        "redis+unix://{}?pass={SECRET}",
        socket.path().join("none.sock").display()
    );
    for url in [unix.as_str(), &format!("redis://:{SECRET}@[::1/0")] {
        let said = refusal_of(url);
        assert!(!said.contains(SECRET), "{url}: {said}");
        assert!(said.contains("Redis"), "{url}: {said}");
    }
}

#[test]
fn a_refused_password_says_so_at_start() {
    let redis = RedisServer::with_args(&["--requirepass", "the-right-one"]);
    let wrong = format!("redis://:{SECRET}@127.0.0.1:{}/", redis.port());
    let said = refusal_of(&wrong);
    assert!(said.contains("refused the password"), "{said}");
    assert!(!said.contains(SECRET), "{said}");
    let none = refusal_of(&redis.url);
    assert!(none.contains("asks for a password"), "{none}");
}
