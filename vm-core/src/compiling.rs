//! `compile()`, `exec()` and `eval()`, through pyc-compiler.

use std::rc::Rc;
use std::sync::Arc;

use pyc_compiler::{Mode, Options};

use crate::builtins::{nargs, split_kw};
use crate::code::Code;
use crate::dict::DictObj;
use crate::frame::Frame;
use crate::pystr::{intern, PyStr};
use crate::value::Value;
use crate::vm::{PyErr, PyResult, Vm};

type Kw<'a> = &'a [Rc<PyStr>];

/// Compiles `source` as `compile(source, filename, mode)` does.
fn compile_text(vm: &mut Vm, source: &Value, filename: &str, mode: &str) -> PyResult<Rc<Code>> {
    let bytes: Vec<u8> = match source {
        Value::Str(s) => s.as_str().as_bytes().to_vec(),
        Value::Bytes(b) => b.to_vec(),
        other => {
            return Err(vm.type_error(format!(
                "compile() arg 1 must be a string, bytes or AST object, not {}",
                vm.type_name(other)
            )))
        }
    };
    let mode = match mode {
        "exec" => Mode::Module,
        "eval" => Mode::Expression,
        "single" => Mode::Interactive,
        _ => return Err(vm.value_error("compile() mode must be 'exec', 'eval' or 'single'")),
    };
    let options = Options {
        mode,
        ..Options::default()
    };
    match pyc_compiler::compile_source(&bytes, filename, &options) {
        Ok(code) => Code::decode(&Arc::new(code)).map_err(|e| vm.err("SystemError", e.to_string())),
        Err(e) => Err(syntax_error(vm, &e, filename, &bytes)),
    }
}

/// The SyntaxError (or subclass) for a compile error in `bytes`, named `filename`, with the
/// attributes CPython sets.
pub fn syntax_error(
    vm: &mut Vm,
    e: &pyc_compiler::CompileError,
    filename: &str,
    bytes: &[u8],
) -> PyErr {
    let text = String::from_utf8_lossy(bytes);
    let line = usize::try_from(e.lineno)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| text.lines().nth(i))
        .map_or(Value::None, |l| Value::string(format!("{l}\n")));
    let class = vm.exc_type(e.kind.name());
    let class = if class.name.as_str() == e.kind.name() {
        class
    } else {
        vm.exc_type("SyntaxError")
    };
    let details = Value::tuple(vec![
        Value::str(filename),
        Value::Int(i64::from(e.lineno)),
        Value::Int(i64::from(e.offset)),
        line.clone(),
    ]);
    let exc = vm.new_exception(class, vec![Value::string(e.msg.clone()), details]);
    for (k, v) in [
        ("msg", Value::string(e.msg.clone())),
        ("filename", Value::str(filename)),
        ("lineno", Value::Int(i64::from(e.lineno))),
        ("offset", Value::Int(i64::from(e.offset))),
        ("end_lineno", Value::Int(i64::from(e.end_lineno))),
        ("end_offset", Value::Int(i64::from(e.end_offset))),
        ("text", line),
    ] {
        exc.dict.set_str(&intern(k), v);
    }
    PyErr(exc)
}

/// Runs Python `source` (part of the VM itself, such as a native module's Python half) in
/// the namespace `globals`.
pub fn exec_in(vm: &mut Vm, source: &str, filename: &str, globals: &Rc<DictObj>) -> PyResult<()> {
    let code = compile_text(vm, &Value::str(source), filename, "exec")?;
    run_code(vm, code, globals.clone(), globals.clone())?;
    Ok(())
}

/// `compile(source, filename, mode)`.
pub fn bi_compile(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let get = |i: usize, k: &str| {
        pos.get(i)
            .cloned()
            .or_else(|| kw.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).clone()))
    };
    let (Some(source), Some(filename), Some(mode)) =
        (get(0, "source"), get(1, "filename"), get(2, "mode"))
    else {
        return Err(vm.type_error("compile() missing required argument"));
    };
    let filename = vm.str_of(&filename)?;
    let mode = vm.str_of(&mode)?;
    Ok(Value::Code(compile_text(vm, &source, &filename, &mode)?))
}

/// Runs `code` with the given namespaces.
fn run_code(
    vm: &mut Vm,
    code: Rc<Code>,
    globals: Rc<DictObj>,
    locals: Rc<DictObj>,
) -> PyResult<Value> {
    let builtins_name = intern("__builtins__");
    if globals.get_str(&builtins_name).is_none() {
        globals.set_str(&builtins_name, Value::Dict(vm.builtins.clone()));
    }
    let mut frame = Frame::new(code, globals, vm.builtins.clone(), Some(locals), Vec::new());
    vm.run_frame(&mut frame)
}

fn namespaces(vm: &mut Vm, name: &str, pos: &[Value]) -> PyResult<(Rc<DictObj>, Rc<DictObj>)> {
    let caller = vm.caller_ns.take();
    let globals = match pos.get(1) {
        Some(Value::Dict(d)) => Some(d.clone()),
        None | Some(Value::None) => None,
        Some(other) => {
            return Err(vm.type_error(format!(
                "{name}() globals must be a dict, not {}",
                vm.type_name(other)
            )))
        }
    };
    let locals = match pos.get(2) {
        Some(Value::Dict(d)) => Some(d.clone()),
        None | Some(Value::None) => None,
        Some(other) => {
            return Err(vm.type_error(format!(
                "locals must be a mapping, not {}",
                vm.type_name(other)
            )))
        }
    };
    match (globals, locals, caller) {
        (Some(g), Some(l), _) => Ok((g, l)),
        (Some(g), None, _) => Ok((g.clone(), g)),
        (None, l, Some((g, cl))) => Ok((g, l.unwrap_or(cl))),
        (None, _, None) => Err(vm.err("SystemError", format!("{name}() has no calling frame"))),
    }
}

fn code_of(vm: &mut Vm, source: &Value, mode: &str) -> PyResult<Rc<Code>> {
    match source {
        Value::Code(c) => Ok(c.clone()),
        other => compile_text(vm, other, "<string>", mode),
    }
}

/// `exec(source, globals=None, locals=None)`.
pub fn bi_exec(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, _) = split_kw(args, kwnames);
    nargs(vm, "exec", pos, 1, 3)?;
    let (globals, locals) = namespaces(vm, "exec", pos)?;
    let code = code_of(vm, &pos[0], "exec")?;
    run_code(vm, code, globals, locals)?;
    Ok(Value::None)
}

/// `eval(source, globals=None, locals=None)`.
pub fn bi_eval(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, _) = split_kw(args, kwnames);
    nargs(vm, "eval", pos, 1, 3)?;
    let (globals, locals) = namespaces(vm, "eval", pos)?;
    let source = match &pos[0] {
        Value::Str(s) => Value::str(s.as_str().trim_start_matches([' ', '\t'])),
        other => other.clone(),
    };
    let code = code_of(vm, &source, "eval")?;
    run_code(vm, code, globals, locals)
}

/// What CPython prints after the traceback entries of an uncaught SyntaxError (or
/// IndentationError, TabError) made by the compiler: its file and line, the offending text with
/// carets, and the message; None for other exceptions.
pub fn syntax_error_text(exc: &crate::objects::Instance) -> Option<String> {
    use pyc_compiler::ErrorKind;
    let kind = [
        ErrorKind::SyntaxError,
        ErrorKind::IndentationError,
        ErrorKind::TabError,
    ]
    .into_iter()
    .find(|k| exc.class.name.as_str() == k.name() && exc.class.builtin)?;
    let get = |k: &str| exc.dict.get_str(&intern(k));
    let int = |k: &str| match get(k) {
        Some(Value::Int(i)) => u32::try_from(i).ok(),
        _ => None,
    };
    let msg = get("msg")?.as_str()?.as_str().to_owned();
    let filename = match get("filename") {
        Some(Value::Str(f)) => f.as_str().to_owned(),
        _ => "<string>".to_owned(),
    };
    let text = get("text").and_then(|t| t.as_str().map(|s| s.as_str().to_owned()));
    let error = pyc_compiler::CompileError {
        kind,
        msg,
        lineno: int("lineno")?,
        offset: int("offset").unwrap_or(0),
        end_lineno: int("end_lineno").unwrap_or(0),
        end_offset: int("end_offset").unwrap_or(0),
    };
    Some(error.render(&filename, text.as_deref()))
}
