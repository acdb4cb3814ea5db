//! `pyc check` against trees compiled by CPython's own compileall.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use common::{copy_tree, fixtures, pyc, python, run_ok};

/// A copy of the sample project compiled by CPython `version` with extra compileall args.
fn compiled_sample(dir: &Path, version: &str, args: &[&str]) {
    if !dir.join("main.py").exists() {
        copy_tree(&fixtures().join("sample"), dir);
    }
    run_ok(
        python(version)
            .args(["-m", "compileall", "-q"])
            .args(args)
            .arg(dir),
    );
}

/// Runs `pyc check --format json`, returning exit code and status by file (relative path).
fn check(dir: &Path, extra: &[&str]) -> (i32, BTreeMap<String, String>) {
    let out = pyc()
        .args(["check", "--format", "json"])
        .args(extra)
        .arg(dir)
        .output()
        .unwrap();
    let mut statuses = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let path = v["cache"].as_str().or(v["source"].as_str()).unwrap();
        let rel = Path::new(path).strip_prefix(dir).unwrap();
        let status = v["status"].as_str().unwrap().to_string();
        statuses.insert(rel.to_string_lossy().into_owned(), status);
    }
    (out.status.code().unwrap(), statuses)
}

fn problems(statuses: &BTreeMap<String, String>) -> Vec<(String, String)> {
    statuses
        .iter()
        .filter(|(_, s)| *s != "fresh" && *s != "other")
        .map(|(p, s)| (p.clone(), s.clone()))
        .collect()
}

fn set_mtime(path: &Path, time: SystemTime) {
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

#[test]
fn fresh_stale_missing_orphan_corrupt() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    compiled_sample(dir, "3.12.1", &[]);
    let (code, statuses) = check(dir, &[]);
    assert_eq!(code, 0, "{statuses:?}");
    assert_eq!(statuses.len(), 6);
    assert!(statuses.values().all(|s| s == "fresh"), "{statuses:?}");

    // Edit a source (new mtime), delete a cache, delete a source, truncate a cache.
    let edited = dir.join("app/util/text.py");
    fs::write(&edited, fs::read_to_string(&edited).unwrap() + "\nX = 1\n").unwrap();
    set_mtime(&edited, SystemTime::now() + Duration::from_secs(10));
    fs::remove_file(dir.join("app/models/__pycache__/shapes.cpython-312.pyc")).unwrap();
    fs::remove_file(dir.join("app/util/__init__.py")).unwrap();
    let truncated = dir.join("__pycache__/main.cpython-312.pyc");
    let data = fs::read(&truncated).unwrap();
    fs::write(&truncated, &data[..data.len() / 2]).unwrap();

    let (code, statuses) = check(dir, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        problems(&statuses),
        vec![
            ("__pycache__/main.cpython-312.pyc".into(), "corrupt".into()),
            ("app/models/shapes.py".into(), "missing".into()),
            (
                "app/util/__pycache__/__init__.cpython-312.pyc".into(),
                "orphan".into()
            ),
            (
                "app/util/__pycache__/text.cpython-312.pyc".into(),
                "stale".into()
            ),
        ]
    );
}

#[test]
fn human_output_names_problems() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    compiled_sample(dir, "3.12.1", &[]);
    fs::remove_file(dir.join("app/models/__pycache__/shapes.cpython-312.pyc")).unwrap();
    let out = pyc().arg("check").arg(dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("cpython-312 (optimization 0): 5 fresh, 0 stale, 1 missing"));
    let line = lines.next().unwrap();
    assert!(
        line.starts_with("missing ") && line.contains("shapes.py"),
        "{line}"
    );
}

#[test]
fn checked_hash_detects_same_size_same_mtime_edit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    compiled_sample(dir, "3.12.1", &["--invalidation-mode", "checked-hash"]);
    assert_eq!(check(dir, &[]).0, 0);

    let source = dir.join("app/util/text.py");
    let before = fs::metadata(&source).unwrap().modified().unwrap();
    let text = fs::read_to_string(&source)
        .unwrap()
        .replace("upper", "lower");
    fs::write(&source, text).unwrap();
    set_mtime(&source, before);

    let (code, statuses) = check(dir, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        problems(&statuses),
        vec![(
            "app/util/__pycache__/text.cpython-312.pyc".into(),
            "stale".into()
        )]
    );
    // A timestamp check would not have seen it; `never` trusts the hash.
    assert_eq!(check(dir, &["--check-hash-based-pycs", "never"]).0, 0);
}

#[test]
fn unchecked_hash_is_trusted_unless_always() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    compiled_sample(dir, "3.12.1", &["--invalidation-mode", "unchecked-hash"]);
    let source = dir.join("main.py");
    fs::write(&source, fs::read_to_string(&source).unwrap() + "# edited\n").unwrap();
    assert_eq!(check(dir, &[]).0, 0);
    let (code, statuses) = check(dir, &["--check-hash-based-pycs", "always"]);
    assert_eq!(code, 1);
    assert_eq!(
        problems(&statuses),
        vec![("__pycache__/main.cpython-312.pyc".into(), "stale".into())]
    );
}

#[test]
fn other_versions_and_levels_are_counted_not_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    compiled_sample(dir, "3.12.1", &[]);
    compiled_sample(dir, "3.11.7", &[]);
    compiled_sample(dir, "3.13.0", &["-o", "1", "-o", "2"]);
    let (code, statuses) = check(dir, &[]);
    assert_eq!(code, 0, "{statuses:?}");
    let count = |s: &str| statuses.values().filter(|v| *v == s).count();
    assert_eq!((count("fresh"), count("other")), (6, 6 + 12));

    // Selecting 3.13 at levels 1 and 2 checks those; level 0 caches are missing there.
    let (code, statuses) = check(dir, &["--target", "3.13", "-o", "1", "-o", "2"]);
    assert_eq!(code, 0, "{statuses:?}");
    let (code, _) = check(dir, &["--target", "3.13"]);
    assert_eq!(code, 1);
}

#[test]
fn bad_magic_for_its_tag_is_corrupt() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    compiled_sample(dir, "3.11.7", &[]);
    compiled_sample(dir, "3.12.1", &[]);
    // A 3.11 pyc renamed to the 3.12 name.
    fs::copy(
        dir.join("__pycache__/main.cpython-311.pyc"),
        dir.join("__pycache__/main.cpython-312.pyc"),
    )
    .unwrap();
    let (code, statuses) = check(dir, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        problems(&statuses),
        vec![("__pycache__/main.cpython-312.pyc".into(), "corrupt".into())]
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = pyc().args(["check", "/nonexistent/path"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/path"));
    let out = pyc()
        .args(["check", "--target", "2.7", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The JSON report of `pyc check ARGS...`, one line per file.
fn json_report(args: &[&Path]) -> Vec<String> {
    let out = pyc()
        .args(["check", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn files_named_alone_are_reported_as_in_their_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    compiled_sample(dir, "3.12.1", &[]);
    compiled_sample(dir, "3.11.7", &[]);
    // Every status: stale, missing, orphan, corrupt, a legacy cache beside its source and a
    // sourceless one.
    let edited = dir.join("app/util/text.py");
    set_mtime(&edited, SystemTime::now() + Duration::from_secs(10));
    fs::remove_file(dir.join("app/models/__pycache__/shapes.cpython-312.pyc")).unwrap();
    fs::remove_file(dir.join("app/util/__init__.py")).unwrap();
    fs::write(
        dir.join("__pycache__/main.cpython-312.pyc"),
        b"\xcb\x0d\x0d\x0a",
    )
    .unwrap();
    let cache = dir.join("app/models/__pycache__/__init__.cpython-312.pyc");
    fs::copy(&cache, dir.join("app/models/__init__.pyc")).unwrap();
    fs::copy(&cache, dir.join("app/models/gone.pyc")).unwrap();

    let whole = json_report(&[dir]);
    let statuses: std::collections::BTreeSet<String> = whole
        .iter()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["status"].to_string())
        .collect();
    assert_eq!(statuses.len(), 6, "{whole:#?}");
    for line in &whole {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let path = v["cache"].as_str().or(v["source"].as_str()).unwrap();
        assert_eq!(
            json_report(&[Path::new(path)]),
            vec![line.clone()],
            "{path}"
        );
    }
    // A file also reached through its directory is reported once.
    assert_eq!(json_report(&[dir, &edited, dir]), whole);
}

#[test]
fn missing_caches_of_each_level_are_each_reported() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("m.py"), "x = 1\n").unwrap();
    let out = pyc()
        .args(["check", "--format", "json", "-o", "0", "-o", "1", "-o", "2"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8(out.stdout).unwrap();
    let missing = report.lines().filter(|l| l.contains("\"missing\"")).count();
    assert_eq!(missing, 3, "{report}");
}

#[test]
fn a_fifo_named_as_a_cache_is_reported_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("m.py"), "x = 1\n").unwrap();
    fs::create_dir(tmp.path().join("__pycache__")).unwrap();
    let fifo = tmp.path().join("__pycache__/m.cpython-312.pyc");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let (code, statuses) = check(tmp.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        problems(&statuses),
        vec![("__pycache__/m.cpython-312.pyc".into(), "corrupt".into())]
    );
}
