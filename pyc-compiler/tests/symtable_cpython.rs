//! The symbol table against CPython 3.12.1's: block trees, per-symbol flags and scopes, future
//! flags, and the SyntaxErrors with their positions (all captured from CPython at test time).

mod common;
mod symtable_support;

use std::path::{Path, PathBuf};

use symtable_support::{
    check, check_against, cpython_files, cpython_sources, cpython_sources_in, ours_from_source,
};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/symtable")
}

fn py_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    files.sort();
    files
}

#[test]
fn fixture_tables_match_cpython() {
    let files = py_files(&fixtures().join("cases"));
    assert!(files.len() >= 5, "fixtures missing");
    let results = cpython_files(&files);
    let failures: Vec<String> = files
        .iter()
        .zip(&results)
        .filter_map(|(f, r)| {
            assert!(
                r.get("symtable").is_some(),
                "{}: CPython rejects it",
                f.display()
            );
            check(r).map(|d| format!("{}: {d}", f.display()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn syntax_errors_match_cpython() {
    let text = std::fs::read_to_string(fixtures().join("errors.py")).unwrap();
    let sources: Vec<String> = text
        .split("# ---\n")
        .map(|s| {
            // The header comment stays in the first section: blank it, keeping line numbers.
            s.lines()
                .map(|l| if l.starts_with("# ") { "" } else { l })
                .collect::<Vec<_>>()
                .join("\n")
                + "\n"
        })
        .collect();
    let results = cpython_sources(&sources);
    let mut failures = Vec::new();
    for (src, r) in sources.iter().zip(&results) {
        assert!(
            r.get("mod").is_some_and(|m| !m.is_null()),
            "the parser rejects a case meant for the symbol table:\n{src}{}",
            r["error"]
        );
        assert!(r.get("error").is_some(), "CPython accepts:\n{src}");
        if let Some(d) = check(r) {
            failures.push(format!("{src}=> {d}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every file of CPython 3.12's standard library: `cargo test -p pyc-compiler --test
/// symtable_cpython -- --ignored --nocapture` prints identical / total.
#[test]
#[ignore]
fn stdlib_sweep() {
    let out = common::cpython_ast::run_python(
        &[
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ],
        b"",
    );
    let root = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let mut files = Vec::new();
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "site-packages") {
                    dirs.push(p);
                }
            } else if p.extension().is_some_and(|e| e == "py") {
                files.push(p);
            }
        }
    }
    files.sort();
    let (mut total, mut same, mut same_parsed, mut rejected) = (0, 0, 0, 0);
    let (mut failures, mut parsed_failures) = (Vec::new(), Vec::new());
    for chunk in files.chunks(64) {
        for (f, r) in chunk.iter().zip(cpython_files(chunk)) {
            if r.get("mod").is_none_or(|m| m.is_null()) {
                rejected += 1;
                continue;
            }
            total += 1;
            match check(&r) {
                None => same += 1,
                Some(d) => failures.push(format!("{}: {d}", f.display())),
            }
            // The same through our own parser.
            let source = std::fs::read(f).unwrap();
            match check_against(&r, ours_from_source(&source)) {
                None => same_parsed += 1,
                Some(d) => parsed_failures.push(format!("{} (our parser): {d}", f.display())),
            }
        }
    }
    for f in failures.iter().chain(&parsed_failures).take(20) {
        eprintln!("{f}\n");
    }
    eprintln!(
        "symtable sweep: {same} identical / {total} files from CPython's AST, {same_parsed} \
         from our parser ({rejected} rejected by CPython's parser)"
    );
    assert!(failures.is_empty(), "{} files differ", failures.len());
    assert!(
        parsed_failures.is_empty(),
        "{} files differ through our parser",
        parsed_failures.len()
    );
}

/// Nesting at CPython's limit and one past it; 300 nested lambdas (scopes as deep as that).
#[test]
fn deep_nesting_matches_cpython() {
    let sources: Vec<String> = vec![
        format!("x = {}y\n", "not ".repeat(2994)),
        format!("x = {}y\n", "not ".repeat(2995)),
        format!("f = {}1\n", "lambda: ".repeat(300)),
    ];
    // Deep JSON and our test-side dumps recurse: give them room.
    let failures: Vec<String> = std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || {
            let results = cpython_sources(&sources);
            assert!(results[1].get("error").is_some(), "CPython's limit moved");
            results.iter().filter_map(check).collect()
        })
        .unwrap()
        .join()
        .unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `symtable::mangle` against the names CPython stores for assignments in a class body.
#[test]
fn mangling_matches_cpython() {
    let cases = [
        ("C", "__x"),
        ("_C", "__x"),
        ("__C__", "__x"),
        ("__", "__x"),
        ("_", "__x"),
        ("C", "__x__"),
        ("C", "__x_"),
        ("C", "_x"),
        ("C", "x"),
        ("C", "__"),
        ("C", "___"),
        ("Cé", "__é"),
        ("_ü_", "__a_"),
    ];
    let program = format!(
        "cases = {:?}\nfor cls, name in cases:\n    code = compile(f'class {{cls}}:\\n    {{name}} = 1\\n', 'm', 'exec')\n    body = next(c for c in code.co_consts if hasattr(c, 'co_names'))\n    print(body.co_names[-1])\n",
        cases.iter().map(|(c, n)| vec![*c, *n]).collect::<Vec<_>>()
    );
    let out = common::cpython_ast::run_python(&["-c", &program], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = String::from_utf8(out.stdout).unwrap();
    let expected: Vec<&str> = expected.lines().collect();
    assert_eq!(expected.len(), cases.len());
    for ((class, name), want) in cases.iter().zip(expected) {
        assert_eq!(
            pyc_compiler::symtable::mangle(Some(class), name),
            want,
            "class {class}, name {name}"
        );
    }
}

/// `eval` and `single` modes: an `Expression` or `Interactive` root.
#[test]
fn eval_and_single_modes_match_cpython() {
    let eval: Vec<String> = ["lambda x: [y for y in x if (z := y)]", "(a for a in b), c"]
        .map(String::from)
        .into();
    let single: Vec<String> = [
        "x = [i for i in y]\n",
        "def f(a):\n    return lambda: a\n",
        "nonlocal q\n",
    ]
    .map(String::from)
    .into();
    let mut failures = Vec::new();
    for (sources, mode) in [(eval, "eval"), (single, "single")] {
        for (src, r) in sources.iter().zip(cpython_sources_in(&sources, mode)) {
            assert!(r.get("mod").is_some_and(|m| !m.is_null()), "{src}");
            if let Some(d) = check(&r) {
                failures.push(format!("{mode} {src:?}: {d}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
