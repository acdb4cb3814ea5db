//! `'...' % (a, b)` with only `%s`, `%r` and `%a` units becomes an f-string
//! (`optimize_format` in CPython 3.12's `ast_opt.c`).

use super::ops::str_from_chars;
use crate::ast::{Constant, Conversion, Expr, ExprKind, Loc};

/// Most digits (exclusive) of a width or precision CPython accepts.
const MAX_DIGITS: u32 = 3;

/// The f-string equal to `fmt % (elts...)`, or `None` when the format has other units, a
/// unit CPython does not rewrite, or a different number of units than items.
pub(super) fn to_fstring(fmt: &pyc_loader::marshal::Str, elts: &[Expr], loc: Loc) -> Option<Expr> {
    if elts
        .iter()
        .any(|e| matches!(e.kind, ExprKind::Starred { .. }))
    {
        return None;
    }
    let chars: Vec<u32> = fmt.chars().collect();
    let mut pos = 0;
    let mut items = elts.iter();
    let mut values = Vec::with_capacity(elts.len() * 2 + 1);
    loop {
        if let Some(literal) = literal(&chars, &mut pos) {
            values.push(literal);
        }
        if pos >= chars.len() {
            break;
        }
        let arg = items.next()?;
        // `chars[pos]` is the `%` of a unit.
        pos += 1;
        values.push(unit(&chars, &mut pos, arg)?);
    }
    if items.next().is_some() {
        return None;
    }
    Some(Expr {
        loc,
        kind: ExprKind::JoinedStr { values },
    })
}

/// The text up to the next unit, with `%%` unescaped; CPython gives it no position.
fn literal(chars: &[u32], pos: &mut usize) -> Option<Expr> {
    let start = *pos;
    let mut text = Vec::new();
    while *pos < chars.len() {
        if chars[*pos] != u32::from(b'%') {
            text.push(chars[*pos]);
            *pos += 1;
        } else if chars.get(*pos + 1) == Some(&u32::from(b'%')) {
            text.push(u32::from(b'%'));
            *pos += 2;
        } else {
            break;
        }
    }
    if *pos == start {
        return None;
    }
    Some(constant_str(&text))
}

fn constant_str(chars: &[u32]) -> Expr {
    Expr {
        loc: Loc::default(),
        kind: ExprKind::Constant {
            value: Constant::Str(str_from_chars(chars)),
            kind_u: false,
        },
    }
}

/// A parsed `%[flags][width][.precision]type` unit.
struct Unit {
    left_justify: bool,
    width: Option<u32>,
    precision: Option<u32>,
    conversion: u32,
}

/// Reads the characters of a unit.
struct Cursor<'a> {
    chars: &'a [u32],
    at: usize,
}

impl Cursor<'_> {
    fn next(&mut self) -> Option<u32> {
        let ch = *self.chars.get(self.at)?;
        self.at += 1;
        Some(ch)
    }

    /// The digits starting with `ch` (none gives 0), leaving `ch` at the character after them.
    fn number(&mut self, ch: &mut u32) -> Option<u32> {
        let mut value = 0;
        let mut digits = 0;
        while let Some(d) = digit(*ch) {
            value = value * 10 + d;
            *ch = self.next()?;
            digits += 1;
            if digits >= MAX_DIGITS {
                return None;
            }
        }
        Some(value)
    }
}

fn digit(ch: u32) -> Option<u32> {
    (u32::from(b'0')..=u32::from(b'9'))
        .contains(&ch)
        .then(|| ch - u32::from(b'0'))
}

/// Parses one unit after its `%` (`simple_format_arg_parse`); `None` when it runs off the end
/// or has a width or precision of three digits or more.
fn parse_unit(chars: &[u32], pos: &mut usize) -> Option<Unit> {
    let mut cursor = Cursor { chars, at: *pos };
    let mut left_justify = false;
    let mut ch = cursor.next()?;
    // Flags: only `-` matters for %s, %r and %a.
    while b"-+ #0".iter().any(|&f| u32::from(f) == ch) {
        left_justify |= ch == u32::from(b'-');
        ch = cursor.next()?;
    }
    let width = match digit(ch) {
        Some(_) => Some(cursor.number(&mut ch)?),
        None => None,
    };
    let precision = if ch == u32::from(b'.') {
        ch = cursor.next()?;
        Some(cursor.number(&mut ch)?)
    } else {
        None
    };
    *pos = cursor.at;
    Some(Unit {
        left_justify,
        width,
        precision,
        conversion: ch,
    })
}

/// The `FormattedValue` for one unit applied to `arg` (`parse_format`), positioned at `arg`.
fn unit(chars: &[u32], pos: &mut usize, arg: &Expr) -> Option<Expr> {
    let unit = parse_unit(chars, pos)?;
    let conversion = match char::from_u32(unit.conversion)? {
        's' => Conversion::Str,
        'r' => Conversion::Repr,
        'a' => Conversion::Ascii,
        _ => return None,
    };
    let mut spec = String::new();
    if !unit.left_justify && unit.width.is_some_and(|w| w > 0) {
        spec.push('>');
    }
    if let Some(width) = unit.width {
        spec.push_str(&width.to_string());
    }
    if let Some(precision) = unit.precision {
        spec.push('.');
        spec.push_str(&precision.to_string());
    }
    let format_spec = (!spec.is_empty()).then(|| {
        let chars: Vec<u32> = spec.chars().map(u32::from).collect();
        Box::new(constant_str(&chars))
    });
    Some(Expr {
        loc: arg.loc,
        kind: ExprKind::FormattedValue {
            value: Box::new(arg.clone()),
            conversion,
            format_spec,
        },
    })
}
