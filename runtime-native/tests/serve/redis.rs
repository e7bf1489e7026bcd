//! Two `valor serve --redis` sharing one real Redis (Debian's `redis-server`, started here on
//! a free port): what one server writes, the other reads, and compare-and-swap holds across
//! both, as behind a load balancer.

use crate::common::{answer, app_dir, Server};
use crate::redis_server::RedisServer;

const MANIFEST: &str = r#"{ "plugins": [
    { "name": "todos", "prefix": "/api/todos", "url": "plugins/todos.wasm" },
    { "name": "host-api", "prefix": "/api/host", "url": "plugins/host_api.wasm" }
] }"#;

#[tokio::test]
async fn two_servers_on_one_redis_see_each_others_writes() {
    let redis = RedisServer::start();
    let (dir_a, dir_b) = (
        app_dir(MANIFEST, &["todos", "host_api"]),
        app_dir(MANIFEST, &["todos", "host_api"]),
    );
    let a = Server::start(dir_a.path(), &["--redis", &redis.url], &[]);
    let b = Server::start(dir_b.path(), &["--redis", &redis.url], &[]);
    let client = reqwest::Client::new();

    let created = client
        .post(format!("{}/api/todos", a.url))
        .body(r#"{"title":"written through A"}"#)
        .send()
        .await
        .expect("an answer");
    assert_eq!(created.status(), 201);
    let (status, listed) = answer(
        client
            .get(format!("{}/api/todos", b.url))
            .send()
            .await
            .expect("an answer"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(listed.contains("written through A"), "B lists: {listed}");

    // 40 increments of one counter, half through each server, all at once: none is lost.
    let bumps = (0..40).map(|i| {
        let server = if i % 2 == 0 { &a.url } else { &b.url };
        client
            .post(format!("{server}/api/host/kv/bump?key=counter"))
            .send()
    });
    for bumped in futures::future::join_all(bumps).await {
        assert_eq!(bumped.expect("an answer").status(), 200);
    }
    for server in [&a, &b] {
        let read = client
            .get(format!("{}/api/host/kv?key=counter", server.url))
            .send()
            .await
            .expect("an answer");
        assert_eq!(answer(read).await, (200, "40".to_owned()));
    }
}

#[tokio::test]
async fn without_redis_each_server_has_its_own_file() {
    let (dir_a, dir_b) = (
        app_dir(MANIFEST, &["todos", "host_api"]),
        app_dir(MANIFEST, &["todos", "host_api"]),
    );
    let a = Server::start(dir_a.path(), &[], &[]);
    let b = Server::start(dir_b.path(), &[], &[]);
    let client = reqwest::Client::new();
    let written = client
        .put(format!("{}/api/host/kv?key=k", a.url))
        .body("v")
        .send()
        .await
        .expect("an answer");
    assert!(written.status().is_success());
    let read = |url: String| {
        let client = &client;
        async move {
            answer(client.get(url).send().await.expect("an answer"))
                .await
                .0
        }
    };
    assert_eq!(read(format!("{}/api/host/kv?key=k", a.url)).await, 200);
    assert_eq!(read(format!("{}/api/host/kv?key=k", b.url)).await, 404);
}
