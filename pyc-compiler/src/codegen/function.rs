//! Functions and lambdas: defaults, annotations, decorators, closures, PEP 695 type
//! parameters and `type` aliases.

use pyc_loader::marshal::{Object, Str};

use super::stmt::{docstring, intrinsic1, intrinsic2};
use super::unit::CodeUnitDone;
use super::{loc, CResult, Compiler, ScopeType, NO_LOC};
use crate::ast::{
    Arguments, Expr, ExprContext, ExprKind, FunctionDef, Stmt, TypeAlias, TypeParam, TypeParamKind,
};
use crate::ir::{Arg, Location, Opcode};
use crate::symtable::{BlockId, Scope};

/// `MAKE_FUNCTION` flags.
pub(crate) mod make_function {
    pub const DEFAULTS: u32 = 0x01;
    pub const KWDEFAULTS: u32 = 0x02;
    pub const ANNOTATIONS: u32 = 0x04;
    pub const CLOSURE: u32 = 0x08;
}

impl<'a> Compiler<'a> {
    /// The symbol-table block of a scope-creating node.
    pub(crate) fn block_of<T>(&self, node: &T, at: Location) -> CResult<BlockId> {
        self.symbols
            .block_of(node)
            .ok_or_else(|| self.error(at, "internal error: no symbol table block for scope"))
    }

    /// Rejects `__debug__` as a parameter name (`compiler_check_debug_args`).
    pub(crate) fn check_debug_args(&self, args: &Arguments) -> CResult {
        let all = args
            .posonlyargs
            .iter()
            .chain(&args.args)
            .chain(&args.vararg)
            .chain(&args.kwonlyargs)
            .chain(&args.kwarg);
        for a in all {
            if &*a.arg == "__debug__" {
                return Err(self.error(loc(a.loc), "cannot assign to __debug__"));
            }
        }
        Ok(())
    }

    /// Pushes default values; returns the `MAKE_FUNCTION` flags for them
    /// (`compiler_default_arguments`).
    pub(crate) fn default_arguments(&mut self, at: Location, args: &Arguments) -> CResult<u32> {
        let mut flags = 0;
        if !args.defaults.is_empty() {
            for d in &args.defaults {
                self.visit_expr(d)?;
            }
            self.emit(Opcode::BUILD_TUPLE, args.defaults.len() as u32, at);
            flags |= make_function::DEFAULTS;
        }
        let mut keys = Vec::new();
        for (arg, default) in args.kwonlyargs.iter().zip(&args.kw_defaults) {
            if let Some(d) = default {
                keys.push(Object::Str(Str::new(&self.mangle(&arg.arg), true)));
                self.visit_expr(d)?;
            }
        }
        if !keys.is_empty() {
            let n = keys.len() as u32;
            self.load_const(Object::Tuple(keys.into()), at);
            self.emit(Opcode::BUILD_CONST_KEY_MAP, n, at);
            flags |= make_function::KWDEFAULTS;
        }
        Ok(flags)
    }

    /// Pushes the annotations tuple; returns whether there is one
    /// (`compiler_visit_annotations`).
    fn annotations(
        &mut self,
        at: Location,
        args: &Arguments,
        returns: Option<&Expr>,
    ) -> CResult<bool> {
        let mut len = 0;
        for a in args.args.iter().chain(&args.posonlyargs) {
            self.arg_annotation(at, &a.arg, a.annotation.as_deref(), &mut len)?;
        }
        if let Some(v) = &args.vararg {
            self.arg_annotation(at, &v.arg, v.annotation.as_deref(), &mut len)?;
        }
        for a in &args.kwonlyargs {
            self.arg_annotation(at, &a.arg, a.annotation.as_deref(), &mut len)?;
        }
        if let Some(k) = &args.kwarg {
            self.arg_annotation(at, &k.arg, k.annotation.as_deref(), &mut len)?;
        }
        self.arg_annotation(at, "return", returns, &mut len)?;
        if len > 0 {
            self.emit(Opcode::BUILD_TUPLE, len, at);
        }
        Ok(len > 0)
    }

    fn arg_annotation(
        &mut self,
        at: Location,
        name: &str,
        annotation: Option<&Expr>,
        len: &mut u32,
    ) -> CResult {
        let Some(annotation) = annotation else {
            return Ok(());
        };
        let mangled = self.mangle(name);
        self.load_const(Object::Str(Str::new(&mangled, true)), at);
        if self.future.annotations() {
            self.annotation_value(annotation)?;
        } else if let ExprKind::Starred { value, .. } = &annotation.kind {
            self.visit_expr(value)?;
            self.emit(Opcode::UNPACK_SEQUENCE, 1, at);
        } else {
            self.visit_expr(annotation)?;
        }
        *len += 2;
        Ok(())
    }

    /// Evaluates the decorators (`compiler_decorators`).
    pub(crate) fn decorators(&mut self, decos: &[Expr]) -> CResult {
        for d in decos {
            self.visit_expr(d)?;
        }
        Ok(())
    }

    /// Calls the decorators, innermost first (`compiler_apply_decorators`).
    pub(crate) fn apply_decorators(&mut self, decos: &[Expr]) {
        for d in decos.iter().rev() {
            self.emit(Opcode::CALL, 0, loc(d.loc));
        }
    }

    /// Makes a function object from an assembled code object, with its closure
    /// (`compiler_make_closure`).
    pub(crate) fn make_closure(
        &mut self,
        at: Location,
        done: CodeUnitDone,
        mut flags: u32,
    ) -> CResult {
        if !done.freevars.is_empty() {
            for name in &done.freevars {
                let name = name.to_string_lossy();
                let arg = if self.ref_type(&name) == Some(Scope::Cell) {
                    self.u().code.metadata.cellvars.get(&Str::new(&name, true))
                } else {
                    let md = &self.u().code.metadata;
                    md.freevars
                        .get(&Str::new(&name, true))
                        .map(|i| i + md.cellvars.len() as u32)
                };
                let Some(arg) = arg else {
                    return Err(self.error(
                        at,
                        format!("internal error: cannot find free variable {name} for closure"),
                    ));
                };
                self.emit(Opcode::LOAD_CLOSURE, arg, at);
            }
            flags |= make_function::CLOSURE;
            self.emit(Opcode::BUILD_TUPLE, done.freevars.len() as u32, at);
        }
        self.load_const(Object::Code(done.code), at);
        self.emit(Opcode::MAKE_FUNCTION, flags, at);
        Ok(())
    }

    /// `def` and `async def` (`compiler_function`).
    pub(crate) fn function_def(&mut self, s: &'a Stmt, f: &'a FunctionDef) -> CResult {
        self.check_debug_args(&f.args)?;
        self.decorators(&f.decorator_list)?;
        let firstlineno = f
            .decorator_list
            .first()
            .map_or(s.loc.lineno, |d| d.loc.lineno);
        let at = loc(s.loc);
        let is_generic = !f.type_params.is_empty();
        if is_generic {
            self.emit(Opcode::PUSH_NULL, 0, at);
        }
        let mut flags = self.default_arguments(at, &f.args)?;
        let mut num_typeparam_args = 0;
        if is_generic {
            if flags & make_function::DEFAULTS != 0 {
                num_typeparam_args += 1;
            }
            if flags & make_function::KWDEFAULTS != 0 {
                num_typeparam_args += 1;
            }
            if num_typeparam_args == 2 {
                self.emit(Opcode::SWAP, 2, at);
            }
            let block = self.block_of(&f.type_params, at)?;
            let name = format!("<generic parameters of {}>", f.name);
            self.enter_scope(&name, ScopeType::TypeParams, block, firstlineno)?;
            self.type_params(&f.type_params)?;
            for i in 0..num_typeparam_args {
                self.emit(Opcode::LOAD_FAST, i, at);
            }
        }
        if self.annotations(at, &f.args, f.returns.as_ref())? {
            flags |= make_function::ANNOTATIONS;
        }
        self.function_body(s, f, flags, firstlineno)?;
        if is_generic {
            self.emit(Opcode::SWAP, 2, at);
            self.emit(
                Opcode::CALL_INTRINSIC_2,
                intrinsic2::SET_FUNCTION_TYPE_PARAMS,
                at,
            );
            self.u_mut().code.metadata.argcount = num_typeparam_args;
            let done = self.finish_and_assemble(false)?;
            self.make_closure(at, done, 0)?;
            if num_typeparam_args > 0 {
                self.emit(Opcode::SWAP, num_typeparam_args + 1, at);
            }
            self.emit(Opcode::CALL, num_typeparam_args, at);
        }
        self.apply_decorators(&f.decorator_list);
        self.nameop(at, &f.name, ExprContext::Store)
    }

    fn function_body(
        &mut self,
        s: &'a Stmt,
        f: &'a FunctionDef,
        flags: u32,
        firstlineno: u32,
    ) -> CResult {
        let scope_type = if f.is_async {
            ScopeType::AsyncFunction
        } else {
            ScopeType::Function
        };
        let block = self.block_of(s, loc(s.loc))?;
        self.enter_scope(&f.name, scope_type, block, firstlineno)?;
        let doc = if self.options.optimize < 2 {
            docstring(&f.body)
        } else {
            None
        };
        match doc {
            Some(d) => self.add_const(Object::Str(d.clone())),
            None => self.add_const(Object::None),
        };
        let md = &mut self.u_mut().code.metadata;
        md.argcount = f.args.args.len() as u32;
        md.posonlyargcount = f.args.posonlyargs.len() as u32;
        md.kwonlyargcount = f.args.kwonlyargs.len() as u32;
        let body = if doc.is_some() {
            &f.body[1..]
        } else {
            &f.body[..]
        };
        self.visit_stmts(body)?;
        let ste = self.u().block;
        if ste.coroutine || ste.generator {
            self.wrap_in_stopiteration_handler();
        }
        let done = self.finish_and_assemble(true)?;
        self.make_closure(loc(s.loc), done, flags)
    }

    /// Wraps the whole unit in a handler turning a leaking `StopIteration` into a
    /// `RuntimeError` (`wrap_in_stopiteration_handler`).
    pub(crate) fn wrap_in_stopiteration_handler(&mut self) {
        let handler = self.new_label();
        self.insert_instr(0, Opcode::SETUP_CLEANUP, Arg::Label(handler), NO_LOC);
        self.load_const(Object::None, NO_LOC);
        self.emit(Opcode::RETURN_VALUE, 0, NO_LOC);
        self.bind(handler);
        self.emit(
            Opcode::CALL_INTRINSIC_1,
            intrinsic1::STOPITERATION_ERROR,
            NO_LOC,
        );
        self.emit(Opcode::RERAISE, 1, NO_LOC);
    }

    /// `lambda` (`compiler_lambda`).
    pub(crate) fn lambda(&mut self, e: &Expr, args: &Arguments, body: &Expr) -> CResult {
        self.check_debug_args(args)?;
        let at = loc(e.loc);
        let flags = self.default_arguments(at, args)?;
        let block = self.block_of(e, at)?;
        self.enter_scope("<lambda>", ScopeType::Lambda, block, e.loc.lineno)?;
        self.add_const(Object::None);
        let md = &mut self.u_mut().code.metadata;
        md.argcount = args.args.len() as u32;
        md.posonlyargcount = args.posonlyargs.len() as u32;
        md.kwonlyargcount = args.kwonlyargs.len() as u32;
        self.visit_expr(body)?;
        let done = if self.u().block.generator {
            self.finish_and_assemble(false)?
        } else {
            let line = e.loc.lineno as i32;
            let at = Location {
                lineno: line,
                end_lineno: line,
                col_offset: 0,
                end_col_offset: 0,
            };
            self.emit(Opcode::RETURN_VALUE, 0, at);
            self.finish_and_assemble(true)?
        };
        self.make_closure(at, done, flags)
    }

    /// Creates the type parameters and leaves their tuple on the stack
    /// (`compiler_type_params`).
    pub(crate) fn type_params(&mut self, params: &[TypeParam]) -> CResult {
        for tp in params {
            let at = loc(tp.loc);
            let name: &str = match &tp.kind {
                TypeParamKind::TypeVar { name, bound } => {
                    self.load_const(Object::Str(Str::new(name, true)), at);
                    if let Some(bound) = bound {
                        // Keyed by the type parameter: the bound expression may itself open a
                        // scope (a lambda or comprehension) keyed by its own address.
                        let block = self.block_of(tp, at)?;
                        self.enter_scope(name, ScopeType::TypeParams, block, bound.loc.lineno)?;
                        self.visit_expr(bound)?;
                        self.emit(Opcode::RETURN_VALUE, 0, at);
                        let done = self.finish_and_assemble(true)?;
                        self.make_closure(at, done, 0)?;
                        let intrinsic = if matches!(bound.kind, ExprKind::Tuple { .. }) {
                            intrinsic2::TYPEVAR_WITH_CONSTRAINTS
                        } else {
                            intrinsic2::TYPEVAR_WITH_BOUND
                        };
                        self.emit(Opcode::CALL_INTRINSIC_2, intrinsic, at);
                    } else {
                        self.emit(Opcode::CALL_INTRINSIC_1, intrinsic1::TYPEVAR, at);
                    }
                    name
                }
                TypeParamKind::TypeVarTuple { name } => {
                    self.load_const(Object::Str(Str::new(name, true)), at);
                    self.emit(Opcode::CALL_INTRINSIC_1, intrinsic1::TYPEVARTUPLE, at);
                    name
                }
                TypeParamKind::ParamSpec { name } => {
                    self.load_const(Object::Str(Str::new(name, true)), at);
                    self.emit(Opcode::CALL_INTRINSIC_1, intrinsic1::PARAMSPEC, at);
                    name
                }
            };
            self.emit(Opcode::COPY, 1, at);
            self.nameop(at, name, ExprContext::Store)?;
        }
        self.emit(Opcode::BUILD_TUPLE, params.len() as u32, loc(params[0].loc));
        Ok(())
    }

    /// `type X[T] = ...` (`compiler_typealias`).
    pub(crate) fn type_alias(&mut self, s: &'a Stmt, t: &'a TypeAlias) -> CResult {
        let at = loc(s.loc);
        let ExprKind::Name { id: name, .. } = &t.name.kind else {
            return Err(self.error(at, "internal error: type alias name is not a Name"));
        };
        let is_generic = !t.type_params.is_empty();
        let name_const = Object::Str(Str::new(name, true));
        if is_generic {
            self.emit(Opcode::PUSH_NULL, 0, at);
            let block = self.block_of(&t.type_params, at)?;
            let scope_name = format!("<generic parameters of {name}>");
            self.enter_scope(&scope_name, ScopeType::TypeParams, block, s.loc.lineno)?;
            self.load_const(name_const, at);
            self.type_params(&t.type_params)?;
        } else {
            self.load_const(name_const, at);
            self.load_const(Object::None, at);
        }
        let block = self.block_of(s, at)?;
        self.enter_scope(name, ScopeType::Function, block, s.loc.lineno)?;
        self.add_const(Object::None);
        self.visit_expr(&t.value)?;
        self.emit(Opcode::RETURN_VALUE, 0, at);
        let done = self.finish_and_assemble(false)?;
        self.make_closure(at, done, 0)?;
        self.emit(Opcode::BUILD_TUPLE, 3, at);
        self.emit(Opcode::CALL_INTRINSIC_1, intrinsic1::TYPEALIAS, at);
        if is_generic {
            let done = self.finish_and_assemble(false)?;
            self.make_closure(at, done, 0)?;
            self.emit(Opcode::CALL, 0, at);
        }
        self.nameop(at, name, ExprContext::Store)
    }
}
