//! bytes and bytearray: their constructors, the method set both share (each method reads the
//! receiver's bytes and returns a value of the receiver's kind), and bytearray's mutators.

use std::cell::RefCell;
use std::rc::Rc;

use crate::builtins::{builtin, split_kw};
use crate::int::as_int;
use crate::objects::{NativeFn, Wrapper};
use crate::pystr::{intern, PyStr};
use crate::types::Type;
use crate::value::Value;
use crate::vm::{PyResult, Vm};

type Args<'a> = &'a [Value];
type Kw<'a> = &'a [Rc<PyStr>];

/// The bytes of a bytes or bytearray value (or of an instance wrapping one).
pub fn bytes_of(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Bytes(b) => Some(b.to_vec()),
        Value::ByteArray(b) => Some(b.borrow().clone()),
        Value::Instance(i) => match &i.payload {
            Value::Bytes(_) | Value::ByteArray(_) => bytes_of(&i.payload),
            _ => None,
        },
        _ => None,
    }
}

/// A new bytearray value.
pub fn bytearray(data: Vec<u8>) -> Value {
    Value::ByteArray(Rc::new(RefCell::new(data)))
}

/// The repr of a bytearray: CPython escapes `'` even inside double quotes.
pub fn bytearray_repr(data: &[u8]) -> String {
    let r = pyc_loader::repr::bytes_repr(data);
    let r = match r.strip_prefix("b\"").and_then(|x| x.strip_suffix('"')) {
        Some(body) => format!("b\"{}\"", body.replace('\'', "\\'")),
        None => r,
    };
    format!("bytearray({r})")
}

/// A bytes value, or a bytearray when `array`.
fn make(array: bool, data: Vec<u8>) -> Value {
    if array {
        bytearray(data)
    } else {
        Value::Bytes(Rc::new(data))
    }
}

/// The receiver's bytes and whether it is a bytearray.
fn recv(vm: &Vm, args: Args, name: &str) -> PyResult<(Vec<u8>, bool)> {
    let array = matches!(args.first(), Some(Value::ByteArray(_)));
    match args.first().and_then(bytes_of) {
        Some(b) => Ok((b, array)),
        None => Err(vm.type_error(format!("descriptor '{name}' requires a 'bytes' object"))),
    }
}

/// The receiver of a bytearray mutator.
fn this_array(vm: &Vm, args: Args, name: &str) -> PyResult<Rc<RefCell<Vec<u8>>>> {
    match args.first() {
        Some(Value::ByteArray(b)) => Ok(b.clone()),
        _ => Err(vm.type_error(format!("descriptor '{name}' requires a 'bytearray' object"))),
    }
}

/// A bytes-like argument ("a bytes-like object is required, not 'str'").
fn arg_bytes(vm: &Vm, v: &Value) -> PyResult<Vec<u8>> {
    bytes_of(v).ok_or_else(|| {
        vm.type_error(format!(
            "a bytes-like object is required, not '{}'",
            vm.type_name(v)
        ))
    })
}

/// A byte value from an int argument ("byte must be in range(0, 256)").
fn byte_arg(vm: &mut Vm, v: &Value) -> PyResult<u8> {
    let i = vm.index_of(v)?;
    u8::try_from(i).map_err(|_| vm.value_error("byte must be in range(0, 256)"))
}

/// The bytes an iterable of ints (or a bytes-like value) stands for.
fn bytes_from_iterable(vm: &mut Vm, v: &Value) -> PyResult<Vec<u8>> {
    if let Some(b) = bytes_of(v) {
        return Ok(b);
    }
    let items = vm.to_vec(v)?;
    let mut out = Vec::with_capacity(items.len());
    for i in &items {
        out.push(byte_arg(vm, i)?);
    }
    Ok(out)
}

/// Encodes `s` with a codec name (utf-8, ascii, latin-1).
fn encode(vm: &Vm, s: &str, encoding: &str) -> PyResult<Vec<u8>> {
    match normalize_codec(encoding).as_str() {
        "utf_8" | "utf8" => Ok(s.as_bytes().to_vec()),
        "ascii" | "latin_1" | "latin1" | "iso8859_1" => {
            let limit = if encoding_is_ascii(encoding) {
                0x80
            } else {
                0x100
            };
            let mut out = Vec::with_capacity(s.len());
            for (pos, c) in s.chars().enumerate() {
                if (c as u32) >= limit {
                    return Err(vm.err(
                        "UnicodeEncodeError",
                        format!(
                            "'{}' codec can't encode character '\\x{:02x}' in position {pos}: ordinal not in range({limit})",
                            if limit == 0x80 { "ascii" } else { "latin-1" },
                            c as u32
                        ),
                    ));
                }
                out.push(c as u8);
            }
            Ok(out)
        }
        _ => Err(vm.err("LookupError", format!("unknown encoding: {encoding}"))),
    }
}

fn normalize_codec(encoding: &str) -> String {
    encoding.to_ascii_lowercase().replace('-', "_")
}

fn encoding_is_ascii(encoding: &str) -> bool {
    normalize_codec(encoding) == "ascii"
}

/// The arguments of `bytes(...)` / `bytearray(...)`: source, encoding, errors.
fn from_args(vm: &mut Vm, args: Args, kwnames: Kw, what: &str) -> PyResult<Vec<u8>> {
    let (pos, kw) = split_kw(args, kwnames);
    let mut source = pos.first().cloned();
    let mut encoding = pos.get(1).cloned();
    for (k, v) in kw {
        match k {
            "source" => source = Some(v.clone()),
            "encoding" => encoding = Some(v.clone()),
            "errors" => {}
            _ => {
                return Err(
                    vm.type_error(format!("'{k}' is an invalid keyword argument for {what}()"))
                )
            }
        }
    }
    if pos.len() > 3 {
        return Err(vm.type_error(format!(
            "{what}() takes at most 3 arguments ({} given)",
            pos.len()
        )));
    }
    match (source, encoding) {
        (None, None) => Ok(Vec::new()),
        (None, Some(_)) => Err(vm.type_error("encoding without a string argument")),
        (Some(Value::Str(s)), Some(Value::Str(e))) => encode(vm, s.as_str(), e.as_str()),
        (Some(Value::Str(_)), Some(e)) => Err(vm.type_error(format!(
            "{what}() argument 'encoding' must be str, not {}",
            vm.type_name(&e)
        ))),
        (Some(Value::Str(_)), None) => Err(vm.type_error("string argument without an encoding")),
        (Some(_), Some(_)) => Err(vm.type_error("encoding without a string argument")),
        (Some(v), None) => match as_int(&v) {
            Some(_) if !matches!(v, Value::Instance(_)) => {
                let n = vm.index_of(&v)?;
                if n < 0 {
                    return Err(vm.value_error("negative count"));
                }
                // An allocation the system refuses is a MemoryError, never an abort.
                let mut data = Vec::new();
                usize::try_from(n)
                    .ok()
                    .and_then(|n| data.try_reserve_exact(n).ok())
                    .ok_or_else(|| {
                        crate::vm::PyErr(vm.new_exception(vm.exc_type("MemoryError"), vec![]))
                    })?;
                data.resize(n as usize, 0);
                Ok(data)
            }
            _ => bytes_from_iterable(vm, &v).map_err(|e| {
                if vm.err_is(&e, "TypeError") && vm.iter(&v).is_err() {
                    vm.type_error(format!(
                        "cannot convert '{}' object to {what}",
                        vm.type_name(&v)
                    ))
                } else {
                    e
                }
            }),
        },
    }
}

/// `bytes(...)`.
pub fn bytes_new(vm: &mut Vm, args: Args, kwnames: Kw) -> PyResult<Value> {
    if let [v @ Value::Bytes(_)] = args {
        return Ok(v.clone());
    }
    if let [v @ Value::Instance(_)] = args {
        if let Some(r) = vm.call_special(v, &intern("__bytes__"), &[])? {
            if !matches!(r, Value::Bytes(_)) {
                return Err(vm.type_error(format!(
                    "__bytes__ returned non-bytes (type {})",
                    vm.type_name(&r)
                )));
            }
            return Ok(r);
        }
    }
    Ok(Value::Bytes(Rc::new(from_args(
        vm, args, kwnames, "bytes",
    )?)))
}

/// `bytearray(...)`.
pub fn bytearray_new(vm: &mut Vm, args: Args, kwnames: Kw) -> PyResult<Value> {
    Ok(bytearray(from_args(vm, args, kwnames, "bytearray")?))
}

/// Installs the methods of bytes and bytearray.
pub fn install(vm: &mut Vm) {
    let shared: &[(&'static str, NativeFn)] = &[
        ("decode", decode),
        ("hex", hex),
        ("find", find),
        ("rfind", rfind),
        ("index", index),
        ("rindex", rindex),
        ("count", count),
        ("startswith", startswith),
        ("endswith", endswith),
        ("split", split),
        ("rsplit", rsplit),
        ("splitlines", splitlines),
        ("join", join),
        ("replace", replace),
        ("strip", strip),
        ("lstrip", lstrip),
        ("rstrip", rstrip),
        ("upper", upper),
        ("lower", lower),
        ("swapcase", swapcase),
        ("capitalize", capitalize),
        ("title", title),
        ("isdigit", isdigit),
        ("isalpha", isalpha),
        ("isalnum", isalnum),
        ("isspace", isspace),
        ("isupper", isupper),
        ("islower", islower),
        ("isascii", isascii),
        ("partition", partition),
        ("rpartition", rpartition),
        ("removeprefix", removeprefix),
        ("removesuffix", removesuffix),
        ("center", center),
        ("ljust", ljust),
        ("rjust", rjust),
        ("zfill", zfill),
    ];
    let (bytes_t, array_t) = (vm.t.bytes.clone(), vm.t.bytearray.clone());
    for t in [&bytes_t, &array_t] {
        for (name, f) in shared {
            add(t, name, *f);
        }
        t.dict.set_str(
            &intern("fromhex"),
            Value::Wrapper(Rc::new(Wrapper::ClassMethod(builtin("fromhex", fromhex)))),
        );
    }
    for (name, f) in [
        ("append", append as NativeFn),
        ("extend", extend),
        ("insert", insert),
        ("pop", pop),
        ("remove", remove),
        ("reverse", reverse),
        ("clear", clear),
        ("copy", copy),
        ("__init__", init),
    ] {
        add(&array_t, name, f);
    }
}

fn add(t: &Rc<Type>, name: &'static str, f: NativeFn) {
    t.dict.set_str(&intern(name), builtin(name, f));
}

/// `bytes.decode(encoding="utf-8", errors="strict")` (also `str(b, encoding, errors)`).
pub fn decode(vm: &mut Vm, args: Args, kwnames: Kw) -> PyResult<Value> {
    let (b, _) = recv(vm, args, "decode")?;
    let (pos, kw) = split_kw(args, kwnames);
    let mut encoding = match pos.get(1) {
        Some(Value::Str(s)) => s.as_str().to_owned(),
        _ => "utf-8".to_owned(),
    };
    let mut errors = match pos.get(2) {
        Some(Value::Str(s)) => s.as_str().to_owned(),
        _ => "strict".to_owned(),
    };
    for (k, v) in kw {
        if let Value::Str(s) = v {
            match k {
                "encoding" => encoding = s.as_str().to_owned(),
                "errors" => errors = s.as_str().to_owned(),
                _ => {}
            }
        }
    }
    match normalize_codec(&encoding).as_str() {
        "utf_8" | "utf8" => match std::str::from_utf8(&b) {
            Ok(s) => Ok(Value::str(s)),
            Err(_) if errors == "replace" => Ok(Value::string(String::from_utf8_lossy(&b).into())),
            Err(_) if errors == "ignore" => Ok(Value::string(
                String::from_utf8_lossy(&b).replace('\u{fffd}', ""),
            )),
            Err(e) => Err(crate::exc_attrs::utf8_decode_error(vm, &b, e)),
        },
        "ascii" => match b.iter().position(|&x| x >= 0x80) {
            Some(at) if errors == "strict" => Err(crate::exc_attrs::decode_error(
                vm,
                "ascii",
                &b,
                at,
                at + 1,
                "ordinal not in range(128)",
            )),
            _ => Ok(Value::string(
                b.iter()
                    .filter_map(|&x| match (x < 0x80, errors.as_str()) {
                        (true, _) => Some(x as char),
                        (false, "replace") => Some('\u{fffd}'),
                        _ => None,
                    })
                    .collect(),
            )),
        },
        "latin_1" | "latin1" | "iso8859_1" => {
            Ok(Value::string(b.iter().map(|&x| x as char).collect()))
        }
        _ => Err(vm.err("LookupError", format!("unknown encoding: {encoding}"))),
    }
}

fn hex(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let (b, _) = recv(vm, args, "hex")?;
    let sep = match args.get(1) {
        Some(Value::Str(s)) => Some(s.as_str().to_owned()),
        Some(v) => bytes_of(v).map(|b| String::from_utf8_lossy(&b).into_owned()),
        None => None,
    };
    let digits: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(Value::string(match sep {
        Some(sep) => digits.join(&sep),
        None => digits.concat(),
    }))
}

fn fromhex(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let array = matches!(args.first(), Some(Value::Type(t)) if t.is_subtype(&vm.t.bytearray));
    let Some(Value::Str(s)) = args.get(1) else {
        return Err(vm.type_error(format!(
            "fromhex() argument must be str, not {}",
            args.get(1).map_or("NoneType".into(), |v| vm.type_name(v))
        )));
    };
    let text = s.as_str().as_bytes();
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut i = 0;
    while i < text.len() {
        if text[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let digit = |at: usize| text.get(at).and_then(|c| (*c as char).to_digit(16));
        match (digit(i), digit(i + 1)) {
            (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
            (Some(_), None) => {
                return Err(vm.value_error(format!(
                    "non-hexadecimal number found in fromhex() arg at position {}",
                    i + 1
                )))
            }
            (None, _) => {
                return Err(vm.value_error(format!(
                    "non-hexadecimal number found in fromhex() arg at position {i}"
                )))
            }
        }
        i += 2;
    }
    Ok(make(array, out))
}

/// A `sub` argument of find/count/index: bytes-like or an int.
fn sub_arg(vm: &mut Vm, v: Option<&Value>) -> PyResult<Vec<u8>> {
    if let Some(b) = v.and_then(bytes_of) {
        return Ok(b);
    }
    match v {
        Some(v) if as_int(v).is_some() => Ok(vec![byte_arg(vm, v)?]),
        Some(v) => Err(vm.type_error(format!(
            "argument should be integer or bytes-like object, not '{}'",
            vm.type_name(v)
        ))),
        None => Err(vm.type_error("function takes at least 1 argument (0 given)")),
    }
}

/// The `start`/`end` arguments at `args[at]`, `args[at + 1]`, adjusted as CPython does:
/// negative ones count from the end; `end` is at most `len`, `start` may be past it (then
/// nothing matches, not even the empty string).
fn span(vm: &mut Vm, args: Args, at: usize, len: usize) -> PyResult<(usize, usize)> {
    let len = len as i64;
    let start = crate::methods::adjusted_bound(vm, args.get(at), len, 0)?;
    let end = crate::methods::adjusted_bound(vm, args.get(at + 1), len, len)?.min(len);
    Ok((start as usize, end as usize))
}

fn find_in(hay: &[u8], sub: &[u8], right: bool) -> Option<usize> {
    if sub.len() > hay.len() {
        return None;
    }
    let mut positions = 0..=hay.len() - sub.len();
    let hit = |&i: &usize| &hay[i..i + sub.len()] == sub;
    if right {
        positions.rev().find(hit)
    } else {
        positions.find(hit)
    }
}

fn find_impl(vm: &mut Vm, args: Args, name: &str, right: bool) -> PyResult<Option<usize>> {
    let (b, _) = recv(vm, args, name)?;
    let sub = sub_arg(vm, args.get(1))?;
    let (start, end) = span(vm, args, 2, b.len())?;
    if start > b.len() || end < start || (end - start) < sub.len() {
        return Ok(None);
    }
    Ok(find_in(&b[start..end], &sub, right).map(|i| i + start))
}

fn find(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    Ok(Value::Int(
        find_impl(vm, args, "find", false)?.map_or(-1, |i| i as i64),
    ))
}

fn rfind(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    Ok(Value::Int(
        find_impl(vm, args, "rfind", true)?.map_or(-1, |i| i as i64),
    ))
}

fn index(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    match find_impl(vm, args, "index", false)? {
        Some(i) => Ok(Value::Int(i as i64)),
        None => Err(vm.value_error("subsection not found")),
    }
}

fn rindex(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    match find_impl(vm, args, "rindex", true)? {
        Some(i) => Ok(Value::Int(i as i64)),
        None => Err(vm.value_error("subsection not found")),
    }
}

fn count(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let (b, _) = recv(vm, args, "count")?;
    let sub = sub_arg(vm, args.get(1))?;
    let (start, end) = span(vm, args, 2, b.len())?;
    if start > end {
        return Ok(Value::Int(0));
    }
    let hay = &b[start..end];
    if sub.is_empty() {
        return Ok(Value::Int(hay.len() as i64 + 1));
    }
    let (mut n, mut i) = (0, 0);
    while let Some(at) = find_in(&hay[i..], &sub, false) {
        n += 1;
        i += at + sub.len();
    }
    Ok(Value::Int(n))
}

fn affix(vm: &mut Vm, args: Args, name: &str, end: bool) -> PyResult<Value> {
    let (b, _) = recv(vm, args, name)?;
    let (start, stop) = span(vm, args, 2, b.len())?;
    let candidates = match args.get(1) {
        Some(Value::Tuple(t)) => t.to_vec(),
        Some(v) => vec![v.clone()],
        None => return Err(vm.type_error(format!("{name}() takes at least 1 argument (0 given)"))),
    };
    for c in &candidates {
        let Some(p) = bytes_of(c) else {
            return Err(vm.type_error(format!(
                "{name} first arg must be bytes or a tuple of bytes, not {}",
                vm.type_name(c)
            )));
        };
        if start > b.len() || stop < start {
            continue;
        }
        let hay = &b[start..stop];
        if (end && hay.ends_with(&p)) || (!end && hay.starts_with(&p)) {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn startswith(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    affix(vm, args, "startswith", false)
}

fn endswith(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    affix(vm, args, "endswith", true)
}

/// CPython's `Py_ISSPACE` for bytes.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn split_impl(vm: &mut Vm, args: Args, kwnames: Kw, right: bool) -> PyResult<Value> {
    let name = if right { "rsplit" } else { "split" };
    let (b, array) = recv(vm, args, name)?;
    let (pos, kw) = split_kw(args, kwnames);
    let mut sep = pos.get(1).cloned().unwrap_or(Value::None);
    let mut maxsplit = pos.get(2).cloned().unwrap_or(Value::Int(-1));
    for (k, v) in kw {
        match k {
            "sep" => sep = v.clone(),
            "maxsplit" => maxsplit = v.clone(),
            _ => {
                return Err(
                    vm.type_error(format!("{name}() got an unexpected keyword argument '{k}'"))
                )
            }
        }
    }
    let max = vm.index_of(&maxsplit)?;
    let max = if max < 0 { usize::MAX } else { max as usize };
    let mut parts: Vec<Vec<u8>> = Vec::new();
    if let Value::None = sep {
        // Runs of whitespace separate; leading and trailing whitespace is dropped.
        let mut words: Vec<(usize, usize)> = Vec::new();
        let mut i = 0;
        while i < b.len() {
            while i < b.len() && is_space(b[i]) {
                i += 1;
            }
            let s = i;
            while i < b.len() && !is_space(b[i]) {
                i += 1;
            }
            if s < i {
                words.push((s, i));
            }
        }
        if words.len() > max.saturating_add(1) {
            // The unsplit remainder keeps its whitespace on the far side.
            if right {
                let keep = words.len() - max;
                parts.push(b[..words[keep - 1].1].to_vec());
                parts.extend(words[keep..].iter().map(|&(s, e)| b[s..e].to_vec()));
            } else {
                parts.extend(words[..max].iter().map(|&(s, e)| b[s..e].to_vec()));
                parts.push(b[words[max].0..].to_vec());
            }
        } else {
            parts = words.iter().map(|&(s, e)| b[s..e].to_vec()).collect();
        }
    } else {
        let sep = arg_bytes(vm, &sep)?;
        if sep.is_empty() {
            return Err(vm.value_error("empty separator"));
        }
        let mut rest: &[u8] = &b;
        let mut out_rev = Vec::new();
        while parts.len() + out_rev.len() < max {
            match find_in(rest, &sep, right) {
                Some(at) if right => {
                    out_rev.push(rest[at + sep.len()..].to_vec());
                    rest = &rest[..at];
                }
                Some(at) => {
                    parts.push(rest[..at].to_vec());
                    rest = &rest[at + sep.len()..];
                }
                None => break,
            }
        }
        parts.push(rest.to_vec());
        parts.extend(out_rev.into_iter().rev());
    }
    Ok(Value::list(
        parts.into_iter().map(|p| make(array, p)).collect(),
    ))
}

fn split(vm: &mut Vm, args: Args, kw: Kw) -> PyResult<Value> {
    split_impl(vm, args, kw, false)
}

fn rsplit(vm: &mut Vm, args: Args, kw: Kw) -> PyResult<Value> {
    split_impl(vm, args, kw, true)
}

fn splitlines(vm: &mut Vm, args: Args, kwnames: Kw) -> PyResult<Value> {
    let (b, array) = recv(vm, args, "splitlines")?;
    let (pos, kw) = split_kw(args, kwnames);
    let keep = match kw.first().map(|(_, v)| *v).or(pos.get(1)) {
        Some(v) => vm.truthy(v)?,
        None => false,
    };
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        let eol = match b[i] {
            b'\r' if b.get(i + 1) == Some(&b'\n') => 2,
            b'\r' | b'\n' => 1,
            _ => 0,
        };
        if eol > 0 {
            let end = if keep { i + eol } else { i };
            out.push(make(array, b[start..end].to_vec()));
            i += eol;
            start = i;
        } else {
            i += 1;
        }
    }
    if start < b.len() {
        out.push(make(array, b[start..].to_vec()));
    }
    Ok(Value::list(out))
}

fn join(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let (sep, array) = recv(vm, args, "join")?;
    let items = vm.to_vec(args.get(1).unwrap_or(&Value::None))?;
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(&sep);
        }
        match bytes_of(item) {
            Some(b) => out.extend_from_slice(&b),
            None => {
                return Err(vm.type_error(format!(
                    "sequence item {i}: expected a bytes-like object, {} found",
                    vm.type_name(item)
                )))
            }
        }
    }
    Ok(make(array, out))
}

fn replace(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let (b, array) = recv(vm, args, "replace")?;
    let old = arg_bytes(vm, args.get(1).unwrap_or(&Value::None))?;
    let new = arg_bytes(vm, args.get(2).unwrap_or(&Value::None))?;
    let limit = match args.get(3) {
        Some(v) => vm.index_of(v)?,
        None => -1,
    };
    let limit = if limit < 0 {
        usize::MAX
    } else {
        limit as usize
    };
    let mut out = Vec::with_capacity(b.len());
    let mut done = 0;
    if old.is_empty() {
        for (i, &c) in b.iter().enumerate() {
            if done < limit {
                out.extend_from_slice(&new);
                done += 1;
            }
            out.push(c);
            if i + 1 == b.len() && done < limit {
                out.extend_from_slice(&new);
            }
        }
        if b.is_empty() && limit > 0 {
            out.extend_from_slice(&new);
        }
        return Ok(make(array, out));
    }
    let mut i = 0;
    while i < b.len() {
        if done < limit && b[i..].starts_with(&old) {
            out.extend_from_slice(&new);
            i += old.len();
            done += 1;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(make(array, out))
}

fn strip_impl(vm: &mut Vm, args: Args, name: &str, left: bool, right: bool) -> PyResult<Value> {
    let (b, array) = recv(vm, args, name)?;
    let chars = match args.get(1) {
        None | Some(Value::None) => None,
        Some(v) => Some(arg_bytes(vm, v)?),
    };
    let strip = |c: &u8| match &chars {
        Some(set) => set.contains(c),
        None => is_space(*c),
    };
    let mut s = 0;
    let mut e = b.len();
    if left {
        while s < e && strip(&b[s]) {
            s += 1;
        }
    }
    if right {
        while e > s && strip(&b[e - 1]) {
            e -= 1;
        }
    }
    Ok(make(array, b[s..e].to_vec()))
}

fn strip(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    strip_impl(vm, args, "strip", true, true)
}

fn lstrip(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    strip_impl(vm, args, "lstrip", true, false)
}

fn rstrip(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    strip_impl(vm, args, "rstrip", false, true)
}

fn map_bytes(vm: &mut Vm, args: Args, name: &str, f: fn(&[u8]) -> Vec<u8>) -> PyResult<Value> {
    let (b, array) = recv(vm, args, name)?;
    Ok(make(array, f(&b)))
}

fn upper(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    map_bytes(vm, args, "upper", |b| b.to_ascii_uppercase())
}

fn lower(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    map_bytes(vm, args, "lower", |b| b.to_ascii_lowercase())
}

fn swapcase(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    map_bytes(vm, args, "swapcase", |b| {
        b.iter()
            .map(|c| match c {
                b'a'..=b'z' => c.to_ascii_uppercase(),
                b'A'..=b'Z' => c.to_ascii_lowercase(),
                _ => *c,
            })
            .collect()
    })
}

fn capitalize(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    map_bytes(vm, args, "capitalize", |b| {
        b.iter()
            .enumerate()
            .map(|(i, c)| {
                if i == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    })
}

fn title(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    map_bytes(vm, args, "title", |b| {
        let mut prev_cased = false;
        b.iter()
            .map(|c| {
                let out = if prev_cased {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                };
                prev_cased = c.is_ascii_alphabetic();
                out
            })
            .collect()
    })
}

fn pred(vm: &mut Vm, args: Args, name: &str, f: fn(&[u8]) -> bool) -> PyResult<Value> {
    let (b, _) = recv(vm, args, name)?;
    Ok(Value::Bool(f(&b)))
}

fn isdigit(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    pred(vm, args, "isdigit", |b| {
        !b.is_empty() && b.iter().all(u8::is_ascii_digit)
    })
}

fn isalpha(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    pred(vm, args, "isalpha", |b| {
        !b.is_empty() && b.iter().all(u8::is_ascii_alphabetic)
    })
}

fn isalnum(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    pred(vm, args, "isalnum", |b| {
        !b.is_empty() && b.iter().all(u8::is_ascii_alphanumeric)
    })
}

fn isspace(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    pred(vm, args, "isspace", |b| {
        !b.is_empty() && b.iter().all(|c| is_space(*c))
    })
}

fn isupper(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    pred(vm, args, "isupper", |b| {
        b.iter().any(u8::is_ascii_uppercase) && !b.iter().any(u8::is_ascii_lowercase)
    })
}

fn islower(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    pred(vm, args, "islower", |b| {
        b.iter().any(u8::is_ascii_lowercase) && !b.iter().any(u8::is_ascii_uppercase)
    })
}

fn isascii(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    pred(vm, args, "isascii", |b| b.is_ascii())
}

fn partition_impl(vm: &mut Vm, args: Args, name: &str, right: bool) -> PyResult<Value> {
    let (b, array) = recv(vm, args, name)?;
    let sep = arg_bytes(vm, args.get(1).unwrap_or(&Value::None))?;
    if sep.is_empty() {
        return Err(vm.value_error("empty separator"));
    }
    let parts = match find_in(&b, &sep, right) {
        Some(at) => [b[..at].to_vec(), sep.clone(), b[at + sep.len()..].to_vec()],
        None if right => [Vec::new(), Vec::new(), b.clone()],
        None => [b.clone(), Vec::new(), Vec::new()],
    };
    Ok(Value::tuple(
        parts.into_iter().map(|p| make(array, p)).collect(),
    ))
}

fn partition(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    partition_impl(vm, args, "partition", false)
}

fn rpartition(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    partition_impl(vm, args, "rpartition", true)
}

fn removeprefix(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let (b, array) = recv(vm, args, "removeprefix")?;
    let p = arg_bytes(vm, args.get(1).unwrap_or(&Value::None))?;
    Ok(make(array, b.strip_prefix(&p[..]).unwrap_or(&b).to_vec()))
}

fn removesuffix(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let (b, array) = recv(vm, args, "removesuffix")?;
    let p = arg_bytes(vm, args.get(1).unwrap_or(&Value::None))?;
    Ok(make(array, b.strip_suffix(&p[..]).unwrap_or(&b).to_vec()))
}

fn pad(vm: &mut Vm, args: Args, name: &str, align: u8) -> PyResult<Value> {
    let (b, array) = recv(vm, args, name)?;
    let width = vm.index_of(args.get(1).unwrap_or(&Value::None))?.max(0) as usize;
    let fill = match args.get(2) {
        None => b' ',
        Some(v) => match bytes_of(v) {
            Some(f) if f.len() == 1 => f[0],
            _ => {
                return Err(vm.type_error(format!(
                    "{name}() argument 2 must be a byte string of length 1, not {}",
                    vm.type_name(v)
                )))
            }
        },
    };
    if width <= b.len() {
        return Ok(make(array, b));
    }
    let total = width - b.len();
    let left = match align {
        b'<' => 0,
        b'>' => total,
        _ => total / 2 + (total & width & 1),
    };
    let mut out = vec![fill; left];
    out.extend_from_slice(&b);
    out.resize(width, fill);
    Ok(make(array, out))
}

fn center(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    pad(vm, args, "center", b'^')
}

fn ljust(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    pad(vm, args, "ljust", b'<')
}

fn rjust(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    pad(vm, args, "rjust", b'>')
}

fn zfill(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let (b, array) = recv(vm, args, "zfill")?;
    let width = vm.index_of(args.get(1).unwrap_or(&Value::None))?.max(0) as usize;
    if width <= b.len() {
        return Ok(make(array, b));
    }
    let sign = matches!(b.first(), Some(b'+' | b'-'));
    let mut out = Vec::with_capacity(width);
    if sign {
        out.push(b[0]);
    }
    out.resize(out.len() + width - b.len(), b'0');
    out.extend_from_slice(&b[usize::from(sign)..]);
    Ok(make(array, out))
}

fn append(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let a = this_array(vm, args, "append")?;
    let Some(v) = args.get(1) else {
        return Err(vm.type_error("bytearray.append() takes exactly one argument (0 given)"));
    };
    let c = byte_arg(vm, v)?;
    a.borrow_mut().push(c);
    Ok(Value::None)
}

fn extend(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let a = this_array(vm, args, "extend")?;
    let src = args.get(1).cloned().unwrap_or(Value::None);
    let data = match bytes_from_iterable(vm, &src) {
        Ok(d) => d,
        Err(e) if vm.err_is(&e, "TypeError") && vm.iter(&src).is_err() => {
            return Err(vm.type_error(format!(
                "can't extend bytearray with {}",
                vm.type_name(&src)
            )))
        }
        Err(e) => return Err(e),
    };
    a.borrow_mut().extend_from_slice(&data);
    Ok(Value::None)
}

fn insert(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let a = this_array(vm, args, "insert")?;
    let [_, i, v] = args else {
        return Err(vm.type_error(format!(
            "insert expected 2 arguments, got {}",
            args.len().saturating_sub(1)
        )));
    };
    let i = vm.index_of(i)?;
    let c = byte_arg(vm, v)?;
    let mut data = a.borrow_mut();
    let len = data.len() as i64;
    let at = if i < 0 { (i + len).max(0) } else { i.min(len) };
    data.insert(at as usize, c);
    Ok(Value::None)
}

fn pop(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let a = this_array(vm, args, "pop")?;
    let i = match args.get(1) {
        Some(v) => vm.index_of(v)?,
        None => -1,
    };
    let mut data = a.borrow_mut();
    if data.is_empty() {
        return Err(vm.err("IndexError", "pop from empty bytearray"));
    }
    let len = data.len() as i64;
    let at = if i < 0 { i + len } else { i };
    if !(0..len).contains(&at) {
        return Err(vm.err("IndexError", "pop index out of range"));
    }
    Ok(Value::Int(i64::from(data.remove(at as usize))))
}

fn remove(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let a = this_array(vm, args, "remove")?;
    let c = byte_arg(vm, args.get(1).unwrap_or(&Value::None))?;
    let mut data = a.borrow_mut();
    match data.iter().position(|&x| x == c) {
        Some(at) => {
            data.remove(at);
            Ok(Value::None)
        }
        None => Err(vm.value_error("value not found in bytearray")),
    }
}

fn reverse(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    this_array(vm, args, "reverse")?.borrow_mut().reverse();
    Ok(Value::None)
}

fn clear(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    this_array(vm, args, "clear")?.borrow_mut().clear();
    Ok(Value::None)
}

/// `bytearray.__init__(source, encoding, errors)`: refills the buffer (subclass instances
/// are created empty).
fn init(vm: &mut Vm, args: Args, kwnames: Kw) -> PyResult<Value> {
    let a = this_array(vm, args, "__init__")?;
    let data = from_args(vm, &args[1..], kwnames, "bytearray")?;
    *a.borrow_mut() = data;
    Ok(Value::None)
}

fn copy(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let data = this_array(vm, args, "copy")?.borrow().clone();
    Ok(bytearray(data))
}

/// `array[key] = value`.
pub fn set_item(vm: &mut Vm, a: &Rc<RefCell<Vec<u8>>>, key: &Value, value: Value) -> PyResult<()> {
    // Converting the key or the value runs Python code that may resize the array: every
    // position is checked against its length at the time of the write.
    let out_of_range = |vm: &Vm| vm.err("IndexError", "bytearray index out of range");
    let Value::Slice(s) = key else {
        let len = a.borrow().len();
        let i = vm.seq_index(key, len, "bytearray")?;
        let c = byte_arg(vm, &value)?;
        return match a.borrow_mut().get_mut(i) {
            Some(slot) => {
                *slot = c;
                Ok(())
            }
            None => Err(out_of_range(vm)),
        };
    };
    if as_int(&value).is_some() || matches!(value, Value::Str(_)) {
        return Err(
            vm.type_error("can assign only bytes, buffers, or iterables of ints in range(0, 256)")
        );
    }
    let new = bytes_from_iterable(vm, &value)?;
    let len = a.borrow().len();
    let (start, stop, step) = vm.slice_indices(s, len)?;
    if step == 1 {
        let mut data = a.borrow_mut();
        let start = (start.max(0) as usize).min(data.len());
        let stop = (stop.max(0) as usize).clamp(start, data.len());
        data.splice(start..stop, new);
        return Ok(());
    }
    let pos = vm.slice_positions(s, len)?;
    if pos.len() != new.len() {
        return Err(vm.value_error(format!(
            "attempt to assign bytes of size {} to extended slice of size {}",
            new.len(),
            pos.len()
        )));
    }
    let mut data = a.borrow_mut();
    if pos.iter().any(|&i| i >= data.len()) {
        return Err(out_of_range(vm));
    }
    for (i, c) in pos.into_iter().zip(new) {
        data[i] = c;
    }
    Ok(())
}

/// `del array[key]`.
pub fn del_item(vm: &mut Vm, a: &Rc<RefCell<Vec<u8>>>, key: &Value) -> PyResult<()> {
    let len = a.borrow().len();
    match key {
        Value::Slice(s) => {
            let mut pos = vm.slice_positions(s, len)?;
            pos.sort_unstable();
            let mut data = a.borrow_mut();
            // The slice's __index__ may have shrunk the array.
            pos.retain(|&i| i < data.len());
            for i in pos.into_iter().rev() {
                data.remove(i);
            }
        }
        k => {
            let i = vm.seq_index(k, len, "bytearray")?;
            let mut data = a.borrow_mut();
            if i >= data.len() {
                drop(data);
                return Err(vm.err("IndexError", "bytearray index out of range"));
            }
            data.remove(i);
        }
    }
    Ok(())
}

/// `array += other` (op 0) and `array *= n` (op 5), in place.
pub fn in_place(vm: &mut Vm, a: &Rc<RefCell<Vec<u8>>>, other: &Value, op: usize) -> PyResult<()> {
    if op == 0 {
        let Some(data) = bytes_of(other) else {
            return Err(vm.type_error(format!("can't concat {} to bytearray", vm.type_name(other))));
        };
        a.borrow_mut().extend_from_slice(&data);
        return Ok(());
    }
    if as_int(other).is_none() {
        return Err(vm.type_error(format!(
            "can't multiply sequence by non-int of type '{}'",
            vm.type_name(other)
        )));
    }
    let n = vm.index_of(other)?.max(0) as usize;
    let len = a.borrow().len();
    if len.checked_mul(n).is_none_or(|total| total >= 1 << 40) {
        return Err(crate::vm::PyErr(
            vm.new_exception(vm.exc_type("MemoryError"), vec![]),
        ));
    }
    let data = a.borrow().repeat(n);
    *a.borrow_mut() = data;
    Ok(())
}
