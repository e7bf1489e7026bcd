//! Code generation: the user's function, unchanged, plus the plugin's exports.

use crate::parse::{Handler, Options};
use crate::reads::reads_request;
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ReturnType};
use valor_abi::exports;

/// The handler, unchanged, followed by the plugin's exports, each calling `vlugin::__private`.
pub fn expand(handler: &Handler, options: &Options) -> TokenStream {
    let function = &handler.function;
    let sig = &function.sig;
    let ident = &sig.ident;

    // Both kinds of handler become `|request| future`, with the user's spans on the tokens: a
    // parameter that is not a `Request` is reported on its type, and a return type that is not
    // `IntoResponse` on that return type, rather than on `#[vlugin]`.
    let param_span = match sig.inputs.first() {
        Some(FnArg::Typed(param)) => param.ty.span(),
        _ => ident.span(),
    };
    let output_span = match &sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => ident.span(),
    };
    let request = quote_spanned!(param_span=> request);
    let mut future = quote_spanned!(output_span=> #ident(#request));
    if sig.asyncness.is_none() {
        future = quote_spanned!(output_span=> ::core::future::ready(#future));
    }
    let handler = quote_spanned!(output_span=> |request| #future);
    let start = if reads_request(function) {
        quote!(start)
    } else {
        quote!(start_unread)
    };
    // rustc reports an unmet `F::Output: IntoResponse` on the whole call, hence its span too.
    let start = quote_spanned!(output_span=> ::vlugin::__private::#start(ptr, len, #handler));

    // A second `#[vlugin]` in the same module redefines this name: rustc's E0428 on the second
    // attribute, rather than a linker error about duplicate `valor_*` symbols.
    let marker = quote_spanned! {Span::call_site()=>
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        struct only_one_vlugin_handler_per_crate;
    };

    // The export names come from the ABI crate, so the macro and the hosts cannot disagree.
    let valor_abi_version = exports::ABI_VERSION;
    let valor_init = exports::INIT;
    let valor_alloc = exports::ALLOC;
    let valor_start = exports::START;
    let valor_poll = exports::POLL;
    let valor_drop = exports::DROP;
    let valor_complete = exports::COMPLETE;
    let valor_woken = exports::WOKEN;
    let valor_native_bind = valor_abi::native::BIND;
    let init = options
        .init
        .as_ref()
        .map(|init| quote!(::vlugin::__private::run_init(#init);));

    let wasm = quote! {
        #[unsafe(export_name = #valor_abi_version)]
        extern "C" fn valor_abi_version() -> u32 {
            ::vlugin::__private::ABI_VERSION
        }

        #[unsafe(export_name = #valor_init)]
        extern "C" fn valor_init(ptr: u32, len: u32) {
            // SAFETY: the runtime passes the config it wrote into memory from
            // `valor_alloc(len)`; it does not touch it afterwards.
            unsafe { ::vlugin::__private::init(ptr as usize as *mut u8, len) }
            #init
        }

        #[unsafe(export_name = #valor_alloc)]
        extern "C" fn valor_alloc(len: u32) -> u32 {
            ::vlugin::__private::alloc(len) as usize as u32
        }

        // The closure carries the user's spans, so clippy takes it for the user's code.
        #[allow(clippy::redundant_closure)]
        #[unsafe(export_name = #valor_start)]
        extern "C" fn valor_start(ptr: u32, len: u32) -> u32 {
            let ptr = ptr as usize as *mut u8;
            // SAFETY: the runtime passes memory it got from `valor_alloc(len)` and has
            // written the request into; it does not touch it afterwards.
            unsafe { #start }
        }

        #[unsafe(export_name = #valor_poll)]
        extern "C" fn valor_poll(task: u32) -> u32 {
            ::vlugin::__private::poll(task) as usize as u32
        }

        #[unsafe(export_name = #valor_drop)]
        extern "C" fn valor_drop(task: u32) {
            ::vlugin::__private::drop_task(task)
        }

        #[unsafe(export_name = #valor_complete)]
        extern "C" fn valor_complete(op: u32, ptr: u32, len: u32) {
            // SAFETY: as for `valor_init`, with the operation's result.
            unsafe { ::vlugin::__private::complete(op, ptr as usize as *mut u8, len) }
        }

        #[unsafe(export_name = #valor_woken)]
        extern "C" fn valor_woken() -> u32 {
            ::vlugin::__private::woken()
        }

        ::vlugin::__getrandom_backend!();
    };

    // Built for the host's own platform (a native plugin, `valor_abi::native`): the same
    // exports as C functions taking real pointers, plus `valor_native_bind`. Each body runs in
    // `guard`, so that a panic fails that call and never unwinds into the host.
    let native = quote! {
        #[unsafe(export_name = #valor_abi_version)]
        extern "C" fn valor_abi_version() -> u32 {
            ::vlugin::__private::ABI_VERSION
        }

        #[unsafe(export_name = #valor_native_bind)]
        unsafe extern "C" fn valor_native_bind(
            host: *const ::vlugin::__private::native::Host,
        ) {
            // SAFETY: the host passes its table, valid for the call.
            ::vlugin::__private::native::guard((), || unsafe {
                ::vlugin::__private::native::bind(host)
            })
        }

        #[unsafe(export_name = #valor_init)]
        unsafe extern "C" fn valor_init(ptr: *mut u8, len: u32) {
            ::vlugin::__private::native::guard((), || {
                // SAFETY: as in WebAssembly: memory from `valor_alloc(len)`, handed over.
                unsafe { ::vlugin::__private::init(ptr, len) }
                #init
            })
        }

        #[unsafe(export_name = #valor_alloc)]
        extern "C" fn valor_alloc(len: u32) -> *mut u8 {
            ::vlugin::__private::native::guard(::core::ptr::null_mut(), || {
                ::vlugin::__private::alloc(len)
            })
        }

        #[allow(clippy::redundant_closure)]
        #[unsafe(export_name = #valor_start)]
        unsafe extern "C" fn valor_start(ptr: *mut u8, len: u32) -> u32 {
            // SAFETY: as in WebAssembly: memory from `valor_alloc(len)`, handed over.
            ::vlugin::__private::native::guard(0, || unsafe { #start })
        }

        #[unsafe(export_name = #valor_poll)]
        extern "C" fn valor_poll(task: u32) -> *const u8 {
            ::vlugin::__private::native::guard(::core::ptr::null(), || {
                ::vlugin::__private::poll(task)
            })
        }

        #[unsafe(export_name = #valor_drop)]
        extern "C" fn valor_drop(task: u32) {
            ::vlugin::__private::native::guard((), || ::vlugin::__private::drop_task(task))
        }

        #[unsafe(export_name = #valor_complete)]
        unsafe extern "C" fn valor_complete(op: u32, ptr: *mut u8, len: u32) {
            ::vlugin::__private::native::guard((), || {
                // SAFETY: as for `valor_init`, with the operation's result.
                unsafe { ::vlugin::__private::complete(op, ptr, len) }
            })
        }

        #[unsafe(export_name = #valor_woken)]
        extern "C" fn valor_woken() -> u32 {
            ::vlugin::__private::native::guard(0, ::vlugin::__private::woken)
        }
    };

    quote! {
        #function

        #marker

        #[cfg(target_arch = "wasm32")]
        const _: () = {
            #wasm
        };

        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            #native
        };
    }
}
