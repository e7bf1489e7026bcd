use crate::response::{encoded_text, ok, text, Answer};
use crate::{IntoResponse, Response};
use http::header::{HeaderValue, CONTENT_TYPE};
use http::StatusCode;
use serde::Serialize;

const JSON: &str = "application/json";

/// A response whose body is `T` serialized as JSON, with `content-type: application/json`.
///
/// A value that fails to serialize (a map with non-string keys, say) becomes a 500 that says why.
///
/// # Examples
/// ```
/// use vlugin::prelude::*;
///
/// #[derive(serde::Serialize)]
/// struct Todo { id: u32, done: bool }
///
/// let response = Json(Todo { id: 7, done: false }).into_response();
/// assert_eq!(response.body().as_bytes(), br#"{"id":7,"done":false}"#);
/// assert_eq!(response.headers()["content-type"], "application/json");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(bytes) => {
                let mut response = Response::new(bytes.into());
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
                response
            }
            Err(error) => text(StatusCode::INTERNAL_SERVER_ERROR, error_message(&error)),
        }
    }

    fn __encode(self) -> Answer {
        match serde_json::to_vec(&self.0) {
            Ok(bytes) => ok(Some(JSON), &bytes),
            Err(error) => encoded_text(StatusCode::INTERNAL_SERVER_ERROR, &error_message(&error)),
        }
        .into()
    }
}

fn error_message(error: &serde_json::Error) -> String {
    format!("could not serialize the JSON response: {error}")
}
