//! Differential tests of `pyc run`: every fixtures/programs/NAME.py is compiled by CPython 3.12
//! (py_compile) and, separately, by `pyc compile`, run by `pyc run`, and its stdout, exit
//! status and (for uncaught exceptions) stderr are compared with what CPython printed
//! (NAME.stdout / NAME.status / NAME.stderr, written by fixtures/programs/regen.py).

mod common;

use std::fs;
use std::path::PathBuf;

#[test]
fn programs_match_cpython() {
    check_programs(Compiler::CPython);
}

/// The same programs, from caches written by `pyc compile` (run as `pyc run NAME.py`).
#[test]
fn programs_compiled_by_pyc_match_cpython() {
    check_programs(Compiler::Pyc);
}

/// Every opcode CPython 3.12's compiler can emit appears in some program (CPython itself
/// lists them: fixtures/opcode_coverage.py), so the runs above exercise the whole table.
#[test]
fn programs_cover_every_opcode() {
    let script = common::fixtures().join("opcode_coverage.py");
    let out = common::python("3.12.1").arg(&script).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let unused = String::from_utf8(out.stdout).unwrap();
    assert!(unused.is_empty(), "opcodes no program uses:\n{unused}");
}

/// Who writes the caches the programs run from.
#[derive(Clone, Copy, PartialEq)]
enum Compiler {
    CPython,
    Pyc,
}

fn check_programs(compiler: Compiler) {
    let dir = common::fixtures().join("programs");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            let stem = p.file_stem()?.to_str()?.to_owned();
            (p.extension()? == "py" && stem != "regen").then_some(stem)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 40, "only {} programs", names.len());
    let work = tempfile::tempdir().unwrap();
    for n in &names {
        fs::copy(
            dir.join(format!("{n}.py")),
            work.path().join(format!("{n}.py")),
        )
        .unwrap();
    }
    let sources: Vec<String> = names.iter().map(|n| format!("{n}.py")).collect();
    let root = work.path().canonicalize().unwrap();
    match compiler {
        Compiler::CPython => {
            common::run_ok(
                common::python("3.12.1")
                    .current_dir(work.path())
                    .arg("-c")
                    .arg("import os, py_compile, sys\nfor f in sys.argv[1:]: py_compile.compile(f, cfile=f + 'c', dfile=os.path.abspath(f), doraise=True)")
                    .args(&sources),
            );
        }
        Compiler::Pyc => {
            common::run_ok(common::pyc().args(["compile", "-q"]).arg(&root));
        }
    }
    let mut failures = Vec::new();
    for n in &names {
        let target = match compiler {
            Compiler::CPython => format!("{n}.pyc"),
            Compiler::Pyc => format!("{n}.py"),
        };
        let out = common::pyc()
            .current_dir(work.path())
            .args(["run", &target])
            .output()
            .unwrap();
        let expected = |ext: &str| fs::read(dir.join(format!("{n}.{ext}"))).unwrap_or_default();
        let status: i32 = String::from_utf8(expected("status"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let mut why = Vec::new();
        if out.stdout != expected("stdout") {
            why.push(format!(
                "stdout differs:\n--- expected\n{}\n--- got\n{}",
                String::from_utf8_lossy(&expected("stdout")),
                String::from_utf8_lossy(&out.stdout)
            ));
        }
        if out.status.code() != Some(status) {
            why.push(format!("status {:?}, expected {status}", out.status.code()));
        }
        let err_path: PathBuf = dir.join(format!("{n}.stderr"));
        let want_err = fs::read_to_string(&err_path)
            .map(|e| {
                e.replace(
                    "{DIR}",
                    &work.path().canonicalize().unwrap().display().to_string(),
                )
            })
            .ok();
        if want_err
            .as_ref()
            .is_some_and(|e| e.as_bytes() != out.stderr)
        {
            why.push(format!(
                "stderr differs:\n--- expected\n{}\n--- got\n{}",
                want_err.unwrap_or_default(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        if !why.is_empty() {
            failures.push(format!("== {n}\n{}", why.join("\n")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} programs differ from CPython:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}

/// `pyc run FILE.py` runs the script's cache from `__pycache__` with `sys.argv` as Python sets
/// it; a cache importlib would consider stale is not used (the source is compiled in memory,
/// as CPython compiles a script), and a SyntaxError is reported as CPython reports it.
#[test]
fn run_py_uses_the_validated_cache() {
    let work = tempfile::tempdir().unwrap();
    let script = work.path().join("prog.py");
    fs::write(&script, "import sys\nprint(sys.argv)\n").unwrap();
    common::run_ok(common::python("3.12.1").current_dir(work.path()).args([
        "-m",
        "py_compile",
        "prog.py",
    ]));
    let run = || {
        common::pyc()
            .current_dir(work.path())
            .args(["run", "prog.py", "a", "-b"])
            .output()
            .unwrap()
    };
    let out = run();
    let expected = common::run_ok(
        common::python("3.12.1")
            .current_dir(work.path())
            .args(["prog.py", "a", "-b"]),
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&expected.stdout)
    );
    assert!(out.status.success());
    fs::write(&script, "import sys\nprint(sys.argv, 'changed')\n").unwrap();
    let out = run();
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).ends_with("] changed\n"),
        "{out:?}"
    );
    fs::write(&script, "x = (1,\n").unwrap();
    let out = run();
    let expected = common::python("3.12.1")
        .current_dir(work.path())
        .arg(&script)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&expected.stderr)
    );
}

/// With a recursion limit far beyond what the native stack holds, unbounded recursion still
/// ends in RecursionError (the native stack guard), never a crash.
#[test]
fn deep_recursion_never_overflows_the_native_stack() {
    let work = tempfile::tempdir().unwrap();
    fs::write(
        work.path().join("deep.py"),
        "import sys\nsys.setrecursionlimit(10**8)\ndef f(n):\n    return f(n + 1)\nf(0)\n",
    )
    .unwrap();
    common::run_ok(common::python("3.12.1").current_dir(work.path()).args([
        "-c",
        "import py_compile; py_compile.compile('deep.py', cfile='deep.pyc')",
    ]));
    let out = common::pyc()
        .current_dir(work.path())
        .args(["run", "deep.pyc"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.ends_with("RecursionError: maximum recursion depth exceeded\n"),
        "{}",
        &stderr[stderr.len().saturating_sub(500)..]
    );
}

/// `import` finds sibling modules on `sys.path` through their validated caches, runs each once
/// and shares it through `sys.modules`, as CPython does.
#[test]
fn imports_sibling_modules_from_their_caches() {
    let work = tempfile::tempdir().unwrap();
    let files = [
        (
            "main.py",
            "import helper\nfrom helper import double, Counter\nimport helper as again\n\
             print(helper.NAME, double(21), Counter().bump().n, again is helper)\n\
             import sys\nprint('helper' in sys.modules, helper.__name__)\n\
             try:\n    import not_there\nexcept ModuleNotFoundError as e:\n    print(e)\n",
        ),
        (
            "helper.py",
            "print('helper runs once')\nNAME = 'helper'\ndef double(x):\n    return 2 * x\n\
             class Counter:\n    def __init__(self):\n        self.n = 0\n    def bump(self):\n        self.n += 1\n        return self\n",
        ),
    ];
    for (name, text) in files {
        fs::write(work.path().join(name), text).unwrap();
    }
    let out = run_main_like_cpython(work.path(), &["-m", "py_compile", "main.py", "helper.py"]);
    assert!(out.status.success());
}

/// An opcode the VM does not implement is a Python-level SystemError naming the opcode, the
/// offset and the code object (with a traceback, status 1); a truncated pyc is a clean error.
/// (CPython's compiler emits no opcode the VM lacks, so the pyc is patched: INTERPRETER_EXIT
/// only exists inside CPython's own trampolines.)
#[test]
fn unsupported_opcodes_and_bad_pycs_are_clear_errors() {
    let work = tempfile::tempdir().unwrap();
    common::run_ok(common::python("3.12.1").current_dir(work.path()).args([
        "-c",
        "import importlib.util, marshal, opcode\n\
         co = compile('x = 1\\n', 'uo.py', 'exec')\n\
         op = opcode.opmap\n\
         co = co.replace(co_code=bytes([op['RESUME'], 0, op['INTERPRETER_EXIT'], 0]))\n\
         data = importlib.util.MAGIC_NUMBER + bytes(12) + marshal.dumps(co)\n\
         open('uo.pyc', 'wb').write(data)",
    ]));
    let out = common::pyc()
        .current_dir(work.path())
        .args(["run", "uo.pyc"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.ends_with(
            "SystemError: unsupported opcode INTERPRETER_EXIT at offset 2 in code object <module> (uo.py)\n"
        ),
        "{stderr}"
    );
    let pyc = fs::read(work.path().join("uo.pyc")).unwrap();
    fs::write(work.path().join("short.pyc"), &pyc[..pyc.len() / 2]).unwrap();
    let out = common::pyc()
        .current_dir(work.path())
        .args(["run", "short.pyc"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("pyc run: short.pyc: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// `input()`, `sys.stdin.readline()` and iteration over `sys.stdin` share one buffer, and
/// `print(file=...)` writes to opened files, as under CPython.
#[test]
fn stdin_and_files_behave_as_cpython() {
    use std::io::Write;
    use std::process::Stdio;
    let work = tempfile::tempdir().unwrap();
    let out_file = work.path().join("out.txt");
    fs::write(
        work.path().join("io.py"),
        format!(
            "import sys\nname = input('name? ')\nfirst = sys.stdin.readline().strip()\n\
             rest = [l.strip() for l in sys.stdin]\n\
             with open({:?}, 'w') as f:\n    print(name, first, rest, sep='|', file=f)\n\
             print(open({:?}).read(), end='')\ntry:\n    input()\nexcept EOFError as e:\n    print('EOFError', e)\nexit(4)\n",
            out_file.display().to_string(),
            out_file.display().to_string()
        ),
    )
    .unwrap();
    common::run_ok(common::python("3.12.1").current_dir(work.path()).args([
        "-c",
        "import py_compile; py_compile.compile('io.py', cfile='io.pyc')",
    ]));
    let run = |mut cmd: std::process::Command| {
        let mut child = cmd
            .current_dir(work.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"bob\nl2\nl3\nl4\n")
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let mut ours = common::pyc();
    ours.args(["run", "io.pyc"]);
    let mut theirs = common::python("3.12.1");
    theirs.arg("io.py");
    let (a, b) = (run(ours), run(theirs));
    assert_eq!(
        String::from_utf8_lossy(&a.stdout),
        String::from_utf8_lossy(&b.stdout)
    );
    assert_eq!(a.status.code(), Some(4));
    assert_eq!(b.status.code(), Some(4));
}

/// Packages (`__init__.py`, submodules, `__path__`) and relative imports work from caches.
#[test]
fn imports_packages_and_relative_modules() {
    let work = tempfile::tempdir().unwrap();
    let pkg = work.path().join("shapes");
    fs::create_dir_all(pkg.join("sub")).unwrap();
    let files = [
        ("main.py", "import shapes\nimport shapes.circle\nfrom shapes import square\nfrom shapes.sub.deep import depth\nimport shapes.sub.deep as d\n\
                     print(shapes.NAME, shapes.circle.area(2), square.area(3), depth(), d.depth() == depth())\n\
                     print(shapes.__package__, shapes.circle.__package__, sorted(k for k in __import__('sys').modules if k.startswith('shapes')))\n"),
        ("shapes/__init__.py", "NAME = 'shapes'\nfrom .helpers import PI\n"),
        ("shapes/helpers.py", "PI = 3.0\n"),
        ("shapes/circle.py", "from .helpers import PI\ndef area(r):\n    return PI * r * r\n"),
        ("shapes/square.py", "from . import helpers\ndef area(s):\n    return s * s + helpers.PI - 3.0\n"),
        ("shapes/sub/__init__.py", ""),
        ("shapes/sub/deep.py", "from ..helpers import PI\ndef depth():\n    return ('deep', PI)\n"),
    ];
    for (name, text) in files {
        fs::write(work.path().join(name), text).unwrap();
    }
    run_main_like_cpython(work.path(), &["-m", "compileall", "-q", "."]);
}

/// Compiles the sources in `dir` with CPython (`compile_args`), runs `main.py` with CPython
/// (sources present, no new caches) and with `pyc run`, asserts the same stdout, and returns
/// pyc's output.
fn run_main_like_cpython(dir: &std::path::Path, compile_args: &[&str]) -> std::process::Output {
    common::run_ok(common::python("3.12.1").current_dir(dir).args(compile_args));
    let expected = common::run_ok(
        common::python("3.12.1")
            .current_dir(dir)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .arg("main.py"),
    );
    let out = common::pyc()
        .current_dir(dir)
        .args(["run", "main.py"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&expected.stdout),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
