//! `variant`, `enum`, `option` and `result` are one thing to the canonical ABI: a
//! discriminant and the payload of its case. [`Cases`] sees the four types that way.

use super::{Type, Val};

/// The cases of a variant-like type.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cases<'a> {
    /// `variant`: each case's payload type, if any.
    Variant(&'a [Option<Type>]),
    /// `enum`: this many cases, none with a payload.
    Enum(u32),
    /// `option<T>`: `none`, then `some(T)`.
    Option(&'a Type),
    /// `result<ok, err>`: `ok`, then `error`.
    Result(Option<&'a Type>, Option<&'a Type>),
}

impl<'a> Cases<'a> {
    /// The cases of `ty`, if it is variant-like.
    pub(crate) fn of(ty: &'a Type) -> Option<Cases<'a>> {
        Some(match ty {
            Type::Variant(cases) => Cases::Variant(cases),
            Type::Enum(count) => Cases::Enum(*count),
            Type::Option(some) => Cases::Option(some),
            Type::Result { ok, err } => Cases::Result(ok.as_deref(), err.as_deref()),
            _ => return None,
        })
    }

    /// How many cases.
    pub(crate) fn count(&self) -> u32 {
        match self {
            Cases::Variant(cases) => u32::try_from(cases.len()).unwrap_or(u32::MAX),
            Cases::Enum(count) => *count,
            Cases::Option(_) | Cases::Result(..) => 2,
        }
    }

    /// The payload type of case `case`: `Err` if there is no such case.
    pub(crate) fn payload(&self, case: u32) -> Result<Option<&'a Type>, String> {
        let count = self.count();
        if case >= count {
            return Err(format!("case {case} of a variant of {count} cases"));
        }
        Ok(match *self {
            Cases::Variant(cases) => cases.get(case as usize).and_then(Option::as_ref),
            Cases::Enum(_) => None,
            Cases::Option(some) => (case == 1).then_some(some),
            Cases::Result(ok, err) => [ok, err][case as usize],
        })
    }

    /// Every payload type, in case order (cases without one skipped).
    pub(crate) fn payloads(&self) -> impl Iterator<Item = &'a Type> {
        let (variant, others): (&'a [Option<Type>], [Option<&'a Type>; 2]) = match *self {
            Cases::Variant(cases) => (cases, [None, None]),
            Cases::Enum(_) => (&[], [None, None]),
            Cases::Option(some) => (&[], [Some(some), None]),
            Cases::Result(ok, err) => (&[], [ok, err]),
        };
        variant
            .iter()
            .filter_map(Option::as_ref)
            .chain(others.into_iter().flatten())
    }

    /// `val`'s case and payload, checked against these cases.
    pub(crate) fn split<'v>(&self, val: &'v Val) -> Result<(u32, Option<&'v Val>), String> {
        let (case, payload) = match (self, val) {
            (Cases::Variant(_), Val::Variant(case, payload)) => (*case, payload.as_deref()),
            (Cases::Enum(_), Val::Enum(case)) => (*case, None),
            (Cases::Option(_), Val::Option(payload)) => {
                (u32::from(payload.is_some()), payload.as_deref())
            }
            (Cases::Result(..), Val::Result(Ok(payload))) => (0, payload.as_deref()),
            (Cases::Result(..), Val::Result(Err(payload))) => (1, payload.as_deref()),
            _ => return Err(format!("{val:?} is not a value of {self:?}")),
        };
        match (self.payload(case)?, payload) {
            (Some(_), Some(_)) | (None, None) => Ok((case, payload)),
            (Some(ty), None) => Err(format!("case {case} needs a payload of {ty:?}")),
            (None, Some(val)) => Err(format!("case {case} has no payload, given {val:?}")),
        }
    }

    /// The value of case `case` with `payload` (which [`Cases::payload`] said it has).
    pub(crate) fn join(&self, case: u32, payload: Option<Val>) -> Val {
        let payload = payload.map(Box::new);
        match self {
            Cases::Variant(_) => Val::Variant(case, payload),
            Cases::Enum(_) => Val::Enum(case),
            Cases::Option(_) => Val::Option(payload),
            Cases::Result(..) if case == 0 => Val::Result(Ok(payload)),
            Cases::Result(..) => Val::Result(Err(payload)),
        }
    }
}
