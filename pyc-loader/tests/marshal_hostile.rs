//! Hostile marshal data: truncations and byte flips of real CPython output, deep nesting and
//! huge declared lengths. The reader must answer with an error, never a panic or an allocation
//! out of proportion to the input; where CPython has a verdict, ours must be the same.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::Bytes;
use pyc_loader::marshal::{self, MarshalErrorKind, Object};
use pyc_loader::Target;

/// Records the largest single allocation of each thread, to show hostile lengths allocate
/// nothing big.
struct Tracking;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; the bookkeeping touches only a const-initialized
// thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.with(|l| l.set(l.get().max(layout.size())));
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Tracking = Tracking;

/// Hex-decodes CPython's output.
fn unhex(text: &str) -> Vec<u8> {
    let text = text.trim();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// `marshal.dumps(compile(...))` of stdlib modules by the target's CPython, one per line.
fn cpython_marshal_of(target: Target, modules: &[&str]) -> Vec<Vec<u8>> {
    let script = "import marshal, sys, importlib.util\n\
        for name in sys.argv[1:]:\n\
        \x20   path = importlib.util.find_spec(name).origin\n\
        \x20   source = open(path, 'rb').read()\n\
        \x20   print(marshal.dumps(compile(source, path, 'exec')).hex())\n";
    let mut args = vec!["-c", script];
    args.extend(modules);
    let out = common::python(target, &args, b"");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(unhex)
        .collect()
}

/// Which of `inputs` (hex, one per line) CPython's `marshal.loads` accepts.
fn cpython_accepts(target: Target, inputs: &[Vec<u8>]) -> Vec<bool> {
    let script = "import marshal, sys\n\
        for line in sys.stdin:\n\
        \x20   try:\n\
        \x20       marshal.loads(bytes.fromhex(line)); print(1)\n\
        \x20   except (ValueError, EOFError, TypeError):\n\
        \x20       print(0)\n";
    let stdin: String = inputs
        .iter()
        .map(|d| d.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n")
        .collect();
    let out = common::python(target, &["-c", script], stdin.as_bytes());
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l == "1")
        .collect()
}

#[test]
fn every_truncation_fails_cleanly() {
    for target in Target::ALL {
        for data in cpython_marshal_of(target, &["json.decoder", "colorsys"]) {
            let data = Bytes::from(data);
            assert!(marshal::loads(data.clone()).is_ok());
            for len in 0..data.len() {
                let err = marshal::loads(data.slice(..len))
                    .expect_err("a truncated code object cannot load");
                assert!(err.offset <= len, "offset {} beyond {len}", err.offset);
            }
        }
    }
}

#[test]
fn byte_flips_never_panic() {
    let data = cpython_marshal_of(Target::V3_12, &["json.decoder"]).remove(0);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut loaded = 0;
    for _ in 0..5_000 {
        let mut mutant = data.clone();
        for _ in 0..=next() % 4 {
            let at = (next() % mutant.len() as u64) as usize;
            mutant[at] ^= 1 << (next() % 8);
        }
        if let Ok(obj) = marshal::loads(Bytes::from(mutant)) {
            loaded += 1;
            let again = marshal::loads(Bytes::from(marshal::dumps(&obj).unwrap())).unwrap();
            assert!(again == obj);
        }
    }
    assert!(
        loaded > 0,
        "no mutant loaded: the flips test nothing but errors"
    );
}

/// `n` nested one-item containers around `None`.
fn nested(n: usize, open: &[u8]) -> Vec<u8> {
    let mut data = open.repeat(n);
    data.push(b'N');
    data
}

#[test]
fn nesting_limit_matches_cpython() {
    let opens: [&[u8]; 3] = [b")\x01", b"[\x01\x00\x00\x00", b">\x01\x00\x00\x00"];
    let mut inputs = Vec::new();
    for open in opens {
        for n in [marshal::MAX_DEPTH - 1, marshal::MAX_DEPTH] {
            inputs.push(nested(n, open));
        }
    }
    for target in Target::ALL {
        let verdicts = cpython_accepts(target, &inputs);
        for (input, cpython) in inputs.iter().zip(verdicts) {
            let ours = marshal::loads(Bytes::copy_from_slice(input));
            assert_eq!(ours.is_ok(), cpython, "{target}: {:?}", &input[..6]);
            if let Err(e) = ours {
                assert_eq!(e.kind, MarshalErrorKind::TooDeep);
            }
        }
    }
    // The writer refuses what the reader would refuse.
    let mut obj = Object::None;
    for _ in 0..marshal::MAX_DEPTH - 1 {
        obj = Object::tuple(vec![obj]);
    }
    let written = marshal::dumps(&obj).unwrap();
    assert!(marshal::loads(Bytes::from(written)).is_ok());
    assert!(marshal::dumps(&Object::tuple(vec![obj])).is_err());
}

#[test]
fn huge_lengths_allocate_nothing() {
    let mut inputs = Vec::new();
    for code in *b"s u t a A ( [ < > l" {
        if code == b' ' {
            continue;
        }
        for len in [i32::MAX, i32::MIN, -1, 0x1000_0000] {
            let mut data = vec![code];
            data.extend_from_slice(&len.to_le_bytes());
            data.extend_from_slice(b"NNNN");
            inputs.push(data);
        }
    }
    inputs.push(b"r\xff\xff\xff\x7f".to_vec());
    // CPython rejects a tuple or list longer than the data only after allocating it (up to
    // 30 s for 2**31 - 1 items), so it is not asked about those: its verdict is a rejection.
    let slow = |d: &[u8]| {
        matches!(d[0], b'(' | b'[') && i32::from_le_bytes(d[1..5].try_into().unwrap()) > 0
    };
    let asked: Vec<Vec<u8>> = inputs.iter().filter(|d| !slow(d)).cloned().collect();
    let mut answers = cpython_accepts(Target::V3_12, &asked).into_iter();
    let verdicts: Vec<bool> = inputs
        .iter()
        .map(|d| !slow(d) && answers.next().unwrap())
        .collect();
    for (input, cpython) in inputs.iter().zip(verdicts) {
        let input = Bytes::copy_from_slice(input);
        LARGEST.with(|l| l.set(0));
        let result = marshal::loads(input.clone());
        let largest = LARGEST.with(Cell::get);
        assert_eq!(result.is_ok(), cpython, "{input:02x?}");
        assert!(largest < 1024, "{input:02x?}: allocated {largest} bytes");
    }
}
