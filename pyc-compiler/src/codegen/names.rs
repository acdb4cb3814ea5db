//! Names: private-name mangling, and the load/store/delete instruction each name needs in
//! the current scope (CPython's `compiler_nameop` and `compiler_addop_name`).

use std::borrow::Cow;

use pyc_loader::marshal::Str;

use super::unit::name_str;
use super::{CResult, Compiler};
use crate::ast::ExprContext;
use crate::ir::{name_hash, Location, Opcode};
use crate::symtable::{BlockKind, Scope};

/// CPython's `_Py_Mangle`: `__spam` inside class `Ham` becomes `_Ham__spam`.
#[inline]
pub(crate) fn mangle<'n>(private: Option<&Str>, name: &'n str) -> Cow<'n, str> {
    match private {
        Some(private) if name.starts_with("__") => mangle_private(private, name),
        _ => Cow::Borrowed(name),
    }
}

/// [`mangle`] of a name starting with `__` inside class `private`.
fn mangle_private<'n>(private: &Str, name: &'n str) -> Cow<'n, str> {
    if name.ends_with("__") || name.contains('.') {
        return Cow::Borrowed(name);
    }
    let private = private.to_string_lossy();
    let stripped = private.trim_start_matches('_');
    if stripped.is_empty() {
        return Cow::Borrowed(name);
    }
    Cow::Owned(format!("_{stripped}{name}"))
}

/// Which table an instruction's name argument indexes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameTable {
    Names,
    Varnames,
    Cellvars,
    Freevars,
}

impl<'a> Compiler<'a> {
    /// `name` mangled with the current class name.
    pub(crate) fn mangle<'n>(&self, name: &'n str) -> Cow<'n, str> {
        mangle(self.u().private.as_ref(), name)
    }

    /// The index of an already-mangled name in one of the unit's tables; free variables are
    /// numbered after the cell variables, as CPython numbers them.
    pub(crate) fn name_index(&mut self, table: NameTable, name: &str) -> u32 {
        self.name_index_hashed(table, name, name_hash(name))
    }

    /// [`Compiler::name_index`] with the name's [`name_hash`] already computed.
    fn name_index_hashed(&mut self, table: NameTable, name: &str, hash: u64) -> u32 {
        let md = &mut self.u_mut().code.metadata;
        match table {
            NameTable::Names => md.names.add_interned_hashed(name, hash),
            NameTable::Varnames => md.varnames.add_interned_hashed(name, hash),
            NameTable::Cellvars => md.cellvars.add_interned_hashed(name, hash),
            NameTable::Freevars => {
                md.cellvars.len() as u32 + md.freevars.add_interned_hashed(name, hash)
            }
        }
    }

    /// An instruction whose argument is a name of `co_names`, mangled (`ADDOP_NAME`), with
    /// the attribute-load pseudo-instructions folded into their real opcodes as CPython 3.12
    /// does at this point.
    pub(crate) fn emit_name(&mut self, op: Opcode, name: &str, loc: Location) {
        let mangled = self.mangle(name);
        let arg = self.name_index(NameTable::Names, &mangled);
        let (op, arg) = match op {
            Opcode::LOAD_ATTR => (Opcode::LOAD_ATTR, arg << 1),
            Opcode::LOAD_METHOD => (Opcode::LOAD_ATTR, (arg << 1) | 1),
            Opcode::LOAD_SUPER_ATTR => (Opcode::LOAD_SUPER_ATTR, (arg << 2) | 2),
            Opcode::LOAD_SUPER_METHOD => (Opcode::LOAD_SUPER_ATTR, (arg << 2) | 3),
            Opcode::LOAD_ZERO_SUPER_ATTR => (Opcode::LOAD_SUPER_ATTR, arg << 2),
            Opcode::LOAD_ZERO_SUPER_METHOD => (Opcode::LOAD_SUPER_ATTR, (arg << 2) | 1),
            other => (other, arg),
        };
        self.emit(op, arg, loc);
    }

    /// An instruction whose argument is a mangled name of a local table (`ADDOP_NAME` on
    /// varnames, cellvars or freevars).
    pub(crate) fn emit_local(&mut self, op: Opcode, table: NameTable, name: &str, loc: Location) {
        let mangled = self.mangle(name);
        let arg = self.name_index(table, &mangled);
        self.emit(op, arg, loc);
    }

    /// Loads, stores or deletes a variable (`compiler_nameop`).
    pub(crate) fn nameop(&mut self, loc: Location, name: &str, ctx: ExprContext) -> CResult {
        if name == "__debug__" && ctx != ExprContext::Load {
            let verb = if ctx == ExprContext::Del {
                "delete"
            } else {
                "assign to"
            };
            return Err(self.error(loc, format!("cannot {verb} __debug__")));
        }
        let mangled = self.mangle(name);
        // One hash for the symbol lookup and the name table.
        let hash = name_hash(&mangled);
        let u = self.u();
        let scope = u.symbol_hashed(&mangled, hash).and_then(|s| s.scope);
        enum Kind {
            Deref(NameTable),
            Fast,
            Global,
            Name,
        }
        let kind = match scope {
            Some(Scope::Free) => Kind::Deref(NameTable::Freevars),
            Some(Scope::Cell) => Kind::Deref(NameTable::Cellvars),
            Some(Scope::Local) => {
                let hidden = || {
                    !u.fasthidden.is_empty() && u.fasthidden.get(&name_str(&mangled)) == Some(&true)
                };
                if u.is_function_like() || hidden() {
                    Kind::Fast
                } else {
                    Kind::Name
                }
            }
            Some(Scope::GlobalImplicit) => {
                if u.is_function_like() {
                    Kind::Global
                } else {
                    Kind::Name
                }
            }
            Some(Scope::GlobalExplicit) => Kind::Global,
            None => Kind::Name,
        };
        let is_class = u.block.kind == BlockKind::Class;
        let in_comp = u.in_inlined_comp > 0;
        let sees_class = u.block.can_see_class_scope;
        match kind {
            Kind::Deref(table) => {
                let op = match ctx {
                    ExprContext::Load => {
                        if is_class && !in_comp {
                            self.emit(Opcode::LOAD_LOCALS, 0, loc);
                            Opcode::LOAD_FROM_DICT_OR_DEREF
                        } else if sees_class {
                            let i = self.name_index(NameTable::Freevars, "__classdict__");
                            self.emit(Opcode::LOAD_DEREF, i, loc);
                            Opcode::LOAD_FROM_DICT_OR_DEREF
                        } else {
                            Opcode::LOAD_DEREF
                        }
                    }
                    ExprContext::Store => Opcode::STORE_DEREF,
                    ExprContext::Del => Opcode::DELETE_DEREF,
                };
                let arg = self.name_index_hashed(table, &mangled, hash);
                self.emit(op, arg, loc);
            }
            Kind::Fast => {
                let op = match ctx {
                    ExprContext::Load => Opcode::LOAD_FAST,
                    ExprContext::Store => Opcode::STORE_FAST,
                    ExprContext::Del => Opcode::DELETE_FAST,
                };
                let arg = self.name_index_hashed(NameTable::Varnames, &mangled, hash);
                self.emit(op, arg, loc);
            }
            Kind::Global => {
                let op = match ctx {
                    ExprContext::Load => {
                        if sees_class && scope == Some(Scope::GlobalImplicit) {
                            let i = self.name_index(NameTable::Freevars, "__classdict__");
                            self.emit(Opcode::LOAD_DEREF, i, loc);
                            Opcode::LOAD_FROM_DICT_OR_GLOBALS
                        } else {
                            Opcode::LOAD_GLOBAL
                        }
                    }
                    ExprContext::Store => Opcode::STORE_GLOBAL,
                    ExprContext::Del => Opcode::DELETE_GLOBAL,
                };
                self.emit_global_or_name(op, &mangled, hash, loc);
            }
            Kind::Name => {
                let op = match ctx {
                    ExprContext::Load => {
                        if is_class && in_comp {
                            Opcode::LOAD_GLOBAL
                        } else {
                            Opcode::LOAD_NAME
                        }
                    }
                    ExprContext::Store => Opcode::STORE_NAME,
                    ExprContext::Del => Opcode::DELETE_NAME,
                };
                self.emit_global_or_name(op, &mangled, hash, loc);
            }
        }
        Ok(())
    }

    fn emit_global_or_name(&mut self, op: Opcode, mangled: &str, hash: u64, loc: Location) {
        let mut arg = self.name_index_hashed(NameTable::Names, mangled, hash);
        if op == Opcode::LOAD_GLOBAL {
            arg <<= 1;
        }
        self.emit(op, arg, loc);
    }

    /// The index of a name in the current unit's cell variables.
    pub(crate) fn cell_index(&mut self, name: &str) -> u32 {
        self.name_index(NameTable::Cellvars, name)
    }

    /// How `name` is reached from the current unit (`get_ref_type`).
    pub(crate) fn ref_type(&self, name: &str) -> Option<Scope> {
        let u = self.u();
        if u.scope_type == super::ScopeType::Class
            && (name == "__class__" || name == "__classdict__")
        {
            return Some(Scope::Cell);
        }
        u.scope(name)
    }
}
