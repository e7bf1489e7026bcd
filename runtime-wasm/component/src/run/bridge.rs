//! The host side of the adapter's `call(index)`: the parameters read from the slots, lifted,
//! given to the session, and its results lowered into slot 0 (see `adapter`).

use super::adapter::SLOT_BYTES;
use super::errors::error;
use super::memory::GuestMemory;
use super::state::{RunState, Stop};
use crate::abi::{self, CoreType, CoreVal};
use crate::host::{Fault, Host};
use crate::plan::CoreFunc;
use wasm_bindgen::JsValue;

/// Serves the call of adapter function `index`. An `Err` is thrown through the instance's
/// frames back to the host's call into it, where `state.stop` says why.
pub fn call(state: &RunState, index: u32) -> Result<(), JsValue> {
    // An instance that caught the exception of an earlier stop gets no further.
    let stopped = state.stop.borrow().is_some();
    let served = if stopped { Ok(()) } else { serve(state, index) };
    if let Err(stop) = served {
        state.stop(stop);
    }
    if state.stop.borrow().is_some() {
        return Err(error("ValorStop", "the host stopped the component"));
    }
    Ok(())
}

fn serve(state: &RunState, index: u32) -> Result<(), Stop> {
    let trap = |why: String| Stop::Host(Fault::Trap(why));
    let compiled = &state.compiled;
    let entry = compiled
        .adapter
        .entries
        .get(index as usize)
        .ok_or_else(|| trap(format!("no adapter function {index}")))?;
    let adapter = &compiled.adapter_instance;
    let params = read_slots(&adapter.params[index as usize], &entry.params);
    match &compiled.plan.funcs[entry.func as usize] {
        CoreFunc::Lower { ty, options, .. } => {
            let host = compiled.host_funcs[index as usize]
                .ok_or_else(|| trap("a lowered import that was not resolved".into()))?;
            let mut memory = GuestMemory::new(state, *options);
            let args = abi::import_args(ty, &params, &mut memory).map_err(trap)?;
            // Borrowed for the call only: lowering the results may call the instance's realloc.
            let results = state
                .session
                .borrow_mut()
                .call(host, args)
                .map_err(Stop::Host)?;
            let lowered = abi::import_results(ty, &results, &params, &mut memory).map_err(trap)?;
            if let Some(&result) = lowered.first() {
                write_slot(&adapter.result, result);
            }
            Ok(())
        }
        CoreFunc::ResourceDrop(resource) => {
            let handle = match params.first() {
                Some(&CoreVal::I32(handle)) => handle as u32,
                _ => return Err(trap("a resource drop without its handle".into())),
            };
            state
                .session
                .borrow_mut()
                .drop(resource, handle)
                .map_err(Stop::Host)
        }
        CoreFunc::Export(_) => Err(trap(format!("adapter function {index} adapts nothing"))),
    }
}

/// The parameters the adapter function stored, one slot each, little-endian raw bits: `slots`
/// is a view of the slots that holds exactly them.
pub(super) fn read_slots(slots: &js_sys::Uint8Array, types: &[CoreType]) -> Vec<CoreVal> {
    let mut bytes = vec![0; types.len() * SLOT_BYTES as usize];
    slots.copy_to(&mut bytes);
    types
        .iter()
        .zip(bytes.chunks_exact(SLOT_BYTES as usize))
        .map(|(ty, slot)| {
            let low = u32::from_le_bytes([slot[0], slot[1], slot[2], slot[3]]);
            let all = u64::from_le_bytes(slot.try_into().unwrap_or_default());
            match ty {
                CoreType::I32 => CoreVal::I32(low as i32),
                CoreType::I64 => CoreVal::I64(all as i64),
                CoreType::F32 => CoreVal::F32(f32::from_bits(low)),
                CoreType::F64 => CoreVal::F64(f64::from_bits(all)),
            }
        })
        .collect()
}

/// Stores the result in slot 0 (`slot`, a view of it), where the adapter function loads it from.
pub(super) fn write_slot(slot: &js_sys::Uint8Array, value: CoreVal) {
    let bytes = match value {
        CoreVal::I32(v) => u64::from(v as u32),
        CoreVal::I64(v) => v as u64,
        CoreVal::F32(v) => u64::from(v.to_bits()),
        CoreVal::F64(v) => v.to_bits(),
    }
    .to_le_bytes();
    slot.copy_from(&bytes);
}
