//! One plugin's listing that takes longer than the store's 2 s bound (a large reply on a slow
//! link: here a real Redis behind a proxy that passes its replies at 1 MiB/s per connection)
//! fails alone: another plugin's kv reads keep answering 200 throughout, and the server does
//! not take Redis for unreachable. Run with `--nocapture` for the figures.

use crate::common::{answer, app_dir, Server};
use crate::redis_server::RedisServer;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MANIFEST: &str = r#"{ "plugins": [
    { "name": "attacker", "prefix": "/api/a", "url": "plugins/host_api.wasm" },
    { "name": "victim", "prefix": "/api/v", "url": "plugins/host_api.wasm" }
] }"#;

/// The proxy's pace for what Redis sends, per connection.
const BYTES_PER_SECOND: usize = 1024 * 1024;

/// A proxy to `port` on loopback whose replies (Redis to client) pass at `BYTES_PER_SECOND`
/// on each connection; requests pass at once. Returns its port.
async fn slow_link_to(port: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let proxy_port = listener.local_addr().expect("its address").port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(redis) = TcpStream::connect(("127.0.0.1", port)).await else {
                continue;
            };
            let (mut from_client, mut to_client) = client.into_split();
            let (mut from_redis, mut to_redis) = redis.into_split();
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut from_client, &mut to_redis).await;
            });
            tokio::spawn(async move {
                let mut chunk = vec![0; 16 * 1024];
                while let Ok(n @ 1..) = from_redis.read(&mut chunk).await {
                    if to_client.write_all(&chunk[..n]).await.is_err() {
                        break;
                    }
                    let pace = n as f64 / BYTES_PER_SECOND as f64;
                    tokio::time::sleep(Duration::from_secs_f64(pace)).await;
                }
            });
        }
    });
    proxy_port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_listing_fails_alone_and_other_plugins_keep_reading() {
    let redis = RedisServer::start();
    let proxy = slow_link_to(redis.port()).await;
    let dir = app_dir(MANIFEST, &["host_api"]);
    let via_proxy = format!("redis://127.0.0.1:{proxy}/");
    let server = Server::start(dir.path(), &["--redis", &via_proxy], &[]);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("a client");
    let url = server.url.clone();
    // 3 MiB in the attacker's namespace: 3 s on the slow link, past the 2 s bound.
    for i in 0..3 {
        let put = client
            .put(format!("{url}/api/a/kv?key=big/{i}&repeat=1024"))
            .body(vec![b'x'; 1024])
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 204, "write {i}");
    }
    let put = client
        .put(format!("{url}/api/v/kv?key=k"))
        .body("v")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 204);

    let started = Instant::now();
    let listing = tokio::spawn({
        let (client, url) = (client.clone(), url.clone());
        async move {
            let sent = Instant::now();
            let answered = client
                .get(format!("{url}/api/a/kv/scan?prefix=big/"))
                .send()
                .await
                .unwrap();
            let (status, text) = answer(answered).await;
            (status, text, sent.elapsed())
        }
    });
    // The victim reads every 50 ms while the listing is under way.
    let mut reads = Vec::new();
    while !listing.is_finished() {
        let sent = Instant::now();
        let read = client
            .get(format!("{url}/api/v/kv?key=k"))
            .send()
            .await
            .unwrap();
        reads.push((read.status().as_u16(), sent.elapsed()));
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the listing never answered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, text, took) = listing.await.expect("the listing");
    // Afterwards the attacker's narrower listing works: Redis was not marked unreachable.
    let narrow = client
        .get(format!("{url}/api/a/kv/keys?prefix=small"))
        .send()
        .await
        .unwrap();

    let slowest = reads.iter().map(|r| r.1).max().unwrap_or_default();
    eprintln!(
        "a listing of 3 MiB at 1 MiB/s: {status} after {} ms; the other plugin's reads \
         meanwhile: {} sent, statuses {:?}, slowest {} ms",
        took.as_millis(),
        reads.len(),
        reads
            .iter()
            .map(|r| r.0)
            .collect::<std::collections::BTreeSet<_>>(),
        slowest.as_millis()
    );
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("while Redis answers others"), "{text}");
    assert!(
        reads.len() >= 5,
        "only {} reads during the listing",
        reads.len()
    );
    assert!(
        reads.iter().all(|r| r.0 == 200),
        "the other plugin's reads: {reads:?}"
    );
    assert_eq!(answer(narrow).await, (200, "[]".to_owned()));
}
