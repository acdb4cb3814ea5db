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
    compile_both_in(args, &["tree"], |_| {})
}

/// Both compilers run in a copy of the fixture tree prepared by `setup` (given the directory
/// holding `tree`), with `args` then `dests`.
fn compile_both_in(args: &[&str], dests: &[&str], setup: impl Fn(&Path)) -> Both {
    let dir = tempfile::tempdir().unwrap();
    let cpython = dir.path().join("cpython");
    let ours = dir.path().join("ours");
    for parent in [&cpython, &ours] {
        copy_tree(&fixtures().join("compile_tree"), &parent.join("tree"));
        setup(parent);
    }
    let cpython_out = python("3.12.1")
        .args(["-m", "compileall"])
        .args(args)
        .args(dests)
        .current_dir(&cpython)
        .output()
        .unwrap();
    let our_out = pyc()
        .arg("compile")
        .args(args)
        .args(dests)
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

/// Paths of every pyc under `root`, relative to it (symlinks are not followed or listed).
fn pycs(root: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let (path, kind) = (entry.path(), entry.file_type().unwrap());
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() && path.extension().is_some_and(|e| e == "pyc") {
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
    assert!(pycs(&both.ours).len() >= 9, "{:?}", pycs(&both.ours));
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
    for args in [&["-q"][..], &[][..], &["-qq"][..]] {
        let both = compile_both(args);
        // stderr is not a terminal: no progress bar, only the summary (none with -qq).
        let stderr = text(&both.our_out.stderr);
        if args == ["-qq"] {
            assert_eq!(stderr, "");
        } else {
            assert!(
                stderr.starts_with("pyc compile: 10 compiled, 0 up to date, 2 failed in "),
                "{stderr}"
            );
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
        }
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

/// Pairs of pycs (relative paths) that are hard links of one file.
fn links(root: &Path) -> BTreeSet<(PathBuf, PathBuf)> {
    use std::os::unix::fs::MetadataExt;
    let all: Vec<(PathBuf, u64)> = pycs(root)
        .into_iter()
        .map(|rel| {
            let ino = std::fs::metadata(root.join(&rel)).unwrap().ino();
            (rel, ino)
        })
        .collect();
    let mut out = BTreeSet::new();
    for (a, ia) in &all {
        for (b, ib) in &all {
            if a < b && ia == ib {
                out.insert((a.clone(), b.clone()));
            }
        }
    }
    out
}

/// The same exit status and stdout (as sorted lines when compileall ran workers, whose
/// output order varies), the same pycs, code objects and hard links.
fn assert_same_run(both: &Both, what: &str) {
    assert_eq!(
        both.our_out.status.code(),
        both.cpython_out.status.code(),
        "{what}: exit status; stderr: {}",
        text(&both.our_out.stderr)
    );
    let (ours, theirs) = (text(&both.our_out.stdout), text(&both.cpython_out.stdout));
    if what.contains("-j") {
        let sorted = |s: &str| {
            let mut lines: Vec<&str> = s.lines().collect();
            lines.sort_unstable();
            lines.join("\n")
        };
        assert_eq!(sorted(&ours), sorted(&theirs), "{what}: stdout");
    } else {
        assert_eq!(ours, theirs, "{what}: stdout");
    }
    assert_same_pycs(both);
    assert_eq!(
        links(&both.ours),
        links(&both.cpython),
        "{what}: hard links"
    );
}

fn check_options(cases: &[&[&str]]) {
    for args in cases {
        let both = compile_both(args);
        assert_same_run(&both, &format!("{args:?}"));
        if args.contains(&"--hardlink-dupes") {
            assert!(!links(&both.ours).is_empty(), "nothing linked");
        }
    }
}

#[test]
fn recursion_options_match_compileall() {
    check_options(&[
        &["-l"],
        &["-r", "1"],
        &["-r", "0"],
        &["-l", "-r", "2"],
        &["-q", "-q"],
    ]);
}

#[test]
fn file_name_options_match_compileall() {
    check_options(&[
        &["-d", "/dest/lib"],
        &["-s", "tree", "-p", "/opt/app"],
        &["-s", "tree/pkg"],
        &["-p", "/prefix"],
        &["-b"],
    ]);
}

#[test]
fn level_and_worker_options_match_compileall() {
    check_options(&[
        &["-o", "1"],
        &["-o", "2", "-o", "0", "-o", "2"],
        &["-o", "0", "-o", "1", "-o", "2", "--hardlink-dupes"],
        &["-b", "-o", "1", "-o", "2"],
        &["-j", "1"],
        &["-j", "0", "-q"],
    ]);
}

#[test]
fn exclusion_matches_compileall() {
    // Python `re.search` on the full path, lookbehind included.
    check_options(&[
        &["-x", r"tests|deep\.py$"],
        &["-x", r"(?<!sub/)__init__\.py"],
        &["-x", "^tree/pkg/"],
    ]);
}

#[test]
fn files_directories_and_lists_match_compileall() {
    for dests in [
        &["tree/latin1.py", "tree/pkg/sub", "tree/notes.txt"][..],
        &["tree/bad.py", "tree/tests"][..],
    ] {
        for args in [&[][..], &["-d", "/dest"][..]] {
            let both = compile_both_in(args, dests, |_| {});
            assert_same_run(&both, &format!("{args:?} {dests:?}"));
        }
    }
    let list = |parent: &Path| {
        std::fs::write(parent.join("list.txt"), "tree/pkg\n  tree/bom.py  \n").unwrap();
    };
    let both = compile_both_in(&["-i", "list.txt"], &["tree/tests"], list);
    assert_same_run(&both, "-i list.txt");
    let both = compile_both_in(&["-i", "missing.txt"], &["tree"], |_| {});
    assert_same_run(&both, "-i missing.txt");
}

#[test]
fn symlink_limit_matches_compileall() {
    use std::os::unix::fs::symlink;
    let links = |parent: &Path| {
        std::fs::write(parent.join("outside.py"), "OUT = 1\n").unwrap();
        symlink("pkg/plain.py", parent.join("tree/inside_link.py")).unwrap();
        symlink(
            parent.join("outside.py"),
            parent.join("tree/outside_link.py"),
        )
        .unwrap();
    };
    for args in [&["-e", "tree"][..], &[][..], &["-e", "tree/pkg"][..]] {
        let both = compile_both_in(args, &["tree"], links);
        assert_same_run(&both, &format!("{args:?}"));
    }
}

#[test]
fn source_date_epoch_makes_checked_hash_caches() {
    let dir = tempfile::tempdir().unwrap();
    let (cpython, ours) = (dir.path().join("a"), dir.path().join("b"));
    for (parent, mut cmd) in [(&cpython, python("3.12.1")), (&ours, pyc())] {
        copy_tree(&fixtures().join("compile_tree/pkg"), &parent.join("tree"));
        if parent == &cpython {
            cmd.args(["-m", "compileall"]);
        } else {
            cmd.arg("compile");
        }
        let out = cmd
            .args(["-q", "tree"])
            .env("SOURCE_DATE_EPOCH", "1")
            .current_dir(parent)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    }
    let theirs = pycs(&cpython);
    assert_eq!(pycs(&ours), theirs);
    for rel in theirs {
        let a = std::fs::read(cpython.join(&rel)).unwrap();
        assert_eq!(a[4..8], [3, 0, 0, 0], "CPython wrote a checked-hash pyc");
        assert!(
            a == std::fs::read(ours.join(&rel)).unwrap(),
            "{}",
            rel.display()
        );
    }
}

/// A non-UTF-8 file name: `co_filename` holds the `surrogateescape` decoding (lone
/// surrogates) and the messages show `\udcXX`, as in CPython.
#[test]
fn non_utf8_file_names_match_compileall() {
    use std::os::unix::ffi::OsStrExt;
    let setup = |parent: &Path| {
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9.py");
        std::fs::write(parent.join("tree").join(name), "def f():\n    return f\n").unwrap();
        let bad = std::ffi::OsStr::from_bytes(b"b\xffd.py");
        std::fs::write(parent.join("tree").join(bad), "x = (\n").unwrap();
    };
    for args in [&[][..], &["-p", "/pre"][..]] {
        let both = compile_both_in(args, &["tree"], setup);
        assert_same_run(&both, &format!("non-UTF-8 {args:?}"));
        assert!(text(&both.our_out.stdout).contains("caf\\udce9.py"));
    }
}

/// Broken symlinks and symlink loops are passed over as compileall does (same stdout and
/// status), each named on stderr.
#[test]
fn broken_symlinks_and_loops_match_compileall() {
    use std::os::unix::fs::symlink;
    let setup = |parent: &Path| {
        symlink("nowhere.py", parent.join("tree/broken.py")).unwrap();
        symlink("loop.py", parent.join("tree/loop.py")).unwrap();
        symlink(".", parent.join("tree/pkg/again")).unwrap();
    };
    let both = compile_both_in(&[], &["tree"], setup);
    assert_same_run(&both, "symlinks");
    let stderr = text(&both.our_out.stderr);
    assert!(stderr.contains("skipped tree/broken.py"), "{stderr}");
    assert!(stderr.contains("skipped tree/loop.py"), "{stderr}");
}

/// A `__pycache__` that is a file: the files under it fail with the error naming their
/// cache, no temporary file is left, and the rest of the tree is compiled.
#[test]
fn failing_writes_are_reported_and_leave_nothing() {
    let setup = |parent: &Path| {
        std::fs::write(parent.join("tree/pkg/__pycache__"), "in the way").unwrap();
    };
    let both = compile_both_in(&["-q"], &["tree"], setup);
    assert_eq!(both.our_out.status.code(), Some(1));
    assert_eq!(pycs(&both.ours), pycs(&both.cpython));
    assert!(pycs(&both.ours).len() >= 4);
    let ours = text(&both.our_out.stdout);
    let theirs = text(&both.cpython_out.stdout);
    // CPython names its temporary file; we name the cache.
    let shape = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| match l.find(": '") {
                Some(i) if l.starts_with("NotADirectoryError") => l[..i].to_owned(),
                _ => l.to_owned(),
            })
            .collect()
    };
    assert_eq!(shape(&ours), shape(&theirs));
    assert!(
        ours.contains("Not a directory: 'tree/pkg/__pycache__/core.cpython-312.pyc'"),
        "{ours}"
    );
    let mut stack = vec![both.ours.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            assert!(
                !path.to_string_lossy().ends_with(".tmp"),
                "{}",
                path.display()
            );
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
}

/// Bad arguments fail with status 2 and a message, as argparse does.
#[test]
fn bad_arguments_are_refused() {
    for args in [
        &["-d", "/x", "-s", "tree"][..],
        &["-o", "1", "--hardlink-dupes"][..],
        &["--target", "3.11"][..],
        &["-x", "("][..],
        &["-o", "3"][..],
    ] {
        let out = pyc().arg("compile").args(args).arg(".").output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}

/// Caches that are symlinks or special files are not replaced (py_compile's FileExistsError),
/// and `-i -` reads the list from stdin.
#[test]
fn symlinked_caches_and_stdin_lists_match_compileall() {
    use std::os::unix::fs::symlink;
    let setup = |parent: &Path| {
        let pycache = parent.join("tree/pkg/__pycache__");
        std::fs::create_dir_all(pycache.join("core.cpython-312.pyc")).unwrap();
        std::fs::write(parent.join("elsewhere.bin"), "").unwrap();
        symlink(
            "../../../elsewhere.bin",
            pycache.join("plain.cpython-312.pyc"),
        )
        .unwrap();
    };
    let both = compile_both_in(&[], &["tree"], setup);
    assert_same_run(&both, "symlinked caches");
    assert!(text(&both.our_out.stdout).contains("FileExistsError"));
    let link = both.ours.join("tree/pkg/__pycache__/plain.cpython-312.pyc");
    assert!(std::fs::symlink_metadata(link).unwrap().is_symlink());

    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for mut cmd in [python("3.12.1"), pyc()] {
        let parent = dir.path().join(outputs.len().to_string());
        copy_tree(&fixtures().join("compile_tree"), &parent.join("tree"));
        if outputs.is_empty() {
            cmd.args(["-m", "compileall"]);
        } else {
            cmd.arg("compile");
        }
        let mut child = cmd
            .args(["-i", "-"])
            .current_dir(&parent)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"tree/pkg/sub\ntree/bom.py\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        outputs.push((out.status.code(), text(&out.stdout), pycs(&parent)));
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0].2.len(), 5, "{:?}", outputs[0].2);
}
