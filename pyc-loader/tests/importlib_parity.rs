//! Source hashes, headers and PEP 3147 paths against each reference interpreter's importlib
//! and py_compile.

mod common;

use std::path::Path;

use pyc_loader::header::{Header, Invalidation};
use pyc_loader::load::SourceStamp;
use pyc_loader::{cache_from_source, source_from_cache, source_hash, OptLevel, Target};

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `script` under the target's interpreter; its stdout lines.
fn python_lines(target: Target, script: &str, args: &[&str], stdin: &[u8]) -> Vec<String> {
    let mut all = vec!["-c", script];
    all.extend(args);
    let out = common::python(target, &all, stdin);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn source_hash_matches_importlib() {
    let mut large = Vec::with_capacity(1 << 20);
    let mut x = 1u32;
    while large.len() < 1 << 20 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        large.push((x >> 16) as u8);
    }
    let inputs: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"print('hello')\n".to_vec(),
        (0..=255).collect(),
        b"x".repeat(7),
        b"\xef\xbb\xbf# coding: utf-8\r\n\xc3\xa9 = 1\r\n".to_vec(),
        large,
    ];
    let stdin: String = inputs.iter().map(|d| hex(d) + "\n").collect();
    let script = "import sys, importlib.util\n\
        for line in sys.stdin:\n\
        \x20   print(importlib.util.source_hash(bytes.fromhex(line.strip())).hex())\n";
    for target in Target::ALL {
        let expected = python_lines(target, script, &[], stdin.as_bytes());
        for (input, want) in inputs.iter().zip(&expected) {
            assert_eq!(
                &hex(&source_hash(target, input)),
                want,
                "{target}, {} bytes",
                input.len()
            );
        }
    }
}

#[test]
fn headers_match_py_compile() {
    let dir = tempfile::tempdir().unwrap();
    let sources = [
        // (name, text, mtime given to os.utime: fractional, and beyond 32 bits)
        ("plain.py", "x = 1\n", "1700000000.75"),
        ("late.py", "def f():\n    return 2\n", "5000000000.5"),
        ("empty.py", "", "0"),
    ];
    let script = "import os, sys, py_compile\n\
        src, mtime = sys.argv[1], float(sys.argv[2])\n\
        os.utime(src, (mtime, mtime))\n\
        for mode in py_compile.PycInvalidationMode:\n\
        \x20   out = src + '.' + mode.name + '.pyc'\n\
        \x20   py_compile.compile(src, cfile=out, doraise=True, invalidation_mode=mode)\n\
        \x20   print(mode.name, open(out, 'rb').read(16).hex())\n";
    for target in Target::ALL {
        for (name, text, mtime) in sources {
            let src = dir.path().join(format!("{target}-{name}"));
            std::fs::write(&src, text).unwrap();
            let lines = python_lines(target, script, &[src.to_str().unwrap(), mtime], b"");
            assert_eq!(lines.len(), 3, "{lines:?}");
            let stamp = SourceStamp::from_metadata(&std::fs::metadata(&src).unwrap());
            let hash = source_hash(target, text.as_bytes());
            for line in lines {
                let (mode, cpython) = line.split_once(' ').unwrap();
                let invalidation = match mode {
                    "TIMESTAMP" => Invalidation::Timestamp {
                        mtime: stamp.mtime,
                        size: stamp.size,
                    },
                    "CHECKED_HASH" => Invalidation::Hash {
                        check_source: true,
                        hash,
                    },
                    "UNCHECKED_HASH" => Invalidation::Hash {
                        check_source: false,
                        hash,
                    },
                    other => panic!("unknown mode {other}"),
                };
                let ours = Header::new(target, invalidation);
                assert_eq!(hex(&ours.to_bytes()), cpython, "{target} {name} {mode}");
                let bytes: Vec<u8> = (0..16)
                    .map(|i| u8::from_str_radix(&cpython[2 * i..2 * i + 2], 16).unwrap())
                    .collect();
                assert_eq!(Header::parse_for(&bytes, target), Ok(ours));
            }
        }
    }
}

const SOURCES: &[&str] = &[
    "foo.py",
    "a/b/foo.py",
    "/abs/dir/mod.py",
    "foo.bar.py",
    "a.b/c.py",
    "a.b/c",
    ".hidden",
    ".hidden.py",
    "a/.b.c.py",
    "noext",
    "x.pyw",
    "trailing.",
    "__pycache__/x.py",
    "dir/__init__.py",
];

const CACHES: &[&str] = &[
    "a/__pycache__/foo.cpython-312.pyc",
    "__pycache__/foo.cpython-311.opt-1.pyc",
    "/abs/__pycache__/foo.cpython-313.opt-2.pyc",
    "__pycache__/foo.cpython-312.opt-7.pyc",
    "__pycache__/foo.cpython-312.opt-1a.pyc",
    "__pycache__/foo.cpython-312.opt-.pyc",
    "__pycache__/foo.cpython-312.opt-x_y.pyc",
    "__pycache__/foo.cpython-312.x-1.pyc",
    "__pycache__/foo.pyc",
    "__pycache__/a.b.c.d.pyc",
    "__pycache__/.cpython-312.pyc",
    "__pycache__/foo.cpython-312.py",
    "a/foo.cpython-312.pyc",
    "foo.cpython-312.pyc",
    "x/__pycache__/__pycache__/m.cpython-312.pyc",
];

#[test]
fn cache_paths_match_importlib() {
    let script = "import sys, importlib.util as u\n\
        n = int(sys.argv[1])\n\
        for p in sys.argv[2:2 + n]:\n\
        \x20   for opt in ('', 1, 2):\n\
        \x20       print(u.cache_from_source(p, optimization=opt))\n\
        for p in sys.argv[2 + n:]:\n\
        \x20   try:\n\
        \x20       print(u.source_from_cache(p))\n\
        \x20   except ValueError:\n\
        \x20       print('None')\n";
    let count = SOURCES.len().to_string();
    let mut args = vec![count.as_str()];
    args.extend(SOURCES);
    args.extend(CACHES);
    for target in Target::ALL {
        let lines = python_lines(target, script, &args, b"");
        let mut expected = lines.iter();
        for source in SOURCES {
            for opt in OptLevel::ALL {
                let ours = cache_from_source(Path::new(source), target, opt);
                let want = expected.next().unwrap();
                assert_eq!(&ours.to_string_lossy(), want, "{target} {source} {opt:?}");
            }
        }
        for cache in CACHES {
            let ours = source_from_cache(Path::new(cache))
                .map_or("None".to_string(), |p| p.to_string_lossy().into_owned());
            assert_eq!(&ours, expected.next().unwrap(), "{target} {cache}");
        }
    }
}
