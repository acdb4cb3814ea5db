//! `try`/`except`/`except*`/`finally`, `with`/`async with`, and unwinding the block stack when
//! `return`, `break` or `continue` leaves them.

use pyc_loader::marshal::Object;

use super::stmt::intrinsic2;
use super::unit::{FBlock, FBlockKind};
use super::{loc, CResult, Compiler, NO_LOC};
use crate::ast::{ExprContext, Stmt, Try, With};
use crate::ir::{Label, Location, Opcode};

impl<'a> Compiler<'a> {
    /// Emits what leaving one block needs (`compiler_unwind_fblock`).
    pub(crate) fn unwind_fblock(
        &mut self,
        l: &mut Location,
        info: FBlock<'a>,
        preserve_tos: bool,
    ) -> CResult {
        match info.kind {
            FBlockKind::WhileLoop
            | FBlockKind::ExceptionHandler
            | FBlockKind::ExceptionGroupHandler
            | FBlockKind::AsyncComprehensionGenerator => {}
            FBlockKind::ForLoop => {
                if preserve_tos {
                    self.emit(Opcode::SWAP, 2, *l);
                }
                self.emit(Opcode::POP_TOP, 0, *l);
            }
            FBlockKind::TryExcept => self.emit(Opcode::POP_BLOCK, 0, *l),
            FBlockKind::FinallyTry(finalbody) => {
                self.emit(Opcode::POP_BLOCK, 0, *l);
                if preserve_tos {
                    self.push_fblock(*l, FBlockKind::PopValue, None, None)?;
                }
                self.visit_stmts(finalbody)?;
                if preserve_tos {
                    self.pop_fblock();
                }
                *l = NO_LOC;
            }
            FBlockKind::FinallyEnd => {
                if preserve_tos {
                    self.emit(Opcode::SWAP, 2, *l);
                }
                self.emit(Opcode::POP_TOP, 0, *l);
                if preserve_tos {
                    self.emit(Opcode::SWAP, 2, *l);
                }
                self.emit(Opcode::POP_BLOCK, 0, *l);
                self.emit(Opcode::POP_EXCEPT, 0, *l);
            }
            FBlockKind::With(at) | FBlockKind::AsyncWith(at) => {
                *l = at;
                self.emit(Opcode::POP_BLOCK, 0, *l);
                if preserve_tos {
                    self.emit(Opcode::SWAP, 2, *l);
                }
                self.call_exit_with_nones(*l);
                if matches!(info.kind, FBlockKind::AsyncWith(_)) {
                    self.emit(Opcode::GET_AWAITABLE, 2, *l);
                    self.load_const(Object::None, *l);
                    self.yield_from(*l, true);
                }
                self.emit(Opcode::POP_TOP, 0, *l);
                *l = NO_LOC;
            }
            FBlockKind::HandlerCleanup(name) => {
                if name.is_some() {
                    self.emit(Opcode::POP_BLOCK, 0, *l);
                }
                if preserve_tos {
                    self.emit(Opcode::SWAP, 2, *l);
                }
                self.emit(Opcode::POP_BLOCK, 0, *l);
                self.emit(Opcode::POP_EXCEPT, 0, *l);
                if let Some(name) = name {
                    self.load_const(Object::None, *l);
                    self.nameop(*l, name, ExprContext::Store)?;
                    self.nameop(*l, name, ExprContext::Del)?;
                }
            }
            FBlockKind::PopValue => {
                if preserve_tos {
                    self.emit(Opcode::SWAP, 2, *l);
                }
                self.emit(Opcode::POP_TOP, 0, *l);
            }
        }
        Ok(())
    }

    /// Unwinds the block stack up to the innermost loop (when `to_loop`) or entirely, and
    /// returns that loop (`compiler_unwind_fblock_stack`).
    pub(crate) fn unwind_fblock_stack(
        &mut self,
        l: &mut Location,
        preserve_tos: bool,
        to_loop: bool,
    ) -> CResult<Option<FBlock<'a>>> {
        let Some(&top) = self.u().fblocks.last() else {
            return Ok(None);
        };
        if matches!(top.kind, FBlockKind::ExceptionGroupHandler) {
            return Err(self.error(
                *l,
                "'break', 'continue' and 'return' cannot appear in an except* block",
            ));
        }
        if to_loop && matches!(top.kind, FBlockKind::WhileLoop | FBlockKind::ForLoop) {
            return Ok(Some(top));
        }
        self.u_mut().fblocks.pop();
        self.unwind_fblock(l, top, preserve_tos)?;
        let found = self.unwind_fblock_stack(l, preserve_tos, to_loop)?;
        self.u_mut().fblocks.push(top);
        Ok(found)
    }

    fn call_exit_with_nones(&mut self, l: Location) {
        self.load_const(Object::None, l);
        self.load_const(Object::None, l);
        self.load_const(Object::None, l);
        self.emit(Opcode::CALL, 2, l);
    }

    fn pop_except_and_reraise(&mut self, l: Location) {
        self.emit(Opcode::COPY, 3, l);
        self.emit(Opcode::POP_EXCEPT, 0, l);
        self.emit(Opcode::RERAISE, 1, l);
    }

    /// `try` with a `finally` (`compiler_try_finally`, `compiler_try_star_finally`).
    pub(crate) fn try_finally(&mut self, at: Location, t: &'a Try) -> CResult {
        let body = self.new_label();
        let end = self.new_label();
        let exit = self.new_label();
        let cleanup = self.new_label();
        self.emit_jump(Opcode::SETUP_FINALLY, end, at);
        self.bind(body);
        self.push_fblock(
            at,
            FBlockKind::FinallyTry(&t.finalbody),
            Some(body),
            Some(end),
        )?;
        if !t.handlers.is_empty() {
            if t.is_star {
                self.try_star_except(at, t)?;
            } else {
                self.try_except(at, t)?;
            }
        } else {
            self.visit_stmts(&t.body)?;
        }
        self.emit(Opcode::POP_BLOCK, 0, NO_LOC);
        self.pop_fblock();
        self.visit_stmts(&t.finalbody)?;
        self.emit_jump(Opcode::JUMP, exit, NO_LOC);
        self.bind(end);
        self.emit_jump(Opcode::SETUP_CLEANUP, cleanup, NO_LOC);
        self.emit(Opcode::PUSH_EXC_INFO, 0, NO_LOC);
        self.push_fblock(NO_LOC, FBlockKind::FinallyEnd, Some(end), None)?;
        self.visit_stmts(&t.finalbody)?;
        self.pop_fblock();
        self.emit(Opcode::RERAISE, 0, NO_LOC);
        self.bind(cleanup);
        self.pop_except_and_reraise(NO_LOC);
        self.bind(exit);
        Ok(())
    }

    /// `try`/`except` (`compiler_try_except`).
    pub(crate) fn try_except(&mut self, at: Location, t: &'a Try) -> CResult {
        let body = self.new_label();
        let mut except = self.new_label();
        let end = self.new_label();
        let cleanup = self.new_label();
        self.emit_jump(Opcode::SETUP_FINALLY, except, at);
        self.bind(body);
        self.push_fblock(at, FBlockKind::TryExcept, Some(body), None)?;
        self.visit_stmts(&t.body)?;
        self.pop_fblock();
        self.emit(Opcode::POP_BLOCK, 0, NO_LOC);
        self.visit_stmts(&t.orelse)?;
        self.emit_jump(Opcode::JUMP, end, NO_LOC);
        self.bind(except);
        self.emit_jump(Opcode::SETUP_CLEANUP, cleanup, NO_LOC);
        self.emit(Opcode::PUSH_EXC_INFO, 0, NO_LOC);
        self.push_fblock(at, FBlockKind::ExceptionHandler, None, None)?;
        let n = t.handlers.len();
        for (i, handler) in t.handlers.iter().enumerate() {
            let hloc = loc(handler.loc);
            if handler.type_.is_none() && i + 1 < n {
                return Err(self.error(hloc, "default 'except:' must be last"));
            }
            except = self.new_label();
            if let Some(ty) = &handler.type_ {
                self.visit_expr(ty)?;
                self.emit(Opcode::CHECK_EXC_MATCH, 0, hloc);
                self.emit_jump(Opcode::POP_JUMP_IF_FALSE, except, hloc);
            }
            if let Some(name) = handler.name.as_deref() {
                let cleanup_end = self.new_label();
                let cleanup_body = self.new_label();
                self.nameop(hloc, name, ExprContext::Store)?;
                self.emit_jump(Opcode::SETUP_CLEANUP, cleanup_end, hloc);
                self.bind(cleanup_body);
                self.push_fblock(
                    hloc,
                    FBlockKind::HandlerCleanup(Some(name)),
                    Some(cleanup_body),
                    None,
                )?;
                self.visit_stmts(&handler.body)?;
                self.pop_fblock();
                self.emit(Opcode::POP_BLOCK, 0, NO_LOC);
                self.emit(Opcode::POP_BLOCK, 0, NO_LOC);
                self.emit(Opcode::POP_EXCEPT, 0, NO_LOC);
                self.clear_name(name)?;
                self.emit_jump(Opcode::JUMP, end, NO_LOC);
                self.bind(cleanup_end);
                self.clear_name(name)?;
                self.emit(Opcode::RERAISE, 1, NO_LOC);
            } else {
                let cleanup_body = self.new_label();
                self.emit(Opcode::POP_TOP, 0, hloc);
                self.bind(cleanup_body);
                self.push_fblock(
                    hloc,
                    FBlockKind::HandlerCleanup(None),
                    Some(cleanup_body),
                    None,
                )?;
                self.visit_stmts(&handler.body)?;
                self.pop_fblock();
                self.emit(Opcode::POP_BLOCK, 0, NO_LOC);
                self.emit(Opcode::POP_EXCEPT, 0, NO_LOC);
                self.emit_jump(Opcode::JUMP, end, NO_LOC);
            }
            self.bind(except);
        }
        self.pop_fblock();
        self.emit(Opcode::RERAISE, 0, NO_LOC);
        self.bind(cleanup);
        self.pop_except_and_reraise(NO_LOC);
        self.bind(end);
        Ok(())
    }

    /// `name = None; del name` after an `except ... as name` body.
    fn clear_name(&mut self, name: &str) -> CResult {
        self.load_const(Object::None, NO_LOC);
        self.nameop(NO_LOC, name, ExprContext::Store)?;
        self.nameop(NO_LOC, name, ExprContext::Del)
    }

    /// `try`/`except*` (`compiler_try_star_except`).
    pub(crate) fn try_star_except(&mut self, at: Location, t: &'a Try) -> CResult {
        let body = self.new_label();
        let mut except = self.new_label();
        let orelse = self.new_label();
        let end = self.new_label();
        let cleanup = self.new_label();
        let reraise_star = self.new_label();
        self.emit_jump(Opcode::SETUP_FINALLY, except, at);
        self.bind(body);
        self.push_fblock(at, FBlockKind::TryExcept, Some(body), None)?;
        self.visit_stmts(&t.body)?;
        self.pop_fblock();
        self.emit(Opcode::POP_BLOCK, 0, NO_LOC);
        self.emit_jump(Opcode::JUMP, orelse, NO_LOC);
        self.bind(except);
        self.emit_jump(Opcode::SETUP_CLEANUP, cleanup, NO_LOC);
        self.emit(Opcode::PUSH_EXC_INFO, 0, NO_LOC);
        self.push_fblock(at, FBlockKind::ExceptionGroupHandler, None, None)?;
        let n = t.handlers.len();
        for (i, handler) in t.handlers.iter().enumerate() {
            let hloc = loc(handler.loc);
            except = self.new_label();
            let except_with_error = self.new_label();
            let no_match = self.new_label();
            if i == 0 {
                self.emit(Opcode::BUILD_LIST, 0, hloc);
                self.emit(Opcode::COPY, 2, hloc);
            }
            if let Some(ty) = &handler.type_ {
                self.visit_expr(ty)?;
                self.emit(Opcode::CHECK_EG_MATCH, 0, hloc);
                self.emit(Opcode::COPY, 1, hloc);
                self.emit_jump(Opcode::POP_JUMP_IF_NONE, no_match, hloc);
            }
            let cleanup_end = self.new_label();
            let cleanup_body = self.new_label();
            let name = handler.name.as_deref();
            match name {
                Some(name) => self.nameop(hloc, name, ExprContext::Store)?,
                None => self.emit(Opcode::POP_TOP, 0, hloc),
            }
            self.emit_jump(Opcode::SETUP_CLEANUP, cleanup_end, hloc);
            self.bind(cleanup_body);
            self.push_fblock(
                hloc,
                FBlockKind::HandlerCleanup(name),
                Some(cleanup_body),
                None,
            )?;
            self.visit_stmts(&handler.body)?;
            self.pop_fblock();
            self.emit(Opcode::POP_BLOCK, 0, NO_LOC);
            if let Some(name) = name {
                self.clear_name(name)?;
            }
            self.emit_jump(Opcode::JUMP, except, NO_LOC);
            self.bind(cleanup_end);
            if let Some(name) = name {
                self.clear_name(name)?;
            }
            self.emit(Opcode::LIST_APPEND, 3, NO_LOC);
            self.emit(Opcode::POP_TOP, 0, NO_LOC);
            self.emit_jump(Opcode::JUMP, except_with_error, NO_LOC);
            self.bind(except);
            self.emit(Opcode::NOP, 0, NO_LOC);
            self.emit_jump(Opcode::JUMP, except_with_error, NO_LOC);
            self.bind(no_match);
            self.emit(Opcode::POP_TOP, 0, hloc);
            self.bind(except_with_error);
            if i + 1 == n {
                self.emit(Opcode::LIST_APPEND, 1, NO_LOC);
                self.emit_jump(Opcode::JUMP, reraise_star, NO_LOC);
            }
        }
        self.pop_fblock();
        let reraise = self.new_label();
        self.bind(reraise_star);
        self.emit(
            Opcode::CALL_INTRINSIC_2,
            intrinsic2::PREP_RERAISE_STAR,
            NO_LOC,
        );
        self.emit(Opcode::COPY, 1, NO_LOC);
        self.emit_jump(Opcode::POP_JUMP_IF_NOT_NONE, reraise, NO_LOC);
        self.emit(Opcode::POP_TOP, 0, NO_LOC);
        self.emit(Opcode::POP_BLOCK, 0, NO_LOC);
        self.emit(Opcode::POP_EXCEPT, 0, NO_LOC);
        self.emit_jump(Opcode::JUMP, end, NO_LOC);
        self.bind(reraise);
        self.emit(Opcode::POP_BLOCK, 0, NO_LOC);
        self.emit(Opcode::SWAP, 2, NO_LOC);
        self.emit(Opcode::POP_EXCEPT, 0, NO_LOC);
        self.emit(Opcode::RERAISE, 0, NO_LOC);
        self.bind(cleanup);
        self.pop_except_and_reraise(NO_LOC);
        self.bind(orelse);
        self.visit_stmts(&t.orelse)?;
        self.bind(end);
        Ok(())
    }

    /// The end of a `with` block's exception path (`compiler_with_except_finish`).
    fn with_except_finish(&mut self, cleanup: Label) {
        let suppress = self.new_label();
        self.emit_jump(Opcode::POP_JUMP_IF_TRUE, suppress, NO_LOC);
        self.emit(Opcode::RERAISE, 2, NO_LOC);
        self.bind(suppress);
        self.emit(Opcode::POP_TOP, 0, NO_LOC);
        self.emit(Opcode::POP_BLOCK, 0, NO_LOC);
        self.emit(Opcode::POP_EXCEPT, 0, NO_LOC);
        self.emit(Opcode::POP_TOP, 0, NO_LOC);
        self.emit(Opcode::POP_TOP, 0, NO_LOC);
        let exit = self.new_label();
        self.emit_jump(Opcode::JUMP, exit, NO_LOC);
        self.bind(cleanup);
        self.pop_except_and_reraise(NO_LOC);
        self.bind(exit);
    }

    /// `with`, one item at a time (`compiler_with`).
    pub(crate) fn with(&mut self, s: &'a Stmt, w: &'a With, pos: usize) -> CResult {
        let item = &w.items[pos];
        let block = self.new_label();
        let final_ = self.new_label();
        let exit = self.new_label();
        let cleanup = self.new_label();
        self.visit_expr(&item.context_expr)?;
        let at = loc(s.loc);
        self.emit(Opcode::BEFORE_WITH, 0, at);
        self.emit_jump(Opcode::SETUP_WITH, final_, at);
        self.bind(block);
        self.push_fblock(at, FBlockKind::With(at), Some(block), Some(final_))?;
        match &item.optional_vars {
            Some(v) => self.visit_expr(v)?,
            None => self.emit(Opcode::POP_TOP, 0, at),
        }
        if pos + 1 == w.items.len() {
            self.visit_stmts(&w.body)?;
        } else {
            self.with(s, w, pos + 1)?;
        }
        self.emit(Opcode::POP_BLOCK, 0, NO_LOC);
        self.pop_fblock();
        self.call_exit_with_nones(at);
        self.emit(Opcode::POP_TOP, 0, at);
        self.emit_jump(Opcode::JUMP, exit, at);
        self.bind(final_);
        self.emit_jump(Opcode::SETUP_CLEANUP, cleanup, at);
        self.emit(Opcode::PUSH_EXC_INFO, 0, at);
        self.emit(Opcode::WITH_EXCEPT_START, 0, at);
        self.with_except_finish(cleanup);
        self.bind(exit);
        Ok(())
    }

    /// `async with`, one item at a time (`compiler_async_with`).
    pub(crate) fn async_with(&mut self, s: &'a Stmt, w: &'a With, pos: usize) -> CResult {
        let at = loc(s.loc);
        if self.u().scope_type != super::ScopeType::AsyncFunction {
            return Err(self.error(at, "'async with' outside async function"));
        }
        let item = &w.items[pos];
        let block = self.new_label();
        let final_ = self.new_label();
        let exit = self.new_label();
        let cleanup = self.new_label();
        self.visit_expr(&item.context_expr)?;
        self.emit(Opcode::BEFORE_ASYNC_WITH, 0, at);
        self.emit(Opcode::GET_AWAITABLE, 1, at);
        self.load_const(Object::None, at);
        self.yield_from(at, true);
        self.emit_jump(Opcode::SETUP_WITH, final_, at);
        self.bind(block);
        self.push_fblock(at, FBlockKind::AsyncWith(at), Some(block), Some(final_))?;
        match &item.optional_vars {
            Some(v) => self.visit_expr(v)?,
            None => self.emit(Opcode::POP_TOP, 0, at),
        }
        if pos + 1 == w.items.len() {
            self.visit_stmts(&w.body)?;
        } else {
            self.async_with(s, w, pos + 1)?;
        }
        self.pop_fblock();
        self.emit(Opcode::POP_BLOCK, 0, at);
        self.call_exit_with_nones(at);
        self.emit(Opcode::GET_AWAITABLE, 2, at);
        self.load_const(Object::None, at);
        self.yield_from(at, true);
        self.emit(Opcode::POP_TOP, 0, at);
        self.emit_jump(Opcode::JUMP, exit, at);
        self.bind(final_);
        self.emit_jump(Opcode::SETUP_CLEANUP, cleanup, at);
        self.emit(Opcode::PUSH_EXC_INFO, 0, at);
        self.emit(Opcode::WITH_EXCEPT_START, 0, at);
        self.emit(Opcode::GET_AWAITABLE, 2, at);
        self.load_const(Object::None, at);
        self.yield_from(at, true);
        self.with_except_finish(cleanup);
        self.bind(exit);
        Ok(())
    }
}
