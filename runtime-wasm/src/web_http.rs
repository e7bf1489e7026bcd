//! The one place where web requests and responses become `http` types and back: the page's
//! requests and the plugins' answers, and the plugins' outbound requests and their answers.
//!
//! Header values are ByteStrings on the web (UTF-16 code units 0..=255) and bytes in `http`:
//! each code unit is one byte, so non-ASCII bytes survive both ways.

use crate::manifest::Credentials;
use crate::sys;
use http::header::{CONTENT_SECURITY_POLICY, X_CONTENT_TYPE_OPTIONS};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use vlugin::{Body, Request, Response};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The header on every response a plugin produced, naming the plugin.
pub const PLUGIN_HEADER: &str = "x-valor-plugin";

/// Marks a response as the plugin's (names are validated to a header-safe alphabet when the
/// manifest is read), and forbids the browser to guess another content type than it declares
/// (`nosniff`: a JSON answer is never run as a script).
pub fn tag(response: &mut Response, plugin: &str) {
    let headers = response.headers_mut();
    if let Ok(name) = HeaderValue::from_str(plugin) {
        headers.insert(PLUGIN_HEADER, name);
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
}

/// Makes any document the response carries run in an opaque origin (`sandbox`), never as the
/// app's: its scripts cannot read the app's cookies, storage or plugins' data. A policy of
/// the plugin's own is kept beside it (browsers enforce every policy a response carries).
pub fn sandbox(response: &mut Response) {
    response
        .headers_mut()
        .append(CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox"));
}

/// Why a page's request could not be read.
#[derive(Debug)]
pub enum Unreadable {
    /// Its body is larger than the plugin accepts.
    TooLarge {
        /// The body's size in bytes.
        size: u64,
    },
    /// It is not a request a plugin can be handed; says why.
    Invalid(String),
}

/// Reads a page's request into an `http` request whose URI is `relative_uri` (path + query),
/// refusing a body over `max_body` bytes before it is copied into wasm memory.
pub async fn read_request(
    request: &web_sys::Request,
    relative_uri: &str,
    max_body: u32,
) -> Result<Request, Unreadable> {
    let method = Method::from_bytes(request.method().as_bytes())
        .map_err(|_| Unreadable::Invalid(format!("invalid method {:?}", request.method())))?;
    let uri = Uri::try_from(relative_uri)
        .map_err(|e| Unreadable::Invalid(format!("invalid URI: {e}")))?;
    let headers = read_headers(&request.headers()).map_err(Unreadable::Invalid)?;
    // Not `request.body`: Firefox has no such attribute (it is always `undefined` there), so a
    // check on it drops every body. GET and HEAD requests cannot carry one (the Request
    // constructor refuses), so there is nothing to wait for.
    let body = if matches!(method, Method::GET | Method::HEAD) {
        Vec::new()
    } else {
        let buffer = array_buffer(request.array_buffer())
            .await
            .map_err(Unreadable::Invalid)?;
        let size = u64::from(buffer.byte_length());
        if size > u64::from(max_body) {
            return Err(Unreadable::TooLarge { size });
        }
        js_sys::Uint8Array::new(&buffer).to_vec()
    };
    let mut request = Request::new(Body::from(body));
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    Ok(request)
}

/// Turns a plugin's (or the runtime's) response into one the service worker can answer with.
pub fn to_web_response(response: Response) -> Result<web_sys::Response, String> {
    let status = response.status();
    if !(200..=599).contains(&status.as_u16()) {
        return Err(format!(
            "status {status} cannot be sent from a service worker (only 200 to 599)"
        ));
    }
    let headers = write_headers(response.headers())?;
    let init = web_sys::ResponseInit::new();
    init.set_status(status.as_u16());
    init.set_status_text(status.canonical_reason().unwrap_or(""));
    init.set_headers(&headers);
    // The Fetch standard forbids a body on these statuses; drop it rather than throw.
    let null_body = matches!(status.as_u16(), 204 | 205 | 304);
    let body = (!null_body).then(|| sys::copy_to_js(response.body().as_bytes()));
    web_sys::Response::new_with_opt_js_u8_array_and_init(body.as_ref(), &init)
        .map_err(|e| sys::describe(&e))
}

/// A plugin's outbound request as a web request to `url`, cancelled through `signal`.
///
/// Redirects are not followed (`manual`): the browser would follow them to any host, past the
/// plugin's allowlist. Credentials are sent only in the mode the plugin's entry gives.
pub fn to_web_request(
    request: &Request,
    url: &str,
    credentials: Credentials,
    signal: &web_sys::AbortSignal,
) -> Result<web_sys::Request, String> {
    let init = web_sys::RequestInit::new();
    init.set_method(request.method().as_str());
    init.set_headers(&write_headers(request.headers())?.into());
    init.set_signal(Some(signal));
    init.set_redirect(web_sys::RequestRedirect::Manual);
    init.set_credentials(match credentials {
        Credentials::Omit => web_sys::RequestCredentials::Omit,
        Credentials::SameOrigin => web_sys::RequestCredentials::SameOrigin,
        Credentials::Include => web_sys::RequestCredentials::Include,
    });
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        init.set_body(&sys::copy_to_js(request.body().as_bytes()));
    }
    web_sys::Request::new_with_str_and_init(url, &init).map_err(|e| sys::describe(&e))
}

/// Reads a response from the network completely.
pub async fn read_response(response: &web_sys::Response) -> Result<Response, String> {
    let status = StatusCode::from_u16(response.status())
        .map_err(|_| format!("the response has status {}", response.status()))?;
    let headers = read_headers(&response.headers())?;
    let body = read_body(response.array_buffer()).await?;
    let mut answer = Response::new(Body::from(body));
    *answer.status_mut() = status;
    *answer.headers_mut() = headers;
    Ok(answer)
}

fn read_headers(headers: &web_sys::Headers) -> Result<HeaderMap, String> {
    let entries = js_sys::try_iter(headers)
        .ok()
        .flatten()
        .ok_or("the headers cannot be iterated")?;
    let mut map = HeaderMap::new();
    for entry in entries {
        let pair: js_sys::Array = entry.map_err(|e| sys::describe(&e))?.unchecked_into();
        let name = pair.get(0).as_string().unwrap_or_default();
        let value = byte_string_to_bytes(&pair.get(1).as_string().unwrap_or_default());
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name:?}"))?;
        let value = HeaderValue::from_bytes(&value)
            .map_err(|_| format!("invalid value for header {name}"))?;
        // `append` panics past `HeaderMap`'s size limit (about 24,000 distinct names).
        map.try_append(name, value)
            .map_err(|_| "too many distinct header names".to_owned())?;
    }
    Ok(map)
}

fn write_headers(headers: &HeaderMap) -> Result<web_sys::Headers, String> {
    let web = web_sys::Headers::new().map_err(|e| sys::describe(&e))?;
    for (name, value) in headers {
        web.append(name.as_str(), &bytes_to_byte_string(value.as_bytes()))
            .map_err(|e| format!("header {name}: {}", sys::describe(&e)))?;
    }
    Ok(web)
}

async fn read_body(
    buffer: Result<js_sys::Promise, wasm_bindgen::JsValue>,
) -> Result<Vec<u8>, String> {
    Ok(js_sys::Uint8Array::new(&array_buffer(buffer).await?.into()).to_vec())
}

async fn array_buffer(
    buffer: Result<js_sys::Promise, wasm_bindgen::JsValue>,
) -> Result<js_sys::ArrayBuffer, String> {
    let buffer = JsFuture::from(buffer.map_err(|e| sys::describe(&e))?)
        .await
        .map_err(|e| format!("the body could not be read: {}", sys::describe(&e)))?;
    Ok(buffer.unchecked_into())
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
