//! The format-spec mini-language (`format()`, f-strings, `str.format`) and `%` formatting.

use crate::int::as_int;
use crate::value::Value;
use crate::vm::{PyResult, Vm};

/// Pads `s` to `width` characters with `fill`, aligned by `<`, `>` or `^`.
pub fn pad(s: &str, width: usize, fill: char, align: char) -> String {
    let n = s.chars().count();
    if n >= width {
        return s.to_owned();
    }
    let total = width - n;
    let (left, right) = match align {
        '<' => (0, total),
        '>' => (total, 0),
        _ => (total / 2, total - total / 2),
    };
    let f = |k: usize| std::iter::repeat_n(fill, k).collect::<String>();
    format!("{}{s}{}", f(left), f(right))
}

/// `round(x, n)` for floats (correctly rounded through the decimal string).
pub fn round_float(x: f64, n: i64) -> f64 {
    if !x.is_finite() || n > 300 {
        return x;
    }
    if n >= 0 {
        let s = format!("{:.*}", n as usize, x);
        s.parse().unwrap_or(x)
    } else {
        let p = 10f64.powi((-n) as i32);
        (x / p).round_ties_even() * p
    }
}

struct Spec {
    fill: char,
    align: Option<char>,
    sign: char,
    alt: bool,
    zero: bool,
    width: usize,
    grouping: Option<char>,
    precision: Option<usize>,
    ty: Option<char>,
}

fn parse_spec(vm: &Vm, spec: &str) -> PyResult<Spec> {
    let cs: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let mut s = Spec {
        fill: ' ',
        align: None,
        sign: '-',
        alt: false,
        zero: false,
        width: 0,
        grouping: None,
        precision: None,
        ty: None,
    };
    let is_align = |c: char| matches!(c, '<' | '>' | '^' | '=');
    if cs.len() >= 2 && is_align(cs[1]) {
        s.fill = cs[0];
        s.align = Some(cs[1]);
        i = 2;
    } else if !cs.is_empty() && is_align(cs[0]) {
        s.align = Some(cs[0]);
        i = 1;
    }
    if i < cs.len() && matches!(cs[i], '+' | '-' | ' ') {
        s.sign = cs[i];
        i += 1;
    }
    if i < cs.len() && cs[i] == '#' {
        s.alt = true;
        i += 1;
    }
    if i < cs.len() && cs[i] == '0' {
        s.zero = true;
        i += 1;
    }
    let start = i;
    while i < cs.len() && cs[i].is_ascii_digit() {
        i += 1;
    }
    s.width = cs[start..i].iter().collect::<String>().parse().unwrap_or(0);
    if i < cs.len() && matches!(cs[i], ',' | '_') {
        s.grouping = Some(cs[i]);
        i += 1;
    }
    if i < cs.len() && cs[i] == '.' {
        i += 1;
        let start = i;
        while i < cs.len() && cs[i].is_ascii_digit() {
            i += 1;
        }
        s.precision = Some(cs[start..i].iter().collect::<String>().parse().unwrap_or(0));
    }
    if i < cs.len() {
        s.ty = Some(cs[i]);
        i += 1;
    }
    if i != cs.len() {
        return Err(vm.value_error("Invalid format specifier"));
    }
    Ok(s)
}

fn group(digits: &str, sep: char, every: usize) -> String {
    let mut out: Vec<char> = Vec::new();
    for (k, c) in digits.chars().rev().enumerate() {
        if k > 0 && k % every == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out.into_iter().rev().collect()
}

fn finish_number(spec: &Spec, neg: bool, body: String, prefix: &str) -> String {
    let sign = if neg {
        "-"
    } else {
        match spec.sign {
            '+' => "+",
            ' ' => " ",
            _ => "",
        }
    };
    let (int_part, rest) = match body.find(['.', 'e', 'E', '%']) {
        Some(p) => (body[..p].to_owned(), body[p..].to_owned()),
        None => (body.clone(), String::new()),
    };
    let int_part = match spec.grouping {
        Some(g) if int_part.chars().all(|c| c.is_ascii_hexdigit()) => group(
            &int_part,
            g,
            if matches!(spec.ty, Some('x' | 'X' | 'o' | 'b')) {
                4
            } else {
                3
            },
        ),
        _ => int_part,
    };
    let body = format!("{int_part}{rest}");
    let align = spec.align.unwrap_or(if spec.zero { '=' } else { '>' });
    let fill = if spec.zero && spec.align.is_none() {
        '0'
    } else {
        spec.fill
    };
    if align == '=' {
        let n = sign.len() + prefix.len() + body.chars().count();
        let padding = if spec.width > n {
            std::iter::repeat_n(fill, spec.width - n).collect()
        } else {
            String::new()
        };
        return format!("{sign}{prefix}{padding}{body}");
    }
    pad(&format!("{sign}{prefix}{body}"), spec.width, fill, align)
}

fn float_exp(x: f64, prec: usize, upper: bool) -> String {
    let s = format!("{:.*e}", prec, x);
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = exp.parse().unwrap_or(0);
    let r = format!("{mant}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    if upper {
        r.to_uppercase()
    } else {
        r
    }
}

fn float_general(x: f64, prec: usize, alt: bool, add_dot_0: bool) -> String {
    let p = if prec == 0 { 1 } else { prec };
    if x == 0.0 {
        return if alt {
            format!("{:.*}", p - 1, 0.0)
        } else {
            "0".into()
        };
    }
    let exp_s = format!("{:.*e}", p - 1, x.abs());
    let e: i32 = exp_s
        .split_once('e')
        .map_or(0, |(_, e)| e.parse().unwrap_or(0));
    let limit = if add_dot_0 { p as i32 - 1 } else { p as i32 };
    let s = if e >= -4 && e < limit {
        format!("{:.*}", (p as i32 - 1 - e).max(0) as usize, x.abs())
    } else {
        float_exp(x.abs(), p - 1, false)
    };
    if alt {
        return s;
    }
    // Strip trailing zeros of the fraction.
    match s.split_once('e') {
        Some((m, e)) => {
            let m = if m.contains('.') {
                m.trim_end_matches('0').trim_end_matches('.')
            } else {
                m
            };
            format!("{m}e{e}")
        }
        None => {
            if s.contains('.') {
                s.trim_end_matches('0').trim_end_matches('.').to_owned()
            } else {
                s
            }
        }
    }
}

/// `format(v, spec)`.
pub fn format_value(vm: &mut Vm, v: &Value, spec: &str) -> PyResult<String> {
    if let Some(p) = vm.payload_for(v, &["__format__", "__str__", "__repr__"]) {
        return format_value(vm, &p, spec);
    }
    if let Value::Instance(_) = v {
        let n = vm.n.format.clone();
        if let Some(r) = vm.call_special(v, &n, &[Value::str(spec)])? {
            return match r {
                Value::Str(s) => Ok(s.as_str().to_owned()),
                _ => Err(vm.type_error("__format__ must return a str")),
            };
        }
        if spec.is_empty() {
            return vm.str_of(v);
        }
        return Err(vm.type_error(format!(
            "unsupported format string passed to {}.__format__",
            vm.type_name(v)
        )));
    }
    if spec.is_empty() {
        return vm.str_of(v);
    }
    let s = parse_spec(vm, spec)?;
    match v {
        Value::Str(text) => {
            if !matches!(s.ty, None | Some('s')) {
                return Err(vm.value_error(format!(
                    "Unknown format code '{}' for object of type 'str'",
                    s.ty.unwrap_or(' ')
                )));
            }
            let mut t: String = text.as_str().to_owned();
            if let Some(p) = s.precision {
                t = t.chars().take(p).collect();
            }
            Ok(pad(&t, s.width, s.fill, s.align.unwrap_or('<')))
        }
        _ if as_int(v).is_some()
            && !matches!(s.ty, Some('e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%')) =>
        {
            let i = as_int(v).map(|i| i.big()).unwrap_or_default();
            let neg = i.sign() == num_bigint::Sign::Minus;
            let mag = i.magnitude();
            let (body, prefix) = match s.ty {
                None | Some('d') | Some('n') => (mag.to_string(), ""),
                Some('x') => (mag.to_str_radix(16), "0x"),
                Some('X') => (mag.to_str_radix(16).to_uppercase(), "0X"),
                Some('o') => (mag.to_str_radix(8), "0o"),
                Some('b') => (mag.to_str_radix(2), "0b"),
                Some('c') => (
                    char::from_u32(u32::try_from(&i).unwrap_or(0))
                        .unwrap_or(' ')
                        .to_string(),
                    "",
                ),
                Some(t) => {
                    return Err(vm.value_error(format!(
                        "Unknown format code '{t}' for object of type 'int'"
                    )))
                }
            };
            if matches!(v, Value::Bool(_)) && s.ty.is_none() {
                return Ok(pad(&vm.str_of(v)?, s.width, s.fill, s.align.unwrap_or('<')));
            }
            Ok(finish_number(
                &s,
                neg,
                body,
                if s.alt { prefix } else { "" },
            ))
        }
        _ => {
            let x = match v {
                Value::Float(f) => *f,
                _ => match as_int(v).and_then(|i| i.to_f64()) {
                    Some(f) => f,
                    None => {
                        return Err(vm.type_error(format!(
                            "unsupported format string passed to {}.__format__",
                            vm.type_name(v)
                        )))
                    }
                },
            };
            let neg = x.is_sign_negative() && !x.is_nan();
            let a = x.abs();
            let body = if !a.is_finite() {
                let t = if a.is_nan() { "nan" } else { "inf" };
                if matches!(s.ty, Some('E' | 'F' | 'G')) {
                    t.to_uppercase()
                } else {
                    t.to_owned()
                }
            } else {
                match s.ty {
                    Some('f' | 'F') => format!("{:.*}", s.precision.unwrap_or(6), a),
                    Some('e' | 'E') => float_exp(a, s.precision.unwrap_or(6), s.ty == Some('E')),
                    Some('%') => format!("{:.*}%", s.precision.unwrap_or(6), a * 100.0),
                    Some('g' | 'G') => {
                        let r = float_general(a, s.precision.unwrap_or(6), s.alt, false);
                        if s.ty == Some('G') {
                            r.to_uppercase()
                        } else {
                            r
                        }
                    }
                    None => match s.precision {
                        Some(p) => {
                            let r = float_general(a, p, s.alt, true);
                            if r.contains(['.', 'e', 'n', 'i']) {
                                r
                            } else {
                                format!("{r}.0")
                            }
                            .replace(".0e", "e")
                        }
                        None => pyc_loader::repr::float_repr(a),
                    },
                    Some(t) => {
                        return Err(vm.value_error(format!(
                            "Unknown format code '{t}' for object of type 'float'"
                        )))
                    }
                }
            };
            Ok(finish_number(&s, neg, body, ""))
        }
    }
}

/// `template % values`.
pub fn percent_format(vm: &mut Vm, template: &str, values: &Value) -> PyResult<Value> {
    let args: Vec<Value> = match values {
        Value::Tuple(t) => (**t).clone(),
        other => vec![other.clone()],
    };
    let mut next = 0;
    let mut out = String::new();
    let mut cs = template.chars().peekable();
    while let Some(c) = cs.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        let mut key = None;
        if cs.peek() == Some(&'(') {
            cs.next();
            let mut k = String::new();
            for c in cs.by_ref() {
                if c == ')' {
                    break;
                }
                k.push(c);
            }
            key = Some(k);
        }
        let conv = loop {
            match cs.next() {
                Some(c) if "-+ #0123456789.".contains(c) => spec.push(c),
                Some(c) => break c,
                None => return Err(vm.value_error("incomplete format")),
            }
        };
        if conv == '%' {
            out.push('%');
            continue;
        }
        let arg = match &key {
            Some(k) => vm.get_item(values, &Value::str(k))?,
            None => {
                let a = args
                    .get(next)
                    .cloned()
                    .ok_or_else(|| vm.type_error("not enough arguments for format string"))?;
                next += 1;
                a
            }
        };
        if spec.is_empty() {
            // The common conversions without flags need no format-spec round trip.
            match (conv, &arg) {
                ('d' | 'i' | 'u', Value::Int(i)) => {
                    out.push_str(&i.to_string());
                    continue;
                }
                ('s', Value::Str(s)) => {
                    out.push_str(s.as_str());
                    continue;
                }
                ('s', other) => {
                    out.push_str(&vm.str_of(other)?);
                    continue;
                }
                ('r', other) => {
                    out.push_str(&vm.repr(other)?);
                    continue;
                }
                _ => {}
            }
        }
        let (flags, rest): (String, String) = {
            let i = spec
                .find(|c: char| c.is_ascii_digit() && c != '0' || c == '.')
                .unwrap_or(spec.len());
            (spec[..i].to_owned(), spec[i..].to_owned())
        };
        let mut fs = String::new();
        if flags.contains('-') {
            fs.push('<');
        } else if !flags.contains('0') || matches!(conv, 's' | 'r') {
            fs.push('>');
        }
        if flags.contains('+') {
            fs.push('+');
        } else if flags.contains(' ') {
            fs.push(' ');
        }
        if flags.contains('#') {
            fs.push('#');
        }
        if flags.contains('0') && !flags.contains('-') && !matches!(conv, 's' | 'r') {
            fs.push('0');
        }
        fs.push_str(&rest);
        let piece = match conv {
            's' => {
                let s = Value::string(vm.str_of(&arg)?);
                format_value(vm, &s, &fs)?
            }
            'r' => {
                let s = Value::string(vm.repr(&arg)?);
                format_value(vm, &s, &fs)?
            }
            'a' => {
                let s = Value::string(crate::builtins::ascii_of(&vm.repr(&arg)?));
                format_value(vm, &s, &fs)?
            }
            'd' | 'i' | 'u' => {
                let iv = match &arg {
                    Value::Float(f) => crate::builtins::float_to_int(vm, f.trunc())?,
                    other => other.clone(),
                };
                format_value(vm, &iv, &format!("{fs}d"))?
            }
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' | 'x' | 'X' | 'o' | 'c' => {
                format_value(vm, &arg, &format!("{fs}{conv}"))?
            }
            other => return Err(vm.value_error(format!("unsupported format character '{other}'"))),
        };
        out.push_str(&piece);
    }
    if key_free(template) && next < args.len() && !matches!(values, Value::Dict(_)) {
        return Err(vm.type_error("not all arguments converted during string formatting"));
    }
    Ok(Value::string(out))
}

fn key_free(template: &str) -> bool {
    !template.contains("%(")
}

/// `template.format(*args, **kwargs)`.
pub fn str_format(
    vm: &mut Vm,
    template: &str,
    args: &[Value],
    kwargs: &[(String, Value)],
) -> PyResult<String> {
    let mut out = String::new();
    let cs: Vec<char> = template.chars().collect();
    let mut i = 0;
    let mut auto = 0;
    while i < cs.len() {
        let c = cs[i];
        if c == '{' {
            if cs.get(i + 1) == Some(&'{') {
                out.push('{');
                i += 2;
                continue;
            }
            let mut depth = 1;
            let mut j = i + 1;
            while j < cs.len() && depth > 0 {
                match cs[j] {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                j += 1;
            }
            if depth != 0 {
                return Err(vm.value_error("Single '{' encountered in format string"));
            }
            let field: String = cs[i + 1..j - 1].iter().collect();
            let (head, spec) = match field.find(':') {
                Some(p) => (field[..p].to_owned(), field[p + 1..].to_owned()),
                None => (field.clone(), String::new()),
            };
            let (name, conv) = match head.find('!') {
                Some(p) => (head[..p].to_owned(), head[p + 1..].chars().next()),
                None => (head.clone(), None),
            };
            let spec = if spec.contains('{') {
                str_format(vm, &spec, args, kwargs)?
            } else {
                spec
            };
            let base_end = name.find(['.', '[']).unwrap_or(name.len());
            let base = &name[..base_end];
            let mut v = if base.is_empty() {
                let v = args.get(auto).cloned().ok_or_else(|| {
                    vm.err(
                        "IndexError",
                        format!("Replacement index {auto} out of range for positional args tuple"),
                    )
                })?;
                auto += 1;
                v
            } else if let Ok(k) = base.parse::<usize>() {
                args.get(k).cloned().ok_or_else(|| {
                    vm.err(
                        "IndexError",
                        format!("Replacement index {k} out of range for positional args tuple"),
                    )
                })?
            } else {
                kwargs
                    .iter()
                    .find(|(k, _)| k == base)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| {
                        crate::vm::PyErr(
                            vm.new_exception(vm.exc_type("KeyError"), vec![Value::str(base)]),
                        )
                    })?
            };
            let mut rest = &name[base_end..];
            while !rest.is_empty() {
                if let Some(r) = rest.strip_prefix('.') {
                    let end = r.find(['.', '[']).unwrap_or(r.len());
                    v = vm.get_attr(&v, &crate::pystr::intern(&r[..end]))?;
                    rest = &r[end..];
                } else if let Some(r) = rest.strip_prefix('[') {
                    let end = r.find(']').unwrap_or(r.len());
                    let key = &r[..end];
                    let k = key
                        .parse::<i64>()
                        .map(Value::Int)
                        .unwrap_or_else(|_| Value::str(key));
                    v = vm.get_item(&v, &k)?;
                    rest = r.get(end + 1..).unwrap_or("");
                } else {
                    break;
                }
            }
            let v = match conv {
                Some('r') => Value::string(vm.repr(&v)?),
                Some('s') => Value::string(vm.str_of(&v)?),
                Some('a') => Value::string(crate::builtins::ascii_of(&vm.repr(&v)?)),
                _ => v,
            };
            out.push_str(&format_value(vm, &v, &spec)?);
            i = j;
        } else if c == '}' {
            if cs.get(i + 1) == Some(&'}') {
                out.push('}');
                i += 2;
                continue;
            }
            return Err(vm.value_error("Single '}' encountered in format string"));
        } else {
            out.push(c);
            i += 1;
        }
    }
    Ok(out)
}
