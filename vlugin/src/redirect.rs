use crate::response::text;
use crate::{Body, IntoResponse, Response};
use http::header::{HeaderValue, LOCATION};
use http::StatusCode;

/// A redirect: a response with a `location` and no body.
///
/// ```
/// use vlugin::prelude::*;
///
/// let response = Redirect::to("/todos/7").into_response();
/// assert_eq!(response.status(), StatusCode::SEE_OTHER);
/// assert_eq!(response.headers()["location"], "/todos/7");
/// ```
#[derive(Debug, Clone)]
#[must_use = "a redirect does nothing until it is returned"]
pub struct Redirect {
    status: StatusCode,
    location: String,
}

impl Redirect {
    /// 303 See Other: the client fetches `location` with GET (after a form's POST, say).
    pub fn to(location: impl Into<String>) -> Self {
        Self::with(StatusCode::SEE_OTHER, location)
    }

    /// 307 Temporary Redirect: the client repeats the request, method and body, at `location`.
    pub fn temporary(location: impl Into<String>) -> Self {
        Self::with(StatusCode::TEMPORARY_REDIRECT, location)
    }

    /// 308 Permanent Redirect: as [`Redirect::temporary`], and the client may remember it.
    pub fn permanent(location: impl Into<String>) -> Self {
        Self::with(StatusCode::PERMANENT_REDIRECT, location)
    }

    fn with(status: StatusCode, location: impl Into<String>) -> Self {
        Self {
            status,
            location: location.into(),
        }
    }
}

/// A `location` that cannot be a header value (a line break, say) is a 500 that says why.
impl IntoResponse for Redirect {
    fn into_response(self) -> Response {
        match HeaderValue::try_from(&self.location) {
            Ok(location) => {
                let mut response = Response::new(Body::empty());
                *response.status_mut() = self.status;
                response.headers_mut().insert(LOCATION, location);
                response
            }
            Err(_) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "cannot redirect to {:?}: not a valid header value",
                    self.location
                ),
            ),
        }
    }
}
