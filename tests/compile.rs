//! End-to-end tests of `pyc compile` against `python -m compileall` on a fixture tree with
//! nested packages, a tests directory, a latin-1 coding cookie, a BOM and a syntax error: the
//! same files, the same code objects and bytes, the same messages.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{copy_tree, fixtures, pyc, python};
use pyc_loader::code_diff::first_difference;
use pyc_loader::load::{CheckHashBasedPycs, PycFile, SourceStamp, Verdict};
use pyc_loader::Target;

/// Two copies of the fixture tree, each named `tree` so recorded filenames agree: one
/// compiled by CPython, one by pyc, with the same arguments.
struct Both {
    _dir: tempfile::TempDir,
    cpython: PathBuf,
    ours: PathBuf,
    cpython_out: Output,
    our_out: Output,
}

fn compile_both(args: &[&str]) -> Both {
    let dir = tempfile::tempdir().unwrap();
    let cpython = dir.path().join("cpython");
    let ours = dir.path().join("ours");
    for parent in [&cpython, &ours] {
        copy_tree(&fixtures().join("compile_tree"), &parent.join("tree"));
    }
    let cpython_out = python("3.12.1")
        .args(["-m", "compileall"])
        .args(args)
        .arg("tree")
        .current_dir(&cpython)
        .output()
        .unwrap();
    let our_out = pyc()
        .arg("compile")
        .args(args)
        .arg("tree")
        .current_dir(&ours)
        .output()
        .unwrap();
    Both {
        _dir: dir,
        cpython,
        ours,
        cpython_out,
        our_out,
    }
}

/// Paths of every pyc under `root`, relative to it.
fn pycs(root: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "pyc") {
                out.insert(path.strip_prefix(root).unwrap().to_owned());
            }
        }
    }
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The same pycs, equal in every code-object field and byte for byte after the header.
fn assert_same_pycs(both: &Both) {
    let theirs = pycs(&both.cpython);
    assert_eq!(pycs(&both.ours), theirs);
    assert!(theirs.len() >= 7, "only {} pycs", theirs.len());
    for rel in &theirs {
        let (_, a) = PycFile::load(&both.cpython.join(rel)).unwrap();
        let (_, b) = PycFile::load(&both.ours.join(rel)).unwrap();
        if let Some(diff) = first_difference(&a, &b) {
            panic!("{}: {diff}", rel.display());
        }
        let a = std::fs::read(both.cpython.join(rel)).unwrap();
        let b = std::fs::read(both.ours.join(rel)).unwrap();
        assert!(
            a[16..] == b[16..],
            "{}: marshal bytes differ",
            rel.display()
        );
    }
}

#[test]
fn writes_what_compileall_writes() {
    let both = compile_both(&["-q"]);
    assert_same_pycs(&both);
    // Each of our caches is one importlib accepts for its source.
    for rel in pycs(&both.ours) {
        let cache = both.ours.join(&rel);
        let source = pyc_loader::source_from_cache(&cache).unwrap();
        let stamp = SourceStamp::from_metadata(&std::fs::metadata(&source).unwrap());
        let verdict = PycFile::open(&cache)
            .unwrap()
            .verdict(Target::V3_12, stamp, CheckHashBasedPycs::Default, || {
                std::fs::read(&source)
            })
            .unwrap();
        assert!(
            matches!(verdict, Verdict::Fresh),
            "{}: {verdict:?}",
            rel.display()
        );
    }
}

#[test]
fn reports_like_compileall() {
    for args in [&["-q"][..], &[][..]] {
        let both = compile_both(args);
        assert_eq!(
            both.our_out.status.code(),
            both.cpython_out.status.code(),
            "{args:?}"
        );
        assert_eq!(
            text(&both.our_out.stdout),
            text(&both.cpython_out.stdout),
            "{args:?}"
        );
    }
}

#[test]
fn hash_based_caches_are_byte_identical() {
    for mode in ["checked-hash", "unchecked-hash"] {
        let both = compile_both(&["-q", "--invalidation-mode", mode]);
        assert_same_pycs(&both);
        for rel in pycs(&both.cpython) {
            let a = std::fs::read(both.cpython.join(&rel)).unwrap();
            let b = std::fs::read(both.ours.join(&rel)).unwrap();
            assert!(a == b, "{mode}: {}: files differ", rel.display());
        }
    }
}

#[test]
fn up_to_date_caches_are_left_alone() {
    let both = compile_both(&["-q"]);
    let before: Vec<_> = pycs(&both.ours)
        .into_iter()
        .map(|rel| {
            let meta = std::fs::metadata(both.ours.join(&rel)).unwrap();
            (rel, meta.modified().unwrap())
        })
        .collect();
    let again = pyc()
        .args(["compile", "-q", "tree"])
        .current_dir(&both.ours)
        .output()
        .unwrap();
    // Only the file that does not compile is reported again.
    assert_eq!(text(&again.stdout), text(&both.our_out.stdout));
    for (rel, modified) in before {
        let meta = std::fs::metadata(both.ours.join(&rel)).unwrap();
        assert_eq!(
            meta.modified().unwrap(),
            modified,
            "{} rewritten",
            rel.display()
        );
    }
}

/// Deep nesting and huge literals: every file is compiled or rejected as CPython does it,
/// and nothing crashes (`pyc compile` runs its workers on ordinary thread stacks).
#[test]
fn hostile_sources_are_rejected_like_cpython_without_crashing() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, String)> = vec![
        ("sum2500", format!("x = {}\n", vec!["a"; 2500].join("+"))),
        ("sum10000", format!("x = {}\n", vec!["a"; 10000].join("+"))),
        (
            "parens199",
            format!("x = {}1{}\n", "(".repeat(199), ")".repeat(199)),
        ),
        (
            "parens250",
            format!("x = {}1{}\n", "(".repeat(250), ")".repeat(250)),
        ),
        (
            "lists150",
            format!("x = {}{}\n", "[".repeat(150), "]".repeat(150)),
        ),
        ("nots5000", format!("x = {}a\n", "not ".repeat(5000))),
        ("lambdas3000", format!("x = {}1\n", "lambda: ".repeat(3000))),
        ("digits4300", format!("x = {}\n", "9".repeat(4300))),
        ("digits4301", format!("x = {}\n", "9".repeat(4301))),
        ("hex6000", format!("x = 0x{}\n", "f".repeat(6000))),
        ("power", "x = 2 ** 100000\ny = 'a' * 10 ** 6\n".to_string()),
        (
            "ifs99",
            (0..99)
                .map(|i| format!("{}if a:\n", "    ".repeat(i)))
                .collect::<String>()
                + &"    ".repeat(99)
                + "pass\n",
        ),
    ];
    for (name, text) in &cases {
        std::fs::write(dir.path().join(format!("{name}.py")), text).unwrap();
    }
    let ours = pyc()
        .args(["compile", "-q", "-f", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(ours.status.code().is_some(), "killed: {:?}", ours.status);
    let report = text(&ours.stdout);
    let script = "import sys\n\
        for path in sys.argv[1:]:\n\
        \x20   try:\n\
        \x20       compile(open(path, 'rb').read(), path, 'exec')\n\
        \x20   except (SyntaxError, ValueError, MemoryError, RecursionError):\n\
        \x20       print(path)\n";
    let names: Vec<String> = cases.iter().map(|(n, _)| format!("./{n}.py")).collect();
    let theirs = python("3.12.1")
        .arg("-c")
        .arg(script)
        .args(&names)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let rejected_by_cpython: BTreeSet<String> =
        text(&theirs.stdout).lines().map(str::to_owned).collect();
    for name in &names {
        let ours_rejects = report.contains(&format!("Error compiling '{name}'"));
        assert_eq!(
            ours_rejects,
            rejected_by_cpython.contains(name),
            "{name}: pyc rejects: {ours_rejects}\n{report}"
        );
    }
}
