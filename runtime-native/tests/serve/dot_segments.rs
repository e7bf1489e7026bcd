//! Request targets a browser could never send, sent raw over TCP (clients tidy `..` away):
//! the server routes them as a browser would have sent them, dot segments removed, so a
//! plugin, the registry and the app's files each see only what is theirs.

use crate::common::{app_dir, raw_get, Server};
use serde_json::Value;

const MANIFEST: &str = r#"{ "plugins": [
    { "name": "hello", "prefix": "/api/hello", "url": "plugins/hello.wasm" },
    { "name": "echo", "prefix": "/api/echo", "url": "plugins/echo.wasm" }
] }"#;

/// A server of `hello` and `echo`, the registry (`-w`, opened by a token) and the app's files.
fn start() -> (tempfile::TempDir, Server) {
    let dir = app_dir(MANIFEST, &["hello", "echo"]);
    let site = dir.path().join("site");
    std::fs::create_dir(&site).unwrap();
    std::fs::write(site.join("index.html"), "<title>app</title>").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "the secret").unwrap();
    let args = ["-w", "--static", site.to_str().unwrap()];
    let server = Server::start(dir.path(), &args, &[("VALOR_REGISTRY_TOKEN", "t0ken")]);
    (dir, server)
}

/// An answer read off the wire.
struct Raw {
    status: u16,
    /// The header block, names lowercased by the server (hyper writes them so).
    head: String,
    body: String,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (n, value) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
}

/// `GET <target>`, the target sent exactly as written.
async fn get(server: &Server, target: &str) -> Raw {
    let response = raw_get(server, target).await;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{target}: no answer: {response:?}"));
    let status = head
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("{target}: no status: {head}"));
    Raw {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

#[tokio::test]
async fn no_plugin_answers_a_path_above_its_mount() {
    let (_dir, server) = start();
    for target in [
        "/api/hello/../../etc/passwd",
        "/api/hello/%2e%2e/%2E%2E/etc/passwd",
        "/api/hello/.%2e/%2E./etc/passwd",
        "/api/hello\\..\\..\\etc/passwd",
        "/api/hello/../../../../../../../../etc/passwd",
    ] {
        let answer = get(&server, target).await;
        assert_eq!(answer.status, 404, "{target}: {}", answer.body);
        assert_eq!(answer.body, "no file at /etc/passwd\n", "{target}");
        assert_eq!(answer.header("x-valor-plugin"), None, "{target}");
    }
    server.stop();
}

#[tokio::test]
async fn a_plugin_sees_the_normalized_path_below_its_mount_and_the_query_untouched() {
    let (_dir, server) = start();
    for (target, plugin_path, query) in [
        ("/api/hello/../echo/x?q=/../y", "/x", Some("q=/../y")),
        ("/api/hello/..%2F..%2Fz/../../echo/a", "/a", None),
        ("/api/echo/a/b/./c/../../d?%2e%2e", "/a/d", Some("%2e%2e")),
        ("/api/echo/x/..", "/", None),
        ("/api/echo/x/%2e", "/x/", None),
        ("/api/echo/x/..%2fy", "/x/..%2fy", None),
        ("/api/echo//x//../y", "//x/y", None),
        ("/api/../../../api/echo/deep", "/deep", None),
    ] {
        let answer = get(&server, target).await;
        assert_eq!(answer.status, 200, "{target}: {}", answer.body);
        assert_eq!(answer.header("x-valor-plugin"), Some("echo"), "{target}");
        let echoed = answer.json();
        assert_eq!(echoed["path"], plugin_path, "{target}");
        assert_eq!(echoed["query"].as_str(), query, "{target}");
    }
    let hello = get(&server, "/api/echo/%2E%2e/hello").await;
    assert_eq!(hello.header("x-valor-plugin"), Some("hello"));
    assert_eq!(hello.body, "OK response from a plugin");
    server.stop();
}

#[tokio::test]
async fn the_registry_and_the_files_are_reached_as_a_browser_reaches_them() {
    let (_dir, server) = start();
    // The registry answers its own paths, however spelled, and still asks for its token.
    let registry = get(&server, "/api/hello/../../_plugins").await;
    assert_eq!(registry.status, 401, "{}", registry.body);
    assert_eq!(registry.header("x-valor-plugin"), None);
    // And what leaves its prefix is not its.
    let hello = get(&server, "/_plugins/../api/hello").await;
    assert_eq!(
        hello.header("x-valor-plugin"),
        Some("hello"),
        "{}",
        hello.body
    );
    // The app's files: what the path names once normalized, never outside the directory.
    let page = get(&server, "/api/hello/../../index.html").await;
    assert_eq!(
        (page.status, page.body.as_str()),
        (200, "<title>app</title>")
    );
    for target in [
        "/../secret.txt",
        "/api/%2e%2e/%2e%2e/secret.txt",
        "/..\\secret.txt",
    ] {
        let answer = get(&server, target).await;
        assert_eq!(answer.status, 404, "{target}: {}", answer.body);
        assert_eq!(answer.body, "no file at /secret.txt\n", "{target}");
    }
    server.stop();
}
