//! `wasi:io/streams` and `wasi:io/error` over whole bytes: an input stream reads bytes already
//! there (a body, or the empty standard input), an output stream appends to an outgoing body or
//! to the console ([`super::console`]). Every stream is ready at once, so its pollable is too.
//!
//! The limits are wasmtime's: `blocking-write-and-flush` and
//! `blocking-write-zeroes-and-flush` take at most 4096 bytes, a write takes at most what
//! `check-write` allowed (1 MiB for a body, 64 KiB for the console), and breaking either traps.

use super::args::{err, ok, option, variant, Answer, Args};
use super::body::{BodyState, SharedBody, BODY_LIMIT};
use super::console::Stream;
use super::poll::{Pollable, Target};
use super::session::Session;
use crate::abi::Val;
use crate::host::Fault;
use std::rc::Rc;

/// What `check-write` allows on a body's stream (wasmtime-wasi-http's chunk size).
const BODY_WRITE_BUDGET: u64 = 1 << 20;
/// What `check-write` allows on the console (wasmtime-wasi's stdout).
const CONSOLE_WRITE_BUDGET: u64 = 64 << 10;
/// The most a `blocking-*-and-flush` call takes.
const BLOCKING_WRITE_LIMIT: u64 = 4096;

/// The resource `wasi:io/error.error`.
pub(super) struct IoError {
    /// What `to-debug-string` says.
    pub message: String,
    /// The `error-code` `wasi:http/types.http-error-code` finds in it.
    pub code: Option<Val>,
}

/// The resource `input-stream`: bytes and how far they were read.
pub(super) struct InputStream {
    bytes: Rc<[u8]>,
    read: usize,
}

impl InputStream {
    /// A stream over `bytes`.
    pub fn new(bytes: Rc<[u8]>) -> InputStream {
        InputStream { bytes, read: 0 }
    }

    /// Up to `len` more bytes, or `None` at the end.
    fn take(&mut self, len: u64) -> Option<&[u8]> {
        let left = self.bytes.len() - self.read;
        if left == 0 {
            return None;
        }
        let n = left.min(usize::try_from(len).unwrap_or(usize::MAX));
        self.read += n;
        Some(&self.bytes[self.read - n..self.read])
    }
}

/// The resource `output-stream`.
pub(super) enum OutputStream {
    /// The standard output or error.
    Console(Stream),
    /// An outgoing body's.
    Body(SharedBody),
}

/// `stream-error.closed`.
fn closed() -> Val {
    err(Some(variant(1, None)))
}

impl Session {
    /// A `result<T, stream-error>` for a failed write: `last-operation-failed` with an error
    /// that carries `code`.
    fn failed(&mut self, args: &Args, message: String, code: Option<Val>) -> Answer {
        let error = self.run.table.push(args, IoError { message, code })?;
        Ok(Some(err(Some(variant(0, Some(Val::Handle(error)))))))
    }

    /// `[method]input-stream.read`, and `blocking-read` (the bytes are all there).
    pub(super) fn input_read(&mut self, args: &mut Args) -> Answer {
        let (handle, len) = (args.handle(0)?, args.u64(1)?);
        let stream = self.run.table.get::<InputStream>(args, handle)?;
        Ok(Some(match stream.take(len) {
            Some(bytes) => ok(Some(Val::Bytes(bytes.to_vec()))),
            None => closed(),
        }))
    }

    /// `[method]input-stream.skip`, and `blocking-skip`.
    pub(super) fn input_skip(&mut self, args: &mut Args) -> Answer {
        let (handle, len) = (args.handle(0)?, args.u64(1)?);
        let stream = self.run.table.get::<InputStream>(args, handle)?;
        Ok(Some(match stream.take(len) {
            Some(bytes) => ok(Some(Val::U64(bytes.len() as u64))),
            None => closed(),
        }))
    }

    /// `[method]input-stream.subscribe`.
    pub(super) fn input_subscribe(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        self.run.table.get::<InputStream>(args, handle)?;
        let pollable = Pollable {
            target: Target::Ready,
        };
        Ok(Some(Val::Handle(
            self.run.table.push_child(args, pollable, handle)?,
        )))
    }

    /// `[method]output-stream.subscribe`.
    pub(super) fn output_subscribe(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        self.run.table.get::<OutputStream>(args, handle)?;
        let pollable = Pollable {
            target: Target::Ready,
        };
        Ok(Some(Val::Handle(
            self.run.table.push_child(args, pollable, handle)?,
        )))
    }

    /// `[method]output-stream.check-write`.
    pub(super) fn output_check_write(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        let budget = budget(self.run.table.get::<OutputStream>(args, handle)?);
        Ok(Some(ok(Some(Val::U64(budget)))))
    }

    /// `[method]output-stream.flush` and `blocking-flush`: nothing waits.
    pub(super) fn output_flush(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        self.run.table.get::<OutputStream>(args, handle)?;
        Ok(Some(ok(None)))
    }

    /// `[method]output-stream.write`.
    pub(super) fn output_write(&mut self, args: &mut Args) -> Answer {
        let (handle, bytes) = (args.handle(0)?, args.bytes(1)?);
        self.write(args, handle, bytes, None)
    }

    /// `[method]output-stream.blocking-write-and-flush`.
    pub(super) fn output_blocking_write(&mut self, args: &mut Args) -> Answer {
        let (handle, bytes) = (args.handle(0)?, args.bytes(1)?);
        self.write(args, handle, bytes, Some("blocking-write-and-flush"))
    }

    /// `[method]output-stream.write-zeroes`.
    pub(super) fn output_write_zeroes(&mut self, args: &mut Args) -> Answer {
        let (handle, len) = (args.handle(0)?, args.u64(1)?);
        if len > budget(self.run.table.get::<OutputStream>(args, handle)?) {
            return Err(args.trap("cannot write more zeroes than `check_write` allows"));
        }
        self.write(args, handle, vec![0; len as usize], None)
    }

    /// `[method]output-stream.blocking-write-zeroes-and-flush`.
    pub(super) fn output_blocking_write_zeroes(&mut self, args: &mut Args) -> Answer {
        let (handle, len) = (args.handle(0)?, args.u64(1)?);
        if len > BLOCKING_WRITE_LIMIT {
            return Err(args.trap(format_args!(
                "Buffer too large for blocking-write-zeroes-and-flush (expected at most \
                 {BLOCKING_WRITE_LIMIT})"
            )));
        }
        self.write(args, handle, vec![0; len as usize], None)
    }

    /// `[method]output-stream.splice` and `blocking-splice`: moves up to `len` bytes from an
    /// input stream.
    pub(super) fn output_splice(&mut self, args: &mut Args) -> Answer {
        let (handle, source, len) = (args.handle(0)?, args.handle(1)?, args.u64(2)?);
        let len = len.min(budget(self.run.table.get::<OutputStream>(args, handle)?));
        if len == 0 {
            return Ok(Some(ok(Some(Val::U64(0)))));
        }
        let bytes = match self.run.table.get::<InputStream>(args, source)?.take(len) {
            Some(bytes) => bytes.to_vec(),
            None => return Ok(Some(closed())),
        };
        let n = bytes.len() as u64;
        match self.write(args, handle, bytes, None)? {
            Some(Val::Result(Ok(_))) => Ok(Some(ok(Some(Val::U64(n))))),
            failed => Ok(failed),
        }
    }

    /// Writes `bytes` to the stream `handle`; `blocking` names the call whose 4096-byte limit
    /// applies, else the write must fit what `check-write` allows.
    fn write(
        &mut self,
        args: &Args,
        handle: u32,
        bytes: Vec<u8>,
        blocking: Option<&str>,
    ) -> Answer {
        let stream = self.run.table.get::<OutputStream>(args, handle)?;
        let len = bytes.len() as u64;
        match blocking {
            Some(call) if len > BLOCKING_WRITE_LIMIT => {
                return Err(args.trap(format_args!(
                    "Buffer too large for {call} (expected at most {BLOCKING_WRITE_LIMIT})"
                )));
            }
            None if len > budget(stream) => return Err(args.trap("write exceeded budget")),
            _ => {}
        }
        let body = match stream {
            OutputStream::Console(stream) => {
                let stream = *stream;
                self.console.write(&*self.outside, stream, &bytes);
                return Ok(Some(ok(None)));
            }
            OutputStream::Body(body) => body.clone(),
        };
        let mut buf = body.borrow_mut();
        if buf.state != BodyState::Open {
            return Ok(Some(closed()));
        }
        if buf.bytes.len() + bytes.len() > BODY_LIMIT {
            return Err(too_long(args));
        }
        buf.bytes.extend_from_slice(&bytes);
        let written = buf.bytes.len() as u64;
        if buf.expected.is_some_and(|expected| written > expected) {
            let code = buf.size_error(written);
            drop(buf);
            let message = format!("body larger than its content-length: {written} bytes");
            return self.failed(args, message, Some(code));
        }
        Ok(Some(ok(None)))
    }

    /// `[method]error.to-debug-string`.
    pub(super) fn error_to_debug_string(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        Ok(Some(Val::String(
            self.run.table.get::<IoError>(args, handle)?.message.clone(),
        )))
    }

    /// `wasi:http/types.http-error-code`.
    pub(super) fn http_error_code(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        Ok(Some(option(
            self.run.table.get::<IoError>(args, handle)?.code.clone(),
        )))
    }
}

fn budget(stream: &OutputStream) -> u64 {
    match stream {
        OutputStream::Console(_) => CONSOLE_WRITE_BUDGET,
        OutputStream::Body(_) => BODY_WRITE_BUDGET,
    }
}

fn too_long(args: &Args) -> Fault {
    args.trap(format_args!(
        "the body passed {BODY_LIMIT} bytes, the most this host holds"
    ))
}
