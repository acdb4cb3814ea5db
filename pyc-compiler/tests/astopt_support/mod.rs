//! Differential testing of `ast_opt` against CPython 3.12.1's own optimizer
//! (`fixtures/astopt/optimized_ast.py`): both trees come from CPython, ours is the optimizer
//! applied to the first.

#![allow(dead_code)] // each test binary uses its own subset

use pyc_compiler::ast::*;
use pyc_compiler::future::FutureFeatures;
use pyc_loader::marshal::Object;
use pyc_loader::pyhash;
use pyc_loader::Target;
use serde_json::Value;

use crate::common::cpython_ast::{mod_from_json, run_python};

/// One source to optimize.
#[derive(Clone, Debug)]
pub struct Case {
    pub source: String,
    pub mode: Mode,
    pub optimize: u8,
    /// `from __future__ import annotations` in effect.
    pub annotations: bool,
}

impl Case {
    /// An expression in `eval` mode at level 0.
    pub fn eval(source: impl Into<String>) -> Case {
        Case {
            source: source.into(),
            mode: Mode::Expression,
            optimize: 0,
            annotations: false,
        }
    }

    /// A module at the given level.
    pub fn exec(source: impl Into<String>, optimize: u8) -> Case {
        Case {
            source: source.into(),
            mode: Mode::Module,
            optimize,
            annotations: false,
        }
    }
}

/// CPython's verdict on one case: the tree before and after its optimizer, or the error.
pub enum Oracle {
    Trees { before: Mod, after: Mod },
    Error(String),
}

/// Runs CPython's optimizer on every case (one interpreter for all).
pub fn cpython_optimize(cases: &[Case]) -> Vec<Oracle> {
    let specs: Vec<Value> = cases
        .iter()
        .map(|c| {
            serde_json::json!({
                "source": c.source,
                "mode": match c.mode {
                    Mode::Module => "exec",
                    Mode::Expression => "eval",
                    Mode::Interactive => "single",
                },
                "optimize": c.optimize,
                "annotations": c.annotations,
            })
        })
        .collect();
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/astopt/optimized_ast.py");
    let input = serde_json::to_vec(&specs).unwrap();
    let output = run_python(&[script.to_str().unwrap()], &input);
    assert!(
        output.status.success(),
        "optimized_ast.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut de = serde_json::Deserializer::from_slice(&output.stdout);
    de.disable_recursion_limit();
    let results: Vec<Value> = serde::Deserialize::deserialize(&mut de).unwrap();
    assert_eq!(results.len(), cases.len());
    results
        .into_iter()
        .map(|r| match r.get("error") {
            Some(e) => Oracle::Error(e.as_str().unwrap_or_default().to_string()),
            None => Oracle::Trees {
                before: mod_from_json(&r["before"].to_string()),
                after: mod_from_json(&r["after"].to_string()),
            },
        })
        .collect()
}

/// Our optimizer's result on CPython's tree, frozensets in CPython's iteration order so that
/// the trees compare equal exactly when CPython's and ours are the same.
pub fn ours(mut module: Mod, case: &Case) -> Result<Mod, String> {
    let future = FutureFeatures {
        flags: if case.annotations {
            FutureFeatures::ANNOTATIONS
        } else {
            0
        },
        lineno: 0,
    };
    pyc_compiler::ast_opt::optimize(&mut module, case.optimize, &future)
        .map_err(|e| e.to_string())?;
    walk_mod(&mut module, &mut |e| {
        if let ExprKind::Constant { value, .. } = &mut e.kind {
            in_iteration_order(value);
        }
    });
    Ok(module)
}

/// A text that differs between two trees exactly when they differ (floats by their bits).
pub fn fingerprint(module: &Mod) -> String {
    format!("{module:?}")
}

/// Reorders frozensets (also inside tuples) as CPython iterates them.
fn in_iteration_order(c: &mut Constant) {
    match c {
        Constant::Tuple(items) => items.iter_mut().for_each(in_iteration_order),
        Constant::FrozenSet(items) => {
            items.iter_mut().for_each(in_iteration_order);
            let objects: Vec<Object> = items.iter().map(to_object).collect();
            if let Ok(order) = pyhash::set_order(&objects, Target::V3_12) {
                *items = order.into_iter().map(|i| items[i].clone()).collect();
            }
        }
        _ => {}
    }
}

fn to_object(c: &Constant) -> Object {
    match c {
        Constant::None => Object::None,
        Constant::Bool(true) => Object::True,
        Constant::Bool(false) => Object::False,
        Constant::Ellipsis => Object::Ellipsis,
        Constant::Int(i) => Object::Int(i.clone()),
        Constant::Float(f) => Object::Float(*f),
        Constant::Complex(re, im) => Object::Complex(*re, *im),
        Constant::Str(s) => Object::Str(s.clone()),
        Constant::Bytes(b) => Object::Bytes(b.clone().into()),
        Constant::Tuple(items) => Object::Tuple(items.iter().map(to_object).collect()),
        Constant::FrozenSet(items) => Object::FrozenSet(items.iter().map(to_object).collect()),
    }
}

/// Calls `f` on every expression of the module, children first.
pub fn walk_mod(module: &mut Mod, f: &mut dyn FnMut(&mut Expr)) {
    match module {
        Mod::Module { body } | Mod::Interactive { body } => walk_stmts(body, f),
        Mod::Expression { body } => walk_expr(body, f),
    }
}

fn walk_stmts(stmts: &mut [Stmt], f: &mut dyn FnMut(&mut Expr)) {
    for s in stmts {
        walk_stmt(s, f);
    }
}

fn walk_exprs<'a>(exprs: impl IntoIterator<Item = &'a mut Expr>, f: &mut dyn FnMut(&mut Expr)) {
    for e in exprs {
        walk_expr(e, f);
    }
}

fn walk_args(a: &mut Arguments, f: &mut dyn FnMut(&mut Expr)) {
    let all = a
        .posonlyargs
        .iter_mut()
        .chain(&mut a.args)
        .chain(&mut a.vararg)
        .chain(&mut a.kwonlyargs)
        .chain(&mut a.kwarg);
    walk_exprs(all.filter_map(|arg| arg.annotation.as_deref_mut()), f);
    walk_exprs(a.kw_defaults.iter_mut().flatten(), f);
    walk_exprs(&mut a.defaults, f);
}

fn walk_type_params(params: &mut [TypeParam], f: &mut dyn FnMut(&mut Expr)) {
    for p in params {
        if let TypeParamKind::TypeVar {
            bound: Some(bound), ..
        } = &mut p.kind
        {
            walk_expr(bound, f);
        }
    }
}

fn walk_stmt(s: &mut Stmt, f: &mut dyn FnMut(&mut Expr)) {
    match &mut s.kind {
        StmtKind::FunctionDef(d) => {
            walk_type_params(&mut d.type_params, f);
            walk_args(&mut d.args, f);
            walk_stmts(&mut d.body, f);
            walk_exprs(&mut d.decorator_list, f);
            walk_exprs(&mut d.returns, f);
        }
        StmtKind::ClassDef(c) => {
            walk_type_params(&mut c.type_params, f);
            walk_exprs(&mut c.bases, f);
            walk_exprs(c.keywords.iter_mut().map(|k| &mut k.value), f);
            walk_stmts(&mut c.body, f);
            walk_exprs(&mut c.decorator_list, f);
        }
        StmtKind::Return { value } => walk_exprs(value.as_deref_mut(), f),
        StmtKind::Delete { targets } => walk_exprs(targets, f),
        StmtKind::Assign { targets, value } => {
            walk_exprs(targets, f);
            walk_expr(value, f);
        }
        StmtKind::TypeAlias(t) => {
            walk_expr(&mut t.name, f);
            walk_type_params(&mut t.type_params, f);
            walk_expr(&mut t.value, f);
        }
        StmtKind::AugAssign { target, value, .. } => {
            walk_expr(target, f);
            walk_expr(value, f);
        }
        StmtKind::AnnAssign {
            target,
            annotation,
            value,
            ..
        } => {
            walk_expr(target, f);
            walk_expr(annotation, f);
            walk_exprs(value.as_deref_mut(), f);
        }
        StmtKind::For(x) => {
            walk_expr(&mut x.target, f);
            walk_expr(&mut x.iter, f);
            walk_stmts(&mut x.body, f);
            walk_stmts(&mut x.orelse, f);
        }
        StmtKind::While { test, body, orelse } | StmtKind::If { test, body, orelse } => {
            walk_expr(test, f);
            walk_stmts(body, f);
            walk_stmts(orelse, f);
        }
        StmtKind::With(w) => {
            for item in &mut w.items {
                walk_expr(&mut item.context_expr, f);
                walk_exprs(&mut item.optional_vars, f);
            }
            walk_stmts(&mut w.body, f);
        }
        StmtKind::Match { subject, cases } => {
            walk_expr(subject, f);
            for case in cases {
                walk_pattern(&mut case.pattern, f);
                walk_exprs(&mut case.guard, f);
                walk_stmts(&mut case.body, f);
            }
        }
        StmtKind::Raise { exc, cause } => {
            walk_exprs(exc.as_deref_mut(), f);
            walk_exprs(cause.as_deref_mut(), f);
        }
        StmtKind::Try(t) => {
            walk_stmts(&mut t.body, f);
            for h in &mut t.handlers {
                walk_exprs(&mut h.type_, f);
                walk_stmts(&mut h.body, f);
            }
            walk_stmts(&mut t.orelse, f);
            walk_stmts(&mut t.finalbody, f);
        }
        StmtKind::Assert { test, msg } => {
            walk_expr(test, f);
            walk_exprs(msg.as_deref_mut(), f);
        }
        StmtKind::Expr { value } => walk_expr(value, f),
        StmtKind::Import { .. }
        | StmtKind::ImportFrom { .. }
        | StmtKind::Global { .. }
        | StmtKind::Nonlocal { .. }
        | StmtKind::Pass
        | StmtKind::Break
        | StmtKind::Continue => {}
    }
}

fn walk_pattern(p: &mut Pattern, f: &mut dyn FnMut(&mut Expr)) {
    match &mut p.kind {
        PatternKind::MatchValue { value } => walk_expr(value, f),
        PatternKind::MatchSingleton { .. } | PatternKind::MatchStar { .. } => {}
        PatternKind::MatchSequence { patterns } | PatternKind::MatchOr { patterns } => {
            patterns.iter_mut().for_each(|p| walk_pattern(p, f))
        }
        PatternKind::MatchMapping { keys, patterns, .. } => {
            walk_exprs(keys, f);
            patterns.iter_mut().for_each(|p| walk_pattern(p, f));
        }
        PatternKind::MatchClass {
            cls,
            patterns,
            kwd_patterns,
            ..
        } => {
            walk_expr(cls, f);
            patterns
                .iter_mut()
                .chain(kwd_patterns)
                .for_each(|p| walk_pattern(p, f));
        }
        PatternKind::MatchAs { pattern, .. } => {
            if let Some(p) = pattern {
                walk_pattern(p, f);
            }
        }
    }
}

fn walk_comprehensions(generators: &mut [Comprehension], f: &mut dyn FnMut(&mut Expr)) {
    for g in generators {
        walk_expr(&mut g.target, f);
        walk_expr(&mut g.iter, f);
        walk_exprs(&mut g.ifs, f);
    }
}

fn walk_expr(e: &mut Expr, f: &mut dyn FnMut(&mut Expr)) {
    match &mut e.kind {
        ExprKind::BoolOp { values, .. } => walk_exprs(values, f),
        ExprKind::NamedExpr { target, value } => {
            walk_expr(target, f);
            walk_expr(value, f);
        }
        ExprKind::BinOp { left, right, .. } => {
            walk_expr(left, f);
            walk_expr(right, f);
        }
        ExprKind::UnaryOp { operand, .. } => walk_expr(operand, f),
        ExprKind::Lambda { args, body } => {
            walk_args(args, f);
            walk_expr(body, f);
        }
        ExprKind::IfExp { test, body, orelse } => {
            walk_expr(test, f);
            walk_expr(body, f);
            walk_expr(orelse, f);
        }
        ExprKind::Dict { keys, values } => {
            walk_exprs(keys.iter_mut().flatten(), f);
            walk_exprs(values, f);
        }
        ExprKind::Set { elts } | ExprKind::List { elts, .. } | ExprKind::Tuple { elts, .. } => {
            walk_exprs(elts, f)
        }
        ExprKind::ListComp { elt, generators }
        | ExprKind::SetComp { elt, generators }
        | ExprKind::GeneratorExp { elt, generators } => {
            walk_expr(elt, f);
            walk_comprehensions(generators, f);
        }
        ExprKind::DictComp {
            key,
            value,
            generators,
        } => {
            walk_expr(key, f);
            walk_expr(value, f);
            walk_comprehensions(generators, f);
        }
        ExprKind::Await { value }
        | ExprKind::YieldFrom { value }
        | ExprKind::Attribute { value, .. }
        | ExprKind::Starred { value, .. } => walk_expr(value, f),
        ExprKind::Yield { value } => walk_exprs(value.as_deref_mut(), f),
        ExprKind::Compare {
            left, comparators, ..
        } => {
            walk_expr(left, f);
            walk_exprs(comparators, f);
        }
        ExprKind::Call {
            func,
            args,
            keywords,
        } => {
            walk_expr(func, f);
            walk_exprs(args, f);
            walk_exprs(keywords.iter_mut().map(|k| &mut k.value), f);
        }
        ExprKind::FormattedValue {
            value, format_spec, ..
        } => {
            walk_expr(value, f);
            walk_exprs(format_spec.as_deref_mut(), f);
        }
        ExprKind::JoinedStr { values } => walk_exprs(values, f),
        ExprKind::Subscript { value, slice, .. } => {
            walk_expr(value, f);
            walk_expr(slice, f);
        }
        ExprKind::Slice { lower, upper, step } => {
            walk_exprs(lower.as_deref_mut(), f);
            walk_exprs(upper.as_deref_mut(), f);
            walk_exprs(step.as_deref_mut(), f);
        }
        ExprKind::Constant { .. } | ExprKind::Name { .. } => {}
    }
    f(e);
}

/// Compares our optimizer with CPython's on every case; returns the mismatches as readable
/// reports (source, CPython's tree, ours).
pub fn mismatches(cases: &[Case]) -> Vec<String> {
    let mut failures = Vec::new();
    for (case, oracle) in cases.iter().zip(cpython_optimize(cases)) {
        match oracle {
            Oracle::Trees { before, after } => {
                let expected = fingerprint(&after);
                match ours(before, case) {
                    Ok(got) if fingerprint(&got) == expected => {}
                    Ok(got) => failures.extend(differences(case, &after, &got)),
                    Err(e) => failures.push(format!("{:?}: ours failed: {e}", case.source)),
                }
            }
            Oracle::Error(e) => failures.push(format!("{:?}: cpython failed: {e}", case.source)),
        }
    }
    failures
}

/// The statements (or the expression) where two trees differ.
fn differences(case: &Case, expected: &Mod, got: &Mod) -> Vec<String> {
    let report = |what: String, e: String, g: String| {
        format!(
            "{what} (optimize={}):\n  cpython: {e}\n  ours:    {g}",
            case.optimize
        )
    };
    match (expected, got) {
        (Mod::Module { body: e }, Mod::Module { body: g }) if e.len() == g.len() => {
            let lines: Vec<&str> = case.source.lines().collect();
            e.iter()
                .zip(g)
                .filter(|(e, g)| format!("{e:?}") != format!("{g:?}"))
                .map(|(e, g)| {
                    let line = lines.get(e.loc.lineno as usize - 1).unwrap_or(&"?");
                    report(format!("{line:?}"), format!("{e:?}"), format!("{g:?}"))
                })
                .collect()
        }
        _ => vec![report(
            format!("{:?}", case.source),
            fingerprint(expected),
            fingerprint(got),
        )],
    }
}
