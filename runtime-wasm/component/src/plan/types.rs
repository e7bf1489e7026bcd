//! wasmparser's resolved component types, as [`abi::Type`](crate::abi::Type)s: resources named by
//! the imported interface that defines them, anything this host cannot pass refused.

use crate::abi::{FuncType, Resource, Type};
use std::cell::Cell;
use std::collections::HashMap;
use wasmparser::component_types::{
    ComponentDefinedType, ComponentFuncTypeId, ComponentValType, ResourceId,
};
use wasmparser::types::Types;
use wasmparser::PrimitiveValType;

/// The host's resources a component's types can name, by wasmparser's identity of each.
pub(super) type Resources = HashMap<ResourceId, Resource>;

/// At most this deep a type (WASI 0.2's deepest are a few levels): the conversion recurses.
const MAX_DEPTH: u32 = 100;

/// At most this many types are converted for a whole component (a type can refer to another
/// many times over, and a component can lower many functions of such types).
pub(super) const MAX_TYPES: u32 = 1_000_000;

/// Converts the types of one component's index spaces.
pub(super) struct Converter<'t> {
    /// Its types, as the validator resolved them.
    pub types: &'t Types,
    /// The host resources its types name.
    pub resources: &'t Resources,
    /// How many more types may be converted (shared by all the components of the file).
    pub budget: &'t Cell<u32>,
}

impl Converter<'_> {
    /// A component function's type.
    pub fn func(&self, id: ComponentFuncTypeId) -> Result<FuncType, String> {
        let func = &self.types[id];
        if func.async_ {
            return Err(ASYNC.to_string());
        }
        let params = func.params.iter().map(|(_, ty)| self.value(*ty, 0));
        Ok(FuncType {
            params: params.collect::<Result<_, _>>()?,
            results: func
                .result
                .iter()
                .map(|ty| self.value(*ty, 0))
                .collect::<Result<_, _>>()?,
        })
    }

    /// A value type, `depth` types deep.
    fn value(&self, ty: ComponentValType, depth: u32) -> Result<Type, String> {
        let spent = self.budget.get().checked_sub(1).ok_or(TOO_MANY)?;
        self.budget.set(spent);
        if depth > MAX_DEPTH {
            return Err(format!(
                "it passes types nested too deep (more than {MAX_DEPTH})"
            ));
        }
        let id = match ty {
            ComponentValType::Primitive(primitive) => return primitive_type(primitive),
            ComponentValType::Type(id) => id,
        };
        let one = |ty: ComponentValType| self.value(ty, depth + 1);
        let boxed = |ty: ComponentValType| one(ty).map(Box::new);
        let maybe = |ty: Option<ComponentValType>| ty.map(boxed).transpose();
        let all = |types: &mut dyn Iterator<Item = &ComponentValType>| {
            types.map(|ty| one(*ty)).collect::<Result<Vec<_>, _>>()
        };
        Ok(match &self.types[id] {
            ComponentDefinedType::Primitive(primitive) => primitive_type(*primitive)?,
            ComponentDefinedType::Record(record) => Type::Record(all(&mut record.fields.values())?),
            ComponentDefinedType::Variant(variant) => Type::Variant(
                variant
                    .cases
                    .values()
                    .map(|case| case.ty.map(one).transpose())
                    .collect::<Result<_, _>>()?,
            ),
            ComponentDefinedType::List { element, .. } => Type::List(boxed(*element)?),
            ComponentDefinedType::Tuple(tuple) => Type::Tuple(all(&mut tuple.types.iter())?),
            ComponentDefinedType::Flags(flags) if flags.len() <= 32 => {
                Type::Flags(flags.len() as u32)
            }
            ComponentDefinedType::Flags(_) => {
                return Err(
                    "it passes flags of more than 32 members, which no WASI 0.2 \
                            interface has"
                        .to_string(),
                );
            }
            ComponentDefinedType::Enum(cases) => {
                Type::Enum(u32::try_from(cases.len()).map_err(|_| "an enum too large")?)
            }
            ComponentDefinedType::Option { ty, .. } => Type::Option(boxed(*ty)?),
            ComponentDefinedType::Result { ok, err, .. } => Type::Result {
                ok: maybe(*ok)?,
                err: maybe(*err)?,
            },
            ComponentDefinedType::Own(resource) => {
                Type::Own(host_resource(self.resources, resource.resource())?)
            }
            ComponentDefinedType::Borrow(resource) => {
                Type::Borrow(host_resource(self.resources, resource.resource())?)
            }
            ComponentDefinedType::Future { .. } | ComponentDefinedType::Stream { .. } => {
                return Err(ASYNC.to_string());
            }
            ComponentDefinedType::Map { .. } | ComponentDefinedType::FixedLengthList { .. } => {
                return Err(
                    "it passes a map or a fixed-length list, which WASI 0.2 has not".to_string(),
                );
            }
        })
    }
}

/// A primitive type.
fn primitive_type(primitive: PrimitiveValType) -> Result<Type, String> {
    Ok(match primitive {
        PrimitiveValType::Bool => Type::Bool,
        PrimitiveValType::S8 => Type::S8,
        PrimitiveValType::U8 => Type::U8,
        PrimitiveValType::S16 => Type::S16,
        PrimitiveValType::U16 => Type::U16,
        PrimitiveValType::S32 => Type::S32,
        PrimitiveValType::U32 => Type::U32,
        PrimitiveValType::S64 => Type::S64,
        PrimitiveValType::U64 => Type::U64,
        PrimitiveValType::F32 => Type::F32,
        PrimitiveValType::F64 => Type::F64,
        PrimitiveValType::Char => Type::Char,
        PrimitiveValType::String => Type::String,
        PrimitiveValType::ErrorContext => return Err(ASYNC.to_string()),
    })
}

/// The host resource wasmparser knows as `id`.
pub(super) fn host_resource(resources: &Resources, id: ResourceId) -> Result<Resource, String> {
    resources.get(&id).cloned().ok_or_else(|| {
        "it passes a handle of a resource it defines itself: this host only passes handles of \
         the resources of the WASI interfaces it provides"
            .to_string()
    })
}

/// Why component-model async is refused.
pub(super) const ASYNC: &str = "it uses component-model async (async functions, streams, \
                                futures or error contexts, WASI 0.3): this host runs WASI 0.2 \
                                components";

/// Why a component whose types are too many to convert is refused.
const TOO_MANY: &str = "its functions' types are too large to plan";
