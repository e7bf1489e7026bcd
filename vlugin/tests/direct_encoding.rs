//! Handlers' answers are encoded without building an `http::Response` where they can be: the
//! bytes must be those of encoding the response that `into_response` builds.
use serde::Serialize;
use std::collections::BTreeMap;
use valor_abi::codec::encode_response;
use vlugin::{Body, IntoResponse, Json, StatusCode};

fn assert_same_encoding<T: IntoResponse + Clone>(answer: T) {
    let built = encode_response(&answer.clone().into_response());
    assert_eq!(answer.__encode().encoded(), built);
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
    assert_same_encoding(Err::<&str, _>((StatusCode::NOT_FOUND, "missing")));
    assert_same_encoding(Err::<&str, _>(StatusCode::OK));
    assert_eq!(
        Err::<&str, _>(vlugin::Error::new(StatusCode::CONFLICT, "taken"))
            .__encode()
            .encoded(),
        encode_response(
            &Err::<&str, _>(vlugin::Error::new(StatusCode::CONFLICT, "taken")).into_response()
        )
    );
    let built = vlugin::http::Response::builder()
        .status(301)
        .header("location", "/elsewhere")
        .header("x-a", "1")
        .body("moved")
        .unwrap();
    assert_same_encoding(built);
}

/// A host holding no `http` values encodes from parts: the same bytes as from `http` values.
#[test]
fn parts_encode_as_the_messages_they_make() {
    use valor_abi::codec::{encode_request, encode_request_head, encode_response_parts};
    let headers: [(&[u8], &[u8]); 3] =
        [(b"x-a", b"1"), (b"set-cookie", b"a"), (b"set-cookie", b"b")];
    let response = vlugin::http::Response::builder()
        .status(404)
        .header("x-a", "1")
        .header("set-cookie", "a")
        .header("set-cookie", "b")
        .body(Body::from("missing"))
        .unwrap();
    assert_eq!(
        encode_response_parts(404, &headers, b"missing"),
        encode_response(&response)
    );
    let request = vlugin::http::Request::builder()
        .method("PUT")
        .uri("/notes/1?x=y")
        .header("x-a", "1")
        .header("set-cookie", "a")
        .header("set-cookie", "b")
        .body(Body::from("the body"))
        .unwrap();
    let mut parts = encode_request_head(b"PUT", b"/notes/1?x=y", &headers, 8);
    parts.extend_from_slice(b"the body");
    assert_eq!(parts, encode_request(&request));
}
