//! The first pass: walk the tree in CPython's order and record, per scope, what each name is
//! (bound, used, parameter, global, ...), raising the SyntaxErrors that need only that.

use rustc_hash::FxHashMap as HashMap;

use super::SymbolTable;
use super::{
    def, mangle, on_deep_stack, AnnotationKind, Block, BlockId, BlockKind, ComprehensionKind, DEEP,
};
use crate::ast::*;
use crate::error::{CompileError, ErrorKind};
use crate::future::FutureFeatures;

/// CPython's symtable recursion limit: `Py_C_RECURSION_LIMIT` (1500) times its frame scale (2),
/// less the 4 its callers (`compile()`, `symtable.symtable()`) have used when it starts counting
/// (measured: `x = not not ... y` with 2994 `not`s passes, 2995 fail).
const RECURSION_LIMIT: u32 = 2996;

/// A `SyntaxError` spanning `loc`, positioned as `PyErr_RangedSyntaxLocationObject` does.
pub(super) fn error_at(msg: impl Into<String>, loc: Loc) -> CompileError {
    CompileError {
        kind: ErrorKind::SyntaxError,
        msg: msg.into(),
        lineno: loc.lineno,
        offset: loc.col + 1,
        end_lineno: loc.end_lineno,
        end_offset: loc.end_col + 1,
    }
}

/// What kind of scope an entry is while collecting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Block(BlockKind),
    /// An annotation under `from __future__ import annotations`: visited for its errors, then
    /// thrown away with everything inside it.
    FutureAnnotation,
}

impl Kind {
    fn is_function_like(self) -> bool {
        matches!(self, Kind::Block(k) if k.is_function_like())
    }
}

/// A scope being collected, with the state CPython keeps only while visiting.
struct Entry {
    block: Block,
    kind: Kind,
    /// Inside a future-annotation scope (dropped from the result).
    discarded: bool,
    /// Visiting a comprehension's iteration target.
    comp_iter_target: bool,
    /// Depth of comprehension iterable expressions being visited.
    comp_iter_expr: u32,
}

/// The result of the first pass.
pub(super) struct Collected {
    pub table: SymbolTable,
    /// Per block: the `global`/`nonlocal` declarations (and the implicit ones of assignment
    /// expressions in comprehensions), for the analysis' error positions.
    pub directives: Vec<Vec<(Identifier, Loc)>>,
}

struct Collector {
    entries: Vec<Entry>,
    directives: Vec<Vec<(Identifier, Loc)>>,
    stack: Vec<BlockId>,
    by_node: HashMap<usize, BlockId>,
    /// The class name private names are mangled with (`st_private`).
    private: Option<Identifier>,
    future_annotations: bool,
    depth: u32,
}

/// Walks `module` and records every scope's raw symbol facts.
pub(super) fn collect(module: &Mod, future: &FutureFeatures) -> Result<Collected, CompileError> {
    let mut c = Collector {
        entries: Vec::new(),
        directives: Vec::new(),
        stack: Vec::new(),
        by_node: HashMap::default(),
        private: None,
        future_annotations: future.annotations(),
        depth: 0,
    };
    c.enter("top", Kind::Block(BlockKind::Module), None, Loc::default());
    match module {
        Mod::Module { body } | Mod::Interactive { body } => c.stmts(body)?,
        Mod::Expression { body } => c.expr(body)?,
    }
    c.exit();
    Ok(c.finish())
}

fn addr<T>(node: &T) -> usize {
    node as *const T as usize
}

impl Collector {
    fn cur(&self) -> BlockId {
        *self.stack.last().expect("a scope is open")
    }

    fn entry(&self, id: BlockId) -> &Entry {
        &self.entries[id.0 as usize]
    }

    fn entry_mut(&mut self, id: BlockId) -> &mut Entry {
        &mut self.entries[id.0 as usize]
    }

    fn cur_entry(&self) -> &Entry {
        self.entry(self.cur())
    }

    fn cur_mut(&mut self) -> &mut Entry {
        let id = self.cur();
        self.entry_mut(id)
    }

    fn cur_block(&mut self) -> &mut Block {
        &mut self.cur_mut().block
    }

    /// Opens a scope (`symtable_enter_block`); `key` is the address code generation looks it up by.
    fn enter(&mut self, name: &str, kind: Kind, key: Option<usize>, loc: Loc) -> BlockId {
        let id = BlockId(self.entries.len() as u32);
        let prev = self.stack.last().copied();
        let block_kind = match kind {
            Kind::Block(k) => k,
            // Never observed: the whole scope is dropped.
            Kind::FutureAnnotation => BlockKind::Function,
        };
        let mut block = Block::new(block_kind, name.into(), loc, None);
        let (mut discarded, mut comp_iter_expr) = (kind == Kind::FutureAnnotation, 0);
        if let Some(p) = prev {
            let parent = self.entry(p);
            block.nested = parent.block.nested || parent.kind.is_function_like();
            comp_iter_expr = parent.comp_iter_expr;
            discarded |= parent.discarded;
            if kind != Kind::FutureAnnotation {
                block.parent = Some(p);
            }
        }
        self.entries.push(Entry {
            block,
            kind,
            discarded,
            comp_iter_target: false,
            comp_iter_expr,
        });
        self.directives.push(Vec::new());
        if let (Some(key), false) = (key, discarded) {
            self.by_node.insert(key, id);
        }
        if let (Some(p), false) = (prev, kind == Kind::FutureAnnotation) {
            self.entry_mut(p).block.children.push(id);
        }
        self.stack.push(id);
        id
    }

    fn exit(&mut self) {
        self.stack.pop();
    }

    /// Drops the future-annotation scopes and renumbers the rest.
    fn finish(self) -> Collected {
        let mut new_id = vec![None; self.entries.len()];
        let mut next = 0u32;
        for (i, e) in self.entries.iter().enumerate() {
            if !e.discarded {
                new_id[i] = Some(BlockId(next));
                next += 1;
            }
        }
        let map = |id: BlockId| new_id[id.0 as usize].expect("kept blocks link only kept blocks");
        let mut blocks = Vec::with_capacity(next as usize);
        let mut directives = Vec::with_capacity(next as usize);
        for (e, d) in self.entries.into_iter().zip(self.directives) {
            if e.discarded {
                continue;
            }
            let mut b = e.block;
            b.parent = b.parent.map(map);
            for c in &mut b.children {
                *c = map(*c);
            }
            blocks.push(b);
            directives.push(d);
        }
        let by_node = self.by_node.into_iter().map(|(k, v)| (k, map(v))).collect();
        Collected {
            table: SymbolTable { blocks, by_node },
            directives,
        }
    }

    fn mangled<'a>(&self, name: &'a str) -> std::borrow::Cow<'a, str> {
        mangle(self.private.as_deref(), name)
    }

    /// The flags of `name` (mangled) in the current scope (`symtable_lookup`).
    fn lookup(&self, name: &str) -> u32 {
        self.cur_entry().block.flags(&self.mangled(name))
    }

    fn add_def(&mut self, name: &str, flag: u32, loc: Loc) -> Result<(), CompileError> {
        let cur = self.cur();
        self.add_def_in(cur, name, flag, loc)
    }

    /// As [`Collector::add_def`], sharing the tree's string for a new symbol.
    fn add_def_named(
        &mut self,
        name: &Identifier,
        flag: u32,
        loc: Loc,
    ) -> Result<(), CompileError> {
        let cur = self.cur();
        self.add_def_shared(cur, name, Some(name), flag, loc)
    }

    /// Records `flag` for `name` in scope `target` (`symtable_add_def_helper`).
    fn add_def_in(
        &mut self,
        target: BlockId,
        name: &str,
        flag: u32,
        loc: Loc,
    ) -> Result<(), CompileError> {
        self.add_def_shared(target, name, None, flag, loc)
    }

    /// [`Collector::add_def_in`]; `shared` is `name` as the tree holds it, if it does.
    fn add_def_shared(
        &mut self,
        target: BlockId,
        name: &str,
        shared: Option<&Identifier>,
        flag: u32,
        loc: Loc,
    ) -> Result<(), CompileError> {
        let mangled = mangle(self.private.as_deref(), name);
        // The tree's string, unless mangling made a new one.
        let shared = shared.filter(|_| matches!(mangled, std::borrow::Cow::Borrowed(_)));
        let entry = &mut self.entries[target.0 as usize];
        let comp_iter_target = entry.comp_iter_target;
        // One lookup: a symbol created here on an error is never seen (the error ends the
        // compilation).
        let symbol = match shared {
            Some(shared) => entry.block.symbol_mut_named(shared),
            None => entry.block.symbol_mut(&mangled),
        };
        let old = symbol.flags;
        if flag & old & def::PARAM != 0 {
            return Err(error_at(
                format!("duplicate argument '{name}' in function definition"),
                loc,
            ));
        }
        if flag & old & def::TYPE_PARAM != 0 {
            return Err(error_at(format!("duplicate type parameter '{name}'"), loc));
        }
        let mut val = old | flag;
        if comp_iter_target {
            if val & (def::GLOBAL | def::NONLOCAL) != 0 {
                return Err(error_at(
                    format!(
                        "comprehension inner loop cannot rebind assignment expression target '{name}'"
                    ),
                    loc,
                ));
            }
            val |= def::COMP_ITER;
        }
        symbol.flags = val;
        if flag & def::PARAM != 0 {
            let name = match shared {
                Some(shared) => shared.clone(),
                None => mangled.into(),
            };
            entry.block.varnames.push(name);
        } else if flag & def::GLOBAL != 0 {
            self.entries[0].block.symbol_mut(&mangled).flags |= flag;
        }
        Ok(())
    }

    fn record_directive(&mut self, name: &str, loc: Loc) {
        let mangled = self.mangled(name).into();
        let cur = self.cur().0 as usize;
        self.directives[cur].push((mangled, loc));
    }

    /// Counts one level of nesting, failing past CPython's limit.
    fn descend(&mut self) -> Result<(), CompileError> {
        self.depth += 1;
        if self.depth > RECURSION_LIMIT {
            return Err(CompileError::too_deep());
        }
        Ok(())
    }

    fn stmts(&mut self, body: &[Stmt]) -> Result<(), CompileError> {
        body.iter().try_for_each(|s| self.stmt(s))
    }

    fn exprs(&mut self, exprs: &[Expr]) -> Result<(), CompileError> {
        exprs.iter().try_for_each(|e| self.expr(e))
    }

    fn stmt(&mut self, s: &Stmt) -> Result<(), CompileError> {
        self.descend()?;
        self.stmt_inner(s)?;
        self.depth -= 1;
        Ok(())
    }

    fn stmt_inner(&mut self, s: &Stmt) -> Result<(), CompileError> {
        match &s.kind {
            StmtKind::FunctionDef(f) => self.function_def(s, f)?,
            StmtKind::ClassDef(c) => self.class_def(s, c)?,
            StmtKind::TypeAlias(t) => self.type_alias(s, t)?,
            StmtKind::Return { value } => {
                if let Some(v) = value {
                    self.expr(v)?;
                    self.cur_block().returns_value = true;
                }
            }
            StmtKind::Delete { targets } => self.exprs(targets)?,
            StmtKind::Assign { targets, value } => {
                self.exprs(targets)?;
                self.expr(value)?;
            }
            StmtKind::AnnAssign {
                target,
                annotation,
                value,
                simple,
            } => {
                if let ExprKind::Name { id, .. } = &target.kind {
                    let cur = self.lookup(id);
                    if cur & (def::GLOBAL | def::NONLOCAL) != 0 && self.cur().0 != 0 && *simple {
                        let what = if cur & def::GLOBAL != 0 {
                            "global"
                        } else {
                            "nonlocal"
                        };
                        return Err(error_at(
                            format!("annotated name '{id}' can't be {what}"),
                            s.loc,
                        ));
                    }
                    if *simple {
                        self.add_def(id, def::ANNOT | def::LOCAL, target.loc)?;
                    } else if value.is_some() {
                        self.add_def(id, def::LOCAL, target.loc)?;
                    }
                } else {
                    self.expr(target)?;
                }
                self.annotation(annotation)?;
                if let Some(v) = value {
                    self.expr(v)?;
                }
            }
            StmtKind::AugAssign { target, value, .. } => {
                self.expr(target)?;
                self.expr(value)?;
            }
            StmtKind::For(f) => {
                self.expr(&f.target)?;
                self.expr(&f.iter)?;
                self.stmts(&f.body)?;
                self.stmts(&f.orelse)?;
            }
            StmtKind::While { test, body, orelse } | StmtKind::If { test, body, orelse } => {
                self.expr(test)?;
                self.stmts(body)?;
                self.stmts(orelse)?;
            }
            StmtKind::With(w) => {
                for item in &w.items {
                    self.expr(&item.context_expr)?;
                    if let Some(v) = &item.optional_vars {
                        self.expr(v)?;
                    }
                }
                self.stmts(&w.body)?;
            }
            StmtKind::Match { subject, cases } => {
                self.expr(subject)?;
                for case in cases {
                    self.pattern(&case.pattern)?;
                    if let Some(g) = &case.guard {
                        self.expr(g)?;
                    }
                    self.stmts(&case.body)?;
                }
            }
            StmtKind::Raise { exc, cause } => {
                if let Some(exc) = exc {
                    self.expr(exc)?;
                    if let Some(cause) = cause {
                        self.expr(cause)?;
                    }
                }
            }
            StmtKind::Try(t) => {
                // 3.12 visits `else` before the handlers.
                self.stmts(&t.body)?;
                self.stmts(&t.orelse)?;
                for h in &t.handlers {
                    if let Some(ty) = &h.type_ {
                        self.expr(ty)?;
                    }
                    if let Some(name) = &h.name {
                        self.add_def(name, def::LOCAL, h.loc)?;
                    }
                    self.stmts(&h.body)?;
                }
                self.stmts(&t.finalbody)?;
            }
            StmtKind::Assert { test, msg } => {
                self.expr(test)?;
                if let Some(m) = msg {
                    self.expr(m)?;
                }
            }
            StmtKind::Import { names } | StmtKind::ImportFrom { names, .. } => {
                names.iter().try_for_each(|a| self.alias(a))?
            }
            StmtKind::Global { names } => self.declare(s, names, def::GLOBAL)?,
            StmtKind::Nonlocal { names } => self.declare(s, names, def::NONLOCAL)?,
            StmtKind::Expr { value } => self.expr(value)?,
            StmtKind::Pass | StmtKind::Break | StmtKind::Continue => {}
        }
        Ok(())
    }

    fn function_def(&mut self, s: &Stmt, f: &FunctionDef) -> Result<(), CompileError> {
        self.add_def_named(&f.name, def::LOCAL, s.loc)?;
        self.exprs(&f.args.defaults)?;
        for d in f.args.kw_defaults.iter().flatten() {
            self.expr(d)?;
        }
        self.exprs(&f.decorator_list)?;
        let generic = !f.type_params.is_empty();
        if generic {
            // CPython's parser always gives a (maybe empty) defaults sequence, so a generic
            // function always has `.defaults`.
            let kwdefaults = f.args.kw_defaults.iter().any(Option::is_some);
            self.enter_type_params(&f.name, &f.type_params, s, true, kwdefaults, false)?;
            f.type_params
                .iter()
                .try_for_each(|tp| self.type_param(tp))?;
        }
        self.arg_annotations(s, &f.args, f.returns.as_ref())?;
        self.enter(
            &f.name,
            Kind::Block(BlockKind::Function),
            Some(addr(s)),
            s.loc,
        );
        if f.is_async {
            self.cur_block().coroutine = true;
        }
        self.arguments(&f.args)?;
        self.stmts(&f.body)?;
        self.exit();
        if generic {
            self.exit();
        }
        Ok(())
    }

    fn class_def(&mut self, s: &Stmt, c: &ClassDef) -> Result<(), CompileError> {
        self.add_def_named(&c.name, def::LOCAL, s.loc)?;
        self.exprs(&c.decorator_list)?;
        let generic = !c.type_params.is_empty();
        if generic {
            self.enter_type_params(&c.name, &c.type_params, s, false, false, true)?;
            c.type_params
                .iter()
                .try_for_each(|tp| self.type_param(tp))?;
        }
        self.exprs(&c.bases)?;
        for k in &c.keywords {
            self.expr(&k.value)?;
        }
        self.enter(&c.name, Kind::Block(BlockKind::Class), Some(addr(s)), s.loc);
        let saved = self.private.replace(c.name.clone());
        if generic {
            self.add_def("__type_params__", def::LOCAL, s.loc)?;
            self.add_def(".type_params", def::USE, s.loc)?;
        }
        self.stmts(&c.body)?;
        self.private = saved;
        self.exit();
        if generic {
            self.exit();
        }
        Ok(())
    }

    fn type_alias(&mut self, s: &Stmt, t: &TypeAlias) -> Result<(), CompileError> {
        self.expr(&t.name)?;
        let ExprKind::Name { id: name, .. } = &t.name.kind else {
            return Err(error_at("type alias name must be a Name", t.name.loc));
        };
        let in_class = self.cur_entry().kind == Kind::Block(BlockKind::Class);
        let generic = !t.type_params.is_empty();
        if generic {
            self.enter_type_params(name, &t.type_params, s, false, false, false)?;
            t.type_params
                .iter()
                .try_for_each(|tp| self.type_param(tp))?;
        }
        let kind = Kind::Block(BlockKind::Annotation(AnnotationKind::TypeAlias));
        self.enter(name, kind, Some(addr(s)), s.loc);
        self.cur_block().can_see_class_scope = in_class;
        if in_class {
            self.add_def("__classdict__", def::USE, t.value.loc)?;
        }
        self.expr(&t.value)?;
        self.exit();
        if generic {
            self.exit();
        }
        Ok(())
    }

    /// Opens the annotation scope of a generic's type parameters
    /// (`symtable_enter_type_param_block`).
    fn enter_type_params(
        &mut self,
        name: &str,
        params: &Vec<TypeParam>,
        s: &Stmt,
        defaults: bool,
        kwdefaults: bool,
        class: bool,
    ) -> Result<(), CompileError> {
        let in_class = self.cur_entry().kind == Kind::Block(BlockKind::Class);
        let kind = Kind::Block(BlockKind::Annotation(AnnotationKind::TypeParams));
        self.enter(name, kind, Some(addr(params)), s.loc);
        let loc = s.loc;
        if in_class {
            self.cur_block().can_see_class_scope = true;
            self.add_def("__classdict__", def::USE, loc)?;
        }
        if class {
            self.add_def(".type_params", def::LOCAL, loc)?;
            self.add_def(".type_params", def::USE, loc)?;
            // As in CPython, this is not restored when the class statement ends: later
            // names of the enclosing scope are mangled with this class name too.
            self.private = Some(name.into());
            self.add_def(".generic_base", def::LOCAL, loc)?;
            self.add_def(".generic_base", def::USE, loc)?;
        }
        if defaults {
            self.add_def(".defaults", def::PARAM, loc)?;
        }
        if kwdefaults {
            self.add_def(".kwdefaults", def::PARAM, loc)?;
        }
        Ok(())
    }

    fn type_param(&mut self, tp: &TypeParam) -> Result<(), CompileError> {
        self.descend()?;
        match &tp.kind {
            TypeParamKind::TypeVar { name, bound } => {
                self.add_def(name, def::TYPE_PARAM | def::LOCAL, tp.loc)?;
                if let Some(bound) = bound {
                    let in_class = self.cur_entry().block.can_see_class_scope;
                    let kind = Kind::Block(BlockKind::Annotation(AnnotationKind::TypeVarBound));
                    self.enter(name, kind, Some(addr(tp)), tp.loc);
                    self.cur_block().can_see_class_scope = in_class;
                    if in_class {
                        self.add_def("__classdict__", def::USE, bound.loc)?;
                    }
                    self.expr(bound)?;
                    self.exit();
                }
            }
            TypeParamKind::ParamSpec { name } | TypeParamKind::TypeVarTuple { name } => {
                self.add_def(name, def::TYPE_PARAM | def::LOCAL, tp.loc)?;
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// `global` / `nonlocal` statements.
    fn declare(&mut self, s: &Stmt, names: &[Identifier], flag: u32) -> Result<(), CompileError> {
        let what = if flag == def::GLOBAL {
            "global"
        } else {
            "nonlocal"
        };
        for name in names {
            let cur = self.lookup(name);
            if cur & (def::PARAM | def::LOCAL | def::USE | def::ANNOT) != 0 {
                let msg = if cur & def::PARAM != 0 {
                    format!("name '{name}' is parameter and {what}")
                } else if cur & def::USE != 0 {
                    format!("name '{name}' is used prior to {what} declaration")
                } else if cur & def::ANNOT != 0 {
                    format!("annotated name '{name}' can't be {what}")
                } else {
                    format!("name '{name}' is assigned to before {what} declaration")
                };
                return Err(error_at(msg, s.loc));
            }
            self.add_def(name, flag, s.loc)?;
            self.record_directive(name, s.loc);
        }
        Ok(())
    }

    fn alias(&mut self, a: &Alias) -> Result<(), CompileError> {
        let name = a.asname.as_deref().unwrap_or(&a.name);
        if name == "*" {
            if self.cur_entry().kind != Kind::Block(BlockKind::Module) {
                return Err(error_at("import * only allowed at module level", a.loc));
            }
            return Ok(());
        }
        let stored = name.split('.').next().unwrap_or(name);
        self.add_def(stored, def::IMPORT, a.loc)
    }

    fn pattern(&mut self, p: &Pattern) -> Result<(), CompileError> {
        self.descend()?;
        match &p.kind {
            PatternKind::MatchValue { value } => self.expr(value)?,
            PatternKind::MatchSingleton { .. } => {}
            PatternKind::MatchSequence { patterns } | PatternKind::MatchOr { patterns } => {
                patterns.iter().try_for_each(|p| self.pattern(p))?
            }
            PatternKind::MatchStar { name } => {
                if let Some(n) = name {
                    self.add_def(n, def::LOCAL, p.loc)?;
                }
            }
            PatternKind::MatchMapping {
                keys,
                patterns,
                rest,
            } => {
                self.exprs(keys)?;
                patterns.iter().try_for_each(|p| self.pattern(p))?;
                if let Some(r) = rest {
                    self.add_def(r, def::LOCAL, p.loc)?;
                }
            }
            PatternKind::MatchClass {
                cls,
                patterns,
                kwd_patterns,
                ..
            } => {
                self.expr(cls)?;
                patterns.iter().try_for_each(|p| self.pattern(p))?;
                kwd_patterns.iter().try_for_each(|p| self.pattern(p))?;
            }
            PatternKind::MatchAs { pattern, name } => {
                if let Some(inner) = pattern {
                    self.pattern(inner)?;
                }
                if let Some(n) = name {
                    self.add_def(n, def::LOCAL, p.loc)?;
                }
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// An annotation of a variable or a return (`symtable_visit_annotation`).
    fn annotation(&mut self, annotation: &Expr) -> Result<(), CompileError> {
        if self.future_annotations {
            self.enter("_annotation", Kind::FutureAnnotation, None, annotation.loc);
        }
        self.expr(annotation)?;
        if self.future_annotations {
            self.exit();
        }
        Ok(())
    }

    /// A function's parameter and return annotations (`symtable_visit_annotations`).
    fn arg_annotations(
        &mut self,
        s: &Stmt,
        a: &Arguments,
        returns: Option<&Expr>,
    ) -> Result<(), CompileError> {
        if self.future_annotations {
            self.enter("_annotation", Kind::FutureAnnotation, None, s.loc);
        }
        fn ann(arg: &Arg) -> Option<&Expr> {
            arg.annotation.as_deref()
        }
        let ordered = a.posonlyargs.iter().chain(&a.args).filter_map(ann);
        let ordered = ordered
            .chain(a.vararg.as_ref().and_then(ann))
            .chain(a.kwarg.as_ref().and_then(ann))
            .chain(a.kwonlyargs.iter().filter_map(ann));
        for e in ordered {
            self.expr(e)?;
        }
        if self.future_annotations {
            self.exit();
        }
        if let Some(r) = returns {
            self.annotation(r)?;
        }
        Ok(())
    }

    /// Parameters, in the current (function) scope.
    fn arguments(&mut self, a: &Arguments) -> Result<(), CompileError> {
        for arg in a.posonlyargs.iter().chain(&a.args).chain(&a.kwonlyargs) {
            self.add_def_named(&arg.arg, def::PARAM, arg.loc)?;
        }
        if let Some(arg) = &a.vararg {
            self.add_def_named(&arg.arg, def::PARAM, arg.loc)?;
            self.cur_block().varargs = true;
        }
        if let Some(arg) = &a.kwarg {
            self.add_def_named(&arg.arg, def::PARAM, arg.loc)?;
            self.cur_block().varkeywords = true;
        }
        Ok(())
    }

    fn expr(&mut self, e: &Expr) -> Result<(), CompileError> {
        // Leaves, the most common expressions, need only the nesting check of entering them.
        match &e.kind {
            ExprKind::Constant { .. } | ExprKind::Name { .. } if self.depth >= RECURSION_LIMIT => {
                return Err(CompileError::too_deep());
            }
            ExprKind::Constant { .. } => return Ok(()),
            ExprKind::Name { id, ctx } => return self.name(e, id, *ctx),
            _ => {}
        }
        self.descend()?;
        if self.depth % DEEP == 0 {
            on_deep_stack(|| self.expr_inner(e))?;
        } else {
            self.expr_inner(e)?;
        }
        self.depth -= 1;
        Ok(())
    }

    fn expr_inner(&mut self, e: &Expr) -> Result<(), CompileError> {
        match &e.kind {
            ExprKind::NamedExpr { target, value } => {
                self.reject_in_annotation("named expression", e)?;
                self.named_expr(e, target, value)?;
            }
            ExprKind::BoolOp { values, .. } => self.exprs(values)?,
            ExprKind::BinOp { left, right, .. } => {
                self.expr(left)?;
                self.expr(right)?;
            }
            ExprKind::UnaryOp { operand, .. } => self.expr(operand)?,
            ExprKind::Lambda { args, body } => {
                if self.cur_entry().block.can_see_class_scope {
                    return Err(error_at(
                        "Cannot use lambda in annotation scope within class scope",
                        e.loc,
                    ));
                }
                self.exprs(&args.defaults)?;
                for d in args.kw_defaults.iter().flatten() {
                    self.expr(d)?;
                }
                self.enter(
                    "lambda",
                    Kind::Block(BlockKind::Function),
                    Some(addr(e)),
                    e.loc,
                );
                self.arguments(args)?;
                self.expr(body)?;
                self.exit();
            }
            ExprKind::IfExp { test, body, orelse } => {
                self.expr(test)?;
                self.expr(body)?;
                self.expr(orelse)?;
            }
            ExprKind::Dict { keys, values } => {
                for k in keys.iter().flatten() {
                    self.expr(k)?;
                }
                self.exprs(values)?;
            }
            ExprKind::Set { elts } => self.exprs(elts)?,
            ExprKind::GeneratorExp { elt, generators } => {
                self.comprehension(e, ComprehensionKind::Generator, generators, elt, None)?
            }
            ExprKind::ListComp { elt, generators } => {
                self.comprehension(e, ComprehensionKind::List, generators, elt, None)?
            }
            ExprKind::SetComp { elt, generators } => {
                self.comprehension(e, ComprehensionKind::Set, generators, elt, None)?
            }
            ExprKind::DictComp {
                key,
                value,
                generators,
            } => self.comprehension(e, ComprehensionKind::Dict, generators, key, Some(value))?,
            ExprKind::Yield { value } => {
                self.reject_in_annotation("yield expression", e)?;
                if let Some(v) = value {
                    self.expr(v)?;
                }
                self.yield_seen(e)?;
            }
            ExprKind::YieldFrom { value } => {
                self.reject_in_annotation("yield expression", e)?;
                self.expr(value)?;
                self.yield_seen(e)?;
            }
            ExprKind::Await { value } => {
                self.reject_in_annotation("await expression", e)?;
                self.expr(value)?;
                self.cur_block().coroutine = true;
            }
            ExprKind::Compare {
                left, comparators, ..
            } => {
                self.expr(left)?;
                self.exprs(comparators)?;
            }
            ExprKind::Call {
                func,
                args,
                keywords,
            } => {
                self.expr(func)?;
                self.exprs(args)?;
                for k in keywords {
                    self.expr(&k.value)?;
                }
            }
            ExprKind::FormattedValue {
                value, format_spec, ..
            } => {
                self.expr(value)?;
                if let Some(spec) = format_spec {
                    self.expr(spec)?;
                }
            }
            ExprKind::JoinedStr { values } => self.exprs(values)?,
            ExprKind::Constant { .. } => {}
            ExprKind::Attribute { value, .. } | ExprKind::Starred { value, .. } => {
                self.expr(value)?
            }
            ExprKind::Subscript { value, slice, .. } => {
                self.expr(value)?;
                self.expr(slice)?;
            }
            ExprKind::Slice { lower, upper, step } => {
                for part in [lower, upper, step].into_iter().flatten() {
                    self.expr(part)?;
                }
            }
            ExprKind::Name { id, ctx } => self.name(e, id, *ctx)?,
            ExprKind::List { elts, .. } | ExprKind::Tuple { elts, .. } => self.exprs(elts)?,
        }
        Ok(())
    }

    /// A use or binding of a name; `super` in a function also uses `__class__`.
    fn name(&mut self, e: &Expr, id: &Identifier, ctx: ExprContext) -> Result<(), CompileError> {
        let flag = if ctx == ExprContext::Load {
            def::USE
        } else {
            def::LOCAL
        };
        self.add_def_named(id, flag, e.loc)?;
        if ctx == ExprContext::Load && self.cur_entry().kind.is_function_like() && &**id == "super"
        {
            self.add_def("__class__", def::USE, e.loc)?;
        }
        Ok(())
    }

    /// A `yield` or `yield from` makes the scope a generator; comprehensions reject it.
    fn yield_seen(&mut self, e: &Expr) -> Result<(), CompileError> {
        let block = self.cur_block();
        block.generator = true;
        let what = match block.comprehension {
            None => return Ok(()),
            Some(ComprehensionKind::List) => "list comprehension",
            Some(ComprehensionKind::Set) => "set comprehension",
            Some(ComprehensionKind::Dict) => "dict comprehension",
            Some(ComprehensionKind::Generator) => "generator expression",
        };
        Err(error_at(format!("'yield' inside {what}"), e.loc))
    }

    /// Rejects `what` inside an annotation scope (`symtable_raise_if_annotation_block`).
    fn reject_in_annotation(&self, what: &str, e: &Expr) -> Result<(), CompileError> {
        let place = match self.cur_entry().kind {
            Kind::FutureAnnotation => "within an annotation",
            Kind::Block(BlockKind::Annotation(AnnotationKind::TypeVarBound)) => {
                "within a TypeVar bound"
            }
            Kind::Block(BlockKind::Annotation(AnnotationKind::TypeAlias)) => "within a type alias",
            Kind::Block(BlockKind::Annotation(AnnotationKind::TypeParams)) => {
                "within the definition of a generic"
            }
            Kind::Block(_) => return Ok(()),
        };
        Err(error_at(format!("{what} cannot be used {place}"), e.loc))
    }

    fn named_expr(&mut self, e: &Expr, target: &Expr, value: &Expr) -> Result<(), CompileError> {
        if self.cur_entry().comp_iter_expr > 0 {
            return Err(error_at(
                "assignment expression cannot be used in a comprehension iterable expression",
                e.loc,
            ));
        }
        if self.cur_entry().block.comprehension.is_some() {
            self.extend_named_expr_scope(target)?;
        }
        self.expr(value)?;
        self.expr(target)
    }

    /// Binds the target of an assignment expression inside a comprehension in the nearest
    /// enclosing function or module (`symtable_extend_namedexpr_scope`).
    fn extend_named_expr_scope(&mut self, target: &Expr) -> Result<(), CompileError> {
        let ExprKind::Name { id: name, .. } = &target.kind else {
            return Err(error_at(
                "assignment expression target must be a name",
                target.loc,
            ));
        };
        let loc = target.loc;
        for i in (0..self.stack.len()).rev() {
            let id = self.stack[i];
            let entry = self.entry(id);
            if entry.block.comprehension.is_some() {
                let flags = entry.block.flags(name);
                if flags & def::COMP_ITER != 0 && flags & def::LOCAL != 0 {
                    return Err(error_at(
                        format!(
                            "assignment expression cannot rebind comprehension iteration variable '{name}'"
                        ),
                        loc,
                    ));
                }
                continue;
            }
            match entry.kind {
                Kind::Block(BlockKind::Function) => {
                    let flag = if entry.block.flags(name) & def::GLOBAL != 0 {
                        def::GLOBAL
                    } else {
                        def::NONLOCAL
                    };
                    self.add_def(name, flag, loc)?;
                    self.record_directive(name, loc);
                    return self.add_def_in(id, name, def::LOCAL, loc);
                }
                Kind::Block(BlockKind::Module) => {
                    self.add_def(name, def::GLOBAL, loc)?;
                    self.record_directive(name, loc);
                    return self.add_def_in(id, name, def::GLOBAL, loc);
                }
                Kind::Block(BlockKind::Class) => {
                    return Err(error_at(
                        "assignment expression within a comprehension cannot be used in a class body",
                        loc,
                    ));
                }
                Kind::Block(BlockKind::Annotation(kind)) => {
                    let place = match kind {
                        AnnotationKind::TypeParams => "within the definition of a generic",
                        AnnotationKind::TypeAlias => "in a type alias",
                        AnnotationKind::TypeVarBound => "in a TypeVar bound",
                    };
                    return Err(error_at(
                        format!(
                            "assignment expression within a comprehension cannot be used {place}"
                        ),
                        loc,
                    ));
                }
                Kind::FutureAnnotation => {}
            }
        }
        unreachable!("the module scope is always open")
    }

    /// Comprehensions and generator expressions (`symtable_handle_comprehension`).
    fn comprehension(
        &mut self,
        e: &Expr,
        kind: ComprehensionKind,
        generators: &[Comprehension],
        elt: &Expr,
        value: Option<&Expr>,
    ) -> Result<(), CompileError> {
        if self.cur_entry().block.can_see_class_scope {
            return Err(error_at(
                "Cannot use comprehension in annotation scope within class scope",
                e.loc,
            ));
        }
        let Some((outermost, rest)) = generators.split_first() else {
            return Err(error_at("comprehension with no generators", e.loc));
        };
        self.cur_mut().comp_iter_expr += 1;
        self.expr(&outermost.iter)?;
        self.cur_mut().comp_iter_expr -= 1;
        let name = match kind {
            ComprehensionKind::List => "listcomp",
            ComprehensionKind::Set => "setcomp",
            ComprehensionKind::Dict => "dictcomp",
            ComprehensionKind::Generator => "genexpr",
        };
        self.enter(name, Kind::Block(BlockKind::Function), Some(addr(e)), e.loc);
        self.cur_block().comprehension = Some(kind);
        if outermost.is_async {
            self.cur_block().coroutine = true;
        }
        let loc = self.cur_entry().block.loc;
        self.add_def(".0", def::PARAM, loc)?;
        self.cur_mut().comp_iter_target = true;
        self.expr(&outermost.target)?;
        self.cur_mut().comp_iter_target = false;
        self.exprs(&outermost.ifs)?;
        for g in rest {
            self.cur_mut().comp_iter_target = true;
            self.expr(&g.target)?;
            self.cur_mut().comp_iter_target = false;
            self.cur_mut().comp_iter_expr += 1;
            self.expr(&g.iter)?;
            self.cur_mut().comp_iter_expr -= 1;
            self.exprs(&g.ifs)?;
            if g.is_async {
                self.cur_block().coroutine = true;
            }
        }
        if let Some(v) = value {
            self.expr(v)?;
        }
        self.expr(elt)?;
        let generator = kind == ComprehensionKind::Generator;
        let block = self.cur_block();
        block.generator = generator;
        let is_async = block.coroutine && !generator;
        self.exit();
        if is_async {
            self.cur_block().coroutine = true;
        }
        Ok(())
    }
}
