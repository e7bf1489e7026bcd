use crate::abi::codec;
use crate::{Body, Response};
use http::header::{HeaderValue, CONTENT_TYPE};
use http::StatusCode;
use std::fmt::Display;

const TEXT: &str = "text/plain; charset=utf-8";
const BYTES: &str = "application/octet-stream";

/// What a handler may return: anything that can become a [`Response`].
///
/// | type | status | `content-type` |
/// |---|---|---|
/// | `&'static str`, `String` | 200 | `text/plain; charset=utf-8` |
/// | `Vec<u8>`, `&'static [u8]` | 200 | `application/octet-stream` |
/// | [`Body`], `()` | 200 | none |
/// | [`StatusCode`] | that status | none, empty body |
/// | [`Json<T>`](crate::Json) | 200 | `application/json` |
/// | `(StatusCode, T)` | that status | as `T` |
/// | `Result<T, E>` | as `T`; an `Err` is a 500 carrying `E`'s message | as `T` / `text/plain` |
/// | `http::Response<B>` | as built | as built |
///
/// # Examples
/// ```
/// use vlugin::*;
///
/// let response = (StatusCode::CREATED, "made").into_response();
/// assert_eq!(response.status(), StatusCode::CREATED);
/// assert_eq!(response.body().as_bytes(), b"made");
///
/// let failed: Result<&str, String> = Err("disk full".into());
/// let response = failed.into_response();
/// assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
/// assert_eq!(response.body().as_bytes(), b"disk full");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a plugin's response",
    label = "a #[vlugin] handler must return something that implements `IntoResponse`",
    note = "return text, bytes, Json(..), a StatusCode, (StatusCode, T), a Response, or a Result of those"
)]
pub trait IntoResponse {
    /// Builds the response.
    fn into_response(self) -> Response;

    /// The response in the wire encoding, as the runtime gets it. The types whose response is a
    /// status, a content type and a body write it without building an `http::Response`: a plugin
    /// that returns only those then links no `HeaderMap` code.
    #[doc(hidden)]
    fn __encode(self) -> Vec<u8>
    where
        Self: Sized,
    {
        codec::encode_response(&self.into_response())
    }
}

/// The encoding of a `200 OK` with `body` and, if any, its `content-type`.
pub(crate) fn ok(content_type: Option<&str>, body: &[u8]) -> Vec<u8> {
    codec::encode_plain_response(StatusCode::OK, content_type, body)
}

fn with_content_type(body: impl Into<Body>, content_type: &'static str) -> Response {
    let mut response = Response::new(body.into());
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

pub(crate) fn text(status: StatusCode, message: impl Into<Body>) -> Response {
    (status, with_content_type(message, TEXT)).into_response()
}

/// [`text`], encoded.
pub(crate) fn encoded_text(status: StatusCode, message: &str) -> Vec<u8> {
    codec::encode_plain_response(status, Some(TEXT), message.as_bytes())
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

    fn __encode(self) -> Vec<u8> {
        ok(Some(TEXT), self.as_bytes())
    }
}

impl IntoResponse for String {
    fn into_response(self) -> Response {
        with_content_type(self, TEXT)
    }

    fn __encode(self) -> Vec<u8> {
        ok(Some(TEXT), self.as_bytes())
    }
}

impl IntoResponse for Vec<u8> {
    fn into_response(self) -> Response {
        with_content_type(self, BYTES)
    }

    fn __encode(self) -> Vec<u8> {
        ok(Some(BYTES), &self)
    }
}

impl IntoResponse for &'static [u8] {
    fn into_response(self) -> Response {
        with_content_type(self, BYTES)
    }

    fn __encode(self) -> Vec<u8> {
        ok(Some(BYTES), self)
    }
}

impl IntoResponse for Body {
    fn into_response(self) -> Response {
        Response::new(self)
    }

    fn __encode(self) -> Vec<u8> {
        ok(None, self.as_bytes())
    }
}

impl IntoResponse for () {
    fn into_response(self) -> Response {
        Response::new(Body::empty())
    }

    fn __encode(self) -> Vec<u8> {
        ok(None, b"")
    }
}

impl IntoResponse for StatusCode {
    fn into_response(self) -> Response {
        (self, ()).into_response()
    }

    fn __encode(self) -> Vec<u8> {
        codec::encode_plain_response(self, None, b"")
    }
}

impl<T: IntoResponse> IntoResponse for (StatusCode, T) {
    fn into_response(self) -> Response {
        let (status, inner) = self;
        let mut response = inner.into_response();
        *response.status_mut() = status;
        response
    }

    fn __encode(self) -> Vec<u8> {
        let (status, inner) = self;
        let mut encoded = inner.__encode();
        codec::set_status(&mut encoded, status);
        encoded
    }
}

impl<T: IntoResponse, E: Display> IntoResponse for Result<T, E> {
    fn into_response(self) -> Response {
        match self {
            Ok(value) => value.into_response(),
            Err(error) => text(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
        }
    }

    fn __encode(self) -> Vec<u8> {
        match self {
            Ok(value) => value.__encode(),
            Err(error) => encoded_text(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
        }
    }
}
