//! `eval` and `single` (interactive) modes and the `-O`/`-OO` optimization levels against
//! CPython 3.12.1's `compile()`, run at test time through `fixtures/codegen/compile_modes.py`.

mod codegen_common;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;

use codegen_common::code_difference;
use pyc_compiler::{compile_source, Mode, Options};
use pyc_loader::marshal::Object;

const CASES: &[(&str, &str, u8)] = &[
    ("1 + 2", "eval", 0),
    ("x if y else [a for a in b]", "eval", 0),
    ("lambda: (yield)", "eval", 0),
    ("x = 1", "single", 0),
    ("x + 1", "single", 0),
    ("if x:\n    y\n    3\n", "single", 0),
    ("x: int = 1", "single", 0),
    ("for i in y: i\n", "single", 0),
    (
        "'''doc'''\nassert x, 'm'\nif __debug__:\n    y()\n",
        "exec",
        0,
    ),
    (
        "'''doc'''\nassert x, 'm'\nif __debug__:\n    y()\n",
        "exec",
        1,
    ),
    (
        "'''doc'''\nassert x, 'm'\nif __debug__:\n    y()\n",
        "exec",
        2,
    ),
    (
        "def f():\n    '''doc'''\n    assert x\n    return __debug__\nclass C:\n    'doc'\n",
        "exec",
        2,
    ),
    ("def f():\n    'doc'\n    return 1\n", "exec", 1),
];

fn cpython() -> Vec<Option<Arc<pyc_loader::code::CodeObject>>> {
    let script = codegen_common::fixtures().join("compile_modes.py");
    let mut child = Command::new("python3")
        .env("PYENV_VERSION", "3.12.1")
        .env("PYTHONHASHSEED", "0")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 (pyenv 3.12.1)");
    let input = serde_json::to_vec(CASES).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    child.wait().unwrap();
    let mut codes = Vec::new();
    let mut at = 0;
    while at < out.len() {
        let len = u32::from_le_bytes(out[at..at + 4].try_into().unwrap()) as usize;
        at += 4;
        codes.push(if len == 0 {
            None
        } else {
            match pyc_loader::marshal::loads(out[at..at + len].to_vec().into()).unwrap() {
                Object::Code(c) => Some(c),
                other => panic!("not a code object: {other:?}"),
            }
        });
        at += len;
    }
    codes
}

#[test]
fn modes_and_optimization_levels_match_cpython() {
    let expected = cpython();
    assert_eq!(expected.len(), CASES.len());
    let mut failures = Vec::new();
    for (&(src, mode, optimize), want) in CASES.iter().zip(&expected) {
        let want = want
            .as_ref()
            .unwrap_or_else(|| panic!("CPython rejects {src:?}"));
        let options = Options {
            optimize,
            mode: match mode {
                "eval" => Mode::Expression,
                "single" => Mode::Interactive,
                _ => Mode::Module,
            },
            ..Options::default()
        };
        match compile_source(src.as_bytes(), "<case>", &options) {
            Err(e) => failures.push(format!("{src:?} ({mode}, -O{optimize}): error {e}")),
            Ok(code) => {
                if let Some(d) = code_difference(&Arc::new(code), want, "") {
                    failures.push(format!("{src:?} ({mode}, -O{optimize}): {d}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
