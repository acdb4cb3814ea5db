//! The AST optimizer: CPython 3.12's `Python/ast_opt.c`.
//!
//! What it does, in place, bottom-up:
//! - folds unary and binary operators, subscripts and tuples whose operands are constants, with
//!   Python's results and CPython's size limits (see [`ops`]); an operation that raises is left
//!   alone;
//! - `not (a is b)` becomes `a is not b` (likewise `is not`, `in`, `not in`);
//! - the right operand of a final `in` / `not in`, and the iterable of `for` loops (not
//!   `async for`) and comprehensions: a list becomes a tuple, and a list or set of constants a
//!   constant tuple or frozenset;
//! - `'%s %r %a' % (x, y, z)` becomes an f-string (see [`format`]);
//! - `__debug__` becomes `True` (`False` when `optimize > 0`);
//! - a body's first statement that folding turned into a string constant is wrapped in a
//!   one-value `JoinedStr` so that it does not become a docstring.
//!
//! A folded node keeps its own position; the `not`-inverted comparison takes the comparison's.
//! Annotations are not folded under `from __future__ import annotations`.
//!
//! What CPython 3.12 leaves to later stages (and so must ours):
//! - `assert` emits nothing at all when `optimize > 0` (code generator);
//! - `if __debug__:` is only `if False:` here: the code generator emits the test as usual and
//!   the flow-graph passes remove the jump on a constant and the unreachable block;
//! - docstrings at `-OO` (`optimize >= 2`): a module or class body does not store `__doc__`,
//!   and a function's first constant is `None` instead of the docstring; the docstring
//!   statement stays in the tree and is compiled as an ordinary constant expression statement;
//! - the pieces of a `%`-format rewritten into an f-string are positioned at `Loc::default()`
//!   (CPython's missing position, -1), and a `FormattedValue.format_spec` made here is a
//!   `Constant` string rather than a `JoinedStr`;
//! - `Constant::FrozenSet` items are in insertion order with duplicates dropped; CPython's
//!   iteration order, which `co_consts` and marshal use, is `pyc_loader::pyhash::set_order` of it.

mod complex;
mod float;
mod format;
mod number;
mod ops;

use crate::ast::{
    Arg, Arguments, CmpOp, Comprehension, Constant, Expr, ExprKind, Mod, Pattern, PatternKind,
    Stmt, StmtKind, TypeParam, TypeParamKind, UnaryOp,
};
use crate::error::CompileError;
use crate::future::FutureFeatures;

/// How deeply statements, expressions and patterns may nest: CPython's limit (3000, twice its
/// C recursion limit) less the depth at which `py_compile` and `compileall` start it (6).
pub const MAX_NESTING: u32 = 2994;

/// Stack left below which folding continues on a new stack segment.
const STACK_RED_ZONE: usize = 256 * 1024;
/// Levels of nesting between two checks of the stack left: each level's frames take well under
/// the red zone's share.
const STACK_CHECK_LEVELS: u32 = 8;

/// Folds constants in place, at optimization level `optimize`. Fails only as CPython does,
/// with a `RecursionError` for a tree nested deeper than [`MAX_NESTING`].
pub fn optimize(module: &mut Mod, optimize: u8, future: &FutureFeatures) -> Result {
    let mut folder = Folder {
        optimize,
        fold_annotations: !future.annotations(),
        depth: 0,
    };
    match module {
        Mod::Module { body } => folder.body(body),
        Mod::Interactive { body } => folder.stmts(body),
        Mod::Expression { body } => folder.expr(body),
    }
}

type Result<T = ()> = std::result::Result<T, CompileError>;

/// The state of one optimization pass.
struct Folder {
    optimize: u8,
    /// False under `from __future__ import annotations`.
    fold_annotations: bool,
    /// Current nesting of statements, expressions and patterns.
    depth: u32,
}

impl Folder {
    fn enter(&mut self) -> Result {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(CompileError::too_deep());
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Runs a recursive step (which enters one level deeper) on a fresh stack segment when the
    /// current one runs low: trees as deep as [`MAX_NESTING`] need more than a thread's usual
    /// stack. The stack left is checked every [`STACK_CHECK_LEVELS`] levels.
    fn grow<T>(&mut self, step: impl FnOnce(&mut Self) -> T) -> T {
        if self.depth % STACK_CHECK_LEVELS == 0 {
            stacker::maybe_grow(STACK_RED_ZONE, 4 * 1024 * 1024, || step(self))
        } else {
            step(self)
        }
    }

    /// A module, class or function body: folding must not create a docstring.
    fn body(&mut self, stmts: &mut [Stmt]) -> Result {
        let had_docstring = has_docstring(stmts);
        self.stmts(stmts)?;
        if !had_docstring && has_docstring(stmts) {
            let first = &mut stmts[0];
            if let StmtKind::Expr { value } = &mut first.kind {
                let constant = std::mem::replace(&mut **value, placeholder());
                **value = Expr {
                    loc: first.loc,
                    kind: ExprKind::JoinedStr {
                        values: vec![constant],
                    },
                };
            }
        }
        Ok(())
    }

    fn stmts(&mut self, stmts: &mut [Stmt]) -> Result {
        stmts.iter_mut().try_for_each(|s| self.stmt(s))
    }

    fn exprs(&mut self, exprs: &mut [Expr]) -> Result {
        exprs.iter_mut().try_for_each(|e| self.expr(e))
    }

    fn opt_expr(&mut self, expr: Option<&mut Expr>) -> Result {
        expr.map_or(Ok(()), |e| self.expr(e))
    }

    fn annotation(&mut self, expr: Option<&mut Expr>) -> Result {
        if self.fold_annotations {
            self.opt_expr(expr)?;
        }
        Ok(())
    }

    fn stmt(&mut self, stmt: &mut Stmt) -> Result {
        self.grow(|f| f.stmt_inner(stmt))
    }

    fn stmt_inner(&mut self, stmt: &mut Stmt) -> Result {
        self.enter()?;
        match &mut stmt.kind {
            StmtKind::FunctionDef(def) => {
                self.type_params(&mut def.type_params)?;
                self.arguments(&mut def.args)?;
                self.body(&mut def.body)?;
                self.exprs(&mut def.decorator_list)?;
                self.annotation(def.returns.as_mut())?;
            }
            StmtKind::ClassDef(class) => {
                self.type_params(&mut class.type_params)?;
                self.exprs(&mut class.bases)?;
                for keyword in &mut class.keywords {
                    self.expr(&mut keyword.value)?;
                }
                self.body(&mut class.body)?;
                self.exprs(&mut class.decorator_list)?;
            }
            StmtKind::Return { value } => self.opt_expr(value.as_deref_mut())?,
            StmtKind::Delete { targets } => self.exprs(targets)?,
            StmtKind::Assign { targets, value } => {
                self.exprs(targets)?;
                self.expr(value)?;
            }
            StmtKind::TypeAlias(alias) => {
                self.expr(&mut alias.name)?;
                self.type_params(&mut alias.type_params)?;
                self.expr(&mut alias.value)?;
            }
            StmtKind::AugAssign { target, value, .. } => {
                self.expr(target)?;
                self.expr(value)?;
            }
            StmtKind::AnnAssign {
                target,
                annotation,
                value,
                ..
            } => {
                self.expr(target)?;
                self.annotation(Some(annotation))?;
                self.opt_expr(value.as_deref_mut())?;
            }
            StmtKind::For(for_) => {
                self.expr(&mut for_.target)?;
                self.expr(&mut for_.iter)?;
                self.stmts(&mut for_.body)?;
                self.stmts(&mut for_.orelse)?;
                if !for_.is_async {
                    fold_iter(&mut for_.iter);
                }
            }
            StmtKind::While { test, body, orelse } | StmtKind::If { test, body, orelse } => {
                self.expr(test)?;
                self.stmts(body)?;
                self.stmts(orelse)?;
            }
            StmtKind::With(with) => {
                for item in &mut with.items {
                    self.expr(&mut item.context_expr)?;
                    self.opt_expr(item.optional_vars.as_mut())?;
                }
                self.stmts(&mut with.body)?;
            }
            StmtKind::Match { subject, cases } => {
                self.expr(subject)?;
                for case in cases {
                    self.pattern(&mut case.pattern)?;
                    self.opt_expr(case.guard.as_mut())?;
                    self.stmts(&mut case.body)?;
                }
            }
            StmtKind::Raise { exc, cause } => {
                self.opt_expr(exc.as_deref_mut())?;
                self.opt_expr(cause.as_deref_mut())?;
            }
            StmtKind::Try(try_) => {
                self.stmts(&mut try_.body)?;
                for handler in &mut try_.handlers {
                    self.opt_expr(handler.type_.as_mut())?;
                    self.stmts(&mut handler.body)?;
                }
                self.stmts(&mut try_.orelse)?;
                self.stmts(&mut try_.finalbody)?;
            }
            StmtKind::Assert { test, msg } => {
                self.expr(test)?;
                self.opt_expr(msg.as_deref_mut())?;
            }
            StmtKind::Expr { value } => self.expr(value)?,
            StmtKind::Import { .. }
            | StmtKind::ImportFrom { .. }
            | StmtKind::Global { .. }
            | StmtKind::Nonlocal { .. }
            | StmtKind::Pass
            | StmtKind::Break
            | StmtKind::Continue => {}
        }
        self.leave();
        Ok(())
    }

    fn type_params(&mut self, params: &mut [TypeParam]) -> Result {
        for param in params {
            if let TypeParamKind::TypeVar { bound, .. } = &mut param.kind {
                self.opt_expr(bound.as_deref_mut())?;
            }
        }
        Ok(())
    }

    fn arguments(&mut self, args: &mut Arguments) -> Result {
        let Arguments {
            posonlyargs,
            args: positional,
            vararg,
            kwonlyargs,
            kw_defaults,
            kwarg,
            defaults,
        } = args;
        posonlyargs.iter_mut().try_for_each(|a| self.arg(a))?;
        positional.iter_mut().try_for_each(|a| self.arg(a))?;
        vararg.iter_mut().try_for_each(|a| self.arg(a))?;
        kwonlyargs.iter_mut().try_for_each(|a| self.arg(a))?;
        kw_defaults
            .iter_mut()
            .try_for_each(|d| self.opt_expr(d.as_mut()))?;
        kwarg.iter_mut().try_for_each(|a| self.arg(a))?;
        self.exprs(defaults)
    }

    fn arg(&mut self, arg: &mut Arg) -> Result {
        self.annotation(arg.annotation.as_deref_mut())
    }

    fn comprehensions(&mut self, generators: &mut [Comprehension]) -> Result {
        for generator in generators {
            self.expr(&mut generator.target)?;
            self.expr(&mut generator.iter)?;
            self.exprs(&mut generator.ifs)?;
            fold_iter(&mut generator.iter);
        }
        Ok(())
    }

    fn pattern(&mut self, pattern: &mut Pattern) -> Result {
        self.grow(|f| f.pattern_inner(pattern))
    }

    fn pattern_inner(&mut self, pattern: &mut Pattern) -> Result {
        self.enter()?;
        match &mut pattern.kind {
            PatternKind::MatchValue { value } => self.expr(value)?,
            PatternKind::MatchSingleton { .. } | PatternKind::MatchStar { .. } => {}
            PatternKind::MatchSequence { patterns } | PatternKind::MatchOr { patterns } => {
                self.patterns(patterns)?;
            }
            PatternKind::MatchMapping { keys, patterns, .. } => {
                self.exprs(keys)?;
                self.patterns(patterns)?;
            }
            PatternKind::MatchClass {
                cls,
                patterns,
                kwd_patterns,
                ..
            } => {
                self.expr(cls)?;
                self.patterns(patterns)?;
                self.patterns(kwd_patterns)?;
            }
            PatternKind::MatchAs { pattern, .. } => {
                if let Some(p) = pattern {
                    self.pattern(p)?;
                }
            }
        }
        self.leave();
        Ok(())
    }

    fn patterns(&mut self, patterns: &mut [Pattern]) -> Result {
        patterns.iter_mut().try_for_each(|p| self.pattern(p))
    }

    fn expr(&mut self, expr: &mut Expr) -> Result {
        if is_leaf(expr) {
            // Nothing to fold: only the nesting check of entering it.
            if self.depth >= MAX_NESTING {
                return Err(CompileError::too_deep());
            }
            return Ok(());
        }
        self.grow(|f| f.expr_inner(expr))
    }

    fn expr_inner(&mut self, expr: &mut Expr) -> Result {
        self.enter()?;
        match &mut expr.kind {
            ExprKind::BoolOp { values, .. } => self.exprs(values)?,
            ExprKind::BinOp { left, right, .. } => {
                self.expr(left)?;
                self.expr(right)?;
                fold_binop(expr);
            }
            ExprKind::UnaryOp { operand, .. } => {
                self.expr(operand)?;
                fold_unaryop(expr);
            }
            ExprKind::Lambda { args, body } => {
                self.arguments(args)?;
                self.expr(body)?;
            }
            ExprKind::IfExp { test, body, orelse } => {
                self.expr(test)?;
                self.expr(body)?;
                self.expr(orelse)?;
            }
            ExprKind::Dict { keys, values } => {
                keys.iter_mut()
                    .try_for_each(|k| self.opt_expr(k.as_mut()))?;
                self.exprs(values)?;
            }
            ExprKind::Set { elts } => self.exprs(elts)?,
            ExprKind::ListComp { elt, generators }
            | ExprKind::SetComp { elt, generators }
            | ExprKind::GeneratorExp { elt, generators } => {
                self.expr(elt)?;
                self.comprehensions(generators)?;
            }
            ExprKind::DictComp {
                key,
                value,
                generators,
            } => {
                self.expr(key)?;
                self.expr(value)?;
                self.comprehensions(generators)?;
            }
            ExprKind::Await { value } | ExprKind::YieldFrom { value } => self.expr(value)?,
            ExprKind::Yield { value } => self.opt_expr(value.as_deref_mut())?,
            ExprKind::Compare {
                left,
                ops,
                comparators,
            } => {
                self.expr(left)?;
                self.exprs(comparators)?;
                if let (Some(CmpOp::In | CmpOp::NotIn), Some(last)) =
                    (ops.last(), comparators.last_mut())
                {
                    fold_iter(last);
                }
            }
            ExprKind::Call {
                func,
                args,
                keywords,
            } => {
                self.expr(func)?;
                self.exprs(args)?;
                for keyword in keywords {
                    self.expr(&mut keyword.value)?;
                }
            }
            ExprKind::FormattedValue {
                value, format_spec, ..
            } => {
                self.expr(value)?;
                self.opt_expr(format_spec.as_deref_mut())?;
            }
            ExprKind::JoinedStr { values } => self.exprs(values)?,
            ExprKind::Attribute { value, .. } | ExprKind::Starred { value, .. } => {
                self.expr(value)?
            }
            ExprKind::Subscript { value, slice, .. } => {
                self.expr(value)?;
                self.expr(slice)?;
                fold_subscript(expr);
            }
            ExprKind::Slice { lower, upper, step } => {
                self.opt_expr(lower.as_deref_mut())?;
                self.opt_expr(upper.as_deref_mut())?;
                self.opt_expr(step.as_deref_mut())?;
            }
            ExprKind::List { elts, .. } => self.exprs(elts)?,
            ExprKind::Tuple { elts, .. } => {
                self.exprs(elts)?;
                fold_tuple(expr);
            }
            ExprKind::Name { id, ctx } => {
                if *ctx == crate::ast::ExprContext::Load && &**id == "__debug__" {
                    set_constant(expr, Constant::Bool(self.optimize == 0));
                }
            }
            ExprKind::NamedExpr { value, .. } => self.expr(value)?,
            ExprKind::Constant { .. } => {}
        }
        self.leave();
        Ok(())
    }
}

/// A constant, or a name other than a loaded `__debug__`: folding leaves it as it is.
fn is_leaf(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Constant { .. } => true,
        ExprKind::Name { id, ctx } => *ctx != crate::ast::ExprContext::Load || &**id != "__debug__",
        _ => false,
    }
}

/// Whether the first statement is a string constant (`_PyAST_GetDocString`).
fn has_docstring(stmts: &[Stmt]) -> bool {
    matches!(
        stmts.first().map(|s| &s.kind),
        Some(StmtKind::Expr { value }) if matches!(
            value.kind,
            ExprKind::Constant { value: Constant::Str(_), .. }
        )
    )
}

/// A cheap value to leave behind while a node is moved.
fn placeholder() -> Expr {
    Expr {
        loc: Default::default(),
        kind: ExprKind::Constant {
            value: Constant::None,
            kind_u: false,
        },
    }
}

/// Turns the node into a constant, keeping its position (`make_const`).
fn set_constant(expr: &mut Expr, value: Constant) {
    expr.kind = ExprKind::Constant {
        value,
        kind_u: false,
    };
}

fn constant(expr: &Expr) -> Option<&Constant> {
    match &expr.kind {
        ExprKind::Constant { value, .. } => Some(value),
        _ => None,
    }
}

/// `fold_unaryop`.
fn fold_unaryop(expr: &mut Expr) {
    let ExprKind::UnaryOp { op, operand } = &mut expr.kind else {
        return;
    };
    if let Some(value) = constant(operand) {
        if let Some(folded) = ops::unary(*op, value) {
            set_constant(expr, folded);
        }
        return;
    }
    // `not` of a single `is`, `is not`, `in` or `not in` comparison inverts it; the node takes
    // the comparison's place and position.
    let ExprKind::Compare { ops, .. } = &mut operand.kind else {
        return;
    };
    if *op != UnaryOp::Not || ops.len() != 1 {
        return;
    }
    let inverse = match ops[0] {
        CmpOp::Is => CmpOp::IsNot,
        CmpOp::IsNot => CmpOp::Is,
        CmpOp::In => CmpOp::NotIn,
        CmpOp::NotIn => CmpOp::In,
        _ => return,
    };
    ops[0] = inverse;
    *expr = std::mem::replace(&mut **operand, placeholder());
}

/// `fold_binop`.
fn fold_binop(expr: &mut Expr) {
    let ExprKind::BinOp { left, op, right } = &expr.kind else {
        return;
    };
    let Some(lv) = constant(left) else {
        return;
    };
    if let (crate::ast::Operator::Mod, Constant::Str(fmt), ExprKind::Tuple { elts, .. }) =
        (op, lv, &right.kind)
    {
        if let Some(joined) = format::to_fstring(fmt, elts, expr.loc) {
            *expr = joined;
        }
        return;
    }
    let Some(rv) = constant(right) else {
        return;
    };
    if let Some(folded) = ops::binary(*op, lv, rv) {
        set_constant(expr, folded);
    }
}

/// The constant values of `elts`, if all are constants (`make_const_tuple`).
fn constants(elts: &[Expr]) -> Option<Vec<Constant>> {
    elts.iter().map(|e| constant(e).cloned()).collect()
}

/// `fold_tuple`: a loaded tuple of constants is a constant.
fn fold_tuple(expr: &mut Expr) {
    if let ExprKind::Tuple {
        elts,
        ctx: crate::ast::ExprContext::Load,
    } = &expr.kind
    {
        if let Some(values) = constants(elts) {
            set_constant(expr, Constant::Tuple(values));
        }
    }
}

/// `fold_subscr`.
fn fold_subscript(expr: &mut Expr) {
    let ExprKind::Subscript {
        value,
        slice,
        ctx: crate::ast::ExprContext::Load,
    } = &expr.kind
    else {
        return;
    };
    if let (Some(v), Some(i)) = (constant(value), constant(slice)) {
        if let Some(folded) = ops::subscript(v, i) {
            set_constant(expr, folded);
        }
    }
}

/// `fold_iter`: a list to be iterated becomes a tuple (unless it has a starred item), and a
/// list or set of constants a constant tuple or frozenset.
fn fold_iter(expr: &mut Expr) {
    match &mut expr.kind {
        ExprKind::List { elts, ctx } => {
            if elts
                .iter()
                .any(|e| matches!(e.kind, ExprKind::Starred { .. }))
            {
                return;
            }
            match constants(elts) {
                Some(values) => set_constant(expr, Constant::Tuple(values)),
                None => {
                    expr.kind = ExprKind::Tuple {
                        elts: std::mem::take(elts),
                        ctx: *ctx,
                    }
                }
            }
        }
        ExprKind::Set { elts } => {
            if let Some(values) = constants(elts) {
                set_constant(expr, ops::frozenset(values));
            }
        }
        _ => {}
    }
}
