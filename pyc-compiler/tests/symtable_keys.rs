//! The contract code generation relies on: which node keys which block (`block_of_*`), and that
//! every block but the module is reachable from exactly one node.

mod common;

use std::collections::HashSet;

use common::cpython_ast::parse_with_cpython;
use pyc_compiler::ast::*;
use pyc_compiler::future::parse_future;
use pyc_compiler::symtable::{self, AnnotationKind, BlockId, BlockKind, SymbolTable};

const SOURCE: &str = "\
def f[T: (lambda: 1), *Ts](x=lambda: 2) -> T:
    return [y for y in x], (z for z in x)
type A[V: (lambda: 3)] = lambda: V
class C[U](B):
    type D[W: int] = list[W]
    def m(self):
        return {k: v for k, v in self}
g = lambda: [w for w in (lambda: 4)()]
";

/// Every scope-creating node of the tree, with the block each key gives, in source order.
fn keyed(table: &SymbolTable, body: &[Stmt], out: &mut Vec<(String, Option<BlockId>)>) {
    for s in body {
        match &s.kind {
            StmtKind::FunctionDef(f) => {
                for d in &f.args.defaults {
                    expr(table, d, out);
                }
                type_params(table, &f.type_params, out);
                out.push((format!("def {}", f.name), table.block_of_stmt(s)));
                keyed(table, &f.body, out);
            }
            StmtKind::ClassDef(c) => {
                type_params(table, &c.type_params, out);
                out.push((format!("class {}", c.name), table.block_of_stmt(s)));
                keyed(table, &c.body, out);
            }
            StmtKind::TypeAlias(t) => {
                type_params(table, &t.type_params, out);
                out.push(("type".into(), table.block_of_stmt(s)));
                expr(table, &t.value, out);
            }
            StmtKind::Return { value: Some(v) } => expr(table, v, out),
            StmtKind::Assign { value, .. } => expr(table, value, out),
            _ => {}
        }
    }
}

fn type_params(
    table: &SymbolTable,
    params: &Vec<TypeParam>,
    out: &mut Vec<(String, Option<BlockId>)>,
) {
    if params.is_empty() {
        assert_eq!(table.block_of_type_params(params), None);
        return;
    }
    out.push(("type params".into(), table.block_of_type_params(params)));
    for p in params {
        if let TypeParamKind::TypeVar { bound: Some(b), .. } = &p.kind {
            out.push(("bound".into(), table.block_of_bound(p)));
            expr(table, b, out);
        } else {
            assert_eq!(table.block_of_bound(p), None);
        }
    }
}

fn expr(table: &SymbolTable, e: &Expr, out: &mut Vec<(String, Option<BlockId>)>) {
    let id = table.block_of_expr(e);
    match &e.kind {
        ExprKind::Lambda { body, .. } => {
            out.push(("lambda".into(), id));
            expr(table, body, out);
        }
        ExprKind::ListComp { elt, generators }
        | ExprKind::SetComp { elt, generators }
        | ExprKind::GeneratorExp { elt, generators } => {
            out.push(("comprehension".into(), id));
            expr(table, elt, out);
            for g in generators {
                expr(table, &g.iter, out);
            }
        }
        ExprKind::DictComp {
            key, generators, ..
        } => {
            out.push(("comprehension".into(), id));
            expr(table, key, out);
            for g in generators {
                expr(table, &g.iter, out);
            }
        }
        ExprKind::Tuple { elts, .. } => elts.iter().for_each(|x| expr(table, x, out)),
        ExprKind::Call { func, args, .. } => {
            expr(table, func, out);
            args.iter().for_each(|x| expr(table, x, out));
        }
        _ => assert_eq!(id, None, "{e:?} has no block"),
    }
}

#[test]
fn each_scope_node_keys_its_block() {
    let module = parse_with_cpython(SOURCE);
    let future = parse_future(&module).unwrap();
    let table = symtable::build(&module, "<keys>", &future).unwrap();
    let Mod::Module { body } = &module else {
        unreachable!()
    };
    let mut found = Vec::new();
    keyed(&table, body, &mut found);

    let kind_of = |what: &str| match what {
        "type params" => BlockKind::Annotation(AnnotationKind::TypeParams),
        "bound" => BlockKind::Annotation(AnnotationKind::TypeVarBound),
        "type" => BlockKind::Annotation(AnnotationKind::TypeAlias),
        w if w.starts_with("class") => BlockKind::Class,
        _ => BlockKind::Function,
    };
    let mut ids = HashSet::new();
    for (what, id) in &found {
        let id = id.unwrap_or_else(|| panic!("{what}: no block"));
        assert!(ids.insert(id), "{what}: block {id:?} keyed twice");
        assert_eq!(table.block(id).kind, kind_of(what), "{what}");
    }
    // Every block but the module has exactly one key.
    assert_eq!(ids.len(), table.blocks.len() - 1);
    assert!(!ids.contains(&BlockId(0)));

    // The bound's lambda lives in the bound's scope, itself in the type-parameter scope.
    let bound = found.iter().find(|(w, _)| w == "bound").unwrap().1.unwrap();
    let lambda = found[found.iter().position(|(w, _)| w == "bound").unwrap() + 1]
        .1
        .unwrap();
    assert_eq!(table.block(lambda).parent, Some(bound));
    let params = table.block(bound).parent.unwrap();
    assert_eq!(
        table.block(params).kind,
        BlockKind::Annotation(AnnotationKind::TypeParams)
    );
    // List and dict comprehensions are inlined, generator expressions are not.
    let comps: Vec<_> = found
        .iter()
        .filter(|(w, _)| w == "comprehension")
        .map(|(_, id)| table.block(id.unwrap()))
        .collect();
    let inlined: Vec<bool> = comps.iter().map(|b| b.comp_inlined).collect();
    assert_eq!(inlined, [true, false, true, true]);
}

#[test]
fn future_annotations_have_no_blocks() {
    let src = "from __future__ import annotations\ndef f(x: (lambda: 1)) -> [y for y in z]:\n    v: (lambda: 2)\n";
    let module = parse_with_cpython(src);
    let future = parse_future(&module).unwrap();
    assert!(future.annotations());
    let table = symtable::build(&module, "<keys>", &future).unwrap();
    // The module and `f` only.
    assert_eq!(table.blocks.len(), 2);
}
