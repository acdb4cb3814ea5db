//! Differential test of the parser: our AST equals CPython 3.12.1's `ast.parse` tree (node
//! kinds, fields, the four positions) on the fixture sources and a sample of the stdlib.

mod common;

use std::path::{Path, PathBuf};

use common::cpython_ast::{
    count_located_nodes, cpython_parse_files, first_difference, run_python, CpythonParse,
};
use pyc_compiler::ast::Mode;

/// The 3.12.1 standard library directory.
fn stdlib_dir() -> PathBuf {
    let out = run_python(
        &[
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ],
        b"",
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn python_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "site-packages") {
                python_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

/// Outcome of comparing one file.
#[derive(Default)]
struct Tally {
    files: usize,
    identical: usize,
    nodes: usize,
    both_rejected: usize,
    rejected_same_line: usize,
    failures: Vec<String>,
}

fn compare(path: &Path, cpython: &CpythonParse, tally: &mut Tally) {
    tally.files += 1;
    let source = std::fs::read(path).unwrap();
    let ours = pyc_compiler::decode::decode(&source)
        .and_then(|text| pyc_compiler::parse::parse_with_warnings(&text, Mode::Module));
    match (&ours, &cpython.result) {
        (Ok(ours), Ok(theirs)) => match first_difference(&ours.module, theirs) {
            None => {
                tally.identical += 1;
                tally.nodes += count_located_nodes(theirs);
                let ours_w: Vec<_> = ours
                    .warnings
                    .iter()
                    .map(|w| (&*w.msg, w.lineno as i64))
                    .collect();
                let theirs_w: Vec<_> = cpython
                    .warnings
                    .iter()
                    .filter(|w| w.category == "SyntaxWarning")
                    .map(|w| (&*w.msg, w.lineno))
                    .collect();
                if ours_w != theirs_w {
                    tally.identical -= 1;
                    tally.failures.push(format!(
                        "{}: warnings differ\n  ours:    {ours_w:?}\n  CPython: {theirs_w:?}",
                        path.display()
                    ));
                }
            }
            Some(diff) => tally.failures.push(format!("{}: {diff}", path.display())),
        },
        (Err(ours), Err(theirs)) => {
            tally.both_rejected += 1;
            if theirs.lineno.unwrap_or(0) == i64::from(ours.lineno) {
                tally.rejected_same_line += 1;
            } else {
                tally.failures.push(format!(
                    "{}: rejected on another line\n  ours:    {ours:?}\n  CPython: {theirs:?}",
                    path.display()
                ));
            }
        }
        (Err(ours), Ok(_)) => tally.failures.push(format!(
            "{}: we reject, CPython accepts: {ours:?}",
            path.display()
        )),
        (Ok(_), Err(theirs)) => tally.failures.push(format!(
            "{}: CPython rejects ({theirs:?}), we accept",
            path.display()
        )),
    }
}

/// CPython's trees for `paths`; with `PYC_AST_CACHE=DIR` set, kept in DIR between runs (the
/// sources are assumed unchanged: for iterating on the parser).
fn cpython_docs(paths: &[PathBuf]) -> Vec<CpythonParse> {
    let Some(dir) = std::env::var_os("PYC_AST_CACHE") else {
        return cpython_parse_files(paths);
    };
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    paths.hash(&mut hasher);
    let file = PathBuf::from(dir).join(format!("{:016x}.jsonl", hasher.finish()));
    if let Ok(text) = std::fs::read_to_string(&file) {
        return text
            .lines()
            .map(common::cpython_ast::result_from_json)
            .collect();
    }
    let script = common::cpython_ast::dump_script();
    let mut args = vec![script.to_str().unwrap().to_string(), "--jsonl".into()];
    args.extend(paths.iter().map(|p| p.to_str().unwrap().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_python(&args, b"");
    assert!(out.status.success());
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, &out.stdout).unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .map(common::cpython_ast::result_from_json)
        .collect()
}

fn run(paths: &[PathBuf]) -> Tally {
    let docs = cpython_docs(paths);
    let mut tally = Tally::default();
    for (path, doc) in paths.iter().zip(&docs) {
        // Deep trees: compare on a big stack.
        std::thread::scope(|s| {
            std::thread::Builder::new()
                .stack_size(256 << 20)
                .spawn_scoped(s, || compare(path, doc, &mut tally))
                .unwrap()
                .join()
                .unwrap();
        });
    }
    tally
}

fn report(tally: &Tally) {
    eprintln!(
        "files identical {}/{} ({} nodes), rejected by both {} (same line {})",
        tally.identical, tally.files, tally.nodes, tally.both_rejected, tally.rejected_same_line
    );
    for failure in tally.failures.iter().take(30) {
        eprintln!("{failure}");
    }
    assert!(
        tally.failures.is_empty(),
        "{} files differ",
        tally.failures.len()
    );
}

#[test]
fn fixture_sources_match_cpython() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/ast/sources");
    let mut paths = Vec::new();
    python_files(&dir, &mut paths);
    assert!(paths.len() >= 3);
    report(&run(&paths));
}

#[test]
fn stdlib_sample_matches_cpython() {
    let mut paths = Vec::new();
    python_files(&stdlib_dir(), &mut paths);
    let sample: Vec<_> = paths.into_iter().step_by(60).collect();
    report(&run(&sample));
}

/// The whole 3.12 standard library (about two minutes): `cargo test --release --test
/// parse_cpython -- --ignored sweep --nocapture`. `PYC_SWEEP_ROOT=DIR` sweeps another tree
/// instead (another version's standard library: still compared with CPython 3.12.1).
#[test]
#[ignore]
fn stdlib_sweep_matches_cpython() {
    let root = std::env::var_os("PYC_SWEEP_ROOT").map_or_else(stdlib_dir, PathBuf::from);
    let mut paths = Vec::new();
    python_files(&root, &mut paths);
    let mut total = Tally::default();
    for chunk in paths.chunks(200) {
        let t = run(chunk);
        total.files += t.files;
        total.identical += t.identical;
        total.nodes += t.nodes;
        total.both_rejected += t.both_rejected;
        total.rejected_same_line += t.rejected_same_line;
        total.failures.extend(t.failures);
    }
    report(&total);
}

/// Decoding and parsing throughput over the whole 3.12 standard library (no CPython involved):
/// `cargo test --release --test parse_cpython -- --ignored throughput --nocapture`.
#[test]
#[ignore]
fn stdlib_parse_throughput() {
    let mut paths = Vec::new();
    python_files(&stdlib_dir(), &mut paths);
    let sources: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let bytes: usize = sources.iter().map(Vec::len).sum();
    let start = std::time::Instant::now();
    let mut accepted = 0;
    for source in &sources {
        let parsed = pyc_compiler::decode::decode(source)
            .and_then(|text| pyc_compiler::parse::parse(&text, Mode::Module, "<bench>"));
        accepted += usize::from(parsed.is_ok());
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "{} files ({accepted} accepted), {:.1} MB in {secs:.2} s: {:.1} MB/s",
        sources.len(),
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / secs
    );
}
