//! `valor serve -w`: the run-time registry over real HTTP, on real plugins, its records kept
//! across restarts, and who may use it.

use crate::common::{answer, app_dir, Server};
use serde_json::{json, Value};

const MANIFEST: &str = r#"{ "plugins": [
    { "name": "hello", "prefix": "/api/hello", "url": "plugins/hello.wasm" },
    { "name": "echo", "prefix": "/api/echo", "url": "plugins/echo.wasm" },
    { "name": "proxy", "prefix": "/api/proxy", "url": "plugins/proxy.wasm", "allowed_hosts": ["self"] }
] }"#;

const PLUGINS: &[&str] = &["hello", "echo", "proxy"];

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn send(request: reqwest::RequestBuilder) -> reqwest::Response {
    request.send().await.expect("an answer")
}

async fn post(server: &Server, entry: &Value) -> reqwest::Response {
    client()
        .post(format!("{}/_plugins", server.url))
        .body(entry.to_string())
        .send()
        .await
        .expect("an answer")
}

async fn get(server: &Server, path: &str) -> (u16, String) {
    let response = send(client().get(format!("{}{path}", server.url))).await;
    answer(response).await
}

#[tokio::test]
async fn registrations_and_removals_survive_a_restart() {
    let dir = app_dir(MANIFEST, PLUGINS);
    let server = Server::start(dir.path(), &["-w"], &[]);
    let entry = json!({ "name": "greeter", "prefix": "/api/greeter", "url": "plugins/hello.wasm" });
    let registered = post(&server, &entry).await;
    assert_eq!(registered.status(), 201);
    assert_eq!(registered.headers()["location"], "/_plugins/greeter");
    let listed: Value =
        serde_json::from_str(&registered.text().await.expect("text")).expect("JSON");
    assert_eq!(listed["state"], "loaded", "{listed}");
    assert_eq!(listed["origin"], "registry");
    // Loaded before the 201: it answers at once.
    assert_eq!(
        get(&server, "/api/greeter").await,
        (200, "OK response from a plugin".into())
    );
    let removed = send(client().delete(format!("{}/_plugins/echo", server.url))).await;
    assert_eq!(removed.status(), 204);
    assert_eq!(get(&server, "/api/echo").await.0, 404);
    server.stop(); // SIGKILL: what was answered must be on disk already

    let server = Server::start(dir.path(), &["-w"], &[]);
    assert_eq!(
        get(&server, "/api/greeter").await,
        (200, "OK response from a plugin".into())
    );
    assert_eq!(
        get(&server, "/api/echo").await.0,
        404,
        "the removal was kept"
    );
    let (status, list) = get(&server, "/_plugins").await;
    assert_eq!(status, 200);
    let list: Value = serde_json::from_str(&list).expect("JSON");
    let names: Vec<(&str, &str)> = list
        .as_array()
        .expect("an array")
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap_or(""),
                e["origin"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("greeter", "registry"),
            ("hello", "manifest"),
            ("proxy", "manifest")
        ]
    );
}

#[tokio::test]
async fn every_answer_of_the_api() {
    let dir = app_dir(MANIFEST, PLUGINS);
    std::fs::write(dir.path().join("plugins/broken.wasm"), b"not wasm").expect("written");
    let server = Server::start(dir.path(), &["-w"], &[]);
    let status = |entry: Value| {
        let server = &server;
        async move { post(server, &entry).await.status().as_u16() }
    };
    let taken_name =
        json!({ "name": "hello", "prefix": "/api/other", "url": "plugins/hello.wasm" });
    assert_eq!(status(taken_name).await, 409);
    let taken_prefix =
        json!({ "name": "other", "prefix": "/api/hello", "url": "plugins/hello.wasm" });
    assert_eq!(status(taken_prefix).await, 409);
    let registry_prefix =
        json!({ "name": "other", "prefix": "/_plugins", "url": "plugins/hello.wasm" });
    assert_eq!(status(registry_prefix).await, 409);
    let unmetered = json!({ "name": "other", "prefix": "/api/other", "url": "plugins/hello.wasm", "fuel": null });
    assert_eq!(status(unmetered).await, 400);
    let elsewhere = json!({ "name": "other", "prefix": "/api/other", "url": "../../etc/passwd" });
    assert_eq!(status(elsewhere).await, 400);
    let broken = json!({ "name": "broken", "prefix": "/api/broken", "url": "plugins/broken.wasm" });
    let failed = post(&server, &broken).await;
    assert_eq!(failed.status(), 502);
    assert!(failed
        .text()
        .await
        .expect("text")
        .starts_with("'broken' was not registered"));
    assert_eq!(
        get(&server, "/api/broken").await.0,
        404,
        "nothing was mounted"
    );
    let big = json!({ "name": "big", "prefix": "/api/big", "url": "plugins/hello.wasm", "config": "x".repeat(70_000) });
    assert_eq!(status(big).await, 413);
    let not_json = send(client().post(format!("{}/_plugins", server.url)).body("{")).await;
    assert_eq!(not_json.status(), 400);

    // A hot swap: the same name, another module; and a PUT of a new name creates it.
    let swap = send(
        client()
            .put(format!("{}/_plugins/hello", server.url))
            .body(json!({ "prefix": "/api/hello", "url": "plugins/echo.wasm" }).to_string()),
    )
    .await;
    assert_eq!(swap.status(), 200);
    let (status_code, body) = get(&server, "/api/hello").await;
    assert_eq!(status_code, 200);
    assert!(body.contains("\"method\""), "echo answers now: {body}");
    let failed_swap = send(
        client()
            .put(format!("{}/_plugins/hello", server.url))
            .body(json!({ "prefix": "/api/hello", "url": "plugins/broken.wasm" }).to_string()),
    )
    .await;
    assert_eq!(failed_swap.status(), 502);
    assert!(
        get(&server, "/api/hello").await.1.contains("\"method\""),
        "echo still answers"
    );
    let created = send(
        client()
            .put(format!("{}/_plugins/new", server.url))
            .body(json!({ "prefix": "/api/new", "url": "plugins/hello.wasm" }).to_string()),
    )
    .await;
    assert_eq!(created.status(), 201);

    let patched = send(client().patch(format!("{}/_plugins/hello", server.url))).await;
    assert_eq!(patched.status(), 405);
    assert_eq!(patched.headers()["allow"], "GET, PUT, DELETE");
    assert_eq!(get(&server, "/_plugins/nobody").await.0, 404);
    let one: Value = serde_json::from_str(&get(&server, "/_plugins/new").await.1).expect("JSON");
    assert_eq!(one["prefix"], "/api/new");
}

#[tokio::test]
async fn pages_of_other_sites_rebound_names_and_plugins_are_refused() {
    let dir = app_dir(MANIFEST, PLUGINS);
    let server = Server::start(dir.path(), &["-w"], &[]);
    let entry = json!({ "name": "greeter", "prefix": "/api/greeter", "url": "plugins/hello.wasm" });
    let from_a_page = send(
        client()
            .post(format!("{}/_plugins", server.url))
            .header("origin", "https://evil.example")
            .body(entry.to_string()),
    )
    .await;
    assert_eq!(from_a_page.status(), 403);
    let rebound = send(
        client()
            .get(format!("{}/_plugins", server.url))
            .header("host", "evil.example"),
    )
    .await;
    assert_eq!(rebound.status(), 403);
    let forwarded = send(
        client()
            .get(format!("{}/_plugins", server.url))
            .header("x-forwarded-for", "203.0.113.9"),
    )
    .await;
    assert_eq!(forwarded.status(), 403);
    // A plugin allowed to fetch this server ("self") still cannot reach the registry.
    let (status, body) = get(&server, "/api/proxy?path=/_plugins").await;
    assert_eq!(status, 200);
    let proxied: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(proxied["status"], 403, "{proxied}");
    assert_eq!(
        get(&server, "/api/greeter").await.0,
        404,
        "nothing was registered"
    );
}

#[tokio::test]
async fn a_token_opens_it_to_its_holders_only() {
    let dir = app_dir(MANIFEST, PLUGINS);
    let server = Server::start(
        dir.path(),
        &["-w"],
        &[("VALOR_REGISTRY_TOKEN", "s3cret-token")],
    );
    let list = |token: Option<&'static str>| {
        let mut request = client().get(format!("{}/_plugins", server.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.expect("an answer") }
    };
    let without = list(None).await;
    assert_eq!(without.status(), 401);
    assert_eq!(without.headers()["www-authenticate"], "Bearer");
    assert_eq!(list(Some("wrong")).await.status(), 401);
    assert_eq!(list(Some("s3cret-token")).await.status(), 200);
}

#[tokio::test]
async fn without_w_the_registry_is_not_served() {
    let dir = app_dir(
        &MANIFEST.replacen('{', r#"{ "registry": true,"#, 1),
        PLUGINS,
    );
    let server = Server::start(dir.path(), &[], &[]);
    let (status, body) = get(&server, "/_plugins").await;
    assert_eq!(
        (status, body.as_str()),
        (404, "no plugin is mounted at /_plugins\n")
    );
}
