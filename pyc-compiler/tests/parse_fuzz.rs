//! Mutated sources never panic the decoder or the parser: stdlib files with random edits
//! (quotes, brackets, escapes, invalid UTF-8, cookies, null bytes, ...). About a minute in
//! release: `cargo test --release --test parse_fuzz -- --ignored --nocapture` (`SEED=n`).

mod common;

use std::path::{Path, PathBuf};

use pyc_compiler::ast::Mode;

const PIECES: &[&[u8]] = &[
    b"\"",
    b"'",
    b"\"\"\"",
    b"{",
    b"}",
    b"(",
    b")",
    b"[",
    b"]",
    b"\\",
    b"\n",
    b"\t",
    b"\r",
    b" ",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"f\"",
    b"rb'",
    b"\\N{",
    b"\\x",
    b"\\u",
    b"#",
    b":",
    b"=",
    b"!r",
    b"0x",
    b"1_",
    b"lambda",
    b"if ",
    b"*",
    b"**",
    b"@",
    b";",
    b"\x0c",
    b"\\\n",
    b"\xef\xbb\xbf",
    b"# coding: latin-1\n",
    b"\0",
    b"\xed\xa0\x80",
];

fn python_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            python_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

#[test]
#[ignore]
fn mutated_stdlib_sources_do_not_panic() {
    let out = common::cpython_ast::run_python(
        &[
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ],
        b"",
    );
    let mut files = Vec::new();
    python_files(
        Path::new(String::from_utf8(out.stdout).unwrap().trim()),
        &mut files,
    );
    let mut seed: u64 = std::env::var("SEED").map_or(1, |s| s.parse().unwrap());
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut panics = Vec::new();
    let mut runs = 0;
    for file in files.iter().step_by(7) {
        let original = std::fs::read(file).unwrap();
        for _ in 0..30 {
            let mut source = original.clone();
            for _ in 0..1 + random() % 4 {
                if source.is_empty() {
                    break;
                }
                let at = random() as usize % source.len();
                let piece = PIECES[random() as usize % PIECES.len()];
                match random() % 3 {
                    0 => {
                        source.remove(at);
                    }
                    1 => {
                        source.splice(at..at, piece.iter().copied());
                    }
                    _ => {
                        let end = (at + piece.len()).min(source.len());
                        source.splice(at..end, piece.iter().copied());
                    }
                }
            }
            runs += 1;
            let outcome = std::panic::catch_unwind(|| {
                let _ = pyc_compiler::decode::decode(&source)
                    .and_then(|text| pyc_compiler::parse::parse_with_warnings(&text, Mode::Module));
            });
            if outcome.is_err() {
                panics.push(String::from_utf8_lossy(&source).into_owned());
            }
        }
    }
    eprintln!("{runs} mutated sources, {} panics", panics.len());
    assert!(panics.is_empty(), "first: {:?}", panics[0]);
}
