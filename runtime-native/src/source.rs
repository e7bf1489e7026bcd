//! Where manifests and modules come from: a file (a path, or a `file:` URL) or an `http(s):`
//! URL. Entries' `url`s are resolved against the manifest's own location, as in the browser.

use std::path::Path;
use url::Url;

/// The location of a manifest given on the command line: an http(s) URL as it is, a path as
/// an absolute `file:` URL.
pub fn locate(manifest: &str) -> Result<Url, String> {
    if manifest.starts_with("http://")
        || manifest.starts_with("https://")
        || manifest.starts_with("file:")
    {
        return Url::parse(manifest).map_err(|e| format!("invalid manifest URL {manifest:?}: {e}"));
    }
    let path = std::path::absolute(Path::new(manifest))
        .map_err(|e| format!("invalid manifest path {manifest:?}: {e}"))?;
    Url::from_file_path(&path).map_err(|()| format!("invalid manifest path {}", path.display()))
}

/// An entry's `url`, resolved against the manifest's location; only `file:` and `http(s):`.
pub fn resolve(base: &Url, url: &str) -> Result<String, String> {
    let resolved = base.join(url).map_err(|e| e.to_string())?;
    match resolved.scheme() {
        "file" | "http" | "https" => Ok(resolved.into()),
        other => Err(format!(
            "{other}: URLs can be read only from files, http and https"
        )),
    }
}

/// The bytes at `url`.
pub async fn read(url: &str) -> Result<Vec<u8>, String> {
    let parsed = Url::parse(url).map_err(|e| format!("invalid URL {url:?}: {e}"))?;
    if parsed.scheme() == "file" {
        let path = parsed
            .to_file_path()
            .map_err(|()| format!("{url} is not a file path"))?;
        return tokio::fs::read(&path)
            .await
            .map_err(|e| format!("fetching {url} failed: {e}"));
    }
    let response = reqwest::get(parsed)
        .await
        .map_err(|e| format!("fetching {url} failed: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!(
            "fetching {url} answered {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or_default()
        ));
    }
    response
        .bytes()
        .await
        .map(|bytes| bytes.to_vec())
        .map_err(|e| format!("reading {url} failed: {e}"))
}
