use crate::body::BodyStream;
use crate::{Body, Response};
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::StatusCode;
use std::fmt::Display;
use valor_abi::codec;

const TEXT: &str = "text/plain; charset=utf-8";
const BYTES: &str = "application/octet-stream";

/// What a handler may return: anything that can become a [`Response`].
///
/// | type | status | `content-type` |
/// |---|---|---|
/// | `&'static str`, `String` | 200 | `text/plain; charset=utf-8` |
/// | `Vec<u8>`, `&'static [u8]` | 200 | `application/octet-stream` |
/// | [`Body`], `()` | 200 | none |
/// | [`Body::from_stream`] (a streamed [`Body`]) | 200 | none; its status and headers are sent first, then its chunks |
/// | a streamed [`Body`] the host handed over (an upload, a [`fetch_stream`](crate::fetch_stream)'s) | 200 | none; sent on as it is read, a chunk at a time |
/// | [`Sse`](crate::sse::Sse) | 200 | `text/event-stream` (and `cache-control: no-cache`) |
/// | [`StatusCode`] | that status | none, empty body |
/// | [`Json<T>`](crate::Json) | 200 | `application/json` |
/// | `(StatusCode, T)` | that status | as `T` |
/// | `([(name, value); N], T)`, `(StatusCode, [(name, value); N], T)` | as `T` / that status | as `T`, unless the headers set it |
/// | [`Redirect`](crate::Redirect) | 303, 307 or 308 | none, with `location` |
/// | `Result<T, E>` | as `T`; an `Err` as `E`, but at least an error (below) | as `T` / as `E` |
/// | [`Error`](crate::Error) | by kind: 400 for invalid JSON, 502 for a failed fetch, ... | `text/plain` |
/// | `http::Response<B>` | as built | as built |
///
/// # Examples
/// ```
/// use vlugin::prelude::*;
///
/// let response = (StatusCode::CREATED, "made").into_response();
/// assert_eq!(response.status(), StatusCode::CREATED);
/// assert_eq!(response.body().as_bytes(), b"made");
///
/// let failed: Result<&str, String> = Err("disk full".into());
/// let response = failed.into_response();
/// assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
/// assert_eq!(response.body().as_bytes(), b"disk full");
///
/// let missing: Result<&str, _> = Err((StatusCode::NOT_FOUND, "no such todo"));
/// assert_eq!(missing.into_response().status(), StatusCode::NOT_FOUND);
///
/// let created = (
///     StatusCode::CREATED,
///     [(header::LOCATION, "/todos/7"), (header::CACHE_CONTROL, "no-store")],
///     Json(7),
/// )
///     .into_response();
/// assert_eq!(created.status(), StatusCode::CREATED);
/// assert_eq!(created.headers()["location"], "/todos/7");
/// assert_eq!(created.headers()["content-type"], "application/json");
/// ```
///
/// In a header array, a name given once replaces the header `T` set (a `content-type`, say), and
/// a name given several times is sent several times (`set-cookie`). Names may be [`HeaderName`]s
/// (`header::LOCATION`) or strings, values strings: one that is not a valid header is a 500
/// that says why.
///
/// [`HeaderName`]: crate::HeaderName
///
/// **An `Err` is always an error.** `Result<T, E>` answers an `Err` with `E`'s response, whose
/// status is kept if it is an error (4xx or 5xx) and otherwise becomes 500: so an `Err` of plain
/// text (`String`, `&str`, whose own status is 200) is a 500 carrying the text, and an `Err` of
/// `(StatusCode::NOT_FOUND, "no such todo")` a 404. `E` is anything that implements
/// `IntoResponse`, [`Error`](crate::Error) included, so that `?` works on the host API; convert
/// other errors with `map_err` (`.map_err(|e| e.to_string())?` for a 500 with the message).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a plugin's response",
    label = "a #[vlugin] handler must return something that implements `IntoResponse`",
    note = "return text, bytes, Json(..), a StatusCode, (StatusCode, T), a Response, a vlugin::Error, or a Result of those (convert other errors with `map_err`)"
)]
pub trait IntoResponse {
    /// Builds the response.
    fn into_response(self) -> Response;

    /// The response in the wire encoding, as the runtime gets it. The types whose response is a
    /// status, a content type and a body write it without building an `http::Response`: a plugin
    /// that returns only those then links no `HeaderMap` code.
    #[doc(hidden)]
    fn __encode(self) -> Answer
    where
        Self: Sized,
    {
        let mut response = self.into_response();
        let body = response.body_mut().take_stream();
        Answer {
            encoded: codec::encode_response(&response),
            body,
        }
    }
}

/// A handler's answer as the executor takes it: the encoded response (of a streamed body, its
/// status and headers, with an empty body), and the body's stream if it is streamed.
#[doc(hidden)]
pub struct Answer {
    pub(crate) encoded: Vec<u8>,
    pub(crate) body: Option<BodyStream>,
}

impl Answer {
    /// The encoded response (for tests of the encodings).
    pub fn encoded(&self) -> &[u8] {
        &self.encoded
    }
}

impl From<Vec<u8>> for Answer {
    /// A whole answer, already encoded.
    fn from(encoded: Vec<u8>) -> Self {
        Self {
            encoded,
            body: None,
        }
    }
}

/// The encoding of a `200 OK` with `body` and, if any, its `content-type`.
pub(crate) fn ok(content_type: Option<&str>, body: &[u8]) -> Vec<u8> {
    encode_plain(StatusCode::OK, content_type, body)
}

/// Encodes a response whose only header, if any, is `content-type`: the bytes
/// `codec::encode_response` makes of it, without building it (nor linking `HeaderMap` code).
fn encode_plain(status: StatusCode, content_type: Option<&str>, body: &[u8]) -> Vec<u8> {
    let header = content_type.map(|value| (&b"content-type"[..], value.as_bytes()));
    codec::encode_response_parts(status.as_u16(), header.as_slice(), body)
}

/// The status of an encoded response (500 if it is not one).
fn encoded_status(encoded: &[u8]) -> StatusCode {
    codec::response_status(encoded)
        .and_then(|status| u16::try_from(status).ok())
        .and_then(|status| StatusCode::from_u16(status).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn with_content_type(body: impl Into<Body>, content_type: &'static str) -> Response {
    let mut response = Response::new(body.into());
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A response of `status` whose body is `message`, as plain text.
pub(crate) fn text(status: StatusCode, message: impl Into<Body>) -> Response {
    (status, with_content_type(message, TEXT)).into_response()
}

/// [`text`], encoded.
pub(crate) fn encoded_text(status: StatusCode, message: &str) -> Vec<u8> {
    encode_plain(status, Some(TEXT), message.as_bytes())
}

impl<B: Into<Body>> IntoResponse for http::Response<B> {
    fn into_response(self) -> Response {
        self.map(Into::into)
    }
}

impl IntoResponse for &'static str {
    fn into_response(self) -> Response {
        with_content_type(self, TEXT)
    }

    fn __encode(self) -> Answer {
        ok(Some(TEXT), self.as_bytes()).into()
    }
}

impl IntoResponse for String {
    fn into_response(self) -> Response {
        with_content_type(self, TEXT)
    }

    fn __encode(self) -> Answer {
        ok(Some(TEXT), self.as_bytes()).into()
    }
}

impl IntoResponse for Vec<u8> {
    fn into_response(self) -> Response {
        with_content_type(self, BYTES)
    }

    fn __encode(self) -> Answer {
        ok(Some(BYTES), &self).into()
    }
}

impl IntoResponse for &'static [u8] {
    fn into_response(self) -> Response {
        with_content_type(self, BYTES)
    }

    fn __encode(self) -> Answer {
        ok(Some(BYTES), self).into()
    }
}

impl IntoResponse for Body {
    fn into_response(self) -> Response {
        Response::new(self)
    }

    fn __encode(mut self) -> Answer {
        Answer {
            encoded: ok(None, self.as_bytes()),
            body: self.take_stream(),
        }
    }
}

impl IntoResponse for () {
    fn into_response(self) -> Response {
        Response::new(Body::empty())
    }

    fn __encode(self) -> Answer {
        ok(None, b"").into()
    }
}

impl IntoResponse for StatusCode {
    fn into_response(self) -> Response {
        (self, ()).into_response()
    }

    fn __encode(self) -> Answer {
        encode_plain(self, None, b"").into()
    }
}

impl<T: IntoResponse> IntoResponse for (StatusCode, T) {
    fn into_response(self) -> Response {
        let (status, inner) = self;
        let mut response = inner.into_response();
        *response.status_mut() = status;
        response
    }

    fn __encode(self) -> Answer {
        let (status, inner) = self;
        let mut answer = inner.__encode();
        codec::set_response_status(&mut answer.encoded, status.as_u16());
        answer
    }
}

impl<T: IntoResponse, E: IntoResponse> IntoResponse for Result<T, E> {
    fn into_response(self) -> Response {
        match self {
            Ok(value) => value.into_response(),
            Err(error) => {
                let mut response = error.into_response();
                if !is_error(response.status()) {
                    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                }
                response
            }
        }
    }

    fn __encode(self) -> Answer {
        match self {
            Ok(value) => value.__encode(),
            Err(error) => {
                let mut answer = error.__encode();
                if !is_error(encoded_status(&answer.encoded)) {
                    let status = StatusCode::INTERNAL_SERVER_ERROR.as_u16();
                    codec::set_response_status(&mut answer.encoded, status);
                }
                answer
            }
        }
    }
}

/// Whether an `Err`'s response may keep its status (see [`IntoResponse`]).
fn is_error(status: StatusCode) -> bool {
    status.is_client_error() || status.is_server_error()
}

impl<K, V, T, const N: usize> IntoResponse for ([(K, V); N], T)
where
    K: TryInto<HeaderName>,
    K::Error: Display,
    V: TryInto<HeaderValue>,
    V::Error: Display,
    T: IntoResponse,
{
    fn into_response(self) -> Response {
        let (headers, inner) = self;
        let mut response = inner.into_response();
        let mut given: Vec<HeaderName> = Vec::with_capacity(N);
        for (name, value) in headers {
            let name = match name.try_into() {
                Ok(name) => name,
                Err(error) => return invalid_header(format!("invalid header name: {error}")),
            };
            let value = match value.try_into() {
                Ok(value) => value,
                Err(error) => return invalid_header(format!("invalid value for {name}: {error}")),
            };
            if given.contains(&name) {
                response.headers_mut().append(name, value);
            } else {
                response.headers_mut().insert(name.clone(), value);
                given.push(name);
            }
        }
        response
    }
}

impl<K, V, T, const N: usize> IntoResponse for (StatusCode, [(K, V); N], T)
where
    ([(K, V); N], T): IntoResponse,
{
    fn into_response(self) -> Response {
        let (status, headers, inner) = self;
        (status, (headers, inner)).into_response()
    }
}

fn invalid_header(reason: String) -> Response {
    text(StatusCode::INTERNAL_SERVER_ERROR, reason)
}
