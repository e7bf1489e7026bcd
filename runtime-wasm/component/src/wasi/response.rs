//! `wasi:http/types`' responses: `response-outparam` (where the handler answers),
//! `outgoing-response` (the answer it builds), `incoming-response` (what an outgoing request
//! got) and `future-trailers` (always none here: bodies are whole and carry no trailers).

use super::args::{err, ok, option, Answer, Args};
use super::body::{open_body, BodyOf, HostIncomingBody, SharedBody};
use super::codes::describe_error_code;
use super::fields::Fields;
use super::poll::{Pollable, Target};
use super::session::{Answered, Session};
use crate::abi::Val;
use std::rc::Rc;

/// The resource `response-outparam`: there is one, handed to the handler.
pub(super) struct HostResponseOutparam;

/// The resource `outgoing-response`.
pub(super) struct HostOutgoingResponse {
    /// Its status (200 unless set).
    pub status: u16,
    /// Its headers (immutable).
    pub headers: Fields,
    /// Its body, once `body` was called.
    pub body: Option<SharedBody>,
}

/// The resource `incoming-response`.
pub(super) struct HostIncomingResponse {
    /// Its status.
    pub status: u16,
    /// Its headers (immutable).
    pub headers: Fields,
    /// Its body, until `consume` takes it.
    pub body: Option<Rc<[u8]>>,
}

/// The resource `future-trailers`.
pub(super) struct HostFutureTrailers {
    /// Whether `get` already answered.
    pub taken: bool,
}

impl Session {
    /// `[static]response-outparam.set`: the answer of this run.
    pub(super) fn response_outparam_set(&mut self, args: &mut Args) -> Answer {
        let (param, response) = (args.handle(0)?, args.result(1)?);
        let answered = match response {
            Ok(Some(Val::Handle(handle))) => {
                let response = self
                    .run
                    .table
                    .remove::<HostOutgoingResponse>(args, handle)?;
                Answered::Response {
                    status: response.status,
                    headers: response.headers.entries(),
                    body: response.body,
                }
            }
            Err(Some(code)) => Answered::Error(describe_error_code(&code)),
            _ => {
                return Err(
                    args.trap("the response is not a result<outgoing-response, error-code>")
                );
            }
        };
        self.run.table.remove::<HostResponseOutparam>(args, param)?;
        self.run.answer = Some(answered);
        Ok(None)
    }

    /// `[constructor]outgoing-response`: takes the headers, immutable from then on.
    pub(super) fn outgoing_response_new(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        let mut headers = self.run.table.remove::<Fields>(args, handle)?;
        headers.freeze();
        let response = HostOutgoingResponse {
            status: 200,
            headers,
            body: None,
        };
        Ok(Some(Val::Handle(self.run.table.push(args, response)?)))
    }

    /// `[method]outgoing-response.status-code`.
    pub(super) fn outgoing_response_status(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        let status = self
            .run
            .table
            .get::<HostOutgoingResponse>(args, handle)?
            .status;
        Ok(Some(Val::U16(status)))
    }

    /// `[method]outgoing-response.set-status-code`: 100 to 999, as `http::StatusCode`.
    pub(super) fn outgoing_response_set_status(&mut self, args: &mut Args) -> Answer {
        let (handle, status) = (args.handle(0)?, args.u16(1)?);
        let response = self.run.table.get::<HostOutgoingResponse>(args, handle)?;
        if !(100..=999).contains(&status) {
            return Ok(Some(err(None)));
        }
        response.status = status;
        Ok(Some(ok(None)))
    }

    /// `[method]outgoing-response.headers`: an immutable copy.
    pub(super) fn outgoing_response_headers(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        let headers = self
            .run
            .table
            .get::<HostOutgoingResponse>(args, handle)?
            .headers
            .clone();
        Ok(Some(Val::Handle(self.run.table.push(args, headers)?)))
    }

    /// `[method]outgoing-response.body`: once, and only if the `content-length` is readable.
    pub(super) fn outgoing_response_body(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        let response = self.run.table.get::<HostOutgoingResponse>(args, handle)?;
        let buf = open_body(&mut response.body, &response.headers, BodyOf::Response);
        self.outgoing_body(args, buf)
    }

    /// `[method]incoming-response.status`.
    pub(super) fn incoming_response_status(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        let status = self
            .run
            .table
            .get::<HostIncomingResponse>(args, handle)?
            .status;
        Ok(Some(Val::U16(status)))
    }

    /// `[method]incoming-response.headers`: an immutable copy.
    pub(super) fn incoming_response_headers(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        let headers = self
            .run
            .table
            .get::<HostIncomingResponse>(args, handle)?
            .headers
            .clone();
        Ok(Some(Val::Handle(self.run.table.push(args, headers)?)))
    }

    /// `[method]incoming-response.consume`: the body, once.
    pub(super) fn incoming_response_consume(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        let response = self.run.table.get::<HostIncomingResponse>(args, handle)?;
        let Some(bytes) = response.body.take() else {
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

    /// `[method]future-trailers.subscribe`: ready at once.
    pub(super) fn future_trailers_subscribe(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        self.run.table.get::<HostFutureTrailers>(args, handle)?;
        let pollable = Pollable {
            target: Target::Ready,
        };
        Ok(Some(Val::Handle(
            self.run.table.push_child(args, pollable, handle)?,
        )))
    }

    /// `[method]future-trailers.get`: `some(ok(ok(none)))`, then `some(err)`.
    pub(super) fn future_trailers_get(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        let trailers = self.run.table.get::<HostFutureTrailers>(args, handle)?;
        if std::mem::replace(&mut trailers.taken, true) {
            return Ok(Some(option(Some(err(None)))));
        }
        Ok(Some(option(Some(ok(Some(ok(Some(option(None)))))))))
    }
}
