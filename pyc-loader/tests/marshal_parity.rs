//! Differential marshal round trip on a sample of each reference interpreter's stdlib: CPython
//! compiles, we read and rewrite, CPython's `marshal.loads` must accept our bytes and give a
//! value strictly equal to the original, and the very same bytes (see `fixtures/marshal_roundtrip.py`; `make parity`
//! runs the same check on every file).

mod common;

use bytes::Bytes;
use pyc_loader::header::{Header, HEADER_LEN};
use pyc_loader::{marshal, Object, Target};

/// Files per interpreter: the biggest stdlib modules and an even spread of the others.
const SAMPLE: &str = "30";

/// Round-trips a sample; our bytes must also equal CPython's.
fn round_trip(target: Target) {
    let work = tempfile::tempdir().unwrap();
    let work_arg = work.path().to_str().unwrap();
    let script = common::fixture("marshal_roundtrip.py");
    let script = script.to_str().unwrap();
    let prepared = common::python(
        target,
        &[
            script, "prepare", "--work", work_arg, "--sample", SAMPLE, "--opts", "0",
        ],
        b"",
    );
    assert!(prepared.status.success(), "{prepared:?}");
    let list = std::fs::read_to_string(work.path().join("list.txt")).unwrap();
    let paths: Vec<&str> = list.lines().collect();
    assert!(paths.len() >= 30, "only {} pycs compiled", paths.len());
    for (n, path) in paths.iter().enumerate() {
        let data = std::fs::read(path).unwrap();
        Header::parse_for(&data, target).unwrap_or_else(|e| panic!("{path}: {e}"));
        let obj = marshal::loads(Bytes::copy_from_slice(&data[HEADER_LEN..]))
            .unwrap_or_else(|e| panic!("{path}: offset {}: {}", e.offset + HEADER_LEN, e.kind));
        let mut out = data[..HEADER_LEN].to_vec();
        out.extend(marshal::dumps(&obj).unwrap());
        assert!(out == data, "{path}: rewritten bytes differ from CPython's");
        std::fs::write(work.path().join("out").join(format!("{n}.pyc")), out).unwrap();
    }
    let checked = common::python(target, &[script, "check", "--work", work_arg], b"");
    let report = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(report.contains(" 0 failed"), "{report}");
}

#[test]
fn round_trip_3_11() {
    round_trip(Target::V3_11);
}

#[test]
fn round_trip_3_12() {
    round_trip(Target::V3_12);
}

#[test]
fn round_trip_3_13() {
    round_trip(Target::V3_13);
}

/// Compiled values have their set items written sorted by their own marshal bytes, as
/// CPython 3.12 writes them, whatever order the value holds them in.
#[test]
fn set_items_are_written_in_cpythons_order() {
    let script = "import marshal, sys\n\
        src = 'def f(x):\\n    return x in {\"pass \", \"PASS \", 7, 2.5, (1, \"a b\"), None}\\n'\n\
        code = compile(src, 'm', 'exec')\n\
        sys.stdout.write(marshal.dumps(code).hex())\n";
    let out = common::python(Target::V3_12, &["-c", script], b"");
    assert!(out.status.success(), "{out:?}");
    let hex = String::from_utf8(out.stdout).unwrap();
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let obj = marshal::loads(Bytes::from(bytes.clone())).unwrap();
    assert_eq!(marshal::dumps_compiled(&reverse_sets(&obj)).unwrap(), bytes);
}

/// `obj` with the items of every set and frozenset in reverse order.
fn reverse_sets(obj: &Object) -> Object {
    match obj {
        Object::FrozenSet(items) => {
            Object::FrozenSet(items.iter().rev().map(reverse_sets).collect())
        }
        Object::Tuple(items) => Object::Tuple(items.iter().map(reverse_sets).collect()),
        Object::Code(code) => {
            let mut code = (**code).clone();
            code.consts = code.consts.iter().map(reverse_sets).collect();
            Object::Code(code.into())
        }
        other => other.clone(),
    }
}
