//! Panics on `/panic`, answers otherwise: the runtime must turn the panic into a 500 carrying
//! the message, and serve the next request from a fresh instance.
use vlugin::*;

#[vlugin]
fn handle(req: Request) -> String {
    if req.uri().path() == "/panic" {
        panic!("deliberate panic on {}", req.uri());
    }
    format!("still alive at {}", req.uri())
}
