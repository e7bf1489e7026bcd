//! wasmparser's resolved component types, as [`abi::Type`](crate::abi::Type)s: resources named by
//! the imported interface that defines them, anything this host cannot pass refused.

use crate::abi::{FuncType, Resource, Type};
use std::collections::HashMap;
use wasmparser::component_types::{
    ComponentDefinedType, ComponentFuncTypeId, ComponentValType, ResourceId,
};
use wasmparser::types::Types;
use wasmparser::PrimitiveValType;

/// The host's resources a component's types can name, by wasmparser's identity of each.
pub(super) type Resources = HashMap<ResourceId, Resource>;

/// A component function's type.
pub(super) fn func_type(
    types: &Types,
    resources: &Resources,
    id: ComponentFuncTypeId,
) -> Result<FuncType, String> {
    let func = &types[id];
    if func.async_ {
        return Err(ASYNC.to_string());
    }
    let params = func.params.iter();
    Ok(FuncType {
        params: params
            .map(|(_, ty)| value_type(types, resources, *ty))
            .collect::<Result<_, _>>()?,
        results: func
            .result
            .iter()
            .map(|ty| value_type(types, resources, *ty))
            .collect::<Result<_, _>>()?,
    })
}

/// A value type.
fn value_type(types: &Types, resources: &Resources, ty: ComponentValType) -> Result<Type, String> {
    let id = match ty {
        ComponentValType::Primitive(primitive) => return primitive_type(primitive),
        ComponentValType::Type(id) => id,
    };
    let of = |ty: ComponentValType| value_type(types, resources, ty).map(Box::new);
    let maybe = |ty: Option<ComponentValType>| ty.map(of).transpose();
    Ok(match &types[id] {
        ComponentDefinedType::Primitive(primitive) => primitive_type(*primitive)?,
        ComponentDefinedType::Record(record) => Type::Record(
            record
                .fields
                .values()
                .map(|ty| value_type(types, resources, *ty))
                .collect::<Result<_, _>>()?,
        ),
        ComponentDefinedType::Variant(variant) => Type::Variant(
            variant
                .cases
                .values()
                .map(|case| {
                    case.ty
                        .map(|ty| value_type(types, resources, ty))
                        .transpose()
                })
                .collect::<Result<_, _>>()?,
        ),
        ComponentDefinedType::List { element, .. } => Type::List(of(*element)?),
        ComponentDefinedType::Tuple(tuple) => Type::Tuple(
            tuple
                .types
                .iter()
                .map(|ty| value_type(types, resources, *ty))
                .collect::<Result<_, _>>()?,
        ),
        ComponentDefinedType::Flags(flags) if flags.len() <= 32 => Type::Flags(flags.len() as u32),
        ComponentDefinedType::Flags(_) => {
            return Err("it passes flags of more than 32 members, \
                                                      which no WASI 0.2 interface has"
                .to_string())
        }
        ComponentDefinedType::Enum(cases) => {
            Type::Enum(u32::try_from(cases.len()).map_err(|_| "an enum too large")?)
        }
        ComponentDefinedType::Option { ty, .. } => Type::Option(of(*ty)?),
        ComponentDefinedType::Result { ok, err, .. } => Type::Result {
            ok: maybe(*ok)?,
            err: maybe(*err)?,
        },
        ComponentDefinedType::Own(resource) => {
            Type::Own(host_resource(resources, resource.resource())?)
        }
        ComponentDefinedType::Borrow(resource) => {
            Type::Borrow(host_resource(resources, resource.resource())?)
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
