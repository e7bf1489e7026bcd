//! The wire format shared by the runtime and plugins: lossless both ways, and total on garbage.
use http::StatusCode;
use http::{HeaderValue, Method};
use valor_abi::codec::{self, encode_request, encode_response, DecodeError};

mod common;

use common::{decode_request, decode_response, Body, Request, Response};

fn request(method: &str, uri: &str, headers: &[(&str, &[u8])], body: &[u8]) -> Request {
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, HeaderValue::from_bytes(value).unwrap());
    }
    builder.body(Body::from(body)).unwrap()
}

fn response(status: u16, headers: &[(&str, &[u8])], body: &[u8]) -> Response {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, HeaderValue::from_bytes(value).unwrap());
    }
    builder.body(Body::from(body)).unwrap()
}

fn assert_same_request(a: &Request, b: &Request) {
    assert_eq!(a.method(), b.method());
    assert_eq!(a.uri(), b.uri());
    assert_eq!(a.headers(), b.headers());
    assert_eq!(a.body(), b.body());
}

fn binary(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

#[test]
fn requests_round_trip_with_any_method_headers_and_body() {
    let big = binary(5 << 20);
    let cases = [
        request("GET", "/", &[], b""),
        request(
            "PATCH",
            "/items/7?fields=a,b&x=%20",
            &[("content-type", b"application/json")],
            b"{}",
        ),
        request("PURGE", "/cache", &[], b""),
        request("M-SEARCH", "/x", &[], b""),
        request(
            "GET",
            "https://api.example.com:8443/v1/items?page=2",
            &[],
            b"",
        ),
        request(
            "POST",
            "/upload?q",
            &[
                ("x-repeat", b"1"),
                ("x-repeat", b"2"),
                ("x-bytes", b"caf\xe9 \x80\xff"),
            ],
            &big,
        ),
    ];
    for original in &cases {
        let decoded = decode_request(&encode_request(original)).unwrap();
        assert_same_request(original, &decoded);
    }
    let absolute = decode_request(&encode_request(&cases[4])).unwrap();
    assert_eq!(
        absolute.uri().host(),
        Some("api.example.com"),
        "outbound URIs keep their host"
    );
    let repeated = decode_request(&encode_request(&cases[5])).unwrap();
    let values: Vec<_> = repeated.headers().get_all("x-repeat").iter().collect();
    assert_eq!(
        values,
        ["1", "2"],
        "repeated names keep every value, in order"
    );
}

#[test]
fn responses_round_trip_with_status_repeated_headers_and_binary_body() {
    let cases = [
        response(200, &[], b""),
        response(204, &[("x-a", b"1")], b""),
        response(
            418,
            &[
                ("set-cookie", b"a=1"),
                ("set-cookie", b"b=2"),
                ("x-bin", b"\x80"),
            ],
            &binary(70_000),
        ),
        response(599, &[], b"\0\x01\x02"),
    ];
    for original in &cases {
        let decoded = decode_response(&encode_response(original)).unwrap();
        assert_eq!(original.status(), decoded.status());
        assert_eq!(original.headers(), decoded.headers());
        assert_eq!(original.body(), decoded.body());
    }
}

#[test]
fn every_truncation_is_an_error() {
    let encoded = encode_request(&request("PUT", "/a?b", &[("x", b"y")], b"body"));
    for len in 0..encoded.len() {
        let error = decode_request(&encoded[..len]).unwrap_err();
        assert!(
            matches!(error, DecodeError::Truncated { .. }),
            "{len}: {error}"
        );
    }
    let encoded = encode_response(&response(201, &[("x", b"y")], b"body"));
    for len in 0..encoded.len() {
        assert!(decode_response(&encoded[..len]).is_err(), "{len}");
    }
}

#[test]
fn trailing_bytes_are_an_error() {
    let mut encoded = encode_response(&response(200, &[], b"ok"));
    encoded.push(0);
    assert_eq!(
        decode_response(&encoded).unwrap_err(),
        DecodeError::TrailingBytes(1)
    );
}

fn field(bytes: &[u8]) -> Vec<u8> {
    let mut out = (bytes.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(bytes);
    out
}

#[test]
fn invalid_parts_are_named() {
    let build = |method: &[u8], uri: &[u8], name: &[u8], value: &[u8]| {
        [
            field(method),
            field(uri),
            1u32.to_le_bytes().to_vec(),
            field(name),
            field(value),
            field(b""),
        ]
        .concat()
    };
    let error = |bytes: Vec<u8>| decode_request(&bytes).unwrap_err().to_string();
    assert_eq!(
        error(build(b"G T", b"/", b"x", b"y")),
        "invalid method: G T"
    );
    assert!(error(build(b"GET", b"/a b", b"x", b"y")).starts_with("invalid request URI \"/a b\""));
    assert_eq!(
        error(build(b"GET", b"/", b"bad name", b"y")),
        "invalid header name \"bad name\""
    );
    assert_eq!(
        error(build(b"GET", b"/", b"x", b"line\nbreak")),
        "invalid value for header \"x\""
    );

    let status = |code: u32| {
        [
            code.to_le_bytes().to_vec(),
            0u32.to_le_bytes().to_vec(),
            field(b""),
        ]
        .concat()
    };
    assert_eq!(
        decode_response(&status(99)).unwrap_err(),
        DecodeError::Status(99)
    );
    assert_eq!(
        decode_response(&status(70_000)).unwrap_err(),
        DecodeError::Status(70_000)
    );
    assert!(decode_response(&status(100)).is_ok());
}

#[test]
fn a_huge_declared_length_or_count_is_an_error_not_an_allocation() {
    let mut bytes = field(b"GET");
    bytes.extend(field(b"/"));
    bytes.extend(u32::MAX.to_le_bytes()); // header count
    assert!(matches!(
        decode_request(&bytes),
        Err(DecodeError::Truncated { .. })
    ));
    let bytes = [field(b"GET"), u32::MAX.to_le_bytes().to_vec()].concat(); // uri length
    assert!(matches!(
        decode_request(&bytes),
        Err(DecodeError::Truncated { .. })
    ));
}

#[test]
fn mutated_messages_never_panic() {
    let seed = encode_request(&request(
        "POST",
        "/a/b?c=d",
        &[("x-a", b"1"), ("x-b", b"2")],
        b"hello",
    ));
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut ok, mut rejected) = (0, 0);
    for _ in 0..20_000 {
        let mut bytes = seed.clone();
        for _ in 0..1 + next() % 4 {
            let at = (next() as usize) % bytes.len();
            bytes[at] = next() as u8;
        }
        bytes.truncate(bytes.len() - (next() as usize % 3));
        match decode_request(&bytes) {
            Ok(_) => ok += 1,
            Err(_) => rejected += 1,
        }
        let _ = decode_response(&bytes);
    }
    // Both outcomes occur, so the loop really exercises the validating paths.
    assert!(ok > 0 && rejected > 0, "ok {ok}, rejected {rejected}");
}

#[test]
fn methods_keep_their_case() {
    let decoded = decode_request(&encode_request(&request("patch", "/", &[], b""))).unwrap();
    assert_eq!(decoded.method(), Method::from_bytes(b"patch").unwrap());
    assert_ne!(decoded.method(), Method::PATCH);
    assert_eq!(
        StatusCode::OK,
        decode_response(&encode_response(&response(200, &[], b"")))
            .unwrap()
            .status()
    );
}

#[test]
fn a_relative_uri_is_made_absolute_without_decoding_the_request() {
    let request = http::Request::builder()
        .method("PUT")
        .uri("/items?x=1")
        .header("x-a", "1")
        .body(b"body".to_vec())
        .unwrap();
    let encoded = codec::encode_request(&request);
    let absolute = codec::prefix_uri(&encoded, b"https://app.example").unwrap();
    let decoded = codec::decode_request::<Vec<u8>>(&absolute).unwrap();
    assert_eq!(decoded.uri(), "https://app.example/items?x=1");
    assert_eq!(decoded.method(), "PUT");
    assert_eq!(decoded.headers()["x-a"], "1");
    assert_eq!(decoded.body(), b"body");
    // A head alone (the body kept elsewhere) keeps its body length.
    let head = &encoded[..encoded.len() - 4];
    assert_eq!(
        codec::prefix_uri(head, b"http://h").unwrap().len(),
        head.len() + 8
    );
    assert!(codec::prefix_uri(&encoded[..6], b"x").is_err());
}
