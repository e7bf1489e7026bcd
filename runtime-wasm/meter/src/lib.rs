//! Rewrites a plugin's module so that the runtime can stop it: fuel counted inline, memory capped.
//!
//! A service worker cannot preempt WebAssembly and has no other thread to watch it, so the budget
//! must be in the plugin's own code. The rewritten module has a mutable `i64` global, exported as
//! [`FUEL_EXPORT`], set to the budget at the start of every call into the plugin (by a wrapper
//! of each function the runtime calls, see `refuel`). Each loop header and
//! each function entry subtracts the number of instructions its region can run before it reaches
//! another such point (a nested loop's header, a callee's entry, or the same header again), and
//! traps with `unreachable` once the count is below zero. Small loop-free functions are paid for
//! by their callers instead (see `analysis`). So fuel bounds the instructions run per call, at
//! the price of a few instructions per loop iteration and per call of a larger function: never
//! a call into JS. A start function becomes an export that the runtime calls, metered, after
//! instantiating (see [`START_EXPORT`]).
//!
//! Every memory's maximum is lowered to the cap: growing past it fails inside the plugin (a Rust
//! plugin's allocator then aborts). Each `memory.grow` also stores its result in a second global,
//! [`GROWN_EXPORT`], so that after a trap the runtime can tell a refused growth (`-1`) from a bug.
//!
//! The runtime does not link the rewriting: it runs it as a module of its own, `valor_meter.wasm`
//! (this crate built with the `module` feature; see `module` for why and for its exports), and
//! uses this crate for [`Limits`] and the names of the exports the rewriting adds.
#![deny(missing_docs)]

mod analysis;
#[cfg(feature = "module")]
mod module;
mod refuel;

/// A small module shaped like a plugin (warm-up.wat), for `valor_meter_warm_up`.
#[cfg(any(test, feature = "module"))]
const WARM_UP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/warm-up.wasm"));

use analysis::Analysis;
use refuel::Wrappers;
use std::ops::Range;
use wasm_encoder::{CodeSection, Encode, MemorySection, MemoryType, RawSection};
use wasmparser::{
    Encoding, ExportSectionReader, ExternalKind, FunctionBody, Operator, Parser, Payload,
    SectionLimited, TypeRef,
};

/// The export holding the fuel left: the budget at the start of each call, below 0 after the
/// plugin ran out.
pub const FUEL_EXPORT: &str = "valor_fuel";

/// The export holding the result of the plugin's last `memory.grow` (-1: refused).
pub const GROWN_EXPORT: &str = "valor_grown";

/// The export that the module's start function becomes. The engine would run a start function
/// inside `instantiate`, where a trap cannot be told from others; the runtime calls it instead,
/// first thing, metered like any call.
pub const START_EXPORT: &str = "valor_module_start";

const RESERVED: [&str; 3] = [FUEL_EXPORT, GROWN_EXPORT, START_EXPORT];

/// The version of the rewriting. Rewritten modules are kept across starts (see
/// `plugin::rewritten`) under it: change it whenever the rewriting changes.
pub const VERSION: u32 = 2;

/// Bytes in a WebAssembly page.
pub const PAGE_BYTES: u64 = 64 * 1024;

/// What the rewritten module may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Instructions per call into the plugin.
    pub fuel: u64,
    /// The most memory each of its memories may grow to, in pages of [`PAGE_BYTES`].
    pub memory_pages: u64,
}

/// Rewrites `module` to count fuel and respect `limits`, or says why it cannot. `module` must be
/// valid (the engine's `WebAssembly.validate` says): an invalid one could name the globals and
/// functions the rewriting adds after its own.
///
/// Only what changes is decoded and encoded again: every other section, and the code between
/// the points where fuel is charged, is copied as it is.
pub fn instrument(module: &[u8], limits: Limits) -> Result<Vec<u8>, String> {
    let mut start = None;
    for payload in Parser::new(0).parse_all(module) {
        if let Ok(Payload::StartSection { func, .. }) = payload {
            start = Some(func);
        }
    }
    let mut rewriter = Rewriter {
        module,
        limits,
        start,
        out: wasm_encoder::Module::new(),
        imported_globals: 0,
        globals: None,
        exported: false,
        code: None,
        analysis: Analysis::of(module)?,
        functions: 0,
        wrappers: Wrappers::of(module, start)?,
    };
    for payload in Parser::new(0).parse_all(module) {
        rewriter.payload(payload.map_err(invalid)?)?;
    }
    Ok(rewriter.out.finish())
}

struct Rewriter<'a> {
    module: &'a [u8],
    limits: Limits,
    /// The start function, exported as [`START_EXPORT`] instead.
    start: Option<u32>,
    out: wasm_encoder::Module,
    imported_globals: u32,
    /// The indices of the two added globals, once the global section is written.
    globals: Option<Added>,
    /// Whether the export section is written.
    exported: bool,
    /// The code section being rewritten, and how many bodies it still expects.
    code: Option<(CodeSection, u32)>,
    analysis: Analysis,
    /// Function bodies rewritten so far.
    functions: usize,
    /// The functions added to refuel each call (see `refuel`).
    wrappers: Wrappers,
}

#[derive(Clone, Copy)]
struct Added {
    fuel: u32,
    grown: u32,
}

/// Section ids (the binary format's).
const FUNCTION_SECTION: u8 = 3;
const GLOBAL_SECTION: u8 = 6;
const EXPORT_SECTION: u8 = 7;

impl<'a> Rewriter<'a> {
    fn payload(&mut self, payload: Payload<'a>) -> Result<(), String> {
        let after_exports = matches!(
            payload,
            Payload::StartSection { .. }
                | Payload::ElementSection(_)
                | Payload::DataCountSection { .. }
                | Payload::CodeSectionStart { .. }
                | Payload::DataSection(_)
                | Payload::End(_)
        );
        if after_exports && !self.exported {
            // A module without exports (not a plugin, which the runtime says once it is
            // instantiated) still gets the runtime's.
            self.write_exports(None)?;
        }
        match payload {
            Payload::Version {
                encoding: Encoding::Component,
                ..
            } => Err("it is a WebAssembly component, not a core module".into()),
            Payload::Version { .. } | Payload::End(_) => Ok(()),
            Payload::ImportSection(ref reader) => {
                for import in reader.clone().into_imports() {
                    if matches!(import.map_err(invalid)?.ty, TypeRef::Global(_)) {
                        self.imported_globals += 1;
                    }
                }
                self.copy(&payload)
            }
            Payload::MemorySection(reader) => {
                let mut memories = MemorySection::new();
                for memory in reader {
                    memories.memory(self.capped(memory.map_err(invalid)?)?);
                }
                self.out.section(&memories);
                Ok(())
            }
            Payload::GlobalSection(reader) => {
                let (count, own) = (reader.count(), self.items(&reader)?);
                self.add_globals(count, own)
            }
            Payload::FunctionSection(reader) => {
                let mut data = Vec::new();
                count_after(reader.count(), self.wrappers.count() as usize).encode(&mut data);
                data.extend_from_slice(self.items(&reader)?);
                for ty in self.wrappers.types() {
                    ty.encode(&mut data);
                }
                self.raw_section(FUNCTION_SECTION, &data);
                Ok(())
            }
            Payload::ExportSection(reader) => self.write_exports(Some(&reader)),
            Payload::StartSection { .. } => Ok(()), // exported instead
            Payload::CodeSectionStart { count, .. } => {
                // The wrappers' bodies are added once the module's own are written.
                self.code = Some((CodeSection::new(), count));
                self.flush_code();
                Ok(())
            }
            Payload::CodeSectionEntry(body) => {
                let added = self.added()?;
                let costs = self.analysis.region_costs(self.functions);
                let charge_entry = !self.analysis.is_inlined(self.functions);
                self.functions += 1;
                let body = metered(self.module, &body, added, costs, charge_entry)?;
                let (code, left) = self
                    .code
                    .as_mut()
                    .ok_or("a function body outside the code section")?;
                code.raw(&body);
                *left = left.saturating_sub(1);
                self.flush_code();
                Ok(())
            }
            _ => self.copy(&payload),
        }
    }

    /// Copies a section unchanged.
    fn copy(&mut self, payload: &Payload<'_>) -> Result<(), String> {
        let (id, range) = payload
            .as_section()
            .ok_or("it holds a section the runtime cannot copy")?;
        let data = self.bytes(range)?;
        self.raw_section(id, data);
        Ok(())
    }

    /// Writes the export section: the module's own exports (if it has any), the counters, and
    /// the start function.
    fn write_exports(&mut self, own: Option<&ExportSectionReader<'_>>) -> Result<(), String> {
        if self.globals.is_none() {
            // No global section: it must come before the exports.
            self.add_globals(0, &[])?;
        }
        let added = self.added()?;
        let mut exports = Vec::new();
        for export in own.into_iter().flat_map(|reader| reader.clone()) {
            let export = export.map_err(invalid)?;
            if RESERVED.contains(&export.name) {
                return Err(format!(
                    "it exports `{}`, a name the runtime reserves",
                    export.name
                ));
            }
            let kind = match export.kind {
                ExternalKind::Func => FUNCTION,
                ExternalKind::Table => TABLE,
                ExternalKind::Memory => MEMORY,
                ExternalKind::Global => GLOBAL,
                ExternalKind::Tag => TAG,
                ExternalKind::FuncExact => {
                    return Err(
                        "it exports a function of exact type, a proposal plugins may not use"
                            .into(),
                    )
                }
            };
            let index = match kind {
                FUNCTION => self.wrappers.export(export.name, export.index),
                _ => export.index,
            };
            exports.push((export.name, kind, index));
        }
        exports.push((FUEL_EXPORT, GLOBAL, added.fuel));
        exports.push((GROWN_EXPORT, GLOBAL, added.grown));
        exports.extend(self.start.map(|start| {
            (
                START_EXPORT,
                FUNCTION,
                self.wrappers.export(START_EXPORT, start),
            )
        }));
        let mut data = Vec::new();
        (exports.len() as u32).encode(&mut data);
        for (name, kind, index) in exports {
            name.encode(&mut data);
            data.push(kind);
            index.encode(&mut data);
        }
        self.raw_section(EXPORT_SECTION, &data);
        self.exported = true;
        Ok(())
    }

    fn raw_section(&mut self, id: u8, data: &[u8]) {
        self.out.section(&RawSection { id, data });
    }

    /// The encoded items of a section, after its count.
    fn items<T>(&self, reader: &SectionLimited<'_, T>) -> Result<&'a [u8], String> {
        self.bytes(reader.original_position()..reader.range().end)
    }

    fn bytes(&self, range: Range<u64>) -> Result<&'a [u8], String> {
        usize::try_from(range.start)
            .ok()
            .zip(usize::try_from(range.end).ok())
            .and_then(|(start, end)| self.module.get(start..end))
            .ok_or_else(|| "a section runs past the end of the module".into())
    }

    fn capped(&self, memory: wasmparser::MemoryType) -> Result<MemoryType, String> {
        if memory.memory64 || memory.shared || memory.page_size_log2.is_some() {
            return Err(
                "its memory is 64-bit, shared or has custom pages, which plugins may not use"
                    .into(),
            );
        }
        let cap = self.limits.memory_pages;
        if memory.initial > cap {
            return Err(format!(
                "its memory starts at {} MiB, more than its memory_mb allows ({} MiB)",
                (memory.initial * PAGE_BYTES) >> 20,
                (cap * PAGE_BYTES) >> 20
            ));
        }
        Ok(MemoryType {
            minimum: memory.initial,
            maximum: Some(memory.maximum.map_or(cap, |max| max.min(cap))),
            memory64: false,
            shared: false,
            page_size_log2: None,
        })
    }

    /// Writes the global section: the module's own `count` globals (encoded in `own`), then the
    /// fuel and growth globals.
    fn add_globals(&mut self, count: u32, own: &[u8]) -> Result<(), String> {
        let first = self
            .imported_globals
            .checked_add(count)
            .ok_or("too many globals")?;
        let fuel = i64::try_from(self.limits.fuel).unwrap_or(i64::MAX);
        let mut data = Vec::new();
        count_after(count, 2).encode(&mut data);
        data.extend_from_slice(own);
        // `(global (mut i64) (i64.const fuel))` and `(global (mut i32) (i32.const 0))`
        data.extend_from_slice(&[I64, MUTABLE, I64_CONST]);
        fuel.encode(&mut data);
        data.extend_from_slice(&[END, I32, MUTABLE, I32_CONST, 0, END]);
        self.raw_section(GLOBAL_SECTION, &data);
        self.globals = Some(Added {
            fuel: first,
            grown: first + 1,
        });
        Ok(())
    }

    fn added(&self) -> Result<Added, String> {
        self.globals
            .ok_or_else(|| "its sections are out of order".into())
    }

    /// Writes the code section once all its bodies are rewritten, the wrappers' last.
    fn flush_code(&mut self) {
        if !matches!(self.code, Some((_, 0))) {
            return; // bodies still to come
        }
        if let Some((mut code, _)) = self.code.take() {
            if let Some(added) = self.globals {
                for body in self.wrappers.bodies(added.fuel, self.limits.fuel) {
                    code.raw(&body);
                }
            }
            self.out.section(&code);
        }
    }
}

fn count_after(count: u32, added: usize) -> u32 {
    count.saturating_add(u32::try_from(added).unwrap_or(u32::MAX))
}

/// The encoded `body` with fuel charged at each loop header, and at its entry unless its callers
/// pay for it; `costs` are its regions' (see [`Analysis::region_costs`]).
fn metered(
    module: &[u8],
    body: &FunctionBody<'_>,
    added: Added,
    costs: Vec<u64>,
    charge_entry: bool,
) -> Result<Vec<u8>, String> {
    let mut costs = costs.into_iter();
    let mut operators = body.get_operators_reader().map_err(invalid)?;
    let start = usize::try_from(body.range().start).map_err(invalid)?;
    let mut copied = usize::try_from(operators.original_position()).map_err(invalid)?;
    // The locals, as they are; then the entry's charge.
    let mut out = module
        .get(start..copied)
        .ok_or("a body outside the module")?
        .to_vec();
    let entry = costs.next().unwrap_or(1);
    if charge_entry {
        charge(&mut out, entry, added.fuel);
    }
    while !operators.eof() {
        let operator = operators.read().map_err(invalid)?;
        let inserted = match operator {
            Operator::Loop { .. } => Insert::Charge,
            Operator::MemoryGrow { .. } => Insert::KeepGrown,
            _ => continue,
        };
        let end = usize::try_from(operators.original_position()).map_err(invalid)?;
        out.extend_from_slice(module.get(copied..end).ok_or("a body outside the module")?);
        copied = end;
        match inserted {
            Insert::Charge => charge(&mut out, costs.next().unwrap_or(1), added.fuel),
            Insert::KeepGrown => {
                // Keep the result where the runtime can read it, and leave it on the stack.
                out.push(GLOBAL_SET);
                added.grown.encode(&mut out);
                out.push(GLOBAL_GET);
                added.grown.encode(&mut out);
            }
        }
    }
    let end = usize::try_from(body.range().end).map_err(invalid)?;
    out.extend_from_slice(module.get(copied..end).ok_or("a body outside the module")?);
    Ok(out)
}

enum Insert {
    Charge,
    KeepGrown,
}

/// `fuel -= cost; if fuel < 0 { unreachable }`
fn charge(out: &mut Vec<u8>, cost: u64, fuel: u32) {
    out.push(GLOBAL_GET);
    fuel.encode(out);
    out.push(I64_CONST);
    i64::try_from(cost).unwrap_or(i64::MAX).encode(out);
    out.push(I64_SUB);
    out.push(GLOBAL_SET);
    fuel.encode(out);
    out.push(GLOBAL_GET);
    fuel.encode(out);
    out.extend_from_slice(&[I64_CONST, 0, I64_LT_S, IF, EMPTY, UNREACHABLE, END]);
}

// The few opcodes and type codes written here (the binary format's).
const UNREACHABLE: u8 = 0x00;
const IF: u8 = 0x04;
const END: u8 = 0x0b;
const GLOBAL_GET: u8 = 0x23;
const GLOBAL_SET: u8 = 0x24;
const I32_CONST: u8 = 0x41;
const I64_CONST: u8 = 0x42;
const I64_LT_S: u8 = 0x53;
const I64_SUB: u8 = 0x7d;
const EMPTY: u8 = 0x40;
const I32: u8 = 0x7f;
const I64: u8 = 0x7e;
const MUTABLE: u8 = 0x01;
const FUNCTION: u8 = 0x00;
const TABLE: u8 = 0x01;
const MEMORY: u8 = 0x02;
const GLOBAL: u8 = 0x03;
const TAG: u8 = 0x04;

fn invalid(error: impl std::fmt::Display) -> String {
    format!("it is not a valid WebAssembly module: {error}")
}

// Host only: they assemble WAT and run property tests.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
