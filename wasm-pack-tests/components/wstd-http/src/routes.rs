//! Each route of the wstd component.

use wstd::http::{Body, Client, Error, Request, Response, StatusCode};
use wstd::time::{Duration, Instant};

pub async fn handle(request: Request<Body>) -> Result<Response<Body>, Error> {
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or_default().to_string();
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    };
    match path.as_str() {
        "/hello" => text(StatusCode::OK, "hello from a wstd component\n".into()),
        "/fetch" => match param("path") {
            Some(path) => fetch(&request, &path).await,
            None => text(StatusCode::BAD_REQUEST, "give ?path=\n".into()),
        },
        "/sleep" => {
            let ms = param("ms").and_then(|ms| ms.parse().ok()).unwrap_or(10);
            sleep(ms).await
        }
        _ => text(StatusCode::NOT_FOUND, format!("no route {path}\n")),
    }
}

fn text(status: StatusCode, body: String) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(body.into())?)
}

/// A GET of `path` on the origin `request` came to, through wstd's async client.
async fn fetch(request: &Request<Body>, path: &str) -> Result<Response<Body>, Error> {
    let uri = request.uri();
    let url = format!(
        "{}://{}{path}",
        uri.scheme_str().unwrap_or("https"),
        uri.authority()
            .map(|authority| authority.as_str())
            .unwrap_or_default()
    );
    let outgoing = Request::get(url).body(Body::empty())?;
    match Client::new().send(outgoing).await {
        Ok(response) => {
            let status = response.status();
            let body = response.into_body().str_contents().await?.to_string();
            text(status, body)
        }
        Err(error) => text(StatusCode::BAD_GATEWAY, format!("{error}\n")),
    }
}

/// Sleeps `ms` milliseconds on wstd's timer (a monotonic-clock pollable the executor polls).
async fn sleep(ms: u64) -> Result<Response<Body>, Error> {
    let start = Instant::now();
    wstd::task::sleep(Duration::from_millis(ms)).await;
    let slept = start.elapsed().as_millis();
    text(StatusCode::OK, format!("slept {slept} ms of {ms}\n"))
}
