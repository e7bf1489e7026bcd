//! Requests and responses in Valor's encoding (`valor_abi::codec`), as the runtime holds them,
//! to and from the session's whole-body ones. Header values are bytes on both sides.

use crate::wasi::{FetchError, IncomingRequest, OutgoingRequest, Response};
use valor_abi::{codec, outcome};

/// The request the handler receives, out of an encoded request whose URI is absolute
/// (`scheme://authority/path?query`, the path relative to the plugin's prefix).
pub fn incoming(encoded: &[u8]) -> Result<IncomingRequest, String> {
    let request = codec::decode_request::<Vec<u8>>(encoded)
        .map_err(|why| format!("the request does not decode: {why}"))?;
    let uri = request.uri();
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(format!("the request's URI {uri} is not absolute"));
    };
    Ok(IncomingRequest {
        method: request.method().as_str().to_owned(),
        scheme: scheme.to_owned(),
        authority: authority.as_str().to_owned(),
        path_with_query: uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |path| path.as_str().to_owned()),
        headers: request
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
            .collect(),
        body: request.into_body(),
    })
}

/// The handler's answer, encoded (checked by whoever decodes it: the runtime).
pub fn answer(response: &Response) -> Vec<u8> {
    let headers: Vec<(&[u8], &[u8])> = response
        .headers
        .iter()
        .map(|(name, value)| (name.as_bytes(), value.as_slice()))
        .collect();
    codec::encode_response_parts(response.status, &headers, &response.body)
}

/// An outgoing request, encoded (its URI absolute).
pub fn outgoing(request: &OutgoingRequest) -> Vec<u8> {
    let headers: Vec<(&[u8], &[u8])> = request
        .headers
        .iter()
        .map(|(name, value)| (name.as_bytes(), value.as_slice()))
        .collect();
    // Outgoing bodies are at most 64 MiB (the session's bound): the length fits.
    let mut encoded = codec::encode_request_head(
        request.method.as_bytes(),
        request.url.as_bytes(),
        &headers,
        request.body.len() as u32,
    );
    encoded.extend_from_slice(&request.body);
    encoded
}

/// The response of a `fetch` result (the outcome byte, then an encoded response or why not).
pub fn received(result: &[u8]) -> Result<Response, FetchError> {
    let message = |payload: &[u8]| String::from_utf8_lossy(payload).into_owned();
    match result.split_first() {
        Some((&outcome::OK, payload)) => {
            let response = codec::decode_response::<Vec<u8>>(payload).map_err(|why| {
                FetchError::Failed(format!("the response does not decode: {why}"))
            })?;
            Ok(Response {
                status: response.status().as_u16(),
                headers: response
                    .headers()
                    .iter()
                    .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
                    .collect(),
                body: response.into_body(),
            })
        }
        Some((&outcome::DENIED, payload)) => Err(FetchError::Denied(message(payload))),
        Some((&outcome::FAILED, payload)) => Err(FetchError::Failed(message(payload))),
        Some((other, _)) => Err(FetchError::Failed(format!(
            "the runtime's fetch gave a result of unknown outcome {other}"
        ))),
        None => Err(FetchError::Failed(
            "the runtime's fetch gave an empty result".to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use valor_host::result;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn headers() -> Vec<(String, Vec<u8>)> {
        vec![
            ("x-a".to_owned(), b"caf\xe9".to_vec()),
            ("x-b".to_owned(), b"2".to_vec()),
        ]
    }

    #[wasm_bindgen_test]
    fn an_outgoing_request_decodes_as_sent() {
        let request = OutgoingRequest {
            method: "PUT".to_owned(),
            url: "https://api.example/x?y=1".to_owned(),
            headers: headers(),
            body: b"body".to_vec(),
        };
        let decoded = codec::decode_request::<Vec<u8>>(&outgoing(&request)).unwrap();
        assert_eq!(decoded.method(), "PUT");
        assert_eq!(decoded.uri(), "https://api.example/x?y=1");
        assert_eq!(decoded.headers()["x-a"].as_bytes(), b"caf\xe9");
        assert_eq!(decoded.headers()["x-b"].as_bytes(), b"2");
        assert_eq!(decoded.body(), b"body");
    }

    #[wasm_bindgen_test]
    fn an_answer_comes_back_from_its_encoding() {
        let response = Response {
            status: 299,
            headers: headers(),
            body: b"hi".to_vec(),
        };
        let encoded = answer(&response);
        assert_eq!(received(&result::ok(&encoded)), Ok(response));
    }

    #[wasm_bindgen_test]
    fn a_result_that_is_no_response_is_a_failure() {
        let failed = |why: &str| Err(FetchError::Failed(why.to_owned()));
        assert_eq!(
            received(&result::denied("no")),
            Err(FetchError::Denied("no".into()))
        );
        assert_eq!(received(&result::failed("down")), failed("down"));
        assert_eq!(
            received(&[]),
            failed("the runtime's fetch gave an empty result")
        );
        assert_eq!(
            received(&[7]),
            failed("the runtime's fetch gave a result of unknown outcome 7")
        );
        let Err(FetchError::Failed(why)) = received(&result::ok(b"\x01")) else {
            panic!("decoded");
        };
        assert!(why.starts_with("the response does not decode"), "{why}");
    }
}
