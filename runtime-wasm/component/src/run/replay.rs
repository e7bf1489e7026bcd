//! The replay driver (the crate documentation's "Blocking calls"): one request's session runs
//! the handler on fresh instances until a run returns; a run that blocked is dropped, what it
//! waited for is awaited, and the next run replays the session's log up to that point.

use super::compile::Compiled;
use super::errors::Stopped;
use super::handler::{self, Thrown};
use super::instantiate::{self, Failure};
use super::outside::WebOutside;
use super::state::{RunState, Stop};
use crate::host::Fault;
use crate::wasi::{IncomingRequest, Outcome, Outside, Response, Session};
use futures::future::LocalBoxFuture;
use std::cell::RefCell;
use std::rc::Rc;

/// The most runs of one request. Each run replays the ones before it, so a handler that blocks
/// this many times has spent far more than one request's share; it is stopped, as a safety net
/// against a host that would wake it without progress.
pub const MAX_RUNS: u32 = 10_000;

/// How one run ended.
enum RunEnd {
    /// The handler returned.
    Returned,
    /// It waits on this.
    Blocked(LocalBoxFuture<'static, ()>),
    /// It cannot answer.
    Stopped(Stopped),
}

/// Runs the handler of `compiled` for `request` until it answers or cannot.
pub async fn serve(
    compiled: Rc<Compiled>,
    request: IncomingRequest,
    outside: Rc<WebOutside>,
) -> Result<Response, Stopped> {
    let session = Session::new(request, Rc::clone(&outside) as Rc<dyn Outside>);
    let session = Rc::new(RefCell::new(session));
    for _ in 0..MAX_RUNS {
        let (request, response_out) = session.borrow_mut().begin_run();
        outside.begin_run();
        let state = RunState::new(Rc::clone(&compiled), Rc::clone(&session));
        match run(Rc::new(state), request, response_out, &outside) {
            RunEnd::Returned => {
                return match session.borrow_mut().outcome() {
                    Outcome::Answered(response) => Ok(response),
                    Outcome::Failed(why) => Err(Stopped::Failed(why)),
                    Outcome::Unanswered => Err(Stopped::Unanswered),
                }
            }
            // The run's instances are gone: only the session waits.
            RunEnd::Blocked(ready) => ready.await,
            RunEnd::Stopped(stopped) => return Err(stopped),
        }
    }
    Err(Stopped::Trap(format!(
        "the handler blocked {MAX_RUNS} times without answering"
    )))
}

/// One run: instantiation, then the handler.
fn run(state: Rc<RunState>, request: u32, response_out: u32, outside: &WebOutside) -> RunEnd {
    let serving = state.compiled.adapter_instance.serve(Rc::clone(&state));
    let thrown = match instantiate::instantiate(&state) {
        Err(Failure::Link(why)) => {
            return RunEnd::Stopped(Stopped::Refused(format!(
                "the component's core modules do not link: {why}"
            )))
        }
        Err(Failure::Threw(why)) => Some(why),
        Ok(()) => match handler::call(&state, request, response_out) {
            Ok(()) => None,
            Err(Thrown::Guest(why)) => Some(why),
            Err(Thrown::Abi(why)) => {
                state.stop(Stop::Host(Fault::Trap(why)));
                None
            }
        },
    };
    // The instances that could call the adapter are dropped with the state.
    drop(serving);
    ending(&state, thrown, outside)
}

/// How a run ended, the exception its call threw (if any), the meters and what it printed
/// considered.
fn ending(state: &RunState, thrown: Option<String>, outside: &WebOutside) -> RunEnd {
    // The meter traps the moment fuel goes below zero, whatever else was going on.
    if state.out_of_fuel() {
        return RunEnd::Stopped(Stopped::FuelExhausted(format!(
            "the component used up its fuel ({} instructions per run)",
            state.compiled.limits.fuel
        )));
    }
    let trapped = match state.stop.borrow_mut().take() {
        Some(Stop::Host(Fault::Block(ready))) => return RunEnd::Blocked(ready),
        Some(Stop::Host(Fault::Trap(why))) => return RunEnd::Stopped(Stopped::Trap(why)),
        Some(Stop::Guest(why)) => why,
        None => match thrown {
            Some(why) => why,
            None => return RunEnd::Returned,
        },
    };
    if state.growth_refused() {
        let pages = state.compiled.limits.memory_pages;
        return RunEnd::Stopped(Stopped::MemoryExhausted(format!(
            "the component needed more memory than its cap ({} MiB) and trapped: {trapped}",
            (pages * valor_meter::PAGE_BYTES) >> 20
        )));
    }
    // Rust's panic handler prints the message, then aborts (a trap).
    RunEnd::Stopped(match outside.panic() {
        Some(message) => Stopped::Panic(message),
        None => Stopped::Trap(format!("the component trapped: {trapped}")),
    })
}
