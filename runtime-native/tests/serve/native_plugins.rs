//! Native plugins: the same plugin crates built as shared libraries for this machine
//! (scripts/build-native.sh), mounted from entries whose url ends in .so, and loaded only by
//! `valor serve --allow-native-plugins`.

use crate::common::{answer, Server};
use std::path::PathBuf;
use std::time::Duration;

/// A plugin built natively by scripts/build-native.sh (`libhello.so` for `hello`).
fn native(name: &str) -> PathBuf {
    use std::env::consts::{DLL_PREFIX, DLL_SUFFIX};
    let file = format!("{DLL_PREFIX}{name}{DLL_SUFFIX}");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    ["target/conformance/plugins", "target/server"]
        .iter()
        .map(|dir| root.join(dir).join(&file))
        .find(|path| path.exists())
        .unwrap_or_else(|| panic!("{file} is missing: run scripts/build-native.sh first"))
}

/// A directory holding `manifest` as plugins.json and the named native plugins beside it.
fn native_app(manifest: &str, plugins: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for name in plugins {
        let library = native(name);
        let file = library.file_name().expect("a file name");
        std::fs::copy(&library, dir.path().join(file)).expect("a plugin copied");
    }
    let manifest = manifest.replace(".so\"", &format!("{}\"", std::env::consts::DLL_SUFFIX));
    std::fs::write(dir.path().join("plugins.json"), manifest).expect("the manifest written");
    dir
}

async fn get(server: &Server, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("{}{path}", server.url)).await;
    answer(response.expect("an answer")).await
}

#[tokio::test]
async fn a_native_plugin_is_refused_unless_the_server_is_told_to_trust_it() {
    let dir = native_app(
        r#"{ "plugins": [ { "name": "hello", "prefix": "/api/hello", "url": "libhello.so" } ] }"#,
        &["hello"],
    );
    let server = Server::start(dir.path(), &[], &[]);
    let (status, body) = get(&server, "/api/hello").await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body.contains("is a native plugin") && body.contains("--allow-native-plugins"),
        "{body}"
    );
    server.stop();

    let server = Server::start(dir.path(), &["--allow-native-plugins"], &[]);
    assert_eq!(
        get(&server, "/api/hello").await,
        (200, "OK response from a plugin".into())
    );
}

#[tokio::test]
async fn one_library_mounted_twice_keeps_two_states_and_configs() {
    let dir = native_app(
        r#"{ "plugins": [
            { "name": "alice", "prefix": "/api/alice", "url": "libwith_state.so", "config": { "name": "Alice" } },
            { "name": "bob", "prefix": "/api/bob", "url": "libwith_state.so", "config": { "name": "Bob" } }
        ] }"#,
        &["with_state"],
    );
    let server = Server::start(dir.path(), &["--allow-native-plugins"], &[]);
    let visits = [
        ("/api/alice", "Alice", 1),
        ("/api/alice", "Alice", 2),
        ("/api/bob", "Bob", 1),
        ("/api/alice", "Alice", 3),
    ];
    for (path, name, visits) in visits {
        let (status, body) = get(&server, path).await;
        assert_eq!(status, 200, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(json["greeting"], format!("Hello, I am {name}"), "{body}");
        assert_eq!(json["visits"], visits, "{path}: {body}");
    }
}

#[tokio::test]
async fn the_host_api_works_natively() {
    let dir = native_app(
        r#"{ "plugins": [
            { "name": "host", "prefix": "/api/host", "url": "libhost_api.so", "allowed_hosts": ["self"] },
            { "name": "hello", "prefix": "/api/hello", "url": "libhello.so" }
        ] }"#,
        &["host_api", "hello"],
    );
    let server = Server::start(dir.path(), &["--allow-native-plugins"], &[]);
    let client = reqwest::Client::new();
    let put = client
        .put(format!("{}/api/host/kv?key=fruit", server.url))
        .body("apple")
        .send()
        .await
        .expect("an answer");
    assert_eq!(put.status().as_u16(), 204);
    assert_eq!(
        get(&server, "/api/host/kv?key=fruit").await,
        (200, "apple".into())
    );
    assert_eq!(
        get(&server, "/api/host/sleep?ms=20").await,
        (200, "slept 20 ms".into())
    );
    let (status, body) = get(&server, "/api/host/fetch?url=%2Fapi%2Fhello").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("OK response from a plugin"), "{body}");
    // Nested fetches of itself run on its own thread: the nesting limit still answers.
    assert_eq!(get(&server, "/api/host/loop").await.0, 508);
}

#[tokio::test]
async fn a_panic_fails_its_own_request_and_not_the_server() {
    let dir = native_app(
        r#"{ "plugins": [ { "name": "host", "prefix": "/api/host", "url": "libhost_api.so" } ] }"#,
        &["host_api"],
    );
    let server = Server::start(dir.path(), &["--allow-native-plugins"], &[]);
    // A request waiting on the instance when another one panics on it.
    let sleeping = tokio::spawn(reqwest::get(format!(
        "{}/api/host/sleep?ms=3000",
        server.url
    )));
    loop {
        let (_, stats) = get(&server, "/api/host/stats").await;
        let stats: serde_json::Value = serde_json::from_str(&stats).expect("JSON");
        if stats["in_flight"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (status, body) = get(&server, "/api/host/panic").await;
    assert_eq!(status, 500, "{body}");
    assert!(
        body.starts_with("plugin 'host' panicked: panicked at "),
        "{body}"
    );
    // The waiting request was lost with the instance; a GET, it ran again on the next one.
    let slept = answer(sleeping.await.expect("joined").expect("an answer")).await;
    assert_eq!(slept, (200, "slept 3000 ms".into()));
    // The next instance bound the same library: the SDK dropped the lost task (its handler's
    // guard counted it), and the plugin's own statics were kept.
    let (_, stats) = get(&server, "/api/host/stats").await;
    let stats: serde_json::Value = serde_json::from_str(&stats).expect("JSON");
    assert_eq!(
        (&stats["in_flight"], &stats["finished"], &stats["dropped"]),
        (&0.into(), &1.into(), &1.into()),
        "{stats}"
    );
}

#[tokio::test]
async fn a_file_that_is_no_shared_library_is_refused_clearly() {
    let dir = native_app(
        r#"{ "plugins": [ { "name": "text", "prefix": "/api/text", "url": "libtext.so" } ] }"#,
        &[],
    );
    let file = format!("libtext{}", std::env::consts::DLL_SUFFIX);
    std::fs::write(dir.path().join(file), "not a library\n").expect("written");
    let server = Server::start(dir.path(), &["--allow-native-plugins"], &[]);
    let (status, body) = get(&server, "/api/text").await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body.contains("could not be loaded as a shared library for this platform"),
        "{body}"
    );
}

#[tokio::test]
async fn the_registry_never_mounts_a_native_plugin() {
    // A manifest with a registry, a server that trusts its manifest's native plugins, and a
    // shared library beside the manifest: still, a registration cannot mount it.
    let dir = native_app(r#"{ "plugins": [] }"#, &["hello"]);
    let server = Server::start(dir.path(), &["-w", "--allow-native-plugins"], &[]);
    let url = format!("libhello{}", std::env::consts::DLL_SUFFIX);
    let entry = serde_json::json!({ "name": "native", "prefix": "/api/native", "url": url });
    let registered = reqwest::Client::new()
        .post(format!("{}/_plugins", server.url))
        .body(entry.to_string())
        .send()
        .await
        .expect("an answer");
    let (status, body) = answer(registered).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("never through the registry"), "{body}");
    assert_eq!(get(&server, "/api/native").await.0, 404);
}
