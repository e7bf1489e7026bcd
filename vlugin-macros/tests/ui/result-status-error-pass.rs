use vlugin::*;

// An `Err` answers with its own error status; `vlugin::Result` errs with `vlugin::Error`.
#[vlugin]
async fn find(req: Request) -> Result<&'static str, (StatusCode, String)> {
    match req.uri().path() {
        "/" => Ok("found"),
        path => Err((StatusCode::NOT_FOUND, format!("no {path}"))),
    }
}

fn sdk(body: &[u8]) -> vlugin::Result<Json<usize>> {
    if body.is_empty() {
        return Err(Error::new(StatusCode::BAD_REQUEST, "empty"));
    }
    Ok(Json(body.len()))
}

fn main() {
    let _ = sdk;
}
