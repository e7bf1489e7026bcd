//! A plugin's `kv` listing on Redis is filtered and bounded inside Redis: a namespace larger
//! than the entry's `memory_mb` is refused with what to do, and Valor receives no more than
//! that budget (Redis's own count of the bytes it sent says so); a prefix with glob characters
//! lists only what starts with it; a key another tool wrote that is not UTF-8 is a clear
//! error, and Redis is not taken for unreachable.

use crate::common::{answer, app_dir, Server};
use crate::redis_server::RedisServer;

const MANIFEST: &str = r#"{ "plugins": [
    { "name": "host-api", "prefix": "/api/host", "url": "plugins/host_api.wasm", "memory_mb": 4 }
] }"#;

const BUDGET: u64 = 4 * 1024 * 1024;

/// The bytes Redis has sent its clients so far.
fn sent_by(redis: &RedisServer) -> u64 {
    let stats = redis.cli(&["INFO", "stats"]);
    stats
        .lines()
        .find_map(|line| line.strip_prefix("total_net_output_bytes:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("total_net_output_bytes in INFO stats")
}

#[tokio::test]
async fn a_listing_is_filtered_and_bounded_inside_redis() {
    let redis = RedisServer::start();
    let dir = app_dir(MANIFEST, &["host_api"]);
    let server = Server::start(dir.path(), &["--redis", &redis.url], &[]);
    let client = reqwest::Client::new();
    let url = &server.url;
    // 6 values of 1 MiB: 6 MiB in the namespace, more than the plugin's 4 MiB.
    for i in 0..6 {
        let put = client
            .put(format!("{url}/api/host/kv?key=big/{i}&repeat=1024"))
            .body(vec![b'x'; 1024])
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 204, "write {i}");
    }

    let before = sent_by(&redis);
    let (status, text) = answer(
        client
            .get(format!("{url}/api/host/kv/scan?prefix=big/"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let sent = sent_by(&redis) - before;
    eprintln!("an over-budget listing: {status}, Redis sent {sent} bytes for it");
    assert_eq!(status, 503, "{text}");
    assert!(
        text.contains(&format!("more than {BUDGET} bytes"))
            && text.contains("list a narrower prefix"),
        "{text}"
    );
    assert!(
        sent < BUDGET,
        "Redis sent {sent} bytes for a listing refused past {BUDGET}"
    );

    // The keys alone are a small listing: their values are not what the plugin is handed.
    let keys = client
        .get(format!("{url}/api/host/kv/keys?prefix=big/"))
        .send()
        .await
        .unwrap();
    assert_eq!(keys.status(), 200);
    assert_eq!(
        keys.text().await.unwrap(),
        r#"["big/0","big/1","big/2","big/3","big/4","big/5"]"#
    );

    // A narrower prefix lists; a listing that matches nothing receives next to nothing.
    let small = client
        .get(format!("{url}/api/host/kv/keys?prefix=big/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(small.status(), 200);
    assert_eq!(small.text().await.unwrap(), r#"["big/1"]"#);
    let before = sent_by(&redis);
    let none = client
        .get(format!("{url}/api/host/kv/keys?prefix=zzz"))
        .send()
        .await
        .unwrap();
    assert_eq!(none.text().await.unwrap(), "[]");
    let sent = sent_by(&redis) - before;
    assert!(
        sent < 64 * 1024,
        "Redis sent {sent} bytes for an empty listing"
    );

    // Glob characters in a prefix stand for themselves; keys come sorted as Rust sorts them.
    for key in ["g*b", "gab", "g*a", "g?", "gx", "g[1]", "g1"] {
        let put = client
            .put(format!("{url}/api/host/kv"))
            .query(&[("key", key)])
            .body("v")
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 204, "write {key}");
    }
    for (prefix, expected) in [
        ("g*", r#"["g*a","g*b"]"#),
        ("g?", r#"["g?"]"#),
        ("g[", r#"["g[1]"]"#),
        ("g", r#"["g*a","g*b","g1","g?","g[1]","gab","gx"]"#),
    ] {
        let listed = client
            .get(format!("{url}/api/host/kv/keys"))
            .query(&[("prefix", prefix)])
            .send()
            .await
            .unwrap();
        assert_eq!(listed.text().await.unwrap(), expected, "prefix {prefix:?}");
    }
}

#[tokio::test]
async fn a_key_that_is_not_utf8_is_a_clear_error_not_an_outage() {
    let redis = RedisServer::start();
    let dir = app_dir(MANIFEST, &["host_api"]);
    let server = Server::start(dir.path(), &["--redis", &redis.url], &[]);
    let client = reqwest::Client::new();
    let url = &server.url;
    let put = client
        .put(format!("{url}/api/host/kv?key=n/ok"))
        .body("v")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 204);
    // Another tool writes a field that is not UTF-8 in the plugin's hash.
    redis.cli(&[
        "EVAL",
        "return redis.call('HSET', KEYS[1], 'n/' .. string.char(255), 'v')",
        "1",
        "valor:kv:host-api",
    ]);

    let (status, text) = answer(
        client
            .get(format!("{url}/api/host/kv/keys?prefix=n/"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 503, "{text}");
    assert!(
        text.contains("not UTF-8") && !text.contains("unreachable"),
        "{text}"
    );
    // Redis is not taken for unreachable: the other operations go on.
    let read = client
        .get(format!("{url}/api/host/kv?key=n/ok"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer(read).await, (200, "v".to_owned()));
}
