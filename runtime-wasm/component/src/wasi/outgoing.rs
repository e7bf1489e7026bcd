//! `wasi:http/outgoing-handler.handle` and `future-incoming-response`: the requests a handler
//! sends. The k-th call of `handle` in a run is the session's k-th request: the first run that
//! reaches it sends it through [`Outside::fetch`] (once its body is finished, if it has one)
//! and the session keeps it; later runs bind the same call to the same request, which must
//! have the same method and URL. The request's future is polled only while a run waits on it
//! (a blocked run's future drives it) or when a run looks at whether it is ready.
//!
//! As in wasmtime-wasi-http: a missing scheme is `https`, a scheme other than `http` and
//! `https` is `HTTP-protocol-error`, a missing authority is `HTTP-request-URI-invalid`, an
//! unreadable `content-length` is `internal-error`, a `content-length` above zero without a
//! body is `HTTP-request-body-size(some(0))`. A denied request (the plugin's `allowed_hosts`)
//! is `HTTP-request-denied`; a failed one `internal-error(some(message))`. Differences: no
//! `host` header is added (the browser's `fetch` sets it), and `request-options` timeouts are
//! not applied.

use super::args::{err, ok, option, Answer, Args};
use super::body::BodyState;
use super::codes::{error_code, Scheme};
use super::fields::Fields;
use super::log::{Observation, DISAGREED};
use super::poll::{Pollable, Target};
use super::request::{HostOutgoingRequest, HostRequestOptions};
use super::response::HostIncomingResponse;
use super::session::Session;
use super::{FetchError, OutgoingRequest, Response};
use crate::abi::Val;
use futures::future::LocalBoxFuture;
use futures::FutureExt;
use std::cell::RefCell;
use std::rc::Rc;
use std::task::Poll;

/// The most outgoing requests one request may send: the session keeps every response until
/// the request ends (a later run may read it again), so a handler sending requests in a loop
/// traps here.
pub(super) const FETCH_LIMIT: usize = 1_000;

/// A response as the session keeps it (its body shared by the runs that read it).
pub(super) struct Fetched {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Rc<[u8]>,
}

/// Where an outgoing request is.
pub(super) enum FetchState {
    /// Waiting for its body to be finished.
    Unsent(OutgoingRequest),
    /// Sent.
    Pending(LocalBoxFuture<'static, Result<Response, FetchError>>),
    /// Answered, or failed with this `error-code`.
    Done(Result<Fetched, Val>),
}

/// One outgoing request of the session.
pub(super) struct Fetch {
    method: String,
    url: String,
    state: Rc<RefCell<FetchState>>,
}

/// The resource `future-incoming-response`.
pub(super) struct HostFutureIncomingResponse {
    fetch: usize,
    taken: bool,
}

impl FetchState {
    /// Polls a sent request once; whether it is done.
    fn poll_done(&mut self, cx: &mut std::task::Context<'_>) -> Poll<()> {
        match self {
            FetchState::Unsent(_) => Poll::Pending,
            FetchState::Done(_) => Poll::Ready(()),
            FetchState::Pending(future) => match future.poll_unpin(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(result) => {
                    *self = FetchState::Done(fetched(result));
                    Poll::Ready(())
                }
            },
        }
    }
}

fn fetched(result: Result<Response, FetchError>) -> Result<Fetched, Val> {
    match result {
        Ok(response) => Ok(Fetched {
            status: response.status,
            headers: response.headers,
            body: response.body.into(),
        }),
        Err(FetchError::Denied(_)) => Err(error_code::request_denied()),
        Err(FetchError::Failed(message)) => Err(error_code::internal(message)),
    }
}

/// The URL of a request, or the `error-code` wasmtime-wasi-http answers `handle` with.
fn url(request: &HostOutgoingRequest) -> Result<String, Val> {
    // `http` reads `other("HTTP")` as `HTTP`; wasmtime supports no other scheme.
    let scheme = match &request.scheme {
        None | Some(Scheme::Https) => "https",
        Some(Scheme::Http) => "http",
        Some(Scheme::Other(name)) if name.eq_ignore_ascii_case("https") => "https",
        Some(Scheme::Other(name)) if name.eq_ignore_ascii_case("http") => "http",
        Some(Scheme::Other(_)) => return Err(error_code::protocol_error()),
    };
    let Some(authority) = &request.authority else {
        return Err(error_code::request_uri_invalid());
    };
    let path = request.path_with_query.as_deref().unwrap_or("");
    let path = path.split('#').next().unwrap_or("");
    let slash = if path.starts_with('/') { "" } else { "/" };
    Ok(format!("{scheme}://{authority}{slash}{path}"))
}

impl Session {
    /// `wasi:http/outgoing-handler.handle`.
    pub(super) fn outgoing_handle(&mut self, args: &mut Args) -> Answer {
        let (handle, options) = (args.handle(0)?, args.option(1)?);
        if let Some(options) = options {
            let Val::Handle(options) = options else {
                return Err(args.trap("the options are not a handle"));
            };
            self.run.table.remove::<HostRequestOptions>(args, options)?;
        }
        let request = self.run.table.remove::<HostOutgoingRequest>(args, handle)?;
        let content_length = match request.headers.content_length() {
            Ok(length) => length,
            Err(message) => return Ok(Some(err(Some(error_code::internal(message))))),
        };
        if request.body.is_none() && content_length.is_some_and(|n| n != 0) {
            return Ok(Some(err(Some(error_code::request_body_size(0)))));
        }
        let url = match url(&request) {
            Ok(url) => url,
            Err(code) => return Ok(Some(err(Some(code)))),
        };
        let method = request.method.name().to_string();
        let fetch = self.run.fetches_made;
        if fetch >= FETCH_LIMIT {
            return Err(args.trap(format_args!(
                "the component sent {FETCH_LIMIT} outgoing requests, the most this host sends \
                 for one request"
            )));
        }
        self.run.fetches_made += 1;
        match self.fetches.get(fetch) {
            Some(known) if known.method != method || known.url != url => {
                return Err(args.trap(DISAGREED));
            }
            Some(_) => {}
            None => {
                let unsent = OutgoingRequest {
                    method: method.clone(),
                    url: url.clone(),
                    headers: request.headers.entries(),
                    body: Vec::new(),
                };
                let state = Rc::new(RefCell::new(FetchState::Unsent(unsent)));
                self.fetches.push(Fetch { method, url, state });
            }
        }
        match &request.body {
            None => self.send_fetch(fetch, Vec::new()),
            Some(body) => {
                let mut body = body.borrow_mut();
                match body.state {
                    BodyState::Open => body.fetch = Some(fetch),
                    BodyState::Finished => {
                        let bytes = std::mem::take(&mut body.bytes);
                        drop(body);
                        self.send_fetch(fetch, bytes);
                    }
                    BodyState::Aborted => {
                        drop(body);
                        self.fail_fetch(fetch, error_code::protocol_error());
                    }
                }
            }
        }
        let future = HostFutureIncomingResponse {
            fetch,
            taken: false,
        };
        Ok(Some(ok(Some(Val::Handle(
            self.run.table.push(args, future)?,
        )))))
    }

    /// Sends the request `fetch` with `body`, unless it was sent already.
    pub(super) fn send_fetch(&mut self, fetch: usize, body: Vec<u8>) {
        let mut state = self.fetches[fetch].state.borrow_mut();
        if let FetchState::Unsent(request) = &mut *state {
            let mut request = std::mem::replace(request, empty_request());
            request.body = body;
            *state = FetchState::Pending(self.outside.fetch(request));
        }
    }

    /// Fails the request `fetch` with `code`, unless it was sent already.
    pub(super) fn fail_fetch(&mut self, fetch: usize, code: Val) {
        let mut state = self.fetches[fetch].state.borrow_mut();
        if let FetchState::Unsent(_) = &*state {
            *state = FetchState::Done(Err(code));
        }
    }

    /// Whether the request `fetch` is answered (polling it once).
    pub(super) fn fetch_ready(&mut self, fetch: usize) -> bool {
        let mut cx = std::task::Context::from_waker(futures::task::noop_waker_ref());
        self.fetches[fetch]
            .state
            .borrow_mut()
            .poll_done(&mut cx)
            .is_ready()
    }

    /// A future that completes when the request `fetch` is answered (`None` if it is not
    /// sent: its body is not finished).
    pub(super) fn fetch_wait(&mut self, fetch: usize) -> Option<LocalBoxFuture<'static, ()>> {
        let state = self.fetches[fetch].state.clone();
        if let FetchState::Unsent(_) = &*state.borrow() {
            return None;
        }
        Some(futures::future::poll_fn(move |cx| state.borrow_mut().poll_done(cx)).boxed_local())
    }

    /// `[method]future-incoming-response.subscribe`.
    pub(super) fn future_response_subscribe(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        let fetch = self
            .run
            .table
            .get::<HostFutureIncomingResponse>(args, handle)?
            .fetch;
        let pollable = Pollable {
            target: Target::Fetch(fetch),
        };
        Ok(Some(Val::Handle(
            self.run.table.push_child(args, pollable, handle)?,
        )))
    }

    /// `[method]future-incoming-response.get`: whether the response is there is observed
    /// (see [`super::log`]).
    pub(super) fn future_response_get(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        let future = self
            .run
            .table
            .get::<HostFutureIncomingResponse>(args, handle)?;
        if future.taken {
            return Ok(Some(option(Some(err(None)))));
        }
        let fetch = future.fetch;
        let found = match self.log.replay() {
            Some(Observation::Found(found)) => found,
            Some(_) => return Err(args.trap(DISAGREED)),
            None => {
                let found = self.fetch_ready(fetch);
                self.log.record(args, Observation::Found(found))?;
                found
            }
        };
        if !found {
            return Ok(Some(option(None)));
        }
        let response = match &*self.fetches[fetch].state.borrow() {
            FetchState::Done(Ok(fetched)) => Ok(HostIncomingResponse {
                status: fetched.status,
                headers: Fields::immutable(&fetched.headers),
                body: Some(fetched.body.clone()),
            }),
            FetchState::Done(Err(code)) => Err(code.clone()),
            _ => return Err(args.trap(DISAGREED)),
        };
        self.run
            .table
            .get::<HostFutureIncomingResponse>(args, handle)?
            .taken = true;
        let result = match response {
            Ok(response) => ok(Some(Val::Handle(self.run.table.push(args, response)?))),
            Err(code) => err(Some(code)),
        };
        Ok(Some(option(Some(ok(Some(result))))))
    }
}

fn empty_request() -> OutgoingRequest {
    OutgoingRequest {
        method: String::new(),
        url: String::new(),
        headers: Vec::new(),
        body: Vec::new(),
    }
}
