//! Calls: plain calls, method calls, `super()` attribute loads, keyword and unpacked
//! arguments.

use std::borrow::Borrow;

use pyc_loader::marshal::{Object, Str};

use super::expr::{attr_loc, TUPLE};
use super::{loc, CResult, Compiler, STACK_USE_GUIDELINE};
use crate::ast::{Expr, ExprContext, ExprKind, Keyword};
use crate::ir::{Location, Opcode};
use crate::symtable::{def, Scope};

impl<'a> Compiler<'a> {
    /// A call expression (`compiler_call`).
    pub(crate) fn call(
        &mut self,
        e: &Expr,
        func: &Expr,
        args: &[Expr],
        keywords: &[Keyword],
    ) -> CResult {
        self.validate_keywords(keywords)?;
        if self.method_call(e, func, args, keywords)? {
            return Ok(());
        }
        self.check_caller(func);
        self.emit(Opcode::PUSH_NULL, 0, loc(func.loc));
        self.visit_expr(func)?;
        self.call_helper(loc(e.loc), 0, args, keywords)
    }

    fn validate_keywords(&self, keywords: &[Keyword]) -> CResult {
        for (i, kw) in keywords.iter().enumerate() {
            let Some(name) = &kw.arg else { continue };
            if &**name == "__debug__" {
                return Err(self.error(loc(kw.loc), "cannot assign to __debug__"));
            }
            if keywords[i + 1..]
                .iter()
                .any(|other| other.arg.as_ref() == Some(name))
            {
                let dup = keywords[i + 1..]
                    .iter()
                    .find(|other| other.arg.as_ref() == Some(name))
                    .expect("found above");
                return Err(self.error(loc(dup.loc), format!("keyword argument repeated: {name}")));
            }
        }
        Ok(())
    }

    /// `obj.meth(args)` as `LOAD_ATTR` with the method bit and `CALL`
    /// (`maybe_optimize_method_call`); false when the call does not qualify.
    fn method_call(
        &mut self,
        e: &Expr,
        meth: &Expr,
        args: &[Expr],
        keywords: &[Keyword],
    ) -> CResult<bool> {
        let ExprKind::Attribute {
            value,
            attr,
            ctx: ExprContext::Load,
        } = &meth.kind
        else {
            return Ok(false);
        };
        if let ExprKind::Name { id, .. } = &value.kind {
            if self.symbols.top().flags(id) & def::IMPORT != 0 {
                return Ok(false);
            }
        }
        let nargs = args.len();
        let nkw = keywords.len();
        if nargs + nkw + usize::from(nkw != 0) >= STACK_USE_GUIDELINE {
            return Ok(false);
        }
        if args
            .iter()
            .any(|a| matches!(a.kind, ExprKind::Starred { .. }))
            || keywords.iter().any(|k| k.arg.is_none())
        {
            return Ok(false);
        }
        let mut l = loc(meth.loc);
        if self.can_optimize_super_call(meth) {
            let ExprKind::Call {
                args: super_args, ..
            } = &value.kind
            else {
                unreachable!("checked by can_optimize_super_call")
            };
            self.load_args_for_super(value)?;
            let op = if super_args.is_empty() {
                Opcode::LOAD_ZERO_SUPER_METHOD
            } else {
                Opcode::LOAD_SUPER_METHOD
            };
            self.emit_name(op, attr, l);
            l = attr_loc(l, meth, attr);
            self.emit(Opcode::NOP, 0, l);
        } else {
            self.visit_expr(value)?;
            l = attr_loc(l, meth, attr);
            self.emit_name(Opcode::LOAD_METHOD, attr, l);
        }
        for a in args {
            self.visit_expr(a)?;
        }
        if nkw > 0 {
            for k in keywords {
                self.visit_expr(&k.value)?;
            }
            self.kw_names(l, keywords);
        }
        let l = attr_loc(loc(e.loc), meth, attr);
        self.emit(Opcode::CALL, (nargs + nkw) as u32, l);
        Ok(true)
    }

    /// Whether `super().attr` / `super(C, self).attr` can load through `LOAD_SUPER_ATTR`
    /// (`can_optimize_super_call`).
    pub(crate) fn can_optimize_super_call(&self, attr_expr: &Expr) -> bool {
        let ExprKind::Attribute { value, attr, .. } = &attr_expr.kind else {
            return false;
        };
        let ExprKind::Call {
            func,
            args,
            keywords,
        } = &value.kind
        else {
            return false;
        };
        let ExprKind::Name { id, .. } = &func.kind else {
            return false;
        };
        if &**id != "super" || &**attr == "__class__" || !keywords.is_empty() {
            return false;
        }
        if self.u().scope("super") != Some(Scope::GlobalImplicit) {
            return false;
        }
        if self.symbols.top().scope("super").is_some() {
            return false;
        }
        if args.len() == 2 {
            return !args
                .iter()
                .any(|a| matches!(a.kind, ExprKind::Starred { .. }));
        }
        if !args.is_empty() {
            return false;
        }
        let md = &self.u().code.metadata;
        if md.argcount == 0 && md.posonlyargcount == 0 {
            return false;
        }
        self.ref_type("__class__") == Some(Scope::Free)
    }

    /// Pushes `super` and its two arguments, explicit or implicit (`load_args_for_super`).
    pub(crate) fn load_args_for_super(&mut self, call: &Expr) -> CResult {
        let ExprKind::Call { func, args, .. } = &call.kind else {
            unreachable!("checked by can_optimize_super_call")
        };
        let ExprKind::Name { id, .. } = &func.kind else {
            unreachable!("checked by can_optimize_super_call")
        };
        self.nameop(loc(func.loc), id, ExprContext::Load)?;
        if args.len() == 2 {
            self.visit_expr(&args[0])?;
            self.visit_expr(&args[1])?;
            return Ok(());
        }
        let at = loc(call.loc);
        self.nameop(at, "__class__", ExprContext::Load)?;
        let first = self.u().code.metadata.varnames.values()[0].to_string_lossy();
        self.nameop(at, &first, ExprContext::Load)
    }

    /// `KW_NAMES` with the tuple of keyword names.
    fn kw_names(&mut self, l: Location, keywords: &[Keyword]) {
        let names: Vec<Object> = keywords
            .iter()
            .map(|k| Object::Str(Str::new(k.arg.as_deref().unwrap_or(""), true)))
            .collect();
        let i = self.add_const(Object::Tuple(names.into()));
        self.emit(Opcode::KW_NAMES, i, l);
    }

    /// The arguments and the call itself; `n` arguments are already pushed
    /// (`compiler_call_helper`).
    pub(crate) fn call_helper<E: Borrow<Expr>>(
        &mut self,
        at: Location,
        n: u32,
        args: &[E],
        keywords: &[Keyword],
    ) -> CResult {
        self.validate_keywords(keywords)?;
        let nelts = args.len();
        let nkw = keywords.len();
        let simple = nelts + nkw * 2 <= STACK_USE_GUIDELINE
            && !args
                .iter()
                .any(|a| matches!(a.borrow().kind, ExprKind::Starred { .. }))
            && !keywords.iter().any(|k| k.arg.is_none());
        if simple {
            for a in args {
                self.visit_expr(a.borrow())?;
            }
            if nkw > 0 {
                for k in keywords {
                    self.visit_expr(&k.value)?;
                }
                self.kw_names(at, keywords);
            }
            self.emit(Opcode::CALL, n + (nelts + nkw) as u32, at);
            return Ok(());
        }
        match args {
            [single] if n == 0 => match &single.borrow().kind {
                ExprKind::Starred { value, .. } => self.visit_expr(value)?,
                _ => self.starunpack(at, args, n, TUPLE)?,
            },
            _ => self.starunpack(at, args, n, TUPLE)?,
        }
        if nkw > 0 {
            let mut have_dict = false;
            let mut nseen = 0;
            for (i, kw) in keywords.iter().enumerate() {
                if kw.arg.is_none() {
                    if nseen > 0 {
                        self.subkwargs(at, &keywords[i - nseen..i])?;
                        if have_dict {
                            self.emit(Opcode::DICT_MERGE, 1, at);
                        }
                        have_dict = true;
                        nseen = 0;
                    }
                    if !have_dict {
                        self.emit(Opcode::BUILD_MAP, 0, at);
                        have_dict = true;
                    }
                    self.visit_expr(&kw.value)?;
                    self.emit(Opcode::DICT_MERGE, 1, at);
                } else {
                    nseen += 1;
                }
            }
            if nseen > 0 {
                self.subkwargs(at, &keywords[nkw - nseen..])?;
                if have_dict {
                    self.emit(Opcode::DICT_MERGE, 1, at);
                }
            }
        }
        self.emit(Opcode::CALL_FUNCTION_EX, u32::from(nkw > 0), at);
        Ok(())
    }

    /// A dict of named keyword arguments (`compiler_subkwargs`).
    fn subkwargs(&mut self, at: Location, keywords: &[Keyword]) -> CResult {
        let n = keywords.len();
        let big = n * 2 > STACK_USE_GUIDELINE;
        if n > 1 && !big {
            for k in keywords {
                self.visit_expr(&k.value)?;
            }
            let names: Vec<Object> = keywords
                .iter()
                .map(|k| Object::Str(Str::new(k.arg.as_deref().unwrap_or(""), true)))
                .collect();
            self.load_const(Object::Tuple(names.into()), at);
            self.emit(Opcode::BUILD_CONST_KEY_MAP, n as u32, at);
            return Ok(());
        }
        if big {
            self.emit(Opcode::BUILD_MAP, 0, super::NO_LOC);
        }
        for k in keywords {
            let name = Str::new(k.arg.as_deref().unwrap_or(""), true);
            self.load_const(Object::Str(name), at);
            self.visit_expr(&k.value)?;
            if big {
                self.emit(Opcode::MAP_ADD, 1, super::NO_LOC);
            }
        }
        if !big {
            self.emit(Opcode::BUILD_MAP, n as u32, at);
        }
        Ok(())
    }
}
