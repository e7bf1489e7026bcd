//! An app's static files (`valor serve --static DIR`, and `valor dev`): GET and HEAD of the
//! files under one directory, `index.html` for a directory, the content type from the file's
//! extension (`application/wasm` for `.wasm`, which `instantiateStreaming` requires), and
//! nothing outside the directory: `..`, encoded or not, and links leading out are refused.

use bytes::Bytes;
use http::{header, Method, Response, StatusCode};
use http_body_util::Full;
use percent_encoding::percent_decode_str;
use std::path::{Component, Path, PathBuf};

/// The files of one directory.
#[derive(Debug, Clone)]
pub struct Files {
    /// The directory, canonical: every file served must be inside it.
    root: PathBuf,
}

/// What a request path names.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// A file to send.
    File(PathBuf),
    /// A directory asked for without its trailing `/`: redirect there, so that the relative
    /// URLs of its `index.html` resolve inside it.
    Directory(String),
    /// Nothing (or something outside the directory, which is the same to a client).
    Missing,
}

impl Files {
    /// The files under `dir`, which must be a directory.
    pub fn new(dir: &Path) -> Result<Self, String> {
        let root = dir
            .canonicalize()
            .map_err(|e| format!("the static directory {} cannot be read: {e}", dir.display()))?;
        if !root.is_dir() {
            return Err(format!("{} is not a directory", dir.display()));
        }
        Ok(Self { root })
    }

    /// The directory served.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// What the URL path `path` (percent-encoded, starting with `/`) names.
    pub fn find(&self, path: &str) -> Found {
        let Some(relative) = relative_path(path) else {
            return Found::Missing;
        };
        let candidate = self.root.join(&relative);
        // Links are followed, but only to somewhere inside the directory.
        let Ok(real) = candidate.canonicalize() else {
            return Found::Missing;
        };
        if !real.starts_with(&self.root) {
            return Found::Missing;
        }
        if real.is_dir() {
            if !path.ends_with('/') {
                // One leading slash: `//host/` would send the browser to another host.
                return Found::Directory(format!("/{}/", path.trim_start_matches('/')));
            }
            let index = real.join("index.html");
            return match index.is_file() {
                true => Found::File(index),
                false => Found::Missing,
            };
        }
        match real.is_file() {
            true => Found::File(real),
            false => Found::Missing,
        }
    }

    /// The answer to `method` on `path`.
    pub async fn serve(&self, method: &Method, path: &str) -> Response<Full<Bytes>> {
        if method != Method::GET && method != Method::HEAD {
            let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
            response
                .headers_mut()
                .insert(header::ALLOW, http::HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        match self.find(path) {
            Found::File(file) => match tokio::fs::read(&file).await {
                Ok(bytes) => {
                    let length = bytes.len();
                    let body = match method == Method::HEAD {
                        true => Bytes::new(),
                        false => Bytes::from(bytes),
                    };
                    let mut response = Response::new(Full::new(body));
                    let headers = response.headers_mut();
                    headers.insert(
                        header::CONTENT_TYPE,
                        http::HeaderValue::from_static(content_type(&file)),
                    );
                    headers.insert(header::CONTENT_LENGTH, length.into());
                    response
                }
                Err(error) => text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("{path} could not be read: {error}\n"),
                ),
            },
            Found::Directory(location) => {
                let mut response = text(StatusCode::MOVED_PERMANENTLY, "");
                if let Ok(value) = http::HeaderValue::from_str(&location) {
                    response.headers_mut().insert(header::LOCATION, value);
                }
                response
            }
            Found::Missing => text(StatusCode::NOT_FOUND, &format!("no file at {path}\n")),
        }
    }
}

/// The path below the root that a URL path names; `None` for one that would leave it (`..`)
/// or that no file can have (NUL, a backslash, a drive or root inside a segment).
fn relative_path(path: &str) -> Option<PathBuf> {
    let decoded = percent_decode_str(path).decode_utf8().ok()?;
    let mut relative = PathBuf::new();
    for segment in decoded.split('/') {
        if segment.is_empty() || segment == "." {
            continue;
        }
        if segment.contains(['\\', '\0', ':']) {
            return None;
        }
        match Path::new(segment).components().next() {
            Some(Component::Normal(_)) => relative.push(segment),
            _ => return None, // `..`, or anything else that is not a plain name
        }
    }
    Some(relative)
}

/// The content type of a file, by its extension.
pub fn content_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match extension.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "wasm" => "application/wasm",
        "txt" | "md" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        _ => "application/octet-stream",
    }
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_owned())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> (tempfile::TempDir, Files) {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir_all(site.join("plugins")).unwrap();
        std::fs::create_dir_all(site.join("docs")).unwrap();
        std::fs::write(site.join("index.html"), "<p>home</p>").unwrap();
        std::fs::write(site.join("plugins/hello.wasm"), b"\0asm").unwrap();
        std::fs::write(site.join("docs/index.html"), "<p>docs</p>").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "outside").unwrap();
        let files = Files::new(&site).unwrap();
        (dir, files)
    }

    #[test]
    fn files_and_directories_are_found() {
        let (_dir, files) = site();
        let root = files.root().to_owned();
        assert_eq!(files.find("/"), Found::File(root.join("index.html")));
        assert_eq!(
            files.find("/plugins/hello.wasm"),
            Found::File(root.join("plugins/hello.wasm"))
        );
        assert_eq!(
            files.find("/docs/"),
            Found::File(root.join("docs/index.html"))
        );
        assert_eq!(files.find("/docs"), Found::Directory("/docs/".into()));
        std::fs::create_dir(root.join("evil.example")).unwrap();
        assert_eq!(
            files.find("//evil.example"),
            Found::Directory("/evil.example/".into()),
            "a redirect stays on this host"
        );
        assert_eq!(files.find("/plugins/"), Found::Missing); // no index.html
        assert_eq!(files.find("/nothing.js"), Found::Missing);
    }

    #[test]
    fn nothing_outside_the_directory_is_found() {
        let (dir, files) = site();
        for path in [
            "/../secret.txt",
            "/plugins/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/%2E%2E%2Fsecret.txt",
            "/..%5csecret.txt",
            "/%00",
        ] {
            assert_eq!(files.find(path), Found::Missing, "{path}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret.txt"), files.root().join("link"))
                .unwrap();
            assert_eq!(files.find("/link"), Found::Missing);
        }
    }

    #[test]
    fn content_types_follow_extensions() {
        assert_eq!(content_type(Path::new("a/b.wasm")), "application/wasm");
        assert_eq!(
            content_type(Path::new("i.HTML")),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("m.mjs")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("p.json")), "application/json");
        assert_eq!(content_type(Path::new("blob")), "application/octet-stream");
    }

    #[tokio::test]
    async fn only_get_and_head_are_answered() {
        let (_dir, files) = site();
        let ok = files.serve(&Method::GET, "/plugins/hello.wasm").await;
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.headers()[header::CONTENT_TYPE], "application/wasm");
        let head = files.serve(&Method::HEAD, "/").await;
        assert_eq!(head.headers()[header::CONTENT_LENGTH], "11");
        assert_eq!(files.serve(&Method::POST, "/").await.status(), 405);
        assert_eq!(files.serve(&Method::GET, "/docs").await.status(), 301);
        assert_eq!(
            files.serve(&Method::GET, "/../secret.txt").await.status(),
            404
        );
    }
}
