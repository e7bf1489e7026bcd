//! Answers with a JSON description of the request it received, so a page (or a test) can see
//! exactly what crossed the service worker and the plugin boundary.
use serde::Serialize;
use sha2::{Digest, Sha256};
use vlugin::prelude::*;

#[derive(Serialize)]
struct Echo {
    method: String,
    /// The path relative to the plugin's mount point.
    path: String,
    query: Option<String>,
    /// In order, repeated names kept; non-UTF-8 bytes replaced.
    headers: Vec<(String, String)>,
    body_size: usize,
    body_sha256: String,
}

#[vlugin]
fn echo(req: Request) -> impl IntoResponse {
    let uri = req.uri();
    Json(Echo {
        method: req.method().to_string(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers: req
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.to_string(), value)
            })
            .collect(),
        body_size: req.body().len(),
        body_sha256: hex::encode(Sha256::digest(req.body().as_bytes())),
    })
}
