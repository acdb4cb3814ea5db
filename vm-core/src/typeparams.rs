//! PEP 695 type parameters and generic aliases: `TypeVar`, `ParamSpec`, `TypeVarTuple`,
//! `TypeAliasType` (`type X = ...`, its value evaluated lazily), `Generic` and the aliases
//! that subscripting makes (`list[int]` is a `types.GenericAlias`, `Generic[T]` and `C[int]`
//! for a generic class are `typing._GenericAlias`), with the CALL_INTRINSIC_1/2 functions
//! CPython 3.12's compiler emits for `def f[T]()`, `class C[T]:` and `type X = ...`.
//!
//! Their objects are instances of built-in types whose attributes live in the instance dict;
//! lazily evaluated parts (`__bound__`, `__constraints__`, `__value__`) are properties that call
//! the stored evaluation function once and cache its result.

use std::rc::Rc;

use crate::builtins::{builtin, split_kw};
use crate::objects::{Instance, NativeFn, Wrapper};
use crate::pystr::{intern, PyStr};
use crate::types::Type;
use crate::value::Value;
use crate::vm::{PyResult, Vm};

type Args<'a> = &'a [Value];
type Kw<'a> = &'a [Rc<PyStr>];

/// Keys of lazily evaluated parts: not identifiers, so attribute syntax cannot reach them.
const BOUND_FN: &str = " bound";
const CONSTRAINTS_FN: &str = " constraints";
const VALUE_FN: &str = " value";

fn attr(v: &Value, name: &str) -> Option<Value> {
    match v {
        Value::Instance(i) => i.dict.get_str(&intern(name)),
        _ => None,
    }
}

fn set_attr(v: &Value, name: &str, value: Value) {
    if let Value::Instance(i) = v {
        i.dict.set_str(&intern(name), value);
    }
}

fn is_instance_of(v: &Value, t: &Rc<Type>) -> bool {
    matches!(v, Value::Instance(i) if i.class.is_subtype(t))
}

/// Whether `v` is a type parameter (TypeVar, ParamSpec or TypeVarTuple).
fn is_type_param(vm: &Vm, v: &Value) -> bool {
    [&vm.t.typevar, &vm.t.paramspec, &vm.t.typevartuple]
        .iter()
        .any(|t| is_instance_of(v, t))
}

/// Whether `v` is a generic alias of either kind.
fn is_alias(vm: &Vm, v: &Value) -> bool {
    is_instance_of(v, &vm.t.generic_alias) || is_instance_of(v, &vm.t.typing_alias)
}

/// A TypeVar as the compiler makes them (variance inferred).
fn typevar(vm: &Vm, name: Value, bound: Value, constraints: Value) -> Value {
    Instance::plain(
        &vm.t.typevar,
        &[
            ("__name__", name),
            ("__covariant__", Value::Bool(false)),
            ("__contravariant__", Value::Bool(false)),
            ("__infer_variance__", Value::Bool(true)),
            (BOUND_FN, bound),
            (CONSTRAINTS_FN, constraints),
        ],
        Value::Null,
    )
}

/// CALL_INTRINSIC_1 for type parameters: TYPEVAR (7), PARAMSPEC (8), TYPEVARTUPLE (9),
/// SUBSCRIPT_GENERIC (10) and TYPEALIAS (11); `module` is the `__name__` of the globals.
pub fn intrinsic1(vm: &mut Vm, arg: u32, v: Value, module: Value) -> PyResult<Value> {
    Ok(match arg {
        7 => typevar(vm, v, Value::None, Value::None),
        8 => Instance::plain(
            &vm.t.paramspec,
            &[
                ("__name__", v),
                ("__bound__", Value::None),
                ("__covariant__", Value::Bool(false)),
                ("__contravariant__", Value::Bool(false)),
                ("__infer_variance__", Value::Bool(true)),
            ],
            Value::Null,
        ),
        9 => Instance::plain(&vm.t.typevartuple, &[("__name__", v)], Value::Null),
        10 => {
            let params = vm.to_vec(&v)?;
            make_alias(vm, true, Value::Type(vm.t.generic.clone()), params)
        }
        11 => {
            let parts = vm.to_vec(&v)?;
            let [name, params, value_fn] = &parts[..] else {
                return Err(vm.type_error("INTRINSIC_TYPEALIAS expects (name, params, value)"));
            };
            let params = match params {
                Value::None => Value::tuple(vec![]),
                p => p.clone(),
            };
            Instance::plain(
                &vm.t.type_alias,
                &[
                    ("__name__", name.clone()),
                    ("__type_params__", params.clone()),
                    ("__parameters__", params),
                    ("__module__", module),
                    (VALUE_FN, value_fn.clone()),
                ],
                Value::Null,
            )
        }
        _ => return Err(vm.err("SystemError", format!("no intrinsic function {arg}"))),
    })
}

/// CALL_INTRINSIC_2 for type parameters: TYPEVAR_WITH_BOUND (2), TYPEVAR_WITH_CONSTRAINTS (3)
/// and SET_FUNCTION_TYPE_PARAMS (4); `a` was below `b` on the stack.
pub fn intrinsic2(vm: &mut Vm, arg: u32, a: Value, b: Value) -> PyResult<Value> {
    Ok(match arg {
        2 => typevar(vm, a, b, Value::None),
        3 => typevar(vm, a, Value::None, b),
        4 => {
            if let Value::Function(f) = &a {
                *f.type_params.borrow_mut() = b;
            }
            a
        }
        _ => return Err(vm.err("SystemError", format!("no intrinsic function {arg}"))),
    })
}

/// `__type_params__` of a function: the tuple SET_FUNCTION_TYPE_PARAMS stored, else `()`.
pub fn function_type_params(f: &crate::objects::Function) -> Value {
    match &*f.type_params.borrow() {
        Value::Null => Value::tuple(vec![]),
        v => v.clone(),
    }
}

/// A generic alias `origin[args]`: a `typing._GenericAlias` when `typing`, else a
/// `types.GenericAlias`.
fn make_alias(vm: &mut Vm, typing: bool, origin: Value, args: Vec<Value>) -> Value {
    let mut params: Vec<Value> = Vec::new();
    for a in &args {
        let found = if is_type_param(vm, a) {
            vec![a.clone()]
        } else if is_alias(vm, a) {
            attr(a, "__parameters__")
                .and_then(|p| match p {
                    Value::Tuple(t) => Some(t.to_vec()),
                    _ => None,
                })
                .unwrap_or_default()
        } else {
            vec![]
        };
        for p in found {
            if !params.iter().any(|q| q.is(&p)) {
                params.push(p);
            }
        }
    }
    let class = if typing {
        &vm.t.typing_alias
    } else {
        &vm.t.generic_alias
    };
    Instance::plain(
        class,
        &[
            ("__origin__", origin),
            ("__args__", Value::tuple(args)),
            ("__parameters__", Value::tuple(params)),
        ],
        Value::Null,
    )
}

/// The items of a subscript (`x[a, b]` passes the tuple `(a, b)`).
fn subscript_items(key: &Value) -> Vec<Value> {
    match key {
        Value::Tuple(t) => t.to_vec(),
        other => vec![other.clone()],
    }
}

/// Installs the methods of the type-parameter and alias types and `__class_getitem__` on
/// the built-in containers.
pub fn install(vm: &mut Vm) {
    let t = &vm.t;
    for (ty, module) in [
        (&t.typevar, "typing"),
        (&t.paramspec, "typing"),
        (&t.typevartuple, "typing"),
        (&t.type_alias, "typing"),
        (&t.generic, "typing"),
        (&t.typing_alias, "typing"),
        (&t.generic_alias, "types"),
        (&t.union_type, "types"),
        (&t.typing_union, "typing"),
    ] {
        ty.dict.set_str(&intern("__module__"), Value::str(module));
    }
    let property = |f: NativeFn, name: &'static str| {
        Value::Wrapper(Rc::new(Wrapper::Property {
            fget: builtin(name, f),
            fset: Value::None,
            fdel: Value::None,
            doc: Value::None,
        }))
    };
    let classmethod = |f: NativeFn, name: &'static str| {
        Value::Wrapper(Rc::new(Wrapper::ClassMethod(builtin(name, f))))
    };
    let set = |ty: &Rc<Type>, name: &str, v: Value| ty.dict.set_str(&intern(name), v);
    set(
        &t.typevar,
        "__bound__",
        property(typevar_bound, "__bound__"),
    );
    set(
        &t.typevar,
        "__constraints__",
        property(typevar_constraints, "__constraints__"),
    );
    for ty in [&t.typevar, &t.paramspec, &t.typevartuple] {
        set(ty, "__repr__", builtin("__repr__", param_repr));
    }
    set(
        &t.type_alias,
        "__value__",
        property(alias_value, "__value__"),
    );
    set(
        &t.type_alias,
        "__repr__",
        builtin("__repr__", type_alias_repr),
    );
    set(
        &t.type_alias,
        "__getitem__",
        builtin("__getitem__", type_alias_getitem),
    );
    set(
        &t.generic,
        "__class_getitem__",
        classmethod(generic_class_getitem, "__class_getitem__"),
    );
    set(
        &t.generic,
        "__init_subclass__",
        classmethod(generic_init_subclass, "__init_subclass__"),
    );
    for ty in [&t.generic_alias, &t.typing_alias] {
        for (name, f) in [
            ("__repr__", alias_repr as NativeFn),
            ("__eq__", alias_eq),
            ("__hash__", alias_hash),
            ("__call__", alias_call),
            ("__mro_entries__", alias_mro_entries),
            ("__getitem__", alias_getitem),
            ("__or__", union_or),
            ("__ror__", union_ror),
        ] {
            set(ty, name, builtin(name, f));
        }
    }
    for ty in [&t.union_type, &t.typing_union] {
        for (name, f) in [
            ("__repr__", union_repr as NativeFn),
            ("__eq__", union_eq),
            ("__hash__", union_hash),
            ("__or__", union_or),
            ("__ror__", union_ror),
        ] {
            set(ty, name, builtin(name, f));
        }
    }
    for ty in [&t.list, &t.dict, &t.tuple, &t.set, &t.frozenset, &t.type_] {
        set(
            ty,
            "__class_getitem__",
            classmethod(builtin_class_getitem, "__class_getitem__"),
        );
    }
}

/// `TypeVar(name, *constraints, bound=None, covariant=False, contravariant=False,
/// infer_variance=False)`.
pub fn typevar_new(vm: &mut Vm, args: Args, kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let Some(name @ Value::Str(_)) = pos.first() else {
        return Err(vm.type_error("TypeVar() argument 'name' must be str"));
    };
    let mut flags = [false; 3];
    let mut bound = Value::None;
    for (k, v) in kw {
        match k {
            "bound" => bound = v.clone(),
            "covariant" => flags[0] = vm.truthy(v)?,
            "contravariant" => flags[1] = vm.truthy(v)?,
            "infer_variance" => flags[2] = vm.truthy(v)?,
            _ => {
                return Err(vm.type_error(format!(
                    "TypeVar() got an unexpected keyword argument '{k}'"
                )))
            }
        }
    }
    let constraints = &pos[1..];
    if constraints.len() == 1 {
        return Err(vm.type_error("A single constraint is not allowed"));
    }
    Ok(Instance::plain(
        &vm.t.typevar,
        &[
            ("__name__", name.clone()),
            ("__covariant__", Value::Bool(flags[0])),
            ("__contravariant__", Value::Bool(flags[1])),
            ("__infer_variance__", Value::Bool(flags[2])),
            ("__bound__", bound),
            ("__constraints__", Value::tuple(constraints.to_vec())),
        ],
        Value::Null,
    ))
}

/// A lazily evaluated attribute: the cached value, else the evaluation function's result
/// (cached), else `default`.
fn lazy(vm: &mut Vm, obj: &Value, name: &str, fn_key: &str, default: Value) -> PyResult<Value> {
    if let Some(v) = attr(obj, name) {
        return Ok(v);
    }
    let v = match attr(obj, fn_key) {
        Some(Value::None) | None => default,
        Some(f) => vm.call(&f, &[], &[])?,
    };
    set_attr(obj, name, v.clone());
    Ok(v)
}

fn typevar_bound(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    lazy(vm, &args[0], "__bound__", BOUND_FN, Value::None)
}

fn typevar_constraints(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let none = Value::tuple(vec![]);
    lazy(vm, &args[0], "__constraints__", CONSTRAINTS_FN, none)
}

fn alias_value(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    lazy(vm, &args[0], "__value__", VALUE_FN, Value::None)
}

fn name_of(v: &Value) -> String {
    match attr(v, "__name__") {
        Some(Value::Str(s)) => s.as_str().to_owned(),
        _ => String::new(),
    }
}

fn param_repr(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let v = &args[0];
    let name = name_of(v);
    if is_instance_of(v, &vm.t.typevartuple) {
        return Ok(Value::string(name));
    }
    let flag = |k: &str| matches!(attr(v, k), Some(Value::Bool(true)));
    let prefix = if flag("__infer_variance__") {
        ""
    } else if flag("__covariant__") {
        "+"
    } else if flag("__contravariant__") {
        "-"
    } else {
        "~"
    };
    Ok(Value::string(format!("{prefix}{name}")))
}

fn type_alias_repr(_: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    Ok(Value::string(name_of(&args[0])))
}

fn type_alias_getitem(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let [alias, key] = args else {
        return Err(vm.type_error("__getitem__ expects one argument"));
    };
    let params = attr(alias, "__type_params__").map_or(0, |p| match p {
        Value::Tuple(t) => t.len(),
        _ => 0,
    });
    if params == 0 {
        return Err(vm.type_error("Only generic type aliases are subscriptable"));
    }
    Ok(make_alias(vm, false, alias.clone(), subscript_items(key)))
}

fn generic_class_getitem(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let [cls, key] = args else {
        return Err(vm.type_error("__class_getitem__ expects one argument"));
    };
    let items = subscript_items(key);
    if let Value::Type(t) = cls {
        if Rc::ptr_eq(t, &vm.t.generic) {
            if items.is_empty() {
                return Err(vm.type_error("Parameter list to Generic[...] cannot be empty"));
            }
            if let Some(bad) = items.iter().find(|a| !is_type_param(vm, a)) {
                let r = vm.repr(bad)?;
                return Err(vm.type_error(format!(
                    "Parameters to Generic[...] must all be type variables or parameter specification variables. (got {r})"
                )));
            }
        } else {
            let params = type_dict_params(t);
            if params.is_empty() {
                let r = vm.repr(cls)?;
                return Err(vm.type_error(format!("{r} is not a generic class")));
            }
            if params.len() != items.len() {
                let r = vm.repr(cls)?;
                let which = if items.len() > params.len() {
                    "many"
                } else {
                    "few"
                };
                return Err(vm.type_error(format!(
                    "Too {which} arguments for {r}; actual {}, expected {}",
                    items.len(),
                    params.len()
                )));
            }
        }
    }
    Ok(make_alias(vm, true, cls.clone(), items))
}

/// The `__parameters__` a generic class recorded.
fn type_dict_params(t: &Rc<Type>) -> Vec<Value> {
    match t.lookup(&intern("__parameters__")) {
        Some(Value::Tuple(p)) => p.to_vec(),
        _ => vec![],
    }
}

/// `Generic.__init_subclass__`: records the class's `__parameters__` from its original bases.
fn generic_init_subclass(vm: &mut Vm, args: Args, kwnames: Kw) -> PyResult<Value> {
    let (pos, _) = split_kw(args, kwnames);
    let Some(Value::Type(cls)) = pos.first() else {
        return Ok(Value::None);
    };
    let mut params: Vec<Value> = Vec::new();
    if let Some(Value::Tuple(orig)) = cls.dict.get_str(&intern("__orig_bases__")) {
        let mut generic_params = None;
        for b in orig.iter() {
            let Some(Value::Tuple(p)) = attr(b, "__parameters__") else {
                continue;
            };
            if matches!(attr(b, "__origin__"), Some(Value::Type(o)) if Rc::ptr_eq(&o, &vm.t.generic))
            {
                generic_params = Some(p.to_vec());
            }
            for x in p.iter() {
                if !params.iter().any(|q| q.is(x)) {
                    params.push(x.clone());
                }
            }
        }
        if let Some(g) = generic_params {
            params = g;
        }
    } else if cls.bases.iter().any(|b| Rc::ptr_eq(b, &vm.t.generic)) {
        return Err(vm.type_error("Cannot inherit from plain Generic"));
    }
    cls.dict
        .set_str(&intern("__parameters__"), Value::tuple(params));
    Ok(Value::None)
}

fn builtin_class_getitem(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let [cls, key] = args else {
        return Err(vm.type_error("__class_getitem__ expects one argument"));
    };
    Ok(make_alias(vm, false, cls.clone(), subscript_items(key)))
}

/// How `typing` shows a value inside an alias: classes by qualified name (without
/// `builtins.`), `...` as is, anything else by repr.
fn type_repr_str(vm: &mut Vm, v: &Value) -> PyResult<String> {
    Ok(match v {
        Value::Type(t) => {
            let q = t.qualname.borrow().as_str().to_owned();
            match t.module_name().as_str() {
                "builtins" => q,
                m => format!("{m}.{q}"),
            }
        }
        Value::Ellipsis => "...".into(),
        other => vm.repr(other)?,
    })
}

fn alias_repr(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let a = &args[0];
    let origin = attr(a, "__origin__").unwrap_or(Value::None);
    let mut out = type_repr_str(vm, &origin)?;
    out.push('[');
    match attr(a, "__args__") {
        Some(Value::Tuple(items)) if !items.is_empty() => {
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&type_repr_str(vm, x)?);
            }
        }
        _ => out.push_str("()"),
    }
    out.push(']');
    Ok(Value::string(out))
}

fn alias_eq(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let [a, b] = args else {
        return Ok(Value::NotImplemented);
    };
    if !is_alias(vm, b) {
        return Ok(Value::NotImplemented);
    }
    let same = |k: &str, vm: &mut Vm| -> PyResult<bool> {
        let (x, y) = (
            attr(a, k).unwrap_or(Value::None),
            attr(b, k).unwrap_or(Value::None),
        );
        vm.eq(&x, &y)
    };
    Ok(Value::Bool(
        same("__origin__", vm)? && same("__args__", vm)?,
    ))
}

fn alias_hash(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let a = &args[0];
    let h1 = vm.hash(&attr(a, "__origin__").unwrap_or(Value::None))?;
    let h2 = vm.hash(&attr(a, "__args__").unwrap_or(Value::None))?;
    Ok(Value::Int(h1 ^ h2))
}

/// Calling an alias creates an instance of its origin (a `typing` alias also records itself
/// as the instance's `__orig_class__` where it can).
fn alias_call(vm: &mut Vm, args: Args, kwnames: Kw) -> PyResult<Value> {
    let a = &args[0];
    let origin = attr(a, "__origin__").unwrap_or(Value::None);
    if let Value::Type(t) = &origin {
        if Rc::ptr_eq(t, &vm.t.generic) {
            return Err(vm.type_error(
                "Type Generic cannot be instantiated; it can be used only as a base class",
            ));
        }
    }
    let r = vm.call(&origin, &args[1..], kwnames)?;
    if is_instance_of(a, &vm.t.typing_alias) {
        if let Value::Instance(i) = &r {
            if !i.class.dictless && i.payload.is(&Value::Null) {
                i.dict.set_str(&intern("__orig_class__"), a.clone());
            }
        }
    }
    Ok(r)
}

fn alias_mro_entries(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let [a, bases] = args else {
        return Err(vm.type_error("__mro_entries__ expects one argument"));
    };
    let origin = attr(a, "__origin__").unwrap_or(Value::None);
    if matches!(&origin, Value::Type(t) if Rc::ptr_eq(t, &vm.t.generic)) {
        let bases = vm.to_vec(bases)?;
        let at = bases.iter().position(|b| b.is(a)).unwrap_or(bases.len());
        if bases
            .iter()
            .skip(at + 1)
            .any(|b| is_instance_of(b, &vm.t.typing_alias) && !b.is(a))
        {
            return Ok(Value::tuple(vec![]));
        }
    }
    Ok(Value::tuple(vec![origin]))
}

/// `alias[args]`: substitutes the alias's type parameters.
fn alias_getitem(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let [a, key] = args else {
        return Err(vm.type_error("__getitem__ expects one argument"));
    };
    let params = match attr(a, "__parameters__") {
        Some(Value::Tuple(p)) => p.to_vec(),
        _ => vec![],
    };
    let repr = alias_repr(vm, std::slice::from_ref(a), &[])?;
    let repr = vm.str_of(&repr)?;
    if params.is_empty() {
        return Err(vm.type_error(format!("{repr} is not a generic class")));
    }
    let items = subscript_items(key);
    if items.len() != params.len() {
        let which = if items.len() > params.len() {
            "many"
        } else {
            "few"
        };
        return Err(vm.type_error(format!(
            "Too {which} arguments for {repr}; actual {}, expected {}",
            items.len(),
            params.len()
        )));
    }
    Ok(substitute(vm, a, &params, &items))
}

fn substitute(vm: &mut Vm, a: &Value, params: &[Value], items: &[Value]) -> Value {
    let typing = is_instance_of(a, &vm.t.typing_alias);
    let origin = attr(a, "__origin__").unwrap_or(Value::None);
    let old = match attr(a, "__args__") {
        Some(Value::Tuple(t)) => t.to_vec(),
        _ => vec![],
    };
    let new: Vec<Value> = old
        .iter()
        .map(|x| {
            if let Some(i) = params.iter().position(|p| p.is(x)) {
                items[i].clone()
            } else if is_alias(vm, x) {
                substitute(vm, x, params, items)
            } else {
                x.clone()
            }
        })
        .collect();
    make_alias(vm, typing, origin, new)
}

/// `isinstance(x, alias)` is refused as CPython refuses it.
pub fn check_not_alias(vm: &Vm, spec: &Value, name: &str) -> PyResult<()> {
    if is_instance_of(spec, &vm.t.typing_union) {
        return Err(
            vm.type_error("issubclass() arg 2 must be a class, a tuple of classes, or a union")
        );
    }
    if is_instance_of(spec, &vm.t.typing_alias) {
        return Err(
            vm.type_error("Subscripted generics cannot be used with class and instance checks")
        );
    }
    if is_alias(vm, spec) {
        return Err(vm.type_error(format!(
            "{name}() argument 2 cannot be a parameterized generic"
        )));
    }
    Ok(())
}

/// The members of a `types.UnionType`, as a tuple (None for other values).
pub fn union_args(vm: &Vm, v: &Value) -> Option<Value> {
    if is_instance_of(v, &vm.t.union_type) || is_instance_of(v, &vm.t.typing_union) {
        return attr(v, "__args__");
    }
    None
}

/// `a | b` for types (PEP 604): a `types.UnionType` of both sides' members without
/// repeats, or a `typing.Union` when a member is a type parameter or a `typing` alias; None
/// when an operand is not a type, None, alias, type parameter or union.
pub fn union(vm: &mut Vm, a: &Value, b: &Value) -> PyResult<Option<Value>> {
    let typing_member = |v: &Value| {
        is_type_param(vm, v)
            || is_instance_of(v, &vm.t.typing_alias)
            || is_instance_of(v, &vm.t.typing_union)
    };
    let ok = |v: &Value| {
        matches!(v, Value::Type(_) | Value::None)
            || is_alias(vm, v)
            || is_instance_of(v, &vm.t.union_type)
            || typing_member(v)
    };
    if !ok(a) || !ok(b) {
        return Ok(None);
    }
    let typing = typing_member(a) || typing_member(b);
    let mut args: Vec<Value> = Vec::new();
    for v in [a, b] {
        let items = match (union_args(vm, v), v) {
            (Some(Value::Tuple(t)), _) => t.to_vec(),
            (_, Value::None) => vec![Value::Type(vm.t.none.clone())],
            _ => vec![v.clone()],
        };
        for x in items {
            let mut seen = false;
            for y in &args {
                if x.is(y) || vm.eq(&x, y)? {
                    seen = true;
                    break;
                }
            }
            if !seen {
                args.push(x);
            }
        }
    }
    if args.len() == 1 {
        return Ok(args.pop());
    }
    let class = if typing {
        &vm.t.typing_union
    } else {
        &vm.t.union_type
    };
    Ok(Some(Instance::plain(
        class,
        &[
            ("__args__", Value::tuple(args)),
            ("__parameters__", Value::tuple(vec![])),
        ],
        Value::Null,
    )))
}

fn union_or(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let [a, b] = args else {
        return Ok(Value::NotImplemented);
    };
    Ok(union(vm, a, b)?.unwrap_or(Value::NotImplemented))
}

fn union_ror(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let [a, b] = args else {
        return Ok(Value::NotImplemented);
    };
    Ok(union(vm, b, a)?.unwrap_or(Value::NotImplemented))
}

fn union_members(v: &Value) -> Vec<Value> {
    match attr(v, "__args__") {
        Some(Value::Tuple(t)) => t.to_vec(),
        _ => vec![],
    }
}

fn union_repr(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    if is_instance_of(&args[0], &vm.t.typing_union) {
        // typing.Optional[X] for X | None, else typing.Union[...] (NoneType by name).
        let members = union_members(&args[0]);
        let is_none = |v: &Value| matches!(v, Value::Type(t) if Rc::ptr_eq(t, &vm.t.none));
        if let [x, y] = &members[..] {
            let other = match (is_none(x), is_none(y)) {
                (false, true) => Some(x.clone()),
                (true, false) => Some(y.clone()),
                _ => None,
            };
            if let Some(o) = other {
                let r = type_repr_str(vm, &o)?;
                return Ok(Value::string(format!("typing.Optional[{r}]")));
            }
        }
        let mut parts = Vec::new();
        for x in &members {
            parts.push(type_repr_str(vm, x)?);
        }
        return Ok(Value::string(format!("typing.Union[{}]", parts.join(", "))));
    }
    let mut parts = Vec::new();
    for x in union_members(&args[0]) {
        parts.push(match &x {
            Value::Type(t) if Rc::ptr_eq(t, &vm.t.none) => "None".to_owned(),
            other => type_repr_str(vm, other)?,
        });
    }
    Ok(Value::string(parts.join(" | ")))
}

fn union_eq(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let [a, b] = args else {
        return Ok(Value::NotImplemented);
    };
    if union_args(vm, b).is_none() {
        return Ok(Value::NotImplemented);
    }
    let (xs, ys) = (union_members(a), union_members(b));
    let mut same = xs.len() == ys.len();
    for x in &xs {
        if !same {
            break;
        }
        let mut found = false;
        for y in &ys {
            if vm.eq(x, y)? {
                found = true;
                break;
            }
        }
        same = found;
    }
    Ok(Value::Bool(same))
}

fn union_hash(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let mut h = 0x5eed_i64;
    for x in union_members(&args[0]) {
        h ^= vm.hash(&x)?;
    }
    Ok(Value::Int(h))
}
