//! Streamed answers, server-sent events and work after the answer, and bodies read as they
//! arrive (ABI 4), for the conformance and browser tests. Its routes:
//!
//! - `GET /sse?n=N&gap=MS`: N events (`id: i`, `event: tick`, `data: {"i":i,"at":MS_NOW}`),
//!   one every MS ms (the first at once), then the end.
//! - `GET /bytes?mib=N&chunk=BYTES`: N MiB where byte k is `k % 251`, in chunks of BYTES
//!   (65,536 by default), as fast as the reader takes them; made chunk by chunk.
//! - `GET /count?id=X&gap=MS`: endless, the line `tick i\n` every MS ms (50 by default); each
//!   chunk stores its i under kv key `produced:X` first. `GET /produced?id=X` answers it: a
//!   reader that goes away stops the producer, so it stops growing.
//! - `GET /fail?after=K`: K chunks `chunk i\n`, then the error "the producer failed on
//!   purpose" (an END with that reason).
//! - `GET /sse-fail`: two events, then that error (an END with that reason, which the host
//!   sends as a last comment).
//! - `GET /after?id=X&ms=MS`: answers `accepted` at once, and after the answer
//!   (`wait_until`) sleeps MS ms and stores `done` under kv key `after:X`;
//!   `GET /after-status?id=X` answers it, or 404.
//! - `POST /upload`: reads the request's body a chunk at a time (streamed when the entry sets
//!   `stream_requests`; otherwise one chunk) and hashes it as it goes; answers
//!   `{"bytes": N, "sha256": "<hex>", "chunks": K, "largest": M}` (K chunks read, M bytes the
//!   largest). A body that ends early answers its error: 413 past `max_stream_bytes`, 400 when
//!   it broke off.
//! - `POST /echo`: answers 200 with the request's body passed on as it is read (streamed when
//!   the request's is), and the request's `content-type`, if any.
//! - `GET /proxy?url=URL` (percent-encoded): `fetch_stream`s URL and answers its status, its
//!   `content-type` (if any) and its body, passed on as it is read; 502 with the error's text
//!   if the fetch fails.
use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt::Write;
use std::time::{Duration, UNIX_EPOCH};
use vlugin::prelude::*;
use vlugin::sse::{Event, Sse};

#[cfg(all(test, not(target_arch = "wasm32")))] // the test host is native-only
mod tests;

const FAILURE: &str = "the producer failed on purpose";

#[vlugin]
async fn streaming(req: Request) -> Response {
    Router::new()
        .get("/sse", sse)
        .get("/bytes", bytes)
        .get("/count", count)
        .get("/produced", |req, _| stored(req, "produced"))
        .get("/fail", fail)
        .get("/sse-fail", |_, _| async { sse_fail() })
        .get("/after", after)
        .get("/after-status", |req, _| stored(req, "after"))
        .post("/upload", |req, _| upload(req))
        .post("/echo", |req, _| async { echo(req) })
        .get("/proxy", |req, _| proxy(req))
        .handle(req)
        .await
}

#[derive(Deserialize)]
struct Ticks {
    n: u32,
    #[serde(default)]
    gap: u64,
}

async fn sse(req: Request, _: Params) -> vlugin::Result<impl IntoResponse> {
    let Ticks { n, gap } = req.query()?;
    let events = stream::unfold(0, move |i| async move {
        if i == n {
            return None;
        }
        if i > 0 {
            sleep(Duration::from_millis(gap)).await;
        }
        Some((Ok::<_, Error>(tick(i)), i + 1))
    });
    Ok(Sse::new(events))
}

fn tick(i: u32) -> Event {
    let at = now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    Event::default()
        .id(i.to_string())
        .event("tick")
        .data(format!(r#"{{"i":{i},"at":{at}}}"#))
}

#[derive(Deserialize)]
struct Bytes {
    mib: u64,
    #[serde(default = "default_chunk")]
    chunk: u64,
}

fn default_chunk() -> u64 {
    65_536
}

async fn bytes(req: Request, _: Params) -> vlugin::Result<impl IntoResponse> {
    let Bytes { mib, chunk } = req.query()?;
    let (total, chunk) = (mib << 20, chunk.max(1));
    let chunks = stream::iter((0..total).step_by(chunk as usize))
        .map(move |start| Ok::<_, Error>(bytes_from(start, total.min(start + chunk))));
    let octets = [(header::CONTENT_TYPE, "application/octet-stream")];
    Ok((octets, Body::from_stream(chunks)))
}

/// Bytes `start..end` of the body, byte k being `k % 251`: copied from one period of it.
fn bytes_from(start: u64, end: u64) -> Vec<u8> {
    const PERIOD: [u8; 251] = {
        let mut period = [0; 251];
        let mut k = 0;
        while k < 251 {
            period[k] = k as u8;
            k += 1;
        }
        period
    };
    let len = (end - start) as usize;
    let mut bytes = Vec::with_capacity(len);
    let mut k = (start % 251) as usize;
    while bytes.len() < len {
        let take = (251 - k).min(len - bytes.len());
        bytes.extend_from_slice(&PERIOD[k..k + take]);
        k = 0;
    }
    bytes
}

#[derive(Deserialize)]
struct Count {
    id: String,
    #[serde(default = "default_gap")]
    gap: u64,
}

fn default_gap() -> u64 {
    50
}

async fn count(req: Request, _: Params) -> vlugin::Result<Body> {
    let Count { id, gap } = req.query()?;
    let key = format!("produced:{id}");
    let lines = stream::unfold(0u64, move |i| {
        let key = key.clone();
        async move {
            sleep(Duration::from_millis(gap)).await;
            let stored = kv::set(&key, i.to_string()).await;
            Some((stored.map(|()| format!("tick {i}\n")), i + 1))
        }
    });
    Ok(Body::from_stream(lines))
}

#[derive(Deserialize)]
struct Id {
    id: String,
}

/// The text stored under `{prefix}:{id}`, or 404.
async fn stored(req: Request, prefix: &str) -> vlugin::Result<String> {
    let Id { id } = req.query()?;
    let key = format!("{prefix}:{id}");
    match kv::get(&key).await? {
        Some(value) => Ok(String::from_utf8_lossy(&value).into_owned()),
        None => Err(Error::new(
            StatusCode::NOT_FOUND,
            format!("nothing under {key}"),
        )),
    }
}

#[derive(Deserialize)]
struct Fail {
    after: u32,
}

async fn fail(req: Request, _: Params) -> vlugin::Result<Body> {
    let Fail { after } = req.query()?;
    let chunks = stream::iter(0..=after).map(move |i| match i < after {
        true => Ok(format!("chunk {i}\n")),
        false => Err(FAILURE),
    });
    Ok(Body::from_stream(chunks))
}

fn sse_fail() -> impl IntoResponse {
    let events = stream::iter(0..3).map(|i| match i < 2 {
        true => Ok(tick(i)),
        false => Err(FAILURE),
    });
    Sse::new(events)
}

#[derive(Deserialize)]
struct After {
    id: String,
    ms: u64,
}

async fn after(req: Request, _: Params) -> vlugin::Result<&'static str> {
    let After { id, ms } = req.query()?;
    wait_until(async move {
        sleep(Duration::from_millis(ms)).await;
        if let Err(error) = kv::set(&format!("after:{id}"), "done").await {
            log::error!("after:{id} was not stored: {error}");
        }
    });
    Ok("accepted")
}

/// What `POST /upload` read.
#[derive(Serialize)]
struct Upload {
    bytes: u64,
    sha256: String,
    chunks: u64,
    largest: usize,
}

async fn upload(req: Request) -> vlugin::Result<Json<Upload>> {
    let mut chunks = req.into_body().into_stream();
    let mut hash = Sha256::new();
    let mut read = Upload {
        bytes: 0,
        sha256: String::new(),
        chunks: 0,
        largest: 0,
    };
    while let Some(chunk) = chunks.next_chunk().await {
        let chunk = chunk?;
        hash.update(&chunk);
        read.bytes += chunk.len() as u64;
        read.chunks += 1;
        read.largest = read.largest.max(chunk.len());
    }
    for byte in hash.finalize() {
        let _ = write!(read.sha256, "{byte:02x}");
    }
    Ok(Json(read))
}

/// The request's body, passed on unread, with its `content-type`.
fn echo(req: Request) -> Response {
    let (request, body) = req.into_parts();
    let mut response = Response::new(body);
    if let Some(kind) = request.headers.get(header::CONTENT_TYPE) {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, kind.clone());
    }
    response
}

#[derive(Deserialize)]
struct Proxied {
    url: String,
}

async fn proxy(req: Request) -> vlugin::Result<Response> {
    let Proxied { url } = req.query()?;
    let request = http::Request::get(url.as_str()).body(Body::empty())?;
    let upstream = match fetch_stream(request).await {
        Ok(upstream) => upstream,
        Err(error) => return Ok((StatusCode::BAD_GATEWAY, error.to_string()).into_response()),
    };
    let (fetched, body) = upstream.into_parts();
    let mut response = Response::new(body);
    *response.status_mut() = fetched.status;
    if let Some(kind) = fetched.headers.get(header::CONTENT_TYPE) {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, kind.clone());
    }
    Ok(response)
}
