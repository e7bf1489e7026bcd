//! Calling the lifted `wasi:http/incoming-handler.handle` of a run's instances: its arguments
//! lowered, the core call, its results lifted, then its `post-return`, if any.

use super::errors::describe;
use super::memory::GuestMemory;
use super::state::RunState;
use crate::abi::{self, CoreType, CoreVal, Direction, Val};
use js_sys::{Array, Reflect};
use wasm_bindgen::JsValue;

/// Why the handler's call did not return.
pub enum Thrown {
    /// The core call (or its post-return) threw this.
    Guest(String),
    /// Lowering or lifting failed (the host's side of the canonical ABI).
    Abi(String),
}

/// Calls the handler with the run's `incoming-request` and `response-outparam` handles.
pub fn call(state: &RunState, request: u32, response_out: u32) -> Result<(), Thrown> {
    let lift = &state.compiled.plan.handler;
    let func = state.func(lift.func).map_err(Thrown::Abi)?;
    let mut memory = GuestMemory::new(state, lift.options);
    let args = [Val::Handle(request), Val::Handle(response_out)];
    let params = abi::export_params(&lift.ty, &args, &mut memory).map_err(Thrown::Abi)?;
    let params: Array = params.iter().map(|&value| to_js(value)).collect();
    let returned = Reflect::apply(&func, &JsValue::UNDEFINED, &params)
        .map_err(|thrown| Thrown::Guest(describe(&thrown)))?;
    let (_, types) = abi::core_signature(&lift.ty, Direction::Lift);
    let results = match types.as_slice() {
        [] => Vec::new(),
        [ty] => vec![from_js(*ty, &returned).map_err(Thrown::Abi)?],
        _ => {
            return Err(Thrown::Abi(
                "a lifted function returns more than one flat value".into(),
            ))
        }
    };
    // The values are not needed (`handle` returns nothing): lifting checks them all the same.
    abi::export_results(&lift.ty, &results, &mut memory).map_err(Thrown::Abi)?;
    if let Some(post_return) = lift.options.post_return {
        let post_return = state.func(post_return).map_err(Thrown::Abi)?;
        let results: Array = results.iter().map(|&value| to_js(value)).collect();
        Reflect::apply(&post_return, &JsValue::UNDEFINED, &results)
            .map_err(|thrown| Thrown::Guest(describe(&thrown)))?;
    }
    Ok(())
}

/// A core value as JavaScript passes it to WebAssembly (an `i64` as a BigInt).
fn to_js(value: CoreVal) -> JsValue {
    match value {
        CoreVal::I32(v) => v.into(),
        CoreVal::I64(v) => v.into(),
        CoreVal::F32(v) => v.into(),
        CoreVal::F64(v) => v.into(),
    }
}

/// A core value WebAssembly returned to JavaScript.
fn from_js(ty: CoreType, value: &JsValue) -> Result<CoreVal, String> {
    let wrong = || format!("the handler returned {value:?} for an {ty:?}");
    Ok(match ty {
        CoreType::I32 => CoreVal::I32(value.as_f64().ok_or_else(wrong)? as i32),
        CoreType::I64 => CoreVal::I64(i64::try_from(value.clone()).map_err(|_| wrong())?),
        CoreType::F32 => CoreVal::F32(value.as_f64().ok_or_else(wrong)? as f32),
        CoreType::F64 => CoreVal::F64(value.as_f64().ok_or_else(wrong)?),
    })
}
