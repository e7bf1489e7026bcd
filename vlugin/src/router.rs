use crate::response::text;
use crate::{Error, IntoResponse, Method, Request, Response, StatusCode};
use http::header::{HeaderValue, ALLOW};
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

type Handler = Box<dyn Fn(Request, Params) -> Pin<Box<dyn Future<Output = Response>>>>;

/// `Router`'s shorthands for [`Router::route`] with a method.
macro_rules! method_routes {
    ($($(#[$doc:meta])* $name:ident $method:ident,)*) => {$(
        $(#[$doc])*
        pub fn $name<H, F, R>(self, pattern: &str, handler: H) -> Self
        where
            H: Fn(Request, Params) -> F + 'static,
            F: Future<Output = R> + 'static,
            R: IntoResponse,
        {
            self.route(Method::$method, pattern, handler)
        }
    )*};
}

/// Routes a plugin's requests by path and method to handlers, inside its one `#[vlugin]`
/// handler. Paths are relative to the mount, as the request's URI is: mounted at `/api/todos`,
/// `/api/todos` and `/api/todos/` are `/`, and `/api/todos/7` is `/7`.
///
/// ```
/// use vlugin::prelude::*;
///
/// #[vlugin]
/// async fn todos(req: Request) -> Response {
///     Router::new()
///         .get("/", list)
///         .post("/", create)
///         .get("/{id}", show)
///         .handle(req)
///         .await
/// }
///
/// async fn list(_req: Request, _params: Params) -> &'static str {
///     "every todo"
/// }
///
/// async fn create(req: Request, _params: Params) -> vlugin::Result<(StatusCode, String)> {
///     Ok((StatusCode::CREATED, req.body().text().unwrap_or_default().to_owned()))
/// }
///
/// async fn show(_req: Request, params: Params) -> vlugin::Result<String> {
///     let id: u32 = params.parse("id")?; // `/abc`: 400
///     Ok(format!("todo {id}"))
/// }
/// # fn main() {}
/// ```
///
/// - A pattern is a path whose segments may be parameters: `/{id}`, `/{user}/posts/{post}`,
///   or `/{*rest}` for the rest of the path (the syntax of the `matchit` crate, which axum uses
///   too). A literal segment wins over a parameter (`/new` before `/{id}`). Parameters are
///   percent-decoded.
/// - A path that matches no pattern answers 404, and one that matches with another method 405
///   with `allow` listing the methods it has; `HEAD` is answered by the `GET` handler if there is
///   no `HEAD` one. A path with a trailing slash that matches nothing is tried without it.
/// - Handlers are `async fn(Request, Params) -> impl IntoResponse`.
/// - A pattern that is not valid or that conflicts with another one panics when it is added:
///   a bug in the plugin, reported by its first request (a 500 with the message).
///
/// Building a router is cheap next to a request's trip through the runtime; one with many routes
/// can live in a `thread_local!` and be reused.
pub struct Router {
    paths: matchit::Router<usize>,
    routes: Vec<Route>,
}

/// The handlers of one pattern, by method.
struct Route {
    pattern: String,
    methods: Vec<(Method, Handler)>,
}

impl Default for Router {
    fn default() -> Self {
        Self::new()
    }
}

impl Router {
    /// A router without routes: every request answers 404.
    pub fn new() -> Self {
        Self {
            paths: matchit::Router::new(),
            routes: Vec::new(),
        }
    }

    /// Routes `method` requests for paths matching `pattern` to `handler`.
    ///
    /// # Panics
    /// If `pattern` is not a valid pattern, conflicts with another one, or already has a
    /// handler for `method`.
    pub fn route<H, F, R>(mut self, method: Method, pattern: &str, handler: H) -> Self
    where
        H: Fn(Request, Params) -> F + 'static,
        F: Future<Output = R> + 'static,
        R: IntoResponse,
    {
        let index = match self.routes.iter().position(|r| r.pattern == pattern) {
            Some(index) => index,
            None => {
                if let Err(error) = self.paths.insert(pattern, self.routes.len()) {
                    panic!("the route {pattern:?} cannot be added: {error}");
                }
                self.routes.push(Route {
                    pattern: pattern.to_owned(),
                    methods: Vec::new(),
                });
                self.routes.len() - 1
            }
        };
        let route = &mut self.routes[index];
        assert!(
            route.methods.iter().all(|(m, _)| *m != method),
            "the route {method} {pattern:?} is added twice"
        );
        let handler: Handler = Box::new(move |req, params| {
            let answer = handler(req, params);
            Box::pin(async move { answer.await.into_response() })
        });
        route.methods.push((method, handler));
        self
    }

    method_routes! {
        /// [`Router::route`] for `GET` (and `HEAD`, unless it has its own).
        get GET,
        /// [`Router::route`] for `POST`.
        post POST,
        /// [`Router::route`] for `PUT`.
        put PUT,
        /// [`Router::route`] for `PATCH`.
        patch PATCH,
        /// [`Router::route`] for `DELETE`.
        delete DELETE,
    }

    /// Answers `req` with the handler its path and method route to: 404 for a path no pattern
    /// matches, 405 (with `allow`) for a method its pattern has no handler for.
    pub async fn handle(&self, req: Request) -> Response {
        let path = req.uri().path().to_owned();
        let matched = self
            .paths
            .at(&path)
            .or_else(|error| match path.strip_suffix('/') {
                Some(trimmed) if !trimmed.is_empty() => self.paths.at(trimmed),
                _ => Err(error),
            });
        let Ok(matched) = matched else {
            return text(StatusCode::NOT_FOUND, format!("no route for {path}"));
        };
        let route = &self.routes[*matched.value];
        let params = Params(
            matched
                .params
                .iter()
                .map(|(name, value)| (name.to_owned(), decode(value)))
                .collect(),
        );
        let method = req.method().clone();
        let handler = match route.handler(&method) {
            None if method == Method::HEAD => route.handler(&Method::GET),
            handler => handler,
        };
        match handler {
            Some(handler) => handler(req, params).await,
            None => route.not_allowed(&method, &path),
        }
    }
}

impl Route {
    fn handler(&self, method: &Method) -> Option<&Handler> {
        self.methods
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, handler)| handler)
    }

    fn not_allowed(&self, method: &Method, path: &str) -> Response {
        let mut allowed: Vec<&str> = self.methods.iter().map(|(m, _)| m.as_str()).collect();
        if allowed.contains(&"GET") && !allowed.contains(&"HEAD") {
            allowed.push("HEAD");
        }
        allowed.sort_unstable();
        let allow = allowed.join(", ");
        let mut response = text(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} is not allowed for {path}; it allows {allow}"),
        );
        if let Ok(value) = HeaderValue::try_from(allow) {
            response.headers_mut().insert(ALLOW, value);
        }
        response
    }
}

/// A parameter's value, percent-decoded (invalid UTF-8 replaced).
fn decode(value: &str) -> String {
    percent_encoding::percent_decode_str(value)
        .decode_utf8_lossy()
        .into_owned()
}

/// The parameters of the pattern a request matched, by name, percent-decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// The value of the parameter `name`, if the pattern has it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
    }

    /// The parameter `name` parsed as `T`: an [`Error`] that answers 400 if it does not parse,
    /// 500 if the pattern has no such parameter (a bug in the plugin).
    pub fn parse<T: FromStr>(&self, name: &str) -> Result<T, Error>
    where
        T::Err: std::fmt::Display,
    {
        let value = self.get(name).ok_or_else(|| {
            Error::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the route has no parameter {name:?}"),
            )
        })?;
        value.parse().map_err(|error| {
            Error::new(
                StatusCode::BAD_REQUEST,
                format!("invalid {name} {value:?}: {error}"),
            )
        })
    }

    /// Every parameter, in the pattern's order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}
