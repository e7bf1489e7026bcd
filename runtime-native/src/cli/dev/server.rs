//! The dev server: the app's files from `web/` (HTML with the dev script added), Valor's
//! worker and runtime from the binary when `web/` has none (before the first build), the
//! manifest with the registry on, the dev script, and the state's events. Only to requests for
//! this machine's names (`host`).

use super::super::assets;
use super::super::project::{Project, MANIFEST};
use super::host;
use super::state::State;
use bytes::Bytes;
use futures::StreamExt;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::StreamBody;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use valor_server::files::{self, content_type, full, no_sniffing, text, Body, Files, Found};
use valor_server::serve::{http1_builder, HEADER_TIMEOUT};

/// Where the dev script and the events are (a path no app uses).
const DEV_PREFIX: &str = "/_valor/dev/";
const CLIENT: &str = include_str!("client.js");

struct Server {
    project: Project,
    files: Files,
    state: Arc<State>,
    /// The address listened on.
    address: SocketAddr,
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn serve(
    project: Project,
    listener: std::net::TcpListener,
    state: Arc<State>,
) -> Result<(), String> {
    let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let files = Files::new(&project.web())?;
    let server = Arc::new(Server {
        project,
        files,
        state,
        address,
    });
    // One line on stdout, for scripts that started it with port 0.
    println!("valor: listening on http://{address}");
    super::say(format!(
        "open http://{address}/ : saving a plugin's source rebuilds it and swaps it into the \
         page; Ctrl-C stops"
    ));
    let mut shutdown = std::pin::pin!(valor_server::serve::shutdown_signal());
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => continue,
            },
            () = &mut shutdown => return Ok(()),
        };
        let server = Arc::clone(&server);
        let service = service_fn(move |request| {
            let server = Arc::clone(&server);
            async move { Ok::<_, Infallible>(server.answer(request).await) }
        });
        tokio::spawn(async move {
            let _ = http1_builder(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

impl Server {
    async fn answer<B>(&self, request: Request<B>) -> Response<Body> {
        // As a browser sends it, and as `valor serve` routes it: dot segments removed.
        let path = valor_host::routes::normalize_path(request.uri().path()).into_owned();
        let host = request.headers().get(header::HOST);
        let refused = host::refused(host.map(|h| h.to_str().unwrap_or("")), self.address);
        let head = request.method() == Method::HEAD;
        let mut response = if let Some(reason) = refused {
            text(StatusCode::FORBIDDEN, &reason)
        } else {
            match path.strip_prefix(DEV_PREFIX) {
                Some("events") => self.events(),
                Some("client.js") => {
                    bytes(CLIENT.as_bytes().to_vec(), "text/javascript; charset=utf-8")
                }
                Some(_) => text(StatusCode::NOT_FOUND, "no such dev server file\n"),
                None if request.method() != Method::GET && request.method() != Method::HEAD => {
                    text(
                        StatusCode::METHOD_NOT_ALLOWED,
                        &format!(
                            "{} {path}: the dev server serves files; plugins answer in the page's \
                             service worker (is it controlling the page?)\n",
                            request.method()
                        ),
                    )
                }
                None if path == format!("/{MANIFEST}") => self.manifest().await,
                None => self.file(&path, head).await,
            }
        };
        // Always the latest: the page and its worker never keep a copy of anything.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        no_sniffing(&mut response);
        response
    }

    /// The app's file at `path`; Valor's from the binary if the app has none. Pages are read
    /// to add the dev script; other files are streamed, and HEAD reads nothing.
    async fn file(&self, path: &str, head: bool) -> Response<Body> {
        let failed = |error: std::io::Error| {
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("{path} could not be read: {error}\n"),
            )
        };
        match self.files.find(path) {
            Found::File(file) if content_type(&file).starts_with("text/html") && !head => {
                match tokio::fs::read(&file).await {
                    Ok(page) => bytes(with_dev_script(page), content_type(&file)),
                    Err(error) => failed(error),
                }
            }
            Found::File(file) => match files::send(&file, head).await {
                Ok((mut length, body)) => {
                    if content_type(&file).starts_with("text/html") {
                        length += dev_script_tag().len() as u64;
                    }
                    files::file_response(&file, length, body)
                }
                Err(error) => failed(error),
            },
            Found::Directory(location) => files::redirect(&location),
            Found::Missing => match assets::at(path) {
                Some(asset) => bytes(
                    asset.bytes.to_vec(),
                    content_type(std::path::Path::new(asset.path)),
                ),
                None => text(
                    StatusCode::NOT_FOUND,
                    &format!("no file at {path} in web/\n"),
                ),
            },
        }
    }

    /// The manifest, with the registry on, so that the dev script may swap plugins.
    async fn manifest(&self) -> Response<Body> {
        match self.project.manifest() {
            Ok(mut manifest) => {
                if !manifest["registry"].is_object() {
                    manifest["registry"] = true.into();
                }
                bytes(manifest.to_string().into_bytes(), "application/json")
            }
            Err(error) => text(StatusCode::INTERNAL_SERVER_ERROR, &format!("{error}\n")),
        }
    }

    /// The state now, then each change, as server-sent events.
    fn events(&self) -> Response<Body> {
        let receiver = self.state.subscribe();
        let updates =
            futures::stream::unfold((receiver, true), |(mut receiver, first)| async move {
                if !first {
                    receiver.changed().await.ok()?;
                }
                let state = receiver.borrow_and_update().clone();
                let event = Bytes::from(format!("data: {state}\n\n"));
                Some((event, (receiver, false)))
            });
        // Reconnect fast after the server restarts.
        let retry = futures::stream::once(async { Bytes::from_static(b"retry: 500\n\n") });
        let stream = retry
            .chain(updates)
            .map(|chunk| Ok::<_, std::io::Error>(hyper::body::Frame::data(chunk)));
        let mut response = Response::new(files::streamed(StreamBody::new(stream)));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        response
    }
}

/// What the dev server adds to pages.
fn dev_script_tag() -> String {
    format!("<script src=\"{DEV_PREFIX}client.js\"></script>\n")
}

/// The page's HTML, with the dev script added before its last `</body>`, or at its end: the
/// page's bytes are kept as they are, so its length grows by the tag's exactly (HEAD says so).
fn with_dev_script(mut html: Vec<u8>) -> Vec<u8> {
    let tag = dev_script_tag();
    let end = b"</body>";
    let at = html
        .windows(end.len())
        .rposition(|window| window == end)
        .unwrap_or(html.len());
    html.splice(at..at, tag.into_bytes());
    html
}

fn bytes(body: Vec<u8>, content_type: &'static str) -> Response<Body> {
    let mut response = Response::new(full(body));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// A dev server of a project with a page and a 1 TiB sparse file, listening on `address`.
    fn server(address: &str) -> (tempfile::TempDir, Server) {
        let dir = tempfile::tempdir().unwrap();
        let web = dir.path().join("web");
        std::fs::create_dir_all(&web).unwrap();
        std::fs::write(web.join(MANIFEST), r#"{ "plugins": [] }"#).unwrap();
        std::fs::write(web.join("index.html"), "<p>hi</p></body>").unwrap();
        std::fs::write(web.join(".env"), "SECRET=1").unwrap();
        let huge = std::fs::File::create(web.join("huge.bin")).unwrap();
        huge.set_len(1 << 40).unwrap();
        let project = Project::find(dir.path()).unwrap();
        let server = Server {
            files: Files::new(&project.web()).unwrap(),
            project,
            state: Arc::new(State::new()),
            address: address.parse().unwrap(),
        };
        (dir, server)
    }

    fn request(method: Method, path: &str, host: &str) -> Request<String> {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, host)
            .body(String::new())
            .unwrap()
    }

    #[tokio::test]
    async fn other_hosts_are_refused() {
        let (_dir, server) = server("127.0.0.1:8080");
        for path in ["/", "/_valor/dev/events", "/plugins.json"] {
            let response = server
                .answer(request(Method::GET, path, "rebound.example:8080"))
                .await;
            assert_eq!(response.status(), 403, "{path}");
            let said = response.into_body().collect().await.unwrap().to_bytes();
            let said = String::from_utf8_lossy(&said);
            assert!(said.contains("http://localhost:8080/"), "{said}");
        }
        for host in ["localhost:8080", "127.0.0.1:8080", "[::1]:8080"] {
            let response = server.answer(request(Method::GET, "/", host)).await;
            assert_eq!(response.status(), 200, "{host}");
        }
    }

    #[tokio::test]
    async fn files_are_streamed_head_reads_nothing_and_nothing_is_sniffed() {
        let (_dir, server) = server("127.0.0.1:8080");
        let answer = |method, path| server.answer(request(method, path, "localhost:8080"));
        let head = answer(Method::HEAD, "/huge.bin").await;
        assert_eq!(head.status(), 200);
        assert_eq!(
            head.headers()[header::CONTENT_LENGTH],
            (1u64 << 40).to_string()
        );
        let get = answer(Method::GET, "/huge.bin").await;
        assert_eq!(get.status(), 200);
        let first = get.into_body().frame().await.unwrap().unwrap();
        assert!(first.into_data().unwrap().len() <= 1 << 20);
        // A page's length counts the dev script, on HEAD too.
        let page = answer(Method::GET, "/").await.into_body();
        let page = page.collect().await.unwrap().to_bytes();
        let head = answer(Method::HEAD, "/").await;
        assert_eq!(
            head.headers()[header::CONTENT_LENGTH],
            page.len().to_string()
        );
        for path in ["/", "/huge.bin", "/nothing", "/_valor/dev/client.js"] {
            let response = answer(Method::GET, path).await;
            assert_eq!(
                response.headers()[header::X_CONTENT_TYPE_OPTIONS],
                "nosniff",
                "{path}"
            );
        }
        assert_eq!(answer(Method::GET, "/.env").await.status(), 404);
    }

    #[tokio::test]
    async fn dot_segments_are_removed_as_a_browser_would() {
        let (_dir, server) = server("127.0.0.1:8080");
        let answer = |path| server.answer(request(Method::GET, path, "localhost:8080"));
        let manifest = answer("/web/../plugins.json").await;
        assert_eq!(manifest.status(), 200);
        let manifest = manifest.into_body().collect().await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&manifest).contains("\"registry\":true"));
        let client = answer("/x/%2e%2E/_valor/./dev/client.js").await;
        assert_eq!(client.status(), 200);
        assert_eq!(answer("/../../index.html").await.status(), 200);
    }

    #[test]
    fn the_dev_script_is_added_to_pages() {
        let page = with_dev_script(b"<p>hi</p></body></html>".to_vec());
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains("<script src=\"/_valor/dev/client.js\"></script>\n</body>"));
        let bare = String::from_utf8(with_dev_script(b"<p>hi</p>".to_vec())).unwrap();
        assert!(bare.ends_with("client.js\"></script>\n"));
    }
}
