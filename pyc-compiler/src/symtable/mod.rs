//! The symbol table: which names each scope defines and uses, and how code generation must
//! reach each of them (fast local, cell, free, global or name lookup), with CPython 3.12's
//! scoping rules (`Python/symtable.c`).
//!
//! Scopes are [`Block`]s. Code generation finds the block of a scope-creating node with
//! [`SymbolTable::block_of`], keyed by the node's address, as CPython keys by pointer. The tree
//! must not move between building the table and generating code. The keys:
//!
//! | block | key |
//! |---|---|
//! | function (`def`, `async def`) | the `Stmt` |
//! | class | the `Stmt` |
//! | type alias (the annotation scope of the value, [`AnnotationKind::TypeAlias`]) | the `Stmt` |
//! | lambda, list/set/dict comprehension, generator expression | the `Expr` |
//! | type parameters of a generic def/class/alias ([`AnnotationKind::TypeParams`]) | the `Vec<TypeParam>` field (`&def.type_params`) |
//! | bound of a type variable ([`AnnotationKind::TypeVarBound`]) | the `TypeParam` |
//!
//! The type-alias value and the type-variable bound are keyed like CPython's (statement and type
//! parameter), not by their expression: that expression may itself be a lambda, whose block is
//! keyed by the same address.
//!
//! Under `from __future__ import annotations` CPython visits annotations in throwaway scopes
//! that never reach code generation; they are not in the table.
//!
//! Inlined comprehensions (PEP 709) keep their block (`comp_inlined`, reachable with `block_of`),
//! but, as in CPython, the parent's `children` list holds the comprehension's children in its
//! place, and the comprehension's symbols are merged into the parent's.
//!
//! Facts code generation needs, as CPython 3.12 has them:
//! - Symbol names are stored mangled ([`mangle`]); mangle a name with the enclosing class's name
//!   before looking it up. Quirk kept from CPython: after a *generic* class statement the
//!   symbol table keeps mangling the rest of the enclosing scope with that class's name (its
//!   `st_private` is not restored), so `class C[T]: ...` then `__x = 1` records `_C__x`.
//! - [`Block::symbols`] is in CPython's dict order (first use), except that free names only
//!   passing through a block to its children come last in sorted order (CPython: set order).
//! - [`Block::varnames`] holds only the parameters; [`Block::cellvars`] and
//!   [`Block::freevars`] give CPython's `u_cellvars` / `u_freevars`.
//! - The type-parameter block of a generic function always has the `.defaults` parameter (the
//!   parser always makes a defaults sequence), and `.kwdefaults` when a keyword-only parameter
//!   has a default; a generic class's has `.type_params` and `.generic_base`; annotation scopes
//!   inside a class use `__classdict__` and the class then `needs_classdict`.

mod analyze;
mod visit;

use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;

use crate::ast::{Expr, Identifier, Loc, Mod, Stmt, TypeParam};
use crate::error::CompileError;
use crate::future::FutureFeatures;

/// The `DEF_*` flags of a symbol (bit values equal to CPython's, which its `symtable` module
/// exposes).
pub mod def {
    pub const GLOBAL: u32 = 1;
    pub const LOCAL: u32 = 2;
    pub const PARAM: u32 = 4;
    pub const NONLOCAL: u32 = 8;
    pub const USE: u32 = 16;
    pub const FREE: u32 = 32;
    pub const FREE_CLASS: u32 = 64;
    pub const IMPORT: u32 = 128;
    pub const ANNOT: u32 = 256;
    pub const COMP_ITER: u32 = 512;
    pub const TYPE_PARAM: u32 = 1024;
    pub const COMP_CELL: u32 = 2048;
    /// A binding in this scope of any kind.
    pub const BOUND: u32 = LOCAL | PARAM | IMPORT;
}

/// How a name is reached from a block (CPython's scope values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    Local,
    GlobalExplicit,
    GlobalImplicit,
    Free,
    Cell,
}

/// A name's entry in a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// `def::*` bits.
    pub flags: u32,
    /// Resolved scope; `None` only for names the analysis leaves unresolved, as CPython does
    /// (a scope of 0).
    pub scope: Option<Scope>,
}

/// What kind of scope a block is (CPython's `_Py_block_ty`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    Function,
    Class,
    Module,
    /// A PEP 695 annotation scope: the bound of a type variable, a type alias's value, or the
    /// scope that holds a generic function's or class's type parameters.
    Annotation(AnnotationKind),
}

/// The kinds of annotation scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnnotationKind {
    TypeVarBound,
    TypeAlias,
    TypeParams,
}

/// The kind of comprehension a function block is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ComprehensionKind {
    List,
    Set,
    Dict,
    Generator,
}

/// Index of a block in [`SymbolTable::blocks`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockId(pub u32);

/// One scope (CPython's `PySTEntryObject`).
#[derive(Clone, Debug)]
pub struct Block {
    pub kind: BlockKind,
    pub name: Identifier,
    /// Where the scope-creating node starts.
    pub loc: Loc,
    /// Symbols in first-seen order.
    pub symbols: Vec<(Identifier, Symbol)>,
    /// Indices into `symbols`, hashed by name.
    index: hashbrown::HashTable<u32>,
    /// Parameters (mangled) in CPython's order: positional-only, positional, keyword-only,
    /// `*args`, `**kwargs`; `.0` for a comprehension; `.defaults`, `.kwdefaults` for the
    /// type-parameter block of a generic function. Other locals are not here: code generation
    /// adds them as it meets them, as CPython does.
    pub varnames: Vec<Identifier>,
    pub children: Vec<BlockId>,
    pub parent: Option<BlockId>,
    /// Nested inside a function scope.
    pub nested: bool,
    pub generator: bool,
    pub coroutine: bool,
    pub comprehension: Option<ComprehensionKind>,
    /// A comprehension inlined into its parent (PEP 709).
    pub comp_inlined: bool,
    pub varargs: bool,
    pub varkeywords: bool,
    pub returns_value: bool,
    /// Some name of this block is free (resolved in an enclosing function or global from
    /// inside a nested block; CPython's `ste_free`).
    pub free: bool,
    /// A free variable of some child scope is defined here or further out.
    pub child_free: bool,
    /// A class block whose methods use `__class__` or `super()`.
    pub needs_class_closure: bool,
    /// A class block some annotation scope needs `__classdict__` of.
    pub needs_classdict: bool,
    /// An annotation scope (or function in one) that can see its class's names.
    pub can_see_class_scope: bool,
}

impl Block {
    /// A new, empty block.
    pub fn new(kind: BlockKind, name: Identifier, loc: Loc, parent: Option<BlockId>) -> Block {
        Block {
            kind,
            name,
            loc,
            symbols: Vec::new(),
            index: hashbrown::HashTable::new(),
            varnames: Vec::new(),
            children: Vec::new(),
            parent,
            nested: false,
            generator: false,
            coroutine: false,
            comprehension: None,
            comp_inlined: false,
            varargs: false,
            varkeywords: false,
            returns_value: false,
            free: false,
            child_free: false,
            needs_class_closure: false,
            needs_classdict: false,
            can_see_class_scope: false,
        }
    }

    /// The index in `symbols` of the symbol named `name`, and the name's hash.
    fn find(&self, name: &str) -> (Option<usize>, u64) {
        let hash = name_hash(name);
        (self.find_hashed(name, hash), hash)
    }

    /// The index in `symbols` of the symbol named `name`, whose [`name_hash`] is `hash`.
    fn find_hashed(&self, name: &str, hash: u64) -> Option<usize> {
        self.index
            .find(hash, |&i| &*self.symbols[i as usize].0 == name)
            .map(|&i| i as usize)
    }

    /// The symbol named `name`, if the block has one.
    pub fn symbol(&self, name: &str) -> Option<&Symbol> {
        self.find(name).0.map(|i| &self.symbols[i].1)
    }

    /// [`Block::symbol`] with the name's [`name_hash`] already computed.
    pub fn symbol_hashed(&self, name: &str, hash: u64) -> Option<&Symbol> {
        self.find_hashed(name, hash).map(|i| &self.symbols[i].1)
    }

    /// The symbol named `name`, created with no flags if new.
    pub fn symbol_mut(&mut self, name: &str) -> &mut Symbol {
        self.symbol_mut_with(name, || name.into())
    }

    /// As [`Block::symbol_mut`], sharing `name` if the symbol is new.
    pub fn symbol_mut_named(&mut self, name: &Identifier) -> &mut Symbol {
        self.symbol_mut_with(name, || name.clone())
    }

    fn symbol_mut_with(&mut self, name: &str, make: impl FnOnce() -> Identifier) -> &mut Symbol {
        let i = match self.find(name) {
            (Some(i), _) => i,
            (None, hash) => {
                let i = self.symbols.len();
                if i == 0 {
                    self.symbols.reserve(SYMBOLS_AT_FIRST);
                }
                self.symbols.push((
                    make(),
                    Symbol {
                        flags: 0,
                        scope: None,
                    },
                ));
                let symbols = &self.symbols;
                let rehash = |&j: &u32| name_hash(&symbols[j as usize].0);
                if self.index.capacity() == 0 {
                    // Room for a typical scope's names at once: growing from the smallest
                    // table rehashes every name at each step.
                    self.index.reserve(SYMBOLS_AT_FIRST, rehash);
                }
                self.index.insert_unique(hash, i as u32, rehash);
                i
            }
        };
        &mut self.symbols[i].1
    }

    /// The resolved scope of `name` (CPython's `_PyST_GetScope`), `None` if unknown here.
    pub fn scope(&self, name: &str) -> Option<Scope> {
        self.symbol(name).and_then(|s| s.scope)
    }

    /// The `DEF_*` flags of `name` (0 if unknown here).
    pub fn flags(&self, name: &str) -> u32 {
        self.symbol(name).map_or(0, |s| s.flags)
    }

    /// The names needing a cell in this scope, in CPython's `u_cellvars` order: the sorted
    /// names of scope cell (or marked `COMP_CELL` by an inlined comprehension), then the
    /// implicit `__class__` and `__classdict__` cells of a class.
    pub fn cellvars(&self) -> Vec<&str> {
        let mut cells = self.names_by(Scope::Cell, def::COMP_CELL);
        if self.needs_class_closure {
            cells.push("__class__");
        }
        if self.needs_classdict {
            cells.push("__classdict__");
        }
        cells
    }

    /// The names this scope receives from enclosing scopes, in CPython's `u_freevars` order
    /// (sorted): scope free, or marked `FREE_CLASS` (a class name also free in a method).
    pub fn freevars(&self) -> Vec<&str> {
        self.names_by(Scope::Free, def::FREE_CLASS)
    }

    /// CPython's `dictbytype`: the sorted names of scope `scope` or with `flag`.
    fn names_by(&self, scope: Scope, flag: u32) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .symbols
            .iter()
            .filter(|(_, s)| s.scope == Some(scope) || s.flags & flag != 0)
            .map(|(n, _)| &**n)
            .collect();
        names.sort_unstable();
        names
    }
}

pub use crate::ir::name_hash;

/// Room for a typical scope's symbols, made when the first arrives.
const SYMBOLS_AT_FIRST: usize = 14;

/// The symbol table of one compilation unit.
#[derive(Clone, Debug)]
pub struct SymbolTable {
    /// All blocks; the module block is first.
    pub blocks: Vec<Block>,
    /// Scope-creating node address to its block.
    by_node: HashMap<usize, BlockId>,
}

impl SymbolTable {
    /// The module's block.
    pub fn top(&self) -> &Block {
        &self.blocks[0]
    }

    /// A block by id.
    pub fn block(&self, id: BlockId) -> &Block {
        &self.blocks[id.0 as usize]
    }

    /// The block created for `node`, keyed by its address (see the module documentation for
    /// which node keys which block). Pass the node itself, never a `Box` holding it: prefer the
    /// typed forms below.
    pub fn block_of<T>(&self, node: &T) -> Option<BlockId> {
        self.by_node.get(&(node as *const T as usize)).copied()
    }

    /// The block of a `def`, `class` or `type` statement (for `type`: the value's scope).
    pub fn block_of_stmt(&self, stmt: &Stmt) -> Option<BlockId> {
        self.block_of(stmt)
    }

    /// The block of a lambda, comprehension or generator expression.
    pub fn block_of_expr(&self, expr: &Expr) -> Option<BlockId> {
        self.block_of(expr)
    }

    /// The type-parameter scope of a generic def/class/alias: pass its `type_params` field.
    #[allow(clippy::ptr_arg)] // keyed by the field's address, not by its elements'
    pub fn block_of_type_params(&self, params: &Vec<TypeParam>) -> Option<BlockId> {
        self.block_of(params)
    }

    /// The bound scope of a type variable with a bound.
    pub fn block_of_bound(&self, param: &TypeParam) -> Option<BlockId> {
        self.block_of(param)
    }

    /// Records that `node` created block `id`.
    pub fn set_block_of<T>(&mut self, node: &T, id: BlockId) {
        self.by_node.insert(node as *const T as usize, id);
    }
}

impl BlockKind {
    /// A function-like scope (`_PyST_IsFunctionLike`): functions, lambdas, comprehensions and
    /// the three annotation scopes, which use fast locals.
    pub fn is_function_like(self) -> bool {
        matches!(self, BlockKind::Function | BlockKind::Annotation(_))
    }
}

/// Private-name mangling (`_Py_Mangle`): inside class `private`, `__x` becomes `_private__x`
/// with the class name's leading underscores stripped. Dunder names (`__x__`), dotted names and
/// names in a class whose name is all underscores are left alone.
#[inline]
pub fn mangle<'a>(private: Option<&str>, name: &'a str) -> Cow<'a, str> {
    match private {
        Some(private) if name.starts_with("__") => mangle_private(private, name),
        _ => Cow::Borrowed(name),
    }
}

/// [`mangle`] of a name starting with `__` inside class `private`.
fn mangle_private<'a>(private: &str, name: &'a str) -> Cow<'a, str> {
    if name.ends_with("__") || name.contains('.') {
        return Cow::Borrowed(name);
    }
    let class = private.trim_start_matches('_');
    if class.is_empty() {
        return Cow::Borrowed(name);
    }
    Cow::Owned(format!("_{class}{name}"))
}

/// Nesting (of expressions while collecting, of scopes while analyzing) after which the walk
/// continues on a thread of its own with a [`DEEP_STACK`] stack, so that trees as deep as
/// CPython accepts never overflow the caller's stack.
const DEEP: u32 = 128;
/// Stack of each continuation thread: room for [`DEEP`] more levels with a wide margin.
const DEEP_STACK: usize = 64 << 20;

/// Runs `f` on a scoped thread with a [`DEEP_STACK`] stack, passing its panics on.
fn on_deep_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(DEEP_STACK)
            .spawn_scoped(s, f)
            .expect("spawning a thread for a deeply nested tree")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Builds the symbol table of a module, raising the SyntaxErrors CPython's symtable raises.
pub fn build(
    module: &Mod,
    filename: &str,
    future: &FutureFeatures,
) -> Result<SymbolTable, CompileError> {
    let _ = filename;
    let mut collected = visit::collect(module, future)?;
    analyze::analyze(&mut collected)?;
    Ok(collected.table)
}
