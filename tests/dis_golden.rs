//! `pyc dis` against `dis.dis()` output recorded from CPython 3.12 by `fixtures/gen_dis.py`.

use std::path::Path;
use std::process::Command;

/// Replaces every `0x...` hex literal (code object addresses) by `0x`.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("0x") {
        out.push_str(&rest[..at + 2]);
        rest = rest[at + 2..].trim_start_matches(|c: char| c.is_ascii_hexdigit());
    }
    out.push_str(rest);
    out
}

/// Runs `pyc dis ARG` in `dir` and returns the first difference from the expected output of
/// `name`, if any.
fn dis_difference(dir: &Path, arg: &Path, name: &str) -> Option<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dis");
    let expected = std::fs::read_to_string(root.join("expected").join(format!("{name}.txt")))
        .expect("expected output");
    let run = Command::new(env!("CARGO_BIN_EXE_pyc"))
        .arg("dis")
        .arg(arg)
        .current_dir(dir)
        .output()
        .expect("run pyc");
    if !run.status.success() {
        return Some(format!(
            "{name}: exit {}: {}",
            run.status,
            String::from_utf8_lossy(&run.stderr)
        ));
    }
    let got = normalize(&String::from_utf8_lossy(&run.stdout));
    let expected = normalize(&expected);
    if got == expected {
        return None;
    }
    let (exp_lines, got_lines): (Vec<_>, Vec<_>) =
        (expected.lines().collect(), got.lines().collect());
    let line = (0..exp_lines.len().max(got_lines.len()))
        .find(|&i| exp_lines.get(i) != got_lines.get(i))
        .unwrap_or(0);
    Some(format!(
        "{name}: line {}:\n  expected: {}\n  got:      {}",
        line + 1,
        exp_lines.get(line).unwrap_or(&"<end of output>"),
        got_lines.get(line).unwrap_or(&"<end of output>")
    ))
}

/// The files of a fixtures/dis subdirectory, sorted.
fn listing(sub: &str) -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dis");
    let mut paths: Vec<_> = std::fs::read_dir(root.join(sub))
        .expect("fixtures/dis")
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    paths.sort();
    paths
}

#[test]
fn dis_matches_cpython() {
    let pycs = listing("pyc");
    assert!(
        pycs.len() >= 40,
        "expected the fixture set, found {}",
        pycs.len()
    );
    let failures: Vec<String> = pycs
        .iter()
        .filter_map(|pyc| {
            let name = pyc.file_stem().and_then(|s| s.to_str()).expect("file name");
            dis_difference(Path::new("."), pyc, name)
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        pycs.len(),
        failures.join("\n")
    );
}

/// `pyc dis FILE.py` compiles with pyc: the same disassembly as CPython's pyc of that source
/// (the fixtures were compiled as `src/NAME.py`, so the file names shown agree).
#[test]
fn dis_of_sources_matches_cpython() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dis");
    let sources = listing("src");
    assert!(sources.len() >= 10, "found {}", sources.len());
    let failures: Vec<String> = sources
        .iter()
        .filter_map(|source| {
            let name = source
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("file name");
            let rel = Path::new("src").join(source.file_name().expect("file name"));
            dis_difference(&root, &rel, name)
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        sources.len(),
        failures.join("\n")
    );
}

#[test]
fn errors_name_the_file_and_exit_1() {
    let missing = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dis/no-such.pyc");
    let run = Command::new(env!("CARGO_BIN_EXE_pyc"))
        .arg("dis")
        .arg(&missing)
        .output()
        .expect("run pyc");
    assert_eq!(run.status.code(), Some(1));
    assert!(run.stdout.is_empty());
    assert!(String::from_utf8_lossy(&run.stderr).contains("no-such.pyc"));
}
