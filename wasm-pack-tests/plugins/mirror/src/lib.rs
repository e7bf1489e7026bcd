//! Answers with the request's body as its own, the status named by `x-status`, and one response
//! header `x-reply` per value of the request's `x-reply` headers: the response direction's
//! fidelity test.
use vlugin::http::HeaderValue;
use vlugin::prelude::*;

#[vlugin]
async fn mirror(req: Request) -> Result<Response, String> {
    let status = match req.headers().get("x-status") {
        Some(value) => {
            let code = value.to_str().map_err(|e| e.to_string())?;
            StatusCode::from_bytes(code.as_bytes()).map_err(|e| format!("x-status {code}: {e}"))?
        }
        None => StatusCode::OK,
    };
    let mut response = http::Response::builder()
        .status(status)
        .header("content-type", "application/octet-stream");
    for value in req.headers().get_all("x-reply") {
        for part in value.as_bytes().split(|&b| b == b',') {
            let part = HeaderValue::from_bytes(part.trim_ascii()).map_err(|e| e.to_string())?;
            response = response.header("x-reply", part);
        }
    }
    response.body(req.into_body()).map_err(|e| e.to_string())
}
