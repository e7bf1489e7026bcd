//! The dev server: the app's files from `web/` (HTML with the dev script added), Valor's
//! worker and runtime from the binary when `web/` has none (before the first build), the
//! manifest with the registry on, the dev script, and the state's events.

use super::super::assets;
use super::super::project::{Project, MANIFEST};
use super::state::State;
use bytes::Bytes;
use futures::StreamExt;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use valor_server::files::{content_type, Files, Found};

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// Where the dev script and the events are (a path no app uses).
const DEV_PREFIX: &str = "/_valor/dev/";
const CLIENT: &str = include_str!("client.js");

struct Server {
    project: Project,
    files: Files,
    state: Arc<State>,
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn serve(project: Project, listen: SocketAddr, state: Arc<State>) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("listening on {listen} failed: {e} (choose another with --listen)"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let files = Files::new(&project.web())?;
    let server = Arc::new(Server {
        project,
        files,
        state,
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
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

impl Server {
    async fn answer<B>(&self, request: Request<B>) -> Response<Body> {
        let path = request.uri().path().to_owned();
        let mut response = match path.strip_prefix(DEV_PREFIX) {
            Some("events") => self.events(),
            Some("client.js") => {
                bytes(CLIENT.as_bytes().to_vec(), "text/javascript; charset=utf-8")
            }
            Some(_) => text(StatusCode::NOT_FOUND, "no such dev server file\n"),
            None if request.method() != Method::GET && request.method() != Method::HEAD => text(
                StatusCode::METHOD_NOT_ALLOWED,
                &format!(
                    "{} {path}: the dev server serves files; plugins answer in the page's \
                     service worker (is it controlling the page?)\n",
                    request.method()
                ),
            ),
            None if path == format!("/{MANIFEST}") => self.manifest().await,
            None => self.file(&path).await,
        };
        // Always the latest: the page and its worker never keep a copy of anything.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }

    /// The app's file at `path`; Valor's from the binary if the app has none.
    async fn file(&self, path: &str) -> Response<Body> {
        match self.files.find(path) {
            Found::File(file) => match tokio::fs::read(&file).await {
                Ok(body) if content_type(&file).starts_with("text/html") => {
                    bytes(with_dev_script(body), content_type(&file))
                }
                Ok(body) => bytes(body, content_type(&file)),
                Err(error) => text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("{path} could not be read: {error}\n"),
                ),
            },
            Found::Directory(location) => {
                let mut response = text(StatusCode::MOVED_PERMANENTLY, "");
                if let Ok(value) = HeaderValue::from_str(&location) {
                    response.headers_mut().insert(header::LOCATION, value);
                }
                response
            }
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
            .map(|chunk| Ok::<_, Infallible>(hyper::body::Frame::data(chunk)));
        let mut response = Response::new(BodyExt::boxed_unsync(StreamBody::new(stream)));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        response
    }
}

/// The page's HTML, with the dev script added at its end.
fn with_dev_script(html: Vec<u8>) -> Vec<u8> {
    let tag = format!("<script src=\"{DEV_PREFIX}client.js\"></script>\n");
    let mut html = String::from_utf8_lossy(&html).into_owned();
    match html.rfind("</body>") {
        Some(at) => html.insert_str(at, &tag),
        None => html.push_str(&tag),
    }
    html.into_bytes()
}

fn bytes(body: Vec<u8>, content_type: &'static str) -> Response<Body> {
    let mut response = Response::new(BodyExt::boxed_unsync(Full::new(Bytes::from(body))));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut response = bytes(body.as_bytes().to_vec(), "text/plain; charset=utf-8");
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dev_script_is_added_to_pages() {
        let page = with_dev_script(b"<p>hi</p></body></html>".to_vec());
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains("<script src=\"/_valor/dev/client.js\"></script>\n</body>"));
        let bare = String::from_utf8(with_dev_script(b"<p>hi</p>".to_vec())).unwrap();
        assert!(bare.ends_with("client.js\"></script>\n"));
    }
}
