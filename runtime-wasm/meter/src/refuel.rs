//! Each call into the plugin gets the fuel of one call from the module itself: every function
//! the runtime calls is exported through a wrapper, added to the module, that sets the fuel
//! global and then calls it. The runtime would otherwise set the global from JavaScript before
//! each call: five calls into JavaScript per request, each passing a BigInt.
//!
//! Only the export is redirected: the module's own code still calls (and its table still holds)
//! the original function, so a plugin cannot refill its fuel by calling its own exports.

use super::{invalid, START_EXPORT};
use valor_abi::exports;
use wasm_encoder::Encode;
use wasmparser::{CompositeInnerType, Parser, Payload, TypeRef};

/// The exports the runtime calls, besides the start function's (`valor_abi_version`, called
/// once on a fresh instance, runs on the fuel the global starts with).
const REFUELED: [&str; 7] = [
    exports::INIT,
    exports::ALLOC,
    exports::START,
    exports::POLL,
    exports::DROP,
    exports::COMPLETE,
    exports::WOKEN,
];

/// The wrappers a module gets.
#[derive(Default)]
pub struct Wrappers {
    /// For each: the function it calls, its type, and its number of parameters.
    wrapped: Vec<(u32, u32, u32)>,
    /// Export name to the index of its wrapper.
    exports: Vec<(String, u32)>,
}

impl Wrappers {
    /// The wrappers `module` needs: one per function the runtime calls (`start` is the start
    /// function, exported as [`START_EXPORT`]).
    pub fn of(module: &[u8], start: Option<u32>) -> Result<Self, String> {
        let mut params = Vec::new(); // per type index; 0 for non-function types
        let mut imported = 0u32;
        let mut types = Vec::new(); // per defined function
        let mut targets: Vec<(String, u32)> = start
            .map(|start| (START_EXPORT.to_owned(), start))
            .into_iter()
            .collect();
        for payload in Parser::new(0).parse_all(module) {
            match payload.map_err(invalid)? {
                Payload::TypeSection(reader) => {
                    for group in reader {
                        for ty in group.map_err(invalid)?.into_types() {
                            params.push(match &ty.composite_type.inner {
                                CompositeInnerType::Func(func) => func.params().len() as u32,
                                _ => 0,
                            });
                        }
                    }
                }
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        if matches!(import.map_err(invalid)?.ty, TypeRef::Func(_)) {
                            imported += 1;
                        }
                    }
                }
                Payload::FunctionSection(reader) => {
                    for ty in reader {
                        types.push(ty.map_err(invalid)?);
                    }
                }
                Payload::ExportSection(reader) => {
                    for export in reader {
                        let export = export.map_err(invalid)?;
                        if export.kind == wasmparser::ExternalKind::Func
                            && REFUELED.contains(&export.name)
                        {
                            targets.push((export.name.to_owned(), export.index));
                        }
                    }
                }
                _ => {}
            }
        }
        // The wrappers' indices follow every function of the module.
        let first = imported
            .checked_add(types.len() as u32)
            .ok_or("too many functions")?;
        let mut wrappers = Self::default();
        // Only the module's own functions: an import re-exported runs no code of the plugin.
        for (name, function) in targets {
            let Some(&ty) = function
                .checked_sub(imported)
                .and_then(|defined| types.get(defined as usize))
            else {
                continue;
            };
            let count = *params
                .get(ty as usize)
                .ok_or("a function of an unknown type")?;
            let index = first + wrappers.wrapped.len() as u32;
            wrappers.wrapped.push((function, ty, count));
            wrappers.exports.push((name, index));
        }
        Ok(wrappers)
    }

    /// How many functions are added.
    pub fn count(&self) -> u32 {
        self.wrapped.len() as u32
    }

    /// The function an export points to in the rewritten module.
    pub fn export(&self, name: &str, index: u32) -> u32 {
        self.exports
            .iter()
            .find(|(wrapped, _)| wrapped == name)
            .map_or(index, |&(_, wrapper)| wrapper)
    }

    /// The type index of each wrapper, for the function section.
    pub fn types(&self) -> impl Iterator<Item = u32> + '_ {
        self.wrapped.iter().map(|&(_, ty, _)| ty)
    }

    /// The body of each wrapper, for the code section: `fuel = budget; return f(params...)`.
    pub fn bodies(&self, fuel_global: u32, budget: u64) -> impl Iterator<Item = Vec<u8>> + '_ {
        self.wrapped.iter().map(move |&(function, _, params)| {
            let mut body = vec![0]; // no locals
            body.push(I64_CONST);
            i64::try_from(budget).unwrap_or(i64::MAX).encode(&mut body);
            body.push(GLOBAL_SET);
            fuel_global.encode(&mut body);
            for param in 0..params {
                body.push(LOCAL_GET);
                param.encode(&mut body);
            }
            body.push(CALL);
            function.encode(&mut body);
            body.push(END);
            body
        })
    }
}

// The opcodes written here (the binary format's).
const LOCAL_GET: u8 = 0x20;
const GLOBAL_SET: u8 = 0x24;
const I64_CONST: u8 = 0x42;
const CALL: u8 = 0x10;
const END: u8 = 0x0b;
