//! `unparse_annotation` against CPython 3.12.1's `_PyAST_ExprAsUnicode` (what
//! `from __future__ import annotations` stores), on the same trees: every expression kind,
//! constants with their repr rules, f-strings, and random operator nests for precedence.
//! The stdlib sweep is `--ignored` (`make parity`).

mod common;

use pyc_compiler::ast::Mod;
use pyc_compiler::unparse::unparse_annotation;
use serde_json::{json, Value};

/// CPython's (tree, text) pairs for each request (`fixtures/unparse/unparsed.py`).
fn cpython_unparse(requests: &[Value]) -> Vec<Result<Vec<(Mod, String)>, String>> {
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/unparse/unparsed.py");
    let output = common::cpython_ast::run_python(
        &[script.to_str().unwrap()],
        &serde_json::to_vec(requests).unwrap(),
    );
    assert!(
        output.status.success(),
        "unparsed.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut de = serde_json::Deserializer::from_slice(&output.stdout);
    de.disable_recursion_limit();
    let results: Vec<Value> = serde::Deserialize::deserialize(&mut de).unwrap();
    results
        .into_iter()
        .map(|r| match r.as_array() {
            Some(entries) => Ok(entries
                .iter()
                .map(|e| {
                    let tree = common::cpython_ast::mod_from_json(&e["tree"].to_string());
                    (tree, e["text"].as_str().unwrap().to_string())
                })
                .collect()),
            None => Err(r["error"].to_string()),
        })
        .collect()
}

fn ours(tree: &Mod) -> String {
    let Mod::Expression { body } = tree else {
        panic!("not an expression")
    };
    unparse_annotation(body)
}

/// Like [`compare`], skipping requests CPython cannot parse.
fn compare_parsed(requests: &[Value]) -> (usize, usize, Vec<String>) {
    let (mut same, mut total, mut diffs) = (0, 0, Vec::new());
    for entries in cpython_unparse(requests).into_iter().flatten() {
        for (tree, expected) in entries {
            total += 1;
            let got = ours(&tree);
            if got == expected {
                same += 1;
            } else if diffs.len() < 20 {
                diffs.push(format!("cpython: {expected}\n   ours: {got}"));
            }
        }
    }
    (same, total, diffs)
}

/// (identical, total, the first differences) over every tree of every request.
fn compare(requests: &[Value]) -> (usize, usize, Vec<String>) {
    let (mut same, mut total, mut diffs) = (0, 0, Vec::new());
    for (request, result) in requests.iter().zip(cpython_unparse(requests)) {
        let entries = match result {
            Ok(entries) => entries,
            Err(e) => {
                diffs.push(format!("CPython failed on {request}: {e}"));
                continue;
            }
        };
        for (tree, expected) in entries {
            total += 1;
            let got = ours(&tree);
            if got == expected {
                same += 1;
            } else if diffs.len() < 20 {
                diffs.push(format!("cpython: {expected}\n   ours: {got}"));
            }
        }
    }
    (same, total, diffs)
}

fn assert_all_same(exprs: &[String]) {
    let requests: Vec<Value> = exprs.iter().map(|e| json!({ "expr": e })).collect();
    let (same, total, diffs) = compare(&requests);
    assert!(
        same == total && diffs.is_empty(),
        "differences:\n{}",
        diffs.join("\n")
    );
}

#[test]
fn every_expression_kind() {
    let exprs = [
        "a",
        "a.b.c",
        "1 .real",
        "(1.5).real",
        "a[b]",
        "a[b, c]",
        "a[b:c]",
        "a[::2, 1:]",
        "a[*b]",
        "a[()]",
        "a[(1,)]",
        "f()",
        "f(a, *b, c=1, **d)",
        "f(x for x in y)",
        "f((x for x in y), 1)",
        "f(a)(b)[c].d",
        "[]",
        "[a, *b]",
        "()",
        "(a,)",
        "(a, b)",
        "{}",
        "{a: b, **c}",
        "{a, b}",
        "{**{}}",
        "[x for x in y if z if w]",
        "{x for x in y}",
        "{k: v for k, v in y}",
        "(x async for x in y)",
        "[x for x in (y if z else w)]",
        "[x for x in (lambda: y)]",
        "[(a, b) for a, b in c]",
        "lambda: 0",
        "lambda a, b=1, /, c=2, *d, e, f=3, **g: 0",
        "lambda *a: 0",
        "lambda *, a: 0",
        "lambda a, /: 0",
        "lambda **k: 0",
        "x if y else z",
        "(x if y else z) if w else v",
        "x if (y if z else w) else v",
        "a and b or c",
        "a and (b or c)",
        "not a and not b",
        "not (a and b)",
        "a < b < c",
        "a is not b",
        "a not in b",
        "(a < b) < c",
        "a < (b < c)",
        "-a",
        "+a",
        "~a",
        "not -a",
        "-(-a)",
        "-a ** b",
        "(-a) ** b",
        "a ** -b",
        "a ** b ** c",
        "(a ** b) ** c",
        "a - (b - c)",
        "(a - b) - c",
        "a * (b + c)",
        "a | b ^ c & d << e + f * g",
        "((a | b) ^ c) & d",
        "a @ b",
        "a // b % c",
        "await a",
        "await (a + b)",
        "(yield)",
        "(yield a)",
        "(yield from a)",
        "(a := b)",
        "[a := b]",
        "f(a := b)",
        "(*a, b)",
        "[*(a or b)]",
        "'a'",
        "\"'\"",
        "'\"'",
        "'\\''",
        "'\\n\\t\\x00\\x7f\\u2028\\U0001f600é'",
        "'\\ud800'",
        "u'x'",
        "b'a\\x00\\''",
        "1",
        "-1",
        "10 ** 100",
        "123456789012345678901234567890",
        "1.5",
        "1e16",
        "1e-05",
        "1e999",
        "-1e999",
        "1j",
        "1e999j",
        "(1+1e999j)",
        "0.1 + 0.2j",
        "True",
        "None",
        "...",
        "Ellipsis",
        "f''",
        "f'a'",
        "f'{a}'",
        "f'{a!r}'",
        "f'{a!s:>10}'",
        "f'{a:{b}.{c}}'",
        "f'{a=}'",
        "f'{a = !s:^5}'",
        "f'{{}}{a}'",
        "f'{ {a}}'",
        "f'{ {a: b}}'",
        "f'{(lambda: 1)()}'",
        "f'{(lambda: 1)}'",
        "f'{a if b else c}'",
        "f'{a, b}'",
        "f'{\"q\"}'",
        "f'{a}\\'\"'",
        "f'\\n{a}\\ud800'",
        "f'{f\"{a}\"}'",
        "f'{a:%Y-%m-%d}'",
        "f'{a!r:}'",
        "'a' f'{b}' 'c'",
        "f'{a}' + f'{b}'",
        "(a, b)[0]",
        "[a, b][0]",
        "{a}.b",
        "(a.b)(c)",
        "(a + b).c",
        "(-a).b",
        "(a if b else c)[d]",
        "(lambda: a)()",
        "(yield)[0]",
        "a[b:=c]",
    ];
    assert_all_same(&exprs.iter().map(|s| s.to_string()).collect::<Vec<_>>());
}

#[test]
fn deep_nesting_on_a_small_stack() {
    // `-(-(...(x)...))`, deeper than the compiler accepts, unparsed on a 256 KiB stack.
    let text = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(|| {
            use pyc_compiler::ast::*;
            let mut e = Expr {
                loc: Loc::default(),
                kind: ExprKind::Name {
                    id: "x".into(),
                    ctx: ExprContext::Load,
                },
            };
            for _ in 0..5000 {
                e = Expr {
                    loc: Loc::default(),
                    kind: ExprKind::UnaryOp {
                        op: UnaryOp::USub,
                        operand: Box::new(e),
                    },
                };
            }
            let text = unparse_annotation(&e);
            // Dropping the tree recurses too: leak it rather than overflow the small stack.
            std::mem::forget(e);
            text
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(text, format!("{}x", "-".repeat(5000)));
}

/// A deterministic pseudo-random generator (no external crate).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }

    /// A fully parenthesized expression: CPython's tree has no parentheses, so the unparser
    /// must put back exactly those precedence requires.
    fn expr(&mut self, depth: u32) -> String {
        const ATOMS: &[&str] = &["a", "b", "1", "2.5", "'s'", "None", "x.y", "f(z)", "l[0]"];
        const BINARY: &[&str] = &[
            "+", "-", "*", "/", "//", "%", "**", "<<", ">>", "&", "|", "^", "@", "and", "or", "<",
            "==", "is not", "not in",
        ];
        if depth == 0 || self.below(5) == 0 {
            return ATOMS[self.below(ATOMS.len())].to_string();
        }
        let sub = |s: &mut Lcg| s.expr(depth - 1);
        match self.below(12) {
            0 => format!("({}{})", ["-", "+", "~", "not "][self.below(4)], sub(self)),
            1 => format!("({} if {} else {})", sub(self), sub(self), sub(self)),
            2 => format!("(lambda q: {})", sub(self)),
            3 => format!("({})[{}]", sub(self), sub(self)),
            4 => format!("({}).attr", sub(self)),
            5 => format!("(await {})", sub(self)),
            6 => format!("[{}, *{}]", sub(self), sub(self)),
            7 => format!("({}, {})", sub(self), sub(self)),
            8 => format!("f'{{{}}}'", sub(self).replace('\'', "\"")),
            _ => format!(
                "({} {} {})",
                sub(self),
                BINARY[self.below(BINARY.len())],
                sub(self)
            ),
        }
    }
}

#[test]
fn random_operator_nests() {
    let mut rng = Lcg(0xa11);
    let exprs: Vec<String> = (0..3000).map(|_| rng.expr(4)).collect();
    assert_all_same(&exprs);
}

/// The `.py` files of the reference interpreter's standard library.
fn stdlib_files() -> Vec<String> {
    let out = common::cpython_ast::run_python(
        &[
            "-c",
            "import sysconfig, pathlib\n\
             root = pathlib.Path(sysconfig.get_paths()['stdlib'])\n\
             print('\\n'.join(str(p) for p in sorted(root.rglob('*.py')) \
             if 'site-packages' not in p.parts))",
        ],
        b"",
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// Sweeps the standard library with requests of kind `kind` (`annotations_of` or
/// `expressions_of`); files CPython cannot parse (test data) are skipped.
fn sweep(kind: &str, chunk_size: usize) {
    let requests: Vec<Value> = stdlib_files().iter().map(|f| json!({ kind: f })).collect();
    let (mut same, mut total) = (0, 0);
    let mut first = Vec::new();
    for chunk in requests.chunks(chunk_size) {
        let (s, t, diffs) = compare_parsed(chunk);
        same += s;
        total += t;
        first.extend(diffs.into_iter().take(20 - first.len().min(20)));
    }
    println!("unparse stdlib sweep ({kind}): {same} identical of {total}");
    assert_eq!(same, total, "differences:\n{}", first.join("\n"));
}

/// Every annotation in CPython's standard library (`make parity`).
#[test]
#[ignore]
fn stdlib_annotations() {
    sweep("annotations_of", 200);
}

/// Every expression under a statement in CPython's standard library (`make parity`; minutes).
#[test]
#[ignore]
fn stdlib_expressions() {
    sweep("expressions_of", 20);
}
