//! Native stand-ins for the most used pure-Python standard modules, until the VM runs the real
//! standard library: `collections` (defaultdict, Counter, deque, namedtuple, OrderedDict) and
//! `functools` (reduce, partial, lru_cache/cache, wraps, cmp_to_key), `heapq` and `dataclasses`
//! (dataclass with eq/order, field, asdict), `operator`, `string` and `copy`. Their classes are
//! ordinary classes (subclasses of dict, list or tuple) whose methods are Rust functions.

use std::rc::Rc;

use crate::builtins::{make_class, nargs, split_kw};
use crate::dict::DictObj;
use crate::objects::{BuiltinFunction, Module, NativeFn, Wrapper};
use crate::pystr::{intern, PyStr};
use crate::types::Type;
use crate::value::Value;
use crate::vm::{PyErr, PyResult, Vm};

type Kw<'a> = &'a [Rc<PyStr>];

/// A method of a natively defined class: it receives the instance itself (see
/// `BuiltinFunction::instance_method`).
pub fn method(name: &'static str, func: NativeFn) -> Value {
    Value::Builtin(Rc::new(BuiltinFunction {
        name,
        func,
        bound: None,
        needs_frame: false,
        instance_method: true,
    }))
}

fn function(name: &'static str, func: NativeFn) -> Value {
    crate::builtins::builtin(name, func)
}

/// `types.SimpleNamespace`: attributes given as keywords, compared and shown by them.
pub fn simple_namespace_class(vm: &mut Vm) -> PyResult<Rc<Type>> {
    let object = vm.t.object.clone();
    let cls = native_class(
        vm,
        "types",
        "SimpleNamespace",
        &object,
        &[
            ("__init__", namespace_init),
            ("__repr__", namespace_repr),
            ("__eq__", namespace_eq),
        ],
    )?;
    Ok(cls)
}

fn namespace_init(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    if pos.len() > 1 {
        return Err(vm.type_error("no positional arguments expected"));
    }
    let inst = this(vm, pos)?;
    for (k, v) in kw {
        inst.dict.set_str(&intern(k), v.clone());
    }
    Ok(Value::None)
}

fn namespace_repr(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let inst = this(vm, args)?;
    // A namespace inside itself shows as `namespace(...)`, as in CPython.
    if !vm.repr_enter(&args[0]) {
        return Ok(Value::str("namespace(...)"));
    }
    let items = inst.dict.items();
    let mut parts = Vec::with_capacity(items.len());
    for (k, v) in items {
        match vm.repr(&v) {
            Ok(text) => parts.push(format!("{}={text}", vm.str_of(&k).unwrap_or_default())),
            Err(e) => {
                vm.repr_leave();
                return Err(e);
            }
        }
    }
    vm.repr_leave();
    let name = if inst.class.name.as_str() == "SimpleNamespace" {
        "namespace".to_owned()
    } else {
        inst.class.name.as_str().to_owned()
    };
    Ok(Value::string(format!("{name}({})", parts.join(", "))))
}

fn namespace_eq(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "__eq__", args, 2, 2)?;
    match (&args[0], &args[1]) {
        (Value::Instance(a), Value::Instance(b)) if b.class.is_subtype(&a.class) => vm.compare(
            &Value::Dict(a.dict.clone()),
            &Value::Dict(b.dict.clone()),
            crate::ops::CmpOp::Eq,
        ),
        _ => Ok(Value::NotImplemented),
    }
}

/// A class `module.name(base)` with native methods.
fn native_class(
    vm: &mut Vm,
    module: &str,
    name: &str,
    base: &Rc<Type>,
    methods: &[(&'static str, NativeFn)],
) -> PyResult<Rc<Type>> {
    let ns = crate::ops::new_dict();
    ns.set_str(&intern("__module__"), Value::str(module));
    for (n, f) in methods {
        ns.set_str(&intern(n), method(n, *f));
    }
    make_class(vm, intern(name), vec![base.clone()], &ns, &[], None)
}

/// Completes native module `module` with its Python half `source` (the parts simplest in
/// Python, compiled by pyc-compiler when the module is first imported).
pub fn with_python_half(vm: &mut Vm, module: Value, source: &str) -> PyResult<Value> {
    if let Value::Module(m) = &module {
        let filename = format!("<{}>", m.name.as_str());
        crate::compiling::exec_in(vm, source, &filename, &m.dict)?;
    }
    Ok(module)
}

fn this(vm: &Vm, args: &[Value]) -> PyResult<Rc<crate::objects::Instance>> {
    match args.first() {
        Some(Value::Instance(i)) => Ok(i.clone()),
        _ => Err(vm.type_error("method needs an instance")),
    }
}

fn payload_dict(vm: &Vm, args: &[Value]) -> PyResult<Rc<DictObj>> {
    match args.first() {
        Some(Value::Instance(i)) => match &i.payload {
            Value::Dict(d) => Ok(d.clone()),
            _ => Err(vm.type_error("expected a dict subclass instance")),
        },
        _ => Err(vm.type_error("expected a dict subclass instance")),
    }
}

fn payload_list(vm: &Vm, args: &[Value]) -> PyResult<Rc<crate::objects::ListObj>> {
    match args.first() {
        Some(Value::Instance(i)) => match &i.payload {
            Value::List(l) => Ok(l.clone()),
            _ => Err(vm.type_error("expected a deque")),
        },
        _ => Err(vm.type_error("expected a deque")),
    }
}

fn attr(vm: &mut Vm, obj: &Value, name: &str) -> PyResult<Value> {
    vm.get_attr(obj, &intern(name))
}

// ---- defaultdict

fn dd_init(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let inst = this(vm, pos)?;
    let factory = pos.get(1).cloned().unwrap_or(Value::None);
    if !matches!(factory, Value::None) && !is_callable(vm, &factory) {
        return Err(vm.type_error("first argument must be callable or None"));
    }
    inst.dict.set_str(&intern("default_factory"), factory);
    let d = payload_dict(vm, pos)?;
    if let Some(src) = pos.get(2) {
        crate::builtins::dict_update(vm, &d, src)?;
    }
    for (k, v) in kw {
        d.set_str(&intern(k), v.clone());
    }
    Ok(Value::None)
}

fn is_callable(vm: &Vm, v: &Value) -> bool {
    match v {
        Value::Function(_) | Value::Builtin(_) | Value::BoundMethod(_) | Value::Type(_) => true,
        Value::Instance(i) => i.class.lookup(&vm.n.call).is_some(),
        _ => false,
    }
}

fn dd_missing(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "__missing__", args, 2, 2)?;
    let factory = attr(vm, &args[0], "default_factory")?;
    if matches!(factory, Value::None) {
        return Err(PyErr(
            vm.new_exception(vm.exc_type("KeyError"), vec![args[1].clone()]),
        ));
    }
    let v = vm.call(&factory, &[], &[])?;
    let d = payload_dict(vm, args)?;
    vm.dict_set(&d, args[1].clone(), v.clone())?;
    Ok(v)
}

fn dd_repr(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let factory = attr(vm, &args[0], "default_factory")?;
    let d = payload_dict(vm, args)?;
    let f = vm.repr(&factory)?;
    let body = vm.repr(&Value::Dict(d))?;
    Ok(Value::string(format!("defaultdict({f}, {body})")))
}

// ---- Counter

fn counter_update(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let d = payload_dict(vm, pos)?;
    if let Some(src) = pos.get(1) {
        let mapping = match src {
            Value::Dict(m) => Some(m.clone()),
            Value::Instance(i) => match &i.payload {
                Value::Dict(m) => Some(m.clone()),
                _ => None,
            },
            _ => None,
        };
        match mapping {
            Some(m) => {
                let items = m.items();
                for (k, v) in items {
                    let old = vm.dict_get(&d, &k)?.unwrap_or(Value::Int(0));
                    let new = vm.binary_op(&old, &v, 0)?;
                    vm.dict_set(&d, k, new)?;
                }
            }
            None => {
                let it = vm.iter(src)?;
                while let Some(k) = vm.next(&it)? {
                    let old = vm.dict_get(&d, &k)?.unwrap_or(Value::Int(0));
                    let new = vm.binary_op(&old, &Value::Int(1), 0)?;
                    vm.dict_set(&d, k, new)?;
                }
            }
        }
    }
    for (k, v) in kw {
        let key = Value::Str(intern(k));
        let old = vm.dict_get(&d, &key)?.unwrap_or(Value::Int(0));
        let new = vm.binary_op(&old, v, 0)?;
        vm.dict_set(&d, key, new)?;
    }
    Ok(Value::None)
}

fn counter_missing(_: &mut Vm, _: &[Value], _: Kw) -> PyResult<Value> {
    Ok(Value::Int(0))
}

fn counter_sorted_items(vm: &mut Vm, args: &[Value]) -> PyResult<Vec<Value>> {
    let d = payload_dict(vm, args)?;
    let mut items: Vec<Value> = d
        .map
        .borrow()
        .iter()
        .map(|(k, v)| Value::tuple(vec![k.clone(), v.clone()]))
        .collect();
    let key = function("_count", |vm, args, _| {
        vm.get_item(&args[0], &Value::Int(1))
    });
    crate::builtins::sort_values(vm, &mut items, &key, true)?;
    Ok(items)
}

fn counter_most_common(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "most_common", args, 1, 2)?;
    let mut items = counter_sorted_items(vm, args)?;
    if let Some(n) = args.get(1).filter(|n| !matches!(n, Value::None)) {
        let n = vm.index_of(n)?.max(0) as usize;
        items.truncate(n);
    }
    Ok(Value::list(items))
}

fn counter_total(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let d = payload_dict(vm, args)?;
    let values: Vec<Value> = d.map.borrow().iter().map(|(_, v)| v.clone()).collect();
    let mut acc = Value::Int(0);
    for v in values {
        acc = vm.binary_op(&acc, &v, 0)?;
    }
    Ok(acc)
}

fn counter_elements(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let d = payload_dict(vm, args)?;
    let items = d.items();
    let mut out = Vec::new();
    for (k, v) in items {
        for _ in 0..vm.index_of(&v)?.max(0) {
            out.push(k.clone());
        }
    }
    vm.iter(&Value::list(out))
}

fn counter_repr(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let items = counter_sorted_items(vm, args)?;
    if items.is_empty() {
        return Ok(Value::str("Counter()"));
    }
    let mut parts = Vec::with_capacity(items.len());
    for it in &items {
        let (k, v) = (
            vm.get_item(it, &Value::Int(0))?,
            vm.get_item(it, &Value::Int(1))?,
        );
        parts.push(format!("{}: {}", vm.repr(&k)?, vm.repr(&v)?));
    }
    Ok(Value::string(format!("Counter({{{}}})", parts.join(", "))))
}

fn counter_combine(vm: &mut Vm, args: &[Value], subtract: bool) -> PyResult<Value> {
    nargs(vm, "__add__", args, 2, 2)?;
    let (a, b) = (payload_dict(vm, args)?, payload_dict(vm, &args[1..])?);
    let cls = match &args[0] {
        Value::Instance(i) => i.class.clone(),
        _ => return Ok(Value::NotImplemented),
    };
    let out = vm.call_type(&cls, &[], &[])?;
    let od = payload_dict(vm, std::slice::from_ref(&out))?;
    let mut keys: Vec<Value> = a.map.borrow().iter().map(|(k, _)| k.clone()).collect();
    keys.extend(b.map.borrow().iter().map(|(k, _)| k.clone()));
    for k in keys {
        if vm.dict_get(&od, &k)?.is_some() {
            continue;
        }
        let x = vm.dict_get(&a, &k)?.unwrap_or(Value::Int(0));
        let y = vm.dict_get(&b, &k)?.unwrap_or(Value::Int(0));
        let r = vm.binary_op(&x, &y, if subtract { 10 } else { 0 })?;
        if vm.lt(&Value::Int(0), &r)? {
            vm.dict_set(&od, k, r)?;
        }
    }
    Ok(out)
}

fn counter_add(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    counter_combine(vm, args, false)
}

fn counter_sub(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    counter_combine(vm, args, true)
}

// ---- deque

fn deque_maxlen(vm: &mut Vm, obj: &Value) -> PyResult<Option<usize>> {
    match attr(vm, obj, "maxlen")? {
        Value::None => Ok(None),
        v => Ok(Some(vm.index_of(&v)?.max(0) as usize)),
    }
}

fn deque_init(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let inst = this(vm, pos)?;
    let maxlen = pos
        .get(2)
        .cloned()
        .or_else(|| {
            kw.iter()
                .find(|(k, _)| *k == "maxlen")
                .map(|(_, v)| (*v).clone())
        })
        .unwrap_or(Value::None);
    inst.dict.set_str(&intern("maxlen"), maxlen);
    let l = payload_list(vm, pos)?;
    l.items.borrow_mut().clear();
    if let Some(src) = pos.get(1) {
        for v in vm.to_vec(src)? {
            deque_push(vm, &pos[0], &l, v, false)?;
        }
    }
    Ok(Value::None)
}

fn deque_push(
    vm: &mut Vm,
    obj: &Value,
    l: &crate::objects::ListObj,
    v: Value,
    left: bool,
) -> PyResult<()> {
    let maxlen = deque_maxlen(vm, obj)?;
    let mut items = l.items.borrow_mut();
    if maxlen == Some(0) {
        return Ok(());
    }
    if left {
        items.insert(0, v);
        if maxlen.is_some_and(|m| items.len() > m) {
            items.pop();
        }
    } else {
        items.push(v);
        if maxlen.is_some_and(|m| items.len() > m) {
            items.remove(0);
        }
    }
    Ok(())
}

fn deque_append(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "append", args, 2, 2)?;
    let l = payload_list(vm, args)?;
    deque_push(vm, &args[0], &l, args[1].clone(), false)?;
    Ok(Value::None)
}

fn deque_appendleft(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "appendleft", args, 2, 2)?;
    let l = payload_list(vm, args)?;
    deque_push(vm, &args[0], &l, args[1].clone(), true)?;
    Ok(Value::None)
}

fn deque_extend(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    deque_extend_at(vm, args, "extend", false)
}

fn deque_extendleft(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    deque_extend_at(vm, args, "extendleft", true)
}

/// `extend` / `extendleft`: pushes every item of the iterable at one end.
fn deque_extend_at(vm: &mut Vm, args: &[Value], name: &str, left: bool) -> PyResult<Value> {
    nargs(vm, name, args, 2, 2)?;
    let l = payload_list(vm, args)?;
    for v in vm.to_vec(&args[1])? {
        deque_push(vm, &args[0], &l, v, left)?;
    }
    Ok(Value::None)
}

fn deque_pop(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let l = payload_list(vm, args)?;
    let v = l.items.borrow_mut().pop();
    v.ok_or_else(|| vm.err("IndexError", "pop from an empty deque"))
}

fn deque_popleft(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let l = payload_list(vm, args)?;
    let mut items = l.items.borrow_mut();
    if items.is_empty() {
        drop(items);
        return Err(vm.err("IndexError", "pop from an empty deque"));
    }
    Ok(items.remove(0))
}

fn deque_rotate(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "rotate", args, 1, 2)?;
    let n = match args.get(1) {
        Some(v) => vm.index_of(v)?,
        None => 1,
    };
    let l = payload_list(vm, args)?;
    let mut items = l.items.borrow_mut();
    let len = items.len() as i64;
    if len > 0 {
        let k = n.rem_euclid(len) as usize;
        items.rotate_right(k);
    }
    Ok(Value::None)
}

fn deque_repr(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let l = payload_list(vm, args)?;
    let body = vm.repr(&Value::List(l))?;
    Ok(Value::string(match deque_maxlen(vm, &args[0])? {
        Some(m) => format!("deque({body}, maxlen={m})"),
        None => format!("deque({body})"),
    }))
}

// ---- OrderedDict

fn od_repr(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let d = payload_dict(vm, args)?;
    let cls = match &args[0] {
        Value::Instance(i) => i.class.name.as_str().to_owned(),
        _ => "OrderedDict".into(),
    };
    if d.map.borrow().is_empty() {
        return Ok(Value::string(format!("{cls}()")));
    }
    let body = vm.repr(&Value::Dict(d))?;
    Ok(Value::string(format!("{cls}({body})")))
}

fn od_move_to_end(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    nargs(vm, "move_to_end", pos, 2, 3)?;
    let last = match pos
        .get(2)
        .or(kw.iter().find(|(k, _)| *k == "last").map(|(_, v)| *v))
    {
        Some(v) => vm.truthy(v)?,
        None => true,
    };
    let d = payload_dict(vm, pos)?;
    let h = vm.hash(&pos[1])?;
    let Some(v) = d.map.borrow_mut().remove(&pos[1], h) else {
        return Err(PyErr(
            vm.new_exception(vm.exc_type("KeyError"), vec![pos[1].clone()]),
        ));
    };
    if last {
        d.map.borrow_mut().insert(pos[1].clone(), h, v);
    } else {
        let mut m = crate::dict::DictMap::new();
        m.insert(pos[1].clone(), h, v);
        for (hh, k, vv) in d.map.borrow().iter_hashed() {
            m.insert(k.clone(), hh, vv.clone());
        }
        *d.map.borrow_mut() = m;
    }
    Ok(Value::None)
}

// ---- namedtuple

fn nt_new(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let Some(Value::Type(cls)) = pos.first() else {
        return Err(vm.type_error("namedtuple __new__ needs the class"));
    };
    let fields = match cls.lookup(&intern("_fields")) {
        Some(Value::Tuple(f)) => f,
        _ => return Err(vm.type_error("namedtuple class without _fields")),
    };
    let defaults = match cls.lookup(&intern("_field_defaults")) {
        Some(Value::Dict(d)) => Some(d),
        _ => None,
    };
    let given = &pos[1..];
    if given.len() > fields.len() {
        return Err(vm.type_error(format!(
            "{}() takes {} positional arguments but {} were given",
            cls.name.as_str(),
            fields.len() + 1,
            given.len() + 1
        )));
    }
    let mut values = Vec::with_capacity(fields.len());
    let mut missing = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let Value::Str(fname) = f else { continue };
        let v = given
            .get(i)
            .cloned()
            .or_else(|| {
                kw.iter()
                    .find(|(k, _)| *k == fname.as_str())
                    .map(|(_, v)| (*v).clone())
            })
            .or_else(|| defaults.as_ref().and_then(|d| d.get_str(fname)));
        match v {
            Some(v) => values.push(v),
            None => missing.push(format!("'{}'", fname.as_str())),
        }
    }
    if !missing.is_empty() {
        let list = match missing.len() {
            1 => missing[0].clone(),
            n => format!("{} and {}", missing[..n - 1].join(", "), missing[n - 1]),
        };
        return Err(vm.type_error(format!(
            "{}.__new__() missing {} required positional argument{}: {list}",
            cls.name.as_str(),
            missing.len(),
            if missing.len() == 1 { "" } else { "s" }
        )));
    }
    Ok(Value::Instance(Rc::new(crate::objects::Instance {
        class: cls.clone(),
        dict: crate::ops::new_dict(),
        exc: None,
        payload: Value::tuple(values),
        slots: Default::default(),
    })))
}

fn nt_fields(vm: &mut Vm, obj: &Value) -> PyResult<Vec<Value>> {
    match attr(vm, obj, "_fields")? {
        Value::Tuple(t) => Ok((*t).clone()),
        _ => Err(vm.type_error("namedtuple without _fields")),
    }
}

fn nt_repr(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let fields = nt_fields(vm, &args[0])?;
    let name = match &args[0] {
        Value::Instance(i) => i.class.name.as_str().to_owned(),
        _ => String::new(),
    };
    let mut parts = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let v = vm.get_item(&args[0], &Value::Int(i as i64))?;
        parts.push(format!("{}={}", vm.str_of(f)?, vm.repr(&v)?));
    }
    Ok(Value::string(format!("{name}({})", parts.join(", "))))
}

fn nt_asdict(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let fields = nt_fields(vm, &args[0])?;
    let d = crate::ops::new_dict();
    for (i, f) in fields.into_iter().enumerate() {
        let v = vm.get_item(&args[0], &Value::Int(i as i64))?;
        vm.dict_set(&d, f, v)?;
    }
    Ok(Value::Dict(d))
}

fn nt_replace(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let fields = nt_fields(vm, &pos[0])?;
    let mut values = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let name = vm.str_of(f)?;
        match kw.iter().find(|(k, _)| *k == name) {
            Some((_, v)) => values.push((*v).clone()),
            None => values.push(vm.get_item(&pos[0], &Value::Int(i as i64))?),
        }
    }
    let Value::Instance(inst) = &pos[0] else {
        return Err(vm.type_error("_replace needs a namedtuple"));
    };
    Ok(Value::Instance(Rc::new(crate::objects::Instance {
        class: inst.class.clone(),
        dict: crate::ops::new_dict(),
        exc: None,
        payload: Value::tuple(values),
        slots: Default::default(),
    })))
}

fn nt_field_get(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    // bound receiver: the field index; then the instance.
    nargs(vm, "field", args, 2, 2)?;
    vm.get_item(&args[1], &args[0])
}

/// A struct sequence type such as `sys.version_info`'s: a named tuple whose repr is qualified
/// by its module, and one instance of it holding `values`.
pub fn struct_sequence(
    vm: &mut Vm,
    module: &str,
    name: &str,
    fields: &[&str],
    values: Vec<Value>,
) -> PyResult<Value> {
    let names = Value::list(fields.iter().map(|f| Value::str(f)).collect());
    let Value::Type(cls) = namedtuple(vm, &[Value::str(name), names], &[])? else {
        return Err(vm.err("SystemError", "namedtuple made no class"));
    };
    cls.dict.set_str(&intern("__module__"), Value::str(module));
    cls.dict
        .set_str(&intern("__repr__"), method("__repr__", struct_seq_repr));
    vm.call_type(&cls, &values, &[])
}

fn struct_seq_repr(vm: &mut Vm, args: &[Value], kw: Kw) -> PyResult<Value> {
    let plain = nt_repr(vm, args, kw)?;
    let module = match &args[0] {
        Value::Instance(i) => i.class.dict.get_str(&intern("__module__")),
        _ => None,
    };
    Ok(match module {
        Some(Value::Str(m)) => Value::string(format!("{}.{}", m.as_str(), vm.str_of(&plain)?)),
        _ => plain,
    })
}

fn namedtuple(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    nargs(vm, "namedtuple", pos, 2, 2)?;
    let Value::Str(typename) = &pos[0] else {
        return Err(vm.type_error("namedtuple() typename must be a str"));
    };
    let names: Vec<String> = match &pos[1] {
        Value::Str(s) => s
            .as_str()
            .replace(',', " ")
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        other => {
            let mut v = Vec::new();
            for x in vm.to_vec(other)? {
                v.push(vm.str_of(&x)?);
            }
            v
        }
    };
    let tuple_type = vm.t.tuple.clone();
    let cls = native_class(
        vm,
        "__main__",
        typename.as_str(),
        &tuple_type,
        &[
            ("__repr__", nt_repr),
            ("_asdict", nt_asdict),
            ("_replace", nt_replace),
        ],
    )?;
    let fields = Value::tuple(names.iter().map(|n| Value::str(n)).collect());
    cls.dict.set_str(&intern("_fields"), fields.clone());
    cls.dict.set_str(&intern("__match_args__"), fields);
    cls.dict.set_str(
        &intern("__new__"),
        Value::Wrapper(Rc::new(Wrapper::StaticMethod(function("__new__", nt_new)))),
    );
    let field_defaults = crate::ops::new_dict();
    if let Some((_, defaults)) = kw.iter().find(|(k, _)| *k == "defaults") {
        let defaults = vm.to_vec(defaults)?;
        for (n, d) in names.iter().rev().zip(defaults.iter().rev()) {
            field_defaults.set_str(&intern(n), d.clone());
        }
    }
    cls.dict
        .set_str(&intern("_field_defaults"), Value::Dict(field_defaults));
    for (i, n) in names.iter().enumerate() {
        let getter = Value::Builtin(Rc::new(BuiltinFunction {
            name: "field",
            func: nt_field_get,
            bound: Some(Value::Int(i as i64)),
            needs_frame: false,
            instance_method: true,
        }));
        cls.dict.set_str(
            &intern(n),
            Value::Wrapper(Rc::new(Wrapper::Property {
                fget: getter,
                fset: Value::None,
                fdel: Value::None,
                doc: Value::None,
            })),
        );
    }
    crate::types::bump_epoch();
    Ok(Value::Type(cls))
}

/// The `collections` module.
pub fn collections_module(vm: &mut Vm) -> PyResult<Value> {
    let d = crate::ops::new_dict();
    d.set_str(&intern("__name__"), Value::str("collections"));
    let (dict_t, list_t) = (vm.t.dict.clone(), vm.t.list.clone());
    let dd = native_class(
        vm,
        "collections",
        "defaultdict",
        &dict_t,
        &[
            ("__init__", dd_init),
            ("__missing__", dd_missing),
            ("__repr__", dd_repr),
        ],
    )?;
    let counter = native_class(
        vm,
        "collections",
        "Counter",
        &dict_t,
        &[
            ("__init__", counter_update),
            ("update", counter_update),
            ("__missing__", counter_missing),
            ("most_common", counter_most_common),
            ("total", counter_total),
            ("elements", counter_elements),
            ("__repr__", counter_repr),
            ("__add__", counter_add),
            ("__sub__", counter_sub),
        ],
    )?;
    let deque = native_class(
        vm,
        "collections",
        "deque",
        &list_t,
        &[
            ("__init__", deque_init),
            ("append", deque_append),
            ("appendleft", deque_appendleft),
            ("extend", deque_extend),
            ("extendleft", deque_extendleft),
            ("pop", deque_pop),
            ("popleft", deque_popleft),
            ("rotate", deque_rotate),
            ("__repr__", deque_repr),
        ],
    )?;
    let od = native_class(
        vm,
        "collections",
        "OrderedDict",
        &dict_t,
        &[("__repr__", od_repr), ("move_to_end", od_move_to_end)],
    )?;
    for (name, t) in [
        ("defaultdict", dd),
        ("Counter", counter),
        ("deque", deque),
        ("OrderedDict", od),
    ] {
        d.set_str(&intern(name), Value::Type(t));
    }
    d.set_str(&intern("namedtuple"), function("namedtuple", namedtuple));
    let module = Value::Module(Rc::new(Module {
        name: intern("collections"),
        dict: d,
    }));
    with_python_half(vm, module, include_str!("py/collections.py"))
}

// ---- heapq (CPython's sift algorithms, so ties resolve identically)

fn heap_list(vm: &Vm, v: &Value) -> PyResult<Rc<crate::objects::ListObj>> {
    match v {
        Value::List(l) => Ok(l.clone()),
        _ => Err(vm.type_error("heap argument must be a list")),
    }
}

fn sift_down(
    vm: &mut Vm,
    heap: &crate::objects::ListObj,
    start: usize,
    mut pos: usize,
) -> PyResult<()> {
    let newitem = heap.items.borrow()[pos].clone();
    while pos > start {
        let parentpos = (pos - 1) >> 1;
        let parent = heap.items.borrow()[parentpos].clone();
        if vm.lt(&newitem, &parent)? {
            heap.items.borrow_mut()[pos] = parent;
            pos = parentpos;
            continue;
        }
        break;
    }
    heap.items.borrow_mut()[pos] = newitem;
    Ok(())
}

fn sift_up(vm: &mut Vm, heap: &crate::objects::ListObj, mut pos: usize) -> PyResult<()> {
    let endpos = heap.items.borrow().len();
    let startpos = pos;
    let newitem = heap.items.borrow()[pos].clone();
    let mut childpos = 2 * pos + 1;
    while childpos < endpos {
        let rightpos = childpos + 1;
        if rightpos < endpos {
            let (c, r) = {
                let items = heap.items.borrow();
                (items[childpos].clone(), items[rightpos].clone())
            };
            if !vm.lt(&c, &r)? {
                childpos = rightpos;
            }
        }
        let child = heap.items.borrow()[childpos].clone();
        heap.items.borrow_mut()[pos] = child;
        pos = childpos;
        childpos = 2 * pos + 1;
    }
    heap.items.borrow_mut()[pos] = newitem;
    sift_down(vm, heap, startpos, pos)
}

fn heappush(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "heappush", args, 2, 2)?;
    let heap = heap_list(vm, &args[0])?;
    heap.items.borrow_mut().push(args[1].clone());
    let last = heap.items.borrow().len() - 1;
    sift_down(vm, &heap, 0, last)?;
    Ok(Value::None)
}

fn heappop(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "heappop", args, 1, 1)?;
    let heap = heap_list(vm, &args[0])?;
    let last = heap.items.borrow_mut().pop();
    let Some(last) = last else {
        return Err(vm.err("IndexError", "index out of range"));
    };
    if heap.items.borrow().is_empty() {
        return Ok(last);
    }
    let top = std::mem::replace(&mut heap.items.borrow_mut()[0], last);
    sift_up(vm, &heap, 0)?;
    Ok(top)
}

fn heapify(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "heapify", args, 1, 1)?;
    let heap = heap_list(vm, &args[0])?;
    let n = heap.items.borrow().len();
    for i in (0..n / 2).rev() {
        sift_up(vm, &heap, i)?;
    }
    Ok(Value::None)
}

fn heapreplace(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "heapreplace", args, 2, 2)?;
    let heap = heap_list(vm, &args[0])?;
    if heap.items.borrow().is_empty() {
        return Err(vm.err("IndexError", "index out of range"));
    }
    let top = std::mem::replace(&mut heap.items.borrow_mut()[0], args[1].clone());
    sift_up(vm, &heap, 0)?;
    Ok(top)
}

fn heappushpop(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "heappushpop", args, 2, 2)?;
    let heap = heap_list(vm, &args[0])?;
    let top = heap.items.borrow().first().cloned();
    match top {
        Some(top) if vm.lt(&top, &args[1])? => {
            heap.items.borrow_mut()[0] = args[1].clone();
            sift_up(vm, &heap, 0)?;
            Ok(top)
        }
        _ => Ok(args[1].clone()),
    }
}

fn n_extreme(vm: &mut Vm, args: &[Value], kwnames: Kw, largest: bool) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    nargs(vm, "nlargest", pos, 2, 2)?;
    let n = vm.index_of(&pos[0])?.max(0) as usize;
    let key = kw
        .iter()
        .find(|(k, _)| *k == "key")
        .map(|(_, v)| (*v).clone())
        .unwrap_or(Value::None);
    let mut items = vm.to_vec(&pos[1])?;
    crate::builtins::sort_values(vm, &mut items, &key, largest)?;
    items.truncate(n);
    Ok(Value::list(items))
}

fn nlargest(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    n_extreme(vm, args, kwnames, true)
}

fn nsmallest(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    n_extreme(vm, args, kwnames, false)
}

/// The `heapq` module.
pub fn heapq_module(vm: &mut Vm) -> PyResult<Value> {
    let module = Module::native(
        "heapq",
        [
            ("heappush", heappush as NativeFn),
            ("heappop", heappop),
            ("heapify", heapify),
            ("heapreplace", heapreplace),
            ("heappushpop", heappushpop),
            ("nlargest", nlargest),
            ("nsmallest", nsmallest),
        ]
        .map(|(name, f)| (name, function(name, f))),
    );
    with_python_half(vm, module, include_str!("py/heapq.py"))
}

// ---- dataclasses

/// One dataclass field: (name, default or Null, default_factory or None, init, repr, compare).
fn dc_fields(vm: &mut Vm, cls: &Rc<Type>) -> PyResult<Vec<Vec<Value>>> {
    match cls.lookup(&intern("__dc_fields__")) {
        Some(Value::Tuple(t)) => t.iter().map(|f| vm.to_vec(f)).collect(),
        _ => Ok(Vec::new()),
    }
}

fn field_flag(f: &[Value], i: usize) -> bool {
    !matches!(f.get(i), Some(Value::Bool(false)))
}

fn dc_class(vm: &Vm, args: &[Value]) -> PyResult<Rc<Type>> {
    match args.first() {
        Some(Value::Instance(i)) => Ok(i.class.clone()),
        _ => Err(vm.type_error("dataclass method needs an instance")),
    }
}

fn dc_init(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let cls = dc_class(vm, pos)?;
    let fields = dc_fields(vm, &cls)?;
    let init_fields: Vec<&Vec<Value>> = fields.iter().filter(|f| field_flag(f, 3)).collect();
    let given = &pos[1..];
    let qual = format!("{}.__init__", cls.name.as_str());
    if given.len() > init_fields.len() {
        let required = init_fields
            .iter()
            .filter(|f| matches!(f[1], Value::Null) && matches!(f[2], Value::None))
            .count();
        let takes = if required == init_fields.len() {
            format!(
                "{} positional argument{}",
                init_fields.len() + 1,
                if init_fields.is_empty() { "" } else { "s" }
            )
        } else {
            format!(
                "from {} to {} positional arguments",
                required + 1,
                init_fields.len() + 1
            )
        };
        return Err(vm.type_error(format!(
            "{qual}() takes {takes} but {} were given",
            given.len() + 1
        )));
    }
    let mut missing = Vec::new();
    for (i, f) in init_fields.iter().enumerate() {
        let name = f[0].as_str().cloned().unwrap_or_else(|| intern("?"));
        let v = match given.get(i) {
            Some(v) => Some(v.clone()),
            None => kw
                .iter()
                .find(|(k, _)| *k == name.as_str())
                .map(|(_, v)| (*v).clone()),
        };
        let v = match v {
            Some(v) => v,
            None if !matches!(f[1], Value::Null) => f[1].clone(),
            None if !matches!(f[2], Value::None) => vm.call(&f[2], &[], &[])?,
            None => {
                missing.push(format!("'{}'", name.as_str()));
                continue;
            }
        };
        vm.set_attr(&pos[0], &name, v)?;
    }
    if !missing.is_empty() {
        let list = match missing.len() {
            1 => missing[0].clone(),
            2 => format!("{} and {}", missing[0], missing[1]),
            n => format!("{}, and {}", missing[..n - 1].join(", "), missing[n - 1]),
        };
        return Err(vm.type_error(format!(
            "{qual}() missing {} required positional argument{}: {list}",
            missing.len(),
            if missing.len() == 1 { "" } else { "s" }
        )));
    }
    for (k, _) in &kw {
        if !init_fields
            .iter()
            .any(|f| matches!(&f[0], Value::Str(s) if s.as_str() == *k))
        {
            return Err(vm.type_error(format!("{qual}() got an unexpected keyword argument '{k}'")));
        }
    }
    for f in fields.iter().filter(|f| !field_flag(f, 3)) {
        let name = f[0].as_str().cloned().unwrap_or_else(|| intern("?"));
        if !matches!(f[1], Value::Null) {
            vm.set_attr(&pos[0], &name, f[1].clone())?;
        } else if !matches!(f[2], Value::None) {
            let v = vm.call(&f[2], &[], &[])?;
            vm.set_attr(&pos[0], &name, v)?;
        }
    }
    let post = intern("__post_init__");
    if let Some(p) = cls.lookup(&post) {
        let bound = vm.bind_descriptor(p, &pos[0], None)?;
        vm.call(&bound, &[], &[])?;
    }
    Ok(Value::None)
}

fn dc_repr(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let cls = dc_class(vm, args)?;
    let fields = dc_fields(vm, &cls)?;
    let mut parts = Vec::new();
    for f in fields.iter().filter(|f| field_flag(f, 4)) {
        let name = f[0].as_str().cloned().unwrap_or_else(|| intern("?"));
        let v = vm.get_attr(&args[0], &name)?;
        parts.push(format!("{}={}", name.as_str(), vm.repr(&v)?));
    }
    Ok(Value::string(format!(
        "{}({})",
        cls.qualname.borrow().as_str(),
        parts.join(", ")
    )))
}

fn dc_values(vm: &mut Vm, obj: &Value, fields: &[Vec<Value>]) -> PyResult<Value> {
    let mut out = Vec::new();
    for f in fields.iter().filter(|f| field_flag(f, 5)) {
        let name = f[0].as_str().cloned().unwrap_or_else(|| intern("?"));
        out.push(vm.get_attr(obj, &name)?);
    }
    Ok(Value::tuple(out))
}

fn dc_compare(vm: &mut Vm, args: &[Value], op: crate::ops::CmpOp) -> PyResult<Value> {
    nargs(vm, "compare", args, 2, 2)?;
    let cls = dc_class(vm, args)?;
    let same = matches!(&args[1], Value::Instance(o) if Rc::ptr_eq(&o.class, &cls));
    if !same {
        return Ok(Value::NotImplemented);
    }
    let fields = dc_fields(vm, &cls)?;
    let (a, b) = (
        dc_values(vm, &args[0], &fields)?,
        dc_values(vm, &args[1], &fields)?,
    );
    vm.compare(&a, &b, op)
}

macro_rules! dc_cmp {
    ($($name:ident => $op:ident),* $(,)?) => {
        $(fn $name(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
            dc_compare(vm, args, crate::ops::CmpOp::$op)
        })*
    };
}

dc_cmp! { dc_eq => Eq, dc_lt => Lt, dc_le => Le, dc_gt => Gt, dc_ge => Ge }

fn make_dataclass(vm: &mut Vm, cls: &Rc<Type>, order: bool, eq: bool) -> PyResult<Value> {
    let mut fields: Vec<Value> = Vec::new();
    for base in cls.mro.iter().rev() {
        if let Some(Value::Tuple(t)) = base.dict.get_str(&intern("__dc_fields__")) {
            for f in t.iter() {
                let name = vm.get_item(f, &Value::Int(0))?;
                fields.retain(|g| !matches!(vm_get0(g), Some(n) if crate::dict::key_eq(&n, &name)));
                fields.push(f.clone());
            }
        }
    }
    let annotations = cls.dict.get_str(&intern("__annotations__"));
    if let Some(Value::Dict(ann)) = annotations {
        let names: Vec<Value> = ann.map.borrow().iter().map(|(k, _)| k.clone()).collect();
        for name in names {
            let Value::Str(n) = &name else { continue };
            let attr = cls.dict.get_str(n);
            let (default, factory, init, repr, compare) = match &attr {
                Some(Value::Instance(i)) if i.class.name.as_str() == "Field" => {
                    let g = |k: &str| i.dict.get_str(&intern(k)).unwrap_or(Value::Null);
                    let default = g("default");
                    if matches!(default, Value::Null) {
                        cls.dict.map.borrow_mut().remove(&name, n.hash());
                    } else {
                        cls.dict.set_str(n, default.clone());
                    }
                    let flag = |k: &str| match g(k) {
                        Value::Null => Value::Bool(true),
                        v => v,
                    };
                    let factory = match g("default_factory") {
                        Value::Null => Value::None,
                        f => f,
                    };
                    (
                        default,
                        factory,
                        flag("init"),
                        flag("repr"),
                        flag("compare"),
                    )
                }
                Some(v) => (
                    v.clone(),
                    Value::None,
                    Value::Bool(true),
                    Value::Bool(true),
                    Value::Bool(true),
                ),
                None => (
                    Value::Null,
                    Value::None,
                    Value::Bool(true),
                    Value::Bool(true),
                    Value::Bool(true),
                ),
            };
            fields.retain(|g| !matches!(vm_get0(g), Some(x) if crate::dict::key_eq(&x, &name)));
            fields.push(Value::tuple(vec![
                name.clone(),
                default,
                factory,
                init,
                repr,
                compare,
            ]));
        }
    }
    let field_tuple = Value::tuple(fields.clone());
    cls.dict.set_str(&intern("__dc_fields__"), field_tuple);
    let set = |name: &'static str, f: NativeFn| {
        if cls.dict.get_str(&intern(name)).is_none() {
            cls.dict.set_str(&intern(name), method(name, f));
        }
    };
    set("__init__", dc_init);
    set("__repr__", dc_repr);
    if eq {
        set("__eq__", dc_eq);
        if cls.dict.get_str(&intern("__hash__")).is_none() {
            cls.dict.set_str(&intern("__hash__"), Value::None);
        }
    }
    if order {
        set("__lt__", dc_lt);
        set("__le__", dc_le);
        set("__gt__", dc_gt);
        set("__ge__", dc_ge);
    }
    let mut match_args = Vec::new();
    for f in &fields {
        let parts = vm.to_vec(f)?;
        if field_flag(&parts, 3) {
            match_args.push(parts[0].clone());
        }
    }
    cls.dict
        .set_str(&intern("__match_args__"), Value::tuple(match_args));
    crate::types::bump_epoch();
    Ok(Value::Type(cls.clone()))
}

fn vm_get0(v: &Value) -> Option<Value> {
    match v {
        Value::Tuple(t) => t.first().cloned(),
        _ => None,
    }
}

fn dataclass(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let flag = |vm: &mut Vm, name: &str, default: bool| -> PyResult<bool> {
        match kw.iter().find(|(k, _)| *k == name) {
            Some((_, v)) => vm.truthy(v),
            None => Ok(default),
        }
    };
    let (order, eq) = (flag(vm, "order", false)?, flag(vm, "eq", true)?);
    if let Some(Value::Type(cls)) = pos.first() {
        return make_dataclass(vm, cls, order, eq);
    }
    let decorator = Value::Builtin(Rc::new(BuiltinFunction {
        name: "wrap",
        func: |vm, args, _| {
            let [Value::Tuple(opts), Value::Type(cls)] = args else {
                return Err(vm.type_error("dataclass() should be applied to a class"));
            };
            let order = matches!(opts.first(), Some(Value::Bool(true)));
            let eq = !matches!(opts.get(1), Some(Value::Bool(false)));
            make_dataclass(vm, cls, order, eq)
        },
        bound: Some(Value::tuple(vec![Value::Bool(order), Value::Bool(eq)])),
        needs_frame: false,
        instance_method: false,
    }));
    Ok(decorator)
}

fn field(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (_, kw) = split_kw(args, kwnames);
    let object = vm.t.object.clone();
    let field_cls = native_class(vm, "dataclasses", "Field", &object, &[])?;
    let inst = vm.new_instance(&field_cls, &[])?;
    if let Value::Instance(i) = &inst {
        for (k, v) in kw {
            i.dict.set_str(&intern(k), v.clone());
        }
    }
    Ok(inst)
}

fn asdict(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "asdict", args, 1, 1)?;
    fn convert(vm: &mut Vm, v: &Value) -> PyResult<Value> {
        match v {
            Value::Instance(i) if i.class.lookup(&intern("__dc_fields__")).is_some() => {
                let fields = dc_fields(vm, &i.class.clone())?;
                let d = crate::ops::new_dict();
                for f in fields {
                    let name = f[0].as_str().cloned().unwrap_or_else(|| intern("?"));
                    let x = vm.get_attr(v, &name)?;
                    let x = convert(vm, &x)?;
                    d.set_str(&name, x);
                }
                Ok(Value::Dict(d))
            }
            Value::List(l) => {
                let items = l.items.borrow().clone();
                Ok(Value::list(
                    items
                        .iter()
                        .map(|x| convert(vm, x))
                        .collect::<PyResult<_>>()?,
                ))
            }
            Value::Tuple(t) => Ok(Value::tuple(
                t.iter().map(|x| convert(vm, x)).collect::<PyResult<_>>()?,
            )),
            Value::Dict(d) => {
                let items = d.items();
                let out = crate::ops::new_dict();
                for (k, x) in items {
                    let k = convert(vm, &k)?;
                    let x = convert(vm, &x)?;
                    vm.dict_set(&out, k, x)?;
                }
                Ok(Value::Dict(out))
            }
            other => Ok(other.clone()),
        }
    }
    convert(vm, &args[0])
}

/// The `dataclasses` module: `dataclass` (with `order` and `eq`), `field`, `asdict`.
pub fn dataclasses_module() -> Value {
    Module::native(
        "dataclasses",
        [
            ("dataclass", dataclass as NativeFn),
            ("field", field),
            ("asdict", asdict),
        ]
        .map(|(name, f)| (name, function(name, f))),
    )
}

// ---- operator, string, copy

fn getter(vm: &mut Vm, args: &[Value], attr_mode: bool) -> PyResult<Value> {
    // bound receiver: a tuple of keys; then the object.
    nargs(vm, "getter", args, 2, 2)?;
    let keys = vm.to_vec(&args[0])?;
    let mut out = Vec::with_capacity(keys.len());
    for k in &keys {
        out.push(if attr_mode {
            let mut v = args[1].clone();
            let path = vm.str_of(k)?;
            for part in path.split('.') {
                v = vm.get_attr(&v, &intern(part))?;
            }
            v
        } else {
            vm.get_item(&args[1], k)?
        });
    }
    Ok(if out.len() == 1 {
        out.pop().unwrap_or(Value::None)
    } else {
        Value::tuple(out)
    })
}

fn make_getter(args: &[Value], func: NativeFn) -> Value {
    Value::Builtin(Rc::new(BuiltinFunction {
        name: "getter",
        func,
        bound: Some(Value::tuple(args.to_vec())),
        needs_frame: false,
        instance_method: false,
    }))
}

fn itemgetter(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    if args.is_empty() {
        return Err(vm.type_error("itemgetter expected 1 argument, got 0"));
    }
    Ok(make_getter(args, |vm, a, _| getter(vm, a, false)))
}

fn attrgetter(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    if args.is_empty() {
        return Err(vm.type_error("attrgetter expected 1 argument, got 0"));
    }
    Ok(make_getter(args, |vm, a, _| getter(vm, a, true)))
}

macro_rules! operator_fns {
    ($($name:ident => $nb:expr),* $(,)?) => {
        $(fn $name(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
            nargs(vm, stringify!($name), args, 2, 2)?;
            vm.binary_op(&args[0], &args[1], $nb)
        })*
    };
}

operator_fns! {
    op_add => 0, op_and => 1, op_floordiv => 2, op_lshift => 3, op_mul => 5, op_mod => 6,
    op_or => 7, op_pow => 8, op_rshift => 9, op_sub => 10, op_truediv => 11, op_xor => 12,
}

macro_rules! operator_cmps {
    ($($name:ident => $op:ident),* $(,)?) => {
        $(fn $name(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
            nargs(vm, stringify!($name), args, 2, 2)?;
            vm.compare(&args[0], &args[1], crate::ops::CmpOp::$op)
        })*
    };
}

operator_cmps! { op_lt => Lt, op_le => Le, op_eq => Eq, op_ne => Ne, op_gt => Gt, op_ge => Ge }

fn op_neg(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "neg", args, 1, 1)?;
    vm.neg(&args[0])
}

fn op_not(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "not_", args, 1, 1)?;
    Ok(Value::Bool(!vm.truthy(&args[0])?))
}

fn op_getitem(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "getitem", args, 2, 2)?;
    vm.get_item(&args[0], &args[1])
}

/// The `operator` module.
pub fn operator_module(vm: &mut Vm) -> PyResult<Value> {
    let module = Module::native(
        "operator",
        [
            ("itemgetter", itemgetter as NativeFn),
            ("attrgetter", attrgetter),
            ("add", op_add),
            ("and_", op_and),
            ("floordiv", op_floordiv),
            ("lshift", op_lshift),
            ("mul", op_mul),
            ("mod", op_mod),
            ("or_", op_or),
            ("pow", op_pow),
            ("rshift", op_rshift),
            ("sub", op_sub),
            ("truediv", op_truediv),
            ("xor", op_xor),
            ("lt", op_lt),
            ("le", op_le),
            ("eq", op_eq),
            ("ne", op_ne),
            ("gt", op_gt),
            ("ge", op_ge),
            ("neg", op_neg),
            ("not_", op_not),
            ("getitem", op_getitem),
            ("index", op_index),
        ]
        .map(|(name, f)| (name, function(name, f))),
    );
    with_python_half(vm, module, include_str!("py/operator.py"))
}

/// `operator.index(a)`.
fn op_index(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "index", args, 1, 1)?;
    match &args[0] {
        v @ (Value::Int(_) | Value::BigInt(_)) => Ok(v.clone()),
        v => Ok(Value::Int(vm.index_of(v)?)),
    }
}

/// The `string` module's constants.
pub fn string_module(vm: &mut Vm) -> PyResult<Value> {
    let d = crate::ops::new_dict();
    d.set_str(&intern("__name__"), Value::str("string"));
    let lower = "abcdefghijklmnopqrstuvwxyz";
    let upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let punct = r##"!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~"##;
    for (name, v) in [
        ("ascii_lowercase", lower.to_owned()),
        ("ascii_uppercase", upper.to_owned()),
        ("ascii_letters", format!("{lower}{upper}")),
        ("digits", "0123456789".to_owned()),
        ("hexdigits", "0123456789abcdefABCDEF".to_owned()),
        ("octdigits", "01234567".to_owned()),
        ("punctuation", punct.to_owned()),
        ("whitespace", " \t\n\r\x0b\x0c".to_owned()),
        (
            "printable",
            format!("0123456789{lower}{upper}{punct} \t\n\r\x0b\x0c"),
        ),
    ] {
        d.set_str(&intern(name), Value::string(v));
    }
    let module = Value::Module(Rc::new(Module {
        name: intern("string"),
        dict: d,
    }));
    with_python_half(vm, module, include_str!("py/string.py"))
}

fn copy_value(vm: &mut Vm, v: &Value, deep: bool) -> PyResult<Value> {
    let rec = |vm: &mut Vm, x: &Value| {
        if deep {
            copy_value(vm, x, true)
        } else {
            Ok(x.clone())
        }
    };
    Ok(match v {
        Value::List(l) => {
            let items = l.items.borrow().clone();
            Value::list(items.iter().map(|x| rec(vm, x)).collect::<PyResult<_>>()?)
        }
        Value::Dict(d) => {
            let items: Vec<(i64, Value, Value)> = d
                .map
                .borrow()
                .iter_hashed()
                .map(|(h, k, v)| (h, k.clone(), v.clone()))
                .collect();
            let mut m = crate::dict::DictMap::new();
            for (h, k, x) in items {
                let x = rec(vm, &x)?;
                m.insert(k, h, x);
            }
            Value::Dict(DictObj::new(m))
        }
        Value::Set(s) if !s.frozen => Value::Set(Rc::new(crate::objects::SetObj {
            frozen: false,
            map: std::cell::RefCell::new(s.map.borrow().clone()),
        })),
        Value::Tuple(t) if deep => {
            Value::tuple(t.iter().map(|x| rec(vm, x)).collect::<PyResult<_>>()?)
        }
        Value::Instance(i) if i.exc.is_none() => {
            let payload = if matches!(i.payload, Value::Null) {
                Value::Null
            } else {
                copy_value(vm, &i.payload, deep)?
            };
            let dict = crate::ops::new_dict();
            let items = i.dict.items();
            for (k, x) in items {
                let x = rec(vm, &x)?;
                vm.dict_set(&dict, k, x)?;
            }
            let old_slots = i.slots.borrow().clone();
            let mut slots = Vec::with_capacity(old_slots.len());
            for x in &old_slots {
                slots.push(match x {
                    Value::Null => Value::Null,
                    x => rec(vm, x)?,
                });
            }
            Value::Instance(Rc::new(crate::objects::Instance {
                class: i.class.clone(),
                dict,
                exc: None,
                payload,
                slots: std::cell::RefCell::new(slots),
            }))
        }
        other => other.clone(),
    })
}

fn copy_copy(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "copy", args, 1, 1)?;
    copy_value(vm, &args[0], false)
}

fn copy_deepcopy(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "deepcopy", args, 1, 2)?;
    copy_value(vm, &args[0], true)
}

/// The `copy` module (copy, deepcopy; shared references inside a deep copy are not preserved).
pub fn copy_module() -> Value {
    let d = crate::ops::new_dict();
    d.set_str(&intern("__name__"), Value::str("copy"));
    d.set_str(&intern("copy"), function("copy", copy_copy));
    d.set_str(&intern("deepcopy"), function("deepcopy", copy_deepcopy));
    Value::Module(Rc::new(Module {
        name: intern("copy"),
        dict: d,
    }))
}

// ---- functools

fn reduce(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "reduce", args, 2, 3)?;
    let it = vm.iter(&args[1])?;
    let mut acc = match args.get(2) {
        Some(v) => v.clone(),
        None => match vm.next(&it)? {
            Some(v) => v,
            None => return Err(vm.type_error("reduce() of empty iterable with no initial value")),
        },
    };
    while let Some(x) = vm.next(&it)? {
        acc = vm.call(&args[0], &[acc, x], &[])?;
    }
    Ok(acc)
}

fn partial_init(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let inst = this(vm, pos)?;
    let func = pos
        .get(1)
        .cloned()
        .ok_or_else(|| vm.type_error("partial needs a function"))?;
    inst.dict.set_str(&intern("func"), func);
    inst.dict
        .set_str(&intern("args"), Value::tuple(pos[2..].to_vec()));
    let keywords = crate::ops::new_dict();
    for (k, v) in kw {
        keywords.set_str(&intern(k), v.clone());
    }
    inst.dict
        .set_str(&intern("keywords"), Value::Dict(keywords));
    Ok(Value::None)
}

fn partial_call(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let func = attr(vm, &pos[0], "func")?;
    let stored = attr(vm, &pos[0], "args")?;
    let mut all = vm.to_vec(&stored)?;
    all.extend_from_slice(&pos[1..]);
    let mut names: Vec<Rc<PyStr>> = Vec::new();
    let mut values = Vec::new();
    if let Value::Dict(k) = attr(vm, &pos[0], "keywords")? {
        for (key, v) in k.map.borrow().iter() {
            if let Value::Str(s) = key {
                if !kw.iter().any(|(n, _)| *n == s.as_str()) {
                    names.push(s.clone());
                    values.push(v.clone());
                }
            }
        }
    }
    for (k, v) in kw {
        names.push(intern(k));
        values.push(v.clone());
    }
    all.extend(values);
    vm.call(&func, &all, &names)
}

/// `_lru_cache_wrapper(func, maxsize)`: `maxsize` None for an unbounded cache.
fn cache_init(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "_lru_cache_wrapper", args, 3, 3)?;
    let inst = this(vm, args)?;
    inst.dict.set_str(&intern("__wrapped__"), args[1].clone());
    inst.dict
        .set_str(&intern("_cache"), Value::Dict(crate::ops::new_dict()));
    for name in ["__name__", "__qualname__", "__doc__", "__module__"] {
        if let Ok(v) = attr(vm, &args[1], name) {
            inst.dict.set_str(&intern(name), v);
        }
    }
    inst.dict.set_str(&intern("_maxsize"), args[2].clone());
    inst.dict.set_str(&intern("_hits"), Value::Int(0));
    inst.dict.set_str(&intern("_misses"), Value::Int(0));
    Ok(Value::None)
}

fn cache_call(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let inst = this(vm, pos)?;
    let mut key = pos[1..].to_vec();
    for (k, v) in &kw {
        key.push(Value::str(k));
        key.push((*v).clone());
    }
    let key = if key.len() == 1 && kw.is_empty() && matches!(key[0], Value::Int(_) | Value::Str(_))
    {
        key[0].clone()
    } else {
        Value::tuple(key)
    };
    let Some(Value::Dict(cache)) = inst.dict.get_str(&intern("_cache")) else {
        return Err(vm.type_error("cache wrapper without a cache"));
    };
    let maxsize = match inst.dict.get_str(&intern("_maxsize")) {
        Some(Value::Int(n)) => Some(n.max(0) as usize),
        _ => None,
    };
    if let Some(v) = vm.dict_get(&cache, &key)? {
        bump(vm, &inst, "_hits")?;
        if maxsize.is_some() {
            // The most recently used entry goes last.
            let h = vm.hash(&key)?;
            cache.map.borrow_mut().remove(&key, h);
            vm.dict_set(&cache, key, v.clone())?;
        }
        return Ok(v);
    }
    bump(vm, &inst, "_misses")?;
    let func = inst
        .dict
        .get_str(&intern("__wrapped__"))
        .unwrap_or(Value::None);
    let r = vm.call(&func, &args[1..], kwnames)?;
    if maxsize == Some(0) {
        return Ok(r);
    }
    vm.dict_set(&cache, key, r.clone())?;
    if let Some(limit) = maxsize {
        if cache.map.borrow().len() > limit {
            let oldest = cache.map.borrow().iter().next().map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                let h = vm.hash(&oldest)?;
                cache.map.borrow_mut().remove(&oldest, h);
            }
        }
    }
    Ok(r)
}

fn bump(vm: &mut Vm, inst: &crate::objects::Instance, name: &str) -> PyResult<()> {
    let n = inst.dict.get_str(&intern(name)).unwrap_or(Value::Int(0));
    let n = vm.binary_op(&n, &Value::Int(1), 0)?;
    inst.dict.set_str(&intern(name), n);
    Ok(())
}

fn cache_clear(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let inst = this(vm, args)?;
    inst.dict
        .set_str(&intern("_cache"), Value::Dict(crate::ops::new_dict()));
    inst.dict.set_str(&intern("_hits"), Value::Int(0));
    inst.dict.set_str(&intern("_misses"), Value::Int(0));
    Ok(Value::None)
}

fn cache_get(_: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    // __get__(self, obj, owner): bind like a function.
    Ok(match args.get(1) {
        Some(Value::None) | None => args[0].clone(),
        Some(obj) => Value::BoundMethod(Rc::new(crate::objects::BoundMethod {
            func: args[0].clone(),
            receiver: obj.clone(),
        })),
    })
}

fn make_cache_wrapper(vm: &mut Vm, f: &Value, maxsize: Value) -> PyResult<Value> {
    let cls = match vm.modules.get_str(&intern("functools")) {
        Some(Value::Module(m)) => m.dict.get_str(&intern("_lru_cache_wrapper")),
        _ => None,
    };
    let Some(Value::Type(cls)) = cls else {
        return Err(vm.err("SystemError", "functools is not initialized"));
    };
    vm.call_type(&cls, &[f.clone(), maxsize], &[])
}

/// `lru_cache(maxsize=128, typed=False)` or `lru_cache(func)`.
fn lru_cache(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let mut maxsize = Value::Int(128);
    match pos.first() {
        Some(f) if is_callable(vm, f) => return make_cache_wrapper(vm, f, maxsize),
        Some(m @ (Value::Int(_) | Value::None)) => maxsize = m.clone(),
        Some(_) => {
            return Err(
                vm.type_error("Expected first argument to be an integer, a callable, or None")
            )
        }
        None => {}
    }
    for (k, v) in kw {
        if k == "maxsize" {
            maxsize = v.clone();
        }
    }
    let decorator = function("decorating_function", |vm, args, _| {
        nargs(vm, "decorating_function", &args[1..], 1, 1)?;
        make_cache_wrapper(vm, &args[1], args[0].clone())
    });
    Ok(Value::BoundMethod(Rc::new(crate::objects::BoundMethod {
        func: decorator,
        receiver: maxsize,
    })))
}

/// `cache(func)`: an unbounded `lru_cache`.
fn cache(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "cache", args, 1, 1)?;
    make_cache_wrapper(vm, &args[0], Value::None)
}

fn key_init(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "K", args, 2, 2)?;
    this(vm, args)?
        .dict
        .set_str(&intern("obj"), args[1].clone());
    Ok(Value::None)
}

fn key_cmp(vm: &mut Vm, args: &[Value]) -> PyResult<i64> {
    nargs(vm, "K", args, 2, 2)?;
    let cmp = attr(vm, &args[0], "_cmp")?;
    let (a, b) = (attr(vm, &args[0], "obj")?, attr(vm, &args[1], "obj")?);
    let r = vm.call(&cmp, &[a, b], &[])?;
    let zero = Value::Int(0);
    Ok(if vm.lt(&r, &zero)? {
        -1
    } else if vm.lt(&zero, &r)? {
        1
    } else {
        0
    })
}

macro_rules! key_ops {
    ($($name:ident => $test:expr),* $(,)?) => {
        $(fn $name(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
            let c = key_cmp(vm, args)?;
            let test: fn(i64) -> bool = $test;
            Ok(Value::Bool(test(c)))
        })*
    };
}

key_ops! {
    key_lt => |c| c < 0, key_le => |c| c <= 0, key_gt => |c| c > 0, key_ge => |c| c >= 0,
    key_eq => |c| c == 0,
}

fn cmp_to_key(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "cmp_to_key", args, 1, 1)?;
    let object = vm.t.object.clone();
    let cls = native_class(
        vm,
        "functools",
        "K",
        &object,
        &[
            ("__init__", key_init),
            ("__lt__", key_lt),
            ("__le__", key_le),
            ("__gt__", key_gt),
            ("__ge__", key_ge),
            ("__eq__", key_eq),
        ],
    )?;
    cls.dict.set_str(
        &intern("_cmp"),
        Value::Wrapper(Rc::new(Wrapper::StaticMethod(args[0].clone()))),
    );
    crate::types::bump_epoch();
    Ok(Value::Type(cls))
}

/// The `functools` module.
pub fn functools_module(vm: &mut Vm) -> PyResult<Value> {
    let d = crate::ops::new_dict();
    d.set_str(&intern("__name__"), Value::str("functools"));
    let object = vm.t.object.clone();
    let partial = native_class(
        vm,
        "functools",
        "partial",
        &object,
        &[("__init__", partial_init), ("__call__", partial_call)],
    )?;
    let wrapper = native_class(
        vm,
        "functools",
        "_lru_cache_wrapper",
        &object,
        &[
            ("__init__", cache_init),
            ("__call__", cache_call),
            ("cache_clear", cache_clear),
            ("__get__", cache_get),
        ],
    )?;
    d.set_str(&intern("partial"), Value::Type(partial));
    d.set_str(&intern("_lru_cache_wrapper"), Value::Type(wrapper));
    for (name, f) in [
        ("reduce", reduce as NativeFn),
        ("lru_cache", lru_cache),
        ("cache", cache),
        ("cmp_to_key", cmp_to_key),
    ] {
        d.set_str(&intern(name), function(name, f));
    }
    let module = Value::Module(Rc::new(Module {
        name: intern("functools"),
        dict: d,
    }));
    with_python_half(vm, module, include_str!("py/functools.py"))
}
