//! `wasi:io/poll`: pollables, and the waits that stop a run (see the crate's "Blocking
//! calls"). Whether a pollable is ready is observed fresh past the end of the log and
//! recorded; replayed from the log before it. A `block` or `poll` that finds nothing ready
//! ends the run with [`Fault::Block`], whose future completes when one of the awaited things
//! is ready: a timer's deadline (`Outside::sleep`) or an outgoing response.

use super::args::{Answer, Args};
use super::log::{Observation, DISAGREED};
use super::session::Session;
use crate::abi::Val;
use crate::host::Fault;
use futures::future::LocalBoxFuture;
use futures::FutureExt;

/// What a pollable waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    /// Nothing: a stream over bytes already there, trailers that are none.
    Ready,
    /// The monotonic clock reaching this instant (nanoseconds).
    Timer(u64),
    /// The response of the session's outgoing request with this number.
    Fetch(usize),
}

/// The resource `pollable`.
pub(super) struct Pollable {
    /// What it waits for.
    pub target: Target,
}

impl Session {
    fn target(&mut self, args: &Args, handle: u32) -> Result<Target, Fault> {
        Ok(self.run.table.get::<Pollable>(args, handle)?.target)
    }

    /// Whether `target` is ready now (a fresh observation).
    fn is_ready(&mut self, target: Target) -> bool {
        match target {
            Target::Ready => true,
            Target::Timer(deadline) => self.outside.monotonic_now() >= deadline,
            Target::Fetch(fetch) => self.fetch_ready(fetch),
        }
    }

    /// The future a blocked run waits on: any of `targets` ready.
    fn wait_any(&mut self, args: &Args, targets: &[Target]) -> Result<Fault, Fault> {
        let mut waits: Vec<LocalBoxFuture<'static, ()>> = Vec::new();
        for &target in targets {
            match target {
                Target::Ready => return Err(args.trap("waits on what is ready")),
                Target::Timer(deadline) => {
                    let now = self.outside.monotonic_now();
                    waits.push(self.outside.sleep(deadline.saturating_sub(now)));
                }
                Target::Fetch(fetch) => waits.extend(self.fetch_wait(fetch)),
            }
        }
        if waits.is_empty() {
            return Err(args.trap(
                "waits on the response of an outgoing request whose body is not finished: it \
                 would wait forever",
            ));
        }
        Ok(Fault::Block(
            futures::future::select_all(waits).map(|_| ()).boxed_local(),
        ))
    }

    /// `[method]pollable.ready`.
    pub(super) fn pollable_ready(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        let target = self.target(args, handle)?;
        let observed = match self.log.replay() {
            Some(recorded) => recorded,
            None => {
                let fresh = Observation::Ready(self.is_ready(target));
                self.log.record(args, fresh.clone())?;
                fresh
            }
        };
        match observed {
            Observation::Ready(ready) => Ok(Some(Val::Bool(ready))),
            _ => Err(args.trap(DISAGREED)),
        }
    }

    /// `[method]pollable.block`.
    pub(super) fn pollable_block(&mut self, args: &mut Args) -> Answer {
        let handle = args.handle(0)?;
        let target = self.target(args, handle)?;
        match self.log.replay() {
            Some(Observation::Blocked) => Ok(None),
            Some(_) => Err(args.trap(DISAGREED)),
            None if self.is_ready(target) => {
                self.log.record(args, Observation::Blocked)?;
                Ok(None)
            }
            None => Err(self.wait_any(args, &[target])?),
        }
    }

    /// `wasi:io/poll.poll`.
    pub(super) fn poll(&mut self, args: &mut Args) -> Answer {
        let mut targets = Vec::new();
        for item in args.list(0)? {
            let Val::Handle(handle) = item else {
                return Err(args.trap("an item is not a handle"));
            };
            targets.push(self.target(args, handle)?);
        }
        if targets.is_empty() {
            return Err(args.trap("empty poll list"));
        }
        let ready = match self.log.replay() {
            Some(Observation::Polled(ready))
                if ready.iter().all(|&i| (i as usize) < targets.len()) =>
            {
                ready
            }
            Some(_) => return Err(args.trap(DISAGREED)),
            None => {
                let ready: Vec<u32> = (0..targets.len() as u32)
                    .filter(|&i| self.is_ready(targets[i as usize]))
                    .collect();
                if ready.is_empty() {
                    return Err(self.wait_any(args, &targets)?);
                }
                self.log.record(args, Observation::Polled(ready.clone()))?;
                ready
            }
        };
        Ok(Some(Val::List(ready.into_iter().map(Val::U32).collect())))
    }
}
