//! Properties over random types and values: every value round-trips, and no input an instance
//! can make (core values, memory contents) panics the host.

use super::memory::VecMemory;
use super::round_trip::{params_round_trip, result_round_trip};
use super::types::{borrow, own};
use crate::abi::{
    core_signature, export_results, import_args, CoreType, CoreVal, Direction, FuncType, Type, Val,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::strategy::Union;

fn any_type() -> BoxedStrategy<Type> {
    let leaf = prop_oneof![
        Just(Type::Bool),
        Just(Type::S8),
        Just(Type::U8),
        Just(Type::S16),
        Just(Type::U16),
        Just(Type::S32),
        Just(Type::U32),
        Just(Type::S64),
        Just(Type::U64),
        Just(Type::F32),
        Just(Type::F64),
        Just(Type::Char),
        Just(Type::String),
        (1u32..=32).prop_map(Type::Flags),
        (1u32..=300).prop_map(Type::Enum),
        Just(own("fields")),
        Just(borrow("fields")),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|elem| Type::List(Box::new(elem))),
            vec(inner.clone(), 1..4).prop_map(Type::Record),
            vec(inner.clone(), 1..4).prop_map(Type::Tuple),
            vec(option::of(inner.clone()), 1..5).prop_map(Type::Variant),
            inner.clone().prop_map(|some| Type::Option(Box::new(some))),
            (option::of(inner.clone()), option::of(inner)).prop_map(|(ok, err)| Type::Result {
                ok: ok.map(Box::new),
                err: err.map(Box::new),
            }),
        ]
    })
    .boxed()
}

fn boxed(val: Val) -> Option<Box<Val>> {
    Some(Box::new(val))
}

/// A value of `ty` (no NaN: the spec makes every NaN one NaN, and NaN is not equal to itself).
fn val_of(ty: &Type) -> BoxedStrategy<Val> {
    let float = any::<f64>().prop_filter("NaN", |f| !f.is_nan());
    match ty {
        Type::Bool => any::<bool>().prop_map(Val::Bool).boxed(),
        Type::S8 => any::<i8>().prop_map(Val::S8).boxed(),
        Type::U8 => any::<u8>().prop_map(Val::U8).boxed(),
        Type::S16 => any::<i16>().prop_map(Val::S16).boxed(),
        Type::U16 => any::<u16>().prop_map(Val::U16).boxed(),
        Type::S32 => any::<i32>().prop_map(Val::S32).boxed(),
        Type::U32 => any::<u32>().prop_map(Val::U32).boxed(),
        Type::S64 => any::<i64>().prop_map(Val::S64).boxed(),
        Type::U64 => any::<u64>().prop_map(Val::U64).boxed(),
        Type::F32 => any::<f32>()
            .prop_filter("NaN", |f| !f.is_nan())
            .prop_map(Val::F32)
            .boxed(),
        Type::F64 => float.prop_map(Val::F64).boxed(),
        Type::Char => any::<char>().prop_map(Val::Char).boxed(),
        Type::String => vec(any::<char>(), 0..8)
            .prop_map(|s| Val::String(s.into_iter().collect()))
            .boxed(),
        Type::List(elem) if **elem == Type::U8 => {
            vec(any::<u8>(), 0..16).prop_map(Val::Bytes).boxed()
        }
        Type::List(elem) => vec(val_of(elem), 0..4).prop_map(Val::List).boxed(),
        Type::Record(types) => types
            .iter()
            .map(val_of)
            .collect::<Vec<_>>()
            .prop_map(Val::Record)
            .boxed(),
        Type::Tuple(types) => types
            .iter()
            .map(val_of)
            .collect::<Vec<_>>()
            .prop_map(Val::Tuple)
            .boxed(),
        Type::Variant(cases) => Union::new(cases.iter().zip(0u32..).map(|(payload, case)| {
            match payload {
                Some(ty) => val_of(ty)
                    .prop_map(move |val| Val::Variant(case, boxed(val)))
                    .boxed(),
                None => Just(Val::Variant(case, None)).boxed(),
            }
        }))
        .boxed(),
        Type::Enum(count) => (0..*count).prop_map(Val::Enum).boxed(),
        Type::Option(some) => option::of(val_of(some))
            .prop_map(|val| Val::Option(val.map(Box::new)))
            .boxed(),
        Type::Result { ok, err } => {
            let side = |ty: &Option<Box<Type>>| match ty {
                Some(ty) => val_of(ty).prop_map(boxed).boxed(),
                None => Just(None).boxed(),
            };
            prop_oneof![
                side(ok).prop_map(|val| Val::Result(Ok(val))),
                side(err).prop_map(|val| Val::Result(Err(val))),
            ]
            .boxed()
        }
        Type::Flags(count) => {
            let mask = if *count >= 32 {
                u32::MAX
            } else {
                (1 << count) - 1
            };
            any::<u32>()
                .prop_map(move |bits| Val::Flags(bits & mask))
                .boxed()
        }
        Type::Own(_) | Type::Borrow(_) => any::<u32>().prop_map(Val::Handle).boxed(),
    }
}

/// Up to 20 parameters (enough to spill past 16 flat values) and values of them.
fn params() -> impl Strategy<Value = (Vec<Type>, Vec<Val>)> {
    vec(any_type(), 0..20).prop_flat_map(|types| {
        let vals: Vec<_> = types.iter().map(val_of).collect();
        (Just(types), vals)
    })
}

/// Core values of `types` made from `raw` (small numbers often, to land inside the memory).
fn core_of(types: &[CoreType], raw: &[i64]) -> Vec<CoreVal> {
    types
        .iter()
        .zip(raw.iter().cycle())
        .map(|(ty, &raw)| match ty {
            CoreType::I32 => CoreVal::I32(raw as i32),
            CoreType::I64 => CoreVal::I64(raw),
            CoreType::F32 => CoreVal::F32(f32::from_bits(raw as u32)),
            CoreType::F64 => CoreVal::F64(f64::from_bits(raw as u64)),
        })
        .collect()
}

/// Half the bytes zero and some more small, so that lengths, pointers and discriminants in
/// the memory are often plausible.
fn mostly_small(byte: u8) -> u8 {
    match byte {
        0..=127 => 0,
        128..=159 => byte & 7,
        _ => byte,
    }
}

proptest! {
    #[test]
    fn values_round_trip_as_parameters((types, vals) in params()) {
        params_round_trip(&types, &vals);
    }

    #[test]
    fn values_round_trip_as_results((types, vals) in params()) {
        if !types.is_empty() {
            result_round_trip(&Type::Tuple(types), &Val::Tuple(vals));
        }
    }

    #[test]
    fn any_memory_and_core_values_lift_or_fail(
        ty in any_type(),
        bytes in vec(any::<u8>(), 4096).prop_map(|bytes| bytes.into_iter().map(mostly_small).collect::<Vec<_>>()),
        raw in vec(prop_oneof![0i64..3, 0i64..4200, any::<i64>()], 1..40),
    ) {
        let mut memory = VecMemory::new(4096, 8);
        memory.poke(0, &bytes);
        let func = FuncType { params: vec![ty.clone()], results: vec![ty] };
        let params = core_of(&core_signature(&func, Direction::Lower).0, &raw);
        let _ = import_args(&func, &params, &mut memory);
        let results = core_of(&core_signature(&func, Direction::Lift).1, &raw);
        let _ = export_results(&func, &results, &mut memory);
    }
}
