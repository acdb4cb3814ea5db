//! `eval` and `single` modes, nesting limits and deep trees, against CPython 3.12.1: the same
//! tree, or a rejection on the same line; deep inputs never overflow the stack.

mod common;

use common::cpython_ast::{cpython_parse_many, first_difference, CpythonParse};
use pyc_compiler::ast::Mode;
use pyc_compiler::ErrorKind;

fn check(mode: Mode, sources: &[String]) {
    let bytes: Vec<&[u8]> = sources.iter().map(|s| s.as_bytes()).collect();
    let expected = cpython_parse_many(&bytes, mode);
    let mut failures = Vec::new();
    for (source, cpython) in sources.iter().zip(&expected) {
        if let Some(f) = compare(source, mode, cpython) {
            let shown: String = source.chars().take(60).collect();
            failures.push(format!("{mode:?} {shown:?}: {f}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn compare(source: &str, mode: Mode, cpython: &CpythonParse) -> Option<String> {
    let ours = pyc_compiler::parse::parse_with_warnings(source, mode);
    match (&ours, &cpython.result) {
        (Ok(a), Ok(b)) => first_difference(&a.module, b).or_else(|| {
            let ours: Vec<_> = a
                .warnings
                .iter()
                .map(|w| (&*w.msg, i64::from(w.lineno)))
                .collect();
            let theirs: Vec<_> = cpython
                .warnings
                .iter()
                .filter(|w| w.category == "SyntaxWarning")
                .map(|w| (&*w.msg, w.lineno))
                .collect();
            (ours != theirs).then(|| format!("warnings: ours {ours:?}, CPython {theirs:?}"))
        }),
        (Err(a), Err(b)) if i64::from(a.lineno) == b.lineno.unwrap_or(0) => None,
        (Ok(_), Err(b)) => Some(format!("we accept, CPython: {b:?}")),
        (Err(a), Ok(_)) => Some(format!("CPython accepts, ours: {a:?}")),
        (Err(a), Err(b)) => Some(format!("ours {a:?}\n  CPython {b:?}")),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn single_mode() {
    check(
        Mode::Interactive,
        &strings(&[
            "x=1\ny=2\n",
            "x=1;y=2\n",
            "",
            "if x:\n  pass\n",
            "if x:\n  pass\ny=1\n",
            "\n\nx=1\n\n",
            "x=1\n#c\n",
            "x = 1\n\n\ny=2",
            "@d\ndef f(): pass\n",
        ]),
    );
}

#[test]
fn eval_mode() {
    check(
        Mode::Expression,
        &strings(&[
            "x = 1",
            "1, 2",
            "\n 1\n\n",
            "",
            "yield x",
            "(yield)",
            "lambda: (yield)",
            "f(x for x in y)",
            "x if y else z",
            "*a",
            "a\n",
            "a;",
        ]),
    );
}

#[test]
fn nesting_limits_match_cpython() {
    let parens = |n: usize| format!("x = {}1{}\n", "(".repeat(n), ")".repeat(n));
    let lists = |n: usize| format!("x = {}{}\n", "[".repeat(n), "]".repeat(n));
    let indent = |n: usize| {
        let mut s = String::new();
        for i in 0..n {
            s += &format!("{}if x:\n", " ".repeat(i));
        }
        s + &format!("{}pass\n", " ".repeat(n))
    };
    let fstrings = |n: usize| format!("x = {}1{}\n", "f'{".repeat(n), "}'".repeat(n));
    let mut sources = vec![
        parens(199),
        parens(200),
        parens(201),
        lists(200),
        lists(201),
        indent(98),
        indent(99),
        indent(100),
        "f\"{1+2:{1+2:{1+1:{1}}}}\"\n".to_string(),
        "f\"{x:{y:{z:w}}}\"\n".to_string(),
        "'\\N{CJK UNIFIED IDEOGRAPH-2EBF0}'\n".to_string(),
    ];
    // Nested f-strings need distinct quotes only up to 4 levels before 3.12; PEP 701 allows
    // reuse, and CPython's tokenizer stops at 150.
    sources.push(fstrings(149));
    sources.push(fstrings(150));
    sources.push(fstrings(151));
    check(Mode::Module, &sources);
}

/// Far beyond CPython's limits: rejected, on a 2 MiB test stack, without overflow.
#[test]
fn deep_inputs_are_rejected_without_overflow() {
    let deep = [
        format!("x = {}1\n", "-".repeat(100_000)),
        format!("x = {}1\n", "not ".repeat(50_000)),
        format!("x = {}1\n", "lambda:".repeat(20_000)),
        format!("x = {}\n", vec!["1"; 100_000].join(" + ")),
        format!("x = a{}\n", ".b".repeat(100_000)),
        format!("x = a{}\n", "()".repeat(100_000)),
        format!("x = {}1\n", "1 if 1 else ".repeat(20_000)),
        format!("if x: pass\n{}", "elif x: pass\n".repeat(20_000)),
    ];
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            for source in &deep {
                let result = pyc_compiler::parse::parse(source, Mode::Module, "<test>");
                let error = result.expect_err("deeper than CPython compiles");
                assert_eq!(error.kind, ErrorKind::RecursionError, "{error:?}");
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

/// `fixtures/ast/snippets.txt`: newer syntax, leniencies of ruff and odd corners, one snippet per
/// top-level statement (continuation clauses stay with theirs).
#[test]
fn snippets_match_cpython() {
    let path =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/ast/snippets.txt");
    let text = std::fs::read_to_string(path).unwrap();
    let mut snippets: Vec<String> = Vec::new();
    for line in text.lines() {
        let continues = line.starts_with(char::is_whitespace)
            || ["except", "else", "elif", "finally"]
                .iter()
                .any(|k| line.starts_with(k));
        match snippets.last_mut() {
            Some(last) if continues => *last += &format!("{line}\n"),
            _ => snippets.push(format!("{line}\n")),
        }
    }
    assert!(snippets.len() > 50);
    check(Mode::Module, &snippets);
}
