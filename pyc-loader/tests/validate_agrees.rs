//! `marshal::validate` must accept exactly what `marshal::loads` accepts, with the same error:
//! checked on pycs of the reference interpreter, every truncation of them, and byte mutations.

use std::path::PathBuf;
use std::process::Command;

use bytes::Bytes;
use pyc_loader::marshal::{loads, validate, MarshalError};

/// Some pycs written by CPython 3.12 itself (compiled fresh into a temp dir).
fn sample_pycs() -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import py_compile, sys, sysconfig, os
lib = sysconfig.get_paths()["stdlib"]
for i, name in enumerate(["os.py", "json/decoder.py", "dataclasses.py", "enum.py", "typing.py",
                          "asyncio/tasks.py", "re/_parser.py", "string.py"]):
    py_compile.compile(os.path.join(lib, name), cfile=os.path.join(sys.argv[1], "%d.pyc" % i),
                       doraise=True)
"#;
    let status = Command::new("python3")
        .env("PYENV_VERSION", "3.12.1")
        .args(["-c", script])
        .arg(dir.path())
        .status()
        .expect("the reference interpreter PYENV_VERSION=3.12.1 python3 must be installed");
    assert!(status.success());
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).unwrap()[16..].to_vec())
        .collect()
}

fn both(data: &[u8]) -> (Result<(), MarshalError>, Result<(), MarshalError>) {
    (
        validate(data).map(drop),
        loads(Bytes::copy_from_slice(data)).map(drop),
    )
}

#[test]
fn agree_on_real_truncated_and_mutated_data() {
    let pycs = sample_pycs();
    assert_eq!(pycs.len(), 8);
    // A fixed-seed xorshift: reproducible mutations.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut rand = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut cases = 0;
    for data in &pycs {
        let (v, l) = both(data);
        assert!(v.is_ok() && l.is_ok(), "{v:?} {l:?}");
        let step = (data.len() / 300).max(1);
        for cut in (0..data.len()).step_by(step) {
            let (v, l) = both(&data[..cut]);
            assert_eq!(v, l, "truncated at {cut}");
            assert!(v.is_err());
            cases += 1;
        }
        for _ in 0..400 {
            let mut mutated = data.clone();
            for _ in 0..1 + rand() % 4 {
                let at = (rand() as usize) % mutated.len();
                mutated[at] = rand() as u8;
            }
            let (v, l) = both(&mutated);
            assert_eq!(v, l, "mutation of a {}-byte pyc", data.len());
            cases += 1;
        }
    }
    assert!(cases > 5000);
}

/// Inputs on which the fuzzer (`make fuzz`) once found the two disagreeing.
#[test]
fn agree_on_fuzz_findings() {
    // A code object whose `co_code` is a complex truncated in its imaginary part: the error
    // is at the second double, where the reader stops.
    let truncated_complex =
        b"\xe3\x00\x00\x00\x00\x00\xf3\x04\x00\x00\x00\x97\x00y\x00)ot/.pyendit__.\x03\x00\x00\x00";
    let (v, l) = both(truncated_complex);
    assert!(l.is_err());
    assert_eq!(v, l);
}
