//! Exception groups (PEP 654): the BaseExceptionGroup and ExceptionGroup types (constructor
//! rules, `message`, `exceptions`, `split`, `subgroup`, `derive`), the two steps of `except*`
//! (CHECK_EG_MATCH and CALL_INTRINSIC_2 PREP_RERAISE_STAR), and PEP 678's `add_note`.

use std::rc::Rc;

use crate::builtins::make_class;
use crate::natives::method;
use crate::objects::{Instance, NativeFn, Wrapper};
use crate::pystr::{intern, PyStr};
use crate::value::Value;
use crate::vm::{PyResult, Vm};

type Kw<'a> = &'a [Rc<PyStr>];

/// Creates BaseExceptionGroup and ExceptionGroup, adds them to the exception types and the
/// builtins.
pub fn install(vm: &mut Vm) -> PyResult<()> {
    let base_exc = vm.exc_type("BaseException");
    let exception = vm.exc_type("Exception");
    let ns = crate::ops::new_dict();
    ns.set_str(&intern("__module__"), Value::str("builtins"));
    ns.set_str(
        &intern("__new__"),
        Value::Wrapper(Rc::new(Wrapper::StaticMethod(crate::builtins::builtin(
            "__new__", eg_new,
        )))),
    );
    for (name, f) in [
        ("__str__", eg_str as NativeFn),
        ("derive", eg_derive),
        ("split", eg_split),
        ("subgroup", eg_subgroup),
    ] {
        ns.set_str(&intern(name), method(name, f));
    }
    for (name, f) in [
        ("message", eg_message as NativeFn),
        ("exceptions", eg_exceptions),
    ] {
        ns.set_str(
            &intern(name),
            Value::Wrapper(Rc::new(Wrapper::Property {
                fget: method(name, f),
                fset: Value::None,
                fdel: Value::None,
                doc: Value::None,
            })),
        );
    }
    base_exc
        .dict
        .set_str(&intern("add_note"), method("add_note", add_note));
    let beg = make_class(
        vm,
        intern("BaseExceptionGroup"),
        vec![base_exc],
        &ns,
        &[],
        None,
    )?;
    let ns = crate::ops::new_dict();
    ns.set_str(&intern("__module__"), Value::str("builtins"));
    let eg = make_class(
        vm,
        intern("ExceptionGroup"),
        vec![beg.clone(), exception],
        &ns,
        &[],
        None,
    )?;
    for t in [beg, eg] {
        vm.builtins.set_str(&t.name.clone(), Value::Type(t.clone()));
        vm.t.exceptions.push(t);
    }
    Ok(())
}

/// Whether `v` is an exception group.
pub fn is_group(vm: &Vm, v: &Value) -> bool {
    vm.isinstance(v, &vm.exc_type("BaseExceptionGroup"))
}

/// The (message, exceptions) of group `inst`.
fn group_of(inst: &Instance) -> (Value, Vec<Value>) {
    match inst.exc.as_ref().map(|d| d.borrow().group.clone()) {
        Some(Value::Tuple(t)) if t.len() == 2 => match &t[1] {
            Value::Tuple(excs) => (t[0].clone(), excs.to_vec()),
            _ => (t[0].clone(), Vec::new()),
        },
        _ => (Value::None, Vec::new()),
    }
}

fn this(vm: &Vm, args: &[Value]) -> PyResult<Rc<Instance>> {
    match args.first() {
        Some(v @ Value::Instance(i)) if is_group(vm, v) => Ok(i.clone()),
        _ => Err(vm.type_error("descriptor requires a 'BaseExceptionGroup' object")),
    }
}

/// `BaseExceptionGroup.__new__(cls, message, exceptions)`.
fn eg_new(vm: &mut Vm, args: &[Value], kw: Kw) -> PyResult<Value> {
    let Some(Value::Type(cls)) = args.first() else {
        return Err(vm.type_error("BaseExceptionGroup.__new__(X): X is not a type object"));
    };
    let cls = cls.clone();
    if !cls.is_subtype(&vm.exc_type("BaseExceptionGroup")) {
        return Err(vm.type_error(format!(
            "BaseExceptionGroup.__new__({0}): {0} is not a subtype of BaseExceptionGroup",
            cls.name.as_str()
        )));
    }
    let pos = &args[1..args.len().saturating_sub(kw.len()).max(1)];
    if pos.len() != 2 {
        return Err(vm.type_error(format!(
            "BaseExceptionGroup.__new__() takes exactly 2 arguments ({} given)",
            pos.len()
        )));
    }
    if !kw.is_empty() {
        return Err(vm.type_error(format!(
            "{}() takes no keyword arguments",
            cls.name.as_str()
        )));
    }
    if !matches!(pos[0], Value::Str(_)) {
        return Err(vm.type_error(format!(
            "BaseExceptionGroup.__new__() argument 1 must be str, not {}",
            vm.type_name(&pos[0])
        )));
    }
    let excs = match &pos[1] {
        Value::List(_) | Value::Tuple(_) | Value::Range(_) | Value::Str(_) | Value::Bytes(_) => {
            vm.to_vec(&pos[1])?
        }
        Value::Instance(i) if matches!(i.payload, Value::List(_) | Value::Tuple(_)) => {
            vm.to_vec(&pos[1])?
        }
        _ => {
            return Err(vm.type_error("second argument (exceptions) must be a sequence"));
        }
    };
    if excs.is_empty() {
        return Err(vm.value_error("second argument (exceptions) must be a non-empty sequence"));
    }
    let base_exc = vm.exc_type("BaseException");
    let exception = vm.exc_type("Exception");
    let mut all_exceptions = true;
    for (i, e) in excs.iter().enumerate() {
        if !vm.isinstance(e, &base_exc) {
            return Err(vm.value_error(format!(
                "Item {i} of second argument (exceptions) is not an exception"
            )));
        }
        all_exceptions &= vm.isinstance(e, &exception);
    }
    let beg = vm.exc_type("BaseExceptionGroup");
    let cls = if Rc::ptr_eq(&cls, &beg) {
        if all_exceptions {
            vm.exc_type("ExceptionGroup")
        } else {
            cls
        }
    } else if Rc::ptr_eq(&cls, &vm.exc_type("ExceptionGroup")) {
        if !all_exceptions {
            return Err(vm.type_error("Cannot nest BaseExceptions in an ExceptionGroup"));
        }
        cls
    } else {
        if !all_exceptions && cls.is_subtype(&exception) {
            return Err(vm.type_error(format!(
                "Cannot nest BaseExceptions in '{}'",
                cls.name.as_str()
            )));
        }
        cls
    };
    let inst = vm.new_exception(cls, pos.to_vec());
    if let Some(d) = &inst.exc {
        d.borrow_mut().group = Value::tuple(vec![pos[0].clone(), Value::tuple(excs)]);
    }
    Ok(Value::Instance(inst))
}

fn eg_message(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let inst = this(vm, args)?;
    Ok(group_of(&inst).0)
}

/// The sub-exceptions of group `inst`.
fn exceptions_of(_: &mut Vm, inst: &Instance) -> PyResult<Vec<Value>> {
    Ok(group_of(inst).1)
}

fn eg_exceptions(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let inst = this(vm, args)?;
    Ok(Value::tuple(exceptions_of(vm, &inst)?))
}

fn eg_str(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let inst = this(vm, args)?;
    let msg = vm.str_of(&group_of(&inst).0)?;
    let n = exceptions_of(vm, &inst)?.len();
    Ok(Value::string(format!(
        "{msg} ({n} sub-exception{})",
        if n == 1 { "" } else { "s" }
    )))
}

fn eg_derive(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let inst = this(vm, args)?;
    if args.len() != 2 {
        return Err(vm.type_error(format!(
            "function takes exactly 1 argument ({} given)",
            args.len() - 1
        )));
    }
    let msg = group_of(&inst).0;
    let beg = Value::Type(vm.exc_type("BaseExceptionGroup"));
    vm.call(&beg, &[msg, args[1].clone()], &[])
}

/// What `split` / `subgroup` / `except*` match leaves by.
enum Matcher {
    /// An exception type or tuple of types.
    Types(Value),
    /// A predicate.
    Predicate(Value),
    /// Leaf exceptions by identity (groups never match).
    Ids(Vec<usize>),
}

fn matcher_of(vm: &Vm, condition: &Value) -> PyResult<Matcher> {
    let is_exc_type = |v: &Value| matches!(v, Value::Type(t) if t.is_exception);
    match condition {
        v if is_exc_type(v) => Ok(Matcher::Types(v.clone())),
        Value::Tuple(ts) if ts.iter().all(is_exc_type) => Ok(Matcher::Types(condition.clone())),
        Value::Function(_) | Value::Builtin(_) | Value::BoundMethod(_) => {
            Ok(Matcher::Predicate(condition.clone()))
        }
        _ => Err(vm.type_error("expected a function, exception type or tuple of exception types")),
    }
}

fn matches(vm: &mut Vm, m: &Matcher, e: &Value) -> PyResult<bool> {
    match m {
        Matcher::Types(t) => vm.exception_matches(e, t),
        Matcher::Predicate(f) => {
            let r = vm.call(f, std::slice::from_ref(e), &[])?;
            vm.truthy(&r)
        }
        Matcher::Ids(ids) => Ok(!is_group(vm, e) && ids.contains(&e.id())),
    }
}

/// Splits `eg` by `m` into (match, rest), each None or a group derived from `eg` with its
/// traceback, cause and context.
fn split(vm: &mut Vm, eg: &Value, m: &Matcher) -> PyResult<(Value, Value)> {
    if matches(vm, m, eg)? {
        return Ok((eg.clone(), Value::None));
    }
    let Value::Instance(inst) = eg else {
        return Ok((Value::None, eg.clone()));
    };
    if !is_group(vm, eg) {
        return Ok((Value::None, eg.clone()));
    }
    let mut matched = Vec::new();
    let mut rest = Vec::new();
    for e in exceptions_of(vm, inst)? {
        if is_group(vm, &e) {
            let (a, b) = split(vm, &e, m)?;
            if !matches!(a, Value::None) {
                matched.push(a);
            }
            if !matches!(b, Value::None) {
                rest.push(b);
            }
        } else if matches(vm, m, &e)? {
            matched.push(e);
        } else {
            rest.push(e);
        }
    }
    Ok((subset(vm, eg, matched)?, subset(vm, eg, rest)?))
}

/// `orig.derive(excs)` with `orig`'s metadata, or None for no exceptions.
fn subset(vm: &mut Vm, orig: &Value, excs: Vec<Value>) -> PyResult<Value> {
    if excs.is_empty() {
        return Ok(Value::None);
    }
    let derive = intern("derive");
    let f = vm.get_attr(orig, &derive)?;
    let eg = vm.call(&f, &[Value::list(excs)], &[])?;
    if !is_group(vm, &eg) {
        return Err(vm.type_error("derive must return an instance of BaseExceptionGroup"));
    }
    if let (Value::Instance(new), Value::Instance(old)) = (&eg, orig) {
        copy_metadata(old, new);
    }
    Ok(eg)
}

/// `BaseException.add_note(note)` (PEP 678): appends to the `__notes__` list.
fn add_note(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let (Some(Value::Instance(inst)), Some(note)) = (args.first(), args.get(1)) else {
        return Err(vm.type_error("add_note() takes exactly one argument"));
    };
    if !matches!(note, Value::Str(_)) {
        return Err(vm.type_error(format!("note must be a str, not '{}'", vm.type_name(note))));
    }
    let key = intern("__notes__");
    match inst.dict.get_str(&key) {
        Some(Value::List(l)) => l.items.borrow_mut().push(note.clone()),
        Some(_) => return Err(vm.type_error("Cannot add note: __notes__ is not a list")),
        None => inst.dict.set_str(&key, Value::list(vec![note.clone()])),
    }
    Ok(Value::None)
}

fn copy_metadata(from: &Instance, to: &Instance) {
    let key = intern("__notes__");
    if let Some(notes @ (Value::List(_) | Value::Tuple(_))) = from.dict.get_str(&key) {
        let copy = match &notes {
            Value::List(l) => l.items.borrow().clone(),
            Value::Tuple(t) => t.to_vec(),
            _ => Vec::new(),
        };
        to.dict.set_str(&key, Value::list(copy));
    }
    if let (Some(a), Some(b)) = (&from.exc, &to.exc) {
        let a = a.borrow();
        let mut b = b.borrow_mut();
        b.traceback = a.traceback.clone();
        b.cause = a.cause.clone();
        b.context = a.context.clone();
        b.suppress_context = a.suppress_context;
        b.context_set = true;
    }
}

fn eg_split(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    this(vm, args)?;
    let Some(cond) = args.get(1) else {
        return Err(vm.type_error("split expected 1 argument, got 0"));
    };
    let m = matcher_of(vm, cond)?;
    let (a, b) = split(vm, &args[0], &m)?;
    Ok(Value::tuple(vec![a, b]))
}

fn eg_subgroup(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    this(vm, args)?;
    let Some(cond) = args.get(1) else {
        return Err(vm.type_error("subgroup expected 1 argument, got 0"));
    };
    let m = matcher_of(vm, cond)?;
    Ok(split(vm, &args[0], &m)?.0)
}

/// CHECK_EG_MATCH: (rest, match) of exception `exc` against the `except*` type `typ`.
pub fn check_eg_match(vm: &mut Vm, exc: &Value, typ: &Value) -> PyResult<(Value, Value)> {
    let types: Vec<Value> = match typ {
        Value::Tuple(t) => t.to_vec(),
        other => vec![other.clone()],
    };
    let beg = vm.exc_type("BaseExceptionGroup");
    for t in &types {
        match t {
            Value::Type(t) if t.is_exception => {
                if t.is_subtype(&beg) {
                    return Err(vm.type_error(
                        "catching ExceptionGroup with except* is not allowed. Use except instead.",
                    ));
                }
            }
            _ => {
                return Err(vm.type_error(
                    "catching classes that do not inherit from BaseException is not allowed",
                ))
            }
        }
    }
    if matches!(exc, Value::None) {
        return Ok((Value::None, Value::None));
    }
    if vm.exception_matches(exc, typ)? {
        // A naked exception that matches is wrapped in a group (CPython 3.12 gives the
        // wrapper no traceback of its own).
        let beg = Value::Type(beg);
        let wrapped = vm.call(
            &beg,
            &[Value::str(""), Value::tuple(vec![exc.clone()])],
            &[],
        )?;
        return Ok((Value::None, wrapped));
    }
    if is_group(vm, exc) {
        let (matched, rest) = split(vm, exc, &Matcher::Types(typ.clone()))?;
        return Ok((rest, matched));
    }
    Ok((exc.clone(), Value::None))
}

/// Whether `a` and `b` carry the same traceback, cause and context (a re-raise of `b`).
fn same_metadata(a: &Value, b: &Value) -> bool {
    let (Value::Instance(a), Value::Instance(b)) = (a, b) else {
        return false;
    };
    let (Some(a), Some(b)) = (&a.exc, &b.exc) else {
        return false;
    };
    let (a, b) = (a.borrow(), b.borrow());
    a.traceback.len() == b.traceback.len()
        && a.traceback
            .iter()
            .zip(&b.traceback)
            .all(|(x, y)| Rc::ptr_eq(&x.0, &y.0) && x.1 == y.1)
        && a.cause.is(&b.cause)
        && a.context.is(&b.context)
}

/// The ids of the leaf exceptions of `e`.
fn leaf_ids(vm: &mut Vm, e: &Value, out: &mut Vec<usize>) -> PyResult<()> {
    match e {
        Value::Instance(inst) if is_group(vm, e) => {
            for sub in exceptions_of(vm, inst)? {
                leaf_ids(vm, &sub, out)?;
            }
        }
        _ => out.push(e.id()),
    }
    Ok(())
}

/// PREP_RERAISE_STAR: what an `except*` statement raises once its clauses ran: `orig` (the
/// exception it caught) and `excs` (what each clause raised or re-raised, then the unmatched
/// rest).
pub fn prep_reraise_star(vm: &mut Vm, orig: &Value, excs: &Value) -> PyResult<Value> {
    let excs = vm.to_vec(excs)?;
    if excs.is_empty() {
        return Ok(Value::None);
    }
    if !is_group(vm, orig) {
        return Ok(excs[0].clone());
    }
    let mut raised = Vec::new();
    let mut reraised_ids = Vec::new();
    for e in excs {
        if matches!(e, Value::None) {
            continue;
        }
        if same_metadata(&e, orig) {
            leaf_ids(vm, &e, &mut reraised_ids)?;
        } else {
            raised.push(e);
        }
    }
    let reraised = split(vm, orig, &Matcher::Ids(reraised_ids))?.0;
    if raised.is_empty() {
        return Ok(reraised);
    }
    if !matches!(reraised, Value::None) {
        raised.push(reraised);
    }
    if raised.len() == 1 {
        return Ok(raised.remove(0));
    }
    let beg = Value::Type(vm.exc_type("BaseExceptionGroup"));
    vm.call(&beg, &[Value::str(""), Value::list(raised)], &[])
}

/// The sub-exceptions of an exception group being printed (empty for other exceptions).
pub fn sub_exceptions(vm: &mut Vm, exc: &Rc<Instance>) -> Vec<Rc<Instance>> {
    if !is_group(vm, &Value::Instance(exc.clone())) {
        return Vec::new();
    }
    exceptions_of(vm, exc)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| match v {
            Value::Instance(i) => Some(i),
            _ => None,
        })
        .collect()
}
