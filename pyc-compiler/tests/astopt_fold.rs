//! Constant folding against CPython 3.12.1's own optimizer: every pair of literal kinds under
//! every operator, nested random combinations, the size limits, and the structural rewrites.
//! The expected trees come from CPython at test time (`fixtures/astopt/optimized_ast.py`).

mod astopt_support;
mod common;

use astopt_support::{mismatches, Case};
use pyc_compiler::ast::*;
use pyc_compiler::ErrorKind;

/// Operands: every constant kind, signs, zeros, infinities, big ints, and sizes at the limits.
const LITERALS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "-1",
    "-7",
    "255",
    "128",
    "129",
    "64",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "340282366920938463463374607431768211455",
    "340282366920938463463374607431768211456",
    "10**30",
    "2**64",
    "-(2**63)",
    "True",
    "False",
    "None",
    "...",
    "0.0",
    "-0.0",
    "0.5",
    "-2.5",
    "1.5",
    "3.0",
    "0.1",
    "1e308",
    "1e-320",
    "1e999",
    "-1e999",
    "(1e999-1e999)",
    "0j",
    "1j",
    "-2.5j",
    "(1+2j)",
    "(-0.0-0j)",
    "1e999j",
    "''",
    "'ab'",
    "'\u{e9}\u{20ac}'",
    "'%s'",
    "b''",
    "b'ab'",
    "b'\\xff'",
    "()",
    "(1, 2)",
    "((1, 2), (3,))",
    "(None,)",
];

const BINARY: &[&str] = &[
    "+", "-", "*", "/", "//", "%", "**", "<<", ">>", "&", "|", "^", "@",
];

/// Cases of `x = <expr>` lines, many per module.
fn modules(exprs: impl IntoIterator<Item = String>) -> Vec<Case> {
    let exprs: Vec<String> = exprs.into_iter().collect();
    exprs
        .chunks(400)
        .map(|chunk| {
            let source: String = chunk.iter().map(|e| format!("x = {e}\n")).collect();
            Case::exec(source, 0)
        })
        .collect()
}

fn assert_same(cases: &[Case]) {
    let failures = mismatches(cases);
    assert!(
        failures.is_empty(),
        "{} differences, first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(12)].join("\n")
    );
}

/// A representative of each kind of operand in [`LITERALS`], for the quick run.
const CORE: &[&str] = &[
    "0",
    "3",
    "-7",
    "129",
    "9223372036854775808",
    "340282366920938463463374607431768211456",
    "True",
    "False",
    "None",
    "-0.0",
    "-2.5",
    "1e308",
    "1e999",
    "(1e999-1e999)",
    "0j",
    "(1+2j)",
    "1e999j",
    "''",
    "'ab'",
    "b'ab'",
    "()",
    "(1, 2)",
];

fn pairs(literals: &[&str]) -> Vec<String> {
    let mut exprs = Vec::new();
    for op in BINARY {
        for a in literals {
            for b in literals {
                exprs.push(format!("{a} {op} {b}"));
            }
        }
    }
    exprs
}

#[test]
fn every_pair_of_operand_kinds_under_every_binary_operator() {
    assert_same(&modules(pairs(CORE)));
}

/// All 35,152 pairs of [`LITERALS`] (a minute; `make parity`).
#[test]
#[ignore]
fn every_pair_of_literals_under_every_binary_operator() {
    assert_same(&modules(pairs(LITERALS)));
}

#[test]
fn unary_operators_and_subscripts() {
    let mut exprs = Vec::new();
    for a in LITERALS {
        for op in ["-", "+", "~", "not "] {
            exprs.push(format!("{op}{a}"));
            exprs.push(format!("{op}({op}{a})"));
        }
        for index in LITERALS {
            exprs.push(format!("{a}[{index}]"));
        }
    }
    for s in [
        "'abc'",
        "u'abc'",
        "'\u{e9}x\u{1f600}'",
        "b'abc'",
        "(1, (2, 3), 'x')",
        "''",
    ] {
        for i in [
            "0", "1", "2", "3", "-1", "-3", "-4", "True", "2**63", "-(2**63)", "1.0",
        ] {
            exprs.push(format!("{s}[{i}]"));
        }
        exprs.push(format!("{s}[0:1]"));
    }
    assert_same(&modules(exprs));
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

    fn expr(&mut self, depth: u32) -> String {
        if depth == 0 || self.below(4) == 0 {
            return LITERALS[self.below(LITERALS.len())].to_string();
        }
        match self.below(6) {
            0 => format!(
                "{}({})",
                ["-", "+", "~", "not "][self.below(4)],
                self.expr(depth - 1)
            ),
            1 => format!("({}, {})", self.expr(depth - 1), self.expr(depth - 1)),
            2 => format!("({})[{}]", self.expr(depth - 1), self.below(4)),
            _ => format!(
                "({}) {} ({})",
                self.expr(depth - 1),
                BINARY[self.below(BINARY.len() - 1)],
                self.expr(depth - 1)
            ),
        }
    }
}

#[test]
fn random_nested_expressions() {
    let mut rng = Lcg(0x5eed);
    let exprs = (0..2500).map(|_| rng.expr(4));
    assert_same(&modules(exprs));
}

/// 40,000 deeper random expressions (`make parity`).
#[test]
#[ignore]
fn many_random_nested_expressions() {
    let mut rng = Lcg(0xd3e9);
    let exprs = (0..40_000).map(|_| rng.expr(6));
    assert_same(&modules(exprs));
}

impl Lcg {
    /// A decimal int literal of 1 to `max_digits` digits.
    fn int_literal(&mut self, max_digits: usize) -> String {
        let len = 1 + self.below(max_digits);
        let mut digits: String = (0..len)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect();
        // No leading zeros; sometimes a power of ten or a run of nines (rounding edges).
        match self.below(4) {
            0 => digits = format!("1{}", "0".repeat(len - 1)),
            1 => digits = "9".repeat(len),
            _ => digits.replace_range(..1, &(1 + self.below(9)).to_string()),
        }
        digits
    }
}

impl Lcg {
    /// A finite float literal: any magnitude, or (`small`) within about 1e-3..1e3, sometimes
    /// integral.
    fn float_literal(&mut self, small: bool) -> String {
        let v = if small {
            let m = (self.below(2_000_000) as f64 - 1_000_000.0) / 1000.0;
            if self.below(3) == 0 {
                m.trunc()
            } else {
                m
            }
        } else {
            let bits = ((self.below(1 << 31) as u64) << 33) | ((self.below(1 << 31) as u64) << 2);
            let v = f64::from_bits(bits);
            if v.is_finite() {
                v
            } else {
                1.5
            }
        };
        format!("({v:?})")
    }
}

#[test]
fn random_float_and_complex_arithmetic() {
    let mut rng = Lcg(0xf10a7);
    let mut exprs = Vec::new();
    for _ in 0..600 {
        let (a, b) = (rng.float_literal(false), rng.float_literal(false));
        for op in ["+", "*", "/", "//", "%"] {
            exprs.push(format!("{a} {op} {b}"));
        }
        let (x, y) = (rng.float_literal(true), rng.float_literal(true));
        exprs.push(format!("{x} ** {y}"));
        exprs.push(format!("{x} // {y}"));
        exprs.push(format!("{x} % {y}"));
        exprs.push(format!("({x} + 0j) ** {y}"));
        let c = format!("({x} + {y} * 1j)");
        let d = format!(
            "({} + {} * 1j)",
            rng.float_literal(true),
            rng.float_literal(true)
        );
        exprs.push(format!("{c} * {d}"));
        exprs.push(format!("{c} / {d}"));
        exprs.push(format!("{c} ** {d}"));
        exprs.push(format!("{c} ** {}", rng.below(201) as i64 - 100));
    }
    assert_same(&modules(exprs));
}

#[test]
fn big_int_division_and_conversion() {
    // Quotients from far below the subnormal range to beyond the float range.
    let mut rng = Lcg(0xd1f);
    let mut exprs = Vec::new();
    for _ in 0..1500 {
        let a = rng.int_literal(340);
        let b = rng.int_literal(340);
        exprs.push(format!("{a} / {b}"));
        exprs.push(format!("-{a} / {b}"));
        exprs.push(format!("{a} // -{b}"));
        exprs.push(format!("{a} % -{b}"));
        exprs.push(format!("{a} * 1.0"));
        exprs.push(format!("{a} + 0.5"));
    }
    assert_same(&modules(exprs));
}

#[test]
fn size_limits() {
    let mut exprs = Vec::new();
    // Ints: 128 bits for `*`, `**` and `<<`.
    for (a, b) in [(64, 64), (64, 65), (1, 127), (1, 128), (127, 1), (2, 126)] {
        exprs.push(format!("{} * {}", (1u128 << (a - 1)), (1u128 << (b - 1))));
    }
    for base in ["2", "3", "-2", "1", "-1", "0", "255", "256", "True"] {
        for exp in [
            "0", "1", "16", "63", "64", "65", "127", "128", "129", "200", "-1", "-1075",
        ] {
            exprs.push(format!("{base} ** {exp}"));
            exprs.push(format!("{base} << {exp}"));
        }
    }
    exprs.push("0 ** (10**30)".into());
    exprs.push("0 << (10**30)".into());
    exprs.push("5 >> (10**30)".into());
    exprs.push("-5 >> (10**30)".into());
    // Strings and bytes: 4096 characters; tuples: 256 items, 1024 in all.
    for (unit, count) in [
        ("a", 4096),
        ("a", 4097),
        ("ab", 2048),
        ("ab", 2049),
        ("\u{e9}", 4096),
    ] {
        exprs.push(format!("'{unit}' * {count}"));
        exprs.push(format!("{count} * '{unit}'"));
        exprs.push(format!("b'{}' * {count}", unit.replace('\u{e9}', "e")));
    }
    exprs.push("'' * (10**30)".into());
    exprs.push("'' * (2**62)".into());
    exprs.push("() * (2**62)".into());
    exprs.push("'ab' * -3".into());
    exprs.push("(1, 2) * -3".into());
    for count in [0, 1, 128, 129, 256, 257] {
        exprs.push(format!("(1, 2) * {count}"));
        exprs.push(format!("(1,) * {count}"));
    }
    for count in [3, 4, 5, 8, 9, 64, 65] {
        exprs.push(format!("((1, 2, 3), (4, 5)) * {count}"));
        exprs.push(format!("(((1, 2), (3, 4)), ((5, 6), (7, 8))) * {count}"));
    }
    let long = "x".repeat(5000);
    exprs.push(format!("'{long}' + 'y'"));
    exprs.push(format!("'{long}'[4999]"));
    assert_same(&modules(exprs));
}

#[test]
fn float_and_complex_arithmetic() {
    let values = [
        "0.0",
        "-0.0",
        "1.0",
        "-1.0",
        "2.0",
        "0.5",
        "-0.5",
        "3.7",
        "-3.7",
        "1e308",
        "-1e308",
        "5e-324",
        "1e999",
        "-1e999",
        "(1e999-1e999)",
        "10**400",
        "7",
        "-7",
        "2**53+1",
        "1j",
        "(1.5-2j)",
        "(-1e308+1e308j)",
        "1e999j",
        "(0.0-0j)",
        "(3+0j)",
        "(1e-300+1e-300j)",
    ];
    // Int literals beyond the float range (folding never makes ints this big).
    let huge = format!("1{}", "0".repeat(400));
    let near_max = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791".to_string();
    let values: Vec<String> = values
        .iter()
        .map(|v| v.to_string())
        .chain([huge.clone(), format!("-{huge}"), near_max])
        .collect();
    let mut exprs = Vec::new();
    for op in ["+", "-", "*", "/", "//", "%", "**"] {
        for a in &values {
            for b in &values {
                exprs.push(format!("({a}) {op} ({b})"));
            }
        }
    }
    // Powers with small integral exponents use repeated squaring.
    for base in ["(1+1j)", "(0.5-2j)", "1j", "0j", "(-8+0j)", "(-8.0)", "-8"] {
        for exp in [
            "2", "-2", "3.0", "100", "101", "-100", "0.5", "(1/3)", "1j", "-0.0",
        ] {
            exprs.push(format!("{base} ** {exp}"));
        }
    }
    // Correctly rounded int / int.
    for (a, b) in [
        ("1", "3"),
        ("10**30", "7"),
        ("2**64+1", "3"),
        ("-(10**40)", "10**20+1"),
        ("10**308", "10**-1"),
        ("1", "10**400"),
        ("10**400", "10**399"),
        ("10**400", "3"),
        ("0", "-5"),
        ("3**200", "2**200"),
    ] {
        exprs.push(format!("({a}) / ({b})"));
    }
    assert_same(&modules(exprs));
}

#[test]
fn structural_rewrites() {
    let sources = [
        // `not` of a single is / is not / in / not in comparison is inverted.
        "x = not (a is b)\nx = not (a is not b)\nx = not (a in b)\nx = not (a not in b)\n\
         x = not (a == b)\nx = not (a < b < c)\nx = not a\nx = not not (a in b)\n",
        // The last `in` operand, and loop and comprehension iterables.
        "x = a in [1, 2]\nx = a in [b, 2]\nx = a in [*b, 2]\nx = a in {1, 2, 1, 1.0, True}\n\
         x = a in {b, 1}\nx = a not in {1.5, -0.0, 0.0}\nx = a in [1] in [2]\nx = a in [] == b\n\
         x = a == [1, 2]\nx = a in {'a', 'b', b'a', (1, 2), (1, 2)}\n",
        "for x in [1, 2]: pass\nfor x in [a, b]: pass\nfor x in {1, 2}: pass\n\
         for x in [*a]: pass\nasync def f():\n    async for x in [1, 2]: pass\n    \
         [y async for y in [1, 2]]\n[y for y in [1, 2] for z in {3, 4} if [5]]\n\
         {y: z for y in [a]}\n(y for y in [1, (2, 3)])\n",
        // `%`-formats with only %s, %r and %a become f-strings.
        "x = '%s' % (a,)\nx = '%s %r %a' % (a, b, c)\nx = '%d' % (a,)\nx = '%5s|%-5s|%.3s|%5.2r' % (a, b, c, d)\n\
         x = '%%%s%%' % (a,)\nx = '%s' % (a, b)\nx = '%s %s' % (a,)\nx = '%s' % (*a,)\n\
         x = '%s' % a\nx = '%s' % (1,)\nx = '%s %s' % (1, a)\nx = '%100s' % (a,)\nx = '%10s' % (a,)\n\
         x = '%.10s' % (a,)\nx = '%.100s' % (a,)\nx = '%+ #0-5s' % (a,)\nx = '%05s' % (a,)\n\
         x = '%' % (a,)\nx = '%s%' % (a,)\nx = '%.s' % (a,)\nx = b'%s' % (a,)\nx = '\u{e9}%s\u{1f600}' % (a,)\n\
         x = ('%' + 's') % (a,)\nx = '%(k)s' % (a,)\nx = '%c' % (a,)\n",
        // `__debug__`, and loads only.
        "x = __debug__\nx = not __debug__\nif __debug__: pass\n__debug__.x\n",
        // Tuples fold only when loaded; subscripts only when loaded.
        "(a, b) = 1, 2\n[a, b] = (1, 2)\nx = (1, (2, a))\nx = ((1, 2), [3])\nx = (1, 2)[0]\n\
         del (1, 2)[0]\nx = ()\nx = (1,)\n",
        // A folded first statement must not become a docstring.
        "'a' + 'b'\ndef f():\n    'a' + 'b'\n    return 1\nclass C:\n    ('a', 'b')[0]\n",
        "'''real docstring'''\n'a' + 'b'\n",
        "x = 1\n'a' + 'b'\n",
        // Everything else is visited.
        concat!(
            "def f(a: 1 + 1 = 2 + 2, *b: -1, c: ~1 = -1, **d: 'a' * 2) -> 1 + 1:\n",
            "    return -1\n",
            "lambda a=-1, *, b=-2: -3\n",
            "class C(1 + 1, x=-1): pass\n",
            "@(-1)\n",
            "def g[T: (1 + 1), *U, **V](): pass\n",
            "type X[T: -1] = -1\n",
            "x: -1 = -1\n",
            "x.y: (1 + 1)\n",
            "with -1 as x[-1]: pass\n",
            "raise -1 from -1\n",
            "try: -1\n",
            "except -1: -1\n",
            "else: -1\n",
            "finally: -1\n",
            "try: -1\n",
            "except* -1: -1\n",
            "assert -1, -1\n",
            "while -1: -1\n",
            "del x[-1]\n",
            "x += -1\n",
            "f(-1, *-1, k=-1, **-1)\n",
            "{-1: -1, **-1}\n",
            "{-1, -1}\n",
            "[-1]\n",
            "x if -1 else -1\n",
            "(x := -1)\n",
            "f'{-1:{-1}}'\n",
            "x[-1:-1:-1]\n",
            "async def h():\n",
            "    await (-1)\n",
            "    yield -1\n",
            "    async with -1: pass\n",
            "def i():\n",
            "    yield from -1\n",
        ),
        concat!(
            "match x:\n",
            "    case -1: pass\n",
            "    case 1 + 2j: pass\n",
            "    case -1 - 2j: pass\n",
            "    case {-1: _, 'a': [1, -2]}: pass\n",
            "    case C(-1, a=-1 | -2): pass\n",
            "    case [-1, *_] as y: pass\n",
            "    case __debug__.x: pass\n",
            "    case None: pass\n",
        ),
    ];
    let mut cases = Vec::new();
    for source in sources {
        for optimize in 0..=2 {
            cases.push(Case::exec(source, optimize));
        }
    }
    // Annotations are not folded under `from __future__ import annotations`.
    let mut annotated = Case::exec(
        "def f(a: 1 + 1, *b: -1) -> -1:\n    x: -1 = -1\nx: 1 + 1\nclass C:\n    y: -1\n",
        0,
    );
    annotated.annotations = true;
    cases.push(annotated);
    cases.push(Case::eval("__debug__ and (1, 2) or 'a' * 3"));
    // Interactive input has no docstring.
    let mut interactive = Case::exec("'a' + 'b'\n", 0);
    interactive.mode = Mode::Interactive;
    cases.push(interactive);
    assert_same(&cases);
}

/// `x + x + ... + x` with `n` additions, as a module.
fn additions(n: usize) -> Mod {
    let name = |col: u32| Expr {
        loc: Loc {
            lineno: 1,
            col,
            end_lineno: 1,
            end_col: col + 1,
        },
        kind: ExprKind::Name {
            id: "x".into(),
            ctx: ExprContext::Load,
        },
    };
    let mut node = name(0);
    for i in 0..n as u32 {
        node = Expr {
            loc: Loc {
                lineno: 1,
                col: 0,
                end_lineno: 1,
                end_col: 2 * i + 3,
            },
            kind: ExprKind::BinOp {
                left: Box::new(node),
                op: Operator::Add,
                right: Box::new(name(2 * i + 2)),
            },
        };
    }
    Mod::Module {
        body: vec![Stmt {
            loc: node.loc,
            kind: StmtKind::Expr {
                value: Box::new(node),
            },
        }],
    }
}

/// Whether `py_compile` (as `compileall` runs it) compiles the source or hits the limit.
fn cpython_compiles(source: &str) -> bool {
    let script = "import py_compile, sys, tempfile, os\n\
        d = tempfile.mkdtemp()\n\
        p = os.path.join(d, 'deep.py')\n\
        open(p, 'wb').write(sys.stdin.buffer.read())\n\
        try:\n    py_compile.compile(p, cfile=p + 'c', doraise=True); print('ok')\n\
        except py_compile.PyCompileError as e: print(e.exc_type_name)\n";
    let out = common::cpython_ast::run_python(&["-c", script], source.as_bytes());
    let verdict = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        verdict == "ok" || verdict == "RecursionError",
        "unexpected: {verdict} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    verdict == "ok"
}

/// A test thread's default stack: the optimizer must reach its nesting limit from it.
const STACK: usize = 2 << 20;

#[test]
fn deep_nesting_fails_where_cpython_does() {
    let ours = |n: usize| {
        std::thread::Builder::new()
            .stack_size(STACK)
            .spawn(move || {
                let mut module = additions(n);
                pyc_compiler::ast_opt::optimize(&mut module, 0, &Default::default())
                    .map_err(|e| (e.kind, e.msg))
            })
            .unwrap()
            .join()
            .unwrap()
    };
    let limit = pyc_compiler::ast_opt::MAX_NESTING as usize - 2;
    for n in [limit, limit + 1] {
        let source = format!("x{}\n", "+x".repeat(n));
        let expected = cpython_compiles(&source);
        assert_eq!(ours(n).is_ok(), expected, "{n} additions");
        if !expected {
            assert_eq!(
                ours(n),
                Err((
                    ErrorKind::RecursionError,
                    "maximum recursion depth exceeded during compilation".to_string()
                ))
            );
        }
    }
}
