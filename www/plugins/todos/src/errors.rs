//! Every error of this API answers `{ "error": "<reason>" }`: those of its handlers (a
//! `vlugin::Error`, plain text with its status) and the router's 404 and 405 alike.
use vlugin::prelude::*;

#[derive(serde::Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

/// `answer` as is, unless it is a plain-text error: then the same status and headers (`allow`
/// of a 405), with its text as a JSON error.
pub fn as_json(answer: Response) -> Response {
    let is_text = answer
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|kind| kind.as_bytes().starts_with(b"text/plain"));
    if !(answer.status().is_client_error() || answer.status().is_server_error()) || !is_text {
        return answer;
    }
    let (mut head, body) = answer.into_parts();
    let message = String::from_utf8_lossy(body.as_bytes());
    let json = Json(ErrorBody { error: &message }).into_response();
    let (json_head, json_body) = json.into_parts();
    head.headers.insert(
        header::CONTENT_TYPE,
        json_head.headers[header::CONTENT_TYPE].clone(),
    );
    Response::from_parts(head, json_body)
}
