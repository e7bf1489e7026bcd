//! The session's log: every host answer the handler could observe differently from one run to
//! the next, recorded on its first observation and given back in order on the next runs (see
//! the crate's "Blocking calls").

use super::args::Args;
use crate::host::Fault;

/// The most observations a request may record: a handler reading the clock in an endless
/// loop traps here (if its fuel has not stopped it first).
pub(super) const LOG_LIMIT: usize = 1_000_000;

/// The most random bytes a request's log may hold.
pub(super) const LOG_BYTES_LIMIT: usize = 16 << 20;

/// The trap of a run that asked something else than the previous run at the same point.
pub(super) const DISAGREED: &str =
    "the component's runs disagreed (it is not deterministic given the host's answers)";

/// One observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Observation {
    /// `monotonic-clock.now`.
    Monotonic(u64),
    /// The `now` that fixes the deadline of `monotonic-clock.subscribe-duration`.
    TimerStart(u64),
    /// `wall-clock.now`.
    Wall(u64, u32),
    /// Random bytes (`get-random-bytes`, `get-random-u64`, and the insecure ones).
    Random(Vec<u8>),
    /// `pollable.ready`.
    Ready(bool),
    /// `pollable.block` returned.
    Blocked,
    /// The indices `poll` returned.
    Polled(Vec<u32>),
    /// Whether `future-incoming-response.get` found the response.
    Found(bool),
}

impl Observation {
    fn bytes(&self) -> usize {
        match self {
            Observation::Random(b) => b.len(),
            Observation::Polled(p) => p.len() * 4,
            _ => 0,
        }
    }
}

/// The observations of a request, and where the current run is in them.
#[derive(Default)]
pub(super) struct Log {
    entries: Vec<Observation>,
    bytes: usize,
    next: usize,
}

impl Log {
    /// Back to the start, for a new run.
    pub fn rewind(&mut self) {
        self.next = 0;
    }

    /// Whether the run is past what earlier runs observed.
    pub fn at_end(&self) -> bool {
        self.next == self.entries.len()
    }

    /// The next observation if earlier runs made it (then it must be `expected`: the same
    /// kind, a `Random` of the same length, ...), or `fresh()`, recorded.
    pub fn observe(
        &mut self,
        args: &Args,
        expected: impl FnOnce(&Observation) -> bool,
        fresh: impl FnOnce() -> Observation,
    ) -> Result<Observation, Fault> {
        if let Some(recorded) = self.replay() {
            return if expected(&recorded) {
                Ok(recorded)
            } else {
                Err(args.trap(DISAGREED))
            };
        }
        let observation = fresh();
        self.record(args, observation.clone())?;
        Ok(observation)
    }

    /// The next recorded observation, if the run has not passed the end of the log.
    pub fn replay(&mut self) -> Option<Observation> {
        let recorded = self.entries.get(self.next).cloned();
        if recorded.is_some() {
            self.next += 1;
        }
        recorded
    }

    /// Appends `observation` (the run being at the end of the log).
    pub fn record(&mut self, args: &Args, observation: Observation) -> Result<(), Fault> {
        debug_assert!(self.at_end());
        self.bytes += observation.bytes();
        if self.entries.len() >= LOG_LIMIT || self.bytes > LOG_BYTES_LIMIT {
            return Err(args.trap(format_args!(
                "the request made more observations of the host (clocks, random bytes, \
                 readiness) than this host records ({LOG_LIMIT}, {LOG_BYTES_LIMIT} bytes)"
            )));
        }
        self.entries.push(observation);
        self.next += 1;
        Ok(())
    }
}
