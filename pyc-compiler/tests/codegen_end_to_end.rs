//! The whole pipeline against CPython 3.12.1: `compile_source` on each fixture of
//! `fixtures/codegen` must give the code object `compile(src, path, 'exec')` gives, every field
//! of every nested code object.

mod codegen_common;

use std::sync::Arc;

use codegen_common::{code_difference, goldens, needs_unparse, unparse_available};
use pyc_compiler::{compile_source, Options};

#[test]
fn fixtures_compile_to_cpython_code_objects() {
    let all = goldens();
    let mut failures = Vec::new();
    for g in &all {
        if needs_unparse(g) && !unparse_available() {
            continue;
        }
        match compile_source(&g.source, &g.path, &Options::default()) {
            Err(e) => failures.push(format!("{}: error {e}", g.path)),
            Ok(code) => {
                if let Some(d) = code_difference(&Arc::new(code), &g.code, "") {
                    failures.push(format!("{}: {d}", g.path));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n\n")
    );
}
