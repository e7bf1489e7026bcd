//! The router: by path and method, with parameters; 404 and 405 as HTTP says.
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use vlugin::{http, Body, Params, Request, Response, Router, StatusCode};

/// The router's answer to `method uri` (handlers here never wait on the host).
fn answer(router: &Router, method: &str, uri: &str) -> (StatusCode, String, Option<String>) {
    let request: Request = http::Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap();
    let response: Response = ready(router.handle(request));
    let allow = response
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = String::from_utf8_lossy(response.body().as_bytes()).into_owned();
    (response.status(), text, allow)
}

fn ready<T>(future: impl Future<Output = T>) -> T {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("a handler here waited"),
    }
}

fn todos() -> Router {
    Router::new()
        .get("/", |_, _| async { "list" })
        .post("/", |_, _| async { (StatusCode::CREATED, "created") })
        .get("/new", |_, _| async { "the form" })
        .get("/{id}", |_, params: Params| async move {
            params.parse::<u32>("id").map(|id| format!("todo {id}"))
        })
        .delete("/{id}", |_, _| async { StatusCode::NO_CONTENT })
        .get("/{id}/tags/{tag}", |_, params: Params| async move {
            format!(
                "{} {}",
                params.get("id").unwrap(),
                params.get("tag").unwrap()
            )
        })
        .get("/files/{*path}", |_, params: Params| async move {
            params.get("path").unwrap().to_owned()
        })
}

#[test]
fn requests_go_to_their_path_and_method() {
    let router = todos();
    assert_eq!(answer(&router, "GET", "/").1, "list");
    assert_eq!(answer(&router, "POST", "/").0, StatusCode::CREATED);
    assert_eq!(answer(&router, "GET", "/7").1, "todo 7");
    assert_eq!(answer(&router, "GET", "/new").1, "the form");
    assert_eq!(answer(&router, "DELETE", "/7").0, StatusCode::NO_CONTENT);
    assert_eq!(answer(&router, "GET", "/7/tags/caf%C3%A9").1, "7 café");
    assert_eq!(answer(&router, "GET", "/files/a/b.txt").1, "a/b.txt");
    // The query is not part of the path; a trailing slash is forgiven; HEAD is answered as GET.
    assert_eq!(answer(&router, "GET", "/7?x=1").1, "todo 7");
    assert_eq!(answer(&router, "GET", "/7/").1, "todo 7");
    assert_eq!(answer(&router, "HEAD", "/7").0, StatusCode::OK);
}

#[test]
fn unknown_paths_are_404_and_other_methods_405_with_allow() {
    let router = todos();
    let (status, text, _) = answer(&router, "GET", "/7/comments");
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(text, "no route for /7/comments");

    let (status, text, allow) = answer(&router, "PUT", "/7");
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(allow.as_deref(), Some("DELETE, GET, HEAD"));
    assert_eq!(
        text,
        "PUT is not allowed for /7; it allows DELETE, GET, HEAD"
    );

    let (status, _, allow) = answer(&router, "PATCH", "/");
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(allow.as_deref(), Some("GET, HEAD, POST"));
}

#[test]
fn parameters_that_do_not_parse_are_400() {
    let (status, text, _) = answer(&todos(), "GET", "/seven");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.starts_with("invalid id \"seven\""), "{text}");
}

#[test]
#[should_panic(expected = "cannot be added")]
fn conflicting_patterns_are_refused_when_added() {
    let _ = Router::new()
        .get("/{id}", |_, _| async { "a" })
        .get("/{name}", |_, _| async { "b" });
}

#[test]
#[should_panic(expected = "added twice")]
fn a_method_added_twice_to_a_pattern_is_refused() {
    let _ = Router::new()
        .get("/", |_, _| async { "a" })
        .get("/", |_, _| async { "b" });
}
