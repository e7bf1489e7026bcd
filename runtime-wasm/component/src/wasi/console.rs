//! The standard output and error: what the component writes goes to [`Outside::log`] a line
//! at a time. A line longer than [`LINE_LIMIT`] is cut there (the rest of it is dropped), and
//! a request logs at most [`OUTPUT_LIMIT`] bytes: the rest is dropped silently. Runs after the
//! first write the same bytes again up to where the previous run stopped: only what is past
//! that is new, so a line is logged once however many runs the request takes.

use super::Outside;

/// The longest line logged.
pub(super) const LINE_LIMIT: usize = 4096;
/// The most bytes a request logs.
pub(super) const OUTPUT_LIMIT: u64 = 1 << 20;

/// Standard output or error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stream {
    /// `wasi:cli/stdout`.
    Stdout,
    /// `wasi:cli/stderr`.
    Stderr,
}

#[derive(Default)]
struct Lines {
    /// The line being written.
    line: Vec<u8>,
    /// Whether the line being written was already cut.
    cut: bool,
    /// Bytes written in this run.
    run_written: u64,
    /// Bytes handled in all runs (the most a run wrote).
    handled: u64,
}

/// Both streams of a request.
#[derive(Default)]
pub(super) struct Console {
    out: Lines,
    err: Lines,
    logged: u64,
}

impl Console {
    /// A new run writes from the start again.
    pub fn rewind(&mut self) {
        self.out.run_written = 0;
        self.err.run_written = 0;
    }

    /// `bytes` written to `stream`.
    pub fn write(&mut self, outside: &dyn Outside, stream: Stream, bytes: &[u8]) {
        let lines = match stream {
            Stream::Stdout => &mut self.out,
            Stream::Stderr => &mut self.err,
        };
        let start = lines.run_written;
        lines.run_written += bytes.len() as u64;
        let seen = lines.handled.saturating_sub(start).min(bytes.len() as u64) as usize;
        lines.handled = lines.handled.max(lines.run_written);
        for &b in &bytes[seen..] {
            if b == b'\n' {
                let line = std::mem::take(&mut lines.line);
                if !std::mem::take(&mut lines.cut) {
                    emit(outside, stream, &line, &mut self.logged);
                }
            } else if lines.cut {
                // The rest of a line already cut.
            } else if lines.line.len() < LINE_LIMIT {
                lines.line.push(b);
            } else {
                lines.cut = true;
                let line = std::mem::take(&mut lines.line);
                emit(outside, stream, &line, &mut self.logged);
            }
        }
    }

    /// The unfinished lines, logged (the handler returned).
    pub fn flush(&mut self, outside: &dyn Outside) {
        for (stream, lines) in [
            (Stream::Stdout, &mut self.out),
            (Stream::Stderr, &mut self.err),
        ] {
            let line = std::mem::take(&mut lines.line);
            if !std::mem::take(&mut lines.cut) && !line.is_empty() {
                emit(outside, stream, &line, &mut self.logged);
            }
        }
    }
}

fn emit(outside: &dyn Outside, stream: Stream, line: &[u8], logged: &mut u64) {
    let len = line.len() as u64 + 1;
    if *logged + len > OUTPUT_LIMIT {
        *logged = OUTPUT_LIMIT;
        return;
    }
    *logged += len;
    outside.log(stream == Stream::Stderr, &String::from_utf8_lossy(line));
}
