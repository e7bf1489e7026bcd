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

    /// The body, as an HTML form posts it (`application/x-www-form-urlencoded`), as `T`.
    fn form<T: DeserializeOwned>(&self) -> Result<T, Error>;

    /// The body, JSON, as `T`.
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
        serde_urlencoded::from_bytes(self.body().as_bytes())
            .map_err(|e| Error::new(StatusCode::BAD_REQUEST, format!("invalid form: {e}")))
    }

    fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        Ok(self.body().json()?)
    }

    fn url(&self) -> String {
        crate::site::url_of(self)
    }
}
