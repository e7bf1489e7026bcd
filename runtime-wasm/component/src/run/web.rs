//! Requests and responses between the web's `Request`/`Response` and the session's whole-body
//! ones. Header values are bytes on both sides: the web's ByteStrings hold one byte per UTF-16
//! code unit (0 to 255), which is how they are converted here.

use crate::wasi::{IncomingRequest, OutgoingRequest, Response};
use js_sys::{Array, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, ResponseInit};

/// The request the handler receives: `request`'s method, URL scheme and authority, headers and
/// whole body, at `path_with_query` (relative to the plugin's prefix).
pub async fn incoming(
    request: &Request,
    path_with_query: String,
) -> Result<IncomingRequest, JsValue> {
    let url = request.url();
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url.as_str()));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let body = JsFuture::from(request.array_buffer()?).await?;
    Ok(IncomingRequest {
        method: request.method(),
        scheme: scheme.to_owned(),
        authority: authority.to_owned(),
        path_with_query,
        headers: headers(&request.headers())?,
        body: Uint8Array::new(&body).to_vec(),
    })
}

/// The web response of the handler's answer.
pub fn answer(response: Response) -> Result<web_sys::Response, JsValue> {
    let init = ResponseInit::new();
    init.set_status(response.status);
    init.set_headers(&web_headers(&response.headers)?.into());
    // Statuses such as 204 and 304 may have no body, not even an empty one. The body is
    // copied into JavaScript: a view of this module's memory would change under it.
    let body = (!response.body.is_empty()).then(|| Uint8Array::from(response.body.as_slice()));
    web_sys::Response::new_with_opt_js_u8_array_and_init(body.as_ref(), &init)
}

/// The web request of an outgoing one.
pub fn outgoing(request: &OutgoingRequest) -> Result<Request, JsValue> {
    let init = RequestInit::new();
    init.set_method(&request.method);
    init.set_headers(&web_headers(&request.headers)?.into());
    if !request.body.is_empty() {
        init.set_body(&Uint8Array::from(request.body.as_slice()));
    }
    Request::new_with_str_and_init(&request.url, &init)
}

/// A response the outside world gave, its body read whole.
pub async fn received(response: &web_sys::Response) -> Result<Response, JsValue> {
    let body = JsFuture::from(response.array_buffer()?).await?;
    Ok(Response {
        status: response.status(),
        headers: headers(&response.headers())?,
        body: Uint8Array::new(&body).to_vec(),
    })
}

fn headers(headers: &Headers) -> Result<Vec<(String, Vec<u8>)>, JsValue> {
    let mut list = Vec::new();
    let entries = js_sys::try_iter(headers)?.ok_or("Headers cannot be iterated")?;
    for entry in entries {
        let entry: Array = entry?.unchecked_into();
        let name = entry.get(0).as_string().unwrap_or_default();
        let value = entry.get(1).as_string().unwrap_or_default();
        list.push((name, value.chars().map(|c| c as u32 as u8).collect()));
    }
    Ok(list)
}

fn web_headers(list: &[(String, Vec<u8>)]) -> Result<Headers, JsValue> {
    let headers = Headers::new()?;
    for (name, value) in list {
        let value: String = value.iter().map(|&byte| char::from(byte)).collect();
        headers.append(name, &value)?;
    }
    Ok(headers)
}
