//! CPython 3.12.1's AST as a `pyc_compiler::ast::Mod`: runs `fixtures/ast/dump_ast.py` under the
//! reference interpreter and builds our tree from its JSON (format documented in that script).
//!
//! ```ignore
//! mod common;
//! let module = common::cpython_ast::parse_with_cpython("x = 1\n");
//! ```

#![allow(dead_code)] // each test binary uses its own subset

use std::path::PathBuf;
use std::process::{Command, Stdio};

use num_bigint::BigInt;
use pyc_compiler::ast::*;
use pyc_loader::marshal::{Int, Str};
use serde_json::Value;

/// The pyenv version of the reference interpreter.
pub const CPYTHON: &str = "3.12.1";

/// `fixtures/ast/dump_ast.py`.
pub fn dump_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/ast/dump_ast.py")
}

/// What CPython's `ast.parse` made of a source: the tree or the error, and the warnings.
#[derive(Clone, Debug, PartialEq)]
pub struct CpythonParse {
    pub result: Result<Mod, CpythonError>,
    pub warnings: Vec<CpythonWarning>,
}

/// The exception `ast.parse` raised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpythonError {
    /// The class name: `SyntaxError`, `IndentationError`, `TabError`, `ValueError`, ...
    pub kind: String,
    pub msg: String,
    pub lineno: Option<i64>,
    pub offset: Option<i64>,
    pub end_lineno: Option<i64>,
    pub end_offset: Option<i64>,
}

/// A warning `ast.parse` emitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpythonWarning {
    pub category: String,
    pub msg: String,
    pub lineno: i64,
}

/// CPython's AST of `src` in `exec` mode; panics if CPython rejects it.
pub fn parse_with_cpython(src: &str) -> Mod {
    match cpython_parse(src.as_bytes(), Mode::Module).result {
        Ok(module) => module,
        Err(e) => panic!("CPython rejects the source: {e:?}"),
    }
}

/// Runs CPython's `ast.parse(source, mode=...)` on raw source bytes.
pub fn cpython_parse(source: &[u8], mode: Mode) -> CpythonParse {
    let mode = match mode {
        Mode::Module => "exec",
        Mode::Expression => "eval",
        Mode::Interactive => "single",
    };
    let script = dump_script();
    let output = run_python(&[script.to_str().unwrap(), "--mode", mode, "-"], source);
    assert!(
        output.status.success(),
        "dump_ast.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    result_from_json(std::str::from_utf8(&output.stdout).expect("dump_ast.py writes ASCII"))
}

/// Runs CPython's `ast.parse` (exec mode) on each file, in one interpreter.
pub fn cpython_parse_files(paths: &[PathBuf]) -> Vec<CpythonParse> {
    let script = dump_script();
    let mut args = vec![script.to_str().unwrap().to_string(), "--jsonl".into()];
    args.extend(
        paths
            .iter()
            .map(|p| p.to_str().expect("UTF-8 path").to_string()),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = run_python(&args, b"");
    assert!(
        output.status.success(),
        "dump_ast.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::str::from_utf8(&output.stdout).expect("dump_ast.py writes ASCII");
    let docs: Vec<CpythonParse> = text.lines().map(result_from_json).collect();
    assert_eq!(docs.len(), paths.len(), "one document per file");
    docs
}

/// Where two trees first differ: the path of enclosing nodes (from their `Debug` form) and the
/// two differing lines; `None` if they are equal.
pub fn first_difference(ours: &Mod, theirs: &Mod) -> Option<String> {
    if ours == theirs {
        return None;
    }
    let a = format!("{ours:#?}");
    let b = format!("{theirs:#?}");
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let at = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    // The enclosing lines: each earlier line indented less than the last one kept.
    let mut path = Vec::new();
    let mut indent = a.get(at).map_or(0, |l| l.len() - l.trim_start().len());
    for line in a[..at].iter().rev() {
        let i = line.len() - line.trim_start().len();
        if i < indent {
            path.push(line.trim());
            indent = i;
        }
    }
    path.reverse();
    let near = b[..at]
        .iter()
        .rev()
        .find_map(|l| l.trim().strip_prefix("lineno: "))
        .unwrap_or("?");
    Some(format!(
        "near line {near} at {}\n  ours:    {}\n  CPython: {}",
        path.join(" / "),
        a.get(at).map_or("<end>", |l| l.trim()),
        b.get(at).map_or("<end>", |l| l.trim()),
    ))
}

/// The number of nodes with a position in a tree.
pub fn count_located_nodes(module: &Mod) -> usize {
    format!("{module:?}").matches("loc: Loc {").count()
}

/// Runs CPython's `ast.parse(source, mode=...)` on many sources, in one interpreter.
pub fn cpython_parse_many(sources: &[&[u8]], mode: Mode) -> Vec<CpythonParse> {
    let mode = match mode {
        Mode::Module => "exec",
        Mode::Expression => "eval",
        Mode::Interactive => "single",
    };
    let hex: Vec<String> = sources
        .iter()
        .map(|s| s.iter().map(|b| format!("{b:02x}")).collect())
        .collect();
    let input = serde_json::to_vec(&hex).unwrap();
    let script = dump_script();
    let output = run_python(
        &[script.to_str().unwrap(), "--mode", mode, "--many"],
        &input,
    );
    assert!(
        output.status.success(),
        "dump_ast.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::str::from_utf8(&output.stdout).expect("dump_ast.py writes ASCII");
    let docs: Vec<CpythonParse> = text.lines().map(result_from_json).collect();
    assert_eq!(docs.len(), sources.len(), "one document per source");
    docs
}

/// Runs `PYENV_VERSION=3.12.1 python3 ARGS` with `stdin` as input.
pub fn run_python(args: &[&str], stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new("python3")
        .args(args)
        .env("PYENV_VERSION", CPYTHON)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("reference interpreter {CPYTHON} missing: python3: {e}"));
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    // Written from another thread, so a big input cannot deadlock against the output.
    let writer = std::thread::spawn(move || pipe.write_all(&input));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    output
}

/// Builds a `Mod` from the JSON of one `{"mod": ...}` document, or of the bare node.
pub fn mod_from_json(json: &str) -> Mod {
    match result_from_json(json).result {
        Ok(module) => module,
        Err(e) => panic!("the JSON holds an error, not a tree: {e:?}"),
    }
}

/// Reads a whole `dump_ast.py` document.
pub fn result_from_json(json: &str) -> CpythonParse {
    let json = json.to_string();
    // Deep trees: parse and convert on a big stack.
    std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || {
            let mut de = serde_json::Deserializer::from_str(&json);
            de.disable_recursion_limit();
            let doc: Value = serde::Deserialize::deserialize(&mut de).expect("dump_ast.py JSON");
            document(&doc)
        })
        .unwrap()
        .join()
        .unwrap()
}

fn document(doc: &Value) -> CpythonParse {
    let warnings = doc
        .get("warnings")
        .and_then(Value::as_array)
        .map(|ws| {
            ws.iter()
                .map(|w| CpythonWarning {
                    category: string(&w["category"]).into(),
                    msg: string(&w["msg"]).into(),
                    lineno: w["lineno"].as_i64().unwrap_or(0),
                })
                .collect()
        })
        .unwrap_or_default();
    let result = if let Some(e) = doc.get("error") {
        Err(CpythonError {
            kind: string(&e["type"]).into(),
            msg: string(&e["msg"]).into(),
            lineno: e["lineno"].as_i64(),
            offset: e["offset"].as_i64(),
            end_lineno: e["end_lineno"].as_i64(),
            end_offset: e["end_offset"].as_i64(),
        })
    } else if let Some(m) = doc.get("mod") {
        Ok(module(m))
    } else {
        Ok(module(doc))
    };
    CpythonParse { result, warnings }
}

fn kind(n: &Value) -> &str {
    n["_"].as_str().unwrap_or_else(|| panic!("not a node: {n}"))
}

fn string(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

fn ident(v: &Value) -> Identifier {
    string(v).into()
}

fn opt_ident(v: &Value) -> Option<Identifier> {
    v.as_str().map(Into::into)
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn list<T>(v: &Value, f: impl Fn(&Value) -> T) -> Vec<T> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(f)
        .collect()
}

fn loc(n: &Value) -> Loc {
    let l = n["loc"]
        .as_array()
        .unwrap_or_else(|| panic!("node without position: {n}"));
    let at = |i: usize| u32::try_from(int(&l[i])).expect("position fits u32");
    Loc {
        lineno: at(0),
        col: at(1),
        end_lineno: at(2),
        end_col: at(3),
    }
}

fn module(n: &Value) -> Mod {
    match kind(n) {
        "Module" => Mod::Module {
            body: stmts(&n["body"]),
        },
        "Interactive" => Mod::Interactive {
            body: stmts(&n["body"]),
        },
        "Expression" => Mod::Expression {
            body: Box::new(expr(&n["body"])),
        },
        other => panic!("unknown mod {other}"),
    }
}

fn stmts(v: &Value) -> Vec<Stmt> {
    list(v, stmt)
}

fn exprs(v: &Value) -> Vec<Expr> {
    list(v, expr)
}

fn opt_expr(v: &Value) -> Option<Expr> {
    (!v.is_null()).then(|| expr(v))
}

fn opt_box(v: &Value) -> Option<Box<Expr>> {
    opt_expr(v).map(Box::new)
}

fn boxed(v: &Value) -> Box<Expr> {
    Box::new(expr(v))
}

fn stmt(n: &Value) -> Stmt {
    let kind = match kind(n) {
        k @ ("FunctionDef" | "AsyncFunctionDef") => StmtKind::FunctionDef(Box::new(FunctionDef {
            is_async: k == "AsyncFunctionDef",
            name: ident(&n["name"]),
            args: arguments(&n["args"]),
            body: stmts(&n["body"]),
            decorator_list: exprs(&n["decorator_list"]),
            returns: opt_expr(&n["returns"]),
            type_params: list(&n["type_params"], type_param),
        })),
        "ClassDef" => StmtKind::ClassDef(Box::new(ClassDef {
            name: ident(&n["name"]),
            bases: exprs(&n["bases"]),
            keywords: list(&n["keywords"], keyword),
            body: stmts(&n["body"]),
            decorator_list: exprs(&n["decorator_list"]),
            type_params: list(&n["type_params"], type_param),
        })),
        "Return" => StmtKind::Return {
            value: opt_box(&n["value"]),
        },
        "Delete" => StmtKind::Delete {
            targets: exprs(&n["targets"]),
        },
        "Assign" => StmtKind::Assign {
            targets: exprs(&n["targets"]),
            value: boxed(&n["value"]),
        },
        "TypeAlias" => StmtKind::TypeAlias(Box::new(TypeAlias {
            name: expr(&n["name"]),
            type_params: list(&n["type_params"], type_param),
            value: expr(&n["value"]),
        })),
        "AugAssign" => StmtKind::AugAssign {
            target: boxed(&n["target"]),
            op: operator(&n["op"]),
            value: boxed(&n["value"]),
        },
        "AnnAssign" => StmtKind::AnnAssign {
            target: boxed(&n["target"]),
            annotation: boxed(&n["annotation"]),
            value: opt_box(&n["value"]),
            simple: int(&n["simple"]) != 0,
        },
        k @ ("For" | "AsyncFor") => StmtKind::For(Box::new(For {
            is_async: k == "AsyncFor",
            target: expr(&n["target"]),
            iter: expr(&n["iter"]),
            body: stmts(&n["body"]),
            orelse: stmts(&n["orelse"]),
        })),
        "While" => StmtKind::While {
            test: boxed(&n["test"]),
            body: stmts(&n["body"]),
            orelse: stmts(&n["orelse"]),
        },
        "If" => StmtKind::If {
            test: boxed(&n["test"]),
            body: stmts(&n["body"]),
            orelse: stmts(&n["orelse"]),
        },
        k @ ("With" | "AsyncWith") => StmtKind::With(Box::new(With {
            is_async: k == "AsyncWith",
            items: list(&n["items"], |i| WithItem {
                context_expr: expr(&i["context_expr"]),
                optional_vars: opt_expr(&i["optional_vars"]),
            }),
            body: stmts(&n["body"]),
        })),
        "Match" => StmtKind::Match {
            subject: boxed(&n["subject"]),
            cases: list(&n["cases"], |c| MatchCase {
                pattern: pattern(&c["pattern"]),
                guard: opt_expr(&c["guard"]),
                body: stmts(&c["body"]),
            }),
        },
        "Raise" => StmtKind::Raise {
            exc: opt_box(&n["exc"]),
            cause: opt_box(&n["cause"]),
        },
        k @ ("Try" | "TryStar") => StmtKind::Try(Box::new(Try {
            is_star: k == "TryStar",
            body: stmts(&n["body"]),
            handlers: list(&n["handlers"], |h| ExceptHandler {
                loc: loc(h),
                type_: opt_expr(&h["type"]),
                name: opt_ident(&h["name"]),
                body: stmts(&h["body"]),
            }),
            orelse: stmts(&n["orelse"]),
            finalbody: stmts(&n["finalbody"]),
        })),
        "Assert" => StmtKind::Assert {
            test: boxed(&n["test"]),
            msg: opt_box(&n["msg"]),
        },
        "Import" => StmtKind::Import {
            names: list(&n["names"], alias),
        },
        "ImportFrom" => StmtKind::ImportFrom {
            module: opt_ident(&n["module"]),
            names: list(&n["names"], alias),
            level: u32::try_from(int(&n["level"])).expect("level"),
        },
        "Global" => StmtKind::Global {
            names: list(&n["names"], ident),
        },
        "Nonlocal" => StmtKind::Nonlocal {
            names: list(&n["names"], ident),
        },
        "Expr" => StmtKind::Expr {
            value: boxed(&n["value"]),
        },
        "Pass" => StmtKind::Pass,
        "Break" => StmtKind::Break,
        "Continue" => StmtKind::Continue,
        other => panic!("unknown stmt {other}"),
    };
    Stmt { loc: loc(n), kind }
}

fn alias(n: &Value) -> Alias {
    Alias {
        loc: loc(n),
        name: ident(&n["name"]),
        asname: opt_ident(&n["asname"]),
    }
}

fn keyword(n: &Value) -> Keyword {
    Keyword {
        loc: loc(n),
        arg: opt_ident(&n["arg"]),
        value: expr(&n["value"]),
    }
}

fn arg(n: &Value) -> Arg {
    Arg {
        loc: loc(n),
        arg: ident(&n["arg"]),
        annotation: opt_box(&n["annotation"]),
    }
}

fn opt_arg(v: &Value) -> Option<Arg> {
    (!v.is_null()).then(|| arg(v))
}

fn arguments(n: &Value) -> Arguments {
    Arguments {
        posonlyargs: list(&n["posonlyargs"], arg),
        args: list(&n["args"], arg),
        vararg: opt_arg(&n["vararg"]),
        kwonlyargs: list(&n["kwonlyargs"], arg),
        kw_defaults: list(&n["kw_defaults"], opt_expr),
        kwarg: opt_arg(&n["kwarg"]),
        defaults: exprs(&n["defaults"]),
    }
}

fn type_param(n: &Value) -> TypeParam {
    let kind = match kind(n) {
        "TypeVar" => TypeParamKind::TypeVar {
            name: ident(&n["name"]),
            bound: opt_box(&n["bound"]),
        },
        "ParamSpec" => TypeParamKind::ParamSpec {
            name: ident(&n["name"]),
        },
        "TypeVarTuple" => TypeParamKind::TypeVarTuple {
            name: ident(&n["name"]),
        },
        other => panic!("unknown type_param {other}"),
    };
    TypeParam { loc: loc(n), kind }
}

fn comprehension(n: &Value) -> Comprehension {
    Comprehension {
        target: expr(&n["target"]),
        iter: expr(&n["iter"]),
        ifs: exprs(&n["ifs"]),
        is_async: int(&n["is_async"]) != 0,
    }
}

fn ctx(v: &Value) -> ExprContext {
    match string(v) {
        "Load" => ExprContext::Load,
        "Store" => ExprContext::Store,
        "Del" => ExprContext::Del,
        other => panic!("unknown expr_context {other}"),
    }
}

fn operator(v: &Value) -> Operator {
    match string(v) {
        "Add" => Operator::Add,
        "Sub" => Operator::Sub,
        "Mult" => Operator::Mult,
        "MatMult" => Operator::MatMult,
        "Div" => Operator::Div,
        "Mod" => Operator::Mod,
        "Pow" => Operator::Pow,
        "LShift" => Operator::LShift,
        "RShift" => Operator::RShift,
        "BitOr" => Operator::BitOr,
        "BitXor" => Operator::BitXor,
        "BitAnd" => Operator::BitAnd,
        "FloorDiv" => Operator::FloorDiv,
        other => panic!("unknown operator {other}"),
    }
}

fn cmpop(v: &Value) -> CmpOp {
    match string(v) {
        "Eq" => CmpOp::Eq,
        "NotEq" => CmpOp::NotEq,
        "Lt" => CmpOp::Lt,
        "LtE" => CmpOp::LtE,
        "Gt" => CmpOp::Gt,
        "GtE" => CmpOp::GtE,
        "Is" => CmpOp::Is,
        "IsNot" => CmpOp::IsNot,
        "In" => CmpOp::In,
        "NotIn" => CmpOp::NotIn,
        other => panic!("unknown cmpop {other}"),
    }
}

fn expr(n: &Value) -> Expr {
    let kind = match kind(n) {
        "BoolOp" => ExprKind::BoolOp {
            op: match string(&n["op"]) {
                "And" => BoolOp::And,
                "Or" => BoolOp::Or,
                other => panic!("unknown boolop {other}"),
            },
            values: exprs(&n["values"]),
        },
        "NamedExpr" => ExprKind::NamedExpr {
            target: boxed(&n["target"]),
            value: boxed(&n["value"]),
        },
        "BinOp" => ExprKind::BinOp {
            left: boxed(&n["left"]),
            op: operator(&n["op"]),
            right: boxed(&n["right"]),
        },
        "UnaryOp" => ExprKind::UnaryOp {
            op: match string(&n["op"]) {
                "Invert" => UnaryOp::Invert,
                "Not" => UnaryOp::Not,
                "UAdd" => UnaryOp::UAdd,
                "USub" => UnaryOp::USub,
                other => panic!("unknown unaryop {other}"),
            },
            operand: boxed(&n["operand"]),
        },
        "Lambda" => ExprKind::Lambda {
            args: Box::new(arguments(&n["args"])),
            body: boxed(&n["body"]),
        },
        "IfExp" => ExprKind::IfExp {
            test: boxed(&n["test"]),
            body: boxed(&n["body"]),
            orelse: boxed(&n["orelse"]),
        },
        "Dict" => ExprKind::Dict {
            keys: list(&n["keys"], opt_expr),
            values: exprs(&n["values"]),
        },
        "Set" => ExprKind::Set {
            elts: exprs(&n["elts"]),
        },
        "ListComp" => ExprKind::ListComp {
            elt: boxed(&n["elt"]),
            generators: list(&n["generators"], comprehension),
        },
        "SetComp" => ExprKind::SetComp {
            elt: boxed(&n["elt"]),
            generators: list(&n["generators"], comprehension),
        },
        "DictComp" => ExprKind::DictComp {
            key: boxed(&n["key"]),
            value: boxed(&n["value"]),
            generators: list(&n["generators"], comprehension),
        },
        "GeneratorExp" => ExprKind::GeneratorExp {
            elt: boxed(&n["elt"]),
            generators: list(&n["generators"], comprehension),
        },
        "Await" => ExprKind::Await {
            value: boxed(&n["value"]),
        },
        "Yield" => ExprKind::Yield {
            value: opt_box(&n["value"]),
        },
        "YieldFrom" => ExprKind::YieldFrom {
            value: boxed(&n["value"]),
        },
        "Compare" => ExprKind::Compare {
            left: boxed(&n["left"]),
            ops: list(&n["ops"], cmpop),
            comparators: exprs(&n["comparators"]),
        },
        "Call" => ExprKind::Call {
            func: boxed(&n["func"]),
            args: exprs(&n["args"]),
            keywords: list(&n["keywords"], keyword),
        },
        "FormattedValue" => ExprKind::FormattedValue {
            value: boxed(&n["value"]),
            conversion: match int(&n["conversion"]) {
                -1 => Conversion::None,
                115 => Conversion::Str,
                114 => Conversion::Repr,
                97 => Conversion::Ascii,
                other => panic!("unknown conversion {other}"),
            },
            format_spec: opt_box(&n["format_spec"]),
        },
        "JoinedStr" => ExprKind::JoinedStr {
            values: exprs(&n["values"]),
        },
        "Constant" => ExprKind::Constant {
            value: constant(&n["value"]),
            kind_u: n["kind"].as_str() == Some("u"),
        },
        "Attribute" => ExprKind::Attribute {
            value: boxed(&n["value"]),
            attr: ident(&n["attr"]),
            ctx: ctx(&n["ctx"]),
        },
        "Subscript" => ExprKind::Subscript {
            value: boxed(&n["value"]),
            slice: boxed(&n["slice"]),
            ctx: ctx(&n["ctx"]),
        },
        "Starred" => ExprKind::Starred {
            value: boxed(&n["value"]),
            ctx: ctx(&n["ctx"]),
        },
        "Name" => ExprKind::Name {
            id: ident(&n["id"]),
            ctx: ctx(&n["ctx"]),
        },
        "List" => ExprKind::List {
            elts: exprs(&n["elts"]),
            ctx: ctx(&n["ctx"]),
        },
        "Tuple" => ExprKind::Tuple {
            elts: exprs(&n["elts"]),
            ctx: ctx(&n["ctx"]),
        },
        "Slice" => ExprKind::Slice {
            lower: opt_box(&n["lower"]),
            upper: opt_box(&n["upper"]),
            step: opt_box(&n["step"]),
        },
        other => panic!("unknown expr {other}"),
    };
    Expr { loc: loc(n), kind }
}

fn float(v: &Value) -> f64 {
    string(v)
        .parse()
        .unwrap_or_else(|_| panic!("not a float repr: {v}"))
}

fn hex(v: &Value) -> Vec<u8> {
    let s = string(v);
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A constant value in the JSON form of `dump_ast.py`.
pub fn constant(v: &Value) -> Constant {
    if v.is_null() {
        return Constant::None;
    }
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("not a constant: {v}"));
    let (tag, x) = obj.iter().next().expect("a tagged constant");
    match tag.as_str() {
        "bool" => Constant::Bool(x.as_bool().expect("bool")),
        "ellipsis" => Constant::Ellipsis,
        "int" => Constant::Int(Int::from_big(
            string(x).parse::<BigInt>().expect("decimal int"),
        )),
        "float" => Constant::Float(float(x)),
        "complex" => Constant::Complex(float(&x[0]), float(&x[1])),
        "str" => Constant::Str(Str::new(string(x), false)),
        "str_hex" => Constant::Str(
            Str::from_surrogatepass(hex(x).into(), false).expect("surrogatepass UTF-8"),
        ),
        "bytes" => Constant::Bytes(hex(x)),
        "tuple" => Constant::Tuple(list(x, constant)),
        "frozenset" => Constant::FrozenSet(list(x, constant)),
        other => panic!("unknown constant tag {other}"),
    }
}

fn pattern(n: &Value) -> Pattern {
    let kind = match kind(n) {
        "MatchValue" => PatternKind::MatchValue {
            value: boxed(&n["value"]),
        },
        "MatchSingleton" => PatternKind::MatchSingleton {
            value: constant(&n["value"]),
        },
        "MatchSequence" => PatternKind::MatchSequence {
            patterns: list(&n["patterns"], pattern),
        },
        "MatchMapping" => PatternKind::MatchMapping {
            keys: exprs(&n["keys"]),
            patterns: list(&n["patterns"], pattern),
            rest: opt_ident(&n["rest"]),
        },
        "MatchClass" => PatternKind::MatchClass {
            cls: boxed(&n["cls"]),
            patterns: list(&n["patterns"], pattern),
            kwd_attrs: list(&n["kwd_attrs"], ident),
            kwd_patterns: list(&n["kwd_patterns"], pattern),
        },
        "MatchStar" => PatternKind::MatchStar {
            name: opt_ident(&n["name"]),
        },
        "MatchAs" => PatternKind::MatchAs {
            pattern: (!n["pattern"].is_null()).then(|| Box::new(pattern(&n["pattern"]))),
            name: opt_ident(&n["name"]),
        },
        "MatchOr" => PatternKind::MatchOr {
            patterns: list(&n["patterns"], pattern),
        },
        other => panic!("unknown pattern {other}"),
    };
    Pattern { loc: loc(n), kind }
}
