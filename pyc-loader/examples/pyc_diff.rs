//! Compares two trees of pycs compiled from the same sources (`make parity`):
//!
//!     pyc_diff REFERENCE_ROOT CANDIDATE_ROOT
//!
//! For every pyc under REFERENCE_ROOT, prints one line to stdout:
//! `identical PATH`, `same-code PATH` (equal in every field, different marshal bytes),
//! `differs PATH FIELD-PATH: A != B`, `missing PATH` or `unreadable PATH ERROR`; then pycs
//! only the candidate has as `extra PATH`. Exit status 0.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pyc_loader::code_diff::first_difference;
use pyc_loader::load::PycFile;

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [reference, candidate] = &args[..] else {
        eprintln!("usage: pyc_diff REFERENCE_ROOT CANDIDATE_ROOT");
        std::process::exit(2);
    };
    let ours = pycs(candidate);
    let theirs = pycs(reference);
    for rel in &theirs {
        let (a, b) = (reference.join(rel), candidate.join(rel));
        let rel = rel.display();
        if !ours.contains(Path::new(&rel.to_string())) {
            println!("missing {rel}");
            continue;
        }
        match (PycFile::load(&a), PycFile::load(&b)) {
            (Ok((_, x)), Ok((_, y))) => match first_difference(&x, &y) {
                None => {
                    let same_bytes = match (PycFile::open(&a), PycFile::open(&b)) {
                        (Ok(p), Ok(q)) => p.data.get(16..) == q.data.get(16..),
                        _ => false,
                    };
                    let word = if same_bytes { "identical" } else { "same-code" };
                    println!("{word} {rel}");
                }
                Some(diff) => println!("differs {rel} {}", one_line(&diff)),
            },
            (Err(e), _) | (_, Err(e)) => println!("unreadable {rel} {}", one_line(&e.to_string())),
        }
    }
    for rel in ours.difference(&theirs) {
        println!("extra {}", rel.display());
    }
}

/// Relative paths of every pyc in a `__pycache__` directory under `root`.
fn pycs(root: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "pyc") {
                out.insert(path.strip_prefix(root).expect("under root").to_owned());
            }
        }
    }
    out
}

/// Long values cut to keep one line per file readable.
fn one_line(text: &str) -> String {
    let flat = text.replace('\n', "\\n");
    if flat.chars().count() > 300 {
        flat.chars().take(300).collect::<String>() + "..."
    } else {
        flat
    }
}
