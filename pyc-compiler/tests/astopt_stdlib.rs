//! Sweep: our optimizer against CPython 3.12.1's on every module of its standard library
//! (`cargo test -p pyc-compiler --test astopt_stdlib -- --ignored --nocapture`; minutes).

mod astopt_support;
mod common;

use astopt_support::{mismatches, Case};

/// The `.py` files of the reference interpreter's standard library.
fn stdlib_files() -> Vec<std::path::PathBuf> {
    let out = common::cpython_ast::run_python(
        &[
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ],
        b"",
    );
    let root = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(root)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() && !path.ends_with("site-packages") {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "py") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
#[ignore]
fn stdlib_matches_cpython() {
    let mut total = 0;
    let mut skipped = 0;
    let mut differing = 0;
    for optimize in [0, 2] {
        for chunk in stdlib_files().chunks(40) {
            let cases: Vec<Case> = chunk
                .iter()
                .filter_map(|p| {
                    // Sources CPython cannot decode as UTF-8 are the parser's business.
                    let source = String::from_utf8(std::fs::read(p).ok()?).ok();
                    if source.is_none() {
                        skipped += 1;
                    }
                    Some(Case::exec(source?, optimize))
                })
                .collect();
            total += cases.len();
            for failure in mismatches(&cases) {
                if failure.contains("cpython failed") {
                    skipped += 1;
                } else {
                    differing += 1;
                    println!("{}", &failure[..failure.len().min(2000)]);
                }
            }
        }
    }
    println!("ast_opt stdlib sweep: {total} module compilations, {skipped} skipped (CPython rejects or not UTF-8), {differing} differing statements");
    assert_eq!(differing, 0);
}
