//! Statements: bodies and docstrings, assignments, control flow, imports, `assert`, `raise`.

use pyc_loader::marshal::{Int, Object, Str};

use super::unit::FBlockKind;
use super::{loc, CResult, Compiler, ScopeType, NO_LOC};
use crate::ast::{Alias, Constant, Expr, ExprContext, ExprKind, For, Operator, Stmt, StmtKind};
use crate::ir::{Location, Opcode};

/// `CALL_INTRINSIC_1` operands.
pub(crate) mod intrinsic1 {
    pub const PRINT: u32 = 1;
    pub const IMPORT_STAR: u32 = 2;
    pub const STOPITERATION_ERROR: u32 = 3;
    pub const ASYNC_GEN_WRAP: u32 = 4;
    pub const UNARY_POSITIVE: u32 = 5;
    pub const LIST_TO_TUPLE: u32 = 6;
    pub const TYPEVAR: u32 = 7;
    pub const PARAMSPEC: u32 = 8;
    pub const TYPEVARTUPLE: u32 = 9;
    pub const SUBSCRIPT_GENERIC: u32 = 10;
    pub const TYPEALIAS: u32 = 11;
}

/// `CALL_INTRINSIC_2` operands.
pub(crate) mod intrinsic2 {
    pub const PREP_RERAISE_STAR: u32 = 1;
    pub const TYPEVAR_WITH_BOUND: u32 = 2;
    pub const TYPEVAR_WITH_CONSTRAINTS: u32 = 3;
    pub const SET_FUNCTION_TYPE_PARAMS: u32 = 4;
}

/// Whether a body (not counting nested scopes) holds an annotated assignment (`find_ann`).
pub(crate) fn find_ann(stmts: &[Stmt]) -> bool {
    stmts.iter().any(|st| match &st.kind {
        StmtKind::AnnAssign { .. } => true,
        StmtKind::For(f) => find_ann(&f.body) || find_ann(&f.orelse),
        StmtKind::While { body, orelse, .. } | StmtKind::If { body, orelse, .. } => {
            find_ann(body) || find_ann(orelse)
        }
        StmtKind::With(w) => find_ann(&w.body),
        StmtKind::Try(t) => {
            t.handlers.iter().any(|h| find_ann(&h.body))
                || find_ann(&t.body)
                || find_ann(&t.finalbody)
                || find_ann(&t.orelse)
        }
        StmtKind::Match { cases, .. } => cases.iter().any(|c| find_ann(&c.body)),
        _ => false,
    })
}

/// The docstring of a body: its first statement when that is a string constant.
pub(crate) fn docstring(body: &[Stmt]) -> Option<&Str> {
    match &body.first()?.kind {
        StmtKind::Expr { value } => match &value.kind {
            ExprKind::Constant {
                value: Constant::Str(s),
                ..
            } => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// The `BINARY_OP` operand of an operator (`NB_*`).
pub(crate) fn binop_arg(op: Operator, inplace: bool) -> u32 {
    let base = match op {
        Operator::Add => 0,
        Operator::BitAnd => 1,
        Operator::FloorDiv => 2,
        Operator::LShift => 3,
        Operator::MatMult => 4,
        Operator::Mult => 5,
        Operator::Mod => 6,
        Operator::BitOr => 7,
        Operator::Pow => 8,
        Operator::RShift => 9,
        Operator::Sub => 10,
        Operator::Div => 11,
        Operator::BitXor => 12,
    };
    if inplace {
        base + 13
    } else {
        base
    }
}

impl<'a> Compiler<'a> {
    /// A module or class body, with `SETUP_ANNOTATIONS` and the docstring (`compiler_body`).
    pub(crate) fn body(&mut self, mut at: Location, stmts: &'a [Stmt]) -> CResult {
        if self.u().scope_type == ScopeType::Module {
            if let Some(first) = stmts.first() {
                at = loc(first.loc);
            }
        }
        if find_ann(stmts) {
            self.emit(Opcode::SETUP_ANNOTATIONS, 0, at);
        }
        if stmts.is_empty() {
            return Ok(());
        }
        let mut rest = stmts;
        if self.options.optimize < 2 && docstring(stmts).is_some() {
            let StmtKind::Expr { value } = &stmts[0].kind else {
                unreachable!("docstring() checked the kind")
            };
            self.visit_expr(value)?;
            self.nameop(NO_LOC, "__doc__", ExprContext::Store)?;
            rest = &stmts[1..];
        }
        for s in rest {
            self.visit_stmt(s)?;
        }
        Ok(())
    }

    pub(crate) fn visit_stmts(&mut self, stmts: &'a [Stmt]) -> CResult {
        for s in stmts {
            self.visit_stmt(s)?;
        }
        Ok(())
    }

    /// One statement (`compiler_visit_stmt`).
    pub(crate) fn visit_stmt(&mut self, s: &'a Stmt) -> CResult {
        let at = loc(s.loc);
        self.enter_nested(at)?;
        let result = self.guarded(|c| c.visit_stmt_inner(s, at));
        self.depth -= 1;
        result
    }

    fn visit_stmt_inner(&mut self, s: &'a Stmt, at: Location) -> CResult {
        match &s.kind {
            StmtKind::FunctionDef(f) => self.function_def(s, f),
            StmtKind::ClassDef(c) => self.class_def(s, c),
            StmtKind::TypeAlias(t) => self.type_alias(s, t),
            StmtKind::Return { value } => self.return_stmt(at, value.as_deref()),
            StmtKind::Delete { targets } => {
                for t in targets {
                    self.visit_expr(t)?;
                }
                Ok(())
            }
            StmtKind::Assign { targets, value } => {
                self.visit_expr(value)?;
                for (i, t) in targets.iter().enumerate() {
                    if i + 1 < targets.len() {
                        self.emit(Opcode::COPY, 1, at);
                    }
                    self.visit_expr(t)?;
                }
                Ok(())
            }
            StmtKind::AugAssign { target, op, value } => self.aug_assign(at, target, *op, value),
            StmtKind::AnnAssign {
                target,
                annotation,
                value,
                simple,
            } => self.ann_assign(at, target, annotation, value.as_deref(), *simple),
            StmtKind::For(f) => {
                if f.is_async {
                    self.async_for(at, f)
                } else {
                    self.for_stmt(at, f)
                }
            }
            StmtKind::While { test, body, orelse } => self.while_stmt(at, test, body, orelse),
            StmtKind::If { test, body, orelse } => {
                let end = self.new_label();
                let next = if orelse.is_empty() {
                    end
                } else {
                    self.new_label()
                };
                self.jump_if(test, next, false)?;
                self.visit_stmts(body)?;
                if !orelse.is_empty() {
                    self.emit_jump(Opcode::JUMP, end, NO_LOC);
                    self.bind(next);
                    self.visit_stmts(orelse)?;
                }
                self.bind(end);
                Ok(())
            }
            StmtKind::With(w) => {
                if w.is_async {
                    self.async_with(s, w, 0)
                } else {
                    self.with(s, w, 0)
                }
            }
            StmtKind::Match { subject, cases } => self.match_stmt(subject, cases),
            StmtKind::Raise { exc, cause } => {
                let mut n = 0;
                if let Some(exc) = exc {
                    self.visit_expr(exc)?;
                    n += 1;
                    if let Some(cause) = cause {
                        self.visit_expr(cause)?;
                        n += 1;
                    }
                }
                self.emit(Opcode::RAISE_VARARGS, n, at);
                Ok(())
            }
            StmtKind::Try(t) => {
                if !t.finalbody.is_empty() {
                    self.try_finally(at, t)
                } else if t.is_star {
                    self.try_star_except(at, t)
                } else {
                    self.try_except(at, t)
                }
            }
            StmtKind::Assert { test, msg } => self.assert_stmt(at, test, msg.as_deref()),
            StmtKind::Import { names } => self.import(at, names),
            StmtKind::ImportFrom {
                module,
                names,
                level,
            } => self.import_from(at, module.as_deref(), names, *level),
            StmtKind::Global { .. } | StmtKind::Nonlocal { .. } => Ok(()),
            StmtKind::Expr { value } => self.expr_stmt(at, value),
            StmtKind::Pass => {
                self.emit(Opcode::NOP, 0, at);
                Ok(())
            }
            StmtKind::Break => self.break_stmt(at),
            StmtKind::Continue => self.continue_stmt(at),
        }
    }

    fn expr_stmt(&mut self, at: Location, value: &Expr) -> CResult {
        if self.interactive && self.stack.is_empty() {
            self.visit_expr(value)?;
            self.emit(Opcode::CALL_INTRINSIC_1, intrinsic1::PRINT, at);
            self.emit(Opcode::POP_TOP, 0, NO_LOC);
            return Ok(());
        }
        if matches!(value.kind, ExprKind::Constant { .. }) {
            self.emit(Opcode::NOP, 0, at);
            return Ok(());
        }
        self.visit_expr(value)?;
        self.emit(Opcode::POP_TOP, 0, NO_LOC);
        Ok(())
    }

    fn return_stmt(&mut self, at: Location, value: Option<&Expr>) -> CResult {
        let mut l = at;
        let preserve_tos = value.is_some_and(|v| !matches!(v.kind, ExprKind::Constant { .. }));
        if !self.u().is_function_like() {
            return Err(self.error(at, "'return' outside function"));
        }
        let block = self.u().block;
        if value.is_some() && block.coroutine && block.generator {
            return Err(self.error(at, "'return' with value in async generator"));
        }
        if preserve_tos {
            self.visit_expr(value.expect("preserve_tos implies a value"))?;
        } else if let Some(v) = value {
            l = loc(v.loc);
            self.emit(Opcode::NOP, 0, l);
        }
        if value.is_none_or(|v| v.loc.lineno != (at.lineno as u32)) {
            l = at;
            self.emit(Opcode::NOP, 0, l);
        }
        self.unwind_fblock_stack(&mut l, preserve_tos, false)?;
        match value {
            None => self.load_const(Object::None, l),
            Some(v) if !preserve_tos => {
                let ExprKind::Constant { value: c, .. } = &v.kind else {
                    unreachable!("not preserve_tos means a constant")
                };
                self.load_const(super::unit::const_object(c), l);
            }
            Some(_) => {}
        }
        self.emit(Opcode::RETURN_VALUE, 0, l);
        Ok(())
    }

    fn break_stmt(&mut self, at: Location) -> CResult {
        let mut l = at;
        self.emit(Opcode::NOP, 0, l);
        let Some(lp) = self.unwind_fblock_stack(&mut l, false, true)? else {
            return Err(self.error(at, "'break' outside loop"));
        };
        self.unwind_fblock(&mut l, lp, false)?;
        self.emit_jump(Opcode::JUMP, lp.exit.expect("loops have an exit"), l);
        Ok(())
    }

    fn continue_stmt(&mut self, at: Location) -> CResult {
        let mut l = at;
        self.emit(Opcode::NOP, 0, l);
        let Some(lp) = self.unwind_fblock_stack(&mut l, false, true)? else {
            return Err(self.error(at, "'continue' not properly in loop"));
        };
        self.emit_jump(Opcode::JUMP, lp.block.expect("loops have a start"), l);
        Ok(())
    }

    fn while_stmt(
        &mut self,
        at: Location,
        test: &Expr,
        body: &'a [Stmt],
        orelse: &'a [Stmt],
    ) -> CResult {
        let lp = self.new_label();
        let body_label = self.new_label();
        let anchor = self.new_label();
        let exit = self.new_label();
        self.bind(lp);
        self.push_fblock(at, FBlockKind::WhileLoop, Some(lp), Some(exit))?;
        self.jump_if(test, anchor, false)?;
        self.bind(body_label);
        self.visit_stmts(body)?;
        self.jump_if(test, body_label, true)?;
        self.pop_fblock();
        self.bind(anchor);
        self.visit_stmts(orelse)?;
        self.bind(exit);
        Ok(())
    }

    fn for_stmt(&mut self, at: Location, f: &'a For) -> CResult {
        let start = self.new_label();
        let body = self.new_label();
        let cleanup = self.new_label();
        let end = self.new_label();
        self.push_fblock(at, FBlockKind::ForLoop, Some(start), Some(end))?;
        self.visit_expr(&f.iter)?;
        self.emit(Opcode::GET_ITER, 0, at);
        self.bind(start);
        self.emit_jump(Opcode::FOR_ITER, cleanup, at);
        self.bind(body);
        self.visit_expr(&f.target)?;
        self.visit_stmts(&f.body)?;
        self.emit_jump(Opcode::JUMP, start, NO_LOC);
        self.bind(cleanup);
        self.emit(Opcode::END_FOR, 0, NO_LOC);
        self.pop_fblock();
        self.visit_stmts(&f.orelse)?;
        self.bind(end);
        Ok(())
    }

    fn async_for(&mut self, at: Location, f: &'a For) -> CResult {
        if self.u().scope_type != ScopeType::AsyncFunction {
            return Err(self.error(at, "'async for' outside async function"));
        }
        let start = self.new_label();
        let except = self.new_label();
        let end = self.new_label();
        self.visit_expr(&f.iter)?;
        self.emit(Opcode::GET_AITER, 0, at);
        self.bind(start);
        self.push_fblock(at, FBlockKind::ForLoop, Some(start), Some(end))?;
        self.emit_jump(Opcode::SETUP_FINALLY, except, at);
        self.emit(Opcode::GET_ANEXT, 0, at);
        self.load_const(Object::None, at);
        self.yield_from(at, true);
        self.emit(Opcode::POP_BLOCK, 0, at);
        self.visit_expr(&f.target)?;
        self.visit_stmts(&f.body)?;
        self.emit_jump(Opcode::JUMP, start, NO_LOC);
        self.pop_fblock();
        self.bind(except);
        self.emit(Opcode::END_ASYNC_FOR, 0, loc(f.iter.loc));
        self.visit_stmts(&f.orelse)?;
        self.bind(end);
        Ok(())
    }

    /// The `SEND` loop of `await`, `yield from` and the async protocols
    /// (`compiler_add_yield_from`).
    pub(crate) fn yield_from(&mut self, at: Location, is_await: bool) {
        let send = self.new_label();
        let fail = self.new_label();
        let exit = self.new_label();
        self.bind(send);
        self.emit_jump(Opcode::SEND, exit, at);
        self.emit_jump(Opcode::SETUP_FINALLY, fail, at);
        self.emit(Opcode::YIELD_VALUE, 0, at);
        self.emit(Opcode::POP_BLOCK, 0, NO_LOC);
        self.emit(Opcode::RESUME, if is_await { 3 } else { 2 }, at);
        self.emit_jump(Opcode::JUMP_NO_INTERRUPT, send, at);
        self.bind(fail);
        self.emit(Opcode::CLEANUP_THROW, 0, at);
        self.bind(exit);
        self.emit(Opcode::END_SEND, 0, at);
    }

    fn aug_assign(&mut self, at: Location, target: &Expr, op: Operator, value: &Expr) -> CResult {
        let tloc = loc(target.loc);
        match &target.kind {
            ExprKind::Attribute {
                value: obj, attr, ..
            } => {
                self.visit_expr(obj)?;
                self.emit(Opcode::COPY, 1, tloc);
                let l = super::expr::attr_loc(tloc, target, attr);
                self.emit_name(Opcode::LOAD_ATTR, attr, l);
            }
            ExprKind::Subscript {
                value: obj, slice, ..
            } => {
                self.visit_expr(obj)?;
                if super::expr::is_two_element_slice(slice) {
                    self.slice_parts(slice)?;
                    self.emit(Opcode::COPY, 3, tloc);
                    self.emit(Opcode::COPY, 3, tloc);
                    self.emit(Opcode::COPY, 3, tloc);
                    self.emit(Opcode::BINARY_SLICE, 0, tloc);
                } else {
                    self.visit_expr(slice)?;
                    self.emit(Opcode::COPY, 2, tloc);
                    self.emit(Opcode::COPY, 2, tloc);
                    self.emit(Opcode::BINARY_SUBSCR, 0, tloc);
                }
            }
            ExprKind::Name { id, .. } => self.nameop(tloc, id, ExprContext::Load)?,
            _ => return Err(self.error(tloc, "invalid node type for augmented assignment")),
        }
        self.visit_expr(value)?;
        self.emit(Opcode::BINARY_OP, binop_arg(op, true), at);
        match &target.kind {
            ExprKind::Attribute { attr, .. } => {
                let l = super::expr::attr_loc(tloc, target, attr);
                self.emit(Opcode::SWAP, 2, l);
                self.emit_name(Opcode::STORE_ATTR, attr, l);
            }
            ExprKind::Subscript { slice, .. } => {
                if super::expr::is_two_element_slice(slice) {
                    self.emit(Opcode::SWAP, 4, tloc);
                    self.emit(Opcode::SWAP, 3, tloc);
                    self.emit(Opcode::SWAP, 2, tloc);
                    self.emit(Opcode::STORE_SLICE, 0, tloc);
                } else {
                    self.emit(Opcode::SWAP, 3, tloc);
                    self.emit(Opcode::SWAP, 2, tloc);
                    self.emit(Opcode::STORE_SUBSCR, 0, tloc);
                }
            }
            ExprKind::Name { id, .. } => self.nameop(tloc, id, ExprContext::Store)?,
            _ => unreachable!("checked above"),
        }
        Ok(())
    }

    fn ann_assign(
        &mut self,
        at: Location,
        target: &Expr,
        annotation: &Expr,
        value: Option<&Expr>,
        simple: bool,
    ) -> CResult {
        if let Some(v) = value {
            self.visit_expr(v)?;
            self.visit_expr(target)?;
        }
        match &target.kind {
            ExprKind::Name { id, .. } => {
                if &**id == "__debug__" {
                    return Err(self.error(at, "cannot assign to __debug__"));
                }
                let st = self.u().scope_type;
                if simple && matches!(st, ScopeType::Module | ScopeType::Class) {
                    self.annotation_value(annotation)?;
                    self.emit_name(Opcode::LOAD_NAME, "__annotations__", at);
                    let mangled = self.mangle(id);
                    self.load_const(Object::Str(Str::new(&mangled, false)), at);
                    self.emit(Opcode::STORE_SUBSCR, 0, at);
                }
            }
            ExprKind::Attribute {
                value: obj, attr, ..
            } => {
                if &**attr == "__debug__" {
                    return Err(self.error(at, "cannot assign to __debug__"));
                }
                if value.is_none() {
                    self.check_ann_expr(obj)?;
                }
            }
            ExprKind::Subscript {
                value: obj, slice, ..
            } => {
                if value.is_none() {
                    self.check_ann_expr(obj)?;
                    self.check_ann_subscr(slice)?;
                }
            }
            _ => return Err(self.error(at, "invalid node type for annotated assignment")),
        }
        if !simple && !self.future.annotations() {
            let st = self.u().scope_type;
            if matches!(st, ScopeType::Module | ScopeType::Class) {
                self.check_ann_expr(annotation)?;
            }
        }
        Ok(())
    }

    /// An annotation's value: the expression, or its source text under
    /// `from __future__ import annotations`.
    pub(crate) fn annotation_value(&mut self, annotation: &Expr) -> CResult {
        if self.future.annotations() {
            let text = crate::unparse::unparse_annotation(annotation);
            self.load_const(Object::Str(Str::new(&text, false)), loc(annotation.loc));
            Ok(())
        } else {
            self.visit_expr(annotation)
        }
    }

    fn check_ann_expr(&mut self, e: &Expr) -> CResult {
        self.visit_expr(e)?;
        self.emit(Opcode::POP_TOP, 0, loc(e.loc));
        Ok(())
    }

    fn check_ann_subscr(&mut self, e: &Expr) -> CResult {
        match &e.kind {
            ExprKind::Slice { lower, upper, step } => {
                for part in [lower, upper, step].into_iter().flatten() {
                    self.check_ann_expr(part)?;
                }
                Ok(())
            }
            ExprKind::Tuple { elts, .. } => {
                for elt in elts {
                    self.check_ann_subscr(elt)?;
                }
                Ok(())
            }
            _ => self.check_ann_expr(e),
        }
    }

    fn assert_stmt(&mut self, at: Location, test: &Expr, msg: Option<&Expr>) -> CResult {
        let always_true = match &test.kind {
            ExprKind::Tuple { elts, .. } => !elts.is_empty(),
            ExprKind::Constant {
                value: Constant::Tuple(items),
                ..
            } => !items.is_empty(),
            _ => false,
        };
        if always_true {
            self.warn(at, "assertion is always true, perhaps remove parentheses?");
        }
        if self.options.optimize > 0 {
            return Ok(());
        }
        let end = self.new_label();
        self.jump_if(test, end, true)?;
        self.emit(Opcode::LOAD_ASSERTION_ERROR, 0, at);
        if let Some(m) = msg {
            self.visit_expr(m)?;
            self.emit(Opcode::CALL, 0, at);
        }
        self.emit(Opcode::RAISE_VARARGS, 1, at);
        self.bind(end);
        Ok(())
    }

    fn import(&mut self, at: Location, names: &[Alias]) -> CResult {
        for alias in names {
            self.load_const(Object::Int(Int::Small(0)), at);
            self.load_const(Object::None, at);
            self.emit_name(Opcode::IMPORT_NAME, &alias.name, at);
            let name: &str = &alias.name;
            if let Some(asname) = &alias.asname {
                if let Some(dot) = name.find('.') {
                    let parts: Vec<&str> = name[dot + 1..].split('.').collect();
                    for (i, attr) in parts.iter().enumerate() {
                        let arg = self.name_index(super::names::NameTable::Names, attr);
                        self.emit(Opcode::IMPORT_FROM, arg, at);
                        if i + 1 < parts.len() {
                            self.emit(Opcode::SWAP, 2, at);
                            self.emit(Opcode::POP_TOP, 0, at);
                        }
                    }
                    self.nameop(at, asname, ExprContext::Store)?;
                    self.emit(Opcode::POP_TOP, 0, at);
                } else {
                    self.nameop(at, asname, ExprContext::Store)?;
                }
            } else {
                let first = name.split('.').next().unwrap_or(name);
                self.nameop(at, first, ExprContext::Store)?;
            }
        }
        Ok(())
    }

    fn import_from(
        &mut self,
        at: Location,
        module: Option<&str>,
        names: &[Alias],
        level: u32,
    ) -> CResult {
        self.load_const(Object::Int(Int::Small(level.into())), at);
        let tuple: Vec<Object> = names
            .iter()
            .map(|a| Object::Str(Str::new(&a.name, true)))
            .collect();
        if module == Some("__future__")
            && level == 0
            && (self.future.lineno == 0 || at.lineno > self.future.lineno as i32)
        {
            return Err(self.error(
                at,
                "from __future__ imports must occur at the beginning of the file",
            ));
        }
        self.load_const(Object::Tuple(tuple.into()), at);
        self.emit_name(Opcode::IMPORT_NAME, module.unwrap_or(""), at);
        for (i, alias) in names.iter().enumerate() {
            if i == 0 && alias.name.starts_with('*') {
                self.emit(Opcode::CALL_INTRINSIC_1, intrinsic1::IMPORT_STAR, at);
                self.emit(Opcode::POP_TOP, 0, NO_LOC);
                return Ok(());
            }
            self.emit_name(Opcode::IMPORT_FROM, &alias.name, at);
            let store = alias.asname.as_deref().unwrap_or(&alias.name);
            self.nameop(at, store, ExprContext::Store)?;
        }
        self.emit(Opcode::POP_TOP, 0, at);
        Ok(())
    }
}
