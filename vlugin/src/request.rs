use crate::{Error, Request, StatusCode};
use serde::de::DeserializeOwned;

/// Reads a [`Request`]'s query string, form or JSON body into a type of your own. What does not
/// parse is an [`Error`] that answers 400 saying why, for `?`.
///
/// ```
/// use vlugin::prelude::*;
///
/// #[derive(serde::Deserialize)]
/// struct Page { page: u32, tag: Option<String> }
///
/// #[vlugin]
/// fn list(req: Request) -> vlugin::Result<String> {
///     let Page { page, tag } = req.query()?; // `?page=2&tag=home`
///     Ok(format!("page {page} of {}", tag.as_deref().unwrap_or("everything")))
/// }
/// # fn main() {
/// # let req = http::Request::get("/?page=2&tag=home").body(Body::empty()).unwrap();
/// # assert_eq!(list(req).unwrap(), "page 2 of home");
/// # let bad = http::Request::get("/?page=two").body(Body::empty()).unwrap();
/// # assert_eq!(list(bad).unwrap_err().status(), StatusCode::BAD_REQUEST);
/// # }
/// ```
pub trait RequestExt {
    /// The query string (`?page=2&tag=home`, percent-decoded; no query is an empty one) as `T`.
    fn query<T: DeserializeOwned>(&self) -> Result<T, Error>;

    /// The body, as an HTML form posts it (`application/x-www-form-urlencoded`), as `T`. A
    /// streamed body (the entry sets `stream_requests`) is an error that says to read it with
    /// [`Body::collect`](crate::Body::collect) first.
    fn form<T: DeserializeOwned>(&self) -> Result<T, Error>;

    /// The body, JSON, as `T`. A streamed body is an error, as for [`form`](RequestExt::form).
    fn json<T: DeserializeOwned>(&self) -> Result<T, Error>;

    /// The URL the page asked for, absolute and with its query: `https://example.com/api/todos/7`
    /// for the request that a plugin mounted at `/api/todos` sees as `/7`. See [`url_for`](crate::url_for)
    /// for the URLs of other paths.
    fn url(&self) -> String;
}

impl RequestExt for Request {
    fn query<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let query = self.uri().query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map_err(|e| Error::new(StatusCode::BAD_REQUEST, format!("invalid query: {e}")))
    }

    fn form<T: DeserializeOwned>(&self) -> Result<T, Error> {
        whole(self)?;
        serde_urlencoded::from_bytes(self.body().as_bytes())
            .map_err(|e| Error::new(StatusCode::BAD_REQUEST, format!("invalid form: {e}")))
    }

    fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        whole(self)?;
        Ok(self.body().json()?)
    }

    fn url(&self) -> String {
        crate::site::url_of(self)
    }
}

/// A streamed body has no bytes to parse yet: rather than "invalid JSON" for a valid upload, an
/// error (500: the plugin's code is wrong for its entry) that says how to read it.
fn whole(request: &Request) -> Result<(), Error> {
    match request.body().is_streamed() {
        true => Err(Error::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the request's body is streamed (its entry sets stream_requests): read it with \
             Body::collect, then parse the bytes",
        )),
        false => Ok(()),
    }
}
