//! Redis killed (SIGKILL) and started again on the same port and data while two `valor serve
//! --redis` are under a load of writes and reads: every request is answered (200/204, or 503
//! with `retry-after` while Redis is away, never a hang), nothing acknowledged is lost, and
//! both servers serve the store again within 2 s of Redis answering again. Likewise the
//! registry, whose records live in the same Redis. Run with `--nocapture` for the figures.

use crate::common::{app_dir, Server};
use crate::redis_server::RedisServer;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MANIFEST: &str = r#"{ "plugins": [
    { "name": "host-api", "prefix": "/api/host", "url": "plugins/host_api.wasm" }
] }"#;

/// What the issue asks: kv requests succeed again within this time of Redis answering.
const RECOVERY_PROMISE: Duration = Duration::from_secs(2);

/// Longer than any answer may take (the store's bound is 2 s): a request taking this long is
/// a hang.
const HANG: Duration = Duration::from_secs(10);

/// One request of the load, and how it ended.
struct Outcome {
    server: usize,
    /// The key written (`None`: a read).
    written: Option<String>,
    sent: Instant,
    done: Instant,
    status: Option<u16>,
    retry_after: Option<String>,
    error: Option<String>,
}

impl Outcome {
    fn succeeded(&self) -> bool {
        matches!(self.status, Some(200 | 204))
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(HANG)
        .build()
        .expect("a client")
}

/// Sends writes (each a key of its own) and reads, one at a time, until `stop`.
async fn load(url: String, server: usize, worker: usize, stop: Arc<AtomicBool>) -> Vec<Outcome> {
    let client = client();
    let mut outcomes = Vec::new();
    for i in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let (request, written) = if i % 3 == 2 {
            (client.get(format!("{url}/api/host/kv?key=before")), None)
        } else {
            let key = format!("w-{server}-{worker}-{i}");
            let request = client
                .put(format!("{url}/api/host/kv?key={key}"))
                .body(key.clone());
            (request, Some(key))
        };
        let sent = Instant::now();
        let answer = request.send().await;
        let done = Instant::now();
        outcomes.push(match answer {
            Ok(response) => Outcome {
                server,
                written,
                sent,
                done,
                status: Some(response.status().as_u16()),
                retry_after: response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
                error: None,
            },
            Err(error) => Outcome {
                server,
                written,
                sent,
                done,
                status: None,
                retry_after: None,
                error: Some(error.to_string()),
            },
        });
    }
    outcomes
}

async fn keys_listed(server: &Server) -> BTreeSet<String> {
    let listed = client()
        .get(format!("{}/api/host/kv/keys?prefix=w-", server.url))
        .send()
        .await
        .expect("an answer");
    assert_eq!(listed.status(), 200, "listing after the restart");
    let text = listed.text().await.expect("a body");
    serde_json::from_str(&text).expect("a JSON list of keys")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_under_load_from_two_servers() {
    let mut redis = RedisServer::durable();
    let dirs = [
        app_dir(MANIFEST, &["host_api"]),
        app_dir(MANIFEST, &["host_api"]),
    ];
    let servers: Vec<Server> = dirs
        .iter()
        .map(|dir| Server::start(dir.path(), &["--redis", &redis.url], &[]))
        .collect();
    let written = client()
        .put(format!("{}/api/host/kv?key=before", servers[0].url))
        .body("written before the fault")
        .send()
        .await
        .expect("an answer");
    assert_eq!(written.status(), 204);

    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for (index, server) in servers.iter().enumerate() {
        for worker in 0..3 {
            workers.push(tokio::spawn(load(
                server.url.clone(),
                index,
                worker,
                stop.clone(),
            )));
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let killed = Instant::now();
    redis.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // While it is down: 503 with retry-after, at once.
    let asked = Instant::now();
    let down = client()
        .get(format!("{}/api/host/kv?key=before", servers[1].url))
        .send()
        .await
        .expect("an answer while Redis is down");
    let down_took = asked.elapsed();
    assert_eq!(down.status(), 503, "{:?}", down.text().await);
    assert_eq!(down.headers()["retry-after"], "1");
    tokio::time::sleep(Duration::from_secs(1).saturating_sub(killed.elapsed())).await;
    let (redis, listening) = tokio::task::spawn_blocking(move || {
        let listening = redis.start_again(&[]);
        (redis, listening)
    })
    .await
    .expect("redis-server started again");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut outcomes = Vec::new();
    for worker in workers {
        outcomes.extend(worker.await.expect("a load worker"));
    }

    // Every request answered, and answered as promised.
    for outcome in &outcomes {
        assert!(outcome.error.is_none(), "no answer: {:?}", outcome.error);
        let status = outcome.status.expect("a status");
        assert!(
            matches!(status, 200 | 204 | 503),
            "status {status} (only 200/204, or 503 while Redis is away)"
        );
        if status == 503 {
            assert_eq!(
                outcome.retry_after.as_deref(),
                Some("1"),
                "503 without retry-after"
            );
        }
    }
    // Each server's first success after Redis answers again.
    let recovered: Vec<Instant> = (0..servers.len())
        .map(|server| {
            outcomes
                .iter()
                .filter(|o| o.server == server && o.sent > killed && o.succeeded())
                .map(|o| o.done)
                .min()
                .unwrap_or_else(|| panic!("server {server} never served the store again"))
        })
        .collect();
    let fault_ended = *recovered.iter().max().expect("two servers");
    let during: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.sent >= killed && o.sent <= fault_ended)
        .collect();
    let mut by_status = BTreeMap::new();
    for outcome in &during {
        *by_status.entry(outcome.status.unwrap_or(0)).or_insert(0) += 1;
    }
    let slowest = during
        .iter()
        .map(|o| o.done - o.sent)
        .max()
        .unwrap_or_default();

    // Nothing acknowledged is lost: every write answered 204 is listed, by both servers.
    let acknowledged: BTreeSet<String> = outcomes
        .iter()
        .filter(|o| o.status == Some(204))
        .filter_map(|o| o.written.clone())
        .collect();
    let mut lost = 0;
    for server in &servers {
        let listed = keys_listed(server).await;
        lost = lost.max(acknowledged.difference(&listed).count());
    }

    eprintln!(
        "Redis SIGKILLed under load from 2 servers (6 sequential clients), restarted after 1 s:"
    );
    eprintln!(
        "  requests: {} in all, {} sent during the fault (kill to both servers recovered): {by_status:?} by status",
        outcomes.len(),
        during.len()
    );
    eprintln!(
        "  slowest answer during the fault: {} ms",
        slowest.as_millis()
    );
    eprintln!(
        "  a read while Redis was down: 503 with retry-after in {} ms",
        down_took.as_millis()
    );
    for (server, at) in recovered.iter().enumerate() {
        eprintln!(
            "  server {server}: first success {} ms after Redis answered PING again",
            at.saturating_duration_since(listening).as_millis()
        );
    }
    eprintln!(
        "  acknowledged writes: {}, lost: {lost}",
        acknowledged.len()
    );
    assert!(
        by_status.get(&503).copied().unwrap_or(0) > 0,
        "the fault was felt"
    );
    assert_eq!(lost, 0, "acknowledged writes lost");
    assert!(
        slowest < Duration::from_secs(3),
        "an answer took {slowest:?}"
    );
    for at in &recovered {
        assert!(
            at.saturating_duration_since(listening) < RECOVERY_PROMISE,
            "recovered {:?} after Redis answered again",
            at.saturating_duration_since(listening)
        );
    }
    drop(redis);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_answers_503_while_redis_is_down_and_works_after() {
    const REGISTRY: &str = r#"{ "plugins": [
        { "name": "hello", "prefix": "/api/hello", "url": "plugins/hello.wasm" }
    ] }"#;
    let mut redis = RedisServer::durable();
    let dir = app_dir(REGISTRY, &["hello"]);
    let server = Server::start(dir.path(), &["-w", "--redis", &redis.url], &[]);
    let entry = |name: &str| {
        serde_json::json!({ "name": name, "prefix": format!("/api/{name}"), "url": "plugins/hello.wasm" })
            .to_string()
    };
    let client = client();
    let post = |name: &str| {
        client
            .post(format!("{}/_plugins", server.url))
            .body(entry(name))
            .send()
    };
    assert_eq!(post("first").await.expect("an answer").status(), 201);

    redis.kill();
    for answer in [
        post("second").await,
        client
            .delete(format!("{}/_plugins/first", server.url))
            .send()
            .await,
    ] {
        let answer = answer.expect("an answer while Redis is down");
        assert_eq!(answer.status(), 503);
        assert_eq!(answer.headers()["retry-after"], "1");
    }
    let listening = tokio::task::spawn_blocking(move || {
        let listening = redis.start_again(&[]);
        (redis, listening)
    })
    .await
    .expect("redis-server started again");
    let (_redis, listening) = listening;
    let mut tries = 0;
    let registered = loop {
        tries += 1;
        let status = post("second").await.expect("an answer").status();
        if status == 201 {
            break listening.elapsed();
        }
        assert_eq!(status, 503, "while recovering");
        assert!(
            listening.elapsed() < RECOVERY_PROMISE,
            "the registry did not recover"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    eprintln!(
        "registry: POST /_plugins answered 201 again {} ms after Redis answered PING ({tries} tries)",
        registered.as_millis()
    );
    let removed = client
        .delete(format!("{}/_plugins/first", server.url))
        .send()
        .await
        .expect("an answer");
    assert_eq!(removed.status(), 204);
}

/// The redis crate's `ConnectionManager` gives up for good on a connection that failed
/// otherwise than by I/O: here a Redis restarted for a while without its password (AUTH
/// refused), then restarted right. The server must still recover.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_after_redis_came_back_misconfigured_for_a_while() {
    let mut redis = RedisServer::with_args(&["--requirepass", "secret"]);
    let url = redis.url.replacen("redis://", "redis://:secret@", 1);
    let dir = app_dir(MANIFEST, &["host_api"]);
    let server = Server::start(dir.path(), &["--redis", &url], &[]);
    let client = client();
    let read = || {
        client
            .get(format!("{}/api/host/kv?key=k", server.url))
            .send()
    };
    assert_eq!(read().await.expect("an answer").status(), 404);

    redis.kill();
    let mut redis = tokio::task::spawn_blocking(move || {
        redis.start_again(&["--loglevel", "warning"]); // no password: AUTH is refused
        redis
    })
    .await
    .expect("redis-server started without its password");
    // Longer than the manager's attempts at reconnecting (1.5 s at most), so that it ends on
    // the refused AUTH.
    let misconfigured = Instant::now();
    while misconfigured.elapsed() < Duration::from_millis(2000) {
        let answer = read().await.expect("an answer");
        assert_eq!(answer.status(), 503, "AUTH refused is 503");
        assert_eq!(answer.headers()["retry-after"], "1");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    redis.kill();
    let (_redis, listening) = tokio::task::spawn_blocking(move || {
        let listening = redis.start_again(&["--requirepass", "secret"]);
        (redis, listening)
    })
    .await
    .expect("redis-server started with its password");
    loop {
        let status = read().await.expect("an answer").status();
        if status == 404 {
            break;
        }
        assert_eq!(status, 503, "while recovering");
        assert!(
            listening.elapsed() < RECOVERY_PROMISE,
            "did not recover after Redis came back with its password"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "after a Redis that refused the password: kv served again {} ms after Redis answered PING",
        listening.elapsed().as_millis()
    );
}

/// A connection Redis closed while it stays up (an idle timeout, `CLIENT KILL`, a proxy):
/// the request that finds it closed answers 503, and the server reconnects at once.
#[tokio::test]
async fn a_connection_closed_by_redis_costs_about_one_request() {
    let redis = RedisServer::start();
    let dir = app_dir(MANIFEST, &["host_api"]);
    let server = Server::start(dir.path(), &["--redis", &redis.url], &[]);
    let client = client();
    let read = || {
        client
            .get(format!("{}/api/host/kv?key=k", server.url))
            .send()
    };
    assert_eq!(read().await.expect("an answer").status(), 404);
    let killed = redis.cli(&["CLIENT", "KILL", "TYPE", "normal"]);
    assert_ne!(killed, "0", "valor's connection was closed");
    let closed = Instant::now();
    let mut failed = 0;
    loop {
        let answer = read().await.expect("an answer");
        if answer.status() == 404 {
            break;
        }
        assert_eq!(answer.status(), 503);
        assert_eq!(answer.headers()["retry-after"], "1");
        failed += 1;
        assert!(closed.elapsed() < RECOVERY_PROMISE, "did not reconnect");
    }
    eprintln!(
        "connection closed by Redis: {failed} request(s) answered 503, served again after {} ms",
        closed.elapsed().as_millis()
    );
}
