//! Class definitions: the body function, `__module__`/`__qualname__`, the `__class__` and
//! `__classdict__` cells, `__build_class__`, and generic classes.

use pyc_loader::marshal::{Object, Str};

use super::stmt::intrinsic1;
use super::{loc, CResult, Compiler, ScopeType, NO_LOC};
use crate::ast::{ClassDef, Expr, ExprContext, ExprKind, Stmt};
use crate::ir::{Location, Opcode};

impl<'a> Compiler<'a> {
    /// `class` (`compiler_class`).
    pub(crate) fn class_def(&mut self, s: &'a Stmt, c: &'a ClassDef) -> CResult {
        self.decorators(&c.decorator_list)?;
        let firstlineno = c
            .decorator_list
            .first()
            .map_or(s.loc.lineno, |d| d.loc.lineno);
        let at = loc(s.loc);
        let is_generic = !c.type_params.is_empty();
        if is_generic {
            // As CPython 3.12 does, the class name becomes the private name of the enclosing
            // scope too, for the rest of that scope (its symbol table does the same).
            self.u_mut().private = Some(Str::new(&c.name, true));
            self.emit(Opcode::PUSH_NULL, 0, at);
            let block = self.block_of(&c.type_params, at)?;
            let name = format!("<generic parameters of {}>", c.name);
            self.enter_scope(&name, ScopeType::TypeParams, block, firstlineno)?;
            self.type_params(&c.type_params)?;
            self.nameop(at, ".type_params", ExprContext::Store)?;
        }
        self.class_body(s, c, firstlineno)?;
        if is_generic {
            self.nameop(at, ".type_params", ExprContext::Load)?;
            self.emit(Opcode::CALL_INTRINSIC_1, intrinsic1::SUBSCRIPT_GENERIC, at);
            self.nameop(at, ".generic_base", ExprContext::Store)?;
            let generic_base = generic_base_node(at);
            let bases: Vec<&Expr> = c.bases.iter().chain([&generic_base]).collect();
            self.call_helper(at, 2, &bases, &c.keywords)?;
            let done = self.finish_and_assemble(false)?;
            self.make_closure(at, done, 0)?;
            self.emit(Opcode::CALL, 0, at);
        } else {
            self.call_helper(at, 2, &c.bases, &c.keywords)?;
        }
        self.apply_decorators(&c.decorator_list);
        self.nameop(at, &c.name, ExprContext::Store)
    }
}

/// The `.generic_base` name node CPython appends to a generic class's bases.
fn generic_base_node(at: Location) -> Expr {
    Expr {
        loc: crate::ast::Loc {
            lineno: at.lineno as u32,
            col: at.col_offset as u32,
            end_lineno: at.end_lineno as u32,
            end_col: at.end_col_offset as u32,
        },
        kind: ExprKind::Name {
            id: ".generic_base".into(),
            ctx: ExprContext::Load,
        },
    }
}

impl<'a> Compiler<'a> {
    /// The class body as a function, then `LOAD_BUILD_CLASS`, the function and the name
    /// (`compiler_class_body`).
    fn class_body(&mut self, s: &'a Stmt, c: &'a ClassDef, firstlineno: u32) -> CResult {
        let block = self.block_of(s, loc(s.loc))?;
        self.enter_scope(&c.name, ScopeType::Class, block, firstlineno)?;
        let at = Location {
            lineno: firstlineno as i32,
            end_lineno: firstlineno as i32,
            col_offset: 0,
            end_col_offset: 0,
        };
        self.u_mut().private = Some(Str::new(&c.name, true));
        self.nameop(at, "__name__", ExprContext::Load)?;
        self.nameop(at, "__module__", ExprContext::Store)?;
        let qualname = self.u().code.metadata.qualname.clone();
        self.load_const(
            Object::Str(Str::new(&qualname.to_string_lossy(), false)),
            at,
        );
        self.nameop(at, "__qualname__", ExprContext::Store)?;
        if !c.type_params.is_empty() {
            self.nameop(at, ".type_params", ExprContext::Load)?;
            self.nameop(at, "__type_params__", ExprContext::Store)?;
        }
        let ste = self.u().block;
        if ste.needs_classdict {
            self.emit(Opcode::LOAD_LOCALS, 0, at);
            let i = self.cell_index("__classdict__");
            self.emit(Opcode::STORE_DEREF, i, at);
        }
        self.body(at, &c.body)?;
        if ste.needs_classdict {
            let i = self.cell_index("__classdict__");
            self.emit(Opcode::LOAD_CLOSURE, i, NO_LOC);
            self.nameop(NO_LOC, "__classdictcell__", ExprContext::Store)?;
        }
        if ste.needs_class_closure {
            let i = self.cell_index("__class__");
            self.emit(Opcode::LOAD_CLOSURE, i, NO_LOC);
            self.emit(Opcode::COPY, 1, NO_LOC);
            self.nameop(NO_LOC, "__classcell__", ExprContext::Store)?;
        } else {
            self.load_const(Object::None, NO_LOC);
        }
        self.emit(Opcode::RETURN_VALUE, 0, NO_LOC);
        let done = self.finish_and_assemble(true)?;
        let at = loc(s.loc);
        self.emit(Opcode::PUSH_NULL, 0, at);
        self.emit(Opcode::LOAD_BUILD_CLASS, 0, at);
        self.make_closure(at, done, 0)?;
        self.load_const(Object::Str(Str::new(&c.name, true)), at);
        Ok(())
    }
}
