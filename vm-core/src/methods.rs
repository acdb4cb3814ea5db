//! Methods of the built-in types (str, list, dict, set, tuple, int, float, generator,
//! BaseException) and the `math` module.

use std::rc::Rc;

use crate::builtins::{builtin, nargs, no_kw, sort_kw, sort_values, split_kw};
use crate::dict::DictObj;
use crate::int::as_int;
use crate::objects::{DictPart, Module, NativeFn};
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
        ("isdecimal", str_isdigit),
        ("isnumeric", str_isdigit),
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
    add(&t.int, "bit_count", int_bit_count);
    add(&t.int, "as_integer_ratio", int_as_integer_ratio);
    add(&t.int, "conjugate", int_conjugate);
    add(&t.float, "as_integer_ratio", float_as_integer_ratio);
    add(&t.float, "hex", float_hex);
    t.float.dict.set_str(
        &intern("fromhex"),
        Value::Wrapper(Rc::new(crate::objects::Wrapper::ClassMethod(builtin(
            "fromhex",
            float_fromhex,
        )))),
    );
    add(&t.range, "count", range_count);
    add(&t.range, "index", range_index);
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
    add(&t.complex, "conjugate", complex_conjugate);
    add(&t.generator, "send", gen_send);
    add(&t.generator, "throw", gen_throw);
    add(&t.generator, "close", gen_close);
    add(&t.object, "__init__", crate::builtins::object_init);
    let base_exc = t.exceptions[0].clone();
    add(&base_exc, "__init__", exc_init);
    add(&base_exc, "with_traceback", exc_with_traceback);
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

fn affix_impl(vm: &mut Vm, args: Args, end: bool) -> PyResult<Value> {
    let s = this_str(vm, args, "startswith")?.clone();
    nargs(
        vm,
        if end { "endswith" } else { "startswith" },
        &args[1..],
        1,
        3,
    )?;
    let text = s.as_str();
    let test = |p: &str| {
        if end {
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
            "{} first arg must be str or a tuple of str, not {}",
            if end { "endswith" } else { "startswith" },
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

fn find_impl(vm: &mut Vm, args: Args, right: bool) -> PyResult<Option<i64>> {
    let s = this_str(vm, args, "find")?;
    nargs(vm, "find", &args[1..], 1, 3)?;
    let sub = str_arg(vm, &args[1], "must be")?;
    let text = s.as_str();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let n = chars.len() as i64;
    let clamp = |vm: &mut Vm, v: Option<&Value>, d: i64| -> PyResult<i64> {
        Ok(match v {
            None | Some(Value::None) => d,
            Some(v) => {
                let i = vm.index_of(v)?;
                if i < 0 {
                    (i + n).max(0)
                } else {
                    i.min(n)
                }
            }
        })
    };
    let start = clamp(vm, args.get(2), 0)?;
    let end = clamp(vm, args.get(3), n)?;
    if start > end {
        return Ok(None);
    }
    let b = |i: i64| {
        if i >= n {
            text.len()
        } else {
            chars[i as usize].0
        }
    };
    let hay = &text[b(start)..b(end)];
    let found = if right { hay.rfind(sub) } else { hay.find(sub) };
    Ok(found.map(|off| char_index(text, b(start) + off)))
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
    let s = this_str(vm, args, "count")?;
    nargs(vm, "count", &args[1..], 1, 1)?;
    let sub = str_arg(vm, &args[1], "must be")?;
    let n = if sub.is_empty() {
        s.char_len() + 1
    } else {
        s.as_str().matches(sub).count()
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

fn str_pred(vm: &mut Vm, args: Args, f: fn(&str) -> bool) -> PyResult<Value> {
    let s = this_str(vm, args, "str")?;
    Ok(Value::Bool(f(s.as_str())))
}

fn str_isdigit(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    str_pred(vm, args, |s| {
        !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c.is_numeric())
    })
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
    str_pred(vm, args, |s| {
        let mut cs = s.chars();
        cs.next().is_some_and(|c| c == '_' || c.is_alphabetic())
            && cs.all(|c| c == '_' || c.is_alphanumeric())
    })
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
            let items: Vec<(Value, Value)> = src
                .map
                .borrow()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
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

fn int_bit_count(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    match args.first().and_then(as_int) {
        Some(i) => {
            let ones: u64 = i
                .big()
                .magnitude()
                .iter_u64_digits()
                .map(|d| u64::from(d.count_ones()))
                .sum();
            Ok(Value::Int(ones as i64))
        }
        None => Err(vm.type_error("bit_count requires an int")),
    }
}

fn int_as_integer_ratio(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let v = vm.pos(&args[0])?;
    Ok(Value::tuple(vec![v, Value::Int(1)]))
}

fn int_conjugate(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    vm.pos(&args[0])
}

fn float_as_integer_ratio(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let Some(Value::Float(x)) = args.first() else {
        return Err(vm.type_error("as_integer_ratio requires a float"));
    };
    if x.is_infinite() {
        return Err(vm.err("OverflowError", "cannot convert Infinity to integer ratio"));
    }
    if x.is_nan() {
        return Err(vm.value_error("cannot convert NaN to integer ratio"));
    }
    // x = mantissa * 2**exp exactly, then reduce by the common powers of two.
    let bits = x.to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1 << 52) - 1);
    let (mut m, mut e) = if raw_exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), raw_exp - 1075)
    };
    while m != 0 && m % 2 == 0 && e < 0 {
        m /= 2;
        e += 1;
    }
    let mut num = num_bigint::BigInt::from(m);
    if *x < 0.0 {
        num = -num;
    }
    let (num, den) = if e >= 0 {
        (num << (e as usize), num_bigint::BigInt::from(1))
    } else {
        (num, num_bigint::BigInt::from(1) << ((-e) as usize))
    };
    Ok(Value::tuple(vec![
        Value::from_bigint(num),
        Value::from_bigint(den),
    ]))
}

fn float_hex(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let Some(Value::Float(x)) = args.first() else {
        return Err(vm.type_error("hex requires a float"));
    };
    let x = *x;
    if x.is_nan() {
        return Ok(Value::str("nan"));
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x.is_infinite() {
        return Ok(Value::string(format!("{sign}inf")));
    }
    if x == 0.0 {
        return Ok(Value::string(format!("{sign}0x0.0p+0")));
    }
    let bits = x.to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1 << 52) - 1);
    let (lead, exp) = if raw_exp == 0 {
        (0, -1022)
    } else {
        (1, raw_exp - 1023)
    };
    Ok(Value::string(format!("{sign}0x{lead}.{frac:013x}p{exp:+}")))
}

fn float_fromhex(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let Some(Value::Str(s)) = args.get(1) else {
        return Err(vm.type_error("fromhex() argument must be str"));
    };
    let bad = || vm.value_error("invalid hexadecimal floating-point string");
    let t = s.as_str().trim().to_ascii_lowercase();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r.to_owned()),
        None => (false, t.strip_prefix('+').unwrap_or(&t).to_owned()),
    };
    let sign = if neg { -1.0 } else { 1.0 };
    match t.as_str() {
        "inf" | "infinity" => return Ok(Value::Float(sign * f64::INFINITY)),
        "nan" => return Ok(Value::Float(f64::NAN)),
        _ => {}
    }
    let t = t.strip_prefix("0x").unwrap_or(&t);
    let (mant, exp) = match t.split_once('p') {
        Some((m, e)) => (m, e.parse::<i64>().map_err(|_| bad())?),
        None => (t, 0),
    };
    let (int_part, frac_part) = mant.split_once('.').unwrap_or((mant, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(bad());
    }
    let mut value = 0.0f64;
    for c in int_part.chars().chain(frac_part.chars()) {
        let d = c.to_digit(16).ok_or_else(bad)?;
        value = value * 16.0 + f64::from(d);
    }
    let shift = exp - 4 * frac_part.len() as i64;
    let r = value * 2f64.powi(shift.clamp(-2000, 2000) as i32);
    if r.is_infinite() {
        return Err(vm.err(
            "OverflowError",
            "hexadecimal value too large to represent as a float",
        ));
    }
    Ok(Value::Float(sign * r))
}

fn range_count(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let (Some(r), Some(x)) = (args.first(), args.get(1)) else {
        return Err(vm.type_error("count() takes exactly one argument"));
    };
    Ok(Value::Int(i64::from(vm.contains(r, x)?)))
}

fn range_index(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let (Some(Value::Range(r)), Some(x)) = (args.first(), args.get(1)) else {
        return Err(vm.type_error("index() takes exactly one argument"));
    };
    let found = match x {
        Value::Int(v) => {
            let off = v - r.start;
            (off % r.step == 0 && vm.contains(&args[0], x)?).then(|| off / r.step)
        }
        _ => None,
    };
    match found {
        Some(i) => Ok(Value::Int(i)),
        None => {
            let s = vm.repr(x)?;
            Err(vm.value_error(format!("{s} is not in range")))
        }
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
    }
    Ok(Value::None)
}

fn exc_with_traceback(_: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    Ok(args.first().cloned().unwrap_or(Value::None))
}

fn float_arg(vm: &mut Vm, v: &Value) -> PyResult<f64> {
    match v {
        Value::Float(f) => Ok(*f),
        v => match as_int(v) {
            Some(i) => i
                .to_f64()
                .ok_or_else(|| vm.err("OverflowError", "int too large to convert to float")),
            None => Err(vm.type_error(format!("must be real number, not {}", vm.type_name(v)))),
        },
    }
}

macro_rules! math_fns {
    ($($name:ident => $f:expr),* $(,)?) => {
        $(
            fn $name(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
                nargs(vm, stringify!($name), args, 1, 1)?;
                let x = float_arg(vm, &args[0])?;
                let f: fn(f64) -> f64 = $f;
                let r = f(x);
                if r.is_nan() && !x.is_nan() {
                    return Err(vm.value_error("math domain error"));
                }
                Ok(Value::Float(r))
            }
        )*
    };
}

math_fns! {
    sqrt => f64::sqrt, sin => f64::sin, cos => f64::cos, tan => f64::tan, exp => f64::exp,
    atan => f64::atan, log10 => f64::log10, log2 => f64::log2, fabs => f64::abs,
    asin => f64::asin, acos => f64::acos, degrees => f64::to_degrees, radians => f64::to_radians,
}

fn math_log(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "log", args, 1, 2)?;
    let x = float_arg(vm, &args[0])?;
    if x <= 0.0 {
        return Err(vm.value_error("math domain error"));
    }
    let r = match args.get(1) {
        Some(b) => x.ln() / float_arg(vm, b)?.ln(),
        None => x.ln(),
    };
    Ok(Value::Float(r))
}

fn math_floor(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "floor", args, 1, 1)?;
    if let Some(r) = vm.call_special(&args[0], &intern("__floor__"), &[])? {
        return Ok(r);
    }
    if as_int(&args[0]).is_some() {
        return vm.pos(&args[0]);
    }
    let x = float_arg(vm, &args[0])?.floor();
    crate::builtins::float_to_int(vm, x)
}

fn math_ceil(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "ceil", args, 1, 1)?;
    if let Some(r) = vm.call_special(&args[0], &intern("__ceil__"), &[])? {
        return Ok(r);
    }
    if as_int(&args[0]).is_some() {
        return vm.pos(&args[0]);
    }
    let x = float_arg(vm, &args[0])?.ceil();
    crate::builtins::float_to_int(vm, x)
}

fn math_gcd(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let mut g = num_bigint::BigInt::from(0);
    for a in args {
        let i = as_int(a).ok_or_else(|| vm.type_error("gcd() requires integers"))?;
        g = num_integer::Integer::gcd(&g, &i.big());
    }
    Ok(Value::from_bigint(g))
}

fn math_isqrt(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "isqrt", args, 1, 1)?;
    let i = as_int(&args[0]).ok_or_else(|| vm.type_error("isqrt() requires an integer"))?;
    if i.is_negative() {
        return Err(vm.value_error("isqrt() argument must be nonnegative"));
    }
    Ok(Value::from_bigint(i.big().sqrt()))
}

fn math_factorial(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "factorial", args, 1, 1)?;
    let n = vm.index_of(&args[0])?;
    if n < 0 {
        return Err(vm.value_error("factorial() not defined for negative values"));
    }
    let mut r = num_bigint::BigInt::from(1);
    for k in 2..=n {
        r *= k;
    }
    Ok(Value::from_bigint(r))
}

fn time_time(_: &mut Vm, _: Args, _: Kw) -> PyResult<Value> {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Ok(Value::Float(d.as_secs_f64()))
}

fn time_perf_counter(_: &mut Vm, _: Args, _: Kw) -> PyResult<Value> {
    thread_local! {
        static START: std::time::Instant = std::time::Instant::now();
    }
    Ok(Value::Float(START.with(|s| s.elapsed().as_secs_f64())))
}

/// The `time` module (clocks only).
pub fn time_module() -> Value {
    Module::native(
        "time",
        [
            ("time", time_time as NativeFn),
            ("perf_counter", time_perf_counter),
            ("monotonic", time_perf_counter),
        ]
        .map(|(name, f)| (name, builtin(name, f))),
    )
}

fn math_hypot(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let mut s = 0.0f64;
    for a in args {
        let x = float_arg(vm, a)?;
        s += x * x;
    }
    Ok(Value::Float(s.sqrt()))
}

fn math_atan2(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "atan2", args, 2, 2)?;
    let (y, x) = (float_arg(vm, &args[0])?, float_arg(vm, &args[1])?);
    Ok(Value::Float(y.atan2(x)))
}

fn math_pow(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "pow", args, 2, 2)?;
    let (x, y) = (float_arg(vm, &args[0])?, float_arg(vm, &args[1])?);
    Ok(Value::Float(x.powf(y)))
}

fn math_isclose(vm: &mut Vm, args: Args, kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    nargs(vm, "isclose", pos, 2, 2)?;
    let (a, b) = (float_arg(vm, &pos[0])?, float_arg(vm, &pos[1])?);
    let mut rel = 1e-9;
    let mut abs = 0.0;
    for (k, v) in kw {
        match k {
            "rel_tol" => rel = float_arg(vm, v)?,
            "abs_tol" => abs = float_arg(vm, v)?,
            _ => {
                return Err(vm.type_error(format!(
                    "isclose() got an unexpected keyword argument '{k}'"
                )))
            }
        }
    }
    let close = a == b || (a - b).abs() <= f64::max(rel * f64::max(a.abs(), b.abs()), abs);
    Ok(Value::Bool(close))
}

fn math_trunc(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "trunc", args, 1, 1)?;
    if let Some(r) = vm.call_special(&args[0], &intern("__trunc__"), &[])? {
        return Ok(r);
    }
    if as_int(&args[0]).is_some() {
        return vm.pos(&args[0]);
    }
    let x = float_arg(vm, &args[0])?.trunc();
    crate::builtins::float_to_int(vm, x)
}

/// The `math` module.
pub fn math_module(_vm: &mut Vm) -> Value {
    let d = crate::ops::new_dict();
    d.set_str(&intern("__name__"), Value::str("math"));
    d.set_str(&intern("pi"), Value::Float(std::f64::consts::PI));
    d.set_str(&intern("e"), Value::Float(std::f64::consts::E));
    d.set_str(&intern("tau"), Value::Float(std::f64::consts::TAU));
    d.set_str(&intern("inf"), Value::Float(f64::INFINITY));
    d.set_str(&intern("nan"), Value::Float(f64::NAN));
    for (name, f) in [
        ("sqrt", sqrt as NativeFn),
        ("sin", sin),
        ("cos", cos),
        ("tan", tan),
        ("exp", exp),
        ("atan", atan),
        ("log10", log10),
        ("log2", log2),
        ("fabs", fabs),
        ("log", math_log),
        ("floor", math_floor),
        ("ceil", math_ceil),
        ("gcd", math_gcd),
        ("isqrt", math_isqrt),
        ("factorial", math_factorial),
        ("hypot", math_hypot),
        ("atan2", math_atan2),
        ("pow", math_pow),
        ("isclose", math_isclose),
        ("trunc", math_trunc),
        ("asin", asin),
        ("acos", acos),
        ("degrees", degrees),
        ("radians", radians),
    ] {
        d.set_str(&intern(name), builtin(name, f));
    }
    Value::Module(Rc::new(Module {
        name: intern("math"),
        dict: d,
    }))
}
