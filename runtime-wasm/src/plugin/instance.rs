//! One live instance of a plugin module, and the call sequence of `vlugin::abi` on it.

use crate::sys::{self, PluginExports};
use js_sys::WebAssembly;
use std::cell::RefCell;
use std::rc::Rc;
use vlugin::abi;
use wasm_bindgen::prelude::*;

/// Why an instance produced no response bytes. After a `Trap` the instance is unusable.
#[derive(Debug)]
pub enum Fault {
    /// The instance trapped or threw; `panic` holds the message if it was a Rust panic.
    Trap {
        panic: Option<String>,
        error: String,
    },
    /// The handler returned pending and nothing can wake it.
    Stalled,
    /// The plugin pointed outside its memory.
    BadFrame(String),
}

/// State the host functions share with the instance that imports them.
#[derive(Default)]
struct Host {
    memory: RefCell<Option<WebAssembly::Memory>>,
    panic_message: RefCell<Option<String>>,
}

/// The import object for one instance, with the closures it references kept alive.
pub struct Imports {
    object: js_sys::Object,
    host: Rc<Host>,
    _panic: Closure<dyn Fn(u32, u32)>,
}

impl Imports {
    /// Builds the functions of `abi::IMPORT_MODULE` for a new instance.
    pub fn new() -> Self {
        let host = Rc::new(Host::default());
        let panic = {
            let host = Rc::clone(&host);
            Closure::<dyn Fn(u32, u32)>::new(move |ptr, len| {
                let message = read_memory(&host, ptr, len)
                    .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
                *host.panic_message.borrow_mut() = message;
            })
        };
        let functions = js_sys::Object::new();
        set(&functions, abi::imports::PANIC, panic.as_ref());
        let object = js_sys::Object::new();
        set(&object, abi::IMPORT_MODULE, &functions);
        Self {
            object,
            host,
            _panic: panic,
        }
    }

    /// The object to pass to `WebAssembly.instantiate*`.
    pub fn object(&self) -> &js_sys::Object {
        &self.object
    }
}

fn out_of_bounds(ptr: u32, len: u32) -> Fault {
    Fault::BadFrame(format!(
        "{len} bytes at address {ptr} lie outside its memory"
    ))
}

fn set(target: &js_sys::Object, key: &str, value: &JsValue) {
    // Defining a property on a fresh plain object cannot fail.
    let _ = js_sys::Reflect::set(target, &JsValue::from_str(key), value);
}

fn read_memory(host: &Host, ptr: u32, len: u32) -> Option<Vec<u8>> {
    let memory = host.memory.borrow();
    let buffer = js_sys::Uint8Array::new(&memory.as_ref()?.buffer());
    let end = ptr.checked_add(len).filter(|&end| end <= buffer.length())?;
    Some(buffer.subarray(ptr, end).to_vec())
}

/// A plugin instance that passed the ABI checks and was initialised.
pub struct Instance {
    exports: PluginExports,
    imports: Imports,
}

impl Instance {
    /// Checks a fresh instance against the ABI and initialises it.
    pub fn new(instance: &WebAssembly::Instance, imports: Imports) -> Result<Self, String> {
        let exports = instance.exports();
        check_exports(&exports)?;
        let exports: PluginExports = exports.unchecked_into();
        *imports.host.memory.borrow_mut() = Some(exports.memory());
        let this = Self { exports, imports };
        this.exports
            .init()
            .map_err(|error| this.describe_trap("valor_init", &error))?;
        Ok(this)
    }

    /// Runs one request through the plugin: encoded request in, encoded response out.
    pub fn call(&self, request: &[u8]) -> Result<Vec<u8>, Fault> {
        let trap = |error: JsValue| self.trap(error);
        let len = u32::try_from(request.len()).map_err(|_| Fault::Trap {
            panic: None,
            error: "the request is larger than 4 GiB".into(),
        })?;
        let ptr = self.exports.alloc(len).map_err(trap)?;
        self.memory_view(ptr, len)?.copy_from(request);
        let task = self.exports.start(ptr, len).map_err(trap)?;
        let frame = self.exports.poll(task).map_err(trap)?;
        let response = if frame == abi::PENDING {
            Err(Fault::Stalled)
        } else {
            self.read_frame(frame)
        };
        self.exports.drop_task(task).map_err(trap)?;
        response
    }

    /// Copies out a response frame: a little-endian `u32` length, then the bytes.
    fn read_frame(&self, frame: u32) -> Result<Vec<u8>, Fault> {
        let mut len = [0; 4];
        self.memory_view(frame, 4)?.copy_to(&mut len);
        let body = frame
            .checked_add(4)
            .ok_or_else(|| out_of_bounds(frame, 4))?;
        Ok(self.memory_view(body, u32::from_le_bytes(len))?.to_vec())
    }

    /// A view of plugin memory, taken afresh each time as growth detaches the old buffer, and
    /// checked first: an out-of-range view would throw through the runtime.
    fn memory_view(&self, ptr: u32, len: u32) -> Result<js_sys::Uint8Array, Fault> {
        let buffer: js_sys::ArrayBuffer = self.exports.memory().buffer().unchecked_into();
        let size = buffer.byte_length();
        match ptr.checked_add(len) {
            Some(end) if end <= size => Ok(js_sys::Uint8Array::new_with_byte_offset_and_length(
                &buffer, ptr, len,
            )),
            _ => Err(out_of_bounds(ptr, len)),
        }
    }

    fn trap(&self, error: JsValue) -> Fault {
        Fault::Trap {
            panic: self.imports.host.panic_message.borrow_mut().take(),
            error: sys::describe(&error),
        }
    }

    fn describe_trap(&self, call: &str, error: &JsValue) -> String {
        match self.trap(error.clone()) {
            Fault::Trap {
                panic: Some(message),
                ..
            } => format!("{call} panicked: {message}"),
            Fault::Trap { error, .. } => format!("{call} failed: {error}"),
            Fault::Stalled | Fault::BadFrame(_) => unreachable!("trap() only builds Fault::Trap"),
        }
    }
}

/// Refuses modules that are not plugins of this ABI version, saying what is wrong.
fn check_exports(exports: &js_sys::Object) -> Result<(), String> {
    let get = |name: &str| js_sys::Reflect::get(exports, &JsValue::from_str(name)).ok();
    let version = get(abi::exports::ABI_VERSION)
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or_else(|| {
            format!(
                "the module is not a Valor plugin: it does not export `{}` \
                 (build it with the vlugin SDK and #[vlugin])",
                abi::exports::ABI_VERSION
            )
        })?
        .call0(&JsValue::UNDEFINED)
        .map_err(|e| {
            format!(
                "`{}` failed: {}",
                abi::exports::ABI_VERSION,
                sys::describe(&e)
            )
        })?;
    let version = version.as_f64().unwrap_or(f64::NAN);
    if version != f64::from(abi::ABI_VERSION) {
        return Err(format!(
            "the plugin was built for Valor plugin ABI version {version}, but this runtime \
             speaks version {}: rebuild it with a vlugin release for ABI version {}",
            abi::ABI_VERSION,
            abi::ABI_VERSION
        ));
    }
    let missing: Vec<&str> = abi::exports::REQUIRED
        .into_iter()
        .filter(|name| get(name).is_none_or(|value| value.is_undefined()))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the plugin does not export {} (build it with #[vlugin])",
            missing.join(", ")
        ))
    }
}
