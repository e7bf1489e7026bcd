//! `wasi:clocks/monotonic-clock` and `wasi:clocks/wall-clock`, from [`super::Outside`]'s
//! clocks, every reading logged (see [`super::log`]). A timer's deadline is fixed when it is
//! made: `subscribe-duration` reads the clock then (a logged reading of its own).

use super::args::{Answer, Args};
use super::log::Observation;
use super::poll::{Pollable, Target};
use super::session::Session;
use crate::abi::Val;
use crate::host::Fault;

/// What both clocks report as their resolution: a millisecond, the coarsest of the browsers'
/// clocks (`Date.now()`; `performance.now()` is coarsened to between 5 µs and 1 ms by engine).
const RESOLUTION_NANOS: u64 = 1_000_000;

impl Session {
    fn monotonic(&mut self, args: &Args, kind: fn(u64) -> Observation) -> Result<u64, Fault> {
        let outside = self.outside.clone();
        let expected =
            |o: &Observation| std::mem::discriminant(o) == std::mem::discriminant(&kind(0));
        match self
            .log
            .observe(args, expected, || kind(outside.monotonic_now()))?
        {
            Observation::Monotonic(now) | Observation::TimerStart(now) => Ok(now),
            _ => unreachable!("the log checks the kind"),
        }
    }

    /// `wasi:clocks/monotonic-clock.now`.
    pub(super) fn monotonic_now(&mut self, args: &mut Args) -> Answer {
        Ok(Some(Val::U64(
            self.monotonic(args, Observation::Monotonic)?,
        )))
    }

    /// `wasi:clocks/monotonic-clock.resolution`.
    pub(super) fn monotonic_resolution(&mut self, _args: &mut Args) -> Answer {
        Ok(Some(Val::U64(RESOLUTION_NANOS)))
    }

    /// `wasi:clocks/monotonic-clock.subscribe-instant`.
    pub(super) fn subscribe_instant(&mut self, args: &mut Args) -> Answer {
        let deadline = args.u64(0)?;
        let pollable = Pollable {
            target: Target::Timer(deadline),
        };
        Ok(Some(Val::Handle(self.run.table.push(args, pollable)?)))
    }

    /// `wasi:clocks/monotonic-clock.subscribe-duration`.
    pub(super) fn subscribe_duration(&mut self, args: &mut Args) -> Answer {
        let duration = args.u64(0)?;
        let now = self.monotonic(args, Observation::TimerStart)?;
        let pollable = Pollable {
            target: Target::Timer(now.saturating_add(duration)),
        };
        Ok(Some(Val::Handle(self.run.table.push(args, pollable)?)))
    }

    /// `wasi:clocks/wall-clock.now`.
    pub(super) fn wall_now(&mut self, args: &mut Args) -> Answer {
        let outside = self.outside.clone();
        let fresh = || {
            let (seconds, nanos) = outside.wall_clock_now();
            Observation::Wall(seconds, nanos)
        };
        let expected = |o: &Observation| matches!(o, Observation::Wall(..));
        match self.log.observe(args, expected, fresh)? {
            Observation::Wall(seconds, nanos) => Ok(Some(datetime(seconds, nanos))),
            _ => unreachable!("the log checks the kind"),
        }
    }

    /// `wasi:clocks/wall-clock.resolution`.
    pub(super) fn wall_resolution(&mut self, _args: &mut Args) -> Answer {
        Ok(Some(datetime(0, RESOLUTION_NANOS as u32)))
    }
}

/// A `datetime` record.
fn datetime(seconds: u64, nanoseconds: u32) -> Val {
    Val::Record(vec![Val::U64(seconds), Val::U32(nanoseconds)])
}
