//! Shared by the assembler tests: turning a dump of CPython's code generation (written by
//! `fixtures/cfg/dump_codegen.py`) into a `CodeUnit`, and comparing code objects.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use pyc_compiler::assemble::assemble_unit;
use pyc_compiler::ir::{Arg, CodeUnit, InstrSequence, Location, Opcode, UnitMetadata};
use pyc_compiler::opcode_info::has_target;
use pyc_loader::code::{kinds, CodeObject};
use pyc_loader::marshal::{loads, Int, Object, Str};
use pyc_loader::Target;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A `python3` command running CPython 3.12.1.
pub fn python312() -> Command {
    let mut cmd = Command::new("python3");
    cmd.env("PYENV_VERSION", "3.12.1")
        .env("PYTHONHASHSEED", "0");
    cmd
}

/// One dumped module: CPython's codegen output as a `CodeUnit`, and the code object CPython
/// compiled from the same source.
pub struct Case {
    pub path: String,
    pub unit: CodeUnit,
    pub expected: CodeObject,
}

pub fn int(obj: &Object) -> i64 {
    match obj {
        Object::Int(Int::Small(v)) => *v,
        other => panic!("expected an int, got {other:?}"),
    }
}

pub fn str_of(obj: &Object) -> Str {
    match obj {
        Object::Str(s) => s.clone(),
        other => panic!("expected a str, got {other:?}"),
    }
}

pub fn items(obj: &Object) -> &[Object] {
    match obj {
        Object::Tuple(items) => items,
        other => panic!("expected a tuple, got {other:?}"),
    }
}

/// Where CPython's code generation binds labels that no jump uses. `compiler_codegen` reports
/// jump targets only, but every bound label starts a basic block, which changes what the
/// per-block optimizations see. These are the places 3.12's codegen binds such labels after an
/// instruction that does not end a block: the body of `try` (after `SETUP_FINALLY`) and of
/// `with` (after `SETUP_WITH`), the end of a `for` loop (after `END_FOR`), and the body of an `except` clause (after its
/// `SETUP_CLEANUP` when it binds a name, after the `POP_TOP` of the exception otherwise).
fn lost_labels(raw: &[(Opcode, i64, Location)]) -> Vec<usize> {
    let op = |i: usize| raw.get(i).map(|r| r.0);
    let mut at = Vec::new();
    for i in 0..raw.len() {
        let label_after = match raw[i].0 {
            Opcode::SETUP_FINALLY => op(i + 1) != Some(Opcode::GET_ANEXT),
            // The end of a `for` loop without `else`.
            Opcode::SETUP_WITH | Opcode::END_FOR => true,
            Opcode::SETUP_CLEANUP => op(i + 1) != Some(Opcode::PUSH_EXC_INFO),
            Opcode::POP_TOP => {
                let after_match = i >= 2
                    && matches!(op(i - 1), Some(Opcode::POP_JUMP_IF_FALSE))
                    && matches!(
                        op(i - 2),
                        Some(Opcode::CHECK_EXC_MATCH | Opcode::CHECK_EG_MATCH)
                    );
                let bare = i >= 1 && op(i - 1) == Some(Opcode::PUSH_EXC_INFO);
                after_match || bare
            }
            _ => false,
        };
        if label_after && i + 1 < raw.len() {
            at.push(i + 1);
        }
    }
    at
}

/// Instructions as the dump scripts write them: (opname, oparg, lineno, end_lineno, col,
/// end_col), targets as instruction indices.
pub fn decode_instrs(obj: &Object) -> Vec<(Opcode, i64, Location)> {
    let opcodes: HashMap<&str, Opcode> = Opcode::ALL.iter().map(|&op| (op.name(), op)).collect();
    items(obj)
        .iter()
        .map(|instr| {
            let f = items(instr);
            let name = str_of(&f[0]).to_string_lossy();
            let op = *opcodes
                .get(name.as_str())
                .unwrap_or_else(|| panic!("unknown opcode {name}"));
            let loc = Location {
                lineno: int(&f[2]) as i32,
                end_lineno: int(&f[3]) as i32,
                col_offset: int(&f[4]) as i32,
                end_col_offset: int(&f[5]) as i32,
            };
            (op, int(&f[1]), loc)
        })
        .collect()
}

/// An instruction sequence with a label at each jump target, and with `recover_labels` also
/// where codegen binds labels no jump uses (see [`lost_labels`]).
pub fn to_sequence(raw: &[(Opcode, i64, Location)], recover_labels: bool) -> InstrSequence {
    let mut seq = InstrSequence::default();
    let mut labels = HashMap::new();
    for (op, arg, _) in raw {
        if has_target(*op) {
            labels
                .entry(*arg as usize)
                .or_insert_with(|| seq.new_label());
        }
    }
    if recover_labels {
        for at in lost_labels(raw) {
            labels.entry(at).or_insert_with(|| seq.new_label());
        }
    }
    let mut bound: Vec<(usize, pyc_compiler::ir::Label)> =
        labels.iter().map(|(&at, &l)| (at, l)).collect();
    bound.sort_by_key(|&(at, _)| at);
    let mut bound = bound.into_iter().peekable();
    for (i, &(op, arg, loc)) in raw.iter().enumerate() {
        while let Some(&(at, label)) = bound.peek() {
            if at != i {
                break;
            }
            seq.bind(label);
            bound.next();
        }
        let arg = if has_target(op) {
            Arg::Label(labels[&(arg as usize)])
        } else {
            Arg::Int(arg as u32)
        };
        seq.emit(op, arg, loc);
    }
    for (_, label) in bound {
        seq.bind(label);
    }

    seq
}

/// Reads one dump file.
pub fn load_case(file: &Path) -> Case {
    let data = std::fs::read(file).unwrap();
    let record = loads(data.into()).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let fields = items(&record);
    let path = str_of(&fields[0]).to_string_lossy();
    let Object::Code(expected) = &fields[10] else {
        panic!("{}: no code object", file.display());
    };
    let expected = (**expected).clone();
    let raw = decode_instrs(&fields[1]);
    let mut unit = CodeUnit {
        instrs: to_sequence(&raw, true),
        ..CodeUnit::default()
    };
    let md: &mut UnitMetadata = &mut unit.metadata;
    for c in items(&fields[2]) {
        md.consts.add(c.clone());
    }
    for n in items(&fields[3]) {
        md.names.add(&str_of(n));
    }
    for n in items(&fields[4]) {
        md.varnames.add(&str_of(n));
    }
    for n in items(&fields[5]) {
        md.cellvars.add(&str_of(n));
    }
    for n in items(&fields[6]) {
        md.freevars.add(&str_of(n));
    }
    md.argcount = int(&fields[7]) as u32;
    md.posonlyargcount = int(&fields[8]) as u32;
    md.kwonlyargcount = int(&fields[9]) as u32;
    // Not in compiler_codegen's metadata: taken from the expected code object.
    md.name = expected.name.clone();
    md.qualname = expected.qualname.clone();
    md.firstlineno = expected.firstlineno;
    md.flags = expected.flags;
    md.fasthidden = expected
        .localsplusnames
        .iter()
        .zip(expected.localspluskinds.iter())
        .filter(|(_, &k)| k & kinds::HIDDEN != 0)
        .map(|(n, _)| n.clone())
        .collect();
    Case {
        path,
        unit,
        expected,
    }
}

/// The first field where two code objects differ, described; `None` if identical.
pub fn first_difference(got: &CodeObject, want: &CodeObject) -> Option<(&'static str, String)> {
    macro_rules! check {
        ($field:ident) => {
            if got.$field != want.$field {
                return Some((
                    stringify!($field),
                    format!("got {:?}\n  want {:?}", got.$field, want.$field),
                ));
            }
        };
    }
    if got.code != want.code {
        let at = got
            .code
            .iter()
            .zip(want.code.iter())
            .position(|(a, b)| a != b)
            .unwrap_or(got.code.len().min(want.code.len()));
        let from = at.saturating_sub(8) & !1;
        return Some((
            "code",
            format!(
                "differs at byte {at} (lengths {} / {})\n  got  {:?}\n  want {:?}",
                got.code.len(),
                want.code.len(),
                &got.code[from..(from + 24).min(got.code.len())],
                &want.code[from..(from + 24).min(want.code.len())],
            ),
        ));
    }
    if got.consts.len() != want.consts.len() {
        check!(consts);
    }
    for (i, (a, b)) in got.consts.iter().zip(want.consts.iter()).enumerate() {
        if let (Object::Code(a), Object::Code(b)) = (a, b) {
            if let Some((field, detail)) = first_difference(a, b) {
                return Some(("consts", format!("[{i}] (nested code) {field}: {detail}")));
            }
        } else if !const_eq(a, b) {
            return Some(("consts", format!("[{i}] got {a:?}\n  want {b:?}")));
        }
    }
    check!(names);
    check!(localsplusnames);
    check!(localspluskinds);
    check!(stacksize);
    check!(exceptiontable);
    check!(linetable);
    check!(argcount);
    check!(posonlyargcount);
    check!(kwonlyargcount);
    check!(flags);
    check!(filename);
    check!(name);
    check!(qualname);
    check!(firstlineno);
    None
}

/// Equality of constants where frozensets compare as sets: their order in a code object is
/// not the assembler's (marshal sorts them when writing).
fn const_eq(a: &Object, b: &Object) -> bool {
    match (a, b) {
        (Object::Tuple(x), Object::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| const_eq(a, b))
        }
        (Object::FrozenSet(x), Object::FrozenSet(y)) => {
            x.len() == y.len() && x.iter().all(|a| y.iter().any(|b| const_eq(a, b)))
        }
        (Object::Code(x), Object::Code(y)) => first_difference(x, y).is_none(),
        _ => a == b,
    }
}

/// Assembles a case; `Err` describes how the result differs from CPython's.
pub fn check_case(case: Case) -> Result<(), (&'static str, String)> {
    let filename = Str::new(&case.path, false);
    let got =
        assemble_unit(case.unit, &filename, Target::V3_12).map_err(|e| ("error", e.to_string()))?;
    if let Some(dir) = std::env::var_os("ASSEMBLE_DUMP_DIR") {
        // Debugging aid: keep what we produced, for `dis` to compare.
        let name = case.path.replace('/', "_");
        let data = pyc_loader::marshal::dumps(&Object::Code(got.clone().into())).unwrap();
        std::fs::write(Path::new(&dir).join(name + ".got"), data).unwrap();
    }
    match first_difference(&got, &case.expected) {
        None => Ok(()),
        Some(d) => Err(d),
    }
}

/// The `.py` files of CPython 3.12.1's standard library (without `site-packages`), sorted;
/// `ASSEMBLE_SWEEP_FILTER=<substring>` keeps only matching paths (for debugging).
pub fn stdlib_files() -> Vec<PathBuf> {
    let out = python312()
        .args([
            "-c",
            "import sysconfig;print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .expect("PYENV_VERSION=3.12.1 python3 must run");
    let root = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let filter = std::env::var("ASSEMBLE_SWEEP_FILTER").unwrap_or_default();
    let mut files = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "site-packages") {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "py")
                && path.to_string_lossy().contains(&filter)
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Runs `fixtures/cfg/<script>` over `files` into a fresh `out` directory, in batches. The
/// `_testinternalcapi` hooks crash CPython on a few sources: those batches are redone file by
/// file and the crashing files listed.
pub fn dump_stdlib(script: &str, out: &Path, files: &[PathBuf]) {
    let _ = std::fs::remove_dir_all(out);
    let dump = |paths: &[PathBuf]| {
        python312()
            .arg(repo_root().join("fixtures/cfg").join(script))
            .arg(out)
            .args(paths)
            .status()
            .unwrap()
            .success()
    };
    let mut crashed = Vec::new();
    for chunk in files.chunks(200) {
        if !dump(chunk) {
            for file in chunk {
                if !dump(std::slice::from_ref(file)) {
                    crashed.push(file.display().to_string());
                }
            }
        }
    }
    println!("{script} crashed CPython on: {crashed:?}");
}
