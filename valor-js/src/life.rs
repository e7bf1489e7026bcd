//! A request from its dispatch to the script until the engine is done with it: its answer,
//! then its streamed body ([`body`](crate::body)) and its work after the answer
//! ([`after`](crate::after)). Each of them holds the request's [`Life`]; the request is over
//! when none does, and a script's `waitUntil` is refused from then on, and its streamed body
//! closed ([`reading`](crate::reading)).

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

/// One request the engine is still working on.
pub struct Life {
    /// The id the script knows the request by (its `x-request-id`).
    pub id: String,
    /// The script's `waitUntil` promises not settled yet.
    pub waits: Cell<u32>,
    /// Whether the request's task runs an [`after`](crate::after) future for them.
    pub extended: Cell<bool>,
    /// Whether its body is being streamed: its task is then polled only when the body's
    /// reader wants more.
    pub streaming: Cell<bool>,
}

thread_local! {
    /// The requests in flight (a few: a list is smaller than a map, and as quick).
    static LIVES: RefCell<Vec<Weak<Life>>> = const { RefCell::new(Vec::new()) };
}

impl Life {
    /// Request `id` begins.
    pub fn begin(id: String) -> Rc<Life> {
        let life = Rc::new(Life {
            id,
            waits: Cell::new(0),
            extended: Cell::new(false),
            streaming: Cell::new(false),
        });
        LIVES.with_borrow_mut(|lives| lives.push(Rc::downgrade(&life)));
        life
    }

    /// Request `id`, unless it is over.
    pub fn find(id: &str) -> Option<Rc<Life>> {
        LIVES.with_borrow(|lives| {
            lives
                .iter()
                .filter_map(Weak::upgrade)
                .find(|life| life.id == id)
        })
    }
}

impl Drop for Life {
    fn drop(&mut self) {
        crate::reading::release(&self.id);
        // (The map holds no `Life`, so it is never borrowed here; a destructor must not panic.)
        LIVES.with(|lives| {
            if let Ok(mut lives) = lives.try_borrow_mut() {
                lives.retain(|life| !std::ptr::eq(life.as_ptr(), self));
            }
        });
    }
}
