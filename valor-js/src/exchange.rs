//! Crossing between HTTP and the script: a request as the Worker interface's `event.data`, a
//! reply as a response, and the results of host operations as JavaScript values.

use rquickjs::{Array, ArrayBuffer, Ctx, IntoJs, Null, Object, Value};
use vlugin::{http, Body, Request, Response, StatusCode};

/// The header carrying a request's id to the script; its reply names it in `x-correlation-id`.
pub const REQUEST_ID: &str = "x-request-id";

/// `event.data`: `{url, method, headers: [[name, value], ...], body: ArrayBuffer | null}`, with
/// the request's id in an `x-request-id` header (replacing any the page sent). A streamed body
/// is taken from `request` and held ([`reading`](crate::reading)): `body` is then its number.
pub fn request_data<'js>(
    ctx: &Ctx<'js>,
    id: &str,
    request: &mut Request,
) -> rquickjs::Result<Object<'js>> {
    let data = Object::new(ctx.clone())?;
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    data.set("url", vlugin::url_for(path))?;
    data.set("method", request.method().as_str())?;
    let headers = Array::new(ctx.clone())?;
    let pairs = request
        .headers()
        .iter()
        .filter(|(name, _)| *name != REQUEST_ID)
        .map(|(name, value)| {
            (
                name.as_str(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .chain([(REQUEST_ID, id.to_owned())]);
    for (index, (name, value)) in pairs.enumerate() {
        headers.set(index, pair(ctx, name, value)?)?;
    }
    data.set("headers", headers)?;
    let body = request.body().as_bytes();
    if request.body().is_streamed() {
        let body = std::mem::take(request.body_mut());
        data.set("body", crate::reading::hold(body, Some(id)))?;
    } else if body.is_empty() {
        data.set("body", Null)?;
    } else {
        data.set("body", ArrayBuffer::new_copy(ctx.clone(), body)?)?;
    }
    Ok(data)
}

/// A reply of the script, as the response the host sends.
pub fn response(
    status: u16,
    headers: impl Iterator<Item = (String, String)>,
    body: Body,
) -> Result<Response, String> {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    builder
        .body(body)
        .map_err(|error| format!("the reply is not a valid response: {error}"))
}

/// A response of the engine itself: `status`, with `text` saying why.
pub fn text(status: StatusCode, text: &str) -> Response {
    let mut response = Response::new(Body::from(format!("{text}\n")));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The result of a host operation the script started.
pub enum Outcome {
    /// A timer fired; a value was stored or deleted.
    Done,
    /// The response to a `fetch`.
    Fetched(Response),
    /// The next chunk of a streamed body, or none at its end.
    Chunk(Option<Vec<u8>>),
    /// A stored value, or none.
    Value(Option<Vec<u8>>),
    /// Stored keys.
    Keys(Vec<String>),
    /// Stored entries.
    Entries(Vec<(String, Vec<u8>)>),
}

impl Outcome {
    /// What the script's promise resolves to: `undefined`; `[status, [[name, value]], body]`
    /// (its body an ArrayBuffer, or the number of a streamed body held for the script); an
    /// ArrayBuffer or `null`; an array of keys; an array of `[key, ArrayBuffer]`.
    pub fn into_js<'js>(self, ctx: &Ctx<'js>) -> rquickjs::Result<Value<'js>> {
        let bytes = |bytes: Vec<u8>| ArrayBuffer::new(ctx.clone(), bytes);
        match self {
            Outcome::Done => Ok(Value::new_undefined(ctx.clone())),
            Outcome::Fetched(response) => {
                let (parts, body) = response.into_parts();
                let headers = Array::new(ctx.clone())?;
                for (index, (name, value)) in parts.headers.iter().enumerate() {
                    let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                    headers.set(index, pair(ctx, name.as_str(), value)?)?;
                }
                let fetched = Array::new(ctx.clone())?;
                fetched.set(0, parts.status.as_u16())?;
                fetched.set(1, headers)?;
                if body.is_streamed() {
                    fetched.set(2, crate::reading::hold(body, None))?;
                } else {
                    fetched.set(2, bytes(body.into_bytes())?)?;
                }
                fetched.into_js(ctx)
            }
            Outcome::Value(None) | Outcome::Chunk(None) => Ok(Value::new_null(ctx.clone())),
            Outcome::Value(Some(value)) | Outcome::Chunk(Some(value)) => bytes(value)?.into_js(ctx),
            Outcome::Keys(keys) => keys.into_js(ctx),
            Outcome::Entries(entries) => {
                let array = Array::new(ctx.clone())?;
                for (index, (key, value)) in entries.into_iter().enumerate() {
                    array.set(index, pair(ctx, key, bytes(value)?)?)?;
                }
                array.into_js(ctx)
            }
        }
    }
}

/// `[a, b]`.
fn pair<'js>(
    ctx: &Ctx<'js>,
    a: impl IntoJs<'js>,
    b: impl IntoJs<'js>,
) -> rquickjs::Result<Array<'js>> {
    let array = Array::new(ctx.clone())?;
    array.set(0, a)?;
    array.set(1, b)?;
    Ok(array)
}

/// Header pairs from the prelude (`[[name, value], ...]`; it makes every item a pair).
pub fn pairs_of(headers: Vec<Vec<String>>) -> impl Iterator<Item = (String, String)> {
    headers.into_iter().filter_map(|pair| {
        let mut pair = pair.into_iter();
        Some((pair.next()?, pair.next()?))
    })
}

/// A copy of the bytes of `buffer` (none if it was detached).
pub fn bytes_of(buffer: &ArrayBuffer<'_>) -> Vec<u8> {
    bytes_in(buffer, 0, usize::MAX)
}

/// A copy of `length` bytes of `buffer` from `offset`, as far as it has them.
pub fn bytes_in(buffer: &ArrayBuffer<'_>, offset: usize, length: usize) -> Vec<u8> {
    // SAFETY: the slice is copied at once, before any JavaScript can run and detach or
    // resize the buffer.
    let bytes = unsafe { buffer.as_bytes() }.unwrap_or_default();
    let end = offset.saturating_add(length).min(bytes.len());
    bytes
        .get(offset..end)
        .map(<[u8]>::to_vec)
        .unwrap_or_default()
}
