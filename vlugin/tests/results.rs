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
    let store: vlugin::Result<&str> = Err(Error::Storage("quota".into()));
    assert_eq!(answer(store).0, StatusCode::SERVICE_UNAVAILABLE);
    let denied: vlugin::Result<&str> = Err(Error::Denied("not allowed".into()));
    assert_eq!(answer(denied).0, StatusCode::INTERNAL_SERVER_ERROR);
}
