//! An instance's linear memory and allocator, as the canonical ABI reaches them (the
//! `memory` and `realloc` canonical options of the function being lowered or lifted).

use super::errors::describe;
use super::state::{RunState, Stop};
use crate::abi;
use crate::plan::Options;
use js_sys::{Function, Uint8Array};
use wasm_bindgen::JsValue;

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

    /// A view of the whole memory, of at least `end` bytes if it has them (a view is kept for
    /// the run; the memory's growth replaces it).
    fn bytes(&self, end: u32) -> Result<(Uint8Array, u32), String> {
        let index = self
            .options
            .memory
            .ok_or("the function moves data through memory but has no memory option")?;
        self.state.memory(index, end)
    }

    fn realloc_function(&self) -> Result<Function, String> {
        let index = self
            .options
            .realloc
            .ok_or("the function allocates but has no realloc option")?;
        self.state.func(index)
    }
}

/// `offset..offset + len` if it lies inside the memory's `length` bytes.
fn inside(length: u32, offset: u32, len: usize) -> Result<(u32, u32), String> {
    u32::try_from(len)
        .ok()
        .and_then(|len| offset.checked_add(len))
        .filter(|&end| end <= length)
        .map(|end| (offset, end))
        .ok_or_else(|| format!("{len} bytes at {offset} lie outside the memory ({length} bytes)"))
}

impl abi::Memory for GuestMemory<'_> {
    fn read(&self, offset: u32, len: u32) -> Result<Vec<u8>, String> {
        let (bytes, length) = self.bytes(offset.saturating_add(len))?;
        let (start, end) = inside(length, offset, len as usize)?;
        Ok(bytes.subarray(start, end).to_vec())
    }

    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), String> {
        let end = u32::try_from(data.len()).map_or(u32::MAX, |len| offset.saturating_add(len));
        let (bytes, length) = self.bytes(end)?;
        let (start, end) = inside(length, offset, data.len())?;
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
