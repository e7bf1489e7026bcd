//! The plugin's imports (`guest::imports`) against the fake guest: what they check, in which
//! order, and what they hand their host; and which imports a module may have.

use super::{block_on, dispatch, Act, FakeInstance, FETCHED};
use crate::guest::exports::{refuse_imports, Import};
use crate::guest::imports::{self as import, Operation};
use crate::guest::{calls, Address};
use crate::limits::{max_message_bytes, MAX_OPS_IN_FLIGHT};
use valor_abi::{outcome, MAX_TEXT_BYTES};

#[test]
fn a_message_too_large_is_refused_before_anything_is_read() {
    let fake = FakeInstance::new();
    let len = max_message_bytes(1024) + 1;
    let op = import::fetch(&mut &fake, 0, len);
    assert_ne!(op, 0);
    let plugin = fake.plugin.borrow();
    assert!(
        plugin.reads.is_empty(),
        "nothing copied: {:?}",
        plugin.reads
    );
    assert!(plugin.spawned.is_empty());
    assert_eq!(plugin.refusals_scheduled, 1);
    drop(plugin);
    // Refused, it had no effect: a lost instance may still run its task again.
    assert!(!fake.table.borrow().had_effects(0));
    calls::deliver_refusals(&mut &fake);
    let completed = fake.plugin.borrow().completed.clone();
    let [(refused, result)] = &completed[..] else {
        panic!("one refusal delivered: {completed:?}");
    };
    assert_eq!((*refused, result[0]), (op, outcome::FAILED));
    let why = String::from_utf8_lossy(&result[1..]).into_owned();
    assert!(
        why.starts_with(&format!(
            "an outbound request of {len} bytes is larger than plugin 'fake'"
        )),
        "{why}"
    );
}

#[test]
fn a_storage_command_too_large_says_what_it_was() {
    let fake = FakeInstance::new();
    import::kv(&mut &fake, 0, u32::MAX);
    calls::deliver_refusals(&mut &fake);
    let result = fake.plugin.borrow().completed[0].1.clone();
    let why = String::from_utf8_lossy(&result[1..]).into_owned();
    assert!(
        why.starts_with("a storage command of 4294967295 bytes"),
        "{why}"
    );
}

#[test]
fn the_effect_is_recorded_before_the_message_is_read() {
    let fake = FakeInstance::new();
    let command = b"kv command";
    fake.plugin.borrow_mut().memory = command.to_vec();
    let op = import::kv(&mut &fake, 0, command.len() as u32);
    let plugin = fake.plugin.borrow();
    assert_eq!(plugin.reads, [(0, command.len() as u32, true)]);
    assert_eq!(plugin.spawned, [(op, Operation::Kv(command.to_vec()))]);
    assert_eq!(plugin.refusals_scheduled, 0);
}

#[test]
fn a_fetch_carries_the_depth_of_the_request_it_is_made_for() {
    let fake = FakeInstance::new();
    let request = fake.request(Act::Fetch);
    let mut fetching = Box::pin(dispatch(&fake, &request, 3));
    assert!(super::poll_once(&mut fetching).is_pending());
    let plugin = fake.plugin.borrow();
    let (op, fetch) = &plugin.spawned[0];
    assert_eq!(*op, 1);
    let request = FETCHED.to_vec();
    assert_eq!(*fetch, Operation::Fetch { request, depth: 3 });
    // The polled task's effect was recorded before its request was read.
    assert!(plugin.reads.last().is_some_and(|read| read.2));
}

#[test]
fn a_message_outside_memory_reads_as_empty() {
    let fake = FakeInstance::new();
    let beyond = fake.plugin.borrow().memory.len() as Address + 1;
    let op = import::fetch(&mut &fake, beyond, 16);
    let spawned = &fake.plugin.borrow().spawned;
    let empty = Operation::Fetch {
        request: Vec::new(),
        depth: 0,
    };
    assert_eq!(spawned[..], [(op, empty)]);
}

#[test]
fn log_lines_and_panic_messages_are_read_up_to_their_cap() {
    let fake = FakeInstance::new();
    fake.plugin.borrow_mut().memory = vec![b'a'; 2 * MAX_TEXT_BYTES as usize];
    import::log(&mut &fake, 2, 0, u32::MAX);
    assert_eq!(fake.plugin.borrow().reads, [(0, MAX_TEXT_BYTES, false)]);
    let more = u32::MAX - MAX_TEXT_BYTES;
    let kept = "a".repeat(MAX_TEXT_BYTES as usize);
    let line = format!("{kept} [... {more} more bytes not shown]");
    assert_eq!(fake.plugin.borrow().logs, [(2, line)]);
    import::panic(&mut &fake, 1 << 20, 4);
    assert_eq!(fake.table.borrow_mut().take_panic().as_deref(), Some(""));
}

#[test]
fn random_bytes_not_filled_are_an_error_logged() {
    let fake = FakeInstance::new();
    let within = fake.plugin.borrow().memory.len() as u32;
    import::random(&mut &fake, 0, within);
    import::random(&mut &fake, 0, within + 1);
    import::random(&mut &fake, 0, import::MAX_RANDOM_BYTES + 1);
    let plugin = fake.plugin.borrow();
    // Past the limit, nothing is even tried.
    assert_eq!(plugin.random, [(0, within)]);
    let error = |len| (1, format!("random: could not fill {len} bytes"));
    assert_eq!(
        plugin.logs,
        [error(within + 1), error(import::MAX_RANDOM_BYTES + 1)]
    );
}

#[test]
fn sleeps_start_timers_past_the_quota_refused_with_one_delivery_scheduled() {
    let fake = FakeInstance::new();
    let ops: Vec<u32> = (0..MAX_OPS_IN_FLIGHT + 3)
        .map(|_| import::sleep(&mut &fake, 5.0))
        .collect();
    let plugin = fake.plugin.borrow();
    assert_eq!(plugin.spawned.len(), MAX_OPS_IN_FLIGHT);
    assert_eq!(plugin.spawned[0], (ops[0], Operation::Sleep(5.0)));
    assert_eq!(
        plugin.refusals_scheduled, 1,
        "one delivery for all refusals"
    );
    drop(plugin);
    calls::deliver_refusals(&mut &fake);
    // Refusals delivered, the next one schedules a delivery again.
    import::sleep(&mut &fake, 5.0);
    assert_eq!(fake.plugin.borrow().refusals_scheduled, 2);
}

#[test]
fn a_cancelled_operation_is_no_longer_in_flight() {
    let fake = FakeInstance::new();
    let op = import::sleep(&mut &fake, f64::INFINITY);
    assert_eq!(fake.table.borrow().ops_in_flight(), 1);
    import::cancel(&mut &fake, op);
    assert_eq!(fake.table.borrow().ops_in_flight(), 0);
}

#[test]
fn a_broken_instance_starts_nothing() {
    let fake = FakeInstance::new();
    let trap = fake.request(Act::Trap);
    assert!(block_on(dispatch(&fake, &trap, 0)).is_err());
    assert_eq!(import::sleep(&mut &fake, 1.0), 0);
    assert_eq!(import::kv(&mut &fake, 0, u32::MAX), 0);
    let plugin = fake.plugin.borrow();
    assert!(plugin.spawned.is_empty());
    assert_eq!(plugin.refusals_scheduled, 0);
}

#[test]
fn a_timer_operation_answers_ok() {
    assert_eq!(block_on(import::slept(async {})), [outcome::OK]);
}

/// An import of `module.name`, a function or not.
fn import<'a>(module: &'a str, name: &'a str, function: bool) -> Import<'a> {
    Import {
        module,
        name,
        function,
    }
}

#[test]
fn a_module_may_import_only_the_abi_functions() {
    let abi = valor_abi::imports::ALL.map(|name| import("valor", name, true));
    assert_eq!(refuse_imports(abi), None);
    let foreign = [
        import("valor", "log", true),
        import("wbg", "__wbindgen_throw", true),
    ];
    assert_eq!(
        refuse_imports(foreign).as_deref(),
        Some(
            "it imports wbg.__wbindgen_throw: a plugin may import only the runtime's `valor` \
             functions (build it with vlugin, without wasm-bindgen or WASI)"
        )
    );
}

#[test]
fn an_unknown_abi_name_or_an_abi_name_not_a_function_means_another_abi_version() {
    for imported in [
        import("valor", "teleport", true),
        import("valor", "fetch", false),
    ] {
        let why = refuse_imports([imported]).expect("refused");
        let listed = format!(
            "it imports valor.{}, which this runtime does not provide",
            imported.name
        );
        assert!(why.starts_with(&listed), "{why}");
        assert!(why.contains("another plugin ABI version"), "{why}");
    }
}
