//! `opcode_info::stack_effect` against CPython 3.12.1's `dis.stack_effect`, for every opcode the
//! compiler can emit, both branches, and arguments 0..=300 (plus a few large ones).

mod assemble_common;

use std::io::Write;
use std::process::Stdio;

use assemble_common::python312;
use pyc_compiler::ir::Opcode;
use pyc_compiler::opcode_info::stack_effect;

const SCRIPT: &str = r#"
import dis, opcode, sys
args = list(range(301)) + [511, 512, 65535, 65536, 1 << 24]
for name in sys.stdin.read().split():
    op = opcode.opmap[name]
    for arg in (args if op in opcode.hasarg else [None]):
        for jump in (False, True):
            print(name, 0 if arg is None else arg, int(jump), dis.stack_effect(op, arg, jump=jump))
"#;

#[test]
fn stack_effects_match_cpython() {
    let names: Vec<&str> = Opcode::ALL
        .iter()
        .filter(|op| !matches!(op, Opcode::CACHE | Opcode::RESERVED))
        .map(|op| op.name())
        .collect();
    let mut child = python312()
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("PYENV_VERSION=3.12.1 python3 must run");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(names.join(" ").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let by_name = |name: &str| *Opcode::ALL.iter().find(|op| op.name() == name).unwrap();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let op = by_name(f[0]);
        let arg: u32 = f[1].parse().unwrap();
        let jump = f[2] == "1";
        let want: i32 = f[3].parse().unwrap();
        let got = stack_effect(op, arg, jump);
        if got != Some(want) {
            wrong.push(format!(
                "{} arg {arg} jump {jump}: got {got:?}, want {want}",
                f[0]
            ));
        }
        checked += 1;
    }
    assert!(checked > 10_000, "only {checked} effects compared");
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
