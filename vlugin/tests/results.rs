//! What a handler's `Result` answers: `Ok` as its value, `Err` as its error, always an error.
use vlugin::{Error, IntoResponse, Json, StatusCode};

fn answer(result: impl IntoResponse) -> (StatusCode, String) {
    let response = result.into_response();
    let text = String::from_utf8_lossy(response.body().as_bytes()).into_owned();
    (response.status(), text)
}

#[test]
fn plain_text_errors_are_500s_with_the_text() {
    let failed: Result<&str, String> = Err("disk full".into());
    assert_eq!(
        answer(failed),
        (StatusCode::INTERNAL_SERVER_ERROR, "disk full".into())
    );
    let failed: Result<&str, &str> = Err("no");
    assert_eq!(answer(failed).0, StatusCode::INTERNAL_SERVER_ERROR);
}

#[test]
fn errors_keep_their_error_status_and_never_succeed() {
    let missing: Result<&str, _> = Err((StatusCode::NOT_FOUND, "no such todo"));
    assert_eq!(
        answer(missing),
        (StatusCode::NOT_FOUND, "no such todo".into())
    );
    let odd: Result<&str, _> = Err((StatusCode::CREATED, "made?"));
    assert_eq!(answer(odd).0, StatusCode::INTERNAL_SERVER_ERROR);
    let redirect: Result<&str, _> = Err(StatusCode::FOUND);
    assert_eq!(answer(redirect).0, StatusCode::INTERNAL_SERVER_ERROR);
    let fine: Result<_, String> = Ok((StatusCode::ACCEPTED, Json(vec![1, 2])));
    assert_eq!(answer(fine), (StatusCode::ACCEPTED, "[1,2]".into()));
}

#[test]
fn sdk_errors_answer_with_their_status() {
    fn parse(body: &[u8]) -> vlugin::Result<Json<Vec<u32>>> {
        Ok(Json(serde_json::from_slice(body)?))
    }
    let (status, text) = answer(parse(b"{not json"));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.starts_with("invalid JSON: "), "{text}");
    assert_eq!(answer(parse(b"[1]")), (StatusCode::OK, "[1]".into()));

    let taken: vlugin::Result<&str> = Err(Error::new(StatusCode::CONFLICT, "taken"));
    assert_eq!(answer(taken), (StatusCode::CONFLICT, "taken".into()));
    let gone: vlugin::Result<&str> = Err((StatusCode::GONE, "deleted").into());
    assert_eq!(answer(gone), (StatusCode::GONE, "deleted".into()));
    let upstream: vlugin::Result<&str> = Err(Error::Network("connection refused".into()));
    assert_eq!(answer(upstream).0, StatusCode::BAD_GATEWAY);
    let storage = |failure| -> vlugin::Result<&str> {
        Err(Error::Storage {
            failure,
            message: "writing key \"k\" failed: why".into(),
        })
    };
    let (status, text) = answer(storage(vlugin::kv::Failure::Full));
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE);
    assert_eq!(text, "storage full: writing key \"k\" failed: why");
    let (status, text) = answer(storage(vlugin::kv::Failure::Unavailable));
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(text.starts_with("storage unavailable: "), "{text}");
    let unreachable = storage(vlugin::kv::Failure::Unavailable).into_response();
    assert_eq!(unreachable.headers()["retry-after"], "1");
    let (status, text) = answer(storage(vlugin::kv::Failure::Other));
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(text.starts_with("storage failed: "), "{text}");
    let denied: vlugin::Result<&str> = Err(Error::Denied("not allowed".into()));
    assert_eq!(answer(denied).0, StatusCode::INTERNAL_SERVER_ERROR);
}

#[test]
fn requests_read_into_types_and_refuse_with_400() {
    use vlugin::{http, Body, Request, RequestExt};

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Filter {
        page: u32,
        tag: Option<String>,
    }
    let get = |uri: &str| -> Request { http::Request::get(uri).body(Body::empty()).unwrap() };
    let post =
        |body: &'static str| -> Request { http::Request::post("/").body(body.into()).unwrap() };

    let filter: Filter = get("/?page=2&tag=caf%C3%A9").query().unwrap();
    assert_eq!(
        filter,
        Filter {
            page: 2,
            tag: Some("café".into())
        }
    );
    let error = get("/?page=two").query::<Filter>().unwrap_err();
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);
    assert!(error.to_string().starts_with("invalid query: "), "{error}");
    // No query at all is an empty one.
    assert_eq!(get("/").query::<Vec<(String, String)>>().unwrap(), vec![]);

    let filter: Filter = post("page=3&tag=a+b").form().unwrap();
    assert_eq!(
        filter,
        Filter {
            page: 3,
            tag: Some("a b".into())
        }
    );
    assert_eq!(
        post("page=").form::<Filter>().unwrap_err().status(),
        StatusCode::BAD_REQUEST
    );

    let filter: Filter = post(r#"{"page": 4}"#).json().unwrap();
    assert_eq!(filter, Filter { page: 4, tag: None });
    assert_eq!(
        post("{").json::<Filter>().unwrap_err().status(),
        StatusCode::BAD_REQUEST
    );
}
