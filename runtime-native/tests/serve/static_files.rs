//! `valor serve --static DIR`: the plugins' prefixes first, then the app's files, over real
//! HTTP; nothing outside DIR, however the path is spelled.

use crate::common::{answer, app_dir, raw_get, Server};

const MANIFEST: &str = r#"{ "plugins": [
    { "name": "hello", "prefix": "/api/hello", "url": "plugins/hello.wasm" }
] }"#;

/// The app's directory (`site/`: a page, a script, the plugin's module) beside a secret.
fn site() -> tempfile::TempDir {
    let dir = app_dir(MANIFEST, &["hello"]);
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("plugins")).unwrap();
    std::fs::write(site.join("index.html"), "<title>app</title>").unwrap();
    std::fs::write(site.join("app.js"), "console.log(1)").unwrap();
    std::fs::copy(
        crate::common::plugin("hello"),
        site.join("plugins/hello.wasm"),
    )
    .unwrap();
    std::fs::write(dir.path().join("secret.txt"), "the secret").unwrap();
    dir
}

#[tokio::test]
async fn plugins_first_then_files() {
    let dir = site();
    let site = dir.path().join("site");
    let server = Server::start(dir.path(), &["--static", site.to_str().unwrap()], &[]);
    let get = |path: &str| reqwest::get(format!("{}{path}", server.url));

    let hello = get("/api/hello").await.unwrap();
    assert_eq!(hello.headers()["x-valor-plugin"], "hello");
    let page = get("/").await.unwrap();
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(answer(page).await, (200, "<title>app</title>".into()));
    let script = get("/app.js").await.unwrap();
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let module = get("/plugins/hello.wasm").await.unwrap();
    assert_eq!(module.headers()["content-type"], "application/wasm");
    assert_eq!(get("/nothing.js").await.unwrap().status(), 404);
    server.stop();
}

#[tokio::test]
async fn nothing_outside_the_directory_is_served() {
    let dir = site();
    let site = dir.path().join("site");
    let server = Server::start(dir.path(), &["--static", site.to_str().unwrap()], &[]);
    for target in [
        "/../secret.txt",
        "/plugins/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2e%2e%2fsecret.txt",
        "/..%5csecret.txt",
    ] {
        let response = raw_get(&server, target).await;
        assert!(response.starts_with("HTTP/1.1 404"), "{target}: {response}");
        assert!(!response.contains("the secret"), "{target}: {response}");
    }
    server.stop();
}

#[tokio::test]
async fn hidden_files_are_not_served_and_nothing_is_sniffed() {
    let dir = site();
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join(".git")).unwrap();
    std::fs::write(site.join(".git/config"), "[core]").unwrap();
    std::fs::write(site.join(".env"), "SECRET=1").unwrap();
    std::fs::create_dir_all(site.join(".well-known")).unwrap();
    std::fs::write(site.join(".well-known/security.txt"), "Contact: x").unwrap();
    let server = Server::start(dir.path(), &["--static", site.to_str().unwrap()], &[]);
    for target in ["/.git/config", "/.env", "/%2eenv"] {
        let response = raw_get(&server, target).await;
        assert!(response.starts_with("HTTP/1.1 404"), "{target}: {response}");
    }
    let known = reqwest::get(format!("{}/.well-known/security.txt", server.url))
        .await
        .unwrap();
    assert_eq!(known.headers()["x-content-type-options"], "nosniff");
    assert_eq!(answer(known).await, (200, "Contact: x".into()));
    server.stop();
}

#[test]
fn a_store_inside_the_static_directory_stops_the_server() {
    let dir = site();
    // The store's file, `kv.redb`, is in the app's directory: serving that directory would
    // serve the store.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_valor"))
        .arg("serve")
        .arg("-p")
        .arg(dir.path().join("plugins.json"))
        .arg("--data")
        .arg(dir.path().join("valor-data/kv.redb"))
        .arg("--static")
        .arg(dir.path())
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("VALOR_REDIS")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{said}");
    assert!(said.contains("give --data a path outside it"), "{said}");
    assert!(!dir.path().join("valor-data").exists(), "no store was made");
}
