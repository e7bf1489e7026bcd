//! Property access on the objects a run reads and makes many times (its instances' exports
//! objects, and import objects it creates, all ordinary objects of data properties), which
//! cannot throw: bound without the catching wrapper of `js_sys::Reflect`, whose try block and
//! `apply` cost more than the access itself.

use js_sys::Object;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `Reflect.get(target, key)`.
    #[wasm_bindgen(js_namespace = Reflect, js_name = get)]
    pub fn get(target: &Object, key: &JsValue) -> JsValue;

    /// `Reflect.set(target, key, value)`.
    #[wasm_bindgen(js_namespace = Reflect, js_name = set)]
    pub fn set(target: &Object, key: &JsValue, value: &JsValue) -> bool;
}
