//! The assembler against CPython 3.12.1 on the golden dumps of `fixtures/cfg/golden`
//! (regenerate with `cd fixtures/cfg && PYENV_VERSION=3.12.1 python3 dump_codegen.py golden
//! cases/*.py`): CPython's own code generation output for each module goes through
//! `assemble_unit` and must give CPython's code object, field for field.

mod assemble_common;

use assemble_common::{check_case, load_case, repo_root};

#[test]
fn golden_module_units_are_identical() {
    let dir = repo_root().join("fixtures/cfg/golden");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "golden dumps missing in {}",
        dir.display()
    );
    let mut failures = Vec::new();
    for file in &files {
        let case = load_case(file);
        let path = case.path.clone();
        if let Err((field, detail)) = check_case(case) {
            failures.push(format!("{path}: {field} differs\n  {detail}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} units differ:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
