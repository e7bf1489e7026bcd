use crate::response::{encoded_text, text, Answer};
use crate::{http, kv, IntoResponse, Response, StatusCode};

/// What can go wrong in a handler: the host API's failures, and answers a handler gives up with.
///
/// It is a response (see [`Error::status`]), so a handler returning [`vlugin::Result<T>`]
/// (`Result<T, vlugin::Error>`) answers a failure with its status and message, and `?` works on
/// every host API call, on JSON and on building HTTP messages.
///
/// ```
/// use vlugin::prelude::*;
///
/// #[derive(serde::Deserialize)]
/// struct NewTodo { title: String }
///
/// #[vlugin]
/// async fn create(req: Request) -> vlugin::Result<(StatusCode, String)> {
///     let todo: NewTodo = serde_json::from_slice(req.body().as_bytes())?; // invalid: 400
///     if todo.title.is_empty() {
///         return Err(Error::new(StatusCode::UNPROCESSABLE_ENTITY, "the title is empty"));
///     }
///     kv::set(&todo.title, b"").await?; // the store is unreachable: 503; full: 507
///     Ok((StatusCode::CREATED, todo.title))
/// }
/// # fn main() {}
/// ```
///
/// [`vlugin::Result<T>`]: crate::Result
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The runtime refused the operation; the message says why and how to allow it (e.g. a host
    /// missing from the manifest entry's `allowed_hosts`).
    #[error("{0}")]
    Denied(String),
    /// An outbound request failed without an HTTP answer (DNS, connection, CORS, ...).
    #[error("fetch failed: {0}")]
    Network(String),
    /// The key-value store failed: [`kv::Failure`] says how (unreachable for now, full, or
    /// otherwise), the message why.
    #[error("storage {}: {message}", failure_word(*.failure))]
    Storage {
        /// How it failed.
        failure: kv::Failure,
        /// Why, as the host said.
        message: String,
    },
    /// The manifest entry's `config` does not have the shape the plugin expects.
    #[error("invalid config: {0}")]
    Config(String),
    /// A request or response could not be built (an invalid URI or header, say).
    #[error("invalid HTTP message: {0}")]
    Http(#[from] http::Error),
    /// A value could not be converted to or from JSON.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The runtime answered something this SDK cannot read (a runtime/SDK mismatch).
    #[error("unexpected answer from the runtime: {0}")]
    Protocol(String),
    /// An answer the handler chose: its status and message (see [`Error::new`]).
    #[error("{message}")]
    Status {
        /// The response's status.
        status: StatusCode,
        /// The response's text.
        message: String,
    },
}

impl Error {
    /// An error answered with `status` and `message` as text, e.g. a 404 for an unknown id.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Error::Status {
            status,
            message: message.into(),
        }
    }

    /// The status it is answered with:
    ///
    /// | error | status |
    /// |---|---|
    /// | [`Error::Json`]: a value that is not the expected JSON (a request's body, most often) | 400 Bad Request |
    /// | [`Error::Network`]: an outbound request got no HTTP answer | 502 Bad Gateway |
    /// | [`Error::Storage`]: the key-value store is unreachable for now ([`kv::Failure::Unavailable`]) | 503 Service Unavailable, with `retry-after` |
    /// | [`Error::Storage`]: the key-value store is full ([`kv::Failure::Full`]); nothing was written | 507 Insufficient Storage |
    /// | [`Error::Storage`]: the key-value store failed otherwise | 503 Service Unavailable |
    /// | [`Error::Status`]: the handler's own | as given |
    /// | [`Error::Status`]: a streamed body that ended early ([`Body::into_stream`](crate::Body::into_stream)): past `max_stream_bytes` / broken off | 413 Payload Too Large / 400 Bad Request |
    /// | [`Error::Denied`], [`Error::Config`], [`Error::Http`], [`Error::Protocol`]: the plugin or its entry is wrong | 500 Internal Server Error |
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Json(_) => StatusCode::BAD_REQUEST,
            Error::Network(_) => StatusCode::BAD_GATEWAY,
            Error::Storage {
                failure: kv::Failure::Full,
                ..
            } => StatusCode::INSUFFICIENT_STORAGE,
            Error::Storage { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Error::Status { status, .. } => *status,
            Error::Denied(_) | Error::Config(_) | Error::Http(_) | Error::Protocol(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

fn failure_word(failure: kv::Failure) -> &'static str {
    match failure {
        kv::Failure::Unavailable => "unavailable",
        kv::Failure::Full => "full",
        kv::Failure::Other => "failed",
    }
}

/// As [`Error::new`]: `Err((StatusCode::GONE, "deleted").into())`.
impl<M: Into<String>> From<(StatusCode, M)> for Error {
    fn from((status, message): (StatusCode, M)) -> Self {
        Error::new(status, message)
    }
}

/// Its [`status`](Error::status), its message as text; and `retry-after` when the store is
/// unreachable for now, so that clients know to try again.
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let retry = self.retry_after();
        let mut response = text(self.status(), self.to_string());
        if let Some(seconds) = retry {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, seconds.into());
        }
        response
    }

    fn __encode(self) -> Answer {
        match self.retry_after() {
            Some(_) => valor_abi::codec::encode_response(&self.into_response()),
            None => encoded_text(self.status(), &self.to_string()),
        }
        .into()
    }
}

impl Error {
    /// The `retry-after` (seconds) of its answer, if it has one.
    fn retry_after(&self) -> Option<u32> {
        match self {
            Error::Storage {
                failure: kv::Failure::Unavailable,
                ..
            } => Some(valor_abi::storage::RETRY_AFTER_SECONDS),
            _ => None,
        }
    }
}

impl From<valor_abi::DecodeError> for Error {
    fn from(error: valor_abi::DecodeError) -> Self {
        Error::Protocol(error.to_string())
    }
}
