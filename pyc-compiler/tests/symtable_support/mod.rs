//! Differential testing of the symbol table against CPython 3.12.1's `symtable` module:
//! `fixtures/symtable/dump_symtable.py` dumps CPython's tables (and the AST we build ours from),
//! [`dump`] dumps ours in the same shape, [`compare`] says where they differ.

use std::path::PathBuf;

use pyc_compiler::future::parse_future;
use pyc_compiler::symtable::{self, AnnotationKind, BlockId, BlockKind, Scope, SymbolTable};
use pyc_compiler::CompileError;
use serde_json::{json, Value};

use crate::common::cpython_ast::{mod_from_json, run_python};

/// `fixtures/symtable/dump_symtable.py`.
pub fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/symtable/dump_symtable.py")
}

/// CPython's results for each source (see the script's documentation).
pub fn cpython_sources(sources: &[String]) -> Vec<Value> {
    cpython_sources_in(sources, "exec")
}

/// CPython's results for each source compiled in `mode` (`exec`, `eval` or `single`).
pub fn cpython_sources_in(sources: &[String], mode: &str) -> Vec<Value> {
    let input = serde_json::to_vec(sources).unwrap();
    run_script(&["--mode", mode, "--sources"], &input)
}

/// CPython's results for each file.
pub fn cpython_files(files: &[PathBuf]) -> Vec<Value> {
    let mut args = vec!["--files".to_string()];
    args.extend(files.iter().map(|f| f.to_str().unwrap().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_script(&args, b"")
}

fn run_script(args: &[&str], stdin: &[u8]) -> Vec<Value> {
    let script = script();
    let mut full = vec![script.to_str().unwrap()];
    full.extend_from_slice(args);
    let out = run_python(&full, stdin);
    assert!(
        out.status.success(),
        "dump_symtable.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("the script writes ASCII");
    let mut de = serde_json::Deserializer::from_str(&text);
    de.disable_recursion_limit();
    let value = serde::Deserialize::deserialize(&mut de).expect("valid JSON");
    match value {
        Value::Array(items) => items,
        other => panic!("expected a list, got {other}"),
    }
}

/// CPython's block type number.
fn type_number(kind: BlockKind) -> u32 {
    match kind {
        BlockKind::Function => 0,
        BlockKind::Class => 1,
        BlockKind::Module => 2,
        BlockKind::Annotation(AnnotationKind::TypeVarBound) => 4,
        BlockKind::Annotation(AnnotationKind::TypeAlias) => 5,
        BlockKind::Annotation(AnnotationKind::TypeParams) => 6,
    }
}

fn scope_number(scope: Option<Scope>) -> u32 {
    match scope {
        None => 0,
        Some(Scope::Local) => 1,
        Some(Scope::GlobalExplicit) => 2,
        Some(Scope::GlobalImplicit) => 3,
        Some(Scope::Free) => 4,
        Some(Scope::Cell) => 5,
    }
}

/// Our table in the script's shape.
pub fn dump(table: &SymbolTable) -> Value {
    dump_block(table, BlockId(0))
}

fn dump_block(table: &SymbolTable, id: BlockId) -> Value {
    let b = table.block(id);
    json!({
        "type": type_number(b.kind),
        "name": &*b.name,
        "lineno": b.loc.lineno,
        "nested": u32::from(b.nested),
        "varnames": b.varnames.iter().map(|v| &**v).collect::<Vec<_>>(),
        "symbols": b.symbols.iter()
            .map(|(n, s)| json!([&**n, s.flags, scope_number(s.scope)]))
            .collect::<Vec<_>>(),
        "children": b.children.iter().map(|&c| dump_block(table, c)).collect::<Vec<_>>(),
    })
}

/// What the code objects CPython makes of our blocks would show, in the script's `codes`
/// shape: `[co_name, line, flags, sorted cellvars, sorted freevars]` per block that becomes a
/// code object (all but the module and inlined comprehensions).
pub fn codes(table: &SymbolTable) -> Vec<Value> {
    let mut out = Vec::new();
    for b in table.blocks.iter().skip(1).filter(|b| !b.comp_inlined) {
        let name = match (b.kind, b.comprehension) {
            (_, Some(_)) => format!("<{}>", b.name),
            (BlockKind::Annotation(AnnotationKind::TypeParams), _) => {
                format!("<generic parameters of {}>", b.name)
            }
            _ if &*b.name == "lambda" && b.kind == BlockKind::Function => "<lambda>".into(),
            _ => b.name.to_string(),
        };
        let mut flags = 0;
        if b.kind.is_function_like() {
            flags |= if b.nested { 0x10 } else { 0 };
            flags |= match (b.generator, b.coroutine) {
                (true, false) => 0x20,
                (false, true) => 0x80,
                (true, true) => 0x200,
                (false, false) => 0,
            };
            flags |= if b.varargs { 0x4 } else { 0 };
            flags |= if b.varkeywords { 0x8 } else { 0 };
        }
        // `co_cellvars` lists the cells in `localsplusnames` order, which code generation
        // decides (locals it makes fast come first): compare them as sets.
        let mut cells = b.cellvars();
        cells.sort_unstable();
        let frees = b.freevars();
        out.push(json!([name, b.loc.lineno, flags, cells, frees]));
    }
    out
}

/// Our results in the script's shapes.
pub struct Ours {
    pub table: Value,
    pub codes: Vec<Value>,
    pub future_flags: u32,
}

/// What our pipeline (future statements, then the symbol table) makes of CPython's AST.
pub fn ours(result: &Value) -> Option<Result<Ours, CompileError>> {
    let module = result.get("mod").filter(|m| !m.is_null())?;
    Some(ours_from(mod_from_json(&module.to_string())))
}

/// What our whole front end (decode, parse, future statements, symbol table) makes of a source.
pub fn ours_from_source(source: &[u8]) -> Result<Ours, CompileError> {
    let text = pyc_compiler::decode::decode(source)?;
    let module = pyc_compiler::parse::parse(&text, pyc_compiler::Mode::Module, "<case>")?;
    ours_from(module)
}

fn ours_from(module: pyc_compiler::ast::Mod) -> Result<Ours, CompileError> {
    // On an ordinary 2 MiB thread: deep trees must not need the caller's stack.
    let built = std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn_scoped(s, || {
                let future = parse_future(&module)?;
                Ok((symtable::build(&module, "<case>", &future)?, future))
            })
            .unwrap()
            .join()
            .unwrap()
    });
    built.map(|(table, future)| Ours {
        table: dump(&table),
        codes: codes(&table),
        future_flags: future.flags,
    })
}

/// The first code object whose scope facts differ. Only code objects whose name and line are
/// unique on both sides are compared (a line may hold two lambdas); blocks without a code object
/// are fine (CPython drops the code of unreachable statements).
fn compare_codes(expected: &[Value], ours: &[Value]) -> Option<String> {
    let key = |v: &Value| (v[0].clone(), v[1].clone());
    let count = |list: &[Value], k: &(Value, Value)| list.iter().filter(|v| key(v) == *k).count();
    for e in expected {
        let k = key(e);
        if count(expected, &k) != 1 || count(ours, &k) > 1 {
            continue;
        }
        match ours.iter().find(|v| key(v) == k) {
            None => return Some(format!("code {e}: no such block")),
            Some(o) if o != e => return Some(format!("code: CPython {e} ours {o}")),
            Some(_) => {}
        }
    }
    None
}

/// The symbols with each run of pass-through free names (flags 0, whose order comes from a
/// set in CPython) sorted.
fn normalized_symbols(symbols: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = symbols.as_array().cloned().unwrap_or_default();
    let mut i = 0;
    while i < out.len() {
        let is_pass = |v: &Value| v[1] == json!(0);
        if !is_pass(&out[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < out.len() && is_pass(&out[i]) {
            i += 1;
        }
        out[start..i].sort_by(|a, b| a[0].as_str().cmp(&b[0].as_str()));
    }
    out
}

/// The first difference between CPython's block tree and ours, as a path and a description.
pub fn compare(expected: &Value, ours: &Value) -> Option<String> {
    compare_block(expected, ours, "top")
}

fn compare_block(e: &Value, o: &Value, path: &str) -> Option<String> {
    for key in ["type", "name", "lineno", "nested", "varnames"] {
        if e[key] != o[key] {
            return Some(format!("{path}: {key}: CPython {} ours {}", e[key], o[key]));
        }
    }
    let (es, os) = (
        normalized_symbols(&e["symbols"]),
        normalized_symbols(&o["symbols"]),
    );
    if es != os {
        return Some(format!(
            "{path}: symbols:\n  CPython {}\n  ours    {}",
            Value::from(es),
            Value::from(os)
        ));
    }
    let (ec, oc) = (
        e["children"].as_array().unwrap(),
        o["children"].as_array().unwrap(),
    );
    if ec.len() != oc.len() {
        let names = |c: &[Value]| c.iter().map(|b| b["name"].to_string()).collect::<Vec<_>>();
        return Some(format!(
            "{path}: children: CPython {:?} ours {:?}",
            names(ec),
            names(oc)
        ));
    }
    ec.iter().zip(oc).enumerate().find_map(|(i, (e, o))| {
        let name = e["name"].as_str().unwrap_or("?");
        compare_block(e, o, &format!("{path}/{i}:{name}"))
    })
}

/// Compares one CPython result with ours (built from CPython's AST); `None` when they agree.
pub fn check(result: &Value) -> Option<String> {
    // `None` when CPython's parser rejects the source: not the symbol table's business.
    let ours = ours(result)?;
    check_against(result, ours)
}

/// Compares one CPython result with one of ours; `None` when they agree.
pub fn check_against(result: &Value, ours: Result<Ours, CompileError>) -> Option<String> {
    match (result.get("error"), ours) {
        (Some(err), Err(ours)) => {
            if err["type"] != json!(ours.kind.name()) {
                return Some(format!("error: CPython {err} ours {ours:?}"));
            }
            let want = (
                err["msg"].as_str().unwrap_or(""),
                err["lineno"].as_u64(),
                err["offset"].as_u64(),
                err["end_lineno"].as_u64(),
                err["end_offset"].as_u64(),
            );
            let opt = |v: u32| (v != 0).then_some(u64::from(v));
            let got = (
                ours.msg.as_str(),
                opt(ours.lineno),
                opt(ours.offset),
                opt(ours.end_lineno),
                opt(ours.end_offset),
            );
            (want != got).then(|| format!("error: CPython {want:?} ours {got:?}"))
        }
        (Some(err), Ok(_)) => Some(format!("CPython raises {err}, we accept")),
        (None, Err(ours)) => Some(format!("we raise {ours:?}, CPython accepts")),
        (None, Ok(ours)) => {
            let flags = ours.future_flags;
            if let Some(want) = result.get("future_flags") {
                if *want != json!(flags) {
                    return Some(format!("future flags: CPython {want} ours {flags}"));
                }
            }
            if let Some(Value::Array(want)) = result.get("codes") {
                if let Some(d) = compare_codes(want, &ours.codes) {
                    return Some(d);
                }
            }
            compare(&result["symtable"], &ours.table)
        }
    }
}
