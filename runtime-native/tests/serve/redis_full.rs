//! A Redis out of memory (its `maxmemory` reached, no eviction) refuses writes: they answer
//! 507 saying so, as a full disk does, while reads, listings and deletes go on; once Redis has
//! room again, writes are taken, with no restart.

use crate::common::{answer, app_dir, Server};
use crate::redis_server::RedisServer;

const MANIFEST: &str = r#"{ "plugins": [
    { "name": "host-api", "prefix": "/api/host", "url": "plugins/host_api.wasm" }
] }"#;

#[tokio::test]
async fn a_redis_out_of_memory_answers_507_and_keeps_serving_reads() {
    let redis = RedisServer::start();
    let dir = app_dir(MANIFEST, &["host_api"]);
    let server = Server::start(dir.path(), &["--redis", &redis.url], &[]);
    let client = reqwest::Client::new();
    let url = &server.url;
    for key in ["a", "b"] {
        let put = client
            .put(format!("{url}/api/host/kv?key={key}"))
            .body("v")
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 204);
    }

    // Any memory in use is more than 1 byte: every write is refused for memory from now on.
    assert_eq!(
        redis.cli(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]),
        "OK"
    );
    assert_eq!(redis.cli(&["CONFIG", "SET", "maxmemory", "1"]), "OK");
    let (status, text) = answer(
        client
            .put(format!("{url}/api/host/kv?key=c"))
            .body("v")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 507, "{text}");
    assert!(text.contains("out of memory"), "{text}");
    // A compare-and-swap (a script) too.
    let (status, text) = answer(
        client
            .post(format!("{url}/api/host/kv/bump?key=n"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 507, "{text}");
    // Reads, listings and deletes go on.
    let read = client
        .get(format!("{url}/api/host/kv?key=a"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer(read).await, (200, "v".to_owned()));
    let listed = client
        .get(format!("{url}/api/host/kv/keys"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer(listed).await, (200, r#"["a","b"]"#.to_owned()));
    let deleted = client
        .delete(format!("{url}/api/host/kv?key=b"))
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success(), "{}", deleted.status());

    assert_eq!(redis.cli(&["CONFIG", "SET", "maxmemory", "0"]), "OK");
    let put = client
        .put(format!("{url}/api/host/kv?key=c"))
        .body("v")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 204, "a write once Redis has room again");
}
