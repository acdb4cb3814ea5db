//! `open()`: text and binary files read or written whole or by lines (`read`, `readline`,
//! `readlines`, iteration, `write`, `close`, context manager).

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Read, Write};
use std::rc::Rc;

use crate::builtins::{builtin, nargs, split_kw};
use crate::objects::{NativeFn, Wrapper};
use crate::pystr::{intern, PyStr};
use crate::types::Type;
use crate::value::Value;
use crate::vm::{PyResult, Vm};

/// An open file.
#[derive(Debug)]
pub struct FileState {
    /// The name given to `open`.
    pub name: String,
    /// The mode given to `open`.
    pub mode: String,
    reader: Option<BufReader<std::fs::File>>,
    writer: Option<std::io::BufWriter<std::fs::File>>,
    /// Whether `close()` was called.
    pub closed: bool,
}

impl FileState {
    fn binary(&self) -> bool {
        self.mode.contains('b')
    }
}

/// `sys.stdin`, read through `/dev/stdin`.
pub fn stdin() -> Option<Value> {
    let file = std::fs::File::open("/dev/stdin").ok()?;
    let state = FileState {
        name: "<stdin>".into(),
        mode: "r".into(),
        reader: Some(BufReader::new(file)),
        writer: None,
        closed: false,
    };
    Some(Value::Wrapper(Rc::new(Wrapper::File(RefCell::new(state)))))
}

/// `open(file, mode='r', encoding=None)`.
pub fn bi_open(vm: &mut Vm, args: &[Value], kwnames: &[Rc<PyStr>]) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    nargs(vm, "open", pos, 1, 3)?;
    let Value::Str(path) = &pos[0] else {
        return Err(vm.type_error("open() path must be a str"));
    };
    let mut mode = match pos.get(1) {
        Some(Value::Str(m)) => m.as_str().to_owned(),
        _ => "r".to_owned(),
    };
    for (k, v) in kw {
        match (k, v) {
            ("mode", Value::Str(m)) => mode = m.as_str().to_owned(),
            ("encoding" | "newline" | "errors", _) => {}
            _ => {
                return Err(
                    vm.type_error(format!("open() got an unexpected keyword argument '{k}'"))
                )
            }
        }
    }
    let p = path.as_str();
    let mut opts = std::fs::OpenOptions::new();
    match mode.chars().find(|c| "rwax".contains(*c)).unwrap_or('r') {
        'r' => opts.read(true),
        'w' => opts.write(true).create(true).truncate(true),
        'a' => opts.append(true).create(true),
        _ => opts.write(true).create_new(true),
    };
    if mode.contains('+') {
        opts.read(true).write(true);
    }
    let file = opts
        .open(p)
        .map_err(|e| crate::exc_attrs::os_error(vm, &e, Some(p)))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(crate::exc_attrs::is_a_directory(vm, p));
    }
    let reading = mode.contains('r') || mode.contains('+');
    let state = if reading && !mode.contains('+') {
        FileState {
            name: p.to_owned(),
            mode,
            reader: Some(BufReader::new(file)),
            writer: None,
            closed: false,
        }
    } else {
        FileState {
            name: p.to_owned(),
            mode,
            reader: None,
            writer: Some(std::io::BufWriter::new(file)),
            closed: false,
        }
    };
    Ok(Value::Wrapper(Rc::new(Wrapper::File(RefCell::new(state)))))
}

fn with_file<T>(
    vm: &mut Vm,
    args: &[Value],
    f: impl FnOnce(&mut Vm, &mut FileState) -> PyResult<T>,
) -> PyResult<T> {
    let Some(Value::Wrapper(w)) = args.first() else {
        return Err(vm.type_error("descriptor requires a file object"));
    };
    let w = w.clone();
    let Wrapper::File(state) = &*w else {
        return Err(vm.type_error("descriptor requires a file object"));
    };
    let mut state = state.borrow_mut();
    if state.closed {
        return Err(vm.value_error("I/O operation on closed file."));
    }
    f(vm, &mut state)
}

fn decoded(vm: &Vm, state: &FileState, bytes: Vec<u8>) -> PyResult<Value> {
    if state.binary() {
        return Ok(Value::Bytes(Rc::new(bytes)));
    }
    String::from_utf8(bytes)
        .map(Value::string)
        .map_err(|e| crate::exc_attrs::utf8_decode_error(vm, e.as_bytes(), e.utf8_error()))
}

fn read(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    with_file(vm, args, |vm, st| {
        let Some(r) = st.reader.as_mut() else {
            return Err(vm.err("OSError", "not readable"));
        };
        let mut buf = Vec::new();
        r.read_to_end(&mut buf)
            .map_err(|e| crate::exc_attrs::os_error(vm, &e, None))?;
        decoded(vm, st, buf)
    })
}

/// Reads one line (with its newline); empty at the end of the file.
pub fn readline_value(vm: &mut Vm, file: &Value) -> PyResult<Value> {
    with_file(vm, std::slice::from_ref(file), |vm, st| {
        let Some(r) = st.reader.as_mut() else {
            return Err(vm.err("OSError", "not readable"));
        };
        let mut buf = Vec::new();
        r.read_until(b'\n', &mut buf)
            .map_err(|e| crate::exc_attrs::os_error(vm, &e, None))?;
        decoded(vm, st, buf)
    })
}

fn readline(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "readline", args, 1, 1)?;
    readline_value(vm, &args[0])
}

fn readlines(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "readlines", args, 1, 1)?;
    let mut lines = Vec::new();
    loop {
        let line = readline_value(vm, &args[0])?;
        if vm.len(&line)? == 0 {
            return Ok(Value::list(lines));
        }
        lines.push(line);
    }
}

fn write(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "write", args, 2, 2)?;
    let data = args[1].clone();
    with_file(vm, args, |vm, st| {
        let (bytes, n) = match (&data, st.binary()) {
            (Value::Str(s), false) => (s.as_str().as_bytes().to_vec(), s.char_len()),
            (Value::Bytes(b), true) => (b.to_vec(), b.len()),
            (Value::ByteArray(b), true) => (b.borrow().clone(), b.borrow().len()),
            (other, binary) => {
                return Err(vm.type_error(format!(
                    "write() argument must be {}, not {}",
                    if binary { "bytes" } else { "str" },
                    vm.type_name(other)
                )))
            }
        };
        let Some(w) = st.writer.as_mut() else {
            return Err(vm.err("OSError", "not writable"));
        };
        w.write_all(&bytes)
            .map_err(|e| crate::exc_attrs::os_error(vm, &e, None))?;
        Ok(Value::Int(n as i64))
    })
}

fn close(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    let Some(Value::Wrapper(w)) = args.first() else {
        return Err(vm.type_error("descriptor requires a file object"));
    };
    if let Wrapper::File(state) = &**w {
        let mut st = state.borrow_mut();
        if let Some(wr) = st.writer.as_mut() {
            wr.flush()
                .map_err(|e| crate::exc_attrs::os_error(vm, &e, None))?;
        }
        st.writer = None;
        st.reader = None;
        st.closed = true;
    }
    Ok(Value::None)
}

fn enter(_: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    Ok(args.first().cloned().unwrap_or(Value::None))
}

fn exit(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    close(vm, &args[..1.min(args.len())], &[])?;
    Ok(Value::Bool(false))
}

/// Fills the methods of the file type.
pub fn install(t: &Rc<Type>) {
    for (name, f) in [
        ("read", read as NativeFn),
        ("readline", readline),
        ("readlines", readlines),
        ("write", write),
        ("close", close),
        ("__enter__", enter),
        ("__exit__", exit),
    ] {
        t.dict.set_str(&intern(name), builtin(name, f));
    }
}
