//! The builtins module, built-in type constructors, `__build_class__`, the `sys` module and
//! built-in attribute tables.

use std::cell::RefCell;
use std::rc::Rc;

use crate::dict::{DictMap, DictObj, SetMap};
use crate::frame::Frame;
use crate::int::as_int;
use crate::objects::{
    BuiltinFunction, Iter, IterState, Module, NativeFn, Range, SetObj, Slice, Wrapper,
};
use crate::pystr::{intern, PyStr};
use crate::types::{c3_mro, Type, Types, EXCEPTIONS};
use crate::value::Value;
use crate::vm::{PyErr, PyResult, Vm};

/// A built-in function value.
pub fn builtin(name: &'static str, func: NativeFn) -> Value {
    Value::Builtin(Rc::new(BuiltinFunction {
        name,
        func,
        bound: None,
        needs_frame: false,
        instance_method: false,
    }))
}

/// Rejects keyword arguments.
pub fn no_kw(vm: &Vm, name: &str, kwnames: &[Rc<PyStr>]) -> PyResult<()> {
    if kwnames.is_empty() {
        Ok(())
    } else {
        Err(vm.type_error(format!("{name}() takes no keyword arguments")))
    }
}

/// Checks a positional argument count.
pub fn nargs(vm: &Vm, name: &str, args: &[Value], min: usize, max: usize) -> PyResult<()> {
    if args.len() < min || args.len() > max {
        let msg = if min == max {
            format!(
                "{name}() takes exactly {min} argument{} ({} given)",
                if min == 1 { "" } else { "s" },
                args.len()
            )
        } else if args.len() < min {
            format!(
                "{name} expected at least {min} argument{}, got {}",
                if min == 1 { "" } else { "s" },
                args.len()
            )
        } else {
            format!(
                "{name} expected at most {max} arguments, got {}",
                args.len()
            )
        };
        return Err(vm.type_error(msg));
    }
    Ok(())
}

/// Splits vectorcall arguments into positional ones and (name, value) keywords.
pub fn split_kw<'a>(
    args: &'a [Value],
    kwnames: &'a [Rc<PyStr>],
) -> (&'a [Value], Vec<(&'a str, &'a Value)>) {
    let (pos, kw) = args.split_at(args.len() - kwnames.len());
    (
        pos,
        kwnames.iter().map(|n| n.as_str()).zip(kw.iter()).collect(),
    )
}

/// An empty set object.
pub fn new_set(_vm: &Vm, frozen: bool) -> Rc<SetObj> {
    Rc::new(SetObj {
        frozen,
        map: RefCell::new(SetMap::default()),
    })
}

/// `ascii()` applied to a repr.
pub fn ascii_of(repr: &str) -> String {
    let mut out = String::new();
    for c in repr.chars() {
        let cp = c as u32;
        if cp < 0x80 {
            out.push(c);
        } else if cp < 0x100 {
            out.push_str(&format!("\\x{cp:02x}"));
        } else if cp < 0x10000 {
            out.push_str(&format!("\\u{cp:04x}"));
        } else {
            out.push_str(&format!("\\U{cp:08x}"));
        }
    }
    out
}

/// `dict.update(other)` for a mapping or an iterable of pairs.
pub fn dict_update(vm: &mut Vm, d: &Rc<DictObj>, other: &Value) -> PyResult<()> {
    // A dict subclass that keeps dict's iteration is copied directly, as CPython does
    // (its own __getitem__ is not consulted).
    if let Some(p @ Value::Dict(_)) = vm.payload_for(other, &["__iter__"]) {
        return dict_update(vm, d, &p);
    }
    if let Value::Dict(o) = other {
        let items: Vec<(i64, Value, Value)> = o
            .map
            .borrow()
            .iter_hashed()
            .map(|(h, k, v)| (h, k.clone(), v.clone()))
            .collect();
        let mut m = d.map.borrow_mut();
        for (h, k, v) in items {
            m.insert(k, h, v);
        }
        return Ok(());
    }
    if let Value::Instance(_) = other {
        let keys = intern("keys");
        if let Ok(kf) = vm.get_attr(other, &keys) {
            let ks = vm.call(&kf, &[], &[])?;
            for k in vm.to_vec(&ks)? {
                let v = vm.get_item(other, &k)?;
                let h = vm.hash(&k)?;
                d.map.borrow_mut().insert(k, h, v);
            }
            return Ok(());
        }
    }
    for (i, pair) in vm.to_vec(other)?.into_iter().enumerate() {
        let kv = vm.to_vec(&pair).map_err(|_| {
            vm.type_error(format!(
                "cannot convert dictionary update sequence element #{i} to a sequence"
            ))
        })?;
        if kv.len() != 2 {
            return Err(vm.value_error(format!(
                "dictionary update sequence element #{i} has length {}; 2 is required",
                kv.len()
            )));
        }
        let h = vm.hash(&kv[0])?;
        d.map.borrow_mut().insert(kv[0].clone(), h, kv[1].clone());
    }
    Ok(())
}

/// Creates the built-in types and the exception hierarchy.
pub fn make_types() -> Types {
    let object = Type::builtin("object", None, Some(object_new));
    let o = Some(&object);
    let int = Type::builtin("int", o, Some(int_new));
    let mut exceptions: Vec<Rc<Type>> = Vec::new();
    for (name, base) in EXCEPTIONS {
        let base = exceptions
            .iter()
            .find(|t| t.name.as_str() == *base)
            .cloned()
            .unwrap_or_else(|| object.clone());
        let t = Type::builtin(name, Some(&base), None);
        exceptions.push(t);
    }
    Types {
        type_: Type::builtin("type", o, Some(type_new)),
        bool_: Type::builtin("bool", Some(&int), Some(bool_new)),
        int,
        float: Type::builtin("float", o, Some(float_new)),
        complex: Type::builtin("complex", o, Some(complex_new)),
        str_: Type::builtin("str", o, Some(str_new)),
        bytes: Type::builtin("bytes", o, Some(crate::bytesobj::bytes_new)),
        bytearray: Type::builtin("bytearray", o, Some(crate::bytesobj::bytearray_new)),
        tuple: Type::builtin("tuple", o, Some(tuple_new)),
        list: Type::builtin("list", o, Some(list_new)),
        dict: Type::builtin("dict", o, Some(dict_new)),
        set: Type::builtin("set", o, Some(set_new)),
        frozenset: Type::builtin("frozenset", o, Some(frozenset_new)),
        none: Type::builtin("NoneType", o, None),
        not_implemented: Type::builtin("NotImplementedType", o, None),
        ellipsis: Type::builtin("ellipsis", o, None),
        range: Type::builtin("range", o, Some(range_new)),
        slice: Type::builtin("slice", o, Some(slice_new)),
        function: Type::builtin("function", o, None),
        builtin_function: Type::builtin("builtin_function_or_method", o, None),
        method: Type::builtin("method", o, None),
        cell: Type::builtin("cell", o, None),
        code: Type::builtin("code", o, None),
        generator: Type::builtin("generator", o, None),
        iterator: Type::builtin("iterator", o, None),
        module: Type::builtin("module", o, None),
        property: Type::builtin("property", o, Some(property_new)),
        staticmethod: Type::builtin("staticmethod", o, Some(staticmethod_new)),
        classmethod: Type::builtin("classmethod", o, Some(classmethod_new)),
        super_: Type::builtin("super", o, Some(super_new)),
        enumerate: Type::builtin("enumerate", o, Some(enumerate_new)),
        zip: Type::builtin("zip", o, Some(zip_new)),
        map: Type::builtin("map", o, Some(map_new)),
        filter: Type::builtin("filter", o, Some(filter_new)),
        reversed: Type::builtin("reversed", o, Some(reversed_new)),
        file: Type::builtin("TextIOWrapper", o, None),
        dict_keys: Type::builtin("dict_keys", o, None),
        dict_values: Type::builtin("dict_values", o, None),
        dict_items: Type::builtin("dict_items", o, None),
        member_descriptor: Type::builtin("member_descriptor", o, None),
        typevar: Type::builtin("TypeVar", o, Some(crate::typeparams::typevar_new)),
        paramspec: Type::builtin("ParamSpec", o, None),
        typevartuple: Type::builtin("TypeVarTuple", o, None),
        type_alias: Type::builtin("TypeAliasType", o, None),
        generic: Type::builtin("Generic", o, None),
        generic_alias: Type::builtin("GenericAlias", o, None),
        typing_alias: Type::builtin("_GenericAlias", o, None),
        union_type: Type::builtin("UnionType", o, None),
        typing_union: Type::builtin("_UnionGenericAlias", o, None),
        object,
        exceptions,
    }
}

/// Fills the builtins namespace, the method tables and `sys`.
pub fn install(vm: &mut Vm, argv: Vec<String>) {
    let b = vm.builtins.clone();
    let set = |name: &str, v: Value| b.set_str(&intern(name), v);
    for (name, t) in vm.t.named() {
        if !matches!(
            name,
            "NoneType"
                | "NotImplementedType"
                | "ellipsis"
                | "function"
                | "builtin_function_or_method"
                | "method"
                | "cell"
                | "code"
                | "generator"
                | "iterator"
                | "module"
                | "TextIOWrapper"
                | "dict_keys"
                | "dict_values"
                | "dict_items"
                | "member_descriptor"
                | "TypeVar"
                | "ParamSpec"
                | "TypeVarTuple"
                | "TypeAliasType"
                | "Generic"
                | "GenericAlias"
                | "_GenericAlias"
                | "UnionType"
                | "_UnionGenericAlias"
        ) {
            set(name, Value::Type(t));
        }
    }
    for t in &vm.t.exceptions {
        set(t.name.as_str(), Value::Type(t.clone()));
    }
    let os_error = Value::Type(vm.exc_type("OSError"));
    set("EnvironmentError", os_error.clone());
    set("IOError", os_error);
    set("None", Value::None);
    set("__name__", Value::str("builtins"));
    set("Ellipsis", Value::Ellipsis);
    set("NotImplemented", Value::NotImplemented);
    set("__debug__", Value::Bool(true));
    let fns: &[(&'static str, NativeFn)] = &[
        ("print", bi_print),
        ("len", bi_len),
        ("repr", bi_repr),
        ("ascii", bi_ascii),
        ("isinstance", bi_isinstance),
        ("issubclass", bi_issubclass),
        ("abs", bi_abs),
        ("min", bi_min),
        ("max", bi_max),
        ("sum", bi_sum),
        ("sorted", bi_sorted),
        ("iter", bi_iter),
        ("next", bi_next),
        ("hash", bi_hash),
        ("id", bi_id),
        ("callable", bi_callable),
        ("chr", bi_chr),
        ("ord", bi_ord),
        ("hex", bi_hex),
        ("oct", bi_oct),
        ("bin", bi_bin),
        ("format", bi_format),
        ("any", bi_any),
        ("all", bi_all),
        ("getattr", bi_getattr),
        ("setattr", bi_setattr),
        ("hasattr", bi_hasattr),
        ("delattr", bi_delattr),
        ("divmod", bi_divmod),
        ("pow", bi_pow),
        ("round", bi_round),
        ("__build_class__", bi_build_class),
        ("input", bi_input),
        ("open", crate::files::bi_open),
        ("__import__", bi_import),
        ("compile", crate::compiling::bi_compile),
        ("exit", sys_exit),
        ("quit", sys_exit),
    ];
    for (name, f) in fns {
        set(name, builtin(name, *f));
    }
    let frame_fns: &[(&'static str, NativeFn)] = &[
        ("globals", bi_globals),
        ("locals", bi_locals),
        ("vars", bi_vars),
        ("dir", bi_dir),
        ("exec", crate::compiling::bi_exec),
        ("eval", crate::compiling::bi_eval),
    ];
    for (name, func) in frame_fns {
        set(
            name,
            Value::Builtin(Rc::new(BuiltinFunction {
                name,
                func: *func,
                bound: None,
                needs_frame: true,
                instance_method: false,
            })),
        );
    }
    crate::methods::install(vm);
    crate::coroutine::install(vm);
    // Creating two classes from built-in bases cannot fail.
    let _ = crate::excgroup::install(vm);
    crate::bytesobj::install(vm);
    crate::slots::install(vm);
    crate::typeparams::install(vm);
    crate::files::install(&vm.t.file);
    let type_dict = vm.t.type_.dict.clone();
    type_dict.set_str(
        &intern("__new__"),
        Value::Wrapper(Rc::new(Wrapper::StaticMethod(builtin(
            "__new__",
            type_new_meta,
        )))),
    );
    type_dict.set_str(&intern("__call__"), builtin("__call__", type_call));
    type_dict.set_str(
        &intern("__prepare__"),
        Value::Wrapper(Rc::new(Wrapper::ClassMethod(builtin(
            "__prepare__",
            type_prepare,
        )))),
    );
    type_dict.set_str(&intern("__init__"), builtin("__init__", type_init));
    vm.t.dict.dict.set_str(
        &intern("fromkeys"),
        Value::Wrapper(Rc::new(Wrapper::StaticMethod(builtin(
            "fromkeys",
            dict_fromkeys,
        )))),
    );
    // sys
    let sys = vm.sys.clone();
    let s = |name: &str, v: Value| sys.dict.set_str(&intern(name), v);
    s("__name__", Value::str("sys"));
    s(
        "argv",
        Value::list(argv.into_iter().map(Value::string).collect()),
    );
    s("exit", builtin("exit", sys_exit));
    s("exc_info", builtin("exc_info", sys_exc_info));
    s("exception", builtin("exception", sys_exception));
    s(
        "getrecursionlimit",
        builtin("getrecursionlimit", sys_getrecursionlimit),
    );
    s(
        "setrecursionlimit",
        builtin("setrecursionlimit", sys_setrecursionlimit),
    );
    s("maxsize", Value::Int(i64::MAX));
    s("byteorder", Value::str("little"));
    s("platform", Value::str("linux"));
    s("modules", Value::Dict(vm.modules.clone()));
    if let Some(stdin) = crate::files::stdin() {
        s("stdin", stdin);
    }
    for (name, write, flush) in [
        ("stdout", stdout_write as NativeFn, stdout_flush as NativeFn),
        ("stderr", stderr_write, stdout_flush),
    ] {
        let d = crate::ops::new_dict();
        d.set_str(&intern("write"), builtin("write", write));
        d.set_str(&intern("flush"), builtin("flush", flush));
        let stream = Rc::new(Module {
            name: intern(&format!("<{name}>")),
            dict: d,
        });
        s(name, Value::Module(stream));
    }
    vm.modules
        .set_str(&intern("sys"), Value::Module(sys.clone()));
    let bm = Rc::new(Module {
        name: intern("builtins"),
        dict: vm.builtins.clone(),
    });
    vm.modules.set_str(&intern("builtins"), Value::Module(bm));
}

/// `import name` (absolute): see [`crate::importer`].
pub fn import_module(vm: &mut Vm, name: &Rc<PyStr>) -> PyResult<Value> {
    crate::importer::import_module(vm, name)
}

/// A new native module called `name`, or None if the VM has none by that name.
pub fn native_module(vm: &mut Vm, name: &Rc<PyStr>) -> PyResult<Option<Value>> {
    Ok(Some(match name.as_str() {
        "math" => crate::math::module(),
        "itertools" => crate::itertools::module(vm)?,
        "time" => crate::time::module(),
        "random" => crate::random::module(),
        "collections" => crate::natives::collections_module(vm)?,
        "functools" => crate::natives::functools_module(vm)?,
        "heapq" => crate::natives::heapq_module(vm)?,
        "dataclasses" => crate::natives::dataclasses_module(),
        "operator" => crate::natives::operator_module(vm)?,
        "string" => crate::natives::string_module(vm)?,
        "copy" => crate::natives::copy_module(),
        "asyncio" => crate::asyncio::module(vm)?,
        "os" => crate::os::module(vm)?,
        "io" => {
            let module = Module::native("io", []);
            crate::natives::with_python_half(vm, module, include_str!("py/io.py"))?
        }
        "types" => {
            let module = Module::native("types", []);
            crate::natives::with_python_half(vm, module, include_str!("py/types.py"))?
        }
        "posixpath" => crate::os::path_module(vm)?,
        "importlib" => crate::importlib::module(),
        "importlib.util" => crate::importlib::util_module(),
        _ => return Ok(None),
    }))
}

fn stream_text(vm: &mut Vm, args: &[Value]) -> PyResult<String> {
    nargs(vm, "write", args, 1, 1)?;
    match &args[0] {
        Value::Str(s) => Ok(s.as_str().to_owned()),
        other => Err(vm.type_error(format!(
            "write() argument must be str, not {}",
            vm.type_name(other)
        ))),
    }
}

fn stdout_write(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    let text = stream_text(vm, args)?;
    vm.write_out(&text);
    Ok(Value::Int(text.chars().count() as i64))
}

fn stderr_write(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    let text = stream_text(vm, args)?;
    vm.flush();
    eprint!("{text}");
    Ok(Value::Int(text.chars().count() as i64))
}

fn stdout_flush(vm: &mut Vm, _: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    vm.flush();
    Ok(Value::None)
}

fn bi_input(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "input", args, 0, 1)?;
    if let Some(p) = args.first() {
        let p = vm.str_of(p)?;
        vm.write_out(&p);
    }
    vm.flush();
    // Read through sys.stdin's buffer when it is ours, so input() and sys.stdin interleave.
    if let Some(stdin @ Value::Wrapper(_)) = vm.sys.dict.get_str(&intern("stdin")) {
        let line = crate::files::readline_value(vm, &stdin)?;
        let Value::Str(s) = line else {
            return Err(vm.type_error("stdin returned bytes"));
        };
        if s.as_str().is_empty() {
            return Err(vm.err("EOFError", "EOF when reading a line"));
        }
        return Ok(Value::str(
            s.as_str().strip_suffix('\n').unwrap_or(s.as_str()),
        ));
    }
    let mut line = String::new();
    match std::io::stdin().read_line(&mut line) {
        Ok(0) => Err(vm.err("EOFError", "EOF when reading a line")),
        Ok(_) => {
            if line.ends_with('\n') {
                line.pop();
            }
            Ok(Value::string(line))
        }
        Err(e) => Err(crate::exc_attrs::os_error(vm, &e, None)),
    }
}

fn dict_fromkeys(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "fromkeys", args, 1, 2)?;
    let value = args.get(1).cloned().unwrap_or(Value::None);
    let d = DictObj::new(DictMap::new());
    for k in vm.to_vec(&args[0])? {
        vm.dict_set(&d, k, value.clone())?;
    }
    Ok(Value::Dict(d))
}

fn bi_import(vm: &mut Vm, args: &[Value], kwnames: &[Rc<PyStr>]) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    nargs(vm, "__import__", pos, 1, 5)?;
    let Value::Str(name) = &pos[0] else {
        return Err(vm.type_error("__import__() argument 1 must be str"));
    };
    let find = |i: usize, k: &str| {
        pos.get(i)
            .cloned()
            .or_else(|| kw.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).clone()))
    };
    let globals = match find(1, "globals") {
        Some(Value::Dict(d)) => d,
        _ => crate::ops::new_dict(),
    };
    let fromlist = match find(3, "fromlist") {
        Some(Value::List(l)) => Value::tuple(l.items.borrow().clone()),
        Some(v) => v,
        None => Value::None,
    };
    let level = match find(4, "level") {
        Some(v) => vm.index_of(&v)?,
        None => 0,
    };
    crate::importer::import_name(vm, &intern(name.as_str()), &globals, &fromlist, level)
}

fn sys_exit(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    Err(PyErr(
        vm.new_exception(vm.exc_type("SystemExit"), args.to_vec()),
    ))
}

fn sys_exception(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "exception", args, 0, 0)?;
    Ok(match &vm.exc_info {
        Value::Instance(_) => vm.exc_info.clone(),
        _ => Value::None,
    })
}

fn sys_exc_info(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "exc_info", args, 0, 0)?;
    Ok(match &vm.exc_info {
        Value::Instance(i) => Value::tuple(vec![
            Value::Type(i.class.clone()),
            vm.exc_info.clone(),
            Value::None,
        ]),
        _ => Value::tuple(vec![Value::None, Value::None, Value::None]),
    })
}

fn sys_getrecursionlimit(vm: &mut Vm, _: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    Ok(Value::Int(vm.recursion_limit as i64))
}

fn sys_setrecursionlimit(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "setrecursionlimit", args, 1, 1)?;
    let n = vm.index_of(&args[0])?;
    if n < 1 {
        return Err(vm.value_error("recursion limit must be greater or equal than 1"));
    }
    vm.recursion_limit = n as usize;
    Ok(Value::None)
}

fn bi_print(vm: &mut Vm, args: &[Value], kwnames: &[Rc<PyStr>]) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let mut sep = " ".to_owned();
    let mut end = "\n".to_owned();
    let mut to_stderr = false;
    let mut file = None;
    for (k, v) in kw {
        match (k, v) {
            ("sep", Value::Str(s)) => sep = s.as_str().to_owned(),
            ("end", Value::Str(s)) => end = s.as_str().to_owned(),
            ("sep" | "end" | "flush" | "file", Value::None) | ("flush", _) => {}
            ("file", f) => {
                let stderr = vm.sys.dict.get_str(&intern("stderr"));
                let stdout = vm.sys.dict.get_str(&intern("stdout"));
                to_stderr = stderr.is_some_and(|s| s.is(f));
                if !to_stderr && !stdout.is_some_and(|s| s.is(f)) {
                    file = Some(f.clone());
                }
            }
            (k, _) => {
                return Err(
                    vm.type_error(format!("'{k}' is an invalid keyword argument for print()"))
                )
            }
        }
    }
    let mut out = String::new();
    for (i, a) in pos.iter().enumerate() {
        if i > 0 {
            out.push_str(&sep);
        }
        match a {
            Value::Str(s) => out.push_str(s.as_str()),
            other => out.push_str(&vm.str_of(other)?),
        }
    }
    out.push_str(&end);
    if let Some(f) = file {
        let write = intern("write");
        let w = vm.get_attr(&f, &write)?;
        vm.call(&w, &[Value::string(out)], &[])?;
        return Ok(Value::None);
    }
    if to_stderr {
        vm.flush();
        eprint!("{out}");
    } else {
        vm.write_out(&out);
    }
    Ok(Value::None)
}

fn bi_len(vm: &mut Vm, args: &[Value], kw: &[Rc<PyStr>]) -> PyResult<Value> {
    no_kw(vm, "len", kw)?;
    nargs(vm, "len", args, 1, 1)?;
    Ok(Value::Int(vm.len(&args[0])? as i64))
}

fn bi_repr(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "repr", args, 1, 1)?;
    Ok(Value::string(vm.repr(&args[0])?))
}

fn bi_ascii(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "ascii", args, 1, 1)?;
    Ok(Value::string(ascii_of(&vm.repr(&args[0])?)))
}

fn class_check(vm: &mut Vm, t: &Rc<Type>, spec: &Value, name: &str) -> PyResult<bool> {
    crate::typeparams::check_not_alias(vm, spec, name)?;
    if let Some(args) = crate::typeparams::union_args(vm, spec) {
        return class_check(vm, t, &args, name);
    }
    match spec {
        Value::Type(c) => Ok(t.is_subtype(c)),
        Value::Tuple(items) => {
            for i in items.iter() {
                if class_check(vm, t, i, name)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        _ => Err(vm.type_error(format!(
            "{name}() arg 2 must be a type, a tuple of types, or a union"
        ))),
    }
}

fn bi_isinstance(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "isinstance", args, 2, 2)?;
    Ok(Value::Bool(subclass_hook(vm, &args[0], &args[1], true)?))
}

fn bi_issubclass(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "issubclass", args, 2, 2)?;
    if !matches!(&args[0], Value::Type(_)) {
        return Err(vm.type_error("issubclass() arg 1 must be a class"));
    }
    Ok(Value::Bool(subclass_hook(vm, &args[0], &args[1], false)?))
}

/// isinstance/issubclass, honouring a metaclass's `__instancecheck__`/`__subclasscheck__`.
fn subclass_hook(vm: &mut Vm, x: &Value, spec: &Value, instance: bool) -> PyResult<bool> {
    let (hook, name) = if instance {
        ("__instancecheck__", "isinstance")
    } else {
        ("__subclasscheck__", "issubclass")
    };
    match spec {
        Value::Tuple(items) => {
            for i in items.iter() {
                if subclass_hook(vm, x, i, instance)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Value::Type(c) if c.meta.is_some() => {
            let exact = instance && Rc::ptr_eq(&vm.type_of(x), c);
            if let (false, Some(f)) = (exact, c.meta.as_ref().and_then(|m| m.lookup(&intern(hook))))
            {
                let f = vm.bind_descriptor(f, spec, None)?;
                let r = vm.call(&f, std::slice::from_ref(x), &[])?;
                return vm.truthy(&r);
            }
            subclass_plain(vm, x, spec, name)
        }
        _ => subclass_plain(vm, x, spec, name),
    }
}

fn subclass_plain(vm: &mut Vm, x: &Value, spec: &Value, name: &str) -> PyResult<bool> {
    let t = match x {
        Value::Type(t) if name == "issubclass" => t.clone(),
        v => vm.type_of(v),
    };
    class_check(vm, &t, spec, name)
}

fn bi_abs(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "abs", args, 1, 1)?;
    match &args[0] {
        Value::Float(f) => Ok(Value::Float(f.abs())),
        Value::Complex(c) => Ok(Value::Float(c.0.hypot(c.1))),
        v if as_int(v).is_some() => {
            if as_int(v).is_some_and(|i| i.is_negative()) {
                vm.neg(v)
            } else {
                vm.pos(v)
            }
        }
        v => {
            let n = vm.n.abs.clone();
            match vm.call_special(v, &n, &[])? {
                Some(r) => Ok(r),
                None => {
                    Err(vm.type_error(format!("bad operand type for abs(): '{}'", vm.type_name(v))))
                }
            }
        }
    }
}

fn min_max(vm: &mut Vm, args: &[Value], kwnames: &[Rc<PyStr>], want_max: bool) -> PyResult<Value> {
    let name = if want_max { "max" } else { "min" };
    let (pos, kw) = split_kw(args, kwnames);
    let mut key = Value::None;
    let mut default = None;
    for (k, v) in kw {
        match k {
            "key" => key = v.clone(),
            "default" => default = Some(v.clone()),
            _ => {
                return Err(
                    vm.type_error(format!("'{k}' is an invalid keyword argument for {name}()"))
                )
            }
        }
    }
    let items = match pos.len() {
        0 => return Err(vm.type_error(format!("{name} expected at least 1 argument, got 0"))),
        1 => vm.to_vec(&pos[0])?,
        _ => pos.to_vec(),
    };
    let mut best: Option<(Value, Value)> = None;
    for item in items {
        let k = if matches!(key, Value::None) {
            item.clone()
        } else {
            vm.call(&key, std::slice::from_ref(&item), &[])?
        };
        let better = match &best {
            None => true,
            Some((bk, _)) => {
                if want_max {
                    vm.lt(bk, &k)?
                } else {
                    vm.lt(&k, bk)?
                }
            }
        };
        if better {
            best = Some((k, item));
        }
    }
    match best {
        Some((_, v)) => Ok(v),
        None => {
            default.ok_or_else(|| vm.value_error(format!("{name}() iterable argument is empty")))
        }
    }
}

fn bi_min(vm: &mut Vm, args: &[Value], kw: &[Rc<PyStr>]) -> PyResult<Value> {
    min_max(vm, args, kw, false)
}

fn bi_max(vm: &mut Vm, args: &[Value], kw: &[Rc<PyStr>]) -> PyResult<Value> {
    min_max(vm, args, kw, true)
}

fn bi_sum(vm: &mut Vm, args: &[Value], kwnames: &[Rc<PyStr>]) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    nargs(vm, "sum", pos, 1, 2)?;
    let mut acc = pos
        .get(1)
        .cloned()
        .or_else(|| {
            kw.iter()
                .find(|(k, _)| *k == "start")
                .map(|(_, v)| (*v).clone())
        })
        .unwrap_or(Value::Int(0));
    if matches!(acc, Value::Str(_)) {
        return Err(vm.type_error("sum() can't sum strings [use ''.join(seq) instead]"));
    }
    let it = vm.iter(&pos[0])?;
    // Floats are added with Neumaier compensation, as CPython 3.12's sum() does.
    let mut comp: Option<(f64, f64)> = None;
    while let Some(x) = vm.next(&it)? {
        if let Some((f, c)) = &mut comp {
            let xf = match &x {
                Value::Float(v) => Some(*v),
                Value::Int(i) => Some(*i as f64),
                _ => None,
            };
            if let Some(xv) = xf {
                let t = *f + xv;
                if f.abs() >= xv.abs() {
                    *c += (*f - t) + xv;
                } else {
                    *c += (xv - t) + *f;
                }
                *f = t;
                continue;
            }
            let (f, c) = comp.take().unwrap_or_default();
            acc = Value::Float(if c != 0.0 && c.is_finite() { f + c } else { f });
        }
        acc = vm.binary_op(&acc, &x, 0)?;
        if let Value::Float(f) = acc {
            comp = Some((f, 0.0));
        }
    }
    if let Some((f, c)) = comp {
        acc = Value::Float(if c != 0.0 && c.is_finite() { f + c } else { f });
    }
    Ok(acc)
}

/// Sorts `items` stably by `key` with Python's `<`; `reverse` keeps equal items in their
/// original order, as CPython does (reverse, stable sort, reverse). Every comparison asks
/// whether a later item is less than an earlier one, as CPython's timsort does, so errors name
/// the same operand types.
pub fn sort_values(
    vm: &mut Vm,
    items: &mut Vec<Value>,
    key: &Value,
    reverse: bool,
) -> PyResult<()> {
    if reverse {
        items.reverse();
    }
    let keys: Vec<Value> = if matches!(key, Value::None) {
        items.clone()
    } else {
        items
            .iter()
            .map(|v| vm.call(key, std::slice::from_ref(v), &[]))
            .collect::<PyResult<_>>()?
    };
    let mut order: Vec<usize> = (0..items.len()).collect();
    merge_sort(vm, &keys, &mut order)?;
    let mut sorted: Vec<Value> = order.into_iter().map(|i| items[i].clone()).collect();
    if reverse {
        sorted.reverse();
    }
    *items = sorted;
    Ok(())
}

/// Stable merge sort of `order` (indices into `keys`), binary insertion for short runs.
fn merge_sort(vm: &mut Vm, keys: &[Value], order: &mut [usize]) -> PyResult<()> {
    const RUN: usize = 32;
    if order.len() <= RUN {
        for i in 1..order.len() {
            let pivot = order[i];
            let (mut lo, mut hi) = (0, i);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if vm.lt(&keys[pivot], &keys[order[mid]])? {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            order.copy_within(lo..i, lo + 1);
            order[lo] = pivot;
        }
        return Ok(());
    }
    let mid = order.len() / 2;
    merge_sort(vm, keys, &mut order[..mid])?;
    merge_sort(vm, keys, &mut order[mid..])?;
    let left = order[..mid].to_vec();
    let (mut i, mut j, mut k) = (0, mid, 0);
    while i < left.len() && j < order.len() {
        if vm.lt(&keys[order[j]], &keys[left[i]])? {
            order[k] = order[j];
            j += 1;
        } else {
            order[k] = left[i];
            i += 1;
        }
        k += 1;
    }
    while i < left.len() {
        order[k] = left[i];
        i += 1;
        k += 1;
    }
    Ok(())
}

/// Parses list.sort / sorted keywords.
pub fn sort_kw(vm: &mut Vm, kw: &[(&str, &Value)]) -> PyResult<(Value, bool)> {
    let mut key = Value::None;
    let mut reverse = false;
    for (k, v) in kw {
        match *k {
            "key" => key = (*v).clone(),
            "reverse" => reverse = vm.truthy(v)?,
            _ => {
                return Err(
                    vm.type_error(format!("'{k}' is an invalid keyword argument for sort()"))
                )
            }
        }
    }
    Ok((key, reverse))
}

fn bi_sorted(vm: &mut Vm, args: &[Value], kwnames: &[Rc<PyStr>]) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    nargs(vm, "sorted", pos, 1, 1)?;
    let (key, reverse) = sort_kw(vm, &kw)?;
    let mut items = vm.to_vec(&pos[0])?;
    sort_values(vm, &mut items, &key, reverse)?;
    Ok(Value::list(items))
}

fn bi_iter(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "iter", args, 1, 2)?;
    if args.len() == 2 {
        return Ok(Value::Iter(Rc::new(Iter {
            state: RefCell::new(IterState::Callable {
                func: args[0].clone(),
                sentinel: args[1].clone(),
            }),
        })));
    }
    vm.iter(&args[0])
}

fn bi_next(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "next", args, 1, 2)?;
    if let Value::Generator(g) = &args[0] {
        let g = g.clone();
        return match vm.gen_resume(&g, Value::None, None)? {
            crate::generator::GenStep::Yield(v) => Ok(v),
            crate::generator::GenStep::Return(v) => match args.get(1) {
                Some(d) => Ok(d.clone()),
                None => Err(vm.stop_iteration(v)),
            },
        };
    }
    if let Value::Instance(_) = &args[0] {
        // The iterator's own StopIteration propagates (with its value) when there is no default.
        let n = vm.n.next.clone();
        return match vm.call_special(&args[0], &n, &[]) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(vm.type_error(format!(
                "'{}' object is not an iterator",
                vm.type_name(&args[0])
            ))),
            Err(e) if vm.err_is(&e, "StopIteration") && args.len() > 1 => Ok(args[1].clone()),
            Err(e) => Err(e),
        };
    }
    match vm.next(&args[0])? {
        Some(v) => Ok(v),
        None => match args.get(1) {
            Some(d) => Ok(d.clone()),
            None => Err(vm.stop_iteration(Value::None)),
        },
    }
}

fn bi_hash(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "hash", args, 1, 1)?;
    Ok(Value::Int(vm.hash(&args[0])?))
}

fn bi_id(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "id", args, 1, 1)?;
    Ok(Value::Int(args[0].id() as i64))
}

fn bi_callable(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "callable", args, 1, 1)?;
    Ok(Value::Bool(match &args[0] {
        Value::Function(_) | Value::Builtin(_) | Value::BoundMethod(_) | Value::Type(_) => true,
        Value::Instance(i) => i.class.lookup(&vm.n.call.clone()).is_some(),
        _ => false,
    }))
}

fn bi_chr(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "chr", args, 1, 1)?;
    let i = vm.index_of(&args[0])?;
    match u32::try_from(i).ok().and_then(char::from_u32) {
        Some(c) => Ok(crate::ops::char_value(c)),
        None => Err(vm.value_error("chr() arg not in range(0x110000)")),
    }
}

fn bi_ord(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "ord", args, 1, 1)?;
    match &args[0] {
        Value::Str(s) => {
            let mut it = s.as_str().chars();
            match (it.next(), it.next()) {
                (Some(c), None) => Ok(Value::Int(c as i64)),
                _ => Err(vm.type_error(format!(
                    "ord() expected a character, but string of length {} found",
                    s.char_len()
                ))),
            }
        }
        other => Err(vm.type_error(format!(
            "ord() expected string of length 1, but {} found",
            vm.type_name(other)
        ))),
    }
}

fn radix(vm: &mut Vm, v: &Value, base: u32, prefix: &str) -> PyResult<Value> {
    let big = match as_int(v) {
        Some(i) => i.big(),
        None => {
            let i = vm.index_of(v)?;
            num_bigint::BigInt::from(i)
        }
    };
    let neg = big.sign() == num_bigint::Sign::Minus;
    let digits = big.magnitude().to_str_radix(base);
    Ok(Value::string(format!(
        "{}{prefix}{digits}",
        if neg { "-" } else { "" }
    )))
}

fn bi_hex(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "hex", args, 1, 1)?;
    radix(vm, &args[0], 16, "0x")
}

fn bi_oct(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "oct", args, 1, 1)?;
    radix(vm, &args[0], 8, "0o")
}

fn bi_bin(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "bin", args, 1, 1)?;
    radix(vm, &args[0], 2, "0b")
}

fn bi_format(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "format", args, 1, 2)?;
    let spec = match args.get(1) {
        Some(Value::Str(s)) => s.as_str().to_owned(),
        _ => String::new(),
    };
    Ok(Value::string(crate::format::format_value(
        vm, &args[0], &spec,
    )?))
}

fn bi_any(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "any", args, 1, 1)?;
    let it = vm.iter(&args[0])?;
    while let Some(x) = vm.next(&it)? {
        if vm.truthy(&x)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn bi_all(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "all", args, 1, 1)?;
    let it = vm.iter(&args[0])?;
    while let Some(x) = vm.next(&it)? {
        if !vm.truthy(&x)? {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

fn attr_name(vm: &Vm, v: &Value) -> PyResult<Rc<PyStr>> {
    match v {
        Value::Str(s) => Ok(intern(s.as_str())),
        other => Err(vm.type_error(format!(
            "attribute name must be string, not '{}'",
            vm.type_name(other)
        ))),
    }
}

fn bi_getattr(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "getattr", args, 2, 3)?;
    let name = attr_name(vm, &args[1])?;
    match vm.get_attr(&args[0], &name) {
        Ok(v) => Ok(v),
        Err(e) if args.len() == 3 && vm.err_is(&e, "AttributeError") => Ok(args[2].clone()),
        Err(e) => Err(e),
    }
}

fn bi_setattr(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "setattr", args, 3, 3)?;
    let name = attr_name(vm, &args[1])?;
    vm.set_attr(&args[0], &name, args[2].clone())?;
    Ok(Value::None)
}

fn bi_hasattr(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "hasattr", args, 2, 2)?;
    let name = attr_name(vm, &args[1])?;
    match vm.get_attr(&args[0], &name) {
        Ok(_) => Ok(Value::Bool(true)),
        Err(e) if vm.err_is(&e, "AttributeError") => Ok(Value::Bool(false)),
        Err(e) => Err(e),
    }
}

fn bi_delattr(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "delattr", args, 2, 2)?;
    let name = attr_name(vm, &args[1])?;
    vm.del_attr(&args[0], &name)?;
    Ok(Value::None)
}

fn bi_divmod(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "divmod", args, 2, 2)?;
    let (a, b) = (&args[0], &args[1]);
    if matches!(a, Value::Instance(_)) || matches!(b, Value::Instance(_)) {
        for (x, y, name) in [(a, b, "__divmod__"), (b, a, "__rdivmod__")] {
            if let Some(r) = vm.call_special(x, &intern(name), std::slice::from_ref(y))? {
                if !matches!(r, Value::NotImplemented) {
                    return Ok(r);
                }
            }
        }
        if vm.payload_for(a, &[]).is_none() && vm.payload_for(b, &[]).is_none() {
            return Err(vm.type_error(format!(
                "unsupported operand type(s) for divmod(): '{}' and '{}'",
                vm.type_name(a),
                vm.type_name(b)
            )));
        }
    }
    let q = vm.binary_op(&args[0], &args[1], 2)?;
    let r = vm.binary_op(&args[0], &args[1], 6)?;
    Ok(Value::tuple(vec![q, r]))
}

fn bi_pow(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "pow", args, 2, 3)?;
    if let (Some(m), Value::Instance(_)) = (args.get(2), &args[0]) {
        let m = m.clone();
        if let Some(r) = vm.call_special(&args[0], &intern("__pow__"), &[args[1].clone(), m])? {
            if !matches!(r, Value::NotImplemented) {
                return Ok(r);
            }
        }
    }
    if let (Some(m), Some(b), Some(e)) = (args.get(2), as_int(&args[0]), as_int(&args[1])) {
        let Some(m) = as_int(m) else {
            return Err(
                vm.type_error("pow() 3rd argument not allowed unless all arguments are integers")
            );
        };
        if m.is_zero() {
            return Err(vm.value_error("pow() 3rd argument cannot be 0"));
        }
        let (b, e, m) = (b.big(), e.big(), m.big());
        if e.sign() == num_bigint::Sign::Minus {
            return Err(vm.value_error("base is not invertible for the given modulus"));
        }
        let r = b.modpow(&e, &m);
        let r = if r.sign() != num_bigint::Sign::NoSign && r.sign() != m.sign() {
            r + &m
        } else {
            r
        };
        return Ok(Value::from_bigint(r));
    }
    vm.binary_op(&args[0], &args[1], 8)
}

fn bi_round(vm: &mut Vm, args: &[Value], kwnames: &[Rc<PyStr>]) -> PyResult<Value> {
    let (pos, _) = split_kw(args, kwnames);
    nargs(vm, "round", pos, 1, 2)?;
    let nd = match pos.get(1) {
        None | Some(Value::None) => None,
        Some(v) => Some(vm.index_of(v)?),
    };
    match (&pos[0], nd) {
        (Value::Float(f), None) => {
            let r = f.round_ties_even();
            if !r.is_finite() {
                return Err(vm.err(
                    if r.is_nan() {
                        "ValueError"
                    } else {
                        "OverflowError"
                    },
                    if r.is_nan() {
                        "cannot convert float NaN to integer"
                    } else {
                        "cannot convert float infinity to integer"
                    },
                ));
            }
            Ok(if r.abs() < 9.2e18 {
                Value::Int(r as i64)
            } else {
                Value::from_bigint(num_traits::FromPrimitive::from_f64(r).unwrap_or_default())
            })
        }
        (Value::Float(f), Some(n)) => Ok(Value::Float(crate::format::round_float(*f, n))),
        (v, None) if as_int(v).is_some() => vm.pos(v),
        (v, Some(n)) if as_int(v).is_some() => {
            if n >= 0 {
                return vm.pos(v);
            }
            let p = crate::int::pow(&crate::int::IntRef::Small(10), (-n) as u64);
            let half = vm.binary_op(&p, &Value::Int(2), 2)?;
            let q = vm.binary_op(v, &p, 2)?;
            let r = vm.binary_op(v, &p, 6)?;
            let q = match crate::ops::builtin_order(&r, &half) {
                Some(Some(std::cmp::Ordering::Greater)) => vm.binary_op(&q, &Value::Int(1), 0)?,
                Some(Some(std::cmp::Ordering::Equal)) => {
                    let odd = vm.binary_op(&q, &Value::Int(2), 6)?;
                    if matches!(odd, Value::Int(1)) {
                        vm.binary_op(&q, &Value::Int(1), 0)?
                    } else {
                        q
                    }
                }
                _ => q,
            };
            vm.binary_op(&q, &p, 5)
        }
        (v, _) => {
            let n = intern("__round__");
            match vm.call_special(v, &n, &pos[1..])? {
                Some(r) => Ok(r),
                None => Err(vm.type_error(format!(
                    "type {} doesn't define __round__ method",
                    vm.type_name(v)
                ))),
            }
        }
    }
}

fn caller_ns(vm: &mut Vm) -> PyResult<(Rc<DictObj>, Rc<DictObj>)> {
    vm.caller_ns
        .take()
        .ok_or_else(|| vm.err("SystemError", "no calling frame"))
}

fn bi_globals(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "globals", args, 0, 0)?;
    Ok(Value::Dict(caller_ns(vm)?.0))
}

fn bi_locals(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "locals", args, 0, 0)?;
    Ok(Value::Dict(caller_ns(vm)?.1))
}

fn bi_dir(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "dir", args, 0, 1)?;
    let ns = caller_ns(vm);
    let names: Vec<Value> = match args.first() {
        None => ns?.1.map.borrow().iter().map(|(k, _)| k.clone()).collect(),
        Some(Value::Module(m)) => m.dict.map.borrow().iter().map(|(k, _)| k.clone()).collect(),
        Some(v @ Value::Instance(i)) if i.class.lookup(&intern("__dir__")).is_some() => {
            let f = vm.get_attr(v, &intern("__dir__"))?;
            let r = vm.call(&f, &[], &[])?;
            vm.to_vec(&r)?
        }
        Some(v) => {
            let mut names: Vec<Value> = Vec::new();
            let t = match v {
                Value::Type(t) => t.clone(),
                Value::Instance(i) => {
                    names.extend(i.dict.map.borrow().iter().map(|(k, _)| k.clone()));
                    i.class.clone()
                }
                other => vm.type_of(other),
            };
            names.extend(t.dict.map.borrow().iter().map(|(k, _)| k.clone()));
            for b in &t.mro {
                names.extend(b.dict.map.borrow().iter().map(|(k, _)| k.clone()));
            }
            // What object and a class statement contribute (for classes whose attributes
            // are all in the namespaces above).
            let user = !t.builtin && t.builtin_base().is_none() && !t.is_exception;
            if user || Rc::ptr_eq(&t, &vm.t.object) {
                names.extend(OBJECT_DIR.iter().map(|n| Value::Str(intern(n))));
            }
            if user {
                let own: &[&str] = if t.dictless {
                    &["__module__", "__doc__"]
                } else {
                    &["__module__", "__doc__", "__dict__", "__weakref__"]
                };
                names.extend(own.iter().map(|n| Value::Str(intern(n))));
            }
            names
        }
    };
    let mut names = names;
    sort_values(vm, &mut names, &Value::None, false)?;
    names.dedup_by(|a, b| a.is(b) || crate::dict::key_eq(a, b));
    Ok(Value::list(names))
}

/// The attributes every object has (`dir(object())` in CPython 3.12).
const OBJECT_DIR: &[&str] = &[
    "__class__",
    "__delattr__",
    "__dir__",
    "__doc__",
    "__eq__",
    "__format__",
    "__ge__",
    "__getattribute__",
    "__getstate__",
    "__gt__",
    "__hash__",
    "__init__",
    "__init_subclass__",
    "__le__",
    "__lt__",
    "__ne__",
    "__new__",
    "__reduce__",
    "__reduce_ex__",
    "__repr__",
    "__setattr__",
    "__sizeof__",
    "__str__",
    "__subclasshook__",
];

fn bi_vars(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "vars", args, 0, 1)?;
    if args.is_empty() {
        return Ok(Value::Dict(caller_ns(vm)?.1));
    }
    vm.caller_ns = None;
    let n = vm.n.dict.clone();
    vm.get_attr(&args[0], &n)
        .map_err(|_| vm.type_error("vars() argument must have __dict__ attribute"))
}

fn bi_build_class(vm: &mut Vm, args: &[Value], kwnames: &[Rc<PyStr>]) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    if pos.len() < 2 {
        return Err(vm.type_error("__build_class__: not enough arguments"));
    }
    let Value::Function(func) = &pos[0] else {
        return Err(vm.type_error("__build_class__: func must be a function"));
    };
    let Value::Str(name) = &pos[1] else {
        return Err(vm.type_error("__build_class__: name is not a string"));
    };
    let orig_bases = &pos[2..];
    let (bases, substituted) = resolve_bases(vm, orig_bases)?;
    // An explicit metaclass that is not a class (a function) is called as it is.
    let (explicit, meta_fn) = match kw.iter().find(|(k, _)| *k == "metaclass") {
        Some((_, Value::Type(t))) => (Some(t.clone()), None),
        Some((_, f)) => (None, Some((*f).clone())),
        None => (None, None),
    };
    let meta = match meta_fn {
        Some(_) => None,
        None => derive_metaclass(vm, explicit, &bases)?,
    };
    let class_kw: Vec<(Rc<PyStr>, Value)> = kw
        .iter()
        .filter(|(k, _)| *k != "metaclass")
        .map(|(k, v)| (intern(k), (*v).clone()))
        .collect();
    let kw_names: Vec<Rc<PyStr>> = class_kw.iter().map(|(k, _)| k.clone()).collect();
    let bases_tuple = Value::tuple(bases.iter().cloned().map(Value::Type).collect());
    let ns_value = match meta_fn.clone().or_else(|| meta.clone().map(Value::Type)) {
        Some(m) => prepare(vm, &m, name, &bases_tuple, &class_kw)?,
        None => Value::Dict(DictObj::new(DictMap::new())),
    };
    // A dict (or a dict subclass that keeps dict's item methods) is the frame's locals
    // directly; any other mapping is reached through its item methods.
    let (locals, mapping) = match &ns_value {
        Value::Dict(d) => (d.clone(), Value::Null),
        v => match vm.payload_for(
            v,
            &["__getitem__", "__setitem__", "__delitem__", "__missing__"],
        ) {
            Some(Value::Dict(d)) => (d, Value::Null),
            _ => (DictObj::new(DictMap::new()), v.clone()),
        },
    };
    let mut frame = Frame::new(
        func.code.clone(),
        func.globals.clone(),
        func.builtins.clone(),
        Some(locals),
        Vec::new(),
    );
    frame.mapping = mapping;
    frame.closure = func.closure.clone();
    let cell = vm.run_frame(&mut frame)?;
    if substituted {
        let key = Value::Str(intern("__orig_bases__"));
        vm.set_item(&ns_value, &key, Value::tuple(orig_bases.to_vec()))?;
    }
    let mut args = vec![Value::Str(name.clone()), bases_tuple, ns_value.clone()];
    args.extend(class_kw.iter().map(|(_, v)| v.clone()));
    let cls = match (meta_fn, meta) {
        (Some(f), _) => return vm.call(&f, &args, &kw_names),
        (None, None) => {
            let ns = namespace_dict(vm, &ns_value)?;
            make_class(vm, name.clone(), bases, &ns, &class_kw, None)?
        }
        (None, Some(meta)) => match vm.call_type(&meta, &args, &kw_names)? {
            Value::Type(t) => t,
            other => return Ok(other),
        },
    };
    if let Value::Cell(c) = cell {
        *c.value.borrow_mut() = Value::Type(cls.clone());
    }
    Ok(Value::Type(cls))
}

/// PEP 560: replaces each base that is not a class by what its `__mro_entries__` returns;
/// also says whether any was replaced (the class then records `__orig_bases__`).
fn resolve_bases(vm: &mut Vm, orig: &[Value]) -> PyResult<(Vec<Rc<Type>>, bool)> {
    let mut bases = Vec::new();
    let mut substituted = false;
    for b in orig {
        if let Value::Type(t) = b {
            bases.push(t.clone());
            continue;
        }
        let entries = match vm.get_attr(b, &intern("__mro_entries__")) {
            Ok(f) => {
                let r = vm.call(&f, &[Value::tuple(orig.to_vec())], &[])?;
                let Value::Tuple(items) = r else {
                    return Err(vm.type_error("__mro_entries__ must return a tuple"));
                };
                items
            }
            Err(e) if vm.err_is(&e, "AttributeError") => {
                return Err(vm.type_error(format!("bases must be types, not {}", vm.type_name(b))))
            }
            Err(e) => return Err(e),
        };
        substituted = true;
        for e in entries.iter() {
            match e {
                Value::Type(t) => {
                    if !bases.iter().any(|x| Rc::ptr_eq(x, t)) {
                        bases.push(t.clone());
                    }
                }
                other => {
                    return Err(
                        vm.type_error(format!("bases must be types, not {}", vm.type_name(other)))
                    )
                }
            }
        }
    }
    Ok((bases, substituted))
}

/// The class namespace `meta.__prepare__(name, bases, **kw)` returns (a new dict when the
/// metaclass has none).
fn prepare(
    vm: &mut Vm,
    meta: &Value,
    name: &Rc<PyStr>,
    bases: &Value,
    kw: &[(Rc<PyStr>, Value)],
) -> PyResult<Value> {
    let f = match vm.get_attr(meta, &intern("__prepare__")) {
        Ok(f) => f,
        Err(e) if vm.err_is(&e, "AttributeError") => {
            return Ok(Value::Dict(DictObj::new(DictMap::new())))
        }
        Err(e) => return Err(e),
    };
    let mut args = vec![Value::Str(name.clone()), bases.clone()];
    args.extend(kw.iter().map(|(_, v)| v.clone()));
    let names: Vec<Rc<PyStr>> = kw.iter().map(|(k, _)| k.clone()).collect();
    let ns = vm.call(&f, &args, &names)?;
    let is_mapping = match &ns {
        Value::Dict(_) => true,
        Value::Instance(i) => {
            i.class.lookup(&vm.n.getitem.clone()).is_some() || matches!(i.payload, Value::Dict(_))
        }
        _ => false,
    };
    if !is_mapping {
        let who = match meta {
            Value::Type(t) => t.name.as_str().to_owned(),
            _ => "<metaclass>".to_owned(),
        };
        return Err(vm.type_error(format!(
            "{who}.__prepare__() must return a mapping, not {}",
            vm.type_name(&ns)
        )));
    }
    Ok(ns)
}

/// `type.__prepare__(name, bases, **kw)`: a new empty namespace.
fn type_prepare(_: &mut Vm, _: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    Ok(Value::Dict(DictObj::new(DictMap::new())))
}

/// The dict holding a class namespace: the dict itself, the dict a dict subclass instance
/// wraps, or a copy of another mapping's items.
pub fn namespace_dict(vm: &mut Vm, ns: &Value) -> PyResult<Rc<DictObj>> {
    match ns {
        Value::Dict(d) => return Ok(d.clone()),
        Value::Instance(i) => {
            if let Value::Dict(d) = &i.payload {
                return Ok(d.clone());
            }
        }
        _ => {}
    }
    let keys_fn = vm.get_attr(ns, &intern("keys"))?;
    let keys = vm.call(&keys_fn, &[], &[])?;
    let d = DictObj::new(DictMap::new());
    for k in vm.to_vec(&keys)? {
        let v = vm.get_item(ns, &k)?;
        vm.dict_set(&d, k, v)?;
    }
    Ok(d)
}

/// The metaclass of a new class: the most derived of the explicit one and those of the bases
/// (None stands for `type`).
fn derive_metaclass(
    vm: &mut Vm,
    explicit: Option<Rc<Type>>,
    bases: &[Rc<Type>],
) -> PyResult<Option<Rc<Type>>> {
    let type_ = vm.t.type_.clone();
    let mut winner = explicit.unwrap_or_else(|| type_.clone());
    for b in bases {
        let m = b.meta.clone().unwrap_or_else(|| type_.clone());
        if winner.is_subtype(&m) {
            continue;
        }
        if m.is_subtype(&winner) {
            winner = m;
            continue;
        }
        return Err(vm.type_error(
            "metaclass conflict: the metaclass of a derived class must be a (non-strict) subclass of the metaclasses of all its bases",
        ));
    }
    Ok((!Rc::ptr_eq(&winner, &type_)).then_some(winner))
}

/// Creates a class from its name, bases and namespace (`type(name, bases, ns)`).
pub fn make_class(
    vm: &mut Vm,
    name: Rc<PyStr>,
    mut bases: Vec<Rc<Type>>,
    ns: &Rc<DictObj>,
    kwargs: &[(Rc<PyStr>, Value)],
    meta: Option<Rc<Type>>,
) -> PyResult<Rc<Type>> {
    if bases.is_empty() {
        bases.push(vm.t.object.clone());
    }
    let meta = derive_metaclass(vm, meta, &bases)?;
    let subclassable = [
        &vm.t.object,
        &vm.t.type_,
        &vm.t.int,
        &vm.t.float,
        &vm.t.str_,
        &vm.t.bytes,
        &vm.t.bytearray,
        &vm.t.tuple,
        &vm.t.list,
        &vm.t.dict,
        &vm.t.set,
        &vm.t.frozenset,
        &vm.t.generic,
        &vm.t.property,
        &vm.t.classmethod,
        &vm.t.staticmethod,
    ];
    let mut layout: Option<Rc<Type>> = None;
    for b in &bases {
        let base = if b.builtin {
            Some(b.clone())
        } else {
            b.builtin_base()
        };
        if let Some(base) = base {
            if b.builtin && !b.is_exception && !subclassable.iter().any(|s| Rc::ptr_eq(s, &base)) {
                return Err(vm.type_error(format!(
                    "subclassing the built-in type '{}' is not supported yet",
                    b.name.as_str()
                )));
            }
            if Rc::ptr_eq(&base, &vm.t.object)
                || Rc::ptr_eq(&base, &vm.t.generic)
                || Rc::ptr_eq(&base, &vm.t.type_)
                || base.is_exception
            {
                continue;
            }
            match &layout {
                Some(l) if !Rc::ptr_eq(l, &base) => {
                    return Err(vm.type_error("multiple bases have instance lay-out conflict"));
                }
                _ => layout = Some(base),
            }
        }
    }
    let mro = c3_mro(&bases).map_err(|left| {
        let names: Vec<&str> = left.iter().map(|t| t.name.as_str()).collect();
        vm.type_error(format!(
            "Cannot create a consistent method resolution\norder (MRO) for bases {}",
            names.join(", ")
        ))
    })?;
    let slots = crate::slots::SlotLayout::from_namespace(vm, name.as_str(), &bases, ns)?;
    let dict = DictObj::new(DictMap::new());
    let mut qualname = name.clone();
    for (k, v) in ns.map.borrow().iter() {
        let Value::Str(k) = k else { continue };
        match k.as_str() {
            "__qualname__" => {
                if let Value::Str(q) = v {
                    qualname = q.clone();
                }
            }
            "__classcell__" => {}
            "__init_subclass__" | "__class_getitem__" if matches!(v, Value::Function(_)) => {
                dict.set_str(k, Value::Wrapper(Rc::new(Wrapper::ClassMethod(v.clone()))));
            }
            "__new__" if matches!(v, Value::Function(_)) => {
                dict.set_str(k, Value::Wrapper(Rc::new(Wrapper::StaticMethod(v.clone()))));
            }
            _ => dict.set_str(k, v.clone()),
        }
    }
    if dict.get_str(&intern("__del__")).is_some() {
        crate::finalizers::enable();
    }
    // A class that defines __eq__ but not __hash__ is unhashable.
    let (eq, hash) = (intern("__eq__"), intern("__hash__"));
    if dict.get_str(&eq).is_some() && dict.get_str(&hash).is_none() {
        dict.set_str(&hash, Value::None);
    }
    let is_exception = bases.iter().any(|b| b.is_exception);
    let t = Rc::new(Type {
        name,
        qualname: RefCell::new(qualname),
        bases: bases.clone(),
        mro,
        dict,
        is_exception,
        builtin: false,
        new: None,
        cache: RefCell::default(),
        meta,
        plain: std::cell::Cell::new((0, false)),
        nslots: slots.base + slots.names.len(),
        dictless: slots.dictless,
        finalizer: std::cell::Cell::new((0, false)),
    });
    slots.install(&t);
    let cls = Value::Type(t.clone());
    let items = t.dict.items();
    let set_name = vm.n.set_name.clone();
    for (k, v) in items {
        if let Value::Instance(i) = &v {
            if let Some(f) = i.class.lookup(&set_name) {
                let bound = vm.bind_descriptor(f, &v, None)?;
                vm.call(&bound, &[cls.clone(), k], &[])?;
            }
        }
    }
    let isc = vm.n.init_subclass.clone();
    let names: Vec<Rc<PyStr>> = kwargs.iter().map(|(k, _)| k.clone()).collect();
    let values: Vec<Value> = kwargs.iter().map(|(_, v)| v.clone()).collect();
    match t.mro.iter().find_map(|b| b.dict.get_str(&isc)) {
        Some(parent) => {
            let f = vm.bind_descriptor(parent, &Value::None, Some(&t))?;
            vm.call(&f, &values, &names)?;
        }
        None if !kwargs.is_empty() => {
            return Err(vm.type_error(format!(
                "{}.__init_subclass__() takes no keyword arguments",
                t.name.as_str()
            )));
        }
        None => {}
    }
    Ok(t)
}

fn object_new(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    match args.first() {
        Some(Value::Type(t)) => vm.new_instance(t, &args[1..]),
        None => vm.new_instance(&vm.t.object.clone(), &[]),
        _ => Err(vm.type_error("object.__new__(X): X is not a type object")),
    }
}

fn type_new(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    let caller = vm.caller_ns.take();
    match args {
        [v] => Ok(Value::Type(vm.type_of(v))),
        [Value::Str(name), bases, ns] => {
            let ns = &namespace_dict(vm, ns)?;
            let bases = vm
                .to_vec(bases)?
                .into_iter()
                .filter_map(|b| match b {
                    Value::Type(t) => Some(t),
                    _ => None,
                })
                .collect();
            let t = make_class(vm, name.clone(), bases, ns, &[], None)?;
            let module = intern("__module__");
            if t.dict.get_str(&module).is_none() {
                if let Some(m) = caller.and_then(|(g, _)| g.get_str(&vm.n.name.clone())) {
                    t.dict.set_str(&module, m);
                }
            }
            Ok(Value::Type(t))
        }
        _ => Err(vm.type_error("type() takes 1 or 3 arguments")),
    }
}

/// `type.__new__(mcs, name, bases, ns, **kw)`: creates a class whose metaclass is `mcs`.
fn type_new_meta(vm: &mut Vm, args: &[Value], kwnames: &[Rc<PyStr>]) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let [Value::Type(mcs), Value::Str(name), bases, ns] = pos else {
        return Err(vm.type_error("type.__new__(X, name, bases, dict): bad arguments"));
    };
    let ns = &namespace_dict(vm, ns)?;
    let bases: Vec<Rc<Type>> = vm
        .to_vec(bases)?
        .into_iter()
        .filter_map(|b| match b {
            Value::Type(t) => Some(t),
            _ => None,
        })
        .collect();
    let kwargs: Vec<(Rc<PyStr>, Value)> =
        kw.iter().map(|(k, v)| (intern(k), (*v).clone())).collect();
    let meta = (!Rc::ptr_eq(mcs, &vm.t.type_)).then(|| mcs.clone());
    Ok(Value::Type(make_class(
        vm,
        name.clone(),
        bases,
        ns,
        &kwargs,
        meta,
    )?))
}

/// `type.__call__(cls, *args)`: the default instance creation, for metaclass `__call__`
/// overrides that delegate to it.
fn type_call(vm: &mut Vm, args: &[Value], kwnames: &[Rc<PyStr>]) -> PyResult<Value> {
    match args.first() {
        Some(Value::Type(t)) => {
            let t = t.clone();
            vm.construct(&t, &args[1..], kwnames)
        }
        _ => Err(vm.type_error("descriptor '__call__' requires a 'type' object")),
    }
}

fn type_init(_: &mut Vm, _: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    Ok(Value::None)
}

fn parse_int(vm: &Vm, text: &str, base: u32) -> PyResult<Value> {
    let t = text.trim();
    // Fast path: short plain decimal literals.
    if base == 10 && !t.is_empty() && t.len() <= 18 {
        let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(v) = t.parse::<i64>() {
                return Ok(Value::Int(v));
            }
        }
    }
    let (neg, digits) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let mut base = base;
    let mut digits = digits.to_owned();
    let lower = digits.to_ascii_lowercase();
    for (p, b) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if (base == 0 || base == b) && lower.starts_with(p) {
            base = b;
            digits = digits[2..].to_owned();
            break;
        }
    }
    if base == 0 {
        base = 10;
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    let bad = || {
        vm.value_error(format!(
            "invalid literal for int() with base {base}: {}",
            crate::ops::str_repr(text)
        ))
    };
    if clean.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__")
    {
        return Err(bad());
    }
    let v = num_bigint::BigInt::parse_bytes(clean.as_bytes(), base).ok_or_else(bad)?;
    Ok(Value::from_bigint(if neg { -v } else { v }))
}

fn int_new(vm: &mut Vm, args: &[Value], kwnames: &[Rc<PyStr>]) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let base = match (pos.get(1), kw.iter().find(|(k, _)| *k == "base")) {
        (Some(b), _) | (None, Some(&(_, b))) => Some(vm.index_of(b)? as u32),
        _ => None,
    };
    match (pos.first(), base) {
        (None, _) => Ok(Value::Int(0)),
        (Some(Value::Str(s)), b) => parse_int(vm, s.as_str(), b.unwrap_or(10)),
        (Some(_), Some(_)) => {
            Err(vm.type_error("int() can't convert non-string with explicit base"))
        }
        (Some(Value::Float(f)), None) => {
            if f.is_nan() {
                return Err(vm.value_error("cannot convert float NaN to integer"));
            }
            if f.is_infinite() {
                return Err(vm.err("OverflowError", "cannot convert float infinity to integer"));
            }
            let t = f.trunc();
            Ok(if t.abs() < 9.2e18 {
                Value::Int(t as i64)
            } else {
                Value::from_bigint(num_traits::FromPrimitive::from_f64(t).unwrap_or_default())
            })
        }
        (Some(v), None) if as_int(v).is_some() => vm.pos(v),
        (Some(Value::Bytes(b)), None) => parse_int(vm, &String::from_utf8_lossy(b), 10),
        (Some(v), None) => {
            if let Some(p) = vm.payload_for(v, &["__int__", "__index__"]) {
                return int_new(vm, &[p], &[]);
            }
            for n in ["__int__", "__index__", "__trunc__"] {
                if let Some(r) = vm.call_special(v, &intern(n), &[])? {
                    return Ok(r);
                }
            }
            Err(vm.type_error(format!(
                "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                vm.type_name(v)
            )))
        }
    }
}

fn bool_new(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "bool", args, 0, 1)?;
    match args.first() {
        Some(v) => Ok(Value::Bool(vm.truthy(v)?)),
        None => Ok(Value::Bool(false)),
    }
}

/// float(text) as CPython parses it.
pub fn parse_float(vm: &Vm, text: &str) -> PyResult<f64> {
    let t = text.trim();
    let clean: String = t.chars().filter(|&c| c != '_').collect();
    let lower = clean.to_ascii_lowercase();
    let v = match lower.trim_start_matches(['+', '-']) {
        "inf" | "infinity" => Some(f64::INFINITY),
        "nan" => Some(f64::NAN),
        _ => None,
    };
    if let Some(v) = v {
        return Ok(if lower.starts_with('-') { -v } else { v });
    }
    clean
        .parse::<f64>()
        .ok()
        .filter(|_| !t.is_empty() && !t.contains("__"))
        .ok_or_else(|| {
            vm.value_error(format!(
                "could not convert string to float: {}",
                crate::ops::str_repr(text)
            ))
        })
}

fn float_new(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "float", args, 0, 1)?;
    if let Some(p) = args.first().and_then(|v| vm.payload_for(v, &["__float__"])) {
        return float_new(vm, &[p], &[]);
    }
    match args.first() {
        None => Ok(Value::Float(0.0)),
        Some(Value::Float(f)) => Ok(Value::Float(*f)),
        Some(Value::Str(s)) => Ok(Value::Float(parse_float(vm, s.as_str())?)),
        Some(v) if as_int(v).is_some() => match as_int(v).and_then(|i| i.to_f64()) {
            Some(f) => Ok(Value::Float(f)),
            None => Err(vm.err("OverflowError", "int too large to convert to float")),
        },
        Some(v) => {
            let n = vm.n.float.clone();
            match vm.call_special(v, &n, &[])? {
                Some(r) => Ok(r),
                None => Err(vm.type_error(format!(
                    "float() argument must be a string or a real number, not '{}'",
                    vm.type_name(v)
                ))),
            }
        }
    }
}

fn complex_new(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "complex", args, 0, 2)?;
    if let [v @ Value::Instance(_)] = args {
        for name in ["__complex__", "__float__", "__index__"] {
            if let Some(r) = vm.call_special(v, &intern(name), &[])? {
                return complex_new(vm, &[r], &[]);
            }
        }
    }
    let part = |vm: &mut Vm, v: Option<&Value>| -> PyResult<(f64, f64)> {
        match v {
            None => Ok((0.0, 0.0)),
            Some(Value::Complex(c)) => Ok(**c),
            Some(Value::Float(f)) => Ok((*f, 0.0)),
            Some(v) => match as_int(v).and_then(|i| i.to_f64()) {
                Some(f) => Ok((f, 0.0)),
                None => Err(vm.type_error(format!(
                    "complex() argument must be a string or a number, not '{}'",
                    vm.type_name(v)
                ))),
            },
        }
    };
    let (a, b) = (part(vm, args.first())?, part(vm, args.get(1))?);
    // As CPython: an imaginary part only mixes in from an argument that is itself complex.
    let a_complex = matches!(args.first(), Some(Value::Complex(_)));
    let b_complex = matches!(args.get(1), Some(Value::Complex(_)));
    let re = if b_complex { a.0 - b.1 } else { a.0 };
    let im = if a_complex { b.0 + a.1 } else { b.0 };
    Ok(Value::Complex(Rc::new((re, im))))
}

fn str_new(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "str", args, 0, 3)?;
    match args {
        [] => Ok(Value::str("")),
        [Value::Bytes(_) | Value::ByteArray(_), ..] if args.len() > 1 => {
            crate::bytesobj::decode(vm, args, &[])
        }
        [v] => Ok(match v {
            Value::Str(_) => v.clone(),
            _ => Value::string(vm.str_of(v)?),
        }),
        _ => Err(vm.type_error("decoding str is not supported")),
    }
}

fn tuple_new(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "tuple", args, 0, 1)?;
    match args.first() {
        None => Ok(Value::tuple(vec![])),
        Some(v @ Value::Tuple(_)) => Ok(v.clone()),
        Some(v) => Ok(Value::tuple(vm.to_vec(v)?)),
    }
}

fn list_new(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "list", args, 0, 1)?;
    match args.first() {
        None => Ok(Value::list(vec![])),
        Some(v) => Ok(Value::list(vm.to_vec(v)?)),
    }
}

fn dict_new(vm: &mut Vm, args: &[Value], kwnames: &[Rc<PyStr>]) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    nargs(vm, "dict", pos, 0, 1)?;
    let d = DictObj::new(DictMap::new());
    if let Some(v) = pos.first() {
        dict_update(vm, &d, v)?;
    }
    for (k, v) in kw {
        d.set_str(&intern(k), v.clone());
    }
    Ok(Value::Dict(d))
}

/// A set (or frozenset) of the items of `v`.
pub fn set_from(vm: &mut Vm, v: Option<&Value>, frozen: bool) -> PyResult<Value> {
    let s = new_set(vm, frozen);
    if let Some(v) = v {
        if let Value::Set(o) = v {
            let src = o.map.borrow().clone();
            let mut m = s.map.borrow_mut();
            m.reserve_for_merge(src.len());
            for (h, k) in src.iter() {
                m.add(k.clone(), h);
            }
        } else {
            if let Value::Dict(d) = v {
                let n = d.map.borrow().len();
                s.map.borrow_mut().reserve_for_merge(n);
            }
            let it = vm.iter(v)?;
            while let Some(x) = vm.next(&it)? {
                vm.set_add(&s, x)?;
            }
        }
    }
    Ok(Value::Set(s))
}

fn set_new(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "set", args, 0, 1)?;
    set_from(vm, args.first(), false)
}

fn frozenset_new(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "frozenset", args, 0, 1)?;
    set_from(vm, args.first(), true)
}

fn range_new(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "range", args, 1, 3)?;
    let mut v = Vec::with_capacity(3);
    for a in args {
        v.push(vm.index_of(a)?);
    }
    let (start, stop, step) = match v[..] {
        [stop] => (0, stop, 1),
        [start, stop] => (start, stop, 1),
        [start, stop, step] => (start, stop, step),
        _ => unreachable!("checked by nargs"),
    };
    if step == 0 {
        return Err(vm.value_error("range() arg 3 must not be zero"));
    }
    Ok(Value::Range(Rc::new(Range { start, stop, step })))
}

fn slice_new(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "slice", args, 1, 3)?;
    let (start, stop, step) = match args {
        [stop] => (Value::None, stop.clone(), Value::None),
        [a, b] => (a.clone(), b.clone(), Value::None),
        [a, b, c] => (a.clone(), b.clone(), c.clone()),
        _ => unreachable!("checked by nargs"),
    };
    Ok(Value::Slice(Rc::new(Slice { start, stop, step })))
}

fn iter_value(state: IterState) -> Value {
    Value::Iter(Rc::new(Iter {
        state: RefCell::new(state),
    }))
}

fn enumerate_new(vm: &mut Vm, args: &[Value], kwnames: &[Rc<PyStr>]) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    nargs(vm, "enumerate", pos, 1, 2)?;
    let start = match (pos.get(1), kw.iter().find(|(k, _)| *k == "start")) {
        (Some(s), _) | (None, Some(&(_, s))) => vm.index_of(s)?,
        _ => 0,
    };
    let inner = vm.iter(&pos[0])?;
    Ok(iter_value(IterState::Enumerate {
        inner,
        count: start,
    }))
}

fn zip_new(vm: &mut Vm, args: &[Value], kwnames: &[Rc<PyStr>]) -> PyResult<Value> {
    let (pos, _) = split_kw(args, kwnames);
    let inners = pos
        .iter()
        .map(|a| vm.iter(a))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(iter_value(IterState::Zip { inners }))
}

fn map_new(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    if args.len() < 2 {
        return Err(vm.type_error("map() must have at least two arguments."));
    }
    let inners = args[1..]
        .iter()
        .map(|a| vm.iter(a))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(iter_value(IterState::Map {
        func: args[0].clone(),
        inners,
    }))
}

fn filter_new(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "filter", args, 2, 2)?;
    let inner = vm.iter(&args[1])?;
    Ok(iter_value(IterState::Filter {
        func: args[0].clone(),
        inner,
        keep: true,
    }))
}

fn reversed_new(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "reversed", args, 1, 1)?;
    let v = &args[0];
    if let Value::Instance(_) = v {
        let n = vm.n.reversed.clone();
        if let Some(r) = vm.call_special(v, &n, &[])? {
            return Ok(r);
        }
    }
    let seq = match v {
        Value::Dict(d) => Value::list(d.map.borrow().iter().map(|(k, _)| k.clone()).collect()),
        Value::Range(r) => {
            let n = r.len();
            let last = r.start + (n - 1) * r.step;
            return Ok(iter_value(IterState::Range {
                next: last,
                step: -r.step,
                left: n,
            }));
        }
        other => other.clone(),
    };
    let len = vm
        .len(&seq)
        .map_err(|_| vm.type_error(format!("'{}' object is not reversible", vm.type_name(v))))?;
    Ok(iter_value(IterState::Reversed { seq, index: len }))
}

fn property_new(vm: &mut Vm, args: &[Value], kwnames: &[Rc<PyStr>]) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let mut slots = [Value::None, Value::None, Value::None, Value::None];
    for (i, v) in pos.iter().enumerate().take(4) {
        slots[i] = v.clone();
    }
    for (k, v) in kw {
        let i = match k {
            "fget" => 0,
            "fset" => 1,
            "fdel" => 2,
            "doc" => 3,
            _ => {
                return Err(vm.type_error(format!(
                    "property() got an unexpected keyword argument '{k}'"
                )))
            }
        };
        slots[i] = v.clone();
    }
    let [fget, fset, fdel, doc] = slots;
    Ok(Value::Wrapper(Rc::new(Wrapper::Property {
        fget,
        fset,
        fdel,
        doc,
    })))
}

fn staticmethod_new(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "staticmethod", args, 1, 1)?;
    Ok(Value::Wrapper(Rc::new(Wrapper::StaticMethod(
        args[0].clone(),
    ))))
}

fn classmethod_new(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "classmethod", args, 1, 1)?;
    Ok(Value::Wrapper(Rc::new(Wrapper::ClassMethod(
        args[0].clone(),
    ))))
}

fn super_new(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    match args {
        [Value::Type(this), obj] => {
            let obj_type = match obj {
                Value::Type(t) if t.is_subtype(this) => t.clone(),
                _ => vm.type_of(obj),
            };
            if !obj_type.is_subtype(this) {
                return Err(
                    vm.type_error("super(type, obj): obj must be an instance or subtype of type")
                );
            }
            Ok(Value::Wrapper(Rc::new(Wrapper::Super {
                this: this.clone(),
                obj: obj.clone(),
                obj_type,
            })))
        }
        [] => Err(vm.err("RuntimeError", "super(): no arguments")),
        _ => Err(vm.type_error("super() argument 1 must be a type")),
    }
}

/// Attributes of type objects that are not in their namespace.
pub fn type_attr(vm: &mut Vm, t: &Rc<Type>, name: &str) -> Option<Value> {
    Some(match name {
        "__name__" => Value::Str(t.name.clone()),
        "__qualname__" => Value::Str(t.qualname.borrow().clone()),
        "__module__" => Value::string(t.module_name()),
        "__bases__" => Value::tuple(t.bases.iter().map(|b| Value::Type(b.clone())).collect()),
        "__base__" => t
            .bases
            .first()
            .map_or(Value::None, |b| Value::Type(b.clone())),
        "__mro__" => {
            let mut v = vec![Value::Type(t.clone())];
            v.extend(t.mro.iter().map(|b| Value::Type(b.clone())));
            Value::tuple(v)
        }
        "__dict__" => Value::Dict(t.dict.clone()),
        "__doc__" => Value::None,
        "__type_params__" => Value::tuple(vec![]),
        other if object_method(other).is_some() => object_method(other)?,
        _ => {
            let _ = vm;
            return None;
        }
    })
}

/// The methods every class inherits from `object` (and BaseException), found when a lookup
/// through `super()` or on a class reaches them.
pub fn object_method(name: &str) -> Option<Value> {
    const METHODS: &[(&str, NativeFn)] = &[
        ("__init__", object_init),
        ("__new__", object_new),
        ("__repr__", object_repr),
        ("__str__", object_str),
        ("__setattr__", object_setattr),
        ("__getattribute__", object_getattribute),
        ("__delattr__", object_delattr),
        ("__eq__", object_eq),
        ("__ne__", object_ne),
        ("__hash__", object_hash),
        ("__init_subclass__", object_init_subclass),
    ];
    METHODS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(n, f)| builtin(n, f))
}

fn object_repr(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    match args.first() {
        Some(v @ Value::Instance(i)) => Ok(Value::string(vm.base_repr(&i.clone(), v)?)),
        Some(v) => Ok(Value::string(vm.repr(v)?)),
        None => Err(vm.type_error("descriptor '__repr__' of 'object' object needs an argument")),
    }
}

fn object_str(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    match args.first() {
        Some(v @ Value::Instance(i)) => Ok(Value::string(vm.base_str(&i.clone(), v)?)),
        Some(v) => Ok(Value::string(vm.str_of(v)?)),
        None => Err(vm.type_error("descriptor '__str__' of 'object' object needs an argument")),
    }
}

fn object_setattr(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "__setattr__", args, 3, 3)?;
    let name = attr_name(vm, &args[1])?;
    match &args[0] {
        Value::Instance(i) => {
            let (i, obj) = (i.clone(), args[0].clone());
            vm.generic_set_attr(&i, &obj, &name, args[2].clone())?;
            Ok(Value::None)
        }
        other => {
            let other = other.clone();
            vm.set_attr(&other, &name, args[2].clone())?;
            Ok(Value::None)
        }
    }
}

fn object_getattribute(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "__getattribute__", args, 2, 2)?;
    let name = attr_name(vm, &args[1])?;
    match &args[0] {
        Value::Instance(i) => vm.instance_attr(&i.clone(), &args[0], &name),
        other => vm.get_attr(other, &name),
    }
}

fn object_delattr(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "__delattr__", args, 2, 2)?;
    let name = attr_name(vm, &args[1])?;
    match &args[0] {
        Value::Instance(i) => vm.generic_del_attr(&i.clone(), &args[0], &name)?,
        other => vm.del_attr(other, &name)?,
    }
    Ok(Value::None)
}

fn object_eq(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "__eq__", args, 2, 2)?;
    Ok(if args[0].is(&args[1]) {
        Value::Bool(true)
    } else {
        Value::NotImplemented
    })
}

fn object_ne(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "__ne__", args, 2, 2)?;
    let r = vm.eq(&args[0], &args[1])?;
    Ok(Value::Bool(!r))
}

fn object_hash(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "__hash__", args, 1, 1)?;
    Ok(Value::Int((args[0].id() >> 4) as i64))
}

fn object_init_subclass(vm: &mut Vm, args: &[Value], kw: &[Rc<PyStr>]) -> PyResult<Value> {
    if !kw.is_empty() {
        let name = match args.first() {
            Some(Value::Type(t)) => t.qualname.borrow().as_str().to_owned(),
            _ => "object".to_owned(),
        };
        return Err(vm.type_error(format!(
            "{name}.__init_subclass__() takes no keyword arguments"
        )));
    }
    Ok(Value::None)
}

/// `object.__init__`: accepts and ignores its arguments (the check for extra arguments happens
/// when the class is called).
pub fn object_init(_: &mut Vm, _: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    Ok(Value::None)
}

/// Attributes of built-in values that are not methods.
pub fn value_attr(vm: &mut Vm, v: &Value, name: &str) -> PyResult<Option<Value>> {
    Ok(Some(match (v, name) {
        (_, "__class__") => Value::Type(vm.type_of(v)),
        (Value::Function(f), "__name__") => Value::Str(f.name.borrow().clone()),
        (Value::Function(f), "__qualname__") => Value::Str(f.qualname.borrow().clone()),
        (Value::Function(f), "__module__") => f
            .dict
            .get_str(&intern("__module__"))
            .unwrap_or_else(|| f.module.clone()),
        (Value::Function(f), "__doc__") => f
            .dict
            .get_str(&intern("__doc__"))
            .unwrap_or_else(|| f.doc.clone()),
        (Value::Function(f), "__dict__") => Value::Dict(f.dict.clone()),
        (Value::Function(f), "__type_params__") => crate::typeparams::function_type_params(f),
        (Value::Function(f), "__defaults__") => {
            if f.defaults.is_empty() {
                Value::None
            } else {
                Value::tuple(f.defaults.clone())
            }
        }
        (Value::Function(f), "__code__") => Value::Code(f.code.clone()),
        (Value::Function(f), "__closure__") => {
            if f.closure.is_empty() {
                Value::None
            } else {
                Value::tuple(f.closure.iter().map(|c| Value::Cell(c.clone())).collect())
            }
        }
        (Value::Cell(c), "cell_contents") => match &*c.value.borrow() {
            Value::Null => return Err(vm.value_error("Cell is empty")),
            v => v.clone(),
        },
        (Value::Function(f), "__kwdefaults__") => match &f.kwdefaults {
            Some(d) => Value::Dict(d.clone()),
            None => Value::None,
        },
        (Value::Function(f), "__annotations__") => {
            let key = intern("__annotations__");
            match (f.dict.get_str(&key), &f.annotations) {
                (Some(set), _) => set,
                (None, Value::None) => {
                    // Made on first access and kept, as CPython does.
                    let empty = Value::Dict(crate::ops::new_dict());
                    f.dict.set_str(&key, empty.clone());
                    empty
                }
                (None, annotations) => annotations.clone(),
            }
        }
        (Value::Function(f), other) => match f.dict.get_str(&intern(other)) {
            Some(v) => v,
            None => return Ok(None),
        },
        (Value::Builtin(b), "__name__") => Value::str(b.name),
        (Value::BoundMethod(m), "__self__") => m.receiver.clone(),
        (Value::BoundMethod(m), "__func__") => m.func.clone(),
        (Value::BoundMethod(m), _) => {
            let f = m.func.clone();
            return vm.get_attr(&f, &intern(name)).map(Some);
        }
        (Value::Generator(g), "__name__") => Value::Str(g.name.clone()),
        (Value::Generator(g), "__qualname__") => Value::Str(g.qualname.clone()),
        (Value::Generator(g), "gi_running" | "cr_running" | "ag_running") => {
            return Ok(crate::coroutine::gen_attr(g, name));
        }
        (Value::Generator(g), "gi_yieldfrom" | "cr_await" | "ag_await" | "gi_suspended") => {
            return Ok(crate::coroutine::gen_attr(g, name));
        }
        (Value::Code(c), "co_name") => Value::Str(c.name.clone()),
        (Value::Code(c), "co_filename") => Value::Str(c.filename.clone()),
        (Value::Int(_) | Value::BigInt(_) | Value::Bool(_), "real" | "numerator") => vm.pos(v)?,
        (Value::Int(_) | Value::BigInt(_) | Value::Bool(_), "imag") => Value::Int(0),
        (Value::Int(_) | Value::BigInt(_) | Value::Bool(_), "denominator") => Value::Int(1),
        (Value::Float(f), "real") => Value::Float(*f),
        (Value::Float(_), "imag") => Value::Float(0.0),
        (Value::Complex(c), "real") => Value::Float(c.0),
        (Value::Complex(c), "imag") => Value::Float(c.1),
        (Value::Slice(s), "start") => s.start.clone(),
        (Value::Slice(s), "stop") => s.stop.clone(),
        (Value::Slice(s), "step") => s.step.clone(),
        (Value::Range(r), "start") => Value::Int(r.start),
        (Value::Range(r), "stop") => Value::Int(r.stop),
        (Value::Range(r), "step") => Value::Int(r.step),
        (Value::Wrapper(w), _) => match (&**w, name) {
            (Wrapper::File(st), "name") => Value::string(st.borrow().name.clone()),
            (Wrapper::File(st), "mode") => Value::string(st.borrow().mode.clone()),
            (Wrapper::File(st), "closed") => Value::Bool(st.borrow().closed),
            (Wrapper::Property { fget, .. }, "fget") => fget.clone(),
            (Wrapper::Property { fset, .. }, "fset") => fset.clone(),
            (Wrapper::Property { fdel, .. }, "fdel") => fdel.clone(),
            (Wrapper::Property { fget, doc, .. }, "__doc__") => match doc {
                Value::None => match fget {
                    Value::Function(f) => f.doc.clone(),
                    _ => Value::None,
                },
                d => d.clone(),
            },
            (Wrapper::Member { name, .. }, "__name__") => Value::Str(name.clone()),
            (Wrapper::Member { owner, .. }, "__objclass__") => {
                owner.upgrade().map_or(Value::None, Value::Type)
            }
            (
                Wrapper::Property {
                    fget,
                    fset,
                    fdel,
                    doc,
                },
                "setter" | "getter" | "deleter",
            ) => {
                let _ = (fget, fset, fdel, doc);
                let f = match name {
                    "setter" => property_setter,
                    "getter" => property_getter,
                    _ => property_deleter,
                };
                Value::Builtin(Rc::new(BuiltinFunction {
                    name: "setter",
                    func: f,
                    bound: Some(v.clone()),
                    needs_frame: false,
                    instance_method: false,
                }))
            }
            (Wrapper::StaticMethod(f) | Wrapper::ClassMethod(f), "__func__") => f.clone(),
            _ => return Ok(None),
        },
        (Value::Module(m), "__dict__") => Value::Dict(m.dict.clone()),
        (Value::Int(_) | Value::BigInt(_) | Value::Bool(_), "__index__") => {
            fn index(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
                match &args[0] {
                    Value::Bool(b) => Ok(Value::Int(i64::from(*b))),
                    v => Ok(v.clone()),
                }
                .and_then(|v| {
                    nargs(vm, "__index__", &args[1..], 0, 0)?;
                    Ok(v)
                })
            }
            Value::Builtin(Rc::new(BuiltinFunction {
                name: "__index__",
                func: index,
                bound: Some(v.clone()),
                needs_frame: false,
                instance_method: false,
            }))
        }
        (_, name) if name.starts_with("__") => match protocol_method(name) {
            Some(f) => Value::Builtin(Rc::new(BuiltinFunction {
                name: f.0,
                func: f.1,
                bound: Some(v.clone()),
                needs_frame: false,
                instance_method: false,
            })),
            None => return Ok(None),
        },
        _ => return Ok(None),
    }))
}

/// The special methods of built-in values (`[].__len__`, `(1).__add__`), as bound built-ins
/// that run the protocol.
fn protocol_method(name: &str) -> Option<(&'static str, NativeFn)> {
    // Each name maps to `vm.$op(self, other, arg)`; a TypeError becomes NotImplemented.
    macro_rules! operator_methods {
        ($op:ident: $($name:literal => $arg:expr),* $(,)?) => {
            match name {
                $($name => {
                    fn f(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
                        nargs(vm, $name, &args[1..], 1, 1)?;
                        match vm.$op(&args[0], &args[1], $arg) {
                            Err(e) if vm.err_is(&e, "TypeError") => Ok(Value::NotImplemented),
                            r => r,
                        }
                    }
                    return Some(($name, f));
                })*
                _ => {}
            }
        };
    }
    operator_methods! { binary_op:
        "__add__" => 0, "__and__" => 1, "__floordiv__" => 2, "__lshift__" => 3,
        "__mul__" => 5, "__mod__" => 6, "__or__" => 7, "__pow__" => 8, "__rshift__" => 9,
        "__sub__" => 10, "__truediv__" => 11, "__xor__" => 12,
    }
    // The reflected forms run the operator with the operands swapped.
    macro_rules! reflected_methods {
        ($($name:literal => $arg:expr),* $(,)?) => {
            match name {
                $($name => {
                    fn f(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
                        nargs(vm, $name, &args[1..], 1, 1)?;
                        match vm.binary_op(&args[1], &args[0], $arg) {
                            Err(e) if vm.err_is(&e, "TypeError") => Ok(Value::NotImplemented),
                            r => r,
                        }
                    }
                    return Some(($name, f));
                })*
                _ => {}
            }
        };
    }
    reflected_methods! {
        "__radd__" => 0, "__rand__" => 1, "__rfloordiv__" => 2, "__rlshift__" => 3,
        "__rmul__" => 5, "__rmod__" => 6, "__ror__" => 7, "__rpow__" => 8, "__rrshift__" => 9,
        "__rsub__" => 10, "__rtruediv__" => 11, "__rxor__" => 12,
    }
    use crate::ops::CmpOp;
    operator_methods! { compare:
        "__lt__" => CmpOp::Lt, "__le__" => CmpOp::Le, "__eq__" => CmpOp::Eq,
        "__ne__" => CmpOp::Ne, "__gt__" => CmpOp::Gt, "__ge__" => CmpOp::Ge,
    }
    fn len(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
        Ok(Value::Int(vm.len(&args[0])? as i64))
    }
    fn getitem(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
        nargs(vm, "__getitem__", &args[1..], 1, 1)?;
        vm.get_item(&args[0], &args[1])
    }
    fn setitem(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
        nargs(vm, "__setitem__", &args[1..], 2, 2)?;
        vm.set_item(&args[0], &args[1], args[2].clone())?;
        Ok(Value::None)
    }
    fn delitem(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
        nargs(vm, "__delitem__", &args[1..], 1, 1)?;
        vm.del_item(&args[0], &args[1])?;
        Ok(Value::None)
    }
    fn contains(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
        nargs(vm, "__contains__", &args[1..], 1, 1)?;
        Ok(Value::Bool(vm.contains(&args[0], &args[1])?))
    }
    fn iter(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
        vm.iter(&args[0])
    }
    fn next(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
        match vm.next(&args[0])? {
            Some(v) => Ok(v),
            None => Err(vm.stop_iteration(Value::None)),
        }
    }
    fn repr(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
        Ok(Value::string(vm.repr(&args[0])?))
    }
    fn str_(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
        Ok(Value::string(vm.str_of(&args[0])?))
    }
    fn hash(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
        Ok(Value::Int(vm.hash(&args[0])?))
    }
    fn bool_(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
        Ok(Value::Bool(vm.truthy(&args[0])?))
    }
    fn neg(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
        vm.neg(&args[0])
    }
    fn format(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
        nargs(vm, "__format__", &args[1..], 1, 1)?;
        let spec = match &args[1] {
            Value::Str(s) => s.as_str().to_owned(),
            _ => return Err(vm.type_error("format spec must be a str")),
        };
        Ok(Value::string(crate::format::format_value(
            vm, &args[0], &spec,
        )?))
    }
    let f: NativeFn = match name {
        "__len__" => len,
        "__getitem__" => getitem,
        "__setitem__" => setitem,
        "__delitem__" => delitem,
        "__contains__" => contains,
        "__iter__" => iter,
        "__next__" => next,
        "__repr__" => repr,
        "__str__" => str_,
        "__hash__" => hash,
        "__bool__" => bool_,
        "__neg__" => neg,
        "__format__" => format,
        _ => return None,
    };
    const NAMES: &[&str] = &[
        "__len__",
        "__getitem__",
        "__setitem__",
        "__delitem__",
        "__contains__",
        "__iter__",
        "__next__",
        "__repr__",
        "__str__",
        "__hash__",
        "__bool__",
        "__neg__",
        "__format__",
    ];
    NAMES.iter().find(|n| **n == name).map(|n| (*n, f))
}

/// `getter`/`setter`/`deleter` (`which` 0, 1, 2) of a property, or of an instance of a
/// property subclass (the copy is then made by calling that subclass, as CPython does).
fn property_with(vm: &mut Vm, args: &[Value], which: usize) -> PyResult<Value> {
    let [receiver, f] = args else {
        return Err(vm.type_error("property setter expects one function"));
    };
    let (wrapper, subclass) = match receiver {
        Value::Instance(i) => (&i.payload, Some(i.class.clone())),
        other => (other, None),
    };
    let Value::Wrapper(w) = wrapper else {
        return Err(vm.type_error("not a property"));
    };
    let Wrapper::Property {
        fget,
        fset,
        fdel,
        doc,
    } = &**w
    else {
        return Err(vm.type_error("not a property"));
    };
    let mut slots = [fget.clone(), fset.clone(), fdel.clone()];
    slots[which] = f.clone();
    let [fget, fset, fdel] = slots;
    match subclass {
        Some(cls) => vm.call(&Value::Type(cls), &[fget, fset, fdel, doc.clone()], &[]),
        None => Ok(Value::Wrapper(Rc::new(Wrapper::Property {
            fget,
            fset,
            fdel,
            doc: doc.clone(),
        }))),
    }
}

fn property_getter(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    property_with(vm, args, 0)
}

fn property_setter(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    property_with(vm, args, 1)
}

fn property_deleter(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    property_with(vm, args, 2)
}

/// An integral float as an int (OverflowError / ValueError for inf and nan).
pub fn float_to_int(vm: &mut Vm, x: f64) -> PyResult<Value> {
    if x.is_nan() {
        return Err(vm.value_error("cannot convert float NaN to integer"));
    }
    if x.is_infinite() {
        return Err(vm.err("OverflowError", "cannot convert float infinity to integer"));
    }
    Ok(if x.abs() < 9.2e18 {
        Value::Int(x as i64)
    } else {
        Value::from_bigint(num_traits::FromPrimitive::from_f64(x).unwrap_or_default())
    })
}
