//! The CPU budget of one call into the plugin, in QuickJS interrupt polls. QuickJS polls its
//! interrupt handler every 10,000 or so steps of bytecode (branches, calls); once the
//! budget is spent the handler stops the script with an exception that `try`/`catch` cannot
//! catch, and the engine answers 504 and re-creates the script (see `event_loop`).
//!
//! The host meters the engine too, with more fuel than the entry's (`valor_host::script`), so a
//! builtin that runs long without polling (say `Array.prototype.indexOf` over a huge
//! array-like) is still stopped, by the host; a script's own loops are stopped here first, where
//! the instance survives and the message says what happened.

use std::cell::Cell;

/// An entry's `fuel` per interrupt poll (about 10,000 bytecode steps): the default fuel of a
/// billion is a budget of 500 polls, some 5 million steps per call (about 0.1 s of a plain
/// loop; BENCHMARKS.md, "JavaScript plugins").
const FUEL_PER_POLL: u64 = 2_000_000;

/// The budget when the entry turns metering off (`"fuel": null`): that of the default fuel.
const UNMETERED_POLLS: u64 = 1_000_000_000 / FUEL_PER_POLL;

thread_local! {
    static PER_CALL: Cell<u64> = const { Cell::new(UNMETERED_POLLS) };
    static LEFT: Cell<u64> = const { Cell::new(UNMETERED_POLLS) };
    static SPENT: Cell<bool> = const { Cell::new(false) };
}

/// Sets the budget of each call from the entry's `fuel`.
pub fn configure(fuel: Option<u64>) {
    let polls = fuel.map_or(UNMETERED_POLLS, |fuel| (fuel / FUEL_PER_POLL).max(1));
    PER_CALL.set(polls);
    LEFT.set(polls);
}

/// A call into the plugin begins: a full budget.
pub fn new_call() {
    LEFT.set(PER_CALL.get());
    SPENT.set(false);
}

/// Whether the budget ran out since the call began (the script was stopped for it).
pub fn spent() -> bool {
    SPENT.get()
}

/// The budget per call, in polls (for messages).
pub fn per_call() -> u64 {
    PER_CALL.get()
}

/// QuickJS's interrupt handler: `true` stops the script.
pub fn interrupt() -> bool {
    match LEFT.get() {
        0 => {
            SPENT.set(true);
            true
        }
        left => {
            LEFT.set(left - 1);
            false
        }
    }
}
