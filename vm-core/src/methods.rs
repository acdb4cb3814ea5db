//! Methods of the built-in types (str, list, dict, set, tuple, int, float, generator,
//! BaseException) and the `math` module.

use std::rc::Rc;

use pyc_loader::Target;

use crate::builtins::{builtin, nargs, no_kw, sort_kw, sort_values, split_kw};
use crate::dict::DictObj;
use crate::int::as_int;
use crate::objects::{DictPart, NativeFn};
use crate::pystr::{intern, PyStr};
use crate::types::Type;
use crate::value::Value;
use crate::vm::{PyResult, Vm};

type Args<'a> = &'a [Value];
type Kw<'a> = &'a [Rc<PyStr>];

fn add(t: &Rc<Type>, name: &'static str, f: NativeFn) {
    t.dict.set_str(&intern(name), builtin(name, f));
}

/// Installs the method tables.
pub fn install(vm: &mut Vm) {
    let t = &vm.t;
    for (name, f) in [
        ("join", str_join as NativeFn),
        ("split", str_split),
        ("rsplit", str_rsplit),
        ("strip", str_strip),
        ("lstrip", str_lstrip),
        ("rstrip", str_rstrip),
        ("upper", str_upper),
        ("lower", str_lower),
        ("startswith", str_startswith),
        ("endswith", str_endswith),
        ("replace", str_replace),
        ("find", str_find),
        ("rfind", str_rfind),
        ("index", str_index),
        ("count", str_count),
        ("format", str_format),
        ("isdigit", str_isdigit),
        ("isalpha", str_isalpha),
        ("isalnum", str_isalnum),
        ("isspace", str_isspace),
        ("isupper", str_isupper),
        ("islower", str_islower),
        ("title", str_title),
        ("capitalize", str_capitalize),
        ("center", str_center),
        ("ljust", str_ljust),
        ("rjust", str_rjust),
        ("zfill", str_zfill),
        ("splitlines", str_splitlines),
        ("partition", str_partition),
        ("encode", str_encode),
        ("swapcase", str_swapcase),
        ("isidentifier", str_isidentifier),
        ("expandtabs", str_expandtabs),
        ("removeprefix", str_removeprefix),
        ("removesuffix", str_removesuffix),
        ("casefold", str_casefold),
        ("rpartition", str_rpartition),
        ("rindex", str_rindex),
        ("istitle", str_istitle),
        ("translate", str_translate),
        ("isdecimal", str_isdecimal),
        ("isprintable", str_isprintable),
        ("isascii", str_isascii),
        ("format_map", str_format_map),
        ("isnumeric", str_isnumeric),
    ] {
        add(&t.str_, name, f);
    }
    for (name, f) in [
        ("append", list_append as NativeFn),
        ("extend", list_extend),
        ("pop", list_pop),
        ("insert", list_insert),
        ("remove", list_remove),
        ("index", seq_index),
        ("count", seq_count),
        ("sort", list_sort),
        ("reverse", list_reverse),
        ("copy", list_copy),
        ("clear", list_clear),
        ("__init__", list_init),
    ] {
        add(&t.list, name, f);
    }
    add(&t.tuple, "index", seq_index);
    add(&t.tuple, "count", seq_count);
    for (name, f) in [
        ("get", dict_get as NativeFn),
        ("keys", dict_keys),
        ("values", dict_values),
        ("items", dict_items),
        ("pop", dict_pop),
        ("setdefault", dict_setdefault),
        ("update", dict_update_m),
        ("copy", dict_copy),
        ("clear", dict_clear),
        ("popitem", dict_popitem),
        ("__init__", dict_init),
    ] {
        add(&t.dict, name, f);
    }
    for (name, f) in [
        ("add", set_add as NativeFn),
        ("remove", set_remove),
        ("discard", set_discard),
        ("pop", set_pop),
        ("update", set_update),
        ("difference_update", set_difference_update),
        ("intersection_update", set_intersection_update),
        (
            "symmetric_difference_update",
            set_symmetric_difference_update,
        ),
        ("clear", set_clear),
        ("__init__", set_init),
    ] {
        add(&t.set, name, f);
    }
    for st in [&t.set, &t.frozenset] {
        for (name, f) in [
            ("union", set_union as NativeFn),
            ("intersection", set_intersection),
            ("difference", set_difference),
            ("symmetric_difference", set_symdiff),
            ("issubset", set_issubset),
            ("issuperset", set_issuperset),
            ("copy", set_copy),
            ("isdisjoint", set_isdisjoint),
        ] {
            add(st, name, f);
        }
    }
    add(&t.int, "bit_length", int_bit_length);
    add(&t.slice, "indices", slice_indices);
    add(&t.int, "to_bytes", int_to_bytes);
    t.int.dict.set_str(
        &intern("from_bytes"),
        Value::Wrapper(Rc::new(crate::objects::Wrapper::ClassMethod(builtin(
            "from_bytes",
            int_from_bytes,
        )))),
    );
    t.str_.dict.set_str(
        &intern("maketrans"),
        Value::Wrapper(Rc::new(crate::objects::Wrapper::StaticMethod(builtin(
            "maketrans",
            str_maketrans,
        )))),
    );
    add(&t.float, "is_integer", float_is_integer);
    crate::number_methods::install(vm);
    let t = &vm.t;
    add(&t.complex, "conjugate", complex_conjugate);
    add(&t.function, "__get__", function_get);
    for ty in [&t.property, &t.classmethod, &t.staticmethod] {
        add(ty, "__get__", descriptor_get);
    }
    add(&t.property, "__set__", property_set);
    add(&t.property, "__delete__", property_delete);
    add(&t.generator, "send", gen_send);
    add(&t.generator, "throw", gen_throw);
    add(&t.generator, "close", gen_close);
    add(&t.object, "__init__", crate::builtins::object_init);
    let base_exc = t.exceptions[0].clone();
    add(&base_exc, "__init__", exc_init);
    add(&base_exc, "with_traceback", exc_with_traceback);
    let import_error = t
        .exceptions
        .iter()
        .find(|e| e.name.as_str() == "ImportError");
    if let Some(import_error) = import_error {
        add(import_error, "__init__", crate::importer::import_error_init);
    }
}

fn this_str<'a>(vm: &Vm, args: &'a [Value], name: &str) -> PyResult<&'a Rc<PyStr>> {
    match args.first() {
        Some(Value::Str(s)) => Ok(s),
        _ => Err(vm.type_error(format!("descriptor '{name}' requires a 'str' object"))),
    }
}

fn str_arg<'a>(vm: &Vm, v: &'a Value, what: &str) -> PyResult<&'a str> {
    match v {
        Value::Str(s) => Ok(s.as_str()),
        other => Err(vm.type_error(format!("{what} must be str, not {}", vm.type_name(other)))),
    }
}

fn str_join(vm: &mut Vm, args: Args, kw: Kw) -> PyResult<Value> {
    no_kw(vm, "join", kw)?;
    nargs(vm, "join", &args[1..], 1, 1)?;
    let sep = this_str(vm, args, "join")?.clone();
    let items = vm.to_vec(&args[1])?;
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep.as_str());
        }
        match item {
            Value::Str(s) => out.push_str(s.as_str()),
            other => {
                return Err(vm.type_error(format!(
                    "sequence item {i}: expected str instance, {} found",
                    vm.type_name(other)
                )))
            }
        }
    }
    Ok(Value::string(out))
}

fn split_impl(vm: &mut Vm, args: Args, kwnames: Kw, right: bool) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let s = this_str(vm, pos, "split")?.clone();
    let mut sep = pos.get(1).cloned().unwrap_or(Value::None);
    let mut maxsplit = match pos.get(2) {
        Some(v) => vm.index_of(v)?,
        None => -1,
    };
    for (k, v) in kw {
        match k {
            "sep" => sep = v.clone(),
            "maxsplit" => maxsplit = vm.index_of(v)?,
            _ => {
                return Err(
                    vm.type_error(format!("'{k}' is an invalid keyword argument for split()"))
                )
            }
        }
    }
    let text = s.as_str();
    let limit = if maxsplit < 0 {
        usize::MAX
    } else {
        maxsplit as usize
    };
    let parts: Vec<String> = match &sep {
        Value::None => {
            let words: Vec<&str> = text.split_whitespace().collect();
            if limit >= words.len() {
                words.into_iter().map(str::to_owned).collect()
            } else if !right {
                let mut out: Vec<String> = Vec::new();
                let mut rest = text.trim_start();
                for _ in 0..limit {
                    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                    out.push(rest[..end].to_owned());
                    rest = rest[end..].trim_start();
                }
                if !rest.is_empty() {
                    out.push(rest.to_owned());
                }
                out
            } else {
                let mut out: Vec<String> = Vec::new();
                let mut rest = text.trim_end();
                for _ in 0..limit {
                    let start = rest.rfind(char::is_whitespace).map_or(0, |i| i + 1);
                    out.push(rest[start..].to_owned());
                    rest = rest[..start].trim_end();
                }
                if !rest.is_empty() {
                    out.push(rest.to_owned());
                }
                out.reverse();
                out
            }
        }
        Value::Str(sep) => {
            if sep.as_str().is_empty() {
                return Err(vm.value_error("empty separator"));
            }
            if right {
                let mut v: Vec<String> = text
                    .rsplitn(limit.saturating_add(1), sep.as_str())
                    .map(str::to_owned)
                    .collect();
                v.reverse();
                v
            } else {
                text.splitn(limit.saturating_add(1), sep.as_str())
                    .map(str::to_owned)
                    .collect()
            }
        }
        other => {
            return Err(vm.type_error(format!("must be str or None, not {}", vm.type_name(other))))
        }
    };
    Ok(Value::list(parts.into_iter().map(Value::string).collect()))
}

fn str_split(vm: &mut Vm, args: Args, kw: Kw) -> PyResult<Value> {
    split_impl(vm, args, kw, false)
}

fn str_rsplit(vm: &mut Vm, args: Args, kw: Kw) -> PyResult<Value> {
    split_impl(vm, args, kw, true)
}

fn strip_impl(vm: &mut Vm, args: Args, mode: u8) -> PyResult<Value> {
    let s = this_str(vm, args, "strip")?;
    let text = s.as_str();
    let r = match args.get(1) {
        None | Some(Value::None) => match mode {
            0 => text.trim(),
            1 => text.trim_start(),
            _ => text.trim_end(),
        },
        Some(v) => {
            let chars: Vec<char> = str_arg(vm, v, "strip arg")?.chars().collect();
            let f = |c: char| chars.contains(&c);
            match mode {
                0 => text.trim_matches(f),
                1 => text.trim_start_matches(f),
                _ => text.trim_end_matches(f),
            }
        }
    };
    Ok(Value::str(r))
}

fn str_strip(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    strip_impl(vm, args, 0)
}

fn str_lstrip(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    strip_impl(vm, args, 1)
}

fn str_rstrip(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    strip_impl(vm, args, 2)
}

fn str_map(vm: &mut Vm, args: Args, f: fn(&str) -> String) -> PyResult<Value> {
    let s = this_str(vm, args, "str")?;
    Ok(Value::string(f(s.as_str())))
}

fn str_upper(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    str_map(vm, args, str::to_uppercase)
}

fn str_lower(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    str_map(vm, args, str::to_lowercase)
}

fn str_casefold(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    // Lowercasing plus the common full case foldings (the rest of Unicode's CaseFolding.txt
    // folds to the lowercase form).
    str_map(vm, args, |s| {
        s.to_lowercase().replace('ß', "ss").replace('ς', "σ")
    })
}

fn str_swapcase(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    str_map(vm, args, |s| {
        s.chars()
            .map(|c| {
                if c.is_uppercase() {
                    c.to_lowercase().collect::<String>()
                } else {
                    c.to_uppercase().collect()
                }
            })
            .collect()
    })
}

fn str_title(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    str_map(vm, args, |s| {
        let mut out = String::new();
        let mut prev_cased = false;
        for c in s.chars() {
            if prev_cased {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            prev_cased = c.is_alphabetic();
        }
        out
    })
}

fn str_capitalize(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    str_map(vm, args, |s| {
        let mut cs = s.chars();
        match cs.next() {
            Some(f) => f
                .to_uppercase()
                .chain(cs.flat_map(char::to_lowercase))
                .collect(),
            None => String::new(),
        }
    })
}

/// A slice bound of `startswith`/`endswith`/`count`-style methods, adjusted as CPython's
/// ADJUST_INDICES does: negative counts from the end, clamped to the string.
pub(crate) fn adjusted_bound(
    vm: &mut Vm,
    v: Option<&Value>,
    len: i64,
    default: i64,
) -> PyResult<i64> {
    let i = match v {
        None | Some(Value::None) => return Ok(default),
        Some(v) => vm.index_of(v)?,
    };
    Ok(if i < 0 { (i + len).max(0) } else { i })
}

fn affix_impl(vm: &mut Vm, args: Args, end: bool) -> PyResult<Value> {
    let name = if end { "endswith" } else { "startswith" };
    let s = this_str(vm, args, name)?.clone();
    nargs(vm, name, &args[1..], 1, 3)?;
    let full = s.as_str();
    let len = full.chars().count() as i64;
    let start = adjusted_bound(vm, args.get(2), len, 0)?;
    let stop = adjusted_bound(vm, args.get(3), len, len)?.min(len);
    // Past the end nothing matches, not even the empty string.
    if start > len {
        return Ok(Value::Bool(false));
    }
    let byte = |i: i64| {
        full.char_indices()
            .nth(i as usize)
            .map_or(full.len(), |(b, _)| b)
    };
    let text = if stop <= start {
        ""
    } else {
        &full[byte(start)..byte(stop)]
    };
    let test = |p: &str| {
        if stop < start {
            false
        } else if end {
            text.ends_with(p)
        } else {
            text.starts_with(p)
        }
    };
    match &args[1] {
        Value::Str(p) => Ok(Value::Bool(test(p.as_str()))),
        Value::Tuple(ps) => Ok(Value::Bool(
            ps.iter()
                .any(|p| matches!(p, Value::Str(p) if test(p.as_str()))),
        )),
        other => Err(vm.type_error(format!(
            "{name} first arg must be str or a tuple of str, not {}",
            vm.type_name(other)
        ))),
    }
}

fn str_startswith(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    affix_impl(vm, args, false)
}

fn str_endswith(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    affix_impl(vm, args, true)
}

fn str_replace(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "replace", &args[1..], 2, 3)?;
    let s = this_str(vm, args, "replace")?;
    let old = str_arg(vm, &args[1], "replace() argument 1")?;
    let new = str_arg(vm, &args[2], "replace() argument 2")?;
    let r = match args.get(3) {
        Some(n) => {
            let n = vm.index_of(n)?;
            if n < 0 {
                s.as_str().replace(old, new)
            } else {
                s.as_str().replacen(old, new, n as usize)
            }
        }
        None => s.as_str().replace(old, new),
    };
    Ok(Value::string(r))
}

fn char_index(text: &str, byte: usize) -> i64 {
    text[..byte].chars().count() as i64
}

/// The byte range of `text` that the `start`/`end` arguments at `args[at]`, `args[at + 1]`
/// select (negative ones count from the end), or None when they select nothing, not even the
/// empty string at the end.
fn str_span(vm: &mut Vm, args: Args, at: usize, text: &str) -> PyResult<Option<(usize, usize)>> {
    if args.len() <= at {
        return Ok(Some((0, text.len())));
    }
    let n = text.chars().count() as i64;
    let start = adjusted_bound(vm, args.get(at), n, 0)?;
    let end = adjusted_bound(vm, args.get(at + 1), n, n)?.min(n);
    if start > end {
        return Ok(None);
    }
    let byte = |i: i64| {
        text.char_indices()
            .nth(i as usize)
            .map_or(text.len(), |(b, _)| b)
    };
    Ok(Some((byte(start), byte(end))))
}

fn find_impl(vm: &mut Vm, args: Args, right: bool) -> PyResult<Option<i64>> {
    let s = this_str(vm, args, "find")?.clone();
    nargs(vm, "find", &args[1..], 1, 3)?;
    let sub = str_arg(vm, &args[1], "must be")?;
    let text = s.as_str();
    let Some((start, end)) = str_span(vm, args, 2, text)? else {
        return Ok(None);
    };
    let hay = &text[start..end];
    let found = if right { hay.rfind(sub) } else { hay.find(sub) };
    Ok(found.map(|off| char_index(text, start + off)))
}

fn str_find(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    Ok(Value::Int(find_impl(vm, args, false)?.unwrap_or(-1)))
}

fn str_rfind(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    Ok(Value::Int(find_impl(vm, args, true)?.unwrap_or(-1)))
}

fn str_index(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    match find_impl(vm, args, false)? {
        Some(i) => Ok(Value::Int(i)),
        None => Err(vm.value_error("substring not found")),
    }
}

fn str_count(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let s = this_str(vm, args, "count")?.clone();
    nargs(vm, "count", &args[1..], 1, 3)?;
    let sub = str_arg(vm, &args[1], "must be")?;
    let Some((start, end)) = str_span(vm, args, 2, s.as_str())? else {
        return Ok(Value::Int(0));
    };
    let hay = &s.as_str()[start..end];
    let n = if sub.is_empty() {
        hay.chars().count() + 1
    } else {
        hay.matches(sub).count()
    };
    Ok(Value::Int(n as i64))
}

fn str_format(vm: &mut Vm, args: Args, kw: Kw) -> PyResult<Value> {
    let s = this_str(vm, args, "format")?.clone();
    let (pos, kwargs) = split_kw(&args[1..], kw);
    let kwargs: Vec<(String, Value)> = kwargs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.clone()))
        .collect();
    Ok(Value::string(crate::format::str_format(
        vm,
        s.as_str(),
        pos,
        &kwargs,
    )?))
}

/// `str.format_map(mapping)`: `format(**mapping)` for a dict (or a dict subclass).
fn str_format_map(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "format_map", &args[1..], 1, 1)?;
    let s = this_str(vm, args, "format_map")?.clone();
    let mapping = match &args[1] {
        Value::Instance(i) if matches!(i.payload, Value::Dict(_)) => i.payload.clone(),
        other => other.clone(),
    };
    let Value::Dict(d) = mapping else {
        return Err(vm.type_error(format!(
            "format_map() argument must be a mapping, not {}",
            vm.type_name(&args[1])
        )));
    };
    let mut kwargs = Vec::new();
    for (k, v) in d.map.borrow().iter() {
        if let Some(k) = k.as_str() {
            kwargs.push((k.as_str().to_owned(), v.clone()));
        }
    }
    Ok(Value::string(crate::format::str_format(
        vm,
        s.as_str(),
        &[],
        &kwargs,
    )?))
}

fn str_isascii(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    str_pred(vm, args, |s| s.is_ascii())
}

fn str_pred(vm: &mut Vm, args: Args, f: fn(&str) -> bool) -> PyResult<Value> {
    let s = this_str(vm, args, "str")?;
    Ok(Value::Bool(f(s.as_str())))
}

/// A `str.is*()` test of every character against this version's Unicode database (false
/// for the empty string unless `empty` says otherwise).
fn str_chars_all(vm: &mut Vm, args: Args, empty: bool, f: fn(u32) -> bool) -> PyResult<Value> {
    let s = this_str(vm, args, "str")?;
    let text = s.as_str();
    Ok(Value::Bool(if text.is_empty() {
        empty
    } else {
        text.chars().all(|c| f(c as u32))
    }))
}

fn str_isdigit(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    str_chars_all(vm, args, false, |cp| Target::DEFAULT.is_digit(cp))
}

fn str_isdecimal(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    str_chars_all(vm, args, false, |cp| Target::DEFAULT.is_decimal(cp))
}

fn str_isnumeric(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    str_chars_all(vm, args, false, |cp| Target::DEFAULT.is_numeric(cp))
}

fn str_isprintable(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    str_chars_all(vm, args, true, |cp| Target::DEFAULT.is_printable(cp))
}

fn str_isalpha(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    str_pred(vm, args, |s| {
        !s.is_empty() && s.chars().all(char::is_alphabetic)
    })
}

fn str_isalnum(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    str_pred(vm, args, |s| {
        !s.is_empty() && s.chars().all(char::is_alphanumeric)
    })
}

fn str_isspace(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    str_pred(vm, args, |s| {
        !s.is_empty() && s.chars().all(char::is_whitespace)
    })
}

fn str_isupper(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    str_pred(vm, args, |s| {
        s.chars().any(char::is_uppercase) && !s.chars().any(char::is_lowercase)
    })
}

fn str_islower(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    str_pred(vm, args, |s| {
        s.chars().any(char::is_lowercase) && !s.chars().any(char::is_uppercase)
    })
}

fn str_isidentifier(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    str_pred(vm, args, crate::slots::is_identifier)
}

fn pad_impl(vm: &mut Vm, args: Args, align: char) -> PyResult<Value> {
    let s = this_str(vm, args, "pad")?.clone();
    nargs(vm, "pad", &args[1..], 1, 2)?;
    let width = vm.index_of(&args[1])?.max(0) as usize;
    let fill = match args.get(2) {
        Some(Value::Str(f)) if f.char_len() == 1 => f.as_str().chars().next().unwrap_or(' '),
        Some(_) => {
            return Err(vm.type_error("The fill character must be exactly one character long"))
        }
        None => ' ',
    };
    Ok(Value::string(crate::format::pad(
        s.as_str(),
        width,
        fill,
        align,
    )))
}

fn str_center(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    pad_impl(vm, args, '^')
}

fn str_ljust(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    pad_impl(vm, args, '<')
}

fn str_rjust(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    pad_impl(vm, args, '>')
}

fn str_zfill(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let s = this_str(vm, args, "zfill")?.clone();
    nargs(vm, "zfill", &args[1..], 1, 1)?;
    let width = vm.index_of(&args[1])?.max(0) as usize;
    let text = s.as_str();
    let n = s.char_len();
    if n >= width {
        return Ok(Value::str(text));
    }
    let (sign, rest) = match text.chars().next() {
        Some(c @ ('+' | '-')) => (c.to_string(), &text[1..]),
        _ => (String::new(), text),
    };
    Ok(Value::string(format!(
        "{sign}{}{rest}",
        "0".repeat(width - n)
    )))
}

fn str_removeprefix(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let s = this_str(vm, args, "removeprefix")?.clone();
    nargs(vm, "removeprefix", &args[1..], 1, 1)?;
    let p = str_arg(vm, &args[1], "removeprefix() argument")?;
    Ok(Value::str(s.as_str().strip_prefix(p).unwrap_or(s.as_str())))
}

fn str_removesuffix(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let s = this_str(vm, args, "removesuffix")?.clone();
    nargs(vm, "removesuffix", &args[1..], 1, 1)?;
    let p = str_arg(vm, &args[1], "removesuffix() argument")?;
    Ok(Value::str(s.as_str().strip_suffix(p).unwrap_or(s.as_str())))
}

fn str_rpartition(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let s = this_str(vm, args, "rpartition")?.clone();
    nargs(vm, "rpartition", &args[1..], 1, 1)?;
    let sep = str_arg(vm, &args[1], "must be")?;
    let text = s.as_str();
    Ok(match text.rfind(sep) {
        Some(i) => Value::tuple(vec![
            Value::str(&text[..i]),
            Value::str(sep),
            Value::str(&text[i + sep.len()..]),
        ]),
        None => Value::tuple(vec![Value::str(""), Value::str(""), Value::str(text)]),
    })
}

fn str_rindex(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    match find_impl(vm, args, true)? {
        Some(i) => Ok(Value::Int(i)),
        None => Err(vm.value_error("substring not found")),
    }
}

fn str_istitle(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    str_pred(vm, args, |s| {
        let mut prev_cased = false;
        let mut any = false;
        for c in s.chars() {
            if c.is_uppercase() {
                if prev_cased {
                    return false;
                }
                prev_cased = true;
                any = true;
            } else if c.is_lowercase() {
                if !prev_cased {
                    return false;
                }
                prev_cased = true;
                any = true;
            } else {
                prev_cased = false;
            }
        }
        any
    })
}

fn str_translate(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "translate", &args[1..], 1, 1)?;
    let s = this_str(vm, args, "translate")?.clone();
    let mut out = String::with_capacity(s.as_str().len());
    for c in s.as_str().chars() {
        let mapped = match vm.get_item(&args[1], &Value::Int(c as i64)) {
            Ok(v) => v,
            Err(e) if vm.err_is(&e, "LookupError") => {
                out.push(c);
                continue;
            }
            Err(e) => return Err(e),
        };
        match mapped {
            Value::None => {}
            Value::Str(r) => out.push_str(r.as_str()),
            Value::Int(cp) => match u32::try_from(cp).ok().and_then(char::from_u32) {
                Some(ch) => out.push(ch),
                None => return Err(vm.value_error("character mapping must be in range(0x110000)")),
            },
            _ => return Err(vm.type_error("character mapping must return integer, None or str")),
        }
    }
    Ok(Value::string(out))
}

fn str_maketrans(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "maketrans", args, 1, 3)?;
    let d = crate::ops::new_dict();
    match args {
        [Value::Dict(src)] => {
            let items = src.items();
            for (k, v) in items {
                let key = match &k {
                    Value::Str(s) if s.char_len() == 1 => {
                        Value::Int(s.as_str().chars().next().map_or(0, |c| c as i64))
                    }
                    other => other.clone(),
                };
                vm.dict_set(&d, key, v)?;
            }
        }
        [Value::Str(from), Value::Str(to), rest @ ..] => {
            if from.char_len() != to.char_len() {
                return Err(
                    vm.value_error("the first two maketrans arguments must have equal length")
                );
            }
            for (a, b) in from.as_str().chars().zip(to.as_str().chars()) {
                vm.dict_set(&d, Value::Int(a as i64), Value::Int(b as i64))?;
            }
            if let Some(Value::Str(del)) = rest.first() {
                for c in del.as_str().chars() {
                    vm.dict_set(&d, Value::Int(c as i64), Value::None)?;
                }
            }
        }
        _ => return Err(vm.type_error("maketrans() arguments must be a dict or strs")),
    }
    Ok(Value::Dict(d))
}

fn str_expandtabs(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let s = this_str(vm, args, "expandtabs")?.clone();
    let size = match args.get(1) {
        Some(v) => vm.index_of(v)?.max(0) as usize,
        None => 8,
    };
    let mut out = String::new();
    let mut col = 0;
    for c in s.as_str().chars() {
        match c {
            '\t' => {
                if size > 0 {
                    let n = size - col % size;
                    out.extend(std::iter::repeat_n(' ', n));
                    col += n;
                }
            }
            '\n' | '\r' => {
                out.push(c);
                col = 0;
            }
            _ => {
                out.push(c);
                col += 1;
            }
        }
    }
    Ok(Value::string(out))
}

fn str_splitlines(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let s = this_str(vm, args, "splitlines")?;
    Ok(Value::list(s.as_str().lines().map(Value::str).collect()))
}

fn str_partition(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let s = this_str(vm, args, "partition")?;
    nargs(vm, "partition", &args[1..], 1, 1)?;
    let sep = str_arg(vm, &args[1], "must be")?;
    let text = s.as_str();
    Ok(match text.find(sep) {
        Some(i) => Value::tuple(vec![
            Value::str(&text[..i]),
            Value::str(sep),
            Value::str(&text[i + sep.len()..]),
        ]),
        None => Value::tuple(vec![Value::str(text), Value::str(""), Value::str("")]),
    })
}

fn str_encode(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let s = this_str(vm, args, "encode")?;
    Ok(Value::Bytes(Rc::new(s.as_str().as_bytes().to_vec())))
}

fn this_list<'a>(vm: &Vm, args: &'a [Value]) -> PyResult<&'a Rc<crate::objects::ListObj>> {
    match args.first() {
        Some(Value::List(l)) => Ok(l),
        _ => Err(vm.type_error("descriptor requires a 'list' object")),
    }
}

fn list_append(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "list.append", &args[1..], 1, 1)?;
    this_list(vm, args)?
        .items
        .borrow_mut()
        .push(args[1].clone());
    Ok(Value::None)
}

fn list_extend(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "list.extend", &args[1..], 1, 1)?;
    let l = this_list(vm, args)?.clone();
    let items = vm.to_vec(&args[1])?;
    l.items.borrow_mut().extend(items);
    Ok(Value::None)
}

fn list_pop(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let l = this_list(vm, args)?.clone();
    let len = l.items.borrow().len();
    if len == 0 {
        return Err(vm.err("IndexError", "pop from empty list"));
    }
    let i = match args.get(1) {
        Some(v) => vm.index_of(v)?,
        None => -1,
    };
    let j = if i < 0 { i + len as i64 } else { i };
    if j < 0 || j >= len as i64 {
        return Err(vm.err("IndexError", "pop index out of range"));
    }
    let v = l.items.borrow_mut().remove(j as usize);
    Ok(v)
}

fn list_insert(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "insert", &args[1..], 2, 2)?;
    let l = this_list(vm, args)?.clone();
    let len = l.items.borrow().len() as i64;
    let i = vm.index_of(&args[1])?;
    let j = if i < 0 { (i + len).max(0) } else { i.min(len) };
    l.items.borrow_mut().insert(j as usize, args[2].clone());
    Ok(Value::None)
}

fn list_remove(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "list.remove", &args[1..], 1, 1)?;
    let l = this_list(vm, args)?.clone();
    let items = l.items.borrow().clone();
    for (i, item) in items.iter().enumerate() {
        if vm.eq_or_is(item, &args[1])? {
            l.items.borrow_mut().remove(i);
            return Ok(Value::None);
        }
    }
    Err(vm.value_error("list.remove(x): x not in list"))
}

fn seq_items(vm: &Vm, v: &Value) -> PyResult<Vec<Value>> {
    match v {
        Value::List(l) => Ok(l.items.borrow().clone()),
        Value::Tuple(t) => Ok((**t).clone()),
        _ => Err(vm.type_error("expected a sequence")),
    }
}

fn seq_index(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "index", &args[1..], 1, 3)?;
    let items = seq_items(vm, &args[0])?;
    for (i, item) in items.iter().enumerate() {
        if vm.eq_or_is(item, &args[1])? {
            return Ok(Value::Int(i as i64));
        }
    }
    if matches!(args[0], Value::List(_)) {
        let r = vm.repr(&args[1])?;
        return Err(vm.value_error(format!("{r} is not in list")));
    }
    Err(vm.value_error("tuple.index(x): x not in tuple"))
}

fn seq_count(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "count", &args[1..], 1, 1)?;
    let items = seq_items(vm, &args[0])?;
    let mut n = 0;
    for item in &items {
        if vm.eq_or_is(item, &args[1])? {
            n += 1;
        }
    }
    Ok(Value::Int(n))
}

fn list_sort(vm: &mut Vm, args: Args, kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    if pos.len() > 1 {
        return Err(vm.type_error("sort() takes no positional arguments"));
    }
    let (key, reverse) = sort_kw(vm, &kw)?;
    let l = this_list(vm, pos)?.clone();
    let mut items = std::mem::take(&mut *l.items.borrow_mut());
    let r = sort_values(vm, &mut items, &key, reverse);
    *l.items.borrow_mut() = items;
    r.map(|()| Value::None)
}

fn list_init(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "list", &args[1..], 0, 1)?;
    let l = this_list(vm, args)?.clone();
    let items = match args.get(1) {
        Some(v) => vm.to_vec(v)?,
        None => Vec::new(),
    };
    *l.items.borrow_mut() = items;
    Ok(Value::None)
}

fn dict_init(vm: &mut Vm, args: Args, kwnames: Kw) -> PyResult<Value> {
    dict_update_m(vm, args, kwnames)
}

fn set_init(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "set", &args[1..], 0, 1)?;
    let s = this_set(vm, args)?.clone();
    *s.map.borrow_mut() = Default::default();
    set_update(vm, args, &[])
}

fn list_reverse(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    this_list(vm, args)?.items.borrow_mut().reverse();
    Ok(Value::None)
}

fn list_copy(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    Ok(Value::list(this_list(vm, args)?.items.borrow().clone()))
}

fn list_clear(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    // Emptied first, then released last to first, as CPython does.
    let mut old = std::mem::take(&mut *this_list(vm, args)?.items.borrow_mut());
    while old.pop().is_some() {}
    Ok(Value::None)
}

fn this_dict<'a>(vm: &Vm, args: &'a [Value]) -> PyResult<&'a Rc<DictObj>> {
    match args.first() {
        Some(Value::Dict(d)) => Ok(d),
        _ => Err(vm.type_error("descriptor requires a 'dict' object")),
    }
}

fn dict_get(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "get", &args[1..], 1, 2)?;
    let d = this_dict(vm, args)?.clone();
    let r = vm.dict_get(&d, &args[1])?;
    Ok(r.unwrap_or_else(|| args.get(2).cloned().unwrap_or(Value::None)))
}

fn dict_view(vm: &mut Vm, args: Args, part: DictPart) -> PyResult<Value> {
    let d = this_dict(vm, args)?.clone();
    Ok(Value::Wrapper(Rc::new(crate::objects::Wrapper::DictView {
        dict: d,
        part,
    })))
}

fn dict_keys(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    dict_view(vm, args, DictPart::Keys)
}

fn dict_values(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    dict_view(vm, args, DictPart::Values)
}

fn dict_items(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    dict_view(vm, args, DictPart::Items)
}

fn dict_pop(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "pop", &args[1..], 1, 2)?;
    let d = this_dict(vm, args)?.clone();
    let h = vm.hash(&args[1])?;
    let r = d.map.borrow_mut().remove(&args[1], h);
    match (r, args.get(2)) {
        (Some(v), _) => Ok(v),
        (None, Some(default)) => Ok(default.clone()),
        (None, None) => Err(crate::vm::PyErr(
            vm.new_exception(vm.exc_type("KeyError"), vec![args[1].clone()]),
        )),
    }
}

fn dict_popitem(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let d = this_dict(vm, args)?.clone();
    let r = d.map.borrow_mut().pop_last();
    match r {
        Some((k, v)) => Ok(Value::tuple(vec![k, v])),
        None => Err(vm.err("KeyError", "popitem(): dictionary is empty")),
    }
}

fn dict_setdefault(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "setdefault", &args[1..], 1, 2)?;
    let d = this_dict(vm, args)?.clone();
    let h = vm.hash(&args[1])?;
    let existing = d.map.borrow().get(&args[1], h).cloned();
    match existing {
        Some(v) => Ok(v),
        None => {
            let v = args.get(2).cloned().unwrap_or(Value::None);
            d.map.borrow_mut().insert(args[1].clone(), h, v.clone());
            Ok(v)
        }
    }
}

fn dict_update_m(vm: &mut Vm, args: Args, kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let d = this_dict(vm, pos)?.clone();
    if let Some(o) = pos.get(1) {
        crate::builtins::dict_update(vm, &d, o)?;
    }
    for (k, v) in kw {
        d.set_str(&intern(k), v.clone());
    }
    Ok(Value::None)
}

fn dict_copy(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let d = this_dict(vm, args)?;
    Ok(Value::Dict(DictObj::new(d.map.borrow().clone())))
}

fn dict_clear(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    this_dict(vm, args)?.map.borrow_mut().clear();
    Ok(Value::None)
}

fn this_set<'a>(vm: &Vm, args: &'a [Value]) -> PyResult<&'a Rc<crate::objects::SetObj>> {
    match args.first() {
        Some(Value::Set(s)) => Ok(s),
        _ => Err(vm.type_error("descriptor requires a 'set' object")),
    }
}

fn set_add(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "set.add", &args[1..], 1, 1)?;
    let s = this_set(vm, args)?.clone();
    vm.set_add(&s, args[1].clone())?;
    Ok(Value::None)
}

fn set_remove(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "set.remove", &args[1..], 1, 1)?;
    let s = this_set(vm, args)?.clone();
    let h = vm.hash(&args[1])?;
    if s.map.borrow_mut().remove(&args[1], h) {
        Ok(Value::None)
    } else {
        Err(crate::vm::PyErr(vm.new_exception(
            vm.exc_type("KeyError"),
            vec![args[1].clone()],
        )))
    }
}

fn set_discard(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "set.discard", &args[1..], 1, 1)?;
    let s = this_set(vm, args)?.clone();
    let h = vm.hash(&args[1])?;
    s.map.borrow_mut().remove(&args[1], h);
    Ok(Value::None)
}

fn set_pop(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let s = this_set(vm, args)?.clone();
    let r = s.map.borrow_mut().pop();
    r.ok_or_else(|| vm.err("KeyError", "pop from an empty set"))
}

fn set_update(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let s = this_set(vm, args)?.clone();
    for other in &args[1..] {
        for item in vm.to_vec(other)? {
            let h = vm.hash(&item)?;
            s.map.borrow_mut().add(item, h);
        }
    }
    Ok(Value::None)
}

/// Removes every item of the other iterables, in place (the table keeps its layout, as
/// CPython's does, so iteration order is CPython's).
fn set_difference_update(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let s = this_set(vm, args)?.clone();
    for other in &args[1..] {
        for item in vm.to_vec(other)? {
            let h = vm.hash(&item)?;
            s.map.borrow_mut().remove(&item, h);
        }
    }
    Ok(Value::None)
}

/// Keeps only the items in every other iterable: the intersection replaces the set's table,
/// as in CPython.
fn set_intersection_update(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let s = this_set(vm, args)?.clone();
    let Value::Set(result) = set_binop(vm, args, 1)? else {
        return Err(vm.type_error("set operation on a non-set"));
    };
    let table = std::mem::take(&mut *result.map.borrow_mut());
    *s.map.borrow_mut() = table;
    Ok(Value::None)
}

/// Removes the items also in `other` and adds the others, in place.
fn set_symmetric_difference_update(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "symmetric_difference_update", &args[1..], 1, 1)?;
    let s = this_set(vm, args)?.clone();
    let other = match &args[1] {
        Value::Set(_) => args[1].clone(),
        other => crate::builtins::set_from(vm, Some(other), false)?,
    };
    let Value::Set(other) = other else {
        return Err(vm.type_error("set operation on a non-set"));
    };
    let items: Vec<(i64, Value)> = other
        .map
        .borrow()
        .iter()
        .map(|(h, v)| (h, v.clone()))
        .collect();
    for (h, item) in items {
        let removed = s.map.borrow_mut().remove(&item, h);
        if !removed {
            s.map.borrow_mut().add(item, h);
        }
    }
    Ok(Value::None)
}

fn set_clear(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    *this_set(vm, args)?.map.borrow_mut() = Default::default();
    Ok(Value::None)
}

fn set_binop(vm: &mut Vm, args: Args, op: usize) -> PyResult<Value> {
    let mut acc = args[0].clone();
    for other in &args[1..] {
        let o = match other {
            Value::Set(_) => other.clone(),
            _ => crate::builtins::set_from(vm, Some(other), false)?,
        };
        let (Value::Set(a), Value::Set(b)) = (&acc, &o) else {
            return Err(vm.type_error("set operation on a non-set"));
        };
        acc = vm.set_op(a, b, op)?;
    }
    if args.len() == 1 {
        return set_copy(vm, args, &[]);
    }
    Ok(acc)
}

fn set_union(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    set_binop(vm, args, 7)
}

fn set_intersection(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    set_binop(vm, args, 1)
}

fn set_difference(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    set_binop(vm, args, 10)
}

fn set_symdiff(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    set_binop(vm, args, 12)
}

fn set_rel(vm: &mut Vm, args: Args, sub: bool) -> PyResult<Value> {
    nargs(vm, "issubset", &args[1..], 1, 1)?;
    let other = crate::builtins::set_from(vm, Some(&args[1]), true)?;
    let op = if sub {
        crate::ops::CmpOp::Le
    } else {
        crate::ops::CmpOp::Ge
    };
    vm.compare(&args[0], &other, op)
}

fn set_issubset(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    set_rel(vm, args, true)
}

fn set_issuperset(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    set_rel(vm, args, false)
}

fn set_isdisjoint(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let r = set_binop(vm, args, 1)?;
    Ok(Value::Bool(vm.len(&r)? == 0))
}

fn set_copy(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let s = this_set(vm, args)?;
    Ok(Value::Set(Rc::new(crate::objects::SetObj {
        frozen: s.frozen,
        map: std::cell::RefCell::new(s.map.borrow().clone()),
    })))
}

fn int_bit_length(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    match args.first().and_then(as_int) {
        Some(i) => Ok(Value::Int(i.big().bits() as i64)),
        None => Err(vm.type_error("bit_length requires an int")),
    }
}

fn slice_indices(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let (Some(Value::Slice(s)), Some(n)) = (args.first(), args.get(1)) else {
        return Err(vm.type_error("indices() takes exactly one argument"));
    };
    let len = vm.index_of(n)?;
    if len < 0 {
        return Err(vm.value_error("length should not be negative"));
    }
    let (a, b, c) = vm.slice_indices(s, len as usize)?;
    Ok(Value::tuple(vec![
        Value::Int(a),
        Value::Int(b),
        Value::Int(c),
    ]))
}

fn byteorder_arg(vm: &mut Vm, pos: &[Value], kw: &[(&str, &Value)], at: usize) -> PyResult<bool> {
    let v = pos
        .get(at)
        .or_else(|| kw.iter().find(|(k, _)| *k == "byteorder").map(|(_, v)| *v));
    match v {
        None => Ok(false),
        Some(Value::Str(s)) if s.as_str() == "big" => Ok(false),
        Some(Value::Str(s)) if s.as_str() == "little" => Ok(true),
        _ => Err(vm.value_error("byteorder must be either 'little' or 'big'")),
    }
}

fn int_to_bytes(vm: &mut Vm, args: Args, kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let Some(i) = pos.first().and_then(as_int) else {
        return Err(vm.type_error("to_bytes requires an int"));
    };
    let big = i.big();
    let length = match pos
        .get(1)
        .or(kw.iter().find(|(k, _)| *k == "length").map(|(_, v)| *v))
    {
        Some(v) => vm.index_of(v)?.max(0) as usize,
        None => 1,
    };
    let little = byteorder_arg(vm, pos, &kw, 2)?;
    let signed = match kw.iter().find(|(k, _)| *k == "signed") {
        Some((_, v)) => vm.truthy(v)?,
        None => false,
    };
    if big.sign() == num_bigint::Sign::Minus && !signed {
        return Err(vm.err("OverflowError", "can't convert negative int to unsigned"));
    }
    let mut bytes = big.to_signed_bytes_le();
    if !signed && bytes.len() > 1 && bytes.last() == Some(&0) {
        bytes.pop();
    }
    if big.sign() == num_bigint::Sign::NoSign {
        bytes = vec![];
    }
    if bytes.len() > length {
        return Err(vm.err("OverflowError", "int too big to convert"));
    }
    let fill = if big.sign() == num_bigint::Sign::Minus {
        0xff
    } else {
        0
    };
    bytes.resize(length, fill);
    if !little {
        bytes.reverse();
    }
    Ok(Value::Bytes(Rc::new(bytes)))
}

fn int_from_bytes(vm: &mut Vm, args: Args, kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    // pos[0] is the class (classmethod).
    let Some(data) = pos.get(1) else {
        return Err(vm.type_error("from_bytes() missing required argument 'bytes'"));
    };
    let mut bytes: Vec<u8> = match data {
        Value::Bytes(b) => b.to_vec(),
        other => {
            let mut out = Vec::new();
            for v in vm.to_vec(other)? {
                out.push(vm.index_of(&v)? as u8);
            }
            out
        }
    };
    let little = byteorder_arg(vm, pos, &kw, 2)?;
    let signed = match kw.iter().find(|(k, _)| *k == "signed") {
        Some((_, v)) => vm.truthy(v)?,
        None => false,
    };
    if !little {
        bytes.reverse();
    }
    let v = if signed {
        num_bigint::BigInt::from_signed_bytes_le(&bytes)
    } else {
        num_bigint::BigInt::from_bytes_le(num_bigint::Sign::Plus, &bytes)
    };
    Ok(Value::from_bigint(v))
}

fn float_is_integer(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    match args.first() {
        Some(Value::Float(f)) => Ok(Value::Bool(f.is_finite() && f.fract() == 0.0)),
        _ => Err(vm.type_error("is_integer requires a float")),
    }
}

fn complex_conjugate(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    match args.first() {
        Some(Value::Complex(c)) => Ok(Value::Complex(Rc::new((c.0, -c.1)))),
        _ => Err(vm.type_error("conjugate requires a complex")),
    }
}

fn this_gen(vm: &Vm, args: &[Value]) -> PyResult<Rc<crate::objects::Generator>> {
    match args.first() {
        Some(Value::Generator(g)) => Ok(g.clone()),
        _ => Err(vm.type_error("descriptor requires a 'generator' object")),
    }
}

fn gen_send(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "send", &args[1..], 1, 1)?;
    let g = this_gen(vm, args)?;
    vm.gen_send(&g, args[1].clone())
}

fn gen_throw(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "throw", &args[1..], 1, 3)?;
    let g = this_gen(vm, args)?;
    let e = vm.make_exception(args[1].clone())?;
    vm.gen_throw(&g, e)
}

fn gen_close(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let g = this_gen(vm, args)?;
    vm.gen_close(&g)?;
    Ok(Value::None)
}

fn exc_init(vm: &mut Vm, args: Args, kw: Kw) -> PyResult<Value> {
    no_kw(vm, "BaseException", kw)?;
    if let Some(Value::Instance(i)) = args.first() {
        if let Some(e) = &i.exc {
            e.borrow_mut().args = Value::tuple(args[1..].to_vec());
        }
        crate::exc_attrs::init(vm, i, &args[1..])?;
    }
    Ok(Value::None)
}

/// `__get__(obj, owner=None)` of property, classmethod and staticmethod (reached by
/// `super().__get__` from their subclasses).
fn descriptor_get(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "__get__", &args[1..], 1, 2)?;
    let owner = match args.get(2) {
        Some(Value::Type(t)) => Some(t.clone()),
        _ => None,
    };
    let obj = args[1].clone();
    vm.bind_descriptor(args[0].clone(), &obj, owner.as_ref())
}

/// The setter and deleter of the property a `__set__`/`__delete__` call applies to.
fn property_accessors(vm: &Vm, args: &[Value]) -> PyResult<(Value, Value)> {
    match &args[0] {
        Value::Wrapper(w) => match &**w {
            crate::objects::Wrapper::Property { fset, fdel, .. } => {
                Ok((fset.clone(), fdel.clone()))
            }
            _ => Err(vm.type_error("descriptor requires a 'property' object")),
        },
        _ => Err(vm.type_error("descriptor requires a 'property' object")),
    }
}

/// `property.__set__(obj, value)`.
fn property_set(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "__set__", &args[1..], 2, 2)?;
    let (fset, _) = property_accessors(vm, args)?;
    if matches!(fset, Value::None) {
        return Err(vm.err("AttributeError", "property has no setter"));
    }
    vm.call(&fset, &[args[1].clone(), args[2].clone()], &[])?;
    Ok(Value::None)
}

/// `property.__delete__(obj)`.
fn property_delete(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "__delete__", &args[1..], 1, 1)?;
    let (_, fdel) = property_accessors(vm, args)?;
    if matches!(fdel, Value::None) {
        return Err(vm.err("AttributeError", "property has no deleter"));
    }
    vm.call(&fdel, &args[1..2], &[])?;
    Ok(Value::None)
}

/// `function.__get__(obj, owner=None)`: the function itself, or bound to `obj`.
fn function_get(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "__get__", &args[1..], 1, 2)?;
    Ok(match &args[1] {
        Value::None => args[0].clone(),
        obj => Value::BoundMethod(Rc::new(crate::objects::BoundMethod {
            func: args[0].clone(),
            receiver: obj.clone(),
        })),
    })
}

fn exc_with_traceback(_: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    Ok(args.first().cloned().unwrap_or(Value::None))
}
