//! Types to test with, among them WASI 0.2's own (as `wasi:http/types` and `wasi:io/streams`
//! define them).

use crate::abi::{Resource, Type};

pub(super) fn resource(name: &str) -> Resource {
    Resource {
        interface: "wasi:http/types".into(),
        name: name.into(),
    }
}

pub(super) fn own(name: &str) -> Type {
    Type::Own(resource(name))
}

pub(super) fn borrow(name: &str) -> Type {
    Type::Borrow(resource(name))
}

pub(super) fn list(elem: Type) -> Type {
    Type::List(Box::new(elem))
}

pub(super) fn option(some: Type) -> Type {
    Type::Option(Box::new(some))
}

pub(super) fn result(ok: Option<Type>, err: Option<Type>) -> Type {
    Type::Result {
        ok: ok.map(Box::new),
        err: err.map(Box::new),
    }
}

/// `wasi:io/streams.stream-error`.
pub(super) fn stream_error() -> Type {
    Type::Variant(vec![Some(own("error")), None])
}

/// `wasi:http/types.header-error`.
pub(super) fn header_error() -> Type {
    Type::Variant(vec![None, None, None])
}

/// `wasi:http/types.error-code`: 39 cases.
pub(super) fn error_code() -> Type {
    let dns_error = Type::Record(vec![option(Type::String), option(Type::U16)]);
    let tls_alert = Type::Record(vec![option(Type::U8), option(Type::String)]);
    let field_size = Type::Record(vec![option(Type::String), option(Type::U32)]);
    let mut cases = vec![None; 39];
    cases[1] = Some(dns_error);
    cases[14] = Some(tls_alert);
    for case in [17, 28] {
        cases[case] = Some(option(Type::U64));
    }
    for case in [21, 23, 26, 29] {
        cases[case] = Some(option(Type::U32));
    }
    cases[22] = Some(option(field_size.clone()));
    for case in [24, 27, 30] {
        cases[case] = Some(field_size.clone());
    }
    for case in [31, 32, 38] {
        cases[case] = Some(option(Type::String));
    }
    Type::Variant(cases)
}
