//! [`Session`]: the host of one request's handler, across the runs it takes.

use super::args::Args;
use super::body::{BodyState, SharedBody};
use super::codes::{Method, Scheme};
use super::console::Console;
use super::fields::Fields;
use super::log::Log;
use super::names;
use super::outgoing::Fetch;
use super::request::HostIncomingRequest;
use super::response::HostResponseOutparam;
use super::table::{drop_name, Res, Table};
use super::{IncomingRequest, Outside, Response};
use crate::abi::{Resource, Val};
use crate::host::{Fault, Host, HostFunc};
use std::rc::Rc;

/// The host of one request's handler: its imports' functions over values, its resources, and
/// what it observed (so that a run started again after a wait sees the same answers up to
/// where the last one stopped: see the crate's "Blocking calls").
///
/// A run is started by [`Session::begin_run`] (every resource of the previous run is
/// forgotten), the handler is called with the two handles it returns, and if it returns,
/// [`Session::outcome`] says what it answered. If a call of the run faults with
/// [`Fault::Block`], the run layer waits on the future and begins another run.
///
/// What each interface does, and where it differs from wasmtime-wasi-http 48 (the reference),
/// is in [the module's documentation](super).
pub struct Session {
    pub(super) outside: Rc<dyn Outside>,
    request: HostIncomingRequest,
    pub(super) log: Log,
    pub(super) fetches: Vec<Fetch>,
    pub(super) console: Console,
    pub(super) seed: Option<(u64, u64)>,
    pub(super) run: Run,
}

/// What one run has made.
#[derive(Default)]
pub(super) struct Run {
    /// Its resources.
    pub table: Table,
    /// What it set the response-outparam to.
    pub answer: Option<Answered>,
    /// How many outgoing requests it sent.
    pub fetches_made: usize,
}

/// What a run set its response-outparam to.
pub(super) enum Answered {
    /// An outgoing response.
    Response {
        /// Its status.
        status: u16,
        /// Its headers.
        headers: Vec<(String, Vec<u8>)>,
        /// Its body, if `body` was called.
        body: Option<SharedBody>,
    },
    /// An `error-code`, described.
    Error(String),
}

/// What the handler answered, once it returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `response-outparam.set` with an outgoing response. Its body is what was written: if
    /// the body was finished, or never asked for (empty), or still alive when the handler
    /// returned (wasmtime ends such a body where it is when the instance goes away).
    Answered(Response),
    /// `response-outparam.set` with an `error-code`: its text, as `internal-error(Some("x"))`.
    /// Also a response whose body was dropped unfinished, or finished with a length other
    /// than its `content-length`: `HTTP-protocol-error` (wasmtime aborts such a body after
    /// sending the status and headers; here nothing was sent yet).
    Failed(String),
    /// The handler returned without setting its response-outparam.
    Unanswered,
}

impl Session {
    /// The session of `request`, whose outside world is `outside`.
    pub fn new(request: IncomingRequest, outside: Rc<dyn Outside>) -> Session {
        let request = HostIncomingRequest {
            method: Method::from_name(&request.method),
            scheme: Scheme::from_name(&request.scheme),
            authority: request.authority,
            path_with_query: request.path_with_query,
            headers: Fields::immutable(&request.headers),
            body: Some(request.body.into()),
        };
        Session {
            outside,
            request,
            log: Log::default(),
            fetches: Vec::new(),
            console: Console::default(),
            seed: None,
            run: Run::default(),
        }
    }

    /// Starts a run: every resource of the previous run is forgotten (its instance is gone),
    /// the log rewinds to its start. Returns the handles to pass to `handle`:
    /// (incoming-request, response-outparam).
    pub fn begin_run(&mut self) -> (u32, u32) {
        self.run = Run::default();
        self.log.rewind();
        self.console.rewind();
        let args = Args::new("begin_run", Vec::new());
        let request = HostIncomingRequest {
            method: self.request.method.clone(),
            scheme: self.request.scheme.clone(),
            authority: self.request.authority.clone(),
            path_with_query: self.request.path_with_query.clone(),
            headers: self.request.headers.clone(),
            body: self.request.body.clone(),
        };
        let request = self
            .run
            .table
            .push(&args, request)
            .expect("an empty table has room");
        let outparam = self
            .run
            .table
            .push(&args, HostResponseOutparam)
            .expect("an empty table has room");
        (request, outparam)
    }

    /// After a run's `handle` returned: what it answered (and the last unfinished lines of its
    /// output are logged).
    pub fn outcome(&mut self) -> Outcome {
        self.console.flush(&*self.outside);
        match self.run.answer.take() {
            None => Outcome::Unanswered,
            Some(Answered::Error(text)) => Outcome::Failed(text),
            Some(Answered::Response {
                status,
                headers,
                body,
            }) => {
                let body = match body {
                    None => Vec::new(),
                    Some(body) => {
                        let mut body = body.borrow_mut();
                        if body.state == BodyState::Aborted {
                            return Outcome::Failed("HTTP-protocol-error".to_string());
                        }
                        std::mem::take(&mut body.bytes)
                    }
                };
                Outcome::Answered(Response {
                    status,
                    headers,
                    body,
                })
            }
        }
    }
}

impl Host for Session {
    fn resolve(&self, interface: &str, name: &str) -> Option<HostFunc> {
        names::resolve(interface, name)
    }

    fn call(&mut self, func: HostFunc, args: Vec<Val>) -> Result<Vec<Val>, Fault> {
        let (_, name, implementation) = names::FUNCS
            .get(func.0 as usize)
            .ok_or_else(|| Fault::Trap(format!("no host function {}", func.0)))?;
        let mut args = Args::new(name, args);
        Ok(implementation(self, &mut args)?.into_iter().collect())
    }

    fn drop(&mut self, resource: &Resource, handle: u32) -> Result<(), Fault> {
        let Some(func) = drop_name(&resource.interface, &resource.name) else {
            return Err(Fault::Trap(format!(
                "[resource-drop]{}: handle {handle} is not a live resource",
                resource.name
            )));
        };
        let args = Args::new(func, Vec::new());
        let (interface, name) = self.run.table.names_of(&args, handle)?;
        if interface != &*resource.interface || name != &*resource.name {
            return Err(args.trap(format_args!(
                "handle {handle} is a {interface}.{name}, not a {}.{}",
                resource.interface, resource.name
            )));
        }
        if let Res::OutgoingBody(body) = self.run.table.remove_any(&args, handle)? {
            self.outgoing_body_dropped(body);
        }
        Ok(())
    }
}
