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
use serde::Serialize;
use vlugin::*;

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

#[vlugin]
async fn proxy(req: Request) -> Response {
    let source = query_param(&req, "path").unwrap_or_else(|| DEFAULT_SOURCE.to_owned());
    let outbound = match http::Request::get(source.as_str()).body(Body::empty()) {
        Ok(outbound) => outbound,
        Err(error) => {
            let message = format!("?path={source} is not a path or URL: {error}");
            return (StatusCode::BAD_REQUEST, message).into_response();
        }
    };
    let answer = match fetch(outbound).await {
        Ok(answer) => answer,
        // The runtime's message names the host and the manifest change that would allow it.
        Err(vlugin::Error::Denied(message)) => {
            log::warn!("proxy {source}: {message}");
            return (StatusCode::FORBIDDEN, message).into_response();
        }
        Err(error) => {
            log::warn!("proxy {source}: {error}");
            return (StatusCode::BAD_GATEWAY, error.to_string()).into_response();
        }
    };

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
    Json(Proxied {
        transformed: original.to_uppercase(),
        status: answer.status().as_u16(),
        source,
        original,
        via,
    })
    .into_response()
}

/// The decoded value of `name` in the request's query string (`?path=%2Fapi%2Fecho` gives
/// `/api/echo`).
fn query_param(req: &Request, name: &str) -> Option<String> {
    let query = req.uri().query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}
