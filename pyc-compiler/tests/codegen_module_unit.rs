//! Our code generation against CPython 3.12.1's `_testinternalcapi.compiler_codegen` on the
//! module unit of each fixture (regenerate the dumps with `cd fixtures/codegen && PYTHONHASHSEED=0
//! PYENV_VERSION=3.12.1 python3 dump_codegen.py golden cases/*.py`): instruction by
//! instruction, locations and jump targets included, then the constant and name tables, then
//! the SyntaxWarnings.

mod codegen_common;

use codegen_common::{const_repr, goldens, instrs_of, our_module_unit, Golden};

/// Compares one fixture; `Err` describes the first difference.
fn check(golden: &Golden) -> Result<(), String> {
    let (unit, warnings) =
        our_module_unit(&golden.source, &golden.path).map_err(|e| format!("error: {e}"))?;
    let ours = instrs_of(&unit);
    if std::env::var_os("CODEGEN_DUMP").is_some() {
        for k in 0..ours.len().max(golden.instrs.len()) {
            let mark = if ours.get(k) == golden.instrs.get(k) {
                " "
            } else {
                "*"
            };
            eprintln!("{mark}{k:4} {:?}   {:?}", ours.get(k), golden.instrs.get(k));
        }
    }
    for (i, (got, want)) in ours.iter().zip(&golden.instrs).enumerate() {
        if got != want {
            let from = i.saturating_sub(3);
            let context: Vec<String> = (from..i)
                .map(|k| format!("      {k:4} {:?}", golden.instrs[k]))
                .collect();
            return Err(format!(
                "instruction {i}:\n{}\n    got  {got:?}\n    want {want:?}",
                context.join("\n")
            ));
        }
    }
    if ours.len() != golden.instrs.len() {
        return Err(format!(
            "{} instructions, CPython has {}; next: got {:?} want {:?}",
            ours.len(),
            golden.instrs.len(),
            ours.get(golden.instrs.len()),
            golden.instrs.get(ours.len())
        ));
    }
    let md = &unit.metadata;
    let consts: Vec<String> = md.consts.values().iter().map(const_repr).collect();
    if consts != golden.consts {
        return Err(format!(
            "consts:\n    got  {consts:?}\n    want {:?}",
            golden.consts
        ));
    }
    let table = |t: &pyc_compiler::ir::NamePool| -> Vec<String> {
        t.values().iter().map(|s| s.to_string_lossy()).collect()
    };
    for (what, got, want) in [
        ("names", table(&md.names), &golden.names),
        ("varnames", table(&md.varnames), &golden.varnames),
        ("cellvars", table(&md.cellvars), &golden.cellvars),
        ("freevars", table(&md.freevars), &golden.freevars),
    ] {
        if &got != want {
            return Err(format!("{what}:\n    got  {got:?}\n    want {want:?}"));
        }
    }
    let got_warnings: Vec<(String, u32)> =
        warnings.into_iter().map(|w| (w.msg, w.lineno)).collect();
    if got_warnings != golden.warnings {
        return Err(format!(
            "warnings:\n    got  {got_warnings:?}\n    want {:?}",
            golden.warnings
        ));
    }
    Ok(())
}

#[test]
fn module_units_match_cpython() {
    let all = goldens();
    assert!(all.len() >= 8, "golden dumps missing");
    let failures: Vec<String> = all
        .iter()
        .filter_map(|g| check(g).err().map(|e| format!("{}: {e}", g.path)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} module units differ:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n\n")
    );
}
