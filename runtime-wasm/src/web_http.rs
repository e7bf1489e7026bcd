//! A plugin's outbound request as a web request, and the network's answer as an `http`
//! response. (A page's requests and the answers to them skip `http` types: see `inbound` and
//! `reply`.)
//!
//! Header values are ByteStrings on the web (UTF-16 code units 0..=255) and bytes in `http`:
//! each code unit is one byte, so non-ASCII bytes survive both ways.

use crate::manifest::Credentials;
use crate::sys;
use futures::StreamExt;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use std::borrow::Cow;
use vlugin::{Body, Request, Response};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

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

/// The chunks of a web body as they arrive (none if there is none: `body` is `None`). Dropping
/// the stream cancels the body's reader (wasm-streams' `IntoStream` does on drop): what the
/// body comes from is no longer read.
pub fn body_chunks(
    body: Option<web_sys::ReadableStream>,
) -> impl futures::Stream<Item = valor_host::bodies::Chunk> {
    let chunks = body.map(|body| wasm_streams::ReadableStream::from_raw(body).into_stream());
    futures::stream::iter(chunks).flatten().map(|chunk| {
        chunk
            .map(|bytes| js_sys::Uint8Array::new(&bytes).to_vec())
            .map_err(|e| sys::describe(&e))
    })
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
    let buffer = JsFuture::from(buffer.map_err(|e| sys::describe(&e))?)
        .await
        .map_err(|e| format!("the body could not be read: {}", sys::describe(&e)))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// A header's name and value, as bytes.
pub type HeaderPair<'a> = (&'a [u8], &'a [u8]);

/// What `encode` makes of `headers`, as name and value bytes: read in two calls into JavaScript
/// whatever their number, rather than several per header, and with no `http` types.
pub fn encode_with_headers(
    headers: &web_sys::Headers,
    encode: &dyn Fn(&[HeaderPair]) -> Vec<u8>,
) -> Vec<u8> {
    // `name,value` per line: a name is a token (no comma), and neither a name nor a value can
    // hold a line break (`Headers` refuses them).
    let lines = js_sys::Array::from(headers)
        .join("\n")
        .as_string()
        .unwrap_or_default();
    let values: Vec<(&str, Cow<[u8]>)> = lines
        .split('\n')
        .filter_map(|line| line.split_once(','))
        .map(|(name, value)| (name, byte_string(value)))
        .collect();
    let pairs: Vec<HeaderPair> = values
        .iter()
        .map(|(name, value)| (name.as_bytes(), &value[..]))
        .collect();
    encode(&pairs)
}

/// A header value's bytes: its code units (a ByteString), borrowed when they are ASCII.
fn byte_string(value: &str) -> Cow<'_, [u8]> {
    if value.is_ascii() {
        Cow::Borrowed(value.as_bytes())
    } else {
        Cow::Owned(byte_string_to_bytes(value))
    }
}

/// A header value's code units (a ByteString: each is 0 to 255) as bytes. Any other could not
/// come from `Headers`; it becomes DEL, which `HeaderValue` (and a plugin's decoder) refuses,
/// rather than be silently truncated.
pub fn byte_string_to_bytes(value: &str) -> Vec<u8> {
    value
        .chars()
        .map(|c| u8::try_from(c).unwrap_or(0x7f))
        .collect()
}

fn bytes_to_byte_string(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}
