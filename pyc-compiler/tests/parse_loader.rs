//! The CPython AST loader itself: trees, constants, errors and warnings arrive intact.

mod common;

use common::cpython_ast::{cpython_parse, parse_with_cpython};
use pyc_compiler::ast::*;

#[test]
fn loads_a_module_with_positions() {
    let module = parse_with_cpython("x = 1\n");
    let Mod::Module { body } = module else {
        panic!("not a module")
    };
    let StmtKind::Assign { targets, value } = &body[0].kind else {
        panic!("not an assignment: {:?}", body[0])
    };
    assert_eq!(
        body[0].loc,
        Loc {
            lineno: 1,
            col: 0,
            end_lineno: 1,
            end_col: 5
        }
    );
    assert!(
        matches!(&targets[0].kind, ExprKind::Name { id, ctx: ExprContext::Store } if &**id == "x")
    );
    assert!(matches!(
        &value.kind,
        ExprKind::Constant {
            value: Constant::Int(pyc_loader::marshal::Int::Small(1)),
            kind_u: false
        }
    ));
}

#[test]
fn loads_every_constant_kind() {
    let src = "None, True, ..., 10**0, 123456789012345678901234567890, 1.5, 2j, 'a', u'b', '\\ud800', b'\\xff'\n";
    let Mod::Module { body } = parse_with_cpython(src) else {
        panic!("not a module")
    };
    let StmtKind::Expr { value } = &body[0].kind else {
        panic!()
    };
    let ExprKind::Tuple { elts, .. } = &value.kind else {
        panic!()
    };
    let consts: Vec<_> = elts
        .iter()
        .filter_map(|e| match &e.kind {
            ExprKind::Constant { value, kind_u } => Some((value.clone(), *kind_u)),
            _ => None,
        })
        .collect();
    assert_eq!(consts.len(), 10);
    assert!(matches!(
        consts[3].0,
        Constant::Int(pyc_loader::marshal::Int::Big(_))
    ));
    assert_eq!(consts[5].0, Constant::Complex(0.0, 2.0));
    assert!(consts[7].1);
    let Constant::Str(s) = &consts[8].0 else {
        panic!()
    };
    assert_eq!(s.chars().collect::<Vec<_>>(), vec![0xD800]);
    assert_eq!(consts[9].0, Constant::Bytes(vec![0xFF]));
}

#[test]
fn reports_errors_and_warnings() {
    let bad = cpython_parse(b"x = (\n", Mode::Module);
    let err = bad.result.unwrap_err();
    assert_eq!(err.kind, "SyntaxError");
    assert_eq!(err.lineno, Some(1));
    let warned = cpython_parse(b"'\\d'\n", Mode::Module);
    assert!(warned.result.is_ok());
    assert_eq!(warned.warnings[0].category, "SyntaxWarning");
    assert_eq!(warned.warnings[0].lineno, 1);
}

#[test]
fn loads_deep_trees() {
    let src = format!("x = {}1\n", "-".repeat(2500));
    let Mod::Module { body } = parse_with_cpython(&src) else {
        panic!()
    };
    assert_eq!(body.len(), 1);
    std::thread::Builder::new()
        .stack_size(1 << 28)
        .spawn(move || drop(body))
        .unwrap()
        .join()
        .unwrap();
}
