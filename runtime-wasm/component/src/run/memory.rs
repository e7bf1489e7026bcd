//! An instance's linear memory and allocator, as the canonical ABI reaches them (the
//! `memory` and `realloc` canonical options of the function being lowered or lifted).

use super::errors::describe;
use super::state::{RunState, Stop};
use crate::abi;
use crate::plan::{CoreFunc, Options};
use js_sys::{Function, Uint8Array, WebAssembly};
use wasm_bindgen::{JsCast, JsValue};

/// The memory and `realloc` of one lowered or lifted function's options.
pub struct GuestMemory<'a> {
    state: &'a RunState,
    options: Options,
}

impl<'a> GuestMemory<'a> {
    /// The memory named by `options`, in the instances of `state`.
    pub fn new(state: &'a RunState, options: Options) -> Self {
        Self { state, options }
    }

    /// A view of the whole memory, made for each access: growing the memory replaces its
    /// buffer, and a view of the old one is empty.
    fn bytes(&self) -> Result<Uint8Array, String> {
        let index = self
            .options
            .memory
            .ok_or("the function moves data through memory but has no memory option")?;
        let export = self
            .state
            .compiled
            .plan
            .memories
            .get(index as usize)
            .ok_or_else(|| format!("there is no core memory {index}"))?;
        let memory = self
            .state
            .export(export)?
            .dyn_into::<WebAssembly::Memory>()
            .map_err(|_| format!("`{}` is not a memory", export.name))?;
        Ok(Uint8Array::new(&memory.buffer()))
    }

    fn realloc_function(&self) -> Result<Function, String> {
        let index = self
            .options
            .realloc
            .ok_or("the function allocates but has no realloc option")?;
        let func = self.state.compiled.plan.funcs.get(index as usize);
        let Some(CoreFunc::Export(export)) = func else {
            return Err(format!("core function {index} is not an instance's export"));
        };
        self.state
            .export(export)?
            .dyn_into::<Function>()
            .map_err(|_| format!("`{}` is not a function", export.name))
    }
}

/// `offset..offset + len` if it lies inside `bytes`.
fn inside(bytes: &Uint8Array, offset: u32, len: usize) -> Result<(u32, u32), String> {
    u32::try_from(len)
        .ok()
        .and_then(|len| offset.checked_add(len))
        .filter(|&end| end <= bytes.length())
        .map(|end| (offset, end))
        .ok_or_else(|| {
            format!(
                "{len} bytes at {offset} lie outside the memory ({} bytes)",
                bytes.length()
            )
        })
}

impl abi::Memory for GuestMemory<'_> {
    fn read(&self, offset: u32, len: u32) -> Result<Vec<u8>, String> {
        let bytes = self.bytes()?;
        let (start, end) = inside(&bytes, offset, len as usize)?;
        Ok(bytes.subarray(start, end).to_vec())
    }

    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), String> {
        let bytes = self.bytes()?;
        let (start, end) = inside(&bytes, offset, data.len())?;
        bytes.subarray(start, end).copy_from(data);
        Ok(())
    }

    fn realloc(
        &mut self,
        old_ptr: u32,
        old_size: u32,
        align: u32,
        new_size: u32,
    ) -> Result<u32, String> {
        let realloc = self.realloc_function()?;
        // Arguments are i32 in the core signature: JavaScript numbers converted with ToInt32.
        let args = js_sys::Array::of4(
            &old_ptr.into(),
            &old_size.into(),
            &align.into(),
            &new_size.into(),
        );
        // The meter refuels only the plugin ABI's exports and its start export, never
        // `cabi_realloc`: this call runs on the fuel left to the handler that made the host
        // call, with nothing to save and restore.
        match js_sys::Reflect::apply(&realloc, &JsValue::UNDEFINED, &args) {
            Ok(ptr) => Ok(ptr.as_f64().unwrap_or_default() as i32 as u32),
            Err(thrown) => {
                let why = describe(&thrown);
                self.state.stop(Stop::Guest(why.clone()));
                Err(format!("the instance's realloc failed: {why}"))
            }
        }
    }
}
