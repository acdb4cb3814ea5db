//! Expressions back to source text, as CPython 3.12's `Python/ast_unparse.c` writes annotations
//! under `from __future__ import annotations`: minimal parentheses from operator precedence,
//! constants as their `repr` (infinities as `1e309`), f-strings re-quoted by `repr`.

use pyc_loader::marshal::Str;
use pyc_loader::repr::{bytes_repr, complex_repr, float_repr, int_repr, str_repr};
use pyc_loader::Target;

use crate::ast::{
    Arg, Arguments, BoolOp, CmpOp, Comprehension, Constant, Conversion, Expr, ExprKind, Operator,
    UnaryOp,
};

/// The string CPython stores for an annotation expression (`_PyAST_ExprAsUnicode`).
///
/// An int of more than 4300 digits, which CPython refuses to convert (a `ValueError` at
/// compile time), is written out in full.
pub fn unparse_annotation(expr: &Expr) -> String {
    let mut out = Writer::default();
    out.expr(expr, P::Test as u8);
    out.into_string()
}

/// Binding strength, loosest first (`PR_*`).
#[derive(Clone, Copy)]
#[repr(u8)]
enum Precedence {
    Tuple,
    /// `if`-`else`, `lambda`.
    Test,
    Or,
    And,
    Not,
    /// Comparisons, `in`, `is`.
    Cmp,
    /// `|` (the start of bitwise and arithmetic expressions).
    BitOr,
    BitXor,
    BitAnd,
    Shift,
    /// `+`, `-`.
    Arith,
    /// `*`, `@`, `/`, `%`, `//`.
    Term,
    /// Unary `+`, `-`, `~`.
    Factor,
    Power,
    Await,
    Atom,
}

use Precedence as P;

/// Text under construction, as `surrogatepass` UTF-8: the literal pieces of an f-string may
/// hold lone surrogates until the f-string's `repr` escapes them.
#[derive(Default)]
struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn push(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    fn push_if(&mut self, cond: bool, s: &str) {
        if cond {
            self.push(s);
        }
    }

    fn into_str(self) -> Str {
        Str::from_surrogatepass(self.buf.into(), false).expect("built from valid pieces")
    }

    fn into_string(self) -> String {
        // Every lone surrogate is inside an f-string body, which `repr` escapes.
        String::from_utf8(self.buf).expect("unparsed text is valid UTF-8")
    }

    fn expr(&mut self, e: &Expr, level: u8) {
        // Deep trees (as deep as the compiler accepts) on any thread's stack.
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.expr_inner(e, level));
    }

    fn expr_inner(&mut self, e: &Expr, level: u8) {
        match &e.kind {
            ExprKind::BoolOp { op, values } => {
                let (word, pr) = match op {
                    BoolOp::And => (" and ", P::And as u8),
                    BoolOp::Or => (" or ", P::Or as u8),
                };
                self.push_if(level > pr, "(");
                for (i, value) in values.iter().enumerate() {
                    self.push_if(i > 0, word);
                    self.expr(value, pr + 1);
                }
                self.push_if(level > pr, ")");
            }
            ExprKind::BinOp { left, op, right } => {
                let (symbol, pr) = binary(*op);
                let right_assoc = matches!(op, Operator::Pow);
                let pr = pr as u8;
                self.push_if(level > pr, "(");
                self.expr(left, pr + u8::from(right_assoc));
                self.push(symbol);
                self.expr(right, pr + u8::from(!right_assoc));
                self.push_if(level > pr, ")");
            }
            ExprKind::UnaryOp { op, operand } => {
                let (symbol, pr) = match op {
                    UnaryOp::Invert => ("~", P::Factor),
                    UnaryOp::Not => ("not ", P::Not),
                    UnaryOp::UAdd => ("+", P::Factor),
                    UnaryOp::USub => ("-", P::Factor),
                };
                let pr = pr as u8;
                self.push_if(level > pr, "(");
                self.push(symbol);
                self.expr(operand, pr);
                self.push_if(level > pr, ")");
            }
            ExprKind::Lambda { args, body } => {
                let test = P::Test as u8;
                self.push_if(level > test, "(");
                let positional = args.args.len() + args.posonlyargs.len();
                // CPython writes `lambda*a: 0` when there is no positional parameter.
                self.push(if positional > 0 { "lambda " } else { "lambda" });
                self.arguments(args);
                self.push(": ");
                self.expr(body, test);
                self.push_if(level > test, ")");
            }
            ExprKind::IfExp { test, body, orelse } => {
                let pr = P::Test as u8;
                self.push_if(level > pr, "(");
                self.expr(body, pr + 1);
                self.push(" if ");
                self.expr(test, pr + 1);
                self.push(" else ");
                self.expr(orelse, pr);
                self.push_if(level > pr, ")");
            }
            ExprKind::Dict { keys, values } => {
                self.push("{");
                for (i, (key, value)) in keys.iter().zip(values).enumerate() {
                    self.push_if(i > 0, ", ");
                    match key {
                        Some(key) => {
                            self.expr(key, P::Test as u8);
                            self.push(": ");
                            self.expr(value, P::Test as u8);
                        }
                        None => {
                            self.push("**");
                            self.expr(value, P::BitOr as u8);
                        }
                    }
                }
                self.push("}");
            }
            ExprKind::Set { elts } => {
                self.push("{");
                self.items(elts);
                self.push("}");
            }
            ExprKind::List { elts, .. } => {
                self.push("[");
                self.items(elts);
                self.push("]");
            }
            ExprKind::Tuple { elts, .. } => {
                if elts.is_empty() {
                    self.push("()");
                    return;
                }
                let parens = level > P::Tuple as u8;
                self.push_if(parens, "(");
                self.items(elts);
                self.push_if(elts.len() == 1, ",");
                self.push_if(parens, ")");
            }
            ExprKind::GeneratorExp { elt, generators } => {
                self.push("(");
                self.expr(elt, P::Test as u8);
                self.comprehensions(generators);
                self.push(")");
            }
            ExprKind::ListComp { elt, generators } => {
                self.push("[");
                self.expr(elt, P::Test as u8);
                self.comprehensions(generators);
                self.push("]");
            }
            ExprKind::SetComp { elt, generators } => {
                self.push("{");
                self.expr(elt, P::Test as u8);
                self.comprehensions(generators);
                self.push("}");
            }
            ExprKind::DictComp {
                key,
                value,
                generators,
            } => {
                self.push("{");
                self.expr(key, P::Test as u8);
                self.push(": ");
                self.expr(value, P::Test as u8);
                self.comprehensions(generators);
                self.push("}");
            }
            ExprKind::Yield { value } => match value {
                None => self.push("(yield)"),
                Some(value) => {
                    self.push("(yield ");
                    self.expr(value, P::Test as u8);
                    self.push(")");
                }
            },
            ExprKind::YieldFrom { value } => {
                self.push("(yield from ");
                self.expr(value, P::Test as u8);
                self.push(")");
            }
            ExprKind::Await { value } => {
                let pr = P::Await as u8;
                self.push_if(level > pr, "(");
                self.push("await ");
                self.expr(value, P::Atom as u8);
                self.push_if(level > pr, ")");
            }
            ExprKind::Compare {
                left,
                ops,
                comparators,
            } => {
                let pr = P::Cmp as u8;
                self.push_if(level > pr, "(");
                self.expr(left, pr + 1);
                for (op, comparator) in ops.iter().zip(comparators) {
                    self.push(comparison(*op));
                    self.expr(comparator, pr + 1);
                }
                self.push_if(level > pr, ")");
            }
            ExprKind::Call {
                func,
                args,
                keywords,
            } => self.call(func, args, keywords),
            ExprKind::Constant { value, kind_u } => {
                if let Constant::Ellipsis = value {
                    self.push("...");
                    return;
                }
                self.push_if(*kind_u, "u");
                match value {
                    Constant::Tuple(items) => {
                        self.push("(");
                        for (i, item) in items.iter().enumerate() {
                            self.push_if(i > 0, ", ");
                            self.push(&constant_repr(item, true));
                        }
                        self.push_if(items.len() == 1, ",");
                        self.push(")");
                    }
                    other => self.push(&constant_repr(other, true)),
                }
            }
            ExprKind::JoinedStr { values } => self.joined_str(values, false),
            ExprKind::FormattedValue {
                value,
                conversion,
                format_spec,
            } => self.formatted_value(value, *conversion, format_spec.as_deref()),
            ExprKind::Attribute { value, attr, .. } => {
                self.expr(value, P::Atom as u8);
                // `1 .real`: an int needs a space before the period.
                let int = matches!(
                    value.kind,
                    ExprKind::Constant {
                        value: Constant::Int(_),
                        ..
                    }
                );
                self.push(if int { " ." } else { "." });
                self.push(attr);
            }
            ExprKind::Subscript { value, slice, .. } => {
                self.expr(value, P::Atom as u8);
                self.push("[");
                self.expr(slice, P::Tuple as u8);
                self.push("]");
            }
            ExprKind::Starred { value, .. } => {
                self.push("*");
                self.expr(value, P::BitOr as u8);
            }
            ExprKind::Slice { lower, upper, step } => {
                if let Some(lower) = lower {
                    self.expr(lower, P::Test as u8);
                }
                self.push(":");
                if let Some(upper) = upper {
                    self.expr(upper, P::Test as u8);
                }
                if let Some(step) = step {
                    self.push(":");
                    self.expr(step, P::Test as u8);
                }
            }
            ExprKind::Name { id, .. } => self.push(id),
            ExprKind::NamedExpr { target, value } => {
                let parens = level > P::Tuple as u8;
                self.push_if(parens, "(");
                self.expr(target, P::Atom as u8);
                self.push(" := ");
                self.expr(value, P::Atom as u8);
                self.push_if(parens, ")");
            }
        }
    }

    fn call(&mut self, func: &Expr, args: &[Expr], keywords: &[crate::ast::Keyword]) {
        self.expr(func, P::Atom as u8);
        if let ([arg], []) = (args, keywords) {
            if let ExprKind::GeneratorExp { .. } = arg.kind {
                // A lone generator argument brings its own parentheses.
                self.expr(arg, P::Test as u8);
                return;
            }
        }
        self.push("(");
        let mut first = true;
        for arg in args {
            self.push_if(!first, ", ");
            first = false;
            self.expr(arg, P::Test as u8);
        }
        for keyword in keywords {
            self.push_if(!first, ", ");
            first = false;
            match &keyword.arg {
                Some(name) => {
                    self.push(name);
                    self.push("=");
                }
                None => self.push("**"),
            }
            self.expr(&keyword.value, P::Test as u8);
        }
        self.push(")");
    }

    /// Comma-separated items at `Test` precedence.
    fn items(&mut self, elts: &[Expr]) {
        for (i, e) in elts.iter().enumerate() {
            self.push_if(i > 0, ", ");
            self.expr(e, P::Test as u8);
        }
    }

    fn comprehensions(&mut self, generators: &[Comprehension]) {
        for generator in generators {
            self.push(if generator.is_async {
                " async for "
            } else {
                " for "
            });
            self.expr(&generator.target, P::Tuple as u8);
            self.push(" in ");
            self.expr(&generator.iter, P::Test as u8 + 1);
            for condition in &generator.ifs {
                self.push(" if ");
                self.expr(condition, P::Test as u8 + 1);
            }
        }
    }

    fn arg(&mut self, arg: &Arg) {
        self.push(&arg.arg);
        if let Some(annotation) = &arg.annotation {
            self.push(": ");
            self.expr(annotation, P::Test as u8);
        }
    }

    fn arguments(&mut self, args: &Arguments) {
        let mut first = true;
        let mut sep = |w: &mut Writer| {
            w.push_if(!first, ", ");
            first = false;
        };
        let positional: Vec<&Arg> = args.posonlyargs.iter().chain(&args.args).collect();
        // Defaults belong to the last positional parameters.
        let first_default = positional.len().saturating_sub(args.defaults.len());
        for (i, arg) in positional.iter().enumerate() {
            sep(self);
            self.arg(arg);
            if i >= first_default {
                self.push("=");
                self.expr(&args.defaults[i - first_default], P::Test as u8);
            }
            if i + 1 == args.posonlyargs.len() {
                self.push(", /");
            }
        }
        if args.vararg.is_some() || !args.kwonlyargs.is_empty() {
            sep(self);
            self.push("*");
            if let Some(vararg) = &args.vararg {
                self.arg(vararg);
            }
        }
        for (arg, default) in args.kwonlyargs.iter().zip(&args.kw_defaults) {
            sep(self);
            self.arg(arg);
            if let Some(default) = default {
                self.push("=");
                self.expr(default, P::Test as u8);
            }
        }
        if let Some(kwarg) = &args.kwarg {
            sep(self);
            self.push("**");
            self.arg(kwarg);
        }
    }

    /// An f-string, or (`is_format_spec`) the unquoted text of a format specification.
    fn joined_str(&mut self, values: &[Expr], is_format_spec: bool) {
        let mut body = Writer::default();
        for value in values {
            body.fstring_element(value, is_format_spec);
        }
        if is_format_spec {
            self.buf.extend_from_slice(&body.buf);
        } else {
            self.push("f");
            self.push(&str_repr(&body.into_str(), Target::V3_12));
        }
    }

    fn fstring_element(&mut self, e: &Expr, is_format_spec: bool) {
        match &e.kind {
            ExprKind::Constant {
                value: Constant::Str(s),
                ..
            } => {
                // Braces of literal text are doubled.
                for &b in s.as_bytes() {
                    match b {
                        b'{' => self.push("{{"),
                        b'}' => self.push("}}"),
                        _ => self.buf.push(b),
                    }
                }
            }
            ExprKind::JoinedStr { values } => self.joined_str(values, is_format_spec),
            ExprKind::FormattedValue {
                value,
                conversion,
                format_spec,
            } => self.formatted_value(value, *conversion, format_spec.as_deref()),
            // Not produced by the parser: written as an ordinary expression.
            _ => self.expr(e, P::Test as u8),
        }
    }

    fn formatted_value(&mut self, value: &Expr, conversion: Conversion, spec: Option<&Expr>) {
        // `> Test` puts a lambda, whose `:` would end the field, in parentheses.
        let mut inner = Writer::default();
        inner.expr(value, P::Test as u8 + 1);
        // A field starting with a brace is set off from the outer one.
        self.push(if inner.buf.first() == Some(&b'{') {
            "{ "
        } else {
            "{"
        });
        self.buf.extend_from_slice(&inner.buf);
        match conversion {
            Conversion::None => {}
            Conversion::Str => self.push("!s"),
            Conversion::Repr => self.push("!r"),
            Conversion::Ascii => self.push("!a"),
        }
        if let Some(spec) = spec {
            self.push(":");
            self.fstring_element(spec, true);
        }
        self.push("}");
    }
}

fn binary(op: Operator) -> (&'static str, Precedence) {
    match op {
        Operator::Add => (" + ", P::Arith),
        Operator::Sub => (" - ", P::Arith),
        Operator::Mult => (" * ", P::Term),
        Operator::MatMult => (" @ ", P::Term),
        Operator::Div => (" / ", P::Term),
        Operator::Mod => (" % ", P::Term),
        Operator::LShift => (" << ", P::Shift),
        Operator::RShift => (" >> ", P::Shift),
        Operator::BitOr => (" | ", P::BitOr),
        Operator::BitXor => (" ^ ", P::BitXor),
        Operator::BitAnd => (" & ", P::BitAnd),
        Operator::FloorDiv => (" // ", P::Term),
        Operator::Pow => (" ** ", P::Power),
    }
}

fn comparison(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => " == ",
        CmpOp::NotEq => " != ",
        CmpOp::Lt => " < ",
        CmpOp::LtE => " <= ",
        CmpOp::Gt => " > ",
        CmpOp::GtE => " >= ",
        CmpOp::Is => " is ",
        CmpOp::IsNot => " is not ",
        CmpOp::In => " in ",
        CmpOp::NotIn => " not in ",
    }
}

/// `repr(c)`; with `inf_as_literal`, infinities of a float or complex are written `1e309`
/// (CPython does so for a float or complex constant, not inside a nested tuple).
fn constant_repr(c: &Constant, inf_as_literal: bool) -> String {
    let inf = |text: String| {
        if inf_as_literal {
            text.replace("inf", "1e309")
        } else {
            text
        }
    };
    match c {
        Constant::None => "None".into(),
        Constant::Bool(b) => if *b { "True" } else { "False" }.into(),
        Constant::Ellipsis => "Ellipsis".into(),
        Constant::Int(i) => int_repr(i).unwrap_or_else(|_| i.to_string()),
        Constant::Float(f) => inf(float_repr(*f)),
        Constant::Complex(re, im) => inf(complex_repr(*re, *im)),
        Constant::Str(s) => str_repr(s, Target::V3_12),
        Constant::Bytes(b) => bytes_repr(b),
        Constant::Tuple(items) => {
            let inner: Vec<String> = items.iter().map(|c| constant_repr(c, false)).collect();
            let comma = if items.len() == 1 { "," } else { "" };
            format!("({}{comma})", inner.join(", "))
        }
        Constant::FrozenSet(items) if items.is_empty() => "frozenset()".into(),
        // In stored order: only the optimizer makes frozensets, and annotations are never
        // optimized before being unparsed.
        Constant::FrozenSet(items) => {
            let inner: Vec<String> = items.iter().map(|c| constant_repr(c, false)).collect();
            format!("frozenset({{{}}})", inner.join(", "))
        }
    }
}
