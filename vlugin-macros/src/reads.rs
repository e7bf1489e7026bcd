//! Whether the handler reads its request. One that never names its parameter (`_`, or a name
//! its body does not mention) is started without decoding the request, so its plugin links no
//! decoder: `http`'s parser of header names alone is ~17 KB of wasm.

use proc_macro2::{Ident, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{FnArg, ItemFn, Pat};

/// Whether `function` names its request parameter in its body (when unsure: yes).
pub fn reads_request(function: &ItemFn) -> bool {
    let Some(FnArg::Typed(param)) = function.sig.inputs.first() else {
        return true;
    };
    match &*param.pat {
        Pat::Wild(_) => false,
        // Hygiene keeps macros from naming the parameter unless its name is among their input
        // tokens, so a name absent from the body's tokens is never read.
        Pat::Ident(binding) if binding.subpat.is_none() => {
            mentions(function.block.to_token_stream(), &binding.ident.unraw())
        }
        // Any other pattern is taken to read it.
        _ => true,
    }
}

fn mentions(tokens: TokenStream, name: &Ident) -> bool {
    tokens.into_iter().any(|token| match token {
        TokenTree::Ident(ident) => ident.unraw() == *name,
        TokenTree::Group(group) => mentions(group.stream(), name),
        // A format string captures names it spells (`format!("{req:?}")`): a literal holding the
        // name anywhere is taken to read it (at worst, the request is decoded for nothing).
        TokenTree::Literal(literal) => literal.to_string().contains(&name.to_string()),
        TokenTree::Punct(_) => false,
    })
}

#[cfg(test)]
mod tests {
    use super::reads_request;

    fn reads(function: &str) -> bool {
        reads_request(&syn::parse_str(function).unwrap())
    }

    #[test]
    fn a_parameter_named_in_the_body_is_read() {
        assert!(reads(
            "async fn f(req: Request) -> &'static str { req.uri().path() }"
        ));
        assert!(reads(
            "fn f(req: Request) -> String { format!(\"{}\", req.uri()) }"
        ));
        assert!(reads("fn f(r#req: Request) -> String { g(req) }"));
        assert!(reads(
            "fn f(_req: Request) -> Body { { let x = &_req; x.body().clone() } }"
        ));
        assert!(reads(
            "fn f(mut req: Request) -> Body { std::mem::take(req.body_mut()) }"
        ));
        assert!(reads("fn f(Request { .. }: Request) {}"));
        assert!(reads(
            "fn f(req: Request) -> String { format!(\"{req:?}\") }"
        ));
        assert!(reads(
            "fn f(req: Request) -> String { format!(\"{}\", { format!(\"{req:?}\") }) }"
        ));
    }

    #[test]
    fn a_parameter_never_named_is_not_read() {
        assert!(!reads("async fn f(_: Request) -> &'static str { \"ok\" }"));
        assert!(!reads(
            "async fn f(_req: Request) -> &'static str { \"ok\" }"
        ));
        assert!(!reads(
            "fn f(req: Request) -> String { format!(\"{}\", 1) }"
        ));
    }
}
