use crate::guest::{host, ops::HostOp};
use crate::{Error, Request, Response};
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
