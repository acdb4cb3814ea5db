//! The SyntaxErrors and SyntaxWarnings of code generation against CPython 3.12.1's `compile()`,
//! run at test time through `fixtures/codegen/compile_errors.py`.

mod codegen_common;

use std::io::Write;
use std::process::{Command, Stdio};

use pyc_compiler::codegen::compile_module_with_warnings;
use pyc_compiler::{
    ast_opt, decode, future, parse, symtable, CompileError, Mode, Options, Warning,
};
use serde_json::Value;

const SOURCES: &[&str] = &[
    "return 1\n",
    "x = 1\nreturn\n",
    "break\n",
    "if x:\n    continue\n",
    "yield 1\n",
    "x = (yield from y)\n",
    "await x\n",
    "def f():\n    await x\n",
    "async def f():\n    yield from x\n",
    "async def f():\n    yield 1\n    return 2\n",
    "def f():\n    async for x in y: pass\n",
    "def f():\n    async with x: pass\n",
    "a, *b, *c = d\n",
    "*a = b\n",
    "print(*a if b else c)\n",
    "for x in y:\n    try:\n        pass\n    except* E:\n        break\n",
    "try:\n    pass\nexcept:\n    pass\nexcept E:\n    pass\n",
    "match x:\n    case y:\n        pass\n    case 1:\n        pass\n",
    "match x:\n    case _:\n        pass\n    case 1:\n        pass\n",
    "match x:\n    case [a, a]:\n        pass\n",
    "match x:\n    case [a] | [b]:\n        pass\n",
    "match x:\n    case {1: a, 1: b}:\n        pass\n",
    "match x:\n    case C(a=1, a=2):\n        pass\n",
    "match x:\n    case [*a, *b]:\n        pass\n",
    "from __future__ import annotations\nx = 1\nfrom __future__ import annotations\n",
    "f(x for x in y)\nasync def g():\n    [x async for x in y]\ndef h():\n    [x async for x in y]\n",
    "def f():\n    for a in b:\n     for a in b:\n      for a in b:\n       for a in b:\n        for a in b:\n         for a in b:\n          for a in b:\n           for a in b:\n            for a in b:\n             for a in b:\n              for a in b:\n               for a in b:\n                for a in b:\n                 for a in b:\n                  for a in b:\n                   for a in b:\n                    for a in b:\n                     for a in b:\n                      for a in b:\n                       for a in b:\n                        for a in b:\n                         pass\n",
    "def f():\n for a in b:\n  for a in b:\n   for a in b:\n    for a in b:\n     for a in b:\n      for a in b:\n       for a in b:\n        for a in b:\n         for a in b:\n          for a in b:\n           for a in b:\n            for a in b:\n             for a in b:\n              for a in b:\n               for a in b:\n                for a in b:\n                 for a in b:\n                  for a in b:\n                   for a in b:\n                    for a in b:\n                     yield\n",
    "x is 1\nx is not ()\n1 is x\nx is (1, 2)\nx is None\n",
    "(1, 2)(3)\n[1][0]\n[1]['a']\n{1: 2}()\nf'{x}'()\n",
    "1[2]\n(1, 2)[1.0]\n'abc'['x']\n{1}[0]\n(x for x in y)[0]\n",
    "assert (x, 'msg')\nassert ()\n",
    "def f(__debug__): pass\n",
    "while x is 1:\n    pass\nif (y, 2)(1) or z is 'a':\n    pass\n",
    "f(__debug__=1)\n",
];

/// Our verdict: the error, or the warnings.
fn ours(src: &str) -> Result<Vec<Warning>, CompileError> {
    let options = Options::default();
    let text = decode::decode(src.as_bytes())?;
    let mut module = parse::parse(&text, Mode::Module, "<test>")?;
    let future = future::parse_future(&module)?;
    ast_opt::optimize(&mut module, options.optimize, &future)?;
    let symbols = symtable::build(&module, "<test>", &future)?;
    compile_module_with_warnings(&module, &symbols, &future, "<test>", &options).map(|(_, w)| w)
}

fn cpython(sources: &[&str]) -> Vec<Value> {
    let script = codegen_common::fixtures().join("compile_errors.py");
    let mut child = Command::new("python3")
        .env("PYENV_VERSION", "3.12.1")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 (pyenv 3.12.1)");
    let input = serde_json::to_vec(sources).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    match serde_json::from_slice(&out.stdout).unwrap() {
        Value::Array(items) => items,
        other => panic!("unexpected oracle output {other}"),
    }
}

#[test]
fn errors_and_warnings_match_cpython() {
    let expected = cpython(SOURCES);
    let mut failures = Vec::new();
    for (src, want) in SOURCES.iter().zip(&expected) {
        let got = match ours(src) {
            Err(e) => serde_json::json!({
                "error": [e.kind.name(), e.msg, e.lineno, e.offset],
                "warnings": [],
            }),
            Ok(warnings) => serde_json::json!({
                "error": null,
                "warnings": warnings.iter().map(|w| serde_json::json!([w.msg, w.lineno])).collect::<Vec<_>>(),
            }),
        };
        // CPython reports the warnings emitted before an error too; we report the error only.
        let comparable = if want["error"].is_null() {
            want.clone()
        } else {
            serde_json::json!({"error": want["error"], "warnings": []})
        };
        if got != comparable {
            failures.push(format!("{src:?}\n    got  {got}\n    want {comparable}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} sources differ:\n{}",
        failures.len(),
        SOURCES.len(),
        failures.join("\n")
    );
}

/// Deep trees below the symbol table's limit go through code generation without exhausting a
/// small stack (the earlier stages run on the test thread).
#[test]
fn deep_nesting_compiles_on_a_small_stack() {
    let sum = format!("x = {}\n", vec!["a"; 2500].join("+"));
    let nested_ifs: String = (0..19)
        .map(|d| format!("{}if x:\n", " ".repeat(d)))
        .chain([format!("{}pass\n", " ".repeat(19))])
        .collect();
    for src in [sum, nested_ifs] {
        let module = parse::parse(&src, Mode::Module, "<deep>").unwrap();
        let future = future::parse_future(&module).unwrap();
        let symbols = symtable::build(&module, "<deep>", &future).unwrap();
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn_scoped(scope, || {
                    compile_module_with_warnings(
                        &module,
                        &symbols,
                        &future,
                        "<deep>",
                        &Options::default(),
                    )
                    .map(|_| ())
                    .unwrap_or_else(|e| panic!("{e}"))
                })
                .unwrap()
                .join()
                .unwrap()
        });
    }
}

/// The messages code generation (not the parser or the symbol table) produces.
const CODEGEN_MESSAGES: &[&str] = &[
    "outside function",
    "outside loop",
    "not properly in loop",
    "outside async function",
    "starred",
    "cannot appear in an except",
    "must be last",
    "pattern",
    "from __future__ imports",
    "asynchronous comprehension",
    "statically nested",
    "__debug__",
    "'yield from' inside async",
    "async generator",
    "duplicate key",
    "keyword argument repeated",
    "attribute name repeated",
];

/// The snippets of CPython's test suite that CPython rejects with one of code generation's
/// messages (`PYC_SNIPPETS=dir`, made by `fixtures/codegen/extract_snippets.py dir`): our
/// message and position must be CPython's, unless our parser already rejects the snippet.
#[test]
#[ignore]
fn test_suite_snippet_errors() {
    let dir = std::path::PathBuf::from(std::env::var("PYC_SNIPPETS").expect("PYC_SNIPPETS=dir"));
    let text = std::fs::read_to_string(dir.join("errors.json")).unwrap();
    let sources: Vec<String> = serde_json::from_str(&text).unwrap();
    let refs: Vec<&str> = sources.iter().map(String::as_str).collect();
    let expected = cpython(&refs);
    let (mut total, mut same, mut parser_first, mut failures) = (0, 0, 0, Vec::new());
    for (src, want) in refs.iter().zip(&expected) {
        let Some(error) = want["error"].as_array() else {
            continue;
        };
        let msg = error[1].as_str().unwrap_or("");
        if !CODEGEN_MESSAGES.iter().any(|m| msg.contains(m)) {
            continue;
        }
        total += 1;
        match ours(src) {
            Err(e)
                if e.msg == msg
                    && Some(e.lineno as i64) == error[2].as_i64()
                    && Some(e.offset as i64) == error[3].as_i64() =>
            {
                same += 1
            }
            Err(e) if e.msg == "invalid syntax" => parser_first += 1,
            other => failures.push(format!("{src:?}\n    got  {other:?}\n    want {error:?}")),
        }
    }
    eprintln!("{same} / {total} identical ({parser_first} rejected earlier by the parser)");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
