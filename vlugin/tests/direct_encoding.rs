//! Handlers' answers are encoded without building an `http::Response` where they can be: the
//! bytes must be those of encoding the response that `into_response` builds.
use serde::Serialize;
use std::collections::BTreeMap;
use vlugin::abi::codec::encode_response;
use vlugin::{Body, IntoResponse, Json, StatusCode};

fn assert_same_encoding<T: IntoResponse + Clone>(answer: T) {
    let built = encode_response(&answer.clone().into_response());
    assert_eq!(answer.__encode(), built);
}

#[derive(Clone, Serialize)]
struct Todo {
    id: u32,
    title: &'static str,
}

#[test]
fn every_kind_of_answer_encodes_as_its_response() {
    assert_same_encoding("text");
    assert_same_encoding(String::from("caf\u{e9}"));
    assert_same_encoding(vec![0u8, 255]);
    assert_same_encoding(&b"\x01\x02"[..]);
    assert_same_encoding(Body::from("body"));
    assert_same_encoding(());
    assert_same_encoding(StatusCode::NO_CONTENT);
    assert_same_encoding((StatusCode::CREATED, "made"));
    assert_same_encoding((StatusCode::IM_A_TEAPOT, (StatusCode::CREATED, ())));
    assert_same_encoding(Json(Todo { id: 7, title: "x" }));
    // A map with non-string keys cannot be JSON: a 500 that says why.
    assert_same_encoding(Json(BTreeMap::from([((1, 2), 3)])));
    assert_same_encoding(Ok::<_, String>((StatusCode::ACCEPTED, "fine")));
    assert_same_encoding(Err::<&str, _>("disk full"));
    let built = vlugin::http::Response::builder()
        .status(301)
        .header("location", "/elsewhere")
        .header("x-a", "1")
        .body("moved")
        .unwrap();
    assert_same_encoding(built);
}
