//! A stable-toolchain fuzzing driver for [`pyc_fuzz::unmarshal`]: mutates seed marshal data
//! (pyc bodies) at random for a given time, checking every mutant.
//!
//! Usage: `mutate SECONDS SEED...` where each seed is a pyc file or a directory searched for
//! them. A mutant that panics is saved under `artifacts/unmarshal/` and ends the run with
//! status 1. `MUTATE_SEED` sets the random seed (default: from the clock; printed).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Seeds larger than this slow the loop down without finding more.
const MAX_SEED_LEN: usize = 64 * 1024;
/// Mutants that still load are kept for further mutation, up to this many.
const MAX_CORPUS: usize = 4096;

/// xorshift64*: enough randomness for mutation, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Marshal type codes, with and without FLAG_REF.
const TYPE_CODES: &[u8] = b"0NFTS.iIfgxylstr([{cu<>aAz)Z";
/// Lengths and values that probe bounds checks.
const INTERESTING: &[i32] = &[
    0,
    1,
    -1,
    2,
    127,
    128,
    255,
    256,
    1999,
    2000,
    2001,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x7FFF_FFFF,
    i32::MIN,
];

fn mutate(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    for _ in 0..=rng.below(4) {
        let len = data.len();
        match rng.below(8) {
            0 if len > 0 => {
                let at = rng.below(len);
                data[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let at = rng.below(len);
                let code = TYPE_CODES[rng.below(TYPE_CODES.len())];
                data[at] = code | if rng.below(2) == 0 { 0x80 } else { 0 };
            }
            2 if len >= 4 => {
                let at = rng.below(len - 3);
                let v = INTERESTING[rng.below(INTERESTING.len())];
                data[at..at + 4].copy_from_slice(&v.to_le_bytes());
            }
            3 if len > 0 => data.truncate(rng.below(len)),
            4 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(16)).min(len);
                data.drain(at..end);
            }
            5 if !other.is_empty() => {
                // Splice a piece of another input in.
                let from = rng.below(other.len());
                let end = (from + 1 + rng.below(64)).min(other.len());
                let at = rng.below(len + 1);
                data.splice(at..at, other[from..end].iter().copied());
            }
            6 => {
                let at = rng.below(len + 1);
                data.insert(at, TYPE_CODES[rng.below(TYPE_CODES.len())]);
            }
            _ if len > 0 => {
                let at = rng.below(len);
                data[at] = rng.next() as u8;
            }
            _ => data.push(rng.next() as u8),
        }
    }
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .map(|e| e.expect("directory entry").path())
            .collect();
        entries.sort();
        for entry in entries {
            collect(&entry, out);
        }
    } else if path.extension().is_some_and(|e| e == "pyc") {
        out.push(path.to_path_buf());
    }
}

fn save_crash(data: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts/unmarshal");
    std::fs::create_dir_all(&dir).expect("artifacts directory");
    let hash = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let path = dir.join(format!("crash-{hash:016x}"));
    std::fs::write(&path, data).expect("artifact written");
    path
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .expect("usage: mutate SECONDS SEED...");
    let mut files = Vec::new();
    for arg in args {
        collect(Path::new(&arg), &mut files);
    }
    let mut corpus: Vec<Vec<u8>> = files
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter(|d| d.len() > 16 && d.len() <= MAX_SEED_LEN)
        .map(|d| d[16..].to_vec())
        .collect();
    assert!(
        !corpus.is_empty(),
        "no seed pycs of at most {MAX_SEED_LEN} bytes"
    );
    let seed = std::env::var("MUTATE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock after 1970")
                .as_nanos() as u64
        })
        | 1;
    eprintln!("mutate: {} seeds, MUTATE_SEED={seed}", corpus.len());
    let mut rng = Rng(seed);
    let start = Instant::now();
    let limit = Duration::from_secs(seconds);
    let mut runs = 0u64;
    while start.elapsed() < limit {
        for _ in 0..256 {
            let mut data = corpus[rng.below(corpus.len())].clone();
            let other = &corpus[rng.below(corpus.len())];
            mutate(&mut rng, &mut data, other);
            runs += 1;
            if catch_unwind(AssertUnwindSafe(|| pyc_fuzz::unmarshal(&data))).is_err() {
                let path = save_crash(&data);
                eprintln!(
                    "mutate: crash after {runs} runs, input saved to {}",
                    path.display()
                );
                std::process::exit(1);
            }
            let loads = pyc_loader::marshal::loads(bytes::Bytes::from(data.clone())).is_ok();
            if loads && corpus.len() < MAX_CORPUS {
                corpus.push(data);
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "mutate: {runs} runs in {secs:.0} s ({:.0}/s), no crash; corpus {}",
        runs as f64 / secs,
        corpus.len()
    );
}
