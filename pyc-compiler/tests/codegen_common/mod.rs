//! Helpers of the code generation tests: the golden dumps of `fixtures/codegen` (written by
//! `fixtures/codegen/dump_codegen.py` from CPython 3.12.1), our pipeline up to the module's
//! code unit, and a field-by-field comparison of code objects.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pyc_compiler::codegen;
use pyc_compiler::error::{CompileError, Warning};
use pyc_compiler::ir::{Arg, CodeUnit};
use pyc_compiler::{ast_opt, decode, future, parse, symtable, Mode, Options};
use pyc_loader::code::CodeObject;
use pyc_loader::marshal::{loads, Object, Str};
use pyc_loader::target::Target;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `fixtures/codegen`.
pub fn fixtures() -> PathBuf {
    repo_root().join("fixtures/codegen")
}

/// One instruction as CPython's `compiler_codegen` reports it: name, argument (jump targets
/// as instruction indices), lineno, end_lineno, col_offset, end_col_offset.
pub type Instr = (String, i64, i64, i64, i64, i64);

/// A golden dump.
pub struct Golden {
    /// The file name CPython compiled with, relative to `fixtures/codegen`.
    pub path: String,
    pub source: Vec<u8>,
    pub instrs: Vec<Instr>,
    pub consts: Vec<String>,
    pub names: Vec<String>,
    pub varnames: Vec<String>,
    pub cellvars: Vec<String>,
    pub freevars: Vec<String>,
    pub code: Arc<CodeObject>,
    /// (message, line) of each SyntaxWarning `compile` emitted.
    pub warnings: Vec<(String, u32)>,
}

fn items(o: &Object) -> &[Object] {
    match o {
        Object::Tuple(items) | Object::List(items) => items,
        other => panic!("expected a tuple, got {other:?}"),
    }
}

fn int(o: &Object) -> i64 {
    match o {
        Object::Int(pyc_loader::marshal::Int::Small(v)) => *v,
        other => panic!("expected an int, got {other:?}"),
    }
}

fn text(o: &Object) -> String {
    match o {
        Object::Str(s) => s.to_string_lossy(),
        other => panic!("expected a str, got {other:?}"),
    }
}

/// Every golden dump, sorted by name.
pub fn goldens() -> Vec<Golden> {
    let dir = fixtures().join("golden");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|f| load_golden(f)).collect()
}

fn load_golden(file: &Path) -> Golden {
    let data = std::fs::read(file).unwrap();
    let record = loads(data.into()).unwrap();
    let fields = items(&record);
    let path = text(&fields[0]);
    let source = std::fs::read(fixtures().join(&path)).unwrap();
    let instrs = items(&fields[1])
        .iter()
        .map(|i| {
            let f = items(i);
            (
                text(&f[0]),
                int(&f[1]),
                int(&f[2]),
                int(&f[3]),
                int(&f[4]),
                int(&f[5]),
            )
        })
        .collect();
    let names = |o: &Object| items(o).iter().map(text).collect::<Vec<_>>();
    let Object::Code(code) = &fields[7] else {
        panic!("no code object in {}", file.display())
    };
    let warnings = items(&fields[8])
        .iter()
        .map(|w| {
            let f = items(w);
            (text(&f[1]), int(&f[2]) as u32)
        })
        .collect();
    Golden {
        path,
        source,
        instrs,
        consts: items(&fields[2]).iter().map(const_repr).collect(),
        names: names(&fields[3]),
        varnames: names(&fields[4]),
        cellvars: names(&fields[5]),
        freevars: names(&fields[6]),
        code: code.clone(),
        warnings,
    }
}

/// A constant's repr, code objects reduced to their name.
pub fn const_repr(o: &Object) -> String {
    match o {
        Object::Code(c) => format!("<code {}>", c.name.to_string_lossy()),
        other => pyc_loader::repr::repr(other, Target::V3_12).unwrap_or_else(|e| format!("{e:?}")),
    }
}

/// Stands in for the assembler when only the module's own unit is compared: a code object
/// carrying the nested unit's names.
fn placeholder_code(unit: CodeUnit, filename: &Str, _: Target) -> Result<CodeObject, CompileError> {
    let md = &unit.metadata;
    Ok(CodeObject {
        argcount: md.argcount,
        posonlyargcount: md.posonlyargcount,
        kwonlyargcount: md.kwonlyargcount,
        stacksize: 0,
        flags: md.flags,
        code: Default::default(),
        consts: Arc::from(Vec::new()),
        names: Arc::from(Vec::new()),
        localsplusnames: Arc::from(Vec::new()),
        localspluskinds: Default::default(),
        filename: filename.clone(),
        name: md.name.clone(),
        qualname: md.qualname.clone(),
        firstlineno: md.firstlineno,
        linetable: Default::default(),
        exceptiontable: Default::default(),
    })
}

/// Our module unit of a source, through our parser, optimizer and symbol table.
pub fn our_module_unit(
    source: &[u8],
    filename: &str,
) -> Result<(CodeUnit, Vec<Warning>), CompileError> {
    let options = Options::default();
    let text = decode::decode(source)?;
    let mut module = parse::parse(&text, Mode::Module, filename)?;
    let future = future::parse_future(&module)?;
    ast_opt::optimize(&mut module, options.optimize, &future)?;
    let symbols = symtable::build(&module, filename, &future)?;
    codegen::module_code_unit(
        &module,
        &symbols,
        &future,
        filename,
        &options,
        placeholder_code,
    )
}

/// Our instructions in the golden dumps' shape.
pub fn instrs_of(unit: &CodeUnit) -> Vec<Instr> {
    let seq = &unit.instrs;
    seq.instrs
        .iter()
        .map(|i| {
            let arg = match i.arg {
                Arg::Int(v) => v as i64,
                Arg::Label(l) => seq.label_targets[l.0 as usize].map_or(-1, |t| t as i64),
            };
            (
                i.op.name().to_string(),
                arg,
                i.loc.lineno as i64,
                i.loc.end_lineno as i64,
                i.loc.col_offset as i64,
                i.loc.end_col_offset as i64,
            )
        })
        .collect()
}

/// The first difference between two code objects, recursing into nested code objects;
/// `None` when identical. The result names the path to the differing field.
pub fn code_difference(
    got: &Arc<CodeObject>,
    want: &Arc<CodeObject>,
    path: &str,
) -> Option<String> {
    let here = format!("{path}{}", want.qualname.to_string_lossy());
    macro_rules! check {
        ($field:ident) => {
            if got.$field != want.$field {
                return Some(format!(
                    "{here}.{}:\n    got  {:?}\n    want {:?}",
                    stringify!($field),
                    got.$field,
                    want.$field
                ));
            }
        };
    }
    check!(name);
    check!(qualname);
    check!(argcount);
    check!(posonlyargcount);
    check!(kwonlyargcount);
    check!(flags);
    check!(firstlineno);
    check!(names);
    check!(localsplusnames);
    check!(localspluskinds);
    if got.consts.len() != want.consts.len() {
        let g: Vec<String> = got.consts.iter().map(const_repr).collect();
        let w: Vec<String> = want.consts.iter().map(const_repr).collect();
        return Some(format!("{here}.consts:\n    got  {g:?}\n    want {w:?}"));
    }
    for (i, (g, w)) in got.consts.iter().zip(want.consts.iter()).enumerate() {
        match (g, w) {
            (Object::Code(g), Object::Code(w)) => {
                if let Some(d) = code_difference(g, w, &format!("{here} > ")) {
                    return Some(d);
                }
            }
            _ if marshal_order(g) != marshal_order(w) => {
                return Some(format!(
                    "{here}.consts[{i}]:\n    got  {g:?}\n    want {w:?}"
                ));
            }
            _ => {}
        }
    }
    if got.code != want.code {
        return Some(format!(
            "{here}.code:\n--- got\n{}\n--- want\n{}",
            listing(got),
            listing(want)
        ));
    }
    check!(stacksize);
    check!(exceptiontable);
    check!(linetable);
    check!(filename);
    None
}

/// `dis` of one code object, without its nested code objects.
fn listing(code: &Arc<CodeObject>) -> String {
    let mut out = String::new();
    let _ = pyc_loader::dis::disassemble(code, Target::V3_12, &mut out);
    match out.find("\nDisassembly of") {
        Some(end) => out[..end].to_string(),
        None => out,
    }
}

/// A constant with the items of every (frozen)set in the order CPython 3.12's marshal writes
/// them (sorted by their own marshal dump), so that sets compare as the pyc bytes would.
pub fn marshal_order(o: &Object) -> Object {
    match o {
        Object::Tuple(items) => Object::Tuple(items.iter().map(marshal_order).collect()),
        Object::FrozenSet(items) | Object::Set(items) => {
            let mut keyed: Vec<(Vec<u8>, Object)> = items
                .iter()
                .map(|item| {
                    let item = marshal_order(item);
                    (pyc_loader::marshal::dumps(&item).unwrap_or_default(), item)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            let sorted = keyed.into_iter().map(|(_, item)| item).collect();
            match o {
                Object::Set(_) => Object::Set(sorted),
                _ => Object::FrozenSet(sorted),
            }
        }
        other => other.clone(),
    }
}
