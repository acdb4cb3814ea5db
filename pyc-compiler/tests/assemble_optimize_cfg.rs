//! The flow-graph optimizations alone against CPython 3.12.1's (`_testinternalcapi.optimize_cfg`)
//! on module units rewritten to use fast locals, so that the analysis of loads of unbound
//! locals (`LOAD_FAST_CHECK`) runs on real control flow. Golden dumps in
//! `fixtures/cfg/golden_fast` (regenerate with `cd fixtures/cfg && PYENV_VERSION=3.12.1 python3
//! dump_optimize_cfg.py golden_fast cases/*.py`); the whole stdlib with `cargo test -p
//! pyc-compiler --test assemble_optimize_cfg -- --ignored --nocapture`.

mod assemble_common;

use std::path::{Path, PathBuf};

use assemble_common::{
    decode_instrs, dump_stdlib, int, items, repo_root, stdlib_files, str_of, to_sequence,
};
use pyc_compiler::flowgraph::optimized_instructions;
use pyc_compiler::ir::Opcode;
use pyc_loader::marshal::loads;
use pyc_loader::Target;

/// Runs one dump; `Err` describes the first difference.
fn check(file: &Path) -> Result<(), String> {
    let record = loads(std::fs::read(file).unwrap().into()).unwrap();
    let f = items(&record);
    let raw = decode_instrs(&f[1]);
    let mut consts = items(&f[2]).to_vec();
    let nlocals = int(&f[3]) as usize;
    let want = decode_instrs(&f[4]);
    let want_consts = items(&f[5]);
    let seq = to_sequence(&raw, false);
    let got = optimized_instructions(&seq, &mut consts, nlocals, 0, 1, Target::V3_12)
        .map_err(|e| e.to_string())?;
    let got: Vec<(Opcode, i64, _)> = got.into_iter().map(|(o, a, l)| (o, a as i64, l)).collect();
    if let Some(i) = (0..got.len().max(want.len())).find(|&i| got.get(i) != want.get(i)) {
        return Err(format!(
            "instruction {i}: got {:?}, want {:?}",
            got.get(i),
            want.get(i)
        ));
    }
    if consts.as_slice() != want_consts {
        return Err(format!("consts: got {consts:?}\n  want {want_consts:?}"));
    }
    let _ = str_of(&f[0]);
    Ok(())
}

fn check_dir(dir: &Path) -> (usize, Vec<String>) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let failures = files
        .iter()
        .filter_map(|f| check(f).err().map(|e| format!("{}: {e}", f.display())))
        .collect();
    (files.len(), failures)
}

#[test]
fn golden_fast_local_units_optimize_like_cpython() {
    let (n, failures) = check_dir(&repo_root().join("fixtures/cfg/golden_fast"));
    assert!(n >= 8, "golden dumps missing");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
#[ignore = "whole-stdlib sweep: run explicitly"]
fn stdlib_fast_local_units_optimize_like_cpython() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("assemble_optimize_dumps");
    dump_stdlib("dump_optimize_cfg.py", &dir, &stdlib_files());
    let (n, failures) = check_dir(&dir);
    println!("{} of {n} units optimized identically", n - failures.len());
    for f in failures.iter().take(10) {
        println!("  {f}");
    }
}
