//! Code units: entering and leaving scopes, emitting instructions, constants, the block
//! stack, qualified names and code flags.

use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;
use std::sync::Arc;

use pyc_loader::marshal::{Object, Str};

use super::{co_flags, CResult, Compiler, MAX_BLOCKS, NO_LOC};
use crate::ast::{Constant, Stmt};
use crate::ir::{Arg, CodeUnit, Instr, Label, Location, Opcode};
use crate::symtable::{Block, BlockId, BlockKind, Scope, Symbol};

/// What kind of code a unit is (CPython's `COMPILER_SCOPE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeType {
    Module,
    Class,
    Function,
    AsyncFunction,
    Lambda,
    Comprehension,
    TypeParams,
}

/// Why a block of the block stack was pushed, with what unwinding it needs
/// (CPython's `fblocktype` and `fb_datum`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum FBlockKind<'a> {
    WhileLoop,
    ForLoop,
    TryExcept,
    /// A `try` with a `finally` body, replayed when a jump leaves the `try`.
    FinallyTry(&'a [Stmt]),
    FinallyEnd,
    /// A `with` statement at the given location.
    With(Location),
    AsyncWith(Location),
    /// An `except` body; the name bound by `as`, if any.
    HandlerCleanup(Option<&'a str>),
    PopValue,
    ExceptionHandler,
    ExceptionGroupHandler,
    AsyncComprehensionGenerator,
}

/// One entry of the block stack.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FBlock<'a> {
    pub kind: FBlockKind<'a>,
    /// Where `continue` goes (loops).
    pub block: Option<Label>,
    /// Where `break` goes (loops).
    pub exit: Option<Label>,
}

/// A unit being compiled (CPython's `struct compiler_unit`).
pub(crate) struct Unit<'a> {
    pub block: &'a Block,
    pub scope_type: ScopeType,
    pub code: CodeUnit,
    /// The class name used for name mangling.
    pub private: Option<Str>,
    pub fblocks: Vec<FBlock<'a>>,
    /// How many inlined comprehensions are being compiled in this unit.
    pub in_inlined_comp: u32,
    /// Symbols temporarily replaced while an inlined comprehension is compiled.
    pub overrides: HashMap<crate::ast::Identifier, Symbol>,
    /// Names of inlined comprehensions compiled as fast locals of a non-function scope;
    /// `true` while the comprehension is being compiled.
    pub fasthidden: HashMap<Str, bool>,
}

impl<'a> Unit<'a> {
    /// The symbol of `name` as code generation sees it now.
    pub fn symbol(&self, name: &str) -> Option<Symbol> {
        self.symbol_hashed(name, crate::ir::name_hash(name))
    }

    /// [`Unit::symbol`] with the name's [`name_hash`](crate::ir::name_hash) already computed.
    pub fn symbol_hashed(&self, name: &str, hash: u64) -> Option<Symbol> {
        if !self.overrides.is_empty() {
            if let Some(&symbol) = self.overrides.get(name) {
                return Some(symbol);
            }
        }
        self.block.symbol_hashed(name, hash).copied()
    }

    /// The resolved scope of `name` (`None` for CPython's scope 0).
    pub fn scope(&self, name: &str) -> Option<Scope> {
        self.symbol(name).and_then(|s| s.scope)
    }

    /// Whether the unit's block is function-like (`_PyST_IsFunctionLike`).
    pub fn is_function_like(&self) -> bool {
        matches!(
            self.block.kind,
            BlockKind::Function | BlockKind::Annotation(_)
        )
    }
}

/// A name as CPython interns it.
pub(crate) fn name_str(name: &str) -> Str {
    Str::new(name, true)
}

/// A string's text, borrowed unless it has surrogates (then with replacement characters).
fn text(s: &Str) -> Cow<'_, str> {
    match s.as_str() {
        Some(text) => Cow::Borrowed(text),
        None => Cow::Owned(s.to_string_lossy()),
    }
}

/// An AST constant as a constant object.
pub(crate) fn const_object(value: &Constant) -> Object {
    match value {
        Constant::None => Object::None,
        Constant::Bool(true) => Object::True,
        Constant::Bool(false) => Object::False,
        Constant::Ellipsis => Object::Ellipsis,
        Constant::Int(i) => Object::Int(i.clone()),
        Constant::Float(f) => Object::Float(*f),
        Constant::Complex(re, im) => Object::Complex(*re, *im),
        Constant::Str(s) => Object::Str(s.clone()),
        Constant::Bytes(b) => Object::Bytes(bytes::Bytes::copy_from_slice(b)),
        Constant::Tuple(items) => Object::Tuple(items.iter().map(const_object).collect()),
        Constant::FrozenSet(items) => {
            super::expr::frozenset(items.iter().map(const_object).collect())
        }
    }
}

impl<'a> Compiler<'a> {
    pub(crate) fn u(&self) -> &Unit<'a> {
        self.unit.as_deref().expect("a unit is open")
    }

    pub(crate) fn u_mut(&mut self) -> &mut Unit<'a> {
        self.unit.as_deref_mut().expect("a unit is open")
    }

    /// Opens a new unit for the scope `block` (CPython's `compiler_enter_scope`).
    pub(crate) fn enter_scope(
        &mut self,
        name: &str,
        scope_type: ScopeType,
        block: BlockId,
        lineno: u32,
    ) -> CResult {
        let block = self.symbols.block(block);
        let mut code = CodeUnit::default();
        // Room for a small function's body: fewer regrowths of the sequence.
        code.instrs.instrs.reserve(32);
        let md = &mut code.metadata;
        // Identifiers come interned from the parser; the names made up for anonymous scopes
        // (`<module>`, `<lambda>`, `<generic parameters of f>`, ...) are plain strings.
        md.name = Str::new(name, !name.starts_with('<'));
        for param in &block.varnames {
            md.varnames.add_interned(param);
        }
        // Cells and free variables, each sorted by name.
        let sorted_names = |keep: fn(&Symbol) -> bool| {
            let mut names: Vec<&str> = block
                .symbols
                .iter()
                .filter(|(_, sym)| keep(sym))
                .map(|(n, _)| &**n)
                .collect();
            names.sort_unstable();
            names
        };
        let cells = sorted_names(|sym| {
            sym.scope == Some(Scope::Cell) || sym.flags & crate::symtable::def::COMP_CELL != 0
        });
        for n in cells {
            md.cellvars.add_interned(n);
        }
        if block.needs_class_closure {
            md.cellvars.add_interned("__class__");
        }
        if block.needs_classdict {
            md.cellvars.add_interned("__classdict__");
        }
        let frees = sorted_names(|sym| {
            sym.scope == Some(Scope::Free) || sym.flags & crate::symtable::def::FREE_CLASS != 0
        });
        for n in frees {
            md.freevars.add_interned(n);
        }
        md.firstlineno = lineno as i32;
        let private = self.unit.as_ref().and_then(|u| u.private.clone());
        let unit = Box::new(Unit {
            block,
            scope_type,
            code,
            private,
            fblocks: Vec::new(),
            in_inlined_comp: 0,
            overrides: HashMap::default(),
            fasthidden: HashMap::default(),
        });
        if let Some(parent) = self.unit.replace(unit) {
            self.stack.push(parent);
        }
        let mut resume_loc = Location {
            lineno: lineno as i32,
            end_lineno: lineno as i32,
            col_offset: 0,
            end_col_offset: 0,
        };
        if scope_type == ScopeType::Module {
            resume_loc.lineno = 0;
        } else {
            self.set_qualname();
        }
        self.emit(Opcode::RESUME, 0, resume_loc);
        Ok(())
    }

    /// CPython's `compiler_set_qualname`.
    fn set_qualname(&mut self) {
        let u = self.u();
        let name = text(&u.code.metadata.name);
        let mut qualname = None;
        let n = self.stack.len();
        if n > 1 {
            let mut parent_index = n - 1;
            if self.stack[parent_index].scope_type == ScopeType::TypeParams {
                if n == 2 {
                    let qualname = u.code.metadata.name.clone();
                    self.u_mut().code.metadata.qualname = qualname;
                    return;
                }
                parent_index = n - 2;
            }
            let parent = &self.stack[parent_index];
            let mut force_global = false;
            if matches!(
                u.scope_type,
                ScopeType::Function | ScopeType::AsyncFunction | ScopeType::Class
            ) {
                let mangled = super::names::mangle(parent.private.as_ref(), &name);
                if parent.scope(&mangled) == Some(Scope::GlobalExplicit) {
                    force_global = true;
                }
            }
            if !force_global {
                let base = text(&parent.code.metadata.qualname);
                let locals = match parent.scope_type {
                    ScopeType::Function | ScopeType::AsyncFunction | ScopeType::Lambda => {
                        ".<locals>"
                    }
                    _ => "",
                };
                let mut text = String::with_capacity(base.len() + locals.len() + 1 + name.len());
                text.push_str(&base);
                text.push_str(locals);
                text.push('.');
                text.push_str(&name);
                qualname = Some(Str::new(&text, false));
            }
        }
        let qualname = qualname.unwrap_or_else(|| u.code.metadata.name.clone());
        self.u_mut().code.metadata.qualname = qualname;
    }

    /// Closes the current unit: computes its flags, adds the final return, and hands back
    /// the unit (CPython's `optimize_and_assemble` up to assembly, and `compiler_exit_scope`).
    pub(crate) fn finish_unit(&mut self, add_none: bool) -> crate::ir::CodeUnit {
        let flags = self.code_flags();
        if add_none {
            self.load_const(Object::None, NO_LOC);
        }
        self.emit(Opcode::RETURN_VALUE, 0, NO_LOC);
        let unit = self.unit.take().expect("a unit is open");
        self.unit = self.stack.pop();
        let mut code = unit.code;
        let md = &mut code.metadata;
        md.flags = flags;
        if md.qualname.as_bytes().is_empty() {
            md.qualname = md.name.clone();
        }
        code
    }

    /// Closes the current unit and assembles it into a code object.
    pub(crate) fn finish_and_assemble(&mut self, add_none: bool) -> CResult<CodeUnitDone> {
        let code = self.finish_unit(add_none);
        let freevars: Vec<Str> = code.metadata.freevars.values().to_vec();
        let object = (self.assembler)(code, &self.filename, self.options.target)?;
        Ok(CodeUnitDone {
            code: Arc::new(object),
            freevars,
        })
    }

    /// CPython's `compute_code_flags`.
    fn code_flags(&self) -> u32 {
        let u = self.u();
        let ste = u.block;
        let mut flags = 0;
        if u.is_function_like() {
            flags |= co_flags::NEWLOCALS | co_flags::OPTIMIZED;
            if ste.nested {
                flags |= co_flags::NESTED;
            }
            match (ste.generator, ste.coroutine) {
                (true, false) => flags |= co_flags::GENERATOR,
                (false, true) => flags |= co_flags::COROUTINE,
                (true, true) => flags |= co_flags::ASYNC_GENERATOR,
                (false, false) => {}
            }
            if ste.varargs {
                flags |= co_flags::VARARGS;
            }
            if ste.varkeywords {
                flags |= co_flags::VARKEYWORDS;
            }
        }
        flags | self.future.flags
    }

    /// Appends an instruction with an integer argument.
    pub(crate) fn emit(&mut self, op: Opcode, arg: u32, loc: Location) {
        self.u_mut().code.instrs.emit(op, Arg::Int(arg), loc);
    }

    /// Appends a jump (or `SETUP_*`) to `label`.
    pub(crate) fn emit_jump(&mut self, op: Opcode, label: Label, loc: Location) {
        self.u_mut().code.instrs.emit(op, Arg::Label(label), loc);
    }

    pub(crate) fn new_label(&mut self) -> Label {
        self.u_mut().code.instrs.new_label()
    }

    pub(crate) fn bind(&mut self, label: Label) {
        self.u_mut().code.instrs.bind(label);
    }

    /// Inserts an instruction at `pos`, moving labels bound at or after it
    /// (`instr_sequence_insert_instruction`).
    pub(crate) fn insert_instr(&mut self, pos: usize, op: Opcode, arg: Arg, loc: Location) {
        let seq = &mut self.u_mut().code.instrs;
        seq.instrs.insert(pos, Instr { op, arg, loc });
        for target in seq.label_targets.iter_mut().flatten() {
            if *target >= pos {
                *target += 1;
            }
        }
    }

    /// The index of a constant in the current unit, adding it if new.
    pub(crate) fn add_const(&mut self, value: Object) -> u32 {
        let consts = &mut self.u_mut().code.metadata.consts;
        if is_nan_constant(&value) {
            // A NaN is never equal to another NaN object, so CPython never merges NaN
            // constants (each folded `inf * 0` is its own entry).
            return consts.add_distinct(value);
        }
        consts.add(value)
    }

    /// `LOAD_CONST value`.
    pub(crate) fn load_const(&mut self, value: Object, loc: Location) {
        let i = self.add_const(value);
        self.emit(Opcode::LOAD_CONST, i, loc);
    }

    /// Pushes a block on the block stack (`compiler_push_fblock`).
    pub(crate) fn push_fblock(
        &mut self,
        loc: Location,
        kind: FBlockKind<'a>,
        block: Option<Label>,
        exit: Option<Label>,
    ) -> CResult {
        if self.u().fblocks.len() >= MAX_BLOCKS {
            return Err(self.error(loc, "too many statically nested blocks"));
        }
        self.u_mut().fblocks.push(FBlock { kind, block, exit });
        Ok(())
    }

    pub(crate) fn pop_fblock(&mut self) {
        self.u_mut().fblocks.pop();
    }
}

/// A float or complex constant with a NaN part.
fn is_nan_constant(value: &Object) -> bool {
    match value {
        Object::Float(f) => f.is_nan(),
        Object::Complex(re, im) => re.is_nan() || im.is_nan(),
        _ => false,
    }
}

/// An assembled nested code object and the free variables its closure needs.
pub(crate) struct CodeUnitDone {
    pub code: Arc<pyc_loader::code::CodeObject>,
    pub freevars: Vec<Str>,
}
