//! A plugin that exposes each host capability on a path, and counters that let tests observe
//! concurrency and cancellation without timing anything.
use serde_json::json;
use std::cell::Cell;
use std::time::Duration;
use vlugin::prelude::*;

#[derive(Default, Clone, Copy)]
struct Stats {
    in_flight: u32,
    max_in_flight: u32,
    finished: u32,
    /// Sleeping handlers dropped before they finished (the page aborted, or a timeout).
    dropped: u32,
}

thread_local! {
    static STATS: Cell<Stats> = Cell::new(Stats::default());
}

fn update(change: impl FnOnce(&mut Stats)) {
    let mut stats = STATS.get();
    change(&mut stats);
    STATS.set(stats);
}

/// Counts a sleeping request in flight; if it is dropped before finishing, counts that too.
struct InFlight {
    finished: bool,
}

impl InFlight {
    fn enter() -> Self {
        update(|s| {
            s.in_flight += 1;
            s.max_in_flight = s.max_in_flight.max(s.in_flight);
        });
        Self { finished: false }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let finished = self.finished;
        update(|s| {
            s.in_flight -= 1;
            if finished {
                s.finished += 1;
            } else {
                s.dropped += 1;
            }
        });
    }
}

fn query(req: &Request, name: &str) -> Option<String> {
    let mut pairs: std::collections::HashMap<String, String> = req.query().ok()?;
    pairs.remove(name)
}

fn number<T: std::str::FromStr>(req: &Request, name: &str, default: T) -> T {
    query(req, name)
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

#[vlugin]
async fn host_api(req: Request) -> Response {
    Router::new()
        .get("/sleep", sleep_for)
        .post("/sleep", sleep_for)
        .get("/panic", deliberate_panic)
        .get("/stats", |_req, _params| async {
            let s = STATS.get();
            Json(json!({
                "in_flight": s.in_flight, "max_in_flight": s.max_in_flight,
                "finished": s.finished, "dropped": s.dropped,
            }))
        })
        .get("/reset", |_req, _params| async {
            STATS.set(Stats::default());
            StatusCode::NO_CONTENT
        })
        .get("/forever", |_req, _params| async {
            let _guard = InFlight::enter();
            std::future::pending::<()>().await;
        })
        .get("/fetch", fetch_url)
        .post("/fetch", fetch_url)
        .get("/loop", |_req, _params| async {
            // Calls itself through the runtime until the nesting limit answers.
            let again = http::Request::get("/api/host/loop").body(Body::empty())?;
            fetch(again).await
        })
        .get("/kv", kv_get)
        .put("/kv", kv_put)
        .delete("/kv", |req, _params| async move {
            kv::delete(&query(&req, "key").unwrap_or_default()).await?;
            Ok::<_, Error>(StatusCode::NO_CONTENT)
        })
        .get("/kv/keys", |req, _params| async move {
            Ok::<_, Error>(Json(
                kv::keys(&query(&req, "prefix").unwrap_or_default()).await?,
            ))
        })
        .get("/kv/scan", kv_scan)
        .post("/kv/bump", |req, _params| async move {
            // Adds one to the JSON number under `key`, atomically; answers the new number.
            let key = query(&req, "key").unwrap_or_default();
            let n = kv::update_json(&key, |n: Option<u64>| n.unwrap_or(0) + 1).await?;
            Ok::<_, Error>(n.to_string())
        })
        // Where the plugin is served, as the host told it.
        .get("/site", |req, _params| async move {
            Json(json!({
                "mount": mount(),
                "origin": origin(),
                "url": req.url(),
                "todo": url_for("/todos/7"),
            }))
        })
        .get("/random", |_req, _params| async {
            let mut bytes = [0u8; 32];
            fill_random(&mut bytes);
            Json(json!({ "uuid": uuid::Uuid::new_v4().to_string(), "bytes": bytes.to_vec() }))
        })
        .get("/now", |_req, _params| async {
            let ms = now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            Json(json!({ "ms": ms }))
        })
        .get("/log", |_req, _params| async {
            log::error!("an error line");
            log::warn!("a warning line");
            log::info!("an info line");
            log::debug!("a debug line");
            "logged"
        })
        .get("/config", |_req, _params| async {
            Ok::<_, Error>(Json(config::<serde_json::Value>()?))
        })
        .get("/headers", headers)
        .handle(req)
        .await
}

async fn deliberate_panic(_req: Request, _params: Params) -> StatusCode {
    panic!("deliberate panic in host-api")
}

/// Sleeps `ms` (50) milliseconds, counted in the stats; `?panic` panics afterwards.
async fn sleep_for(req: Request, _params: Params) -> String {
    let ms: u64 = number(&req, "ms", 50);
    let mut guard = InFlight::enter();
    sleep(Duration::from_millis(ms)).await;
    guard.finished = true;
    if query(&req, "panic").is_some() {
        panic!("deliberate panic after sleeping {ms} ms");
    }
    format!("slept {ms} ms")
}

/// Fetches `?url=` with the request's method and body, and answers what came back, or why
/// nothing did (403 denied, 502 failed).
async fn fetch_url(req: Request, _params: Params) -> vlugin::Result<Json<serde_json::Value>> {
    let outbound = http::Request::builder()
        .method(req.method().clone())
        .uri(query(&req, "url").unwrap_or_default())
        .body(req.body().clone())?;
    let answer = fetch(outbound).await.map_err(|error| match error {
        Error::Denied(message) => Error::new(StatusCode::FORBIDDEN, message),
        other => Error::new(StatusCode::BAD_GATEWAY, other.to_string()),
    })?;
    let via = answer
        .headers()
        .get("x-valor-plugin")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok(Json(json!({
        "status": answer.status().as_u16(),
        "via": via,
        "body": String::from_utf8_lossy(answer.body().as_bytes()),
    })))
}

async fn kv_get(req: Request, _params: Params) -> vlugin::Result<Response> {
    Ok(
        match kv::get(&query(&req, "key").unwrap_or_default()).await? {
            Some(value) => value.into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        },
    )
}

/// Stores the body under `key`; `?repeat=n` stores it n times over (a value larger than the
/// body), `?sleep=ms` waits after storing.
async fn kv_put(req: Request, _params: Params) -> vlugin::Result<StatusCode> {
    let key = query(&req, "key").unwrap_or_default();
    let repeat = number(&req, "repeat", 1);
    kv::set(&key, req.body().as_bytes().repeat(repeat)).await?;
    if let Some(ms) = query(&req, "sleep").and_then(|ms| ms.parse().ok()) {
        sleep(Duration::from_millis(ms)).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The entries under `prefix`, values as text: `[[key, value], ...]`.
async fn kv_scan(req: Request, _params: Params) -> vlugin::Result<Json<Vec<(String, String)>>> {
    let entries = kv::scan(&query(&req, "prefix").unwrap_or_default()).await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|(key, value)| (key, String::from_utf8_lossy(&value).into_owned()))
            .collect(),
    ))
}

/// `count` headers `x-h<i>` of `size` bytes each, and a body of `body_kib` KiB.
async fn headers(req: Request, _params: Params) -> vlugin::Result<Response> {
    let body = vec![b'b'; number::<usize>(&req, "body_kib", 0) << 10];
    let mut response = Response::new(body.into());
    let value = http::HeaderValue::from_str(&"v".repeat(number(&req, "size", 1)))
        .map_err(http::Error::from)?;
    for i in 0..number(&req, "count", 1) {
        let name = http::HeaderName::try_from(format!("x-h{i}")).map_err(http::Error::from)?;
        response.headers_mut().append(name, value.clone());
    }
    Ok(response)
}
