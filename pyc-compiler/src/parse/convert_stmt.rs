//! Statements, patterns and type parameters: ruff's nodes to `crate::ast`.

use ruff_python_ast as ruff;
use ruff_python_ast::token::TokenKind;
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::convert::{convert_all, Converter, Result};
use super::convert_expr::operator;
use crate::ast::*;

impl Converter<'_> {
    pub fn stmts(&mut self, stmts: &[ruff::Stmt]) -> Result<Vec<Stmt>> {
        convert_all(stmts, |s| self.stmt(s))
    }

    /// Converts one statement.
    pub fn stmt(&mut self, stmt: &ruff::Stmt) -> Result<Stmt> {
        self.nested(|cx| cx.stmt_inner(stmt))
    }

    /// A compound statement's range: CPython's ends after a `;` that ends its last line.
    fn compound(&self, range: TextRange) -> TextRange {
        match self.token_after(range.end()) {
            Some((TokenKind::Semi, semi)) => TextRange::new(range.start(), semi.end()),
            _ => range,
        }
    }

    /// A decorated definition's range: CPython's starts at `def`, `async` or `class`.
    fn undecorated(
        &self,
        range: TextRange,
        decorators: &[ruff::Decorator],
        kind: TokenKind,
    ) -> TextRange {
        let Some(last) = decorators.last() else {
            return range;
        };
        match self.find_token(last.range.end(), kind) {
            Some(keyword) => TextRange::new(keyword.start(), range.end()),
            None => range,
        }
    }

    /// A statement's range as CPython has it.
    fn stmt_range(&self, stmt: &ruff::Stmt) -> TextRange {
        let range = stmt.range();
        match stmt {
            ruff::Stmt::FunctionDef(s) => {
                let keyword = if s.is_async {
                    TokenKind::Async
                } else {
                    TokenKind::Def
                };
                self.compound(self.undecorated(range, &s.decorator_list, keyword))
            }
            ruff::Stmt::ClassDef(s) => {
                self.compound(self.undecorated(range, &s.decorator_list, TokenKind::Class))
            }
            ruff::Stmt::For(_)
            | ruff::Stmt::While(_)
            | ruff::Stmt::If(_)
            | ruff::Stmt::With(_)
            | ruff::Stmt::Match(_)
            | ruff::Stmt::Try(_) => self.compound(range),
            _ => range,
        }
    }

    fn stmt_inner(&mut self, stmt: &ruff::Stmt) -> Result<Stmt> {
        let range = self.stmt_range(stmt);
        // Placed before the children: lines are then looked up mostly in source order.
        let loc = self.loc(range);
        let kind = match stmt {
            ruff::Stmt::FunctionDef(s) => {
                let decorator_list = self.decorators(&s.decorator_list)?;
                let type_params = self.type_params(s.type_params.as_deref())?;
                let args = self.parameters(&s.parameters)?;
                let returns = self.opt_expr(s.returns.as_deref())?;
                StmtKind::FunctionDef(Box::new(FunctionDef {
                    is_async: s.is_async,
                    name: s.name.as_str().into(),
                    args,
                    body: self.stmts(&s.body)?,
                    decorator_list,
                    returns,
                    type_params,
                }))
            }
            ruff::Stmt::ClassDef(s) => {
                let decorator_list = self.decorators(&s.decorator_list)?;
                let type_params = self.type_params(s.type_params.as_deref())?;
                let (bases, keywords) = match &s.arguments {
                    Some(arguments) => self.call_arguments(arguments)?,
                    None => (Vec::new(), Vec::new()),
                };
                StmtKind::ClassDef(Box::new(ClassDef {
                    name: s.name.as_str().into(),
                    bases,
                    keywords,
                    body: self.stmts(&s.body)?,
                    decorator_list,
                    type_params,
                }))
            }
            ruff::Stmt::Return(s) => StmtKind::Return {
                value: self.opt_boxed(s.value.as_deref())?,
            },
            ruff::Stmt::Delete(s) => StmtKind::Delete {
                targets: self.exprs(&s.targets)?,
            },
            ruff::Stmt::TypeAlias(s) => {
                let name = self.expr(&s.name)?;
                let type_params = self.type_params(s.type_params.as_deref())?;
                StmtKind::TypeAlias(Box::new(TypeAlias {
                    name,
                    type_params,
                    value: self.expr(&s.value)?,
                }))
            }
            ruff::Stmt::Assign(s) => StmtKind::Assign {
                targets: self.exprs(&s.targets)?,
                value: self.boxed(&s.value)?,
            },
            ruff::Stmt::AugAssign(s) => StmtKind::AugAssign {
                target: self.boxed(&s.target)?,
                op: operator(s.op),
                value: self.boxed(&s.value)?,
            },
            ruff::Stmt::AnnAssign(s) => StmtKind::AnnAssign {
                target: self.boxed(&s.target)?,
                annotation: self.boxed(&s.annotation)?,
                value: self.opt_boxed(s.value.as_deref())?,
                simple: s.simple,
            },
            ruff::Stmt::For(s) => StmtKind::For(Box::new(For {
                is_async: s.is_async,
                target: self.expr(&s.target)?,
                iter: self.expr(&s.iter)?,
                body: self.stmts(&s.body)?,
                orelse: self.stmts(&s.orelse)?,
            })),
            ruff::Stmt::While(s) => StmtKind::While {
                test: self.boxed(&s.test)?,
                body: self.stmts(&s.body)?,
                orelse: self.stmts(&s.orelse)?,
            },
            ruff::Stmt::If(s) => StmtKind::If {
                test: self.boxed(&s.test)?,
                body: self.stmts(&s.body)?,
                orelse: self.elif_chain(&s.elif_else_clauses, range.end())?,
            },
            ruff::Stmt::With(s) => {
                let items = s
                    .items
                    .iter()
                    .map(|item| {
                        Ok(WithItem {
                            context_expr: self.expr(&item.context_expr)?,
                            optional_vars: self.opt_expr(item.optional_vars.as_deref())?,
                        })
                    })
                    .collect::<Result<_>>()?;
                StmtKind::With(Box::new(With {
                    is_async: s.is_async,
                    items,
                    body: self.stmts(&s.body)?,
                }))
            }
            ruff::Stmt::Match(s) => {
                let subject = self.boxed(&s.subject)?;
                let cases = s
                    .cases
                    .iter()
                    .map(|case| {
                        Ok(MatchCase {
                            pattern: self.pattern(&case.pattern)?,
                            guard: self.opt_expr(case.guard.as_deref())?,
                            body: self.stmts(&case.body)?,
                        })
                    })
                    .collect::<Result<_>>()?;
                StmtKind::Match { subject, cases }
            }
            ruff::Stmt::Raise(s) => StmtKind::Raise {
                exc: self.opt_boxed(s.exc.as_deref())?,
                cause: self.opt_boxed(s.cause.as_deref())?,
            },
            ruff::Stmt::Try(s) => {
                let body = self.stmts(&s.body)?;
                let handlers = s
                    .handlers
                    .iter()
                    .map(|ruff::ExceptHandler::ExceptHandler(h)| {
                        Ok(ExceptHandler {
                            loc: self.loc(self.compound(h.range)),
                            type_: self.opt_expr(h.type_.as_deref())?,
                            name: h.name.as_ref().map(|n| n.as_str().into()),
                            body: self.stmts(&h.body)?,
                        })
                    })
                    .collect::<Result<_>>()?;
                StmtKind::Try(Box::new(Try {
                    is_star: s.is_star,
                    body,
                    handlers,
                    orelse: self.stmts(&s.orelse)?,
                    finalbody: self.stmts(&s.finalbody)?,
                }))
            }
            ruff::Stmt::Assert(s) => StmtKind::Assert {
                test: self.boxed(&s.test)?,
                msg: self.opt_boxed(s.msg.as_deref())?,
            },
            ruff::Stmt::Import(s) => StmtKind::Import {
                names: self.aliases(&s.names),
            },
            ruff::Stmt::ImportFrom(s) => StmtKind::ImportFrom {
                module: s.module.as_ref().map(|m| m.as_str().into()),
                names: self.aliases(&s.names),
                level: s.level,
            },
            ruff::Stmt::Global(s) => StmtKind::Global {
                names: s.names.iter().map(|n| n.as_str().into()).collect(),
            },
            ruff::Stmt::Nonlocal(s) => StmtKind::Nonlocal {
                names: s.names.iter().map(|n| n.as_str().into()).collect(),
            },
            ruff::Stmt::Expr(s) => StmtKind::Expr {
                value: self.boxed(&s.value)?,
            },
            ruff::Stmt::Pass(_) => StmtKind::Pass,
            ruff::Stmt::Break(_) => StmtKind::Break,
            ruff::Stmt::Continue(_) => StmtKind::Continue,
            ruff::Stmt::IpyEscapeCommand(s) => {
                return Err(self.error_at("invalid syntax".into(), s.range));
            }
        };
        Ok(Stmt { loc, kind })
    }

    /// `elif` / `else` clauses: an `elif` is an `If` alone in `orelse`, spanning from `elif` to
    /// the end of the whole chain.
    fn elif_chain(&mut self, clauses: &[ruff::ElifElseClause], end: TextSize) -> Result<Vec<Stmt>> {
        let Some((clause, rest)) = clauses.split_first() else {
            return Ok(Vec::new());
        };
        let Some(test) = &clause.test else {
            return self.stmts(&clause.body);
        };
        let stmt = self.nested(|cx| {
            Ok(Stmt {
                loc: cx.loc(TextRange::new(clause.range.start(), end)),
                kind: StmtKind::If {
                    test: cx.boxed(test)?,
                    body: cx.stmts(&clause.body)?,
                    orelse: cx.elif_chain(rest, end)?,
                },
            })
        })?;
        Ok(vec![stmt])
    }

    fn decorators(&mut self, decorators: &[ruff::Decorator]) -> Result<Vec<Expr>> {
        convert_all(decorators, |d| self.expr(&d.expression))
    }

    fn aliases(&self, names: &[ruff::Alias]) -> Vec<Alias> {
        names
            .iter()
            .map(|a| Alias {
                loc: self.loc(a.range),
                name: a.name.as_str().into(),
                asname: a.asname.as_ref().map(|n| n.as_str().into()),
            })
            .collect()
    }

    fn type_params(&mut self, params: Option<&ruff::TypeParams>) -> Result<Vec<TypeParam>> {
        let Some(params) = params else {
            return Ok(Vec::new());
        };
        params
            .type_params
            .iter()
            .map(|p| {
                let kind = match p {
                    ruff::TypeParam::TypeVar(t) => TypeParamKind::TypeVar {
                        name: t.name.as_str().into(),
                        bound: self.opt_boxed(t.bound.as_deref())?,
                    },
                    // Defaults are Python 3.13 (ruff flags only those of `TypeVar`s).
                    ruff::TypeParam::ParamSpec(ruff::TypeParamParamSpec {
                        default: Some(default),
                        ..
                    })
                    | ruff::TypeParam::TypeVarTuple(ruff::TypeParamTypeVarTuple {
                        default: Some(default),
                        ..
                    }) => {
                        return Err(self.error_at("invalid syntax".into(), default.range()));
                    }
                    ruff::TypeParam::ParamSpec(t) => TypeParamKind::ParamSpec {
                        name: t.name.as_str().into(),
                    },
                    ruff::TypeParam::TypeVarTuple(t) => TypeParamKind::TypeVarTuple {
                        name: t.name.as_str().into(),
                    },
                };
                Ok(TypeParam {
                    loc: self.loc(p.range()),
                    kind,
                })
            })
            .collect()
    }

    fn patterns(&mut self, patterns: &[ruff::Pattern]) -> Result<Vec<Pattern>> {
        convert_all(patterns, |p| self.pattern(p))
    }

    fn pattern(&mut self, pattern: &ruff::Pattern) -> Result<Pattern> {
        self.nested(|cx| cx.pattern_inner(pattern))
    }

    fn pattern_inner(&mut self, pattern: &ruff::Pattern) -> Result<Pattern> {
        let loc = self.loc(pattern.range());
        let kind = match pattern {
            ruff::Pattern::MatchValue(p) => PatternKind::MatchValue {
                value: self.boxed(&p.value)?,
            },
            ruff::Pattern::MatchSingleton(p) => PatternKind::MatchSingleton {
                value: match p.value {
                    ruff::Singleton::None => Constant::None,
                    ruff::Singleton::True => Constant::Bool(true),
                    ruff::Singleton::False => Constant::Bool(false),
                },
            },
            ruff::Pattern::MatchSequence(p) => PatternKind::MatchSequence {
                patterns: self.patterns(&p.patterns)?,
            },
            ruff::Pattern::MatchMapping(p) => PatternKind::MatchMapping {
                keys: self.exprs(&p.keys)?,
                patterns: self.patterns(&p.patterns)?,
                rest: p.rest.as_ref().map(|n| n.as_str().into()),
            },
            ruff::Pattern::MatchClass(p) => PatternKind::MatchClass {
                cls: self.boxed(&p.cls)?,
                patterns: self.patterns(&p.arguments.patterns)?,
                kwd_attrs: p
                    .arguments
                    .keywords
                    .iter()
                    .map(|k| k.attr.as_str().into())
                    .collect(),
                kwd_patterns: p
                    .arguments
                    .keywords
                    .iter()
                    .map(|k| self.pattern(&k.pattern))
                    .collect::<Result<_>>()?,
            },
            ruff::Pattern::MatchStar(p) => PatternKind::MatchStar {
                name: p.name.as_ref().map(|n| n.as_str().into()),
            },
            ruff::Pattern::MatchAs(p) => PatternKind::MatchAs {
                pattern: match &p.pattern {
                    Some(inner) => Some(Box::new(self.pattern(inner)?)),
                    None => None,
                },
                name: p.name.as_ref().map(|n| n.as_str().into()),
            },
            ruff::Pattern::MatchOr(p) => PatternKind::MatchOr {
                patterns: self.patterns(&p.patterns)?,
            },
        };
        Ok(Pattern { loc, kind })
    }
}
