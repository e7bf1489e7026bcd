use crate::guest::{host, ops::HostOp};
use crate::{Body, Error, Request, Response};
use valor_abi::codec;

/// Sends an HTTP request from the plugin, through the runtime's `fetch`.
///
/// The URI is absolute (`https://api.example.com/v1/x`) or a path on the app's own origin
/// (`/api/hello`); a path answered by a plugin is dispatched to it directly. Hosts are denied
/// unless the plugin's manifest entry lists them in `allowed_hosts` (exact names,
/// `*.example.com`, or `"self"` for the app's origin): a denied request is [`Error::Denied`],
/// whose message names the host and how to allow it. An HTTP error status is a response, not an
/// error; only a request that got no answer at all is [`Error::Network`], and so is a redirect
/// from the network, which is never followed (the runtime cannot see where it leads). Cookies
/// are sent only if the manifest entry's `credentials` says so.
///
/// # Examples
/// ```no_run
/// use vlugin::prelude::*;
///
/// # async fn example() -> Result<(), vlugin::Error> {
/// let request = http::Request::get("/api/hello").body(Body::empty()).unwrap();
/// let response = fetch(request).await?;
/// assert!(response.status().is_success());
/// # Ok(()) }
/// ```
pub async fn fetch(request: Request) -> Result<Response, Error> {
    let bytes = codec::encode_request(&request);
    drop(request); // a large body is not needed twice while the request is in flight
    let answer = HostOp::new(host::fetch(&bytes))
        .result(Error::Network)
        .await?;
    Ok(codec::decode_response(&answer)?)
}

/// Sends an HTTP request from the plugin as [`fetch`] does (the same rules and errors), but
/// hands over the response's body as it arrives: the body is streamed
/// ([`Body::is_streamed`]), read from the host a chunk at a time with
/// [`Body::into_stream`] or [`Body::collect`], and not bounded by `max_body_bytes`.
///
/// Returned as the body of the handler's answer, it is passed on as that answer's streamed body
/// (one read per chunk, as the answer's reader asks for more): a proxy holds a chunk at a time,
/// whatever the download's size. Dropping the body (read or not) closes it, and the host closes
/// the connection.
///
/// # Examples
/// ```no_run
/// use vlugin::prelude::*;
///
/// /// Passes a download on to the client, its status and type with it.
/// async fn download(_req: Request) -> vlugin::Result<Response> {
///     let request = http::Request::get("https://files.example.com/big.iso").body(Body::empty())?;
///     let upstream = vlugin::fetch_stream(request).await?;
///     let mut response = Response::new(Body::empty());
///     *response.status_mut() = upstream.status();
///     if let Some(kind) = upstream.headers().get(header::CONTENT_TYPE) {
///         response.headers_mut().insert(header::CONTENT_TYPE, kind.clone());
///     }
///     *response.body_mut() = upstream.into_body();
///     Ok(response)
/// }
/// ```
pub async fn fetch_stream(request: Request) -> Result<Response, Error> {
    let bytes = codec::encode_request(&request);
    drop(request);
    let answer = HostOp::new(host::fetch_stream(&bytes))
        .result(Error::Network)
        .await?;
    Ok(codec::decode_response_with(&answer, Body::from_field)?)
}
