//! `pyc compile` beyond compileall: deterministic output, concurrent runs, deployment
//! manifests and `pyc check --fix`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{copy_tree, fixtures, pyc};
use pyc_loader::load::{CheckHashBasedPycs, PycFile, SourceStamp, Verdict};
use pyc_loader::Target;

/// Every file under `root` with its bytes, by relative path.
fn files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let data = std::fs::read(&path).unwrap();
                out.insert(path.strip_prefix(root).unwrap().to_owned(), data);
            }
        }
    }
    out
}

fn fixture_copy(parent: &Path) -> PathBuf {
    let tree = parent.join("tree");
    copy_tree(&fixtures().join("compile_tree"), &tree);
    tree
}

#[test]
fn output_is_the_same_whatever_the_threads_order_or_environment() {
    let dir = tempfile::tempdir().unwrap();
    fixture_copy(dir.path());
    let args = ["compile", "-q", "-f", "--invalidation-mode", "checked-hash"];
    let run = |extra: &[&str], dests: &[&str], env: &[(&str, &str)]| {
        let out = pyc()
            .args(args)
            .args(extra)
            .args(dests)
            .envs(env.iter().copied())
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        files(&dir.path().join("tree"))
    };
    let first = run(&["-j", "1"], &["tree"], &[]);
    assert!(first.keys().any(|p| p.ends_with("deep.cpython-312.pyc")));
    let dests = ["tree/tests", "tree/pkg", "tree/bom.py", "tree/latin1.py"];
    let runs = [
        run(&["-j", "0"], &["tree"], &[]),
        run(
            &["-j", "2"],
            &dests,
            &[("LC_ALL", "C"), ("PYTHONHASHSEED", "1")],
        ),
        run(&[], &["tree"], &[("RAYON_NUM_THREADS", "7")]),
    ];
    for other in runs {
        assert_eq!(
            other.keys().collect::<Vec<_>>(),
            first.keys().collect::<Vec<_>>()
        );
        for (path, data) in &first {
            assert!(other[path] == *data, "{} differs", path.display());
        }
    }
}

/// Each pyc under `root` loads and is the one importlib would use for its source.
fn assert_all_valid(root: &Path) -> usize {
    let mut count = 0;
    for (rel, _) in files(root) {
        assert!(
            !rel.to_string_lossy().ends_with(".tmp"),
            "temporary file {}",
            rel.display()
        );
        if rel.extension().is_some_and(|e| e == "pyc") {
            let cache = root.join(&rel);
            PycFile::load(&cache).unwrap();
            let source = pyc_loader::source_from_cache(&cache).unwrap();
            let stamp = SourceStamp::from_metadata(&std::fs::metadata(&source).unwrap());
            let verdict = PycFile::open(&cache)
                .unwrap()
                .verdict(Target::V3_12, stamp, CheckHashBasedPycs::Default, || {
                    std::fs::read(&source)
                })
                .unwrap();
            assert!(matches!(verdict, Verdict::Fresh), "{}", rel.display());
            count += 1;
        }
    }
    count
}

#[test]
fn concurrent_runs_leave_only_valid_pycs() {
    let dir = tempfile::tempdir().unwrap();
    let tree = fixture_copy(dir.path());
    for round in 0..4 {
        let spawn = |levels: &[&str]| {
            pyc()
                .args(["compile", "-qq", "-f"])
                .args(levels)
                .arg(&tree)
                .spawn()
                .unwrap()
        };
        let mut a = spawn(&["-o", "0", "-o", "1"]);
        let mut b = spawn(&["-o", "1", "-o", "0", "-j", "1"]);
        assert_eq!(a.wait().unwrap().code(), Some(1), "round {round}");
        assert_eq!(b.wait().unwrap().code(), Some(1), "round {round}");
        assert_eq!(assert_all_valid(&tree), 20);
    }
}

#[test]
fn manifest_proves_the_tree_unaltered() {
    let dir = tempfile::tempdir().unwrap();
    fixture_copy(dir.path());
    let compile = pyc()
        .args([
            "compile",
            "-q",
            "-o",
            "0",
            "-o",
            "2",
            "--manifest",
            "m.json",
            "tree",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(compile.status.code(), Some(1));
    let check = || {
        pyc()
            .args(["check", "--manifest", "m.json"])
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let clean = check();
    assert_eq!(clean.status.code(), Some(0), "{:?}", clean);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("m.json")).unwrap()).unwrap();
    let listed: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    // Every source read (bad.py too) and every cache written.
    assert!(listed.contains(&"tree/bad.py"));
    assert!(listed.contains(&"tree/pkg/__pycache__/core.cpython-312.opt-2.pyc"));
    assert_eq!(listed.iter().filter(|p| p.ends_with(".pyc")).count(), 20);

    let pycache = dir.path().join("tree/pkg/__pycache__");
    std::fs::rename(
        pycache.join("core.cpython-312.pyc"),
        pycache.join("held.pyc"),
    )
    .unwrap();
    std::fs::copy(
        pycache.join("plain.cpython-312.pyc"),
        pycache.join("core.cpython-312.pyc"),
    )
    .unwrap();
    std::fs::remove_file(pycache.join("__init__.cpython-312.opt-2.pyc")).unwrap();
    std::fs::write(dir.path().join("tree/latin1.py"), "x = 2\n").unwrap();
    let report = check();
    assert_eq!(report.status.code(), Some(1));
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(
        text.contains("swapped  tree/pkg/__pycache__/core.cpython-312.pyc: has the content of tree/pkg/__pycache__/plain.cpython-312.pyc"),
        "{text}"
    );
    assert!(
        text.contains("missing  tree/pkg/__pycache__/__init__.cpython-312.opt-2.pyc"),
        "{text}"
    );
    assert!(text.contains("altered  tree/latin1.py"), "{text}");
    assert_eq!(text.lines().count(), 4, "{text}");
}

#[test]
fn check_fix_recompiles_stale_and_missing_caches() {
    let dir = tempfile::tempdir().unwrap();
    let tree = fixture_copy(dir.path());
    std::fs::remove_file(tree.join("bad.py")).unwrap();
    std::fs::remove_file(tree.join("pkg/indent.py")).unwrap();
    let ok = pyc().args(["compile", "-q"]).arg(&tree).output().unwrap();
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    std::fs::write(tree.join("pkg/plain.py"), "VALUE = 2  # edited\n").unwrap();
    std::fs::remove_file(tree.join("pkg/__pycache__/core.cpython-312.pyc")).unwrap();
    let check = |fix: bool| {
        let mut cmd = pyc();
        cmd.arg("check").arg(&tree);
        if fix {
            cmd.arg("--fix");
        }
        cmd.output().unwrap()
    };
    assert_eq!(check(false).status.code(), Some(1));
    let fixed = check(true);
    let text = String::from_utf8_lossy(&fixed.stdout);
    assert_eq!(fixed.status.code(), Some(0), "{text}");
    assert_eq!(text.matches("fixed ").count(), 2, "{text}");
    assert!(assert_all_valid(&tree) >= 9);
    assert_eq!(check(false).status.code(), Some(0));
}

/// Ctrl-C: the files under way finish, no temporary file or truncated pyc is left, and the
/// run ends as compileall's does (`[interrupted]`, status 1).
#[test]
fn interrupted_runs_leave_only_whole_pycs() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    let text = std::fs::read(fixtures().join("compile_tree/pkg/sub/deep.py")).unwrap();
    for i in 0..3000 {
        std::fs::write(tree.join(format!("m{i}.py")), &text).unwrap();
    }
    let child = pyc()
        .args(["compile", "-q", "-j", "2"])
        .arg(&tree)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first caches appear, then interrupt.
    let pycache = tree.join("__pycache__");
    while std::fs::read_dir(&pycache).map_or(0, |d| d.count()) < 10 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("\n[interrupted]\n"));
    let written = assert_all_valid(&tree);
    assert!((10..3000).contains(&written), "{written} pycs");
}
