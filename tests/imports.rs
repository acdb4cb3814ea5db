//! End-to-end tests of `pyc run`'s import system on the application in
//! fixtures/imports_app/tree (nested packages, relative imports at depth, a circular import, a
//! namespace package over two sys.path entries, `import *` with `__all__`, importlib,
//! `-m` with a package `__main__`, import errors, an uncaught error deep in an import chain).
//! Expected output comes from CPython 3.12 (fixtures/imports_app/regen.py). Also: the
//! bytecode-only policy (stale caches refused, `--compile` repairs), damaged caches,
//! `--check-hash-based-pycs`, and caches whose source is gone.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The runs regen.py makes: name, arguments in the cached layout, in the sourceless layout.
const RUNS: &[(&str, &[&str], &[&str])] = &[
    ("main", &["main.py"], &["main.pyc"]),
    ("m_app", &["-m", "app", "a", "b"], &["-m", "app", "a", "b"]),
    (
        "m_tool",
        &["-m", "app.tool", "x", "y"],
        &["-m", "app.tool", "x", "y"],
    ),
    ("m_fail", &["-m", "app.core.fail"], &["-m", "app.core.fail"]),
];

/// A fresh copy of the application tree (without caches), and its canonical root.
fn app_copy() -> (tempfile::TempDir, PathBuf) {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().canonicalize().unwrap().join("app_root");
    common::copy_tree(&common::fixtures().join("imports_app/tree"), &root);
    (work, root)
}

/// stdout, stderr (the root written as `{DIR}`) and status of `cmd` run in `root`.
fn outcome(cmd: &mut Command, root: &Path) -> (String, String, i32) {
    let out = cmd
        .current_dir(root)
        .env_remove("PYTHONPATH")
        .output()
        .unwrap();
    let dir = root.display().to_string();
    let text = |b: &[u8]| String::from_utf8_lossy(b).replace(&dir, "{DIR}");
    (
        text(&out.stdout),
        text(&out.stderr),
        out.status.code().unwrap_or(-1),
    )
}

fn expected(layout: &str, name: &str) -> (String, String, i32) {
    let dir = common::fixtures().join("imports_app/expected").join(layout);
    let read = |ext: &str| fs::read_to_string(dir.join(format!("{name}.{ext}"))).unwrap();
    (
        read("stdout"),
        read("stderr"),
        read("status").trim().parse().unwrap(),
    )
}

fn pyc_run(root: &Path, args: &[&str]) -> (String, String, i32) {
    outcome(common::pyc().arg("run").args(args), root)
}

fn compile(root: &Path, extra: &[&str]) {
    common::run_ok(common::pyc().args(["compile", "-q"]).args(extra).arg(root));
}

#[test]
fn app_from_pyc_caches_matches_cpython() {
    let (_work, root) = app_copy();
    compile(&root, &[]);
    for (name, args, _) in RUNS {
        assert_eq!(pyc_run(&root, args), expected("cached", name), "run {name}");
    }
}

/// Sourceless (`pyc compile -b`, every .py deleted): pyc and CPython both print what CPython
/// printed for that layout.
#[test]
fn sourceless_app_matches_cpython() {
    let (_work, root) = app_copy();
    compile(&root, &["-b"]);
    delete_sources(&root);
    for (name, _, args) in RUNS {
        let want = expected("sourceless", name);
        assert_eq!(pyc_run(&root, args), want, "pyc run {name}");
        let cpython = outcome(common::python("3.12.1").args(*args), &root);
        assert_eq!(cpython, want, "CPython {name}");
    }
}

fn delete_sources(dir: &Path) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().unwrap() == "__pycache__" {
                fs::remove_dir_all(&path).unwrap();
            } else {
                delete_sources(&path);
            }
        } else if path.extension().is_some_and(|e| e == "py") {
            fs::remove_file(&path).unwrap();
        }
    }
}

/// Appends a comment to a module's source (size changes, so the cache is stale whatever the
/// clock says; line numbers stay).
fn edit(path: &Path) {
    let mut text = fs::read_to_string(path).unwrap();
    text.push_str("# edited\n");
    fs::write(path, text).unwrap();
}

#[test]
fn edited_module_is_refused_until_compiled() {
    let (_work, root) = app_copy();
    compile(&root, &[]);
    let want = expected("cached", "main");
    edit(&root.join("app/core/helpers.py"));
    let (stdout, stderr, status) = pyc_run(&root, &["main.py"]);
    assert_eq!((stdout.as_str(), status), ("", 1), "{stderr}");
    assert!(
        stderr.contains("ImportError: module 'app.core.helpers' has no usable cached bytecode:")
            && (stderr.contains("helpers.cpython-312.pyc is stale (size changed (cache ")
                || stderr.contains("helpers.cpython-312.pyc is stale (mtime changed (cache "))
            && stderr.contains("(source {DIR}/app/core/helpers.py)")
            && stderr.contains("run `pyc compile {DIR}/app/core/helpers.py`"),
        "{stderr}"
    );
    // --no-write runs the compiled module but leaves the cache stale.
    assert_eq!(
        pyc_run(&root, &["--compile", "--no-write", "main.py"]),
        want
    );
    assert_eq!(pyc_run(&root, &["main.py"]).2, 1);
    // --compile writes the cache; the next plain run is bytecode-only again.
    assert_eq!(pyc_run(&root, &["--compile", "main.py"]), want);
    assert_eq!(pyc_run(&root, &["main.py"]), want);
    // `-m` follows the same policy.
    edit(&root.join("app/util/text.py"));
    let (_, stderr, status) = pyc_run(&root, &["-m", "app.tool", "x", "y"]);
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("module 'app.util.text'"), "{stderr}");
}

/// Damaged caches are ImportErrors naming the module and the problem, never panics.
#[test]
fn damaged_caches_are_clear_import_errors() {
    let (_work, root) = app_copy();
    compile(&root, &[]);
    let cache = root.join("app/util/__pycache__/text.cpython-312.pyc");
    let good = fs::read(&cache).unwrap();
    let mut corrupt = good.clone();
    let n = corrupt.len();
    corrupt[20..n - 4].fill(0xff);
    let mut other_version = good.clone();
    other_version[..4].copy_from_slice(&[0xa7, 0x0d, 0x0d, 0x0a]);
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("corrupt", corrupt, "is corrupt (bad marshal data"),
        ("truncated", good[..good.len() / 2].to_vec(), "is corrupt ("),
        ("short header", good[..10].to_vec(), "is unusable: "),
        (
            "other version",
            other_version,
            "is unusable: it was written for Python 3.11, not 3.12",
        ),
    ];
    for (what, data, reason) in cases {
        fs::write(&cache, &data).unwrap();
        check_refused(&root, what, reason);
    }
    // Unreadable. Root reads a mode-000 file, so as root pyc runs as `nobody` through
    // setpriv (the tree made readable to others); without setpriv the assertion is skipped.
    fs::write(&cache, &good).unwrap();
    set_mode(&cache, 0o000);
    if fs::read(&cache).is_err() {
        check_refused(&root, "unreadable", "cannot be read (Permission denied");
    } else if Command::new("setpriv").arg("--help").output().is_ok() {
        // The temporary directory holding app_root is private to its owner.
        set_mode(root.parent().unwrap(), 0o755);
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_pyc"))
            .args(["run", "main.py"]);
        let (stdout, stderr, status) = outcome(&mut cmd, &root);
        assert_eq!((stdout.as_str(), status), ("", 1), "{stderr}");
        assert!(
            stderr.contains(&format!("{HEAD}cannot be read (Permission denied")),
            "{stderr}"
        );
    } else {
        eprintln!("running as root without setpriv: the unreadable-cache assertion is skipped");
    }
    set_mode(&cache, 0o644);
    assert_eq!(pyc_run(&root, &["main.py"]), expected("cached", "main"));
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// How the refusal of app/util/text.py's cache begins.
const HEAD: &str = "ImportError: module 'app.util.text' has no usable cached bytecode: \
                    {DIR}/app/util/__pycache__/text.cpython-312.pyc ";

fn check_refused(root: &Path, what: &str, reason: &str) {
    let (stdout, stderr, status) = pyc_run(root, &["main.py"]);
    assert_eq!((stdout.as_str(), status), ("", 1), "{what}: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(
        stderr.contains(HEAD) && stderr.contains(reason),
        "{what}: {stderr}"
    );
}

/// Hash-based caches: unchecked ones are trusted unless `--check-hash-based-pycs always`,
/// checked ones verified unless `never`.
#[test]
fn check_hash_based_pycs_option() {
    let (_work, root) = app_copy();
    let want = expected("cached", "main");
    for (mode, trusted_by_default) in [("unchecked-hash", true), ("checked-hash", false)] {
        compile(&root, &["-f", "--invalidation-mode", mode]);
        edit(&root.join("app/util/text.py"));
        let default = pyc_run(&root, &["main.py"]);
        let always = pyc_run(&root, &["--check-hash-based-pycs", "always", "main.py"]);
        let never = pyc_run(&root, &["--check-hash-based-pycs", "never", "main.py"]);
        assert_eq!(default == want, trusted_by_default, "{mode}: {}", default.1);
        assert_eq!(never, want, "{mode}");
        assert_eq!(always.2, 1, "{mode}");
        assert!(
            always
                .1
                .contains("text.cpython-312.pyc is stale (source hash changed)"),
            "{mode}: {}",
            always.1
        );
    }
}

/// A `__pycache__` cache whose source is gone is never loaded; a legacy `m.pyc` beside where
/// `m.py` would be is, but only without `m.py`.
#[test]
fn orphan_caches_and_legacy_layout() {
    let (_work, root) = app_copy();
    fs::write(root.join("solo.py"), "import orphan\n").unwrap();
    fs::write(root.join("orphan.py"), "print('orphan ran')\n").unwrap();
    compile(&root, &[]);
    fs::remove_file(root.join("orphan.py")).unwrap();
    let (_, stderr, status) = pyc_run(&root, &["solo.py"]);
    assert_eq!(status, 1);
    assert!(
        stderr.ends_with("ModuleNotFoundError: No module named 'orphan'\n"),
        "{stderr}"
    );
    fs::write(root.join("orphan.py"), "print('source')\n").unwrap();
    compile(&root, &["-b"]);
    fs::write(root.join("orphan.py"), "print('newer source')\n").unwrap();
    compile(&root, &[]);
    // Both orphan.pyc (legacy) and orphan.py with its cache: the source's cache wins.
    assert_eq!(pyc_run(&root, &["solo.py"]).0, "newer source\n");
    fs::remove_file(root.join("orphan.py")).unwrap();
    assert_eq!(pyc_run(&root, &["solo.py"]).0, "source\n");
}

/// `--path` entries come after the script's directory and before PYTHONPATH's.
#[test]
fn path_option_and_pythonpath() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().canonicalize().unwrap();
    for (dir, who) in [("main", "script dir"), ("a", "--path"), ("b", "PYTHONPATH")] {
        fs::create_dir_all(root.join(dir)).unwrap();
        fs::write(root.join(dir).join("who.py"), format!("WHO = '{who}'\n")).unwrap();
        fs::write(root.join(dir).join(format!("only_{dir}.py")), "").unwrap();
    }
    fs::write(
        root.join("main/run.py"),
        "import sys, who, only_a, only_b\nprint(who.WHO, [p.rsplit('/', 1)[1] for p in sys.path])\n",
    )
    .unwrap();
    compile(&root, &[]);
    let out = common::pyc()
        .current_dir(&root)
        .env("PYTHONPATH", root.join("b"))
        .args(["run", "--path"])
        .arg(root.join("a"))
        .arg("main/run.py")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "script dir ['main', 'a', 'b']\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// With `--compile`, a module that does not compile raises CPython's SyntaxError (or
/// IndentationError), printed as CPython prints it under the importing line's entry.
#[test]
fn compile_errors_in_imported_modules_match_cpython() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().canonicalize().unwrap();
    fs::write(root.join("main.py"), "import sys\nimport broken\n").unwrap();
    for source in ["x = 1\ndef (:\n", "if x:\n  y = 2\n    z = 3\n", "f(a b)\n"] {
        fs::write(root.join("broken.py"), source).unwrap();
        let want = outcome(common::python("3.12.1").arg("main.py"), &root);
        assert_eq!(want.2, 1, "{}", want.1);
        let got = pyc_run(&root, &["--compile", "--no-write", "main.py"]);
        assert_eq!(got, want, "{source:?}");
    }
}

/// `-O` / `-OO` use the `.opt-1` / `.opt-2` caches, as `python -O` / `-OO`, and nothing else.
#[test]
fn optimized_caches() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().canonicalize().unwrap();
    fs::write(
        root.join("main.py"),
        "import m\nprint(__debug__, m.f.__doc__)\n",
    )
    .unwrap();
    fs::write(
        root.join("m.py"),
        "def f():\n    'doc'\n\nassert False, 'asserts run'\n",
    )
    .unwrap();
    compile(&root, &["-o", "1", "-o", "2"]);
    for flag in ["-O", "-OO"] {
        let want = outcome(common::python("3.12.1").args([flag, "main.py"]), &root);
        assert_eq!(want.2, 0, "{}", want.1);
        assert_eq!(pyc_run(&root, &[flag, "main.py"]), want, "{flag}");
    }
    let (_, stderr, status) = pyc_run(&root, &["main.py"]);
    assert_eq!(status, 1);
    assert!(
        stderr.contains("m.cpython-312.pyc does not exist"),
        "{stderr}"
    );
}

/// `importlib.reload` runs the module's new code in its namespace (with `--compile`, the edited
/// source is compiled), as CPython does.
#[test]
fn reload_matches_cpython() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().canonicalize().unwrap();
    let main = "import importlib, mod\nprint(mod.X, mod.COUNT)\n\
                with open(mod.__file__, 'w') as f:\n    \
                f.write(\"X = 'renewed'\\nCOUNT = globals().get('COUNT', 0) + 1\\n\")\n\
                m2 = importlib.reload(mod)\nprint(m2 is mod, mod.X, mod.COUNT)\n\
                try:\n    importlib.reload(1)\nexcept TypeError as e:\n    print(e)\n";
    fs::write(root.join("main.py"), main).unwrap();
    let module = "X = 'old'\nCOUNT = globals().get('COUNT', 0) + 1\n";
    fs::write(root.join("mod.py"), module).unwrap();
    let want = outcome(common::python("3.12.1").arg("main.py"), &root);
    assert_eq!(want.2, 0, "{}", want.1);
    fs::write(root.join("mod.py"), module).unwrap();
    compile(&root, &["-f"]);
    assert_eq!(pyc_run(&root, &["--compile", "main.py"]), want);
}
