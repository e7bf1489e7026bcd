//! Outbound fetch: asks another path of the app for its answer and returns a transformed copy.
//!
//! `GET /api/proxy?path=/api/hello` (the default) answers
//!
//! ```json
//! { "source": "/api/hello", "status": 200, "original": "OK response from a plugin",
//!   "transformed": "OK RESPONSE FROM A PLUGIN", "via": "hello" }
//! ```
//!
//! A path of the app's own origin that a plugin serves goes straight to that plugin; other paths
//! go to the network. Outbound requests are denied unless the manifest entry allows the host:
//! this one has `"allowed_hosts": ["self"]`, so `?path=https://example.com/` is refused by the
//! runtime and answered 403 with its explanation.
use serde::{Deserialize, Serialize};
use vlugin::prelude::*;

/// Where the proxied answer comes from when the request does not say.
const DEFAULT_SOURCE: &str = "/api/hello";

#[derive(Serialize)]
struct Proxied {
    /// What was fetched: a path of this origin, or an absolute URL.
    source: String,
    status: u16,
    /// The answer's body as text (invalid UTF-8 replaced).
    original: String,
    /// `original`, upper-cased: the transformation.
    transformed: String,
    /// The plugin that answered (its `x-valor-plugin` header); `null` when the network did.
    via: Option<String>,
}

/// The query: `?path=/api/echo` (percent-decoded).
#[derive(Deserialize)]
struct Query {
    path: Option<String>,
}

#[vlugin]
async fn proxy(req: Request) -> vlugin::Result<Json<Proxied>> {
    let Query { path } = req.query()?;
    let source = path.unwrap_or_else(|| DEFAULT_SOURCE.to_owned());
    let outbound = http::Request::get(source.as_str())
        .body(Body::empty())
        .map_err(|error| {
            let message = format!("?path={source} is not a path or URL: {error}");
            Error::new(StatusCode::BAD_REQUEST, message)
        })?;
    let answer = fetch(outbound).await.map_err(|error| {
        log::warn!("proxy {source}: {error}");
        match error {
            // The runtime's message names the host and the manifest change that would allow it.
            Error::Denied(message) => Error::new(StatusCode::FORBIDDEN, message),
            other => Error::new(StatusCode::BAD_GATEWAY, other.to_string()),
        }
    })?;

    let via = answer
        .headers()
        .get("x-valor-plugin")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let original = String::from_utf8_lossy(answer.body().as_bytes()).into_owned();
    log::info!(
        "proxy {source}: {} from {}",
        answer.status(),
        via.as_deref().unwrap_or("the network")
    );
    Ok(Json(Proxied {
        transformed: original.to_uppercase(),
        status: answer.status().as_u16(),
        source,
        original,
        via,
    }))
}
