//! An app's static files (`valor serve --static DIR`, and `valor dev`): GET and HEAD of the
//! files under one directory, `index.html` for a directory, the content type from the file's
//! extension (`application/wasm` for `.wasm`, which `instantiateStreaming` requires), and
//! nothing outside the directory: `..`, encoded or not, and links leading out are refused.
//! (`valor serve` resolves a path's dot segments first, as browsers do, so `/a/../b` is `/b`
//! by the time it is here; whatever `..` still arrives is refused, not resolved.)
//! Nor hidden files (`.git/`, `.env`: any name starting with `.`), but `/.well-known/`.
//! Files are streamed, HEAD answered from their metadata: a large file costs no memory.

use bytes::Bytes;
use futures::TryStreamExt;
use http::{header, HeaderValue, Method, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Either, Full, StreamBody};
use percent_encoding::percent_decode_str;
use std::path::{Component, Path, PathBuf};

/// A response's body: bytes in memory (most answers: not boxed, nothing to allocate), or a
/// stream (a file read as it is sent, a plugin's streamed answer), boxed.
pub type Body = Either<Full<Bytes>, UnsyncBoxBody<Bytes, std::io::Error>>;

/// The one hidden directory served: where sites publish `security.txt`, `assetlinks.json`...
const WELL_KNOWN: &str = ".well-known";

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
        let Some(relative) = relative_path(path).filter(|relative| !hidden(relative)) else {
            return Found::Missing;
        };
        let Some(real) = self.inside(&self.root.join(&relative)) else {
            return Found::Missing;
        };
        if real.is_dir() {
            if !path.ends_with('/') {
                // One leading slash: `//host/` would send the browser to another host.
                return Found::Directory(format!("/{}/", path.trim_start_matches('/')));
            }
            // The index may be a link too: it is held to the same rules.
            return match self.inside(&real.join("index.html")) {
                Some(index) if index.is_file() => Found::File(index),
                _ => Found::Missing,
            };
        }
        match real.is_file() {
            true => Found::File(real),
            false => Found::Missing,
        }
    }

    /// Where `candidate` really is (links are followed), if that is inside the directory and
    /// not hidden.
    fn inside(&self, candidate: &Path) -> Option<PathBuf> {
        let real = candidate.canonicalize().ok()?;
        let below = real.strip_prefix(&self.root).ok()?;
        (!hidden(below)).then_some(real)
    }

    /// The answer to `method` on `path`.
    pub async fn serve(&self, method: &Method, path: &str) -> Response<Body> {
        let mut response = self.answer(method, path).await;
        no_sniffing(&mut response);
        response
    }

    async fn answer(&self, method: &Method, path: &str) -> Response<Body> {
        if method != Method::GET && method != Method::HEAD {
            let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        match self.find(path) {
            Found::File(file) => match send(&file, method == Method::HEAD).await {
                Ok((length, body)) => file_response(&file, length, body),
                Err(error) => text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("{path} could not be read: {error}\n"),
                ),
            },
            Found::Directory(location) => redirect(&location),
            Found::Missing => text(StatusCode::NOT_FOUND, &format!("no file at {path}\n")),
        }
    }
}

/// A file's length and the body that sends it: nothing for HEAD (the length is its
/// metadata's), else the file streamed as it is read.
pub async fn send(file: &Path, head: bool) -> std::io::Result<(u64, Body)> {
    let opened = tokio::fs::File::open(file).await?;
    let length = opened.metadata().await?.len();
    let body = match head {
        true => full(Bytes::new()),
        false => {
            let chunks = tokio_util::io::ReaderStream::new(opened).map_ok(http_body::Frame::data);
            streamed(StreamBody::new(chunks))
        }
    };
    Ok((length, body))
}

/// A body of bytes in memory.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Either::Left(Full::new(bytes.into()))
}

/// A body sent as `body` produces it.
pub fn streamed(
    body: impl http_body::Body<Data = Bytes, Error = std::io::Error> + Send + 'static,
) -> Body {
    Either::Right(body.boxed_unsync())
}

/// Tells browsers to take the content type as given: a file uploaded as `.txt` that looks
/// like HTML is not run as a page.
pub fn no_sniffing<B>(response: &mut Response<B>) {
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// Whether a path below the root goes through a hidden name (`.git`, `.env`), the
/// `.well-known` directory at the top excepted.
fn hidden(below: &Path) -> bool {
    below.components().enumerate().any(|(at, component)| {
        let name = component.as_os_str().to_string_lossy();
        name.starts_with('.') && !(at == 0 && name == WELL_KNOWN)
    })
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

/// The answer that sends `file`, `length` bytes of it (what [`send`] gave).
pub fn file_response(file: &Path, length: u64, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(file)),
    );
    headers.insert(header::CONTENT_LENGTH, length.into());
    response
}

/// A directory asked for without its trailing `/`, sent to `location` (see [`Found`]).
pub fn redirect(location: &str) -> Response<Body> {
    let mut response = text(StatusCode::MOVED_PERMANENTLY, "");
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A plain-text answer.
pub fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut response = Response::new(full(body.to_owned()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
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

    #[cfg(unix)]
    #[test]
    fn a_linked_index_leads_nowhere_outside() {
        let (dir, files) = site();
        let docs = files.root().join("docs");
        std::fs::remove_file(docs.join("index.html")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), docs.join("index.html")).unwrap();
        assert_eq!(files.find("/docs/"), Found::Missing);
        // A link to an index inside the directory is still followed.
        std::fs::remove_file(docs.join("index.html")).unwrap();
        std::os::unix::fs::symlink(files.root().join("index.html"), docs.join("index.html"))
            .unwrap();
        assert_eq!(
            files.find("/docs/"),
            Found::File(files.root().join("index.html"))
        );
    }

    #[test]
    fn hidden_files_are_not_found_but_well_known_ones_are() {
        let (_dir, files) = site();
        let root = files.root().to_owned();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/config"), "[core]").unwrap();
        std::fs::write(root.join(".env"), "SECRET=1").unwrap();
        std::fs::write(root.join("docs/.htpasswd"), "x").unwrap();
        std::fs::create_dir_all(root.join(".well-known")).unwrap();
        std::fs::write(root.join(".well-known/security.txt"), "Contact: x").unwrap();
        for path in [
            "/.git/config",
            "/.git/",
            "/.git",
            "/.env",
            "/%2eenv",
            "/docs/.htpasswd",
            "/.well-known/../.env",
        ] {
            assert_eq!(files.find(path), Found::Missing, "{path}");
        }
        assert_eq!(
            files.find("/.well-known/security.txt"),
            Found::File(root.join(".well-known/security.txt"))
        );
        #[cfg(unix)]
        {
            // Nor through a link with a plain name.
            std::os::unix::fs::symlink(root.join(".env"), root.join("env.txt")).unwrap();
            assert_eq!(files.find("/env.txt"), Found::Missing);
        }
    }

    #[tokio::test]
    async fn every_answer_forbids_sniffing() {
        let (_dir, files) = site();
        for (method, path) in [
            (Method::GET, "/"),
            (Method::HEAD, "/plugins/hello.wasm"),
            (Method::GET, "/docs"),
            (Method::GET, "/nothing"),
            (Method::POST, "/"),
        ] {
            let response = files.serve(&method, path).await;
            assert_eq!(
                response.headers()[header::X_CONTENT_TYPE_OPTIONS],
                "nosniff",
                "{method} {path}"
            );
        }
    }

    /// A file of 1 TiB that takes no room (sparse): reading it whole cannot even be tried.
    fn huge_file(files: &Files) -> u64 {
        let length = 1 << 40;
        let file = std::fs::File::create(files.root().join("huge.bin")).unwrap();
        file.set_len(length).unwrap();
        length
    }

    #[tokio::test]
    async fn large_files_are_streamed_and_head_reads_nothing() {
        let (_dir, files) = site();
        let length = huge_file(&files);
        let head = files.serve(&Method::HEAD, "/huge.bin").await;
        assert_eq!(head.status(), 200);
        assert_eq!(head.headers()[header::CONTENT_LENGTH], length.to_string());
        assert_eq!(http_body::Body::size_hint(head.body()).exact(), Some(0));
        let get = files.serve(&Method::GET, "/huge.bin").await;
        assert_eq!(get.status(), 200);
        assert_eq!(get.headers()[header::CONTENT_LENGTH], length.to_string());
        let mut body = get.into_body();
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert!(
            !first.is_empty() && first.len() <= 1 << 20,
            "{}",
            first.len()
        );
        // And a small file's bytes arrive whole.
        let page = files.serve(&Method::GET, "/").await.into_body();
        let page = page.collect().await.unwrap().to_bytes();
        assert_eq!(page, "<p>home</p>");
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
