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

#[test]
fn dis_matches_cpython() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dis");
    let mut pycs: Vec<_> = std::fs::read_dir(root.join("pyc"))
        .expect("fixtures/dis/pyc")
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    pycs.sort();
    assert!(
        pycs.len() >= 40,
        "expected the fixture set, found {}",
        pycs.len()
    );
    let mut failures = Vec::new();
    for pyc in &pycs {
        let name = pyc.file_stem().and_then(|s| s.to_str()).expect("file name");
        let expected = std::fs::read_to_string(root.join("expected").join(format!("{name}.txt")))
            .expect("expected output");
        let run = Command::new(env!("CARGO_BIN_EXE_pyc"))
            .arg("dis")
            .arg(pyc)
            .output()
            .expect("run pyc");
        if !run.status.success() {
            failures.push(format!(
                "{name}: exit {}: {}",
                run.status,
                String::from_utf8_lossy(&run.stderr)
            ));
            continue;
        }
        let got = normalize(&String::from_utf8_lossy(&run.stdout));
        let expected = normalize(&expected);
        if got != expected {
            let (exp_lines, got_lines): (Vec<_>, Vec<_>) =
                (expected.lines().collect(), got.lines().collect());
            let line = (0..exp_lines.len().max(got_lines.len()))
                .find(|&i| exp_lines.get(i) != got_lines.get(i))
                .unwrap_or(0);
            failures.push(format!(
                "{name}: line {}:\n  expected: {}\n  got:      {}",
                line + 1,
                exp_lines.get(line).unwrap_or(&"<end of output>"),
                got_lines.get(line).unwrap_or(&"<end of output>")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        pycs.len(),
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
