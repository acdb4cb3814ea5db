//! Reads pycs, re-marshals their bodies with our writer and writes header + new body out.
//!
//! Usage: `marshal_roundtrip OUT_DIR [PYC...]` (paths one per line on stdin when none are
//! given). Input number `n` (from 0) is written to `OUT_DIR/n.pyc`. One line per input on
//! stdout: `ok<TAB>n<TAB>path`, or `error<TAB>n<TAB>path<TAB>message` where the message names
//! the byte offset in the file. Exits with status 1 when any input failed.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use pyc_loader::header::{Header, HEADER_LEN};
use pyc_loader::marshal;

/// Re-marshals one pyc; the error text names the file offset of the fault.
fn round_trip(path: &Path) -> Result<Vec<u8>, String> {
    let data = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    Header::parse(&data).map_err(|e| format!("offset 0: {e}"))?;
    let body = Bytes::copy_from_slice(&data[HEADER_LEN..]);
    let obj = marshal::loads(body).map_err(|e| {
        format!(
            "offset {}: bad marshal data: {}",
            e.offset + HEADER_LEN,
            e.kind
        )
    })?;
    let mut out = data[..HEADER_LEN].to_vec();
    out.extend(marshal::dumps(&obj).map_err(|e| e.to_string())?);
    Ok(out)
}

fn main() {
    let mut args = std::env::args_os().skip(1);
    let Some(out_dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: marshal_roundtrip OUT_DIR [PYC...]");
        std::process::exit(2);
    };
    let mut paths: Vec<PathBuf> = args.map(PathBuf::from).collect();
    if paths.is_empty() {
        paths = std::io::stdin()
            .lock()
            .lines()
            .map(|line| line.expect("stdin is text"))
            .filter(|line| !line.is_empty())
            .map(PathBuf::from)
            .collect();
    }
    let stdout = std::io::stdout();
    let mut report = stdout.lock();
    let mut failed = false;
    for (n, path) in paths.iter().enumerate() {
        let shown = path.display();
        let result = round_trip(path).and_then(|bytes| {
            std::fs::write(out_dir.join(format!("{n}.pyc")), bytes)
                .map_err(|e| format!("cannot write output: {e}"))
        });
        match result {
            Ok(()) => writeln!(report, "ok\t{n}\t{shown}"),
            Err(message) => {
                failed = true;
                writeln!(report, "error\t{n}\t{shown}\t{message}")
            }
        }
        .expect("stdout is writable");
    }
    if failed {
        std::process::exit(1);
    }
}
