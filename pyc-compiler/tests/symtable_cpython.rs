//! The symbol table against CPython 3.12.1's: block trees, per-symbol flags and scopes, future
//! flags, and the SyntaxErrors with their positions (all captured from CPython at test time).

mod common;
mod symtable_support;

use std::path::{Path, PathBuf};

use symtable_support::{check, cpython_files, cpython_sources};

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
    let (mut total, mut same, mut rejected) = (0, 0, 0);
    let mut failures = Vec::new();
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
        }
    }
    for f in failures.iter().take(20) {
        eprintln!("{f}\n");
    }
    eprintln!("symtable sweep: {same} identical / {total} files ({rejected} rejected by CPython's parser)");
    assert!(failures.is_empty(), "{} files differ", failures.len());
}
