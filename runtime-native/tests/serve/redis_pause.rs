//! A Redis that stops answering (`CLIENT PAUSE <ms> ALL`) never holds a request past its
//! entry's `timeout_ms`: a kv request of an entry with 500 ms answers 504 at about 500 ms; one
//! of an entry with the default 30 s answers 503 with `retry-after` at the store's 2 s bound;
//! the plugin's requests that do not touch kv keep answering 200; and once the pause ends kv
//! works again. Run with `--nocapture` for the figures.

use crate::common::{app_dir, Server};
use crate::redis_server::RedisServer;
use std::time::{Duration, Instant};

/// The same plugin twice: with a short time limit, and with the default one (30 s).
const MANIFEST: &str = r#"{ "plugins": [
    { "name": "quick", "prefix": "/api/quick", "url": "plugins/host_api.wasm", "timeout_ms": 500 },
    { "name": "patient", "prefix": "/api/patient", "url": "plugins/host_api.wasm" }
] }"#;

// Longer than the store's 2 s bound by a margin a busy machine will not eat.
const PAUSE: Duration = Duration::from_millis(3000);

/// A status and how long it took to come.
async fn timed(request: reqwest::RequestBuilder) -> (u16, Option<String>, Duration) {
    let sent = Instant::now();
    let answer = request.send().await.expect("an answer");
    let retry_after = answer
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (answer.status().as_u16(), retry_after, sent.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_redis_holds_no_request_past_its_time_limit() {
    let redis = RedisServer::start();
    let dir = app_dir(MANIFEST, &["host_api"]);
    let server = Server::start(dir.path(), &["--redis", &redis.url], &[]);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client");
    let kv = |entry: &str| client.get(format!("{}/api/{entry}/kv?key=k", server.url));
    // `patient` first: its load compiles the module (seconds on a busy machine), which `quick`
    // then shares, so that quick's 500 ms cover no compilation.
    for entry in ["patient", "quick"] {
        let written = client
            .put(format!("{}/api/{entry}/kv?key=k", server.url))
            .body("v")
            .send()
            .await
            .expect("an answer");
        assert_eq!(written.status(), 204);
    }

    let millis = PAUSE.as_millis().to_string();
    assert_eq!(redis.cli(&["CLIENT", "PAUSE", &millis, "ALL"]), "OK");
    let paused = Instant::now();
    let patient = tokio::spawn(timed(kv("patient")));
    let quick = timed(kv("quick")).await;
    // The plugin's other routes, through the pause.
    let mut others = Vec::new();
    while paused.elapsed() < PAUSE - Duration::from_millis(300) {
        others.push(timed(client.get(format!("{}/api/quick/random", server.url))).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let patient = patient.await.expect("the patient request");
    tokio::time::sleep(PAUSE.saturating_sub(paused.elapsed())).await;
    let resumed = Instant::now();
    let mut tries = 0;
    let back = loop {
        tries += 1;
        let (status, _, _) = timed(kv("quick")).await;
        if status == 200 {
            break resumed.elapsed();
        }
        assert!(
            resumed.elapsed() < Duration::from_secs(2),
            "kv did not work again after the pause (last {status})"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    let slowest_other = others.iter().map(|o| o.2).max().unwrap_or_default();
    eprintln!("Redis paused {} ms (CLIENT PAUSE ALL):", PAUSE.as_millis());
    eprintln!(
        "  kv request, entry timeout_ms 500: {} in {} ms",
        quick.0,
        quick.2.as_millis()
    );
    eprintln!(
        "  kv request, entry timeout_ms 30000: {} (retry-after {:?}) in {} ms",
        patient.0,
        patient.1,
        patient.2.as_millis()
    );
    eprintln!(
        "  other requests of the plugin during the pause: {} sent, statuses {:?}, slowest {} ms",
        others.len(),
        others
            .iter()
            .map(|o| o.0)
            .collect::<std::collections::BTreeSet<_>>(),
        slowest_other.as_millis()
    );
    eprintln!(
        "  kv answered 200 again {} ms after the pause ended ({tries} tries)",
        back.as_millis()
    );
    assert_eq!(
        quick.0, 504,
        "a kv call waits no longer than its entry's limit"
    );
    assert!(
        quick.2 < Duration::from_millis(1500),
        "504 after {:?}",
        quick.2
    );
    assert_eq!(
        (patient.0, patient.1.as_deref()),
        (503, Some("1")),
        "the store's bound, then 503 with retry-after"
    );
    assert!(
        patient.2 < PAUSE,
        "answered only after the pause: {:?}",
        patient.2
    );
    assert!(!others.is_empty());
    assert!(
        others.iter().all(|o| o.0 == 200),
        "requests that touch no kv answer 200"
    );
}
