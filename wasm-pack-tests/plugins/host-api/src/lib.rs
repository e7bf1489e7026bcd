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

#[vlugin]
async fn host_api(req: Request) -> Result<Response, vlugin::Error> {
    let path = req.uri().path().to_owned();
    Ok(match path.as_str() {
        "/sleep" => {
            let ms: u64 = query(&req, "ms")
                .and_then(|ms| ms.parse().ok())
                .unwrap_or(50);
            let mut guard = InFlight::enter();
            sleep(Duration::from_millis(ms)).await;
            guard.finished = true;
            if query(&req, "panic").is_some() {
                panic!("deliberate panic after sleeping {ms} ms");
            }
            format!("slept {ms} ms").into_response()
        }
        "/panic" => panic!("deliberate panic in host-api"),
        "/stats" => {
            let s = STATS.get();
            Json(json!({
                "in_flight": s.in_flight, "max_in_flight": s.max_in_flight,
                "finished": s.finished, "dropped": s.dropped,
            }))
            .into_response()
        }
        "/reset" => {
            STATS.set(Stats::default());
            StatusCode::NO_CONTENT.into_response()
        }
        "/forever" => {
            let _guard = InFlight::enter();
            std::future::pending::<()>().await;
            unreachable!("pending never resolves")
        }
        "/fetch" => {
            let url = query(&req, "url").unwrap_or_default();
            let outbound = http::Request::get(url)
                .body(Body::empty())
                .map_err(|e| Error::Protocol(e.to_string()))?;
            match fetch(outbound).await {
                Ok(answer) => {
                    let via = answer
                        .headers()
                        .get("x-valor-plugin")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    Json(json!({
                        "status": answer.status().as_u16(),
                        "via": via,
                        "body": String::from_utf8_lossy(answer.body().as_bytes()),
                    }))
                    .into_response()
                }
                Err(Error::Denied(message)) => (StatusCode::FORBIDDEN, message).into_response(),
                Err(other) => (StatusCode::BAD_GATEWAY, other.to_string()).into_response(),
            }
        }
        "/loop" => {
            // Calls itself through the runtime until the nesting limit answers.
            let again = http::Request::get("/api/host/loop")
                .body(Body::empty())
                .map_err(|e| Error::Protocol(e.to_string()))?;
            fetch(again).await?
        }
        "/kv" => {
            let key = query(&req, "key").unwrap_or_default();
            match req.method().as_str() {
                "GET" => match kv::get(&key).await? {
                    Some(value) => value.into_response(),
                    None => StatusCode::NOT_FOUND.into_response(),
                },
                "PUT" => {
                    // `?repeat=n` stores the body n times over: a value larger than the body.
                    let repeat = query(&req, "repeat")
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(1);
                    kv::set(&key, req.body().as_bytes().repeat(repeat)).await?;
                    if let Some(ms) = query(&req, "sleep").and_then(|ms| ms.parse().ok()) {
                        sleep(Duration::from_millis(ms)).await;
                    }
                    StatusCode::NO_CONTENT.into_response()
                }
                "DELETE" => {
                    kv::delete(&key).await?;
                    StatusCode::NO_CONTENT.into_response()
                }
                _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
            }
        }
        "/kv/keys" => {
            Json(kv::keys(&query(&req, "prefix").unwrap_or_default()).await?).into_response()
        }
        // The entries under `prefix`, values as text: `[[key, value], ...]`.
        "/kv/scan" => {
            let entries = kv::scan(&query(&req, "prefix").unwrap_or_default()).await?;
            let entries: Vec<(String, String)> = entries
                .into_iter()
                .map(|(key, value)| (key, String::from_utf8_lossy(&value).into_owned()))
                .collect();
            Json(entries).into_response()
        }
        // Adds one to the JSON number under `key`, atomically; answers the new number.
        "/kv/bump" => {
            let key = query(&req, "key").unwrap_or_default();
            let n = kv::update_json(&key, |n: Option<u64>| n.unwrap_or(0) + 1).await?;
            n.to_string().into_response()
        }
        // Where the plugin is served, as the host told it.
        "/site" => Json(json!({
            "mount": vlugin::mount(),
            "origin": vlugin::origin(),
            "url": req.url(),
            "todo": vlugin::url_for("/todos/7"),
        }))
        .into_response(),
        "/random" => {
            let mut bytes = [0u8; 32];
            fill_random(&mut bytes);
            Json(json!({ "uuid": uuid::Uuid::new_v4().to_string(), "bytes": bytes.to_vec() }))
                .into_response()
        }
        "/now" => {
            let ms = now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            Json(json!({ "ms": ms })).into_response()
        }
        "/log" => {
            log::error!("an error line");
            log::warn!("a warning line");
            log::info!("an info line");
            log::debug!("a debug line");
            "logged".into_response()
        }
        "/config" => Json(config::<serde_json::Value>()?).into_response(),
        // `count` headers `x-h<i>` of `size` bytes each, and a body of `body_kib` KiB.
        "/headers" => {
            let number = |name, default| {
                query(&req, name)
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(default)
            };
            let body = vec![b'b'; number("body_kib", 0) << 10];
            let mut response = Response::new(body.into());
            let value = http::HeaderValue::from_str(&"v".repeat(number("size", 1)))
                .map_err(http::Error::from)?;
            for i in 0..number("count", 1) {
                let name =
                    http::HeaderName::try_from(format!("x-h{i}")).map_err(http::Error::from)?;
                response.headers_mut().append(name, value.clone());
            }
            response
        }
        _ => (StatusCode::NOT_FOUND, format!("no route {path}")).into_response(),
    })
}
