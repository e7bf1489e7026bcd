//! `valor serve --static DIR`: the plugins' prefixes first, then the app's files, over real
//! HTTP; nothing outside DIR, however the path is spelled.

mod common;

use common::{answer, app_dir, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
    std::fs::copy(common::plugin("hello"), site.join("plugins/hello.wasm")).unwrap();
    std::fs::write(dir.path().join("secret.txt"), "the secret").unwrap();
    dir
}

/// The raw answer to `GET <target>`, sent exactly as written (clients tidy `..` away).
async fn raw_get(server: &Server, target: &str) -> String {
    let address = server.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
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
