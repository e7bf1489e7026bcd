//! Panics on `/panic`, answers otherwise: the runtime must turn the panic into a 500 carrying
//! the message, and serve the next request from a fresh instance. `/count` answers how many
//! requests this instance has served, so a test can tell instances apart.
use std::cell::Cell;
use vlugin::prelude::*;

thread_local! {
    static SERVED: Cell<u32> = const { Cell::new(0) };
}

#[vlugin]
fn handle(req: Request) -> String {
    SERVED.set(SERVED.get() + 1);
    match req.uri().path() {
        "/panic" => panic!("deliberate panic on {}", req.uri()),
        "/count" => SERVED.get().to_string(),
        _ => format!("still alive at {}", req.uri()),
    }
}
