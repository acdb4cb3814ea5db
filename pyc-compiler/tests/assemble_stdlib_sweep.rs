//! Sweep (ignored by default; `cargo test -p pyc-compiler --test assemble_stdlib_sweep --
//! --ignored --nocapture`): every module-level unit of CPython 3.12.1's standard library, from
//! CPython's own code generation through `assemble_unit`, compared with `compile()`'s code
//! object. Prints "N of M module units identical" and the differences by field.

mod assemble_common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use assemble_common::{check_case, dump_stdlib, load_case, stdlib_files};

#[test]
#[ignore = "whole-stdlib sweep: run explicitly"]
fn stdlib_module_units() {
    let dumps = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("assemble_stdlib_dumps");
    let files = stdlib_files();
    dump_stdlib("dump_codegen.py", &dumps, &files);
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
