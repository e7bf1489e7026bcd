//! The one place where web requests and responses become `http` types and back.
//!
//! Header values are ByteStrings on the web (UTF-16 code units 0..=255) and bytes in `http`:
//! each code unit is one byte, so non-ASCII bytes survive both ways.

use crate::error::DispatchError;
use http::{HeaderName, HeaderValue, Method, StatusCode, Uri};
use vlugin::{Body, Request, Response};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The header on every response a plugin produced, naming the plugin.
pub const PLUGIN_HEADER: &str = "x-valor-plugin";

/// Reads a web request into an `http` request whose URI is `relative_uri` (path + query).
pub async fn read_request(
    request: &web_sys::Request,
    relative_uri: &str,
) -> Result<Request, DispatchError> {
    let bad = |reason: String| DispatchError::BadRequest { reason };
    let method = Method::from_bytes(request.method().as_bytes())
        .map_err(|_| bad(format!("invalid method {:?}", request.method())))?;
    let uri = Uri::try_from(relative_uri).map_err(|e| bad(format!("invalid URI: {e}")))?;

    let mut builder = http::Request::builder().method(method).uri(uri);
    let entries = js_sys::try_iter(&request.headers())
        .ok()
        .flatten()
        .ok_or_else(|| bad("its headers cannot be iterated".into()))?;
    for entry in entries {
        let pair: js_sys::Array = entry
            .map_err(|e| bad(crate::sys::describe(&e)))?
            .unchecked_into();
        let name = pair.get(0).as_string().unwrap_or_default();
        let value = byte_string_to_bytes(&pair.get(1).as_string().unwrap_or_default());
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| bad(format!("invalid header name {name:?}")))?;
        let value = HeaderValue::from_bytes(&value)
            .map_err(|_| bad(format!("invalid value for header {name}")))?;
        builder = builder.header(name, value);
    }

    let body = if request.body().is_some() {
        let promise = request
            .array_buffer()
            .map_err(|e| bad(crate::sys::describe(&e)))?;
        let buffer = JsFuture::from(promise).await.map_err(|e| {
            bad(format!(
                "its body could not be read: {}",
                crate::sys::describe(&e)
            ))
        })?;
        js_sys::Uint8Array::new(&buffer).to_vec()
    } else {
        Vec::new()
    };
    builder
        .body(Body::from(body))
        .map_err(|e| bad(e.to_string()))
}

/// Turns a plugin's response into a web response tagged with the plugin's name.
pub fn write_response(
    response: Response,
    plugin: &str,
) -> Result<web_sys::Response, DispatchError> {
    let invalid = |reason: String| DispatchError::InvalidResponse {
        plugin: plugin.to_owned(),
        reason,
    };
    let status = response.status();
    if !(200..=599).contains(&status.as_u16()) {
        return Err(invalid(format!(
            "status {status} cannot be sent from a service worker (only 200 to 599)"
        )));
    }
    let headers = web_sys::Headers::new().map_err(|e| invalid(crate::sys::describe(&e)))?;
    for (name, value) in response.headers() {
        headers
            .append(name.as_str(), &bytes_to_byte_string(value.as_bytes()))
            .map_err(|e| invalid(format!("header {name}: {}", crate::sys::describe(&e))))?;
    }
    build(
        status,
        &headers,
        response.into_body().into_bytes(),
        Some(plugin),
    )
    .map_err(|e| invalid(crate::sys::describe(&e)))
}

/// The response for a dispatch error: its status, and a plain-text body saying what happened.
pub fn error_response(error: &DispatchError, plugin: Option<&str>) -> web_sys::Response {
    let message = format!("{error}\n");
    let response = web_sys::Headers::new().and_then(|headers| {
        headers.set("content-type", "text/plain; charset=utf-8")?;
        build(error.status(), &headers, message.into_bytes(), plugin)
    });
    // Every input here is valid, so this cannot fail; if the engine disagrees, fail loudly.
    response.expect("building a plain-text error response")
}

fn build(
    status: StatusCode,
    headers: &web_sys::Headers,
    mut body: Vec<u8>,
    plugin: Option<&str>,
) -> Result<web_sys::Response, wasm_bindgen::JsValue> {
    if let Some(plugin) = plugin {
        headers.set(PLUGIN_HEADER, plugin)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(status.as_u16());
    init.set_status_text(status.canonical_reason().unwrap_or(""));
    init.set_headers(headers);
    // The Fetch standard forbids a body on these statuses; drop it rather than throw.
    let null_body = matches!(status.as_u16(), 204 | 205 | 304);
    let body = (!null_body).then_some(&mut body[..]);
    web_sys::Response::new_with_opt_u8_array_and_init(body, &init)
}

fn byte_string_to_bytes(value: &str) -> Vec<u8> {
    // Code points above 255 cannot occur in a ByteString; map them to an invalid byte so
    // HeaderValue rejects them instead of silently truncating.
    value
        .chars()
        .map(|c| u8::try_from(c).unwrap_or(0x7f))
        .collect()
}

fn bytes_to_byte_string(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}
