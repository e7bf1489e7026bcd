//! A Redis demoted to a replica (a failover: `REPLICAOF`) refuses writes with `READONLY`, and
//! keeps its clients' connections: writes answer 503 with `retry-after` saying so (reads go
//! on), the server makes its connections anew (with DNS or a virtual IP, that finds the new
//! primary), and once Redis is a primary again writes are taken, with no restart.

use crate::common::{answer, app_dir, Server};
use crate::redis_server::RedisServer;
use std::collections::BTreeSet;
use std::net::TcpListener;
use std::time::{Duration, Instant};

const MANIFEST: &str = r#"{ "plugins": [
    { "name": "host-api", "prefix": "/api/host", "url": "plugins/host_api.wasm" }
] }"#;

/// The ids of the clients connected to `redis`, but for redis-cli's own.
fn client_ids(redis: &RedisServer) -> BTreeSet<u64> {
    redis
        .cli(&["CLIENT", "LIST"])
        .lines()
        .filter(|line| !line.contains("cmd=client|list"))
        .filter_map(|line| line.strip_prefix("id=")?.split(' ').next()?.parse().ok())
        .collect()
}

#[tokio::test]
async fn a_demoted_redis_answers_503_and_the_server_reconnects() {
    let redis = RedisServer::start();
    let dir = app_dir(MANIFEST, &["host_api"]);
    let server = Server::start(dir.path(), &["--redis", &redis.url], &[]);
    let client = reqwest::Client::new();
    let url = &server.url;
    let put = |key: &'static str| {
        client
            .put(format!("{url}/api/host/kv?key={key}"))
            .body("v")
            .send()
    };
    assert_eq!(put("a").await.unwrap().status(), 204);
    let before = client_ids(&redis);

    // A replica of a primary that is not there: it keeps its data and serves reads.
    let nowhere = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    assert_eq!(
        redis.cli(&["REPLICAOF", "127.0.0.1", &nowhere.to_string()]),
        "OK"
    );
    let refused = put("b").await.unwrap();
    let retry_after = refused.headers().get("retry-after").cloned();
    let (status, text) = answer(refused).await;
    assert_eq!(
        (status, retry_after.as_ref().and_then(|v| v.to_str().ok())),
        (503, Some("1")),
        "{text}"
    );
    assert!(text.contains("read-only replica"), "{text}");
    // A compare-and-swap (a script) too.
    let bumped = client
        .post(format!("{url}/api/host/kv/bump?key=n"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        bumped.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    let (status, text) = answer(bumped).await;
    assert!(
        status == 503 && text.contains("read-only replica"),
        "{status} {text}"
    );
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
    assert_eq!(answer(listed).await, (200, r#"["a"]"#.to_owned()));

    assert_eq!(redis.cli(&["REPLICAOF", "NO", "ONE"]), "OK");
    let promoted = Instant::now();
    loop {
        let status = put("b").await.unwrap().status();
        if status == 204 {
            break;
        }
        assert!(
            promoted.elapsed() < Duration::from_secs(5),
            "writes still refused ({status}) after Redis became a primary again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "demoted Redis: writes 503 with retry-after; taken again {} ms after REPLICAOF NO ONE",
        promoted.elapsed().as_millis()
    );
    let after = client_ids(&redis);
    assert!(
        after.iter().any(|id| !before.contains(id)),
        "the server made no new connection: before {before:?}, after {after:?}"
    );
}
