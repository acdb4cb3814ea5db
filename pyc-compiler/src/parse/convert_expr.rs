//! Expressions: ruff's `Expr` to `crate::ast::Expr`.

use ruff_python_ast as ruff;
use ruff_python_ast::StringFlags;
use ruff_text_size::{Ranged, TextRange};

use super::convert::{convert_all, Converter, Result};
use super::numbers::number;
use super::strings::{self, StrBuf};
use crate::ast::*;
use crate::error::CompileError;

impl Converter<'_> {
    pub fn exprs(&mut self, exprs: &[ruff::Expr]) -> Result<Vec<Expr>> {
        convert_all(exprs, |e| self.expr(e))
    }

    pub fn opt_expr(&mut self, expr: Option<&ruff::Expr>) -> Result<Option<Expr>> {
        expr.map(|e| self.expr(e)).transpose()
    }

    pub fn boxed(&mut self, expr: &ruff::Expr) -> Result<Box<Expr>> {
        self.expr(expr).map(Box::new)
    }

    pub fn opt_boxed(&mut self, expr: Option<&ruff::Expr>) -> Result<Option<Box<Expr>>> {
        expr.map(|e| self.boxed(e)).transpose()
    }

    /// Converts one expression.
    pub fn expr(&mut self, expr: &ruff::Expr) -> Result<Expr> {
        self.nested(|cx| cx.expr_inner(expr))
    }

    fn expr_inner(&mut self, expr: &ruff::Expr) -> Result<Expr> {
        // Placed before the children: lines are then looked up mostly in source order.
        let loc = match expr {
            // The sole argument of a call: CPython's node spans the call's parentheses.
            ruff::Expr::Generator(e) if !e.parenthesized => {
                self.loc(self.sole_generator_range(e.range))
            }
            // Placed after their parts.
            ruff::Expr::FString(_) => Loc::default(),
            _ => self.loc(expr.range()),
        };
        let kind = match expr {
            ruff::Expr::BoolOp(e) => ExprKind::BoolOp {
                op: match e.op {
                    ruff::BoolOp::And => BoolOp::And,
                    ruff::BoolOp::Or => BoolOp::Or,
                },
                values: self.exprs(&e.values)?,
            },
            ruff::Expr::Named(e) => ExprKind::NamedExpr {
                target: self.boxed(&e.target)?,
                value: self.boxed(&e.value)?,
            },
            ruff::Expr::BinOp(e) => ExprKind::BinOp {
                left: self.boxed(&e.left)?,
                op: operator(e.op),
                right: self.boxed(&e.right)?,
            },
            ruff::Expr::UnaryOp(e) => ExprKind::UnaryOp {
                op: match e.op {
                    ruff::UnaryOp::Invert => UnaryOp::Invert,
                    ruff::UnaryOp::Not => UnaryOp::Not,
                    ruff::UnaryOp::UAdd => UnaryOp::UAdd,
                    ruff::UnaryOp::USub => UnaryOp::USub,
                },
                operand: self.boxed(&e.operand)?,
            },
            ruff::Expr::Lambda(e) => ExprKind::Lambda {
                args: Box::new(match &e.parameters {
                    Some(p) => self.parameters(p)?,
                    None => Arguments::default(),
                }),
                body: self.boxed(&e.body)?,
            },
            ruff::Expr::If(e) => ExprKind::IfExp {
                test: self.boxed(&e.test)?,
                body: self.boxed(&e.body)?,
                orelse: self.boxed(&e.orelse)?,
            },
            ruff::Expr::Dict(e) => {
                let mut keys = Vec::with_capacity(e.items.len());
                let mut values = Vec::with_capacity(e.items.len());
                for item in &e.items {
                    keys.push(self.opt_expr(item.key.as_ref())?);
                    values.push(self.expr(&item.value)?);
                }
                ExprKind::Dict { keys, values }
            }
            ruff::Expr::Set(e) => ExprKind::Set {
                elts: self.exprs(&e.elts)?,
            },
            ruff::Expr::ListComp(e) => ExprKind::ListComp {
                elt: self.boxed(&e.elt)?,
                generators: self.comprehensions(&e.generators)?,
            },
            ruff::Expr::SetComp(e) => ExprKind::SetComp {
                elt: self.boxed(&e.elt)?,
                generators: self.comprehensions(&e.generators)?,
            },
            ruff::Expr::DictComp(e) => {
                let Some(key) = &e.key else {
                    return Err(self.error_at(
                        "dict unpacking cannot be used in dict comprehension".into(),
                        e.value.range(),
                    ));
                };
                ExprKind::DictComp {
                    key: self.boxed(key)?,
                    value: self.boxed(&e.value)?,
                    generators: self.comprehensions(&e.generators)?,
                }
            }
            ruff::Expr::Generator(e) => ExprKind::GeneratorExp {
                elt: self.boxed(&e.elt)?,
                generators: self.comprehensions(&e.generators)?,
            },
            ruff::Expr::Await(e) => ExprKind::Await {
                value: self.boxed(&e.value)?,
            },
            ruff::Expr::Yield(e) => ExprKind::Yield {
                value: self.opt_boxed(e.value.as_deref())?,
            },
            ruff::Expr::YieldFrom(e) => ExprKind::YieldFrom {
                value: self.boxed(&e.value)?,
            },
            ruff::Expr::Compare(e) => ExprKind::Compare {
                left: self.boxed(&e.left)?,
                ops: e.ops.iter().map(|&op| cmpop(op)).collect(),
                comparators: self.exprs(&e.comparators)?,
            },
            ruff::Expr::Call(e) => {
                let func = self.boxed(&e.func)?;
                let (args, keywords) = self.call_arguments(&e.arguments)?;
                ExprKind::Call {
                    func,
                    args,
                    keywords,
                }
            }
            ruff::Expr::FString(e) => return self.fstring(e),
            ruff::Expr::TString(e) => {
                return Err(self.error_at("invalid syntax".into(), e.range()));
            }
            ruff::Expr::StringLiteral(e) => ExprKind::Constant {
                value: Constant::Str(self.string_value(&e.value)?),
                // A `u` prefix is the only one starting with `u`.
                kind_u: self.src.as_bytes()[e.range.start().to_usize()] == b'u',
            },
            ruff::Expr::BytesLiteral(e) => ExprKind::Constant {
                value: Constant::Bytes(self.bytes_value(&e.value)?),
                kind_u: false,
            },
            ruff::Expr::NumberLiteral(e) => ExprKind::Constant {
                value: number(self.text(e.range)).map_err(|msg| {
                    // CPython reports the conversion limit without a column.
                    CompileError::syntax(msg, self.loc(e.range).lineno, 0)
                })?,
                kind_u: false,
            },
            ruff::Expr::BooleanLiteral(e) => ExprKind::Constant {
                value: Constant::Bool(e.value),
                kind_u: false,
            },
            ruff::Expr::NoneLiteral(_) => ExprKind::Constant {
                value: Constant::None,
                kind_u: false,
            },
            ruff::Expr::EllipsisLiteral(_) => ExprKind::Constant {
                value: Constant::Ellipsis,
                kind_u: false,
            },
            ruff::Expr::Attribute(e) => ExprKind::Attribute {
                value: self.boxed(&e.value)?,
                attr: e.attr.as_str().into(),
                ctx: ctx(e.ctx),
            },
            ruff::Expr::Subscript(e) => ExprKind::Subscript {
                value: self.boxed(&e.value)?,
                slice: self.boxed(&e.slice)?,
                ctx: ctx(e.ctx),
            },
            ruff::Expr::Starred(e) => ExprKind::Starred {
                value: self.boxed(&e.value)?,
                ctx: ctx(e.ctx),
            },
            ruff::Expr::Name(e) => ExprKind::Name {
                id: e.id.as_str().into(),
                ctx: ctx(e.ctx),
            },
            ruff::Expr::List(e) => ExprKind::List {
                elts: self.exprs(&e.elts)?,
                ctx: ctx(e.ctx),
            },
            ruff::Expr::Tuple(e) => ExprKind::Tuple {
                elts: self.exprs(&e.elts)?,
                ctx: ctx(e.ctx),
            },
            ruff::Expr::Slice(e) => ExprKind::Slice {
                lower: self.opt_boxed(e.lower.as_deref())?,
                upper: self.opt_boxed(e.upper.as_deref())?,
                step: self.opt_boxed(e.step.as_deref())?,
            },
            ruff::Expr::IpyEscapeCommand(e) => {
                return Err(self.error_at("invalid syntax".into(), e.range));
            }
        };
        Ok(Expr { loc, kind })
    }

    /// The range of an unparenthesized generator argument, widened to the call's parentheses.
    fn sole_generator_range(&self, range: TextRange) -> TextRange {
        let open = self
            .token_before(range.start())
            .filter(|(kind, _)| *kind == ruff::token::TokenKind::Lpar);
        let close = self
            .token_after(range.end())
            .filter(|(kind, _)| *kind == ruff::token::TokenKind::Rpar);
        match (open, close) {
            (Some((_, open)), Some((_, close))) => TextRange::new(open.start(), close.end()),
            _ => range,
        }
    }

    /// A call's positional and keyword arguments.
    pub fn call_arguments(
        &mut self,
        arguments: &ruff::Arguments,
    ) -> Result<(Vec<Expr>, Vec<Keyword>)> {
        let args = self.exprs(&arguments.args)?;
        let keywords = convert_all(&arguments.keywords, |k| self.keyword(k))?;
        Ok((args, keywords))
    }

    pub fn keyword(&mut self, keyword: &ruff::Keyword) -> Result<Keyword> {
        Ok(Keyword {
            loc: self.loc(keyword.range),
            arg: keyword.arg.as_ref().map(|a| a.as_str().into()),
            value: self.expr(&keyword.value)?,
        })
    }

    fn comprehensions(&mut self, generators: &[ruff::Comprehension]) -> Result<Vec<Comprehension>> {
        generators
            .iter()
            .map(|g| {
                Ok(Comprehension {
                    target: self.expr(&g.target)?,
                    iter: self.expr(&g.iter)?,
                    ifs: self.exprs(&g.ifs)?,
                    is_async: g.is_async,
                })
            })
            .collect()
    }

    /// A function's or lambda's parameters.
    pub fn parameters(&mut self, params: &ruff::Parameters) -> Result<Arguments> {
        let mut defaults = Vec::new();
        let mut positional = |cx: &mut Self, list: &[ruff::ParameterWithDefault]| {
            list.iter()
                .map(|p| {
                    let arg = cx.arg(&p.parameter, p.parameter.range)?;
                    if let Some(default) = &p.default {
                        defaults.push(cx.expr(default)?);
                    }
                    Ok(arg)
                })
                .collect::<Result<Vec<_>>>()
        };
        let posonlyargs = positional(self, &params.posonlyargs)?;
        let args = positional(self, &params.args)?;
        let vararg = params
            .vararg
            .as_deref()
            .map(|p| self.star_arg(p))
            .transpose()?;
        let mut kwonlyargs = Vec::with_capacity(params.kwonlyargs.len());
        let mut kw_defaults = Vec::with_capacity(params.kwonlyargs.len());
        for p in &params.kwonlyargs {
            kwonlyargs.push(self.arg(&p.parameter, p.parameter.range)?);
            kw_defaults.push(self.opt_expr(p.default.as_deref())?);
        }
        let kwarg = params
            .kwarg
            .as_deref()
            .map(|p| self.star_arg(p))
            .transpose()?;
        Ok(Arguments {
            posonlyargs,
            args,
            vararg,
            kwonlyargs,
            kw_defaults,
            kwarg,
            defaults,
        })
    }

    /// `*args` / `**kwargs`: CPython's node starts at the name, after the stars.
    fn star_arg(&mut self, param: &ruff::Parameter) -> Result<Arg> {
        let range = TextRange::new(param.name.range.start(), param.range.end());
        self.arg(param, range)
    }

    fn arg(&mut self, param: &ruff::Parameter, range: TextRange) -> Result<Arg> {
        Ok(Arg {
            loc: self.loc(range),
            arg: param.name.as_str().into(),
            annotation: self.opt_boxed(param.annotation.as_deref())?,
        })
    }

    /// The value of a (possibly implicitly concatenated) string literal.
    fn string_value(&mut self, value: &ruff::StringLiteralValue) -> Result<pyc_loader::Str> {
        if let [part] = value.as_slice() {
            // The body between the quotes, found from ruff's flags (the string is closed).
            let flags = part.flags;
            let body = TextRange::new(
                part.range.start() + flags.opener_len(),
                part.range.end() - flags.closer_len(),
            );
            let body = self.text(body);
            let raw = matches!(
                flags.prefix(),
                ruff::str_prefix::StringLiteralPrefix::Raw { .. }
            );
            if raw || !strings::has_backslash(body) {
                // Most strings: the value is the body as written.
                return Ok(pyc_loader::Str::new(body, false));
            }
        }
        let mut out = StrBuf::default();
        for part in value.iter() {
            self.decode_string_part(part.range, &mut out)?;
        }
        Ok(out.finish())
    }

    /// Decodes one plain string token into `out`, recording its warning.
    pub fn decode_string_part(&mut self, range: TextRange, out: &mut StrBuf) -> Result<()> {
        let literal = strings::split_token(self.text(range));
        match strings::decode_str(literal.body, literal.raw, false, out) {
            Ok(Some(warning)) => {
                self.warn(warning, range.start());
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(msg) => Err(self.error_at(msg, range)),
        }
    }

    fn bytes_value(&mut self, value: &ruff::BytesLiteralValue) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        for part in value.iter() {
            let literal = strings::split_token(self.text(part.range));
            match strings::decode_bytes(literal.body, literal.raw, &mut out) {
                Ok(Some(warning)) => self.warn(warning, part.range.start()),
                Ok(None) => {}
                Err(msg) => return Err(self.error_at(msg, part.range)),
            }
        }
        Ok(out)
    }
}

fn ctx(ctx: ruff::ExprContext) -> ExprContext {
    match ctx {
        ruff::ExprContext::Store => ExprContext::Store,
        ruff::ExprContext::Del => ExprContext::Del,
        ruff::ExprContext::Load | ruff::ExprContext::Invalid => ExprContext::Load,
    }
}

pub(super) fn operator(op: ruff::Operator) -> Operator {
    match op {
        ruff::Operator::Add => Operator::Add,
        ruff::Operator::Sub => Operator::Sub,
        ruff::Operator::Mult => Operator::Mult,
        ruff::Operator::MatMult => Operator::MatMult,
        ruff::Operator::Div => Operator::Div,
        ruff::Operator::Mod => Operator::Mod,
        ruff::Operator::Pow => Operator::Pow,
        ruff::Operator::LShift => Operator::LShift,
        ruff::Operator::RShift => Operator::RShift,
        ruff::Operator::BitOr => Operator::BitOr,
        ruff::Operator::BitXor => Operator::BitXor,
        ruff::Operator::BitAnd => Operator::BitAnd,
        ruff::Operator::FloorDiv => Operator::FloorDiv,
    }
}

fn cmpop(op: ruff::CmpOp) -> CmpOp {
    match op {
        ruff::CmpOp::Eq => CmpOp::Eq,
        ruff::CmpOp::NotEq => CmpOp::NotEq,
        ruff::CmpOp::Lt => CmpOp::Lt,
        ruff::CmpOp::LtE => CmpOp::LtE,
        ruff::CmpOp::Gt => CmpOp::Gt,
        ruff::CmpOp::GtE => CmpOp::GtE,
        ruff::CmpOp::Is => CmpOp::Is,
        ruff::CmpOp::IsNot => CmpOp::IsNot,
        ruff::CmpOp::In => CmpOp::In,
        ruff::CmpOp::NotIn => CmpOp::NotIn,
    }
}
