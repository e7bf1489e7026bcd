//! The adapter in a real engine: each core type crosses raw, in its slot, and a lowered
//! import of the most parameters the canonical ABI gives one (16 flat values and a return
//! pointer) keeps its exact signature.

use super::adapter::{self, HOST_CALL, HOST_MODULE, SLOTS_EXPORT, SLOT_BYTES};
use super::bridge::{read_slots, write_slot};
use crate::abi::{CoreVal, FuncType, Type};
use crate::plan::{CoreExport, CoreFunc, Lift, Options, Plan};
use js_sys::{Array, Function, Object, Reflect, Uint8Array, WebAssembly};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

/// A plan whose core functions are lowered imports of these types (and one export).
fn plan(types: Vec<FuncType>) -> Plan {
    let mut funcs = vec![CoreFunc::Export(CoreExport {
        instance: 0,
        name: "unused".into(),
    })];
    funcs.extend(types.into_iter().map(|ty| CoreFunc::Lower {
        interface: "test:types/adapter".into(),
        name: "f".into(),
        ty,
        options: Options::default(),
    }));
    Plan {
        modules: Vec::new(),
        instances: Vec::new(),
        funcs,
        memories: Vec::new(),
        tables: Vec::new(),
        globals: Vec::new(),
        handler: Lift {
            func: 0,
            ty: FuncType {
                params: Vec::new(),
                results: Vec::new(),
            },
            options: Options::default(),
        },
    }
}

/// The host calls made: (adapter function, parameters).
type Calls = Rc<RefCell<Vec<(u32, Vec<CoreVal>)>>>;

/// The adapter of `plan` instantiated, its host call answering `result` (into slot 0) and
/// keeping what it was called with: (adapter function, parameters).
struct Instantiated {
    exports: Object,
    calls: Calls,
    _call: Closure<dyn Fn(u32) -> Result<(), JsValue>>,
}

fn instantiate(plan: &Plan, result: Option<CoreVal>) -> Instantiated {
    let adapter = adapter::generate(plan).expect("an adapter");
    let module = WebAssembly::Module::new(&Uint8Array::from(adapter.bytes.as_slice()))
        .expect("the adapter is valid");
    let slots: Rc<RefCell<Option<Uint8Array>>> = Rc::default();
    let calls: Calls = Rc::default();
    let call = {
        let (slots, calls) = (Rc::clone(&slots), Rc::clone(&calls));
        let entries = adapter.entries.clone();
        Closure::<dyn Fn(u32) -> Result<(), JsValue>>::new(move |index: u32| {
            let slots = slots.borrow();
            let slots = slots.as_ref().expect("slots");
            let types = &entries[index as usize].params;
            let params = read_slots(&slots.subarray(0, types.len() as u32 * SLOT_BYTES), types);
            calls.borrow_mut().push((index, params));
            if let Some(result) = result {
                write_slot(&slots.subarray(0, SLOT_BYTES), result);
            }
            Ok(())
        })
    };
    let host = Object::new();
    Reflect::set(&host, &HOST_CALL.into(), call.as_ref()).unwrap();
    let imports = Object::new();
    Reflect::set(&imports, &HOST_MODULE.into(), &host).unwrap();
    let exports = WebAssembly::Instance::new(&module, &imports)
        .expect("the adapter instantiates")
        .exports();
    let memory: WebAssembly::Memory = Reflect::get(&exports, &SLOTS_EXPORT.into())
        .unwrap()
        .unchecked_into();
    *slots.borrow_mut() = Some(Uint8Array::new(&memory.buffer()));
    Instantiated {
        exports,
        calls,
        _call: call,
    }
}

fn function(exports: &Object, index: u32) -> Function {
    Reflect::get(exports, &adapter::export_name(index).into())
        .unwrap()
        .unchecked_into()
}

#[wasm_bindgen_test]
fn each_core_type_crosses_raw() {
    let ty = FuncType {
        params: vec![Type::F32, Type::F64, Type::S64, Type::U32, Type::U64],
        results: vec![Type::S64],
    };
    let adapter = instantiate(&plan(vec![ty]), Some(CoreVal::I64(-(1 << 60) - 3)));
    let f = function(&adapter.exports, 0);
    assert_eq!(f.length(), 5);
    // Past 2^53, where a JavaScript number would lose bits.
    let big = (1i64 << 62) + 1;
    let args = Array::of5(
        &1.5f32.into(),
        &(-0.1f64).into(),
        &JsValue::from(big),
        &JsValue::from(-7),
        &JsValue::from(-1i64),
    );
    let returned = Reflect::apply(&f, &JsValue::UNDEFINED, &args).unwrap();
    assert_eq!(i64::try_from(returned).unwrap(), -(1 << 60) - 3);
    let calls = adapter.calls.borrow();
    assert_eq!(
        *calls,
        [(
            0,
            vec![
                CoreVal::F32(1.5),
                CoreVal::F64(-0.1),
                CoreVal::I64(big),
                CoreVal::I32(-7),
                CoreVal::I64(-1),
            ]
        )]
    );
}

#[wasm_bindgen_test]
fn the_widest_lowered_import_keeps_its_signature() {
    // 16 flat parameters, and results that do not fit: a return pointer is the 17th.
    let ty = FuncType {
        params: vec![Type::U32; 16],
        results: vec![Type::Tuple(vec![Type::U64, Type::U64])],
    };
    let resource = crate::abi::Resource {
        interface: "wasi:io/poll".into(),
        name: "pollable".into(),
    };
    let mut plan = plan(vec![ty]);
    plan.funcs.push(CoreFunc::ResourceDrop(resource));
    let adapter = instantiate(&plan, None);
    let widest = function(&adapter.exports, 0);
    assert_eq!(widest.length(), 17);
    let args: Array = (0..17).map(|i| JsValue::from(i * 1000)).collect();
    let returned = Reflect::apply(&widest, &JsValue::UNDEFINED, &args).unwrap();
    assert!(returned.is_undefined());
    let drop = function(&adapter.exports, 1);
    assert_eq!(drop.length(), 1);
    drop.call1(&JsValue::UNDEFINED, &JsValue::from(42)).unwrap();
    let calls = adapter.calls.borrow();
    let widest_params: Vec<CoreVal> = (0..17).map(|i| CoreVal::I32(i * 1000)).collect();
    assert_eq!(*calls, [(0, widest_params), (1, vec![CoreVal::I32(42)])]);
}
