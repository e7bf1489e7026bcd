//! The four crossings of a call: a lowered import's arguments (lifted) and results (lowered),
//! a lifted export's arguments (lowered) and results (lifted).

use super::flat::{core_signature, flatten_all, Direction, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use super::layout::{fields_align, fields_size};
use super::lift::{Flat, Lifter};
use super::lower::{lower, store_tuple};
use super::memory::{allocate, Memory};
use super::{CoreType, CoreVal, FuncType, Type, Val};

/// A lowered import's arguments, lifted from the core parameters the instance passed (when
/// they flatten to more than [`MAX_FLAT_PARAMS`], `params[0]` points to them in memory).
/// `params` are all the core function's parameters, the return pointer included.
pub fn import_args(
    ty: &FuncType,
    params: &[CoreVal],
    memory: &mut dyn Memory,
) -> Result<Vec<Val>, String> {
    check_core(
        params,
        &core_signature(ty, Direction::Lower).0,
        "parameters",
    )?;
    let mut lifter = Lifter::new(memory);
    if spills(&ty.params, MAX_FLAT_PARAMS) {
        lifter.load_tuple(pointer(params.first())?, &ty.params)
    } else {
        lift_flat(&mut lifter, params, &ty.params)
    }
}

/// A lowered import's results, lowered: the core results to return (none or one); results that
/// flatten to more than one value are stored at the return pointer, the last of `params`, and
/// nothing is returned.
pub fn import_results(
    ty: &FuncType,
    results: &[Val],
    params: &[CoreVal],
    memory: &mut dyn Memory,
) -> Result<Vec<CoreVal>, String> {
    check_count(results, &ty.results)?;
    if spills(&ty.results, MAX_FLAT_RESULTS) {
        store_tuple(memory, results, &ty.results, pointer(params.last())?)?;
        Ok(Vec::new())
    } else {
        lower_flat(memory, results, &ty.results)
    }
}

/// A lifted export's arguments, lowered into core parameters (strings and lists allocated with
/// `memory.realloc`; more than [`MAX_FLAT_PARAMS`] flat values: stored in an allocated tuple
/// passed by pointer).
pub fn export_params(
    ty: &FuncType,
    args: &[Val],
    memory: &mut dyn Memory,
) -> Result<Vec<CoreVal>, String> {
    check_count(args, &ty.params)?;
    if spills(&ty.params, MAX_FLAT_PARAMS) {
        let ptr = allocate(memory, fields_align(&ty.params), fields_size(&ty.params))?;
        store_tuple(memory, args, &ty.params, ptr)?;
        Ok(vec![CoreVal::I32(ptr as i32)])
    } else {
        lower_flat(memory, args, &ty.params)
    }
}

/// A lifted export's results, lifted from what its core function returned (a pointer to them
/// when they flatten to more than [`MAX_FLAT_RESULTS`]).
pub fn export_results(
    ty: &FuncType,
    results: &[CoreVal],
    memory: &mut dyn Memory,
) -> Result<Vec<Val>, String> {
    check_core(results, &core_signature(ty, Direction::Lift).1, "results")?;
    let mut lifter = Lifter::new(memory);
    if spills(&ty.results, MAX_FLAT_RESULTS) {
        lifter.load_tuple(pointer(results.first())?, &ty.results)
    } else {
        lift_flat(&mut lifter, results, &ty.results)
    }
}

/// Whether values of `types` flatten to more than `max` core values (and so go through
/// memory).
fn spills(types: &[Type], max: usize) -> bool {
    flatten_all(types).len() > max
}

fn lift_flat(
    lifter: &mut Lifter<'_>,
    core: &[CoreVal],
    types: &[Type],
) -> Result<Vec<Val>, String> {
    let mut flat = Flat::new(core);
    types.iter().map(|ty| lifter.lift(&mut flat, ty)).collect()
}

fn lower_flat(
    memory: &mut dyn Memory,
    vals: &[Val],
    types: &[Type],
) -> Result<Vec<CoreVal>, String> {
    let mut flat = Vec::new();
    for (val, ty) in vals.iter().zip(types) {
        lower(memory, val, ty, &mut flat)?;
    }
    Ok(flat)
}

/// The core values a call passed must be of its core signature.
fn check_core(core: &[CoreVal], signature: &[CoreType], what: &str) -> Result<(), String> {
    if core
        .iter()
        .map(|val| val.ty())
        .eq(signature.iter().copied())
    {
        Ok(())
    } else {
        Err(format!(
            "core {what} {core:?} are not of the core signature {signature:?}"
        ))
    }
}

/// As many values as types.
fn check_count(vals: &[Val], types: &[Type]) -> Result<(), String> {
    if vals.len() == types.len() {
        Ok(())
    } else {
        Err(format!("{} values for {} types", vals.len(), types.len()))
    }
}

/// A pointer passed as a core value.
fn pointer(val: Option<&CoreVal>) -> Result<u32, String> {
    match val {
        Some(CoreVal::I32(ptr)) => Ok(*ptr as u32),
        other => Err(format!("{other:?} is not a pointer")),
    }
}
