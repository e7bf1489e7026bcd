//! `wasi:http/types`' requests: `incoming-request` (the one the handler gets), `outgoing-request`
//! (one it sends) and `request-options`. A request's headers are immutable (`headers` returns
//! an immutable copy); the setters validate as wasmtime-wasi-http does with the `http` crate
//! (see [`super::uri`]).

use super::args::{err, ok, option, Answer, Args};
use super::body::{open_body, BodyOf, HostIncomingBody, SharedBody};
use super::codes::{Method, Scheme};
use super::fields::Fields;
use super::session::Session;
use super::uri::{valid_authority, valid_method, valid_path, valid_scheme};
use crate::abi::Val;
use crate::host::Fault;
use std::rc::Rc;

/// The resource `incoming-request`.
pub(super) struct HostIncomingRequest {
    /// Its method.
    pub method: Method,
    /// Its scheme.
    pub scheme: Scheme,
    /// Its authority.
    pub authority: String,
    /// Its path and query.
    pub path_with_query: String,
    /// Its headers (immutable).
    pub headers: Fields,
    /// Its body, until `consume` takes it.
    pub body: Option<Rc<[u8]>>,
}

/// The resource `outgoing-request`.
pub(super) struct HostOutgoingRequest {
    /// Its method (`get` unless set).
    pub method: Method,
    /// Its scheme, if set.
    pub scheme: Option<Scheme>,
    /// Its authority, if set.
    pub authority: Option<String>,
    /// Its path and query, if set.
    pub path_with_query: Option<String>,
    /// Its headers (immutable).
    pub headers: Fields,
    /// Its body, once `body` was called.
    pub body: Option<SharedBody>,
}

/// The resource `request-options`: kept and answered, not applied (a browser's `fetch` has
/// no such timeouts; the plugin's own time limit bounds the whole request).
#[derive(Default)]
pub(super) struct HostRequestOptions {
    timeouts: [Option<u64>; 3],
}

impl Session {
    fn incoming(&mut self, args: &mut Args) -> Result<&mut HostIncomingRequest, Fault> {
        let handle = args.handle(0)?;
        self.run.table.get::<HostIncomingRequest>(args, handle)
    }

    fn outgoing(&mut self, args: &mut Args) -> Result<&mut HostOutgoingRequest, Fault> {
        let handle = args.handle(0)?;
        self.run.table.get::<HostOutgoingRequest>(args, handle)
    }

    /// The request of a setter (checked before its argument, as wasmtime does).
    fn outgoing_at(&mut self, args: &Args, handle: u32) -> Result<&mut HostOutgoingRequest, Fault> {
        self.run.table.get::<HostOutgoingRequest>(args, handle)
    }

    /// `[method]incoming-request.method`.
    pub(super) fn incoming_request_method(&mut self, args: &mut Args) -> Answer {
        Ok(Some(self.incoming(args)?.method.to_val()))
    }

    /// `[method]incoming-request.path-with-query`.
    pub(super) fn incoming_request_path(&mut self, args: &mut Args) -> Answer {
        let path = self.incoming(args)?.path_with_query.clone();
        Ok(Some(option(Some(Val::String(path)))))
    }

    /// `[method]incoming-request.scheme`.
    pub(super) fn incoming_request_scheme(&mut self, args: &mut Args) -> Answer {
        Ok(Some(option(Some(self.incoming(args)?.scheme.to_val()))))
    }

    /// `[method]incoming-request.authority`.
    pub(super) fn incoming_request_authority(&mut self, args: &mut Args) -> Answer {
        let authority = self.incoming(args)?.authority.clone();
        Ok(Some(option(Some(Val::String(authority)))))
    }

    /// `[method]incoming-request.headers`: an immutable copy.
    pub(super) fn incoming_request_headers(&mut self, args: &mut Args) -> Answer {
        let headers = self.incoming(args)?.headers.clone();
        Ok(Some(Val::Handle(self.run.table.push(args, headers)?)))
    }

    /// `[method]incoming-request.consume`: the body, once.
    pub(super) fn incoming_request_consume(&mut self, args: &mut Args) -> Answer {
        let Some(bytes) = self.incoming(args)?.body.take() else {
            return Ok(Some(err(None)));
        };
        let body = self.run.table.push(
            args,
            HostIncomingBody {
                bytes,
                streamed: false,
            },
        )?;
        Ok(Some(ok(Some(Val::Handle(body)))))
    }

    /// `[constructor]outgoing-request`: takes the headers, immutable from then on.
    pub(super) fn outgoing_request_new(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        let mut headers = self.run.table.remove::<Fields>(args, handle)?;
        headers.freeze();
        let request = HostOutgoingRequest {
            method: Method::from_name("GET"),
            scheme: None,
            authority: None,
            path_with_query: None,
            headers,
            body: None,
        };
        Ok(Some(Val::Handle(self.run.table.push(args, request)?)))
    }

    /// `[method]outgoing-request.body`: once, and only if the `content-length` is readable.
    pub(super) fn outgoing_request_body(&mut self, args: &mut Args) -> Answer {
        let request = self.outgoing(args)?;
        let buf = open_body(&mut request.body, &request.headers, BodyOf::Request);
        self.outgoing_body(args, buf)
    }

    /// `[method]outgoing-request.method`.
    pub(super) fn outgoing_request_method(&mut self, args: &mut Args) -> Answer {
        Ok(Some(self.outgoing(args)?.method.to_val()))
    }

    /// `[method]outgoing-request.set-method`.
    pub(super) fn outgoing_request_set_method(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        self.outgoing_at(args, handle)?;
        let value = args.take(1)?;
        let method = Method::from_val(value).ok_or_else(|| args.trap("not a method"))?;
        if let Method::Other(name) = &method {
            if !valid_method(name) {
                return Ok(Some(err(None)));
            }
        }
        self.outgoing_at(args, handle)?.method = method;
        Ok(Some(ok(None)))
    }

    /// `[method]outgoing-request.path-with-query`.
    pub(super) fn outgoing_request_path(&mut self, args: &mut Args) -> Answer {
        Ok(Some(option(
            self.outgoing(args)?
                .path_with_query
                .clone()
                .map(Val::String),
        )))
    }

    /// `[method]outgoing-request.set-path-with-query`.
    pub(super) fn outgoing_request_set_path(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        self.outgoing_at(args, handle)?;
        let path = optional_string(args, 1)?;
        if path.as_deref().is_some_and(|p| !valid_path(p)) {
            return Ok(Some(err(None)));
        }
        self.outgoing_at(args, handle)?.path_with_query = path;
        Ok(Some(ok(None)))
    }

    /// `[method]outgoing-request.scheme`.
    pub(super) fn outgoing_request_scheme(&mut self, args: &mut Args) -> Answer {
        Ok(Some(option(
            self.outgoing(args)?.scheme.as_ref().map(Scheme::to_val),
        )))
    }

    /// `[method]outgoing-request.set-scheme`.
    pub(super) fn outgoing_request_set_scheme(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        self.outgoing_at(args, handle)?;
        let scheme = match args.option(1)? {
            None => None,
            Some(v) => Some(Scheme::from_val(v).ok_or_else(|| args.trap("not a scheme"))?),
        };
        if let Some(Scheme::Other(name)) = &scheme {
            if !valid_scheme(name) {
                return Ok(Some(err(None)));
            }
        }
        self.outgoing_at(args, handle)?.scheme = scheme;
        Ok(Some(ok(None)))
    }

    /// `[method]outgoing-request.authority`.
    pub(super) fn outgoing_request_authority(&mut self, args: &mut Args) -> Answer {
        Ok(Some(option(
            self.outgoing(args)?.authority.clone().map(Val::String),
        )))
    }

    /// `[method]outgoing-request.set-authority`.
    pub(super) fn outgoing_request_set_authority(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        self.outgoing_at(args, handle)?;
        let authority = optional_string(args, 1)?;
        if authority.as_deref().is_some_and(|a| !valid_authority(a)) {
            return Ok(Some(err(None)));
        }
        self.outgoing_at(args, handle)?.authority = authority;
        Ok(Some(ok(None)))
    }

    /// `[method]outgoing-request.headers`: an immutable copy.
    pub(super) fn outgoing_request_headers(&mut self, args: &mut Args) -> Answer {
        let headers = self.outgoing(args)?.headers.clone();
        Ok(Some(Val::Handle(self.run.table.push(args, headers)?)))
    }

    /// `[constructor]request-options`.
    pub(super) fn request_options_new(&mut self, args: &mut Args) -> Answer {
        Ok(Some(Val::Handle(
            self.run.table.push(args, HostRequestOptions::default())?,
        )))
    }

    /// `[method]request-options.connect-timeout` (0), `first-byte-timeout` (1) and
    /// `between-bytes-timeout` (2).
    pub(super) fn request_options_get(&mut self, args: &mut Args, which: usize) -> Answer {
        let handle = args.handle(0)?;
        let options = self.run.table.get::<HostRequestOptions>(args, handle)?;
        Ok(Some(option(options.timeouts[which].map(Val::U64))))
    }

    /// The setters of the same.
    pub(super) fn request_options_set(&mut self, args: &mut Args, which: usize) -> Answer {
        let handle = args.handle(0)?;
        let duration = match args.option(1)? {
            None => None,
            Some(Val::U64(nanos)) => Some(nanos),
            Some(_) => return Err(args.trap("the duration is not a u64")),
        };
        self.run
            .table
            .get::<HostRequestOptions>(args, handle)?
            .timeouts[which] = duration;
        Ok(Some(ok(None)))
    }
}

/// Argument `i`, an `option<string>`.
fn optional_string(args: &mut Args, i: usize) -> Result<Option<String>, Fault> {
    match args.option(i)? {
        None => Ok(None),
        Some(Val::String(s)) => Ok(Some(s)),
        Some(_) => Err(args.trap(format_args!("argument {i} is not an option<string>"))),
    }
}
