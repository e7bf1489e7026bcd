//! Errors that carry their HTTP status, so handlers can use `?` and still answer 400/404/405.
use std::fmt;
use vlugin::http::header::{HeaderValue, ALLOW};
use vlugin::{IntoResponse, Json, Response, StatusCode};

/// Why a request failed. Answered as `{ "error": "<message>" }` with the matching status.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the request body is not what the route expects.
    BadRequest(String),
    /// 404: no todo has this id, or no route has this path.
    NotFound(String),
    /// 405: the path exists but not with this method; carries the methods it has.
    MethodNotAllowed(&'static str),
    /// 500: the key-value store failed.
    Storage(vlugin::Error),
}

impl From<vlugin::Error> for ApiError {
    fn from(error: vlugin::Error) -> Self {
        ApiError::Storage(error)
    }
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::BadRequest(message) | ApiError::NotFound(message) => f.write_str(message),
            ApiError::MethodNotAllowed(allow) => write!(f, "method not allowed; use {allow}"),
            ApiError::Storage(error) => error.fmt(f),
        }
    }
}

#[derive(serde::Serialize)]
struct ErrorBody {
    error: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status(),
            Json(ErrorBody {
                error: self.to_string(),
            }),
        )
            .into_response();
        if let ApiError::MethodNotAllowed(allow) = self {
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}
