//! Code generation: the AST to one [`CodeUnit`](crate::ir::CodeUnit) per scope
//! (the code-generating half of CPython 3.12's `Python/compile.c`).
//!
//! Each scope (module, class body, function, lambda, comprehension, annotation scope) becomes a
//! [`CodeUnit`]: its instruction sequence with labels and pseudo-instructions, and its metadata.
//! A finished unit goes to the assembler at once, and the resulting code object becomes a
//! constant of the enclosing unit, as in CPython.
//!
//! Conventions of the units produced, all as CPython 3.12.1's `compiler_codegen` has them:
//! - jump and `SETUP_*` arguments are labels; every other argument is CPython's oparg, so
//!   `LOAD_DEREF`/`STORE_DEREF`/`LOAD_CLOSURE`/`MAKE_CELL` of a free variable count from the
//!   number of cell variables, and `LOAD_GLOBAL`/`LOAD_ATTR`/`LOAD_SUPER_ATTR` carry their flag
//!   bits (`LOAD_METHOD` and the `LOAD_*SUPER*` pseudo-instructions are already folded into
//!   them, as 3.12 does when emitting);
//! - the pseudo-instructions left for the flow graph are `SETUP_FINALLY`, `SETUP_CLEANUP`,
//!   `SETUP_WITH`, `POP_BLOCK`, `JUMP`, `JUMP_NO_INTERRUPT` and `STORE_FAST_MAYBE_NULL`;
//! - the prefix (`MAKE_CELL`, `COPY_FREE_VARS`, `RETURN_GENERATOR`) is the assembler's; the
//!   final implicit return is the unit's.
//!
//! SyntaxWarnings are collected in emission order: [`compile_module_with_warnings`] returns
//! them beside the code object.
//!
//! Submodules follow the statement and expression kinds they generate code for.

mod call;
mod class;
mod comprehension;
mod exceptions;
mod expr;
mod function;
mod names;
mod pattern;
mod stmt;
mod unit;
mod warnings;

use pyc_loader::code::CodeObject;
use pyc_loader::marshal::Str;
use pyc_loader::target::Target;

use crate::ast::{Loc, Mod};
use crate::error::{CompileError, Warning};
use crate::future::FutureFeatures;
use crate::ir::{CodeUnit, Location};
use crate::symtable::SymbolTable;
use crate::Options;

pub use unit::ScopeType;
use unit::Unit;

/// `STACK_USE_GUIDELINE`: above this many stack items, CPython builds collections and
/// argument lists incrementally.
const STACK_USE_GUIDELINE: usize = 30;

/// `CO_MAXBLOCKS`: the most nested `try`/`with`/loop blocks in one scope.
const MAX_BLOCKS: usize = 20;

/// How deep expressions and statements may nest before compilation gives up (beyond the
/// symbol table's limit, which rejects deeper trees first, as CPython does).
const MAX_NESTING: u32 = 10_000;

/// Stack left before recursing deeper grows the stack by another segment.
const RED_ZONE: usize = 128 * 1024;
const STACK_SEGMENT: usize = 4 * 1024 * 1024;
/// Levels of nesting between two checks of the stack left: a few levels' frames take well
/// under the red zone.
const STACK_CHECK_LEVELS: u32 = 4;

/// The `co_flags` bits code generation computes.
pub mod co_flags {
    pub const OPTIMIZED: u32 = 0x1;
    pub const NEWLOCALS: u32 = 0x2;
    pub const VARARGS: u32 = 0x4;
    pub const VARKEYWORDS: u32 = 0x8;
    pub const NESTED: u32 = 0x10;
    pub const GENERATOR: u32 = 0x20;
    pub const COROUTINE: u32 = 0x80;
    pub const ASYNC_GENERATOR: u32 = 0x200;
}

/// The function that turns a finished unit into its code object.
pub type Assembler = fn(CodeUnit, &Str, Target) -> Result<CodeObject, CompileError>;

/// Compiles a module (or expression / interactive input) to its code object.
pub fn compile_module(
    module: &Mod,
    symbols: &SymbolTable,
    future: &FutureFeatures,
    filename: &str,
    options: &Options,
) -> Result<CodeObject, CompileError> {
    compile_module_with_warnings(module, symbols, future, filename, options).map(|(code, _)| code)
}

/// [`compile_module`], also returning the `SyntaxWarning`s CPython's code generator emits, in
/// emission order.
pub fn compile_module_with_warnings(
    module: &Mod,
    symbols: &SymbolTable,
    future: &FutureFeatures,
    filename: &str,
    options: &Options,
) -> Result<(CodeObject, Vec<Warning>), CompileError> {
    let mut compiler = Compiler::new(symbols, future, filename, options, assemble_unit);
    let unit = compiler.module_unit(module)?;
    let code = assemble_unit(unit, &compiler.filename, options.target)?;
    Ok((code, compiler.warnings))
}

/// The module's code unit before the flow-graph passes (what CPython's
/// `_testinternalcapi.compiler_codegen` returns), with nested scopes assembled by `assembler`.
pub fn module_code_unit(
    module: &Mod,
    symbols: &SymbolTable,
    future: &FutureFeatures,
    filename: &str,
    options: &Options,
    assembler: Assembler,
) -> Result<(CodeUnit, Vec<Warning>), CompileError> {
    let mut compiler = Compiler::new(symbols, future, filename, options, assembler);
    let unit = compiler.module_unit(module)?;
    Ok((unit, compiler.warnings))
}

fn assemble_unit(
    unit: CodeUnit,
    filename: &Str,
    target: Target,
) -> Result<CodeObject, CompileError> {
    crate::assemble::assemble_unit(unit, filename, target)
}

/// The state of one compilation (CPython's `struct compiler`).
pub(crate) struct Compiler<'a> {
    symbols: &'a SymbolTable,
    future: FutureFeatures,
    filename: Str,
    options: Options,
    assembler: Assembler,
    /// `single` mode: expression statements print their value.
    interactive: bool,
    /// The enclosing units, innermost last; `unit` is the current one. Boxed: entering and
    /// leaving a scope moves pointers, not units (measured cheaper than a `Vec<Unit>`).
    #[allow(clippy::vec_box)]
    stack: Vec<Box<Unit<'a>>>,
    unit: Option<Box<Unit<'a>>>,
    warnings: Vec<Warning>,
    depth: u32,
}

/// The result of a code-generation step.
pub(crate) type CResult<T = ()> = Result<T, CompileError>;

/// An AST node's location as an instruction location (CPython's `LOC`). Nodes the optimizer
/// synthesizes carry line 0, CPython's -1: no location.
pub(crate) fn loc(l: Loc) -> Location {
    if l.lineno == 0 {
        return NO_LOC;
    }
    Location::from(l)
}

/// `NO_LOCATION`.
pub(crate) const NO_LOC: Location = Location::NONE;

impl<'a> Compiler<'a> {
    fn new(
        symbols: &'a SymbolTable,
        future: &FutureFeatures,
        filename: &str,
        options: &Options,
        assembler: Assembler,
    ) -> Compiler<'a> {
        Compiler {
            symbols,
            future: *future,
            filename: Str::new(filename, false),
            options: *options,
            assembler,
            interactive: false,
            stack: Vec::new(),
            unit: None,
            warnings: Vec::new(),
            depth: 0,
        }
    }

    /// Generates the module's unit (CPython's `compiler_codegen` plus the final return).
    fn module_unit(&mut self, module: &'a Mod) -> CResult<CodeUnit> {
        let top = crate::symtable::BlockId(0);
        self.enter_scope("<module>", ScopeType::Module, top, 1)?;
        let start = Location {
            lineno: 1,
            end_lineno: 1,
            col_offset: 0,
            end_col_offset: 0,
        };
        let add_none = match module {
            Mod::Module { body } => {
                self.body(start, body)?;
                true
            }
            Mod::Interactive { body } => {
                if stmt::find_ann(body) {
                    self.emit(crate::ir::Opcode::SETUP_ANNOTATIONS, 0, start);
                }
                self.interactive = true;
                for s in body {
                    self.visit_stmt(s)?;
                }
                true
            }
            Mod::Expression { body } => {
                self.visit_expr(body)?;
                false
            }
        };
        Ok(self.finish_unit(add_none))
    }

    /// A `SyntaxError` at `loc` (CPython's `compiler_error`).
    pub(crate) fn error(&self, loc: Location, msg: impl Into<String>) -> CompileError {
        CompileError {
            kind: crate::error::ErrorKind::SyntaxError,
            msg: msg.into(),
            lineno: loc.lineno.max(0) as u32,
            offset: (loc.col_offset + 1).max(0) as u32,
            end_lineno: loc.end_lineno.max(0) as u32,
            end_offset: (loc.end_col_offset + 1).max(0) as u32,
        }
    }

    /// Runs a recursive step (entered with [`Compiler::enter_nested`]) on a new stack segment
    /// when the current one runs low, checking the stack left every [`STACK_CHECK_LEVELS`]
    /// levels.
    fn guarded<T>(&mut self, step: impl FnOnce(&mut Self) -> T) -> T {
        if self.depth % STACK_CHECK_LEVELS == 0 {
            stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || step(self))
        } else {
            step(self)
        }
    }

    /// Tracks nesting so that hostile input fails cleanly instead of overflowing the stack.
    fn enter_nested(&mut self, at: Location) -> CResult {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.too_deep(at));
        }
        Ok(())
    }

    /// The `RecursionError` of nesting deeper than [`MAX_NESTING`], made out of line so that
    /// the common path computes nothing for it.
    #[cold]
    #[inline(never)]
    fn too_deep(&self, at: Location) -> CompileError {
        let mut err = self.error(at, "too many nested expressions or statements");
        err.kind = crate::error::ErrorKind::RecursionError;
        err.msg = "maximum recursion depth exceeded during compilation".into();
        err
    }
}
