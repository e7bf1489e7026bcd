//! Parsing and validation: every misuse becomes a `syn::Error` on the offending tokens.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::{Item, ItemFn};

/// The usage every error message points back to.
const USAGE: &str = "`async fn handler(req: Request) -> impl IntoResponse`";

/// A function `#[vlugin]` can export: free, non-generic, one parameter, safe Rust ABI.
pub struct Handler {
    /// The function, as the user wrote it.
    pub function: ItemFn,
}

/// What may go between `#[vlugin(` and `)]`: nothing, or `init = path`, a function the
/// plugin's `valor_init` calls once its config is set.
#[derive(Default)]
pub struct Options {
    /// The `init = path` function, if one is named.
    pub init: Option<syn::Path>,
}

impl Parse for Options {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut options = Options::default();
        if input.is_empty() {
            return Ok(options);
        }
        let key: syn::Ident = input.parse()?;
        if key != "init" {
            return Err(syn::Error::new_spanned(
                key,
                "#[vlugin] takes one option, `init = path::to::function`",
            ));
        }
        input.parse::<syn::Token![=]>()?;
        options.init = Some(input.parse()?);
        if !input.is_empty() {
            return Err(input.error("#[vlugin] takes one option, `init = path::to::function`"));
        }
        Ok(options)
    }
}

impl Parse for Handler {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let function = match input.parse::<Item>()? {
            Item::Fn(function) => function,
            other => {
                return Err(syn::Error::new_spanned(
                    item_head(&other),
                    format!("#[vlugin] goes on a function: {USAGE}"),
                ))
            }
        };
        check(&function)?;
        Ok(Handler { function })
    }
}

fn check(function: &ItemFn) -> syn::Result<()> {
    let sig = &function.sig;
    // The generated exports call the handler as an ordinary safe Rust function.
    if let Some(token) = &sig.constness {
        return Err(syn::Error::new_spanned(
            token,
            "a #[vlugin] handler cannot be a `const fn`",
        ));
    }
    if let Some(token) = &sig.unsafety {
        return Err(syn::Error::new_spanned(
            token,
            "a #[vlugin] handler cannot be `unsafe`: the runtime has no way to uphold its \
             safety contract; remove `unsafe` and use an `unsafe` block inside",
        ));
    }
    if let Some(abi) = &sig.abi {
        return Err(syn::Error::new_spanned(
            abi,
            "a #[vlugin] handler cannot have an `extern` ABI: the macro generates the \
             `extern \"C\"` exports itself; remove it",
        ));
    }
    let generics = &sig.generics;
    if !generics.params.is_empty() {
        return Err(generics_error(generics));
    }
    if let Some(where_clause) = &generics.where_clause {
        return Err(generics_error(where_clause));
    }
    if let Some(receiver) = sig.receiver() {
        return Err(syn::Error::new_spanned(
            receiver,
            format!("a #[vlugin] handler is a free function, it cannot take `self`: {USAGE}"),
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(arity_error(variadic));
    }
    match sig.inputs.len() {
        1 => Ok(()),
        // Nothing to underline in `()`, so the parentheses themselves.
        0 => Err(syn::Error::new(
            sig.paren_token.span.join(),
            arity_message(),
        )),
        _ => Err(arity_error(&sig.inputs)),
    }
}

fn arity_error(tokens: impl ToTokens) -> syn::Error {
    syn::Error::new_spanned(tokens, arity_message())
}

fn arity_message() -> String {
    format!("a #[vlugin] handler takes exactly one parameter, the request: {USAGE}")
}

fn generics_error(tokens: impl ToTokens) -> syn::Error {
    // The exports must name one concrete function; nothing would pick the type arguments.
    syn::Error::new_spanned(
        tokens,
        format!("a #[vlugin] handler cannot be generic: {USAGE}"),
    )
}

/// The tokens that say what an item is (`struct Foo`, `impl Foo`), so the error underlines
/// them rather than the whole body.
fn item_head(item: &Item) -> TokenStream {
    match item {
        Item::Struct(i) => head(&i.struct_token, &i.ident),
        Item::Enum(i) => head(&i.enum_token, &i.ident),
        Item::Union(i) => head(&i.union_token, &i.ident),
        Item::Trait(i) => head(&i.trait_token, &i.ident),
        Item::Mod(i) => head(&i.mod_token, &i.ident),
        Item::Const(i) => head(&i.const_token, &i.ident),
        Item::Static(i) => head(&i.static_token, &i.ident),
        Item::Type(i) => head(&i.type_token, &i.ident),
        Item::Impl(i) => head(&i.impl_token, &i.self_ty),
        _ => quote!(#item),
    }
}

fn head(keyword: &impl ToTokens, name: &impl ToTokens) -> TokenStream {
    quote!(#keyword #name)
}
