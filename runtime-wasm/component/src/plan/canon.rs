//! The canonical functions a component defines: `canon lift`, `canon lower` of the host's
//! functions, `canon resource.drop` of the host's resources; every other built-in refused.

use super::frame::{at, Frame, Func};
use super::types::{host_resource, Converter, ASYNC};
use super::{CoreFunc, Lift, Options};
use std::cell::Cell;
use wasmparser::component_types::ComponentAnyTypeId;
use wasmparser::{CanonicalFunction, CanonicalOption};

/// What a canonical function adds to the index spaces.
pub(super) enum Made {
    /// A component function (`canon lift`).
    Func(Func),
    /// A core function.
    CoreFunc(CoreFunc),
}

/// The function `canon` makes in `frame` (converting at most `budget` more types).
pub(super) fn canonical(
    canon: &CanonicalFunction,
    frame: &Frame<'_>,
    budget: &Cell<u32>,
) -> Result<Made, String> {
    let types = &frame.definition.types;
    let converter = Converter {
        types,
        resources: &frame.resources,
        budget,
    };
    match canon {
        CanonicalFunction::Lift {
            core_func_index,
            type_index,
            options,
        } => {
            let ComponentAnyTypeId::Func(id) = types.component_any_type_at(*type_index) else {
                return Err(format!(
                    "type {type_index} of a lifted function is not a function"
                ));
            };
            Ok(Made::Func(Func::Lifted(Lift {
                func: at(&frame.core_funcs, *core_func_index, "core function")?,
                ty: converter.func(id)?,
                options: canonical_options(options, frame)?,
            })))
        }
        CanonicalFunction::Lower {
            func_index,
            options,
        } => match at(&frame.funcs, *func_index, "function")? {
            Func::Host { interface, name } => Ok(Made::CoreFunc(CoreFunc::Lower {
                interface: interface.to_string(),
                name,
                ty: converter.func(types.component_function_at(*func_index))?,
                options: canonical_options(options, frame)?,
            })),
            Func::Lifted(_) => Err(COMPOSED.to_string()),
        },
        CanonicalFunction::ResourceDrop { resource } => {
            let ComponentAnyTypeId::Resource(id) = types.component_any_type_at(*resource) else {
                return Err(format!(
                    "type {resource} of a resource.drop is not a resource"
                ));
            };
            Ok(Made::CoreFunc(CoreFunc::ResourceDrop(host_resource(
                &frame.resources,
                id.resource(),
            )?)))
        }
        other => Err(format!(
            "it uses the canonical built-in `{}` (resources of its own, component-model async or \
             threads): this host provides `canon lift`, `canon lower` and `resource.drop` of its \
             own resources",
            builtin_name(other)
        )),
    }
}

/// A lift's or a lower's options.
fn canonical_options(options: &[CanonicalOption], frame: &Frame<'_>) -> Result<Options, String> {
    let mut read = Options::default();
    for option in options {
        match option {
            CanonicalOption::UTF8 => {}
            CanonicalOption::UTF16 | CanonicalOption::CompactUTF16 => {
                return Err(
                    "it passes strings in UTF-16 (canonical option `string-encoding`): \
                            this host passes strings in UTF-8 only"
                        .to_string(),
                );
            }
            CanonicalOption::Memory(index) => {
                read.memory = Some(at(&frame.memories, *index, "memory")?)
            }
            CanonicalOption::Realloc(index) => {
                read.realloc = Some(at(&frame.core_funcs, *index, "core function")?)
            }
            CanonicalOption::PostReturn(index) => {
                read.post_return = Some(at(&frame.core_funcs, *index, "core function")?)
            }
            CanonicalOption::Async | CanonicalOption::Callback(_) => return Err(ASYNC.to_string()),
            CanonicalOption::CoreType(_) | CanonicalOption::Gc => {
                return Err(
                    "it uses the canonical ABI of WebAssembly GC values, which this host \
                            does not run"
                        .to_string(),
                );
            }
        }
    }
    Ok(read)
}

/// A built-in's name as the text format spells it, nearly: `ResourceNew { resource: 3 }` is
/// `resource.new`, `ThreadSpawnRef { .. }` is `thread.spawn-ref`.
fn builtin_name(canon: &CanonicalFunction) -> String {
    let debug = format!("{canon:?}");
    let variant = debug
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default();
    let mut name = String::new();
    for (i, c) in variant.char_indices() {
        if c.is_uppercase() && i > 0 {
            name.push(if name.contains('.') { '-' } else { '.' });
        }
        name.push(c.to_ascii_lowercase());
    }
    name
}

/// Why a function lifted by one component of the file and lowered by another is refused.
const COMPOSED: &str = "it calls from one of its components into another (a composition, as \
                        `wac plug` makes): this host runs components whose core code calls only \
                        the WASI interfaces it imports";
