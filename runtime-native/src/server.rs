//! HTTP/1.1 on tokio and hyper: every connection served concurrently, and a graceful shutdown
//! (on Ctrl-C or SIGTERM the listener closes and requests in flight finish, for up to 30 s).
//! A client gets 30 s to send a request's headers: half-open connections do not pile up.

use crate::app::App;
use crate::header_timer::ConnectionTimer;
use crate::inbound;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long requests in flight may take to finish once a shutdown was asked for.
const DRAIN: Duration = Duration::from_secs(30);

/// How long a client may take to send a request's headers before its connection is closed.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// HTTP/1.1 connections that close when a request's headers take longer than `header_timeout`
/// (without a timer, hyper would wait for them forever): each connection (each builder) with a
/// timer of its own, which its requests share.
pub fn http1_builder(header_timeout: Duration) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(ConnectionTimer::default())
        .header_read_timeout(header_timeout);
    builder
}

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in flight finish.
pub async fn serve(listener: TcpListener, app: Arc<App>, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    tracing::warn!("accepting a connection failed: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // The connection's own handle on the app, which its requests clone: a count only this
        // connection's thread writes, not one every thread's requests contend for.
        let app = Arc::new(Arc::clone(&app));
        let service = service_fn(move |mut request| {
            let app = Arc::clone(&app);
            // Routed as a browser would have sent it: no `..` reaches the app.
            inbound::normalize(&mut request);
            async move { Ok::<_, Infallible>(app.handle(peer, request).await) }
        });
        let connection =
            http1_builder(HEADER_TIMEOUT).serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!("connection ended: {error}");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing the requests in flight");
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still in flight after {} s were dropped",
            DRAIN.as_secs()
        );
    }
}

/// Ctrl-C, or SIGTERM (what service managers and container runtimes send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => drop(signal.recv().await),
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// What a connection sent `sent` (and then nothing) ends with, or `None` if it is still
    /// open after 5 s.
    async fn end_after(sent: &[u8]) -> Option<hyper::Error> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (ended, end) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let service = service_fn(|_request| async {
                Ok::<_, Infallible>(http::Response::new(String::new()))
            });
            let result = http1_builder(Duration::from_millis(200))
                .serve_connection(TokioIo::new(stream), service)
                .await;
            let _ = ended.send(result);
        });
        let mut client = tokio::net::TcpStream::connect(address).await.unwrap();
        client.write_all(sent).await.unwrap();
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut rest));
        let _ended_or_reset = closed.await.ok()?;
        end.await.expect("the connection's task ended").err()
    }

    #[tokio::test]
    async fn unfinished_headers_close_the_connection() {
        let ended = end_after(b"GET / HTTP/1.1\r\nhost: x\r\n").await;
        let error = ended.expect("the server still waits for the headers after 5 s");
        assert!(error.is_timeout(), "{error}");
    }

    #[tokio::test]
    async fn silent_connections_close() {
        let ended = end_after(b"").await;
        let error = ended.expect("a silent connection is still open after 5 s");
        assert!(error.is_timeout(), "{error}");
    }
}
