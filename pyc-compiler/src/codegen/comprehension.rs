//! Comprehensions: list, set and dict comprehensions inlined into their scope (PEP 709), and
//! generator expressions (and comprehensions the symbol table does not inline) as functions.

use pyc_loader::marshal::Object;

use super::names::NameTable;
use super::unit::{name_str, FBlockKind};
use super::{loc, CResult, Compiler, ScopeType, NO_LOC};
use crate::ast::{Comprehension, Expr, ExprKind};
use crate::ir::{Label, Location, Opcode};
use crate::symtable::{def, Block, Scope, Symbol};

/// Which comprehension is being compiled.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CompKind {
    Generator,
    List,
    Set,
    Dict,
}

/// What an inlined comprehension changed in its enclosing unit, undone afterwards
/// (`inlined_comprehension_state`).
struct InlineState {
    /// Names saved on the stack before the comprehension, restored after it.
    pushed_locals: Vec<String>,
    /// Outer symbols replaced while compiling the comprehension.
    temp_symbols: Vec<(crate::ast::Identifier, Option<Symbol>)>,
    /// Names made fast locals for the comprehension.
    fast_hidden: Vec<String>,
    cleanup: Option<(Label, Label)>,
}

impl<'a> Compiler<'a> {
    /// Any comprehension or generator expression (`compiler_comprehension`).
    pub(crate) fn comprehension(&mut self, e: &Expr) -> CResult {
        let (kind, name, generators, elt, val) = match &e.kind {
            ExprKind::GeneratorExp { elt, generators } => {
                (CompKind::Generator, "<genexpr>", generators, &**elt, None)
            }
            ExprKind::ListComp { elt, generators } => {
                (CompKind::List, "<listcomp>", generators, &**elt, None)
            }
            ExprKind::SetComp { elt, generators } => {
                (CompKind::Set, "<setcomp>", generators, &**elt, None)
            }
            ExprKind::DictComp {
                key,
                value,
                generators,
            } => (
                CompKind::Dict,
                "<dictcomp>",
                generators,
                &**key,
                Some(&**value),
            ),
            _ => unreachable!("callers pass comprehensions"),
        };
        let at = loc(e.loc);
        let outer_scope_type = self.u().scope_type;
        let block_id = self.block_of(e, at)?;
        let entry = self.symbols.block(block_id);
        let inlined = entry.comp_inlined;
        let is_async_generator = entry.coroutine;
        let outermost = &generators[0];
        let mut state = None;
        if inlined {
            self.visit_expr(&outermost.iter)?;
            let op = if outermost.is_async {
                Opcode::GET_AITER
            } else {
                Opcode::GET_ITER
            };
            self.emit(op, 0, at);
            state = Some(self.push_inlined_comprehension_state(at, entry));
        } else {
            self.enter_scope(name, ScopeType::Comprehension, block_id, e.loc.lineno)?;
        }
        if is_async_generator
            && kind != CompKind::Generator
            && outer_scope_type != ScopeType::AsyncFunction
            && outer_scope_type != ScopeType::Comprehension
        {
            return Err(self.error(
                at,
                "asynchronous comprehension outside of an asynchronous function",
            ));
        }
        if kind != CompKind::Generator {
            let op = match kind {
                CompKind::List => Opcode::BUILD_LIST,
                CompKind::Set => Opcode::BUILD_SET,
                _ => Opcode::BUILD_MAP,
            };
            self.emit(op, 0, at);
            if inlined {
                self.emit(Opcode::SWAP, 2, at);
            }
        }
        self.comprehension_generator(at, generators, 0, 0, elt, val, kind, inlined)?;
        if let Some(state) = state {
            self.pop_inlined_comprehension_state(at, state);
            return Ok(());
        }
        if kind != CompKind::Generator {
            self.emit(Opcode::RETURN_VALUE, 0, at);
        } else {
            self.wrap_in_stopiteration_handler();
        }
        let done = self.finish_and_assemble(true)?;
        self.make_closure(at, done, 0)?;
        self.visit_expr(&outermost.iter)?;
        let op = if outermost.is_async {
            Opcode::GET_AITER
        } else {
            Opcode::GET_ITER
        };
        self.emit(op, 0, at);
        self.emit(Opcode::CALL, 0, at);
        if is_async_generator && kind != CompKind::Generator {
            self.emit(Opcode::GET_AWAITABLE, 0, at);
            self.load_const(Object::None, at);
            self.yield_from(at, true);
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn comprehension_generator(
        &mut self,
        at: Location,
        generators: &[Comprehension],
        gen_index: usize,
        depth: u32,
        elt: &Expr,
        val: Option<&Expr>,
        kind: CompKind,
        iter_on_stack: bool,
    ) -> CResult {
        if generators[gen_index].is_async {
            self.async_comprehension_generator(
                at,
                generators,
                gen_index,
                depth,
                elt,
                val,
                kind,
                iter_on_stack,
            )
        } else {
            self.sync_comprehension_generator(
                at,
                generators,
                gen_index,
                depth,
                elt,
                val,
                kind,
                iter_on_stack,
            )
        }
    }

    /// The element: yield it, or add it to the collection `depth` items down.
    fn comprehension_element(
        &mut self,
        elt: &Expr,
        val: Option<&Expr>,
        kind: CompKind,
        depth: u32,
    ) -> CResult<Location> {
        let mut elt_loc = loc(elt.loc);
        self.visit_expr(elt)?;
        match kind {
            CompKind::Generator => {
                self.yield_value(elt_loc);
                self.emit(Opcode::POP_TOP, 0, elt_loc);
            }
            CompKind::List => self.emit(Opcode::LIST_APPEND, depth + 1, elt_loc),
            CompKind::Set => self.emit(Opcode::SET_ADD, depth + 1, elt_loc),
            CompKind::Dict => {
                let val = val.expect("dict comprehensions have a value");
                self.visit_expr(val)?;
                elt_loc = Location {
                    lineno: elt.loc.lineno as i32,
                    end_lineno: val.loc.end_lineno as i32,
                    col_offset: elt.loc.col as i32,
                    end_col_offset: val.loc.end_col as i32,
                };
                self.emit(Opcode::MAP_ADD, depth + 1, elt_loc);
            }
        }
        Ok(elt_loc)
    }

    #[allow(clippy::too_many_arguments)]
    fn sync_comprehension_generator(
        &mut self,
        at: Location,
        generators: &[Comprehension],
        mut gen_index: usize,
        mut depth: u32,
        elt: &Expr,
        val: Option<&Expr>,
        kind: CompKind,
        iter_on_stack: bool,
    ) -> CResult {
        let mut start = Some(self.new_label());
        let if_cleanup = self.new_label();
        let anchor = self.new_label();
        let gen = &generators[gen_index];
        if !iter_on_stack {
            if gen_index == 0 {
                self.u_mut().code.metadata.argcount = 1;
                self.emit(Opcode::LOAD_FAST, 0, at);
            } else {
                let elts = match &gen.iter.kind {
                    ExprKind::List { elts, .. } | ExprKind::Tuple { elts, .. } => &elts[..],
                    _ => &[],
                };
                if let [single] = elts {
                    if !matches!(single.kind, ExprKind::Starred { .. }) {
                        self.visit_expr(single)?;
                        start = None;
                    }
                }
                if start.is_some() {
                    self.visit_expr(&gen.iter)?;
                    self.emit(Opcode::GET_ITER, 0, at);
                }
            }
        }
        if let Some(start) = start {
            depth += 1;
            self.bind(start);
            self.emit_jump(Opcode::FOR_ITER, anchor, at);
        }
        self.visit_expr(&gen.target)?;
        for cond in &gen.ifs {
            self.jump_if(cond, if_cleanup, false)?;
        }
        gen_index += 1;
        if gen_index < generators.len() {
            self.comprehension_generator(at, generators, gen_index, depth, elt, val, kind, false)?;
        }
        let mut elt_loc = loc(elt.loc);
        if gen_index >= generators.len() {
            elt_loc = self.comprehension_element(elt, val, kind, depth)?;
        }
        self.bind(if_cleanup);
        if let Some(start) = start {
            self.emit_jump(Opcode::JUMP, start, elt_loc);
            self.bind(anchor);
            self.emit(Opcode::END_FOR, 0, NO_LOC);
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn async_comprehension_generator(
        &mut self,
        at: Location,
        generators: &[Comprehension],
        mut gen_index: usize,
        mut depth: u32,
        elt: &Expr,
        val: Option<&Expr>,
        kind: CompKind,
        iter_on_stack: bool,
    ) -> CResult {
        let start = self.new_label();
        let except = self.new_label();
        let if_cleanup = self.new_label();
        let gen = &generators[gen_index];
        if !iter_on_stack {
            if gen_index == 0 {
                self.u_mut().code.metadata.argcount = 1;
                self.emit(Opcode::LOAD_FAST, 0, at);
            } else {
                self.visit_expr(&gen.iter)?;
                self.emit(Opcode::GET_AITER, 0, at);
            }
        }
        self.bind(start);
        self.push_fblock(
            at,
            FBlockKind::AsyncComprehensionGenerator,
            Some(start),
            None,
        )?;
        self.emit_jump(Opcode::SETUP_FINALLY, except, at);
        self.emit(Opcode::GET_ANEXT, 0, at);
        self.load_const(Object::None, at);
        self.yield_from(at, true);
        self.emit(Opcode::POP_BLOCK, 0, at);
        self.visit_expr(&gen.target)?;
        for cond in &gen.ifs {
            self.jump_if(cond, if_cleanup, false)?;
        }
        depth += 1;
        gen_index += 1;
        if gen_index < generators.len() {
            self.comprehension_generator(at, generators, gen_index, depth, elt, val, kind, false)?;
        }
        let mut elt_loc = loc(elt.loc);
        if gen_index >= generators.len() {
            elt_loc = self.comprehension_element(elt, val, kind, depth)?;
        }
        self.bind(if_cleanup);
        self.emit_jump(Opcode::JUMP, start, elt_loc);
        self.pop_fblock();
        self.bind(except);
        self.emit(Opcode::END_ASYNC_FOR, 0, at);
        Ok(())
    }

    /// Isolates the comprehension's names from the enclosing scope
    /// (`push_inlined_comprehension_state`).
    fn push_inlined_comprehension_state(&mut self, at: Location, entry: &'a Block) -> InlineState {
        let u = self.u();
        let in_class_block =
            u.block.kind == crate::symtable::BlockKind::Class && u.in_inlined_comp == 0;
        self.u_mut().in_inlined_comp += 1;
        let mut state = InlineState {
            pushed_locals: Vec::new(),
            temp_symbols: Vec::new(),
            fast_hidden: Vec::new(),
            cleanup: None,
        };
        for (name, symbol) in &entry.symbols {
            let scope = symbol.scope;
            let outer = self.u().symbol(name);
            let outer_scope = outer.and_then(|s| s.scope);
            let differs = scope != outer_scope
                && scope != Some(Scope::Free)
                && !(scope == Some(Scope::Cell) && outer_scope == Some(Scope::Free));
            if differs || in_class_block {
                let previous = self.u_mut().overrides.insert(name.clone(), *symbol);
                let saved = if state.temp_symbols.iter().any(|(n, _)| n == name) {
                    None
                } else {
                    Some((name.clone(), previous))
                };
                if let Some(saved) = saved {
                    state.temp_symbols.push(saved);
                }
            }
            let bound_here = symbol.flags & def::LOCAL != 0 && symbol.flags & def::NONLOCAL == 0;
            if bound_here || in_class_block {
                if !self.u().is_function_like() {
                    let key = name_str(name);
                    if self.u().fasthidden.get(&key) != Some(&true) {
                        let u = self.u_mut();
                        if !u.fasthidden.contains_key(&key) {
                            u.code.metadata.fasthidden.push(key.clone());
                        }
                        u.fasthidden.insert(key, true);
                        state.fast_hidden.push(name.to_string());
                    }
                }
                let outer_scope = self.u().scope(name);
                self.emit_local(Opcode::LOAD_FAST_AND_CLEAR, NameTable::Varnames, name, at);
                if scope == Some(Scope::Cell) {
                    let table = if outer_scope == Some(Scope::Free) {
                        NameTable::Freevars
                    } else {
                        NameTable::Cellvars
                    };
                    self.emit_local(Opcode::MAKE_CELL, table, name, at);
                }
                state.pushed_locals.push(name.to_string());
            }
        }
        if !state.pushed_locals.is_empty() {
            self.emit(Opcode::SWAP, state.pushed_locals.len() as u32 + 1, at);
            let cleanup = self.new_label();
            let end = self.new_label();
            state.cleanup = Some((cleanup, end));
            self.emit_jump(Opcode::SETUP_FINALLY, cleanup, at);
        }
        state
    }

    /// Restores what [`Self::push_inlined_comprehension_state`] changed.
    fn pop_inlined_comprehension_state(&mut self, at: Location, state: InlineState) {
        let u = self.u_mut();
        u.in_inlined_comp -= 1;
        for (name, previous) in state.temp_symbols {
            match previous {
                Some(symbol) => u.overrides.insert(name, symbol),
                None => u.overrides.remove(&name),
            };
        }
        if let Some((cleanup, end)) = state.cleanup {
            self.emit(Opcode::POP_BLOCK, 0, NO_LOC);
            self.emit_jump(Opcode::JUMP, end, NO_LOC);
            self.bind(cleanup);
            self.emit(Opcode::SWAP, 2, NO_LOC);
            self.emit(Opcode::POP_TOP, 0, NO_LOC);
            self.restore_inlined_locals(at, &state.pushed_locals);
            self.emit(Opcode::RERAISE, 0, NO_LOC);
            self.bind(end);
            self.restore_inlined_locals(at, &state.pushed_locals);
        }
        for name in state.fast_hidden {
            self.u_mut().fasthidden.insert(name_str(&name), false);
        }
    }

    fn restore_inlined_locals(&mut self, at: Location, pushed: &[String]) {
        self.emit(Opcode::SWAP, pushed.len() as u32 + 1, at);
        for name in pushed.iter().rev() {
            self.emit_local(Opcode::STORE_FAST_MAYBE_NULL, NameTable::Varnames, name, at);
        }
    }
}
