//! Responses with headers of the handler's choosing, and redirects.
use vlugin::{header, IntoResponse, Json, Redirect, StatusCode};

#[test]
fn header_arrays_set_replace_and_repeat_headers() {
    let response = ([(header::LOCATION, "/todos/7")], "made").into_response();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["location"], "/todos/7");
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );

    // A name given once replaces the body's header; given twice, it is sent twice.
    let response = (
        [
            ("content-type", "text/html"),
            ("set-cookie", "a=1"),
            ("set-cookie", "b=2"),
        ],
        "<p>hi</p>",
    )
        .into_response();
    let types: Vec<_> = response.headers().get_all("content-type").iter().collect();
    assert_eq!(types, ["text/html"]);
    let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);

    let response = (
        StatusCode::CREATED,
        [(header::LOCATION, String::from("/t/1"))],
        Json(1),
    )
        .into_response();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["location"], "/t/1");
    assert_eq!(response.headers()["content-type"], "application/json");
}

#[test]
fn invalid_headers_are_500s_that_say_why() {
    let response = ([("x-note", "line\nbreak")], "body").into_response();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let text = String::from_utf8_lossy(response.body().as_bytes()).into_owned();
    assert!(text.contains("invalid value for x-note"), "{text}");

    let response = ([("bad name", "1")], "body").into_response();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[test]
fn redirects_carry_their_status_and_location() {
    for (redirect, status) in [
        (Redirect::to("/a"), StatusCode::SEE_OTHER),
        (Redirect::temporary("/a"), StatusCode::TEMPORARY_REDIRECT),
        (Redirect::permanent("/a"), StatusCode::PERMANENT_REDIRECT),
    ] {
        let response = redirect.into_response();
        assert_eq!(response.status(), status);
        assert_eq!(response.headers()["location"], "/a");
        assert!(response.body().as_bytes().is_empty());
    }
    let response = Redirect::to("/a\r\nx-evil: 1").into_response();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}
