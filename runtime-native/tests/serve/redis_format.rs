//! The format of Valor's data in Redis (`valor:format`): data written before the marker
//! existed (format 1, one hash `valor:kv:<namespace>` per namespace) is read and marked; a
//! store of a newer format, or a marker that is not a number, is refused at start with what
//! to do.

use crate::common::{answer, app_dir, Server};
use crate::redis_server::RedisServer;
use std::process::Command;

const MANIFEST: &str = r#"{ "plugins": [
    { "name": "host-api", "prefix": "/api/host", "url": "plugins/host_api.wasm" }
] }"#;

/// `valor serve --redis <url>` run to its end: its exit status and what it said on stderr.
fn serve_refused(dir: &std::path::Path, url: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_valor"))
        .arg("serve")
        .arg("-p")
        .arg(dir.join("plugins.json"))
        .args(["--listen", "127.0.0.1:0", "--redis", url])
        .env_remove("VALOR_REDIS")
        .output()
        .expect("valor ran");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !output.status.success(),
        "valor started on a store it should refuse: {stderr}"
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).is_empty(),
        "it listened"
    );
    stderr
}

#[tokio::test]
async fn data_of_todays_layout_without_a_marker_is_read_and_marked_format_1() {
    let redis = RedisServer::start();
    // Written as Valor wrote it before the marker: plain hashes, no `valor:format`.
    redis.cli(&["HSET", "valor:kv:host-api", "greeting", "hello from before"]);
    redis.cli(&["HSET", "valor:kv:host-api", "other", "kept"]);
    assert_eq!(redis.cli(&["EXISTS", "valor:format"]), "0");

    let dir = app_dir(MANIFEST, &["host_api"]);
    let server = Server::start(dir.path(), &["--redis", &redis.url], &[]);
    let read = reqwest::get(format!("{}/api/host/kv?key=greeting", server.url))
        .await
        .expect("an answer");
    assert_eq!(answer(read).await, (200, "hello from before".to_owned()));
    assert_eq!(redis.cli(&["GET", "valor:format"]), "1");
    server.stop();

    // Marked: the next start reads it the same.
    let server = Server::start(dir.path(), &["--redis", &redis.url], &[]);
    let read = reqwest::get(format!("{}/api/host/kv?key=other", server.url))
        .await
        .expect("an answer");
    assert_eq!(answer(read).await, (200, "kept".to_owned()));
}

#[test]
fn a_store_of_a_newer_format_is_refused_with_what_to_do() {
    let redis = RedisServer::start();
    redis.cli(&["SET", "valor:format", "2"]);
    redis.cli(&["HSET", "valor:kv:host-api", "k", "written by a newer Valor"]);
    let dir = app_dir(MANIFEST, &["host_api"]);
    let said = serve_refused(dir.path(), &redis.url);
    for part in [
        redis.url.as_str(),
        "format 2",
        "reads format 1",
        "newer",
        "--redis",
    ] {
        assert!(said.contains(part), "{part:?} missing from: {said}");
    }
    // Left as it was.
    assert_eq!(redis.cli(&["GET", "valor:format"]), "2");
    assert_eq!(
        redis.cli(&["HGET", "valor:kv:host-api", "k"]),
        "written by a newer Valor"
    );
}

#[test]
fn a_marker_that_is_not_a_number_is_refused_with_what_to_do() {
    let redis = RedisServer::start();
    redis.cli(&["SET", "valor:format", "banana"]);
    let dir = app_dir(MANIFEST, &["host_api"]);
    let said = serve_refused(dir.path(), &redis.url);
    for part in [
        redis.url.as_str(),
        "\"banana\"",
        "not a Valor format number",
        "--redis",
    ] {
        assert!(said.contains(part), "{part:?} missing from: {said}");
    }
}
