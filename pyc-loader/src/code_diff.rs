//! Field-by-field comparison of code objects: where two compilations of the same source first
//! differ, as a path such as `co_consts[3].co_linetable`.

use crate::code::CodeObject;
use crate::marshal::Object;

/// The first field where `a` and `b` differ, recursing into nested code objects, with both
/// values shown; `None` when they are equal in every field. Floats compare by bit pattern, so
/// `0.0` and `-0.0` differ, and NaNs equal themselves.
pub fn first_difference(a: &CodeObject, b: &CodeObject) -> Option<String> {
    code_difference(a, b, "")
}

fn code_difference(a: &CodeObject, b: &CodeObject, path: &str) -> Option<String> {
    macro_rules! field {
        ($name:ident) => {
            if a.$name != b.$name {
                return Some(format!(
                    "{path}co_{}: {:?} != {:?}",
                    stringify!($name),
                    a.$name,
                    b.$name
                ));
            }
        };
    }
    // The order of marshal's fields, so the first difference is the one a reader meets first.
    field!(argcount);
    field!(posonlyargcount);
    field!(kwonlyargcount);
    field!(stacksize);
    field!(flags);
    field!(code);
    if a.consts.len() != b.consts.len() {
        return Some(format!(
            "{path}co_consts: {} items != {} items",
            a.consts.len(),
            b.consts.len()
        ));
    }
    for (i, (x, y)) in a.consts.iter().zip(b.consts.iter()).enumerate() {
        if let Some(diff) = object_difference(x, y, &format!("{path}co_consts[{i}]")) {
            return Some(diff);
        }
    }
    field!(names);
    field!(localsplusnames);
    field!(localspluskinds);
    field!(filename);
    field!(name);
    field!(qualname);
    field!(firstlineno);
    field!(linetable);
    field!(exceptiontable);
    None
}

fn object_difference(a: &Object, b: &Object, path: &str) -> Option<String> {
    let differ = || Some(format!("{path}: {a:?} != {b:?}"));
    match (a, b) {
        (Object::Code(x), Object::Code(y)) => code_difference(x, y, &format!("{path}.")),
        (Object::Tuple(x), Object::Tuple(y))
        | (Object::List(x), Object::List(y))
        | (Object::Set(x), Object::Set(y))
        | (Object::FrozenSet(x), Object::FrozenSet(y)) => {
            if std::mem::discriminant(a) != std::mem::discriminant(b) || x.len() != y.len() {
                return differ();
            }
            x.iter()
                .zip(y.iter())
                .enumerate()
                .find_map(|(i, (p, q))| object_difference(p, q, &format!("{path}[{i}]")))
        }
        (Object::Dict(x), Object::Dict(y)) => {
            if x.len() != y.len() {
                return differ();
            }
            x.iter().zip(y.iter()).enumerate().find_map(|(i, (p, q))| {
                object_difference(&p.0, &q.0, &format!("{path}.key{i}"))
                    .or_else(|| object_difference(&p.1, &q.1, &format!("{path}.value{i}")))
            })
        }
        (Object::Float(x), Object::Float(y)) => (x.to_bits() != y.to_bits()).then(differ)?,
        (Object::Complex(xr, xi), Object::Complex(yr, yi)) => {
            (xr.to_bits() != yr.to_bits() || xi.to_bits() != yi.to_bits()).then(differ)?
        }
        (Object::Int(x), Object::Int(y)) => (x != y).then(differ)?,
        (Object::Str(x), Object::Str(y)) => (x != y).then(differ)?,
        (Object::Bytes(x), Object::Bytes(y)) => (x != y).then(differ)?,
        (Object::None, Object::None)
        | (Object::True, Object::True)
        | (Object::False, Object::False)
        | (Object::Ellipsis, Object::Ellipsis)
        | (Object::StopIteration, Object::StopIteration) => None,
        _ => differ(),
    }
}
