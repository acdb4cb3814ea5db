//! Sweep (ignored by default; `cargo test -p pyc-compiler --test assemble_stdlib_sweep --
//! --ignored --nocapture`): every module-level unit of CPython 3.12.1's standard library, from
//! CPython's own code generation through `assemble_unit`, compared with `compile()`'s code
//! object. Prints "N of M module units identical" and the differences by field.

mod assemble_common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use assemble_common::{check_case, load_case, python312, repo_root};

fn stdlib_files() -> Vec<PathBuf> {
    let out = python312()
        .args([
            "-c",
            "import sysconfig;print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .expect("PYENV_VERSION=3.12.1 python3 must run");
    let root = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let mut files = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "site-packages") {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "py") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
#[ignore = "whole-stdlib sweep: run explicitly"]
fn stdlib_module_units() {
    let dumps = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("assemble_stdlib_dumps");
    let _ = std::fs::remove_dir_all(&dumps);
    // ASSEMBLE_SWEEP_FILTER=<substring> limits the sweep to matching paths (for debugging).
    let filter = std::env::var("ASSEMBLE_SWEEP_FILTER").unwrap_or_default();
    let files: Vec<PathBuf> = stdlib_files()
        .into_iter()
        .filter(|f| f.to_string_lossy().contains(&filter))
        .collect();
    let dump = |paths: &[PathBuf]| {
        python312()
            .arg(repo_root().join("fixtures/cfg/dump_codegen.py"))
            .arg(&dumps)
            .args(paths)
            .status()
            .unwrap()
            .success()
    };
    let mut crashed = Vec::new();
    for chunk in files.chunks(200) {
        // `compiler_codegen` crashes CPython on a few sources: find them one by one.
        if !dump(chunk) {
            for file in chunk {
                if !dump(std::slice::from_ref(file)) {
                    crashed.push(file.display().to_string());
                }
            }
        }
    }
    println!("the codegen oracle crashed on: {crashed:?}");
    let mut dumped: Vec<_> = std::fs::read_dir(&dumps)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dumped.sort();
    let mut identical = 0;
    let mut by_field: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for file in &dumped {
        let case = load_case(file);
        let path = case.path.clone();
        match check_case(case) {
            Ok(()) => identical += 1,
            Err((field, detail)) => by_field
                .entry(field)
                .or_default()
                .push(format!("{path}\n    {detail}")),
        }
    }
    println!(
        "{identical} of {} module units identical ({} files, {} CPython rejects)",
        dumped.len(),
        files.len(),
        files.len() - dumped.len()
    );
    for (field, cases) in &by_field {
        println!("{field}: {} units", cases.len());
        for case in cases.iter().take(5) {
            println!("  {case}");
        }
    }
}
