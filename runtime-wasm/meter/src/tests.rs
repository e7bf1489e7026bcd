use super::*;
use wasmparser::{Validator, WasmFeatures};

const LIMITS: Limits = Limits {
    fuel: 1_000,
    memory_pages: 16,
};

/// A module with every construct the rewriter must handle: no global section, a start function,
/// nested loops inside blocks and ifs, a call, and `memory.grow`.
const SAMPLE: &str = r#"
(module
  (import "valor" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (func $start)
  (start $start)
  (func $spin (export "spin") (param i32) (result i32)
    (block
      (loop
        (br_if 1 (i32.eqz (local.get 0)))
        (if (i32.const 1) (then (loop (nop))))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br 0)))
    (call $start)
    (memory.grow (i32.const 1))))
"#;

fn instrumented(wat: &str, limits: Limits) -> Result<Vec<u8>, String> {
    instrument(&wat::parse_str(wat).expect("valid WAT"), limits)
}

fn validate(module: &[u8]) {
    Validator::new_with_features(WasmFeatures::default())
        .validate_all(module)
        .expect("the rewritten module is valid");
}

/// The function bodies of `module`, as lists of operators (debug text).
fn bodies(module: &[u8]) -> Vec<Vec<String>> {
    let mut bodies = Vec::new();
    for payload in Parser::new(0).parse_all(module) {
        if let Payload::CodeSectionEntry(body) = payload.unwrap() {
            let mut reader = body.get_operators_reader().unwrap();
            let mut ops = Vec::new();
            while !reader.eof() {
                ops.push(format!("{:?}", reader.read().unwrap()));
            }
            bodies.push(ops);
        }
    }
    bodies
}

fn export_names(module: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    for payload in Parser::new(0).parse_all(module) {
        if let Payload::ExportSection(reader) = payload.unwrap() {
            names.extend(reader.into_iter().map(|e| e.unwrap().name.to_owned()));
        }
    }
    names
}

#[test]
fn the_rewritten_module_is_valid_and_exports_the_counters() {
    let module = instrumented(SAMPLE, LIMITS).unwrap();
    validate(&module);
    assert_eq!(
        export_names(&module),
        ["memory", "spin", FUEL_EXPORT, GROWN_EXPORT, START_EXPORT]
    );
    let starts = Parser::new(0)
        .parse_all(&module)
        .filter(|payload| matches!(payload, Ok(Payload::StartSection { .. })))
        .count();
    assert_eq!(starts, 0, "the runtime calls the start function itself");
}

#[test]
fn fuel_is_charged_at_loop_headers_and_entries_of_functions_that_loop() {
    let module = instrumented(SAMPLE, LIMITS).unwrap();
    let bodies = bodies(&module);
    let charges = |body: &[String]| body.iter().filter(|op| op.starts_with("I64Sub")).count();
    // $start is small and loop-free: $spin pays for it. $spin: its entry and its two loops.
    // Last, the wrapper $start is exported through (it refuels, and charges nothing).
    assert_eq!(
        bodies.iter().map(|b| charges(b)).collect::<Vec<_>>(),
        [0, 3, 0]
    );
    let spin = &bodies[1];
    // The fuel global is the first defined one (no globals, none imported): index 0.
    assert_eq!(spin[0], "GlobalGet { global_index: 0 }");
    // The function's own code outside loops: block, loop, call, i32.const, memory.grow, end
    // (and the block's end), plus the 1 instruction of $start that it calls.
    assert_eq!(spin[1], "I64Const { value: 8 }");
    // The first loop's own 13 instructions: with the nested `if` and the inner `loop`
    // instruction, without the inner loop's body (which charges for itself).
    let outer = spin.iter().position(|op| op.starts_with("Loop")).unwrap();
    assert_eq!(spin[outer + 2], "I64Const { value: 13 }");
    let inner = outer
        + 1
        + spin[outer + 1..]
            .iter()
            .position(|op| op.starts_with("Loop"))
            .unwrap();
    assert_eq!(spin[inner + 2], "I64Const { value: 2 }");
}

#[test]
fn functions_that_can_recurse_or_call_anything_charge_themselves() {
    let wat = r#"(module
        (type $t (func))
        (table 1 funcref)
        (func $leaf)
        (func $calls_leaf (call $leaf))
        (func $recursive (call $recursive))
        (func $even (call $odd))
        (func $odd (call $even))
        (func $indirect (call_indirect (type $t) (i32.const 0)))
        (func $large (export "large") {large}))"#
        .replace("{large}", &"(nop)".repeat(2_001));
    let module = instrumented(&wat, LIMITS).unwrap();
    validate(&module);
    let charged: Vec<bool> = bodies(&module)
        .iter()
        .map(|body| body.iter().any(|op| op.starts_with("I64Sub")))
        .collect();
    assert_eq!(charged, [false, false, true, true, true, true, true]);
}

#[test]
fn memory_grow_results_are_kept_for_the_runtime() {
    let module = instrumented(SAMPLE, LIMITS).unwrap();
    let spin = &bodies(&module)[1];
    let grow = spin
        .iter()
        .position(|op| op.starts_with("MemoryGrow"))
        .unwrap();
    assert_eq!(
        spin[grow + 1..grow + 3],
        [
            "GlobalSet { global_index: 1 }",
            "GlobalGet { global_index: 1 }"
        ]
    );
}

#[test]
fn added_globals_come_after_imported_and_defined_ones() {
    let wat = r#"(module
        (import "valor" "g" (global i32))
        (global $own (mut i32) (i32.const 0))
        (func (export "f") (loop (global.set $own (global.get 0)))))"#;
    let module = instrumented(wat, LIMITS).unwrap();
    validate(&module);
    let body = &bodies(&module)[0];
    assert_eq!(body[0], "GlobalGet { global_index: 2 }", "{body:?}");
}

#[test]
fn a_module_without_exports_gets_the_counters() {
    // (The runtime then says it is not a plugin, as for any module without its exports.)
    for wat in [
        "(module)",
        "(module (func))",
        "(module (memory 1) (data (i32.const 0) \"x\"))",
    ] {
        let module = instrumented(wat, LIMITS).unwrap();
        validate(&module);
        assert_eq!(export_names(&module), [FUEL_EXPORT, GROWN_EXPORT], "{wat}");
    }
}

#[test]
fn memory_is_capped() {
    let maximum = |module: &[u8]| {
        Parser::new(0)
            .parse_all(module)
            .find_map(|payload| match payload.unwrap() {
                Payload::MemorySection(reader) => Some(reader.into_iter().next()?.unwrap().maximum),
                _ => None,
            })
            .flatten()
    };
    let unbounded = instrumented(SAMPLE, LIMITS).unwrap();
    assert_eq!(maximum(&unbounded), Some(16));
    let smaller = r#"(module (memory (export "memory") 1 4))"#;
    assert_eq!(maximum(&instrumented(smaller, LIMITS).unwrap()), Some(4));
    let larger = r#"(module (memory (export "memory") 17))"#;
    assert_eq!(
        instrumented(larger, LIMITS).unwrap_err(),
        "its memory starts at 1 MiB, more than its memory_mb allows (1 MiB)"
    );
}

#[test]
fn modules_it_cannot_meter_are_refused_with_a_reason() {
    let reserved = format!(r#"(module (global (export "{FUEL_EXPORT}") i32 (i32.const 0)))"#);
    assert!(instrumented(&reserved, LIMITS)
        .unwrap_err()
        .contains("a name the runtime reserves"));
    assert!(instrument(b"this is text", LIMITS)
        .unwrap_err()
        .starts_with("it is not a valid WebAssembly module"));
    let shared = r#"(module (memory (export "memory") 1 2 shared))"#;
    assert!(instrumented(shared, LIMITS).unwrap_err().contains("shared"));
}

#[test]
fn the_budget_is_the_initial_fuel() {
    let module = instrumented(
        SAMPLE,
        Limits {
            fuel: 123_456,
            ..LIMITS
        },
    )
    .unwrap();
    let initial = Parser::new(0)
        .parse_all(&module)
        .find_map(|payload| match payload.unwrap() {
            Payload::GlobalSection(reader) => {
                let global = reader.into_iter().next()?.unwrap();
                Some(format!(
                    "{:?}",
                    global.init_expr.get_operators_reader().read().unwrap()
                ))
            }
            _ => None,
        });
    assert_eq!(initial.as_deref(), Some("I64Const { value: 123456 }"));
}

proptest::proptest! {
    /// Whatever bytes a hostile server sends, the rewriter answers (never panics), and what it
    /// accepts from a valid module is valid.
    #[test]
    fn any_module_is_refused_or_rewritten(
        flips in proptest::collection::vec((0usize..4096, proptest::num::u8::ANY), 0..8),
        cut in 0usize..4096,
    ) {
        let mut module = wat::parse_str(SAMPLE).unwrap();
        for (at, byte) in flips {
            let at = at % module.len();
            module[at] = byte;
        }
        module.truncate(cut.max(8));
        let valid = Validator::new_with_features(WasmFeatures::default())
            .validate_all(&module)
            .is_ok();
        if let Ok(rewritten) = instrument(&module, LIMITS) {
            if valid {
                validate(&rewritten);
            }
        }
    }
}

#[test]
fn the_functions_the_runtime_calls_are_exported_through_wrappers_that_refuel() {
    let wat = r#"(module
        (import "valor" "log" (func $log (param i32 i32)))
        (func $poll (export "valor_poll") (param i32) (result i32) (local.get 0))
        (func $start (export "valor_start") (param i32 i32) (result i32)
          (call $poll (local.get 0)))
        (func $other (export "other") (param i32) (result i32) (local.get 0))
        (start $other))"#;
    let module = instrumented(wat, LIMITS).unwrap();
    validate(&module);
    let mut exports = Vec::new();
    for payload in Parser::new(0).parse_all(&module) {
        if let Payload::ExportSection(reader) = payload.unwrap() {
            for export in reader {
                let export = export.unwrap();
                exports.push((export.name.to_owned(), export.index));
            }
        }
    }
    // Functions 0 (the import) to 3 are the module's; 4 to 6 the wrappers, in the order the
    // start function, then the ABI's exports, are found. "other" is not the runtime's to call:
    // it keeps pointing to its function.
    let index = |name: &str| exports.iter().find(|(n, _)| n == name).unwrap().1;
    assert_eq!(
        [
            index(START_EXPORT),
            index("valor_poll"),
            index("valor_start"),
            index("other")
        ],
        [4, 5, 6, 3]
    );
    let bodies = bodies(&module);
    assert_eq!(
        bodies[5],
        [
            "I64Const { value: 1000 }",
            "GlobalSet { global_index: 0 }",
            "LocalGet { local_index: 0 }",
            "LocalGet { local_index: 1 }",
            "Call { function_index: 2 }",
            "End",
        ]
    );
    // The module's own call still goes to the function, not to the wrapper: calling its own
    // export cannot refill a plugin's fuel.
    assert!(bodies[1].contains(&"Call { function_index: 1 }".to_owned()));
}

/// The warm-up module is rewritten into a valid module.
#[test]
fn the_warm_up_module_is_rewritten() {
    let rewritten = instrument(crate::WARM_UP, LIMITS).expect("rewritten");
    let mut validator = Validator::new_with_features(WasmFeatures::default());
    validator
        .validate_all(&rewritten)
        .expect("valid once rewritten");
}
