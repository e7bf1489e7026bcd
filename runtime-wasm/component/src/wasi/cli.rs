//! `wasi:cli` (the standard streams of the proxy world, and the interfaces Rust's std imports
//! besides) and `wasi:filesystem`, which a proxy has no use for:
//!
//! - `stdin.get-stdin`: an empty stream (reading it answers `closed`), as wasmtime's default.
//! - `stdout.get-stdout`, `stderr.get-stderr`: lines to the plugin's log ([`super::console`]).
//! - `environment`: no variables, no arguments, no initial directory.
//! - `exit.exit`, `exit.exit-with-code`: end the run with a trap (wasmtime ends the call with an error too); a
//!   response set before it is not sent (wasmtime sends it if it had set it).
//! - `terminal-stdin`, `terminal-stdout`, `terminal-stderr`: none (not a terminal).
//! - `wasi:filesystem/preopens.get-directories`: none. Without a directory no `descriptor`
//!   exists, so every `wasi:filesystem/types` method (which needs one) traps on its handle;
//!   `filesystem-error-code` answers `none`.

use super::args::{option, Answer, Args};
use super::console::Stream;
use super::io::{InputStream, IoError, OutputStream};
use super::session::Session;
use crate::abi::Val;

impl Session {
    /// `wasi:cli/stdin.get-stdin`.
    pub(super) fn get_stdin(&mut self, args: &mut Args) -> Answer {
        let stream = InputStream::new(Vec::new().into());
        Ok(Some(Val::Handle(self.run.table.push(args, stream)?)))
    }

    /// `wasi:cli/stdout.get-stdout`.
    pub(super) fn get_stdout(&mut self, args: &mut Args) -> Answer {
        let stream = OutputStream::Console(Stream::Stdout);
        Ok(Some(Val::Handle(self.run.table.push(args, stream)?)))
    }

    /// `wasi:cli/stderr.get-stderr`.
    pub(super) fn get_stderr(&mut self, args: &mut Args) -> Answer {
        let stream = OutputStream::Console(Stream::Stderr);
        Ok(Some(Val::Handle(self.run.table.push(args, stream)?)))
    }

    /// `get-environment`, `get-arguments`, `get-directories`: an empty list.
    pub(super) fn empty_list(&mut self, _args: &mut Args) -> Answer {
        Ok(Some(Val::List(Vec::new())))
    }

    /// `initial-cwd`, `get-terminal-stdin`, `get-terminal-stdout`, `get-terminal-stderr`:
    /// `none`.
    pub(super) fn none(&mut self, _args: &mut Args) -> Answer {
        Ok(Some(option(None)))
    }

    /// `wasi:cli/exit.exit`.
    pub(super) fn exit(&mut self, args: &mut Args) -> Answer {
        let status = if args.result(0)?.is_ok() { 0 } else { 1 };
        Err(args.trap(format_args!(
            "the component exited with status {status} (wasi:cli/exit ends the run, as in wasmtime)"
        )))
    }

    /// `wasi:cli/exit.exit-with-code`.
    pub(super) fn exit_with_code(&mut self, args: &mut Args) -> Answer {
        let status = match args.take(0)? {
            Val::U8(code) => code,
            _ => return Err(args.trap("argument 0 is not a u8")),
        };
        Err(args.trap(format_args!(
            "the component exited with status {status} (wasi:cli/exit ends the run, as in wasmtime)"
        )))
    }

    /// A method of `wasi:filesystem/types` (on a `descriptor` or `directory-entry-stream`).
    pub(super) fn no_descriptor(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        Err(args.trap(format_args!(
            "handle {handle} is not a descriptor: this host gives no directories \
             (wasi:filesystem/preopens.get-directories is empty)"
        )))
    }

    /// `wasi:filesystem/types.filesystem-error-code`: `none` (no error comes from a file).
    pub(super) fn filesystem_error_code(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        self.run.table.get::<IoError>(args, handle)?;
        Ok(Some(option(None)))
    }
}
