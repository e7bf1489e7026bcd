//! The registry's answers: plain text with the reason, or JSON.

use http::{header, StatusCode};
use vlugin::Response;

pub fn unknown(name: &str) -> Response {
    text(
        StatusCode::NOT_FOUND,
        format!("no plugin is called '{name}'"),
    )
}

pub fn not_allowed(allow: &'static str) -> Response {
    let mut response = text(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("the plugin registry answers {allow} here"),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static(allow));
    response
}

pub fn text(status: StatusCode, message: String) -> Response {
    let mut response = Response::new(format!("{message}\n").into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

pub fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut response = Response::new(value.to_string().into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}
