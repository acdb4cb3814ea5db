//! The whole pipeline against CPython 3.12.1: `compile_source` on each fixture of
//! `fixtures/codegen` must give the code object `compile(src, path, 'exec')` gives, every field
//! of every nested code object.

mod codegen_common;

use std::sync::Arc;

use codegen_common::{code_difference, goldens};
use pyc_compiler::{compile_source, Options};
use pyc_loader::marshal::Object;

#[test]
fn fixtures_compile_to_cpython_code_objects() {
    let all = goldens();
    let mut failures = Vec::new();
    for g in &all {
        match compile_source(&g.source, &g.path, &Options::default()) {
            Err(e) => failures.push(format!("{}: error {e}", g.path)),
            Ok(code) => {
                if let Some(d) = code_difference(&Arc::new(code), &g.code, "") {
                    failures.push(format!("{}: {d}", g.path));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n\n")
    );
}

/// Every `.py` file under `dir`, sorted.
fn python_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir()
            && (!path.ends_with("site-packages") || std::env::var_os("PYC_SWEEP_ROOT").is_some())
        {
            python_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

/// The whole 3.12 standard library against `compile()` (run with `--ignored`; set
/// `PYC_SWEEP_LIMIT=n` for the first n files, `PYC_SWEEP_OPTIMIZE=1` or `2` for `-O`/`-OO`,
/// `PYC_SWEEP_ROOT=dir` for another tree of sources, still compared with CPython 3.12.1,
/// `PYC_SWEEP_MODE=single` or `eval` for the other modes, where files CPython rejects are
/// skipped).
/// Prints the number of identical files and the commonest first differences; fails if any
/// file differs or compiling it panics.
#[test]
#[ignore]
fn stdlib_sweep() {
    use std::collections::BTreeMap;
    use std::io::{BufRead, Read, Write};
    use std::process::{Command, Stdio};

    let lib = match std::env::var_os("PYC_SWEEP_ROOT") {
        Some(root) => std::path::PathBuf::from(root),
        None => std::path::PathBuf::from(std::env::var("HOME").unwrap())
            .join(".pyenv/versions/3.12.1/lib/python3.12"),
    };
    let mut files = Vec::new();
    python_files(&lib, &mut files);
    files.sort();
    if let Some(limit) = std::env::var("PYC_SWEEP_LIMIT")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        files.truncate(limit);
    }
    let script = codegen_common::fixtures().join("compile_stream.py");
    let optimize: u8 = std::env::var("PYC_SWEEP_OPTIMIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mode_name = std::env::var("PYC_SWEEP_MODE").unwrap_or_else(|_| "exec".into());
    let mode = match mode_name.as_str() {
        "single" => pyc_compiler::Mode::Interactive,
        "eval" => pyc_compiler::Mode::Expression,
        _ => pyc_compiler::Mode::Module,
    };
    let options = Options {
        optimize,
        mode,
        ..Options::default()
    };
    let mut child = Command::new("python3")
        .env("PYENV_VERSION", "3.12.1")
        .env("PYTHONHASHSEED", "0")
        .arg(script)
        .arg(optimize.to_string())
        .arg(&mode_name)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 (pyenv 3.12.1)");
    let mut stdin = child.stdin.take().unwrap();
    let list: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
    let writer = std::thread::spawn(move || stdin.write_all(list.as_bytes()).unwrap());
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let (mut total, mut identical, mut panics) = (0, 0, Vec::new());
    let mut reasons: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for file in &files {
        let mut len = [0u8; 4];
        stdout.read_exact(&mut len).unwrap();
        let mut data = vec![0; u32::from_le_bytes(len) as usize];
        stdout.read_exact(&mut data).unwrap();
        if data.is_empty() {
            continue;
        }
        total += 1;
        let Object::Code(want) = pyc_loader::marshal::loads(data.into()).unwrap() else {
            panic!("not a code object")
        };
        let source = std::fs::read(file).unwrap();
        let name = file.display().to_string();
        let outcome = std::panic::catch_unwind(|| compile_source(&source, &name, &options));
        let reason = match outcome {
            Err(_) => {
                panics.push(name.clone());
                "panic".to_string()
            }
            Ok(Err(e)) => format!("error: {}", e.msg),
            Ok(Ok(code)) => match code_difference(&Arc::new(code.clone()), &want, "") {
                None => {
                    identical += 1;
                    continue;
                }
                Some(d) => {
                    if std::env::var("PYC_SWEEP_SHOW").is_ok_and(|s| name.ends_with(&s)) {
                        eprintln!("{name}: {d}");
                        let dump = pyc_loader::marshal::dumps(&Object::Code(Arc::new(code)));
                        if let Ok(bytes) = dump {
                            let _ = std::fs::write("/tmp/pyc_sweep_ours.marshal", bytes);
                        }
                    }
                    let first = d.lines().next().unwrap_or("").to_string();
                    if std::env::var_os("PYC_SWEEP_VERBOSE").is_some() {
                        eprintln!("{name}: {first}");
                    }
                    let field = first.rsplit('.').next().unwrap_or("").trim_end_matches(':');
                    field.to_string()
                }
            },
        };
        let entry = reasons.entry(reason).or_insert((0, name));
        entry.0 += 1;
    }
    writer.join().unwrap();
    let _ = stdout.fill_buf();
    let _ = child.wait();
    eprintln!(
        "stdlib sweep (optimize={optimize}): {identical} / {total} files identical to CPython 3.12.1"
    );
    let mut sorted: Vec<_> = reasons.into_iter().collect();
    sorted.sort_by_key(|entry| std::cmp::Reverse(entry.1 .0));
    for (reason, (count, example)) in sorted.iter().take(40) {
        eprintln!("  {count:5}  {reason}  (e.g. {example})");
    }
    assert!(panics.is_empty(), "compiling panicked on {panics:?}");
    assert_eq!(identical, total, "files differ from CPython's code objects");
}
