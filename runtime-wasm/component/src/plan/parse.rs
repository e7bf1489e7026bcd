//! Reading a component's bytes, validated, into a tree of definitions: each component's items in
//! the order its sections give them, nested components inline, and the types wasmparser's
//! validator resolved for each (type indices, aliases and `eq` bounds are its business).

use std::ops::Range;
use wasmparser::types::Types;
use wasmparser::{
    CanonicalFunction, ComponentAlias, ComponentExport, ComponentImport, ComponentInstance,
    Encoding, FuncValidatorAllocations, Instance, Parser, Payload, ValidPayload, Validator,
};

/// A component read: its items, and its types as the validator resolved them.
pub(super) struct Definition<'a> {
    /// Its items in order: what makes its index spaces.
    pub items: Vec<Item<'a>>,
    /// Its index spaces' types.
    pub types: Types,
}

/// An item of a component that adds to one of its index spaces or exports one.
pub(super) enum Item<'a> {
    /// A core module: its index among all the core modules of the file.
    Module(u32),
    /// A nested component.
    Component(Box<Definition<'a>>),
    /// A core instance.
    CoreInstance(Instance<'a>),
    /// A component instance.
    Instance(ComponentInstance<'a>),
    /// An alias (of an instance's export, a core instance's export, or an outer item).
    Alias(ComponentAlias<'a>),
    /// A canonical function (`canon lift`, `canon lower`, a built-in).
    Canon(CanonicalFunction),
    /// An import.
    Import(ComponentImport<'a>),
    /// An export.
    Export(ComponentExport<'a>),
}

/// The whole file: every core module's bytes (in file order) and the outermost component.
pub(super) struct Parsed<'a> {
    /// Each core module's range in the file.
    pub modules: Vec<Range<usize>>,
    /// The outermost component.
    pub root: Definition<'a>,
}

/// Validates `bytes` as a component and reads it.
pub(super) fn parse(bytes: &[u8]) -> Result<Parsed<'_>, String> {
    let mut validator = Validator::new();
    let mut allocations = FuncValidatorAllocations::default();
    let mut modules = Vec::new();
    // The components being read, innermost last.
    let mut open: Vec<Vec<Item<'_>>> = Vec::new();
    let mut in_module = false;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(invalid)?;
        if let Payload::Version {
            encoding: Encoding::Module,
            ..
        } = payload
        {
            if open.is_empty() {
                return Err(CORE_MODULE.to_string());
            }
        }
        match validator.payload(&payload).map_err(invalid)? {
            ValidPayload::Func(func, body) => {
                let mut func = func.into_validator(std::mem::take(&mut allocations));
                func.validate(&body).map_err(invalid)?;
                allocations = func.into_allocations();
            }
            ValidPayload::End(types) if !in_module => {
                let items = open.pop().ok_or("a component ends twice")?;
                let definition = Definition { items, types };
                match open.last_mut() {
                    Some(parent) => parent.push(Item::Component(Box::new(definition))),
                    None => {
                        return Ok(Parsed {
                            modules,
                            root: definition,
                        })
                    }
                }
                continue;
            }
            ValidPayload::End(_) => {
                in_module = false;
                continue;
            }
            ValidPayload::Ok | ValidPayload::Parser(_) => {}
        }
        if in_module {
            continue;
        }
        if let Payload::Version { .. } = payload {
            open.push(Vec::new());
            continue;
        }
        let items = open
            .last_mut()
            .ok_or("a section outside of any component")?;
        read_section(payload, items, &mut modules, &mut in_module)?;
    }
    Err("the component ends early".to_string())
}

/// Adds a section's items to the component being read.
fn read_section<'a>(
    payload: Payload<'a>,
    items: &mut Vec<Item<'a>>,
    modules: &mut Vec<Range<usize>>,
    in_module: &mut bool,
) -> Result<(), String> {
    match payload {
        Payload::ModuleSection {
            unchecked_range, ..
        } => {
            let index = u32::try_from(modules.len()).map_err(|_| "too many core modules")?;
            let start = usize::try_from(unchecked_range.start).map_err(|_| "a module too far")?;
            let end = usize::try_from(unchecked_range.end).map_err(|_| "a module too far")?;
            modules.push(start..end);
            items.push(Item::Module(index));
            *in_module = true;
        }
        Payload::InstanceSection(reader) => {
            for instance in reader {
                items.push(Item::CoreInstance(instance.map_err(invalid)?));
            }
        }
        Payload::ComponentInstanceSection(reader) => {
            for instance in reader {
                items.push(Item::Instance(instance.map_err(invalid)?));
            }
        }
        Payload::ComponentAliasSection(reader) => {
            for alias in reader {
                items.push(Item::Alias(alias.map_err(invalid)?));
            }
        }
        Payload::ComponentCanonicalSection(reader) => {
            for func in reader {
                items.push(Item::Canon(func.map_err(invalid)?));
            }
        }
        Payload::ComponentImportSection(reader) => {
            for import in reader {
                items.push(Item::Import(import.map_err(invalid)?));
            }
        }
        Payload::ComponentExportSection(reader) => {
            for export in reader {
                items.push(Item::Export(export.map_err(invalid)?));
            }
        }
        Payload::ComponentStartSection { .. } => {
            return Err(
                "it has a component start function (component values), which this \
                        host does not run"
                    .to_string(),
            );
        }
        // Types are the validator's (read back from `Definition::types`); custom sections
        // (names, producers) do not change what runs. A nested component's header and
        // sections come as payloads of their own.
        _ => {}
    }
    Ok(())
}

/// Why a core module is refused.
const CORE_MODULE: &str = "this is a core WebAssembly module, not a component: a core module is a \
                           Valor plugin (the Valor ABI), while a WASI 0.2 component is built for \
                           `wasm32-wasip2` (or by componentize-js, componentize-py, ...)";

/// A wasmparser error, as the reason the file is refused.
fn invalid(error: wasmparser::BinaryReaderError) -> String {
    format!("not a valid component: {error}")
}
