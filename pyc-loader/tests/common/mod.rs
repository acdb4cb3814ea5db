//! Running the reference interpreters from tests.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::PathBuf;
use std::process::{Command, Output};

use pyc_loader::Target;

/// The pyenv version of the reference interpreter of each target.
pub fn pyenv_version(target: Target) -> &'static str {
    match target {
        Target::V3_11 => "3.11.7",
        Target::V3_12 => "3.12.1",
        Target::V3_13 => "3.13.0",
    }
}

/// `fixtures/NAME` in the repository.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(name)
}

/// Runs `python3 ARGS` under the target's reference interpreter, with `stdin` as input;
/// panics with a clear message if the interpreter is missing or is another version.
pub fn python(target: Target, args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    let version = pyenv_version(target);
    let spawn = |args: &[&str], input: &[u8]| {
        let mut child = Command::new("python3")
            .args(args)
            .env("PYENV_VERSION", version)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("reference interpreter {version} missing: python3: {e}"));
        let mut pipe = child.stdin.take().unwrap();
        let input = input.to_vec();
        // Written from another thread, so a big input cannot deadlock against the output.
        let writer = std::thread::spawn(move || pipe.write_all(&input));
        let output = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        output
    };
    let probe = spawn(
        &["-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        b"",
    );
    let found = String::from_utf8_lossy(&probe.stdout).trim().to_string();
    assert!(
        probe.status.success() && found == target.to_string(),
        "reference interpreter missing: PYENV_VERSION={version} python3 gave {found:?} ({})",
        String::from_utf8_lossy(&probe.stderr).trim()
    );
    spawn(args, stdin)
}
