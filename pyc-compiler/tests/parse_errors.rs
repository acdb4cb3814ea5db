//! Rejections against CPython 3.12.1: every source of `fixtures/ast/bad_snippets.json` (taken
//! from CPython's own syntax-error tests) is rejected by `ast.parse`; we must reject it too, on
//! the same line. Messages are compared and counted, not required.

mod common;

use common::cpython_ast::cpython_parse_many;
use pyc_compiler::ast::Mode;

fn snippets() -> Vec<String> {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/ast/bad_snippets.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn rejected_like_cpython() {
    check(snippets());
}

/// The same sources with their elements on separate lines (`, ` becomes `,` newline): the
/// line CPython reports depends on where each construct starts.
#[test]
fn rejected_like_cpython_across_lines() {
    let sources = snippets()
        .into_iter()
        .filter(|s| s.contains(", "))
        .map(|s| s.replace(", ", ",\n "))
        .collect();
    check(sources);
}

fn check(sources: Vec<String>) {
    let bytes: Vec<&[u8]> = sources.iter().map(|s| s.as_bytes()).collect();
    let expected = cpython_parse_many(&bytes, Mode::Module);
    let (mut same_line, mut same_message) = (0, 0);
    let mut failures = Vec::new();
    for (source, cpython) in sources.iter().zip(&expected) {
        let Err(theirs) = &cpython.result else {
            // A variant CPython accepts: ours must too, with the same tree.
            let ours = pyc_compiler::parse::parse(source, Mode::Module, "<test>");
            let theirs = cpython.result.as_ref().unwrap();
            if !ours.as_ref().is_ok_and(|m| m == theirs) {
                failures.push(format!("CPython accepts {source:?}, ours: {ours:?}"));
            }
            continue;
        };
        let ours = std::thread::scope(|s| {
            std::thread::Builder::new()
                .stack_size(64 << 20)
                .spawn_scoped(s, || {
                    pyc_compiler::parse::parse(source, Mode::Module, "<test>")
                })
                .unwrap()
                .join()
                .unwrap()
        });
        match ours {
            Ok(_) => failures.push(format!("accepted {source:?}\n  CPython: {theirs:?}")),
            Err(ours) if i64::from(ours.lineno) == theirs.lineno.unwrap_or(0) => {
                same_line += 1;
                if ours.msg == theirs.msg && ours.kind.name() == theirs.kind {
                    same_message += 1;
                } else if std::env::var_os("PYC_SHOW_MESSAGES").is_some() {
                    eprintln!(
                        "MSG {:?} | ours {:?} | src {source:?}",
                        theirs.msg, ours.msg
                    );
                }
            }
            Err(ours) => failures.push(format!(
                "other line {source:?}\n  ours:    {ours:?}\n  CPython: {theirs:?}"
            )),
        }
    }
    eprintln!(
        "{} sources CPython rejects: {same_line} rejected on the same line ({same_message} with \
         CPython's class and message), {} not",
        sources.len(),
        failures.len()
    );
    for f in &failures {
        eprintln!("{f}");
    }
    assert!(failures.is_empty(), "{} rejections differ", failures.len());
}
