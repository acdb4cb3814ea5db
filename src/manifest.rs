//! Deployment manifests: every source and cache `pyc compile --manifest` saw, with its
//! SHA-256 digest, so `pyc check --manifest` can prove a deployed tree is what was built.
//!
//! Paths are recorded as the walk produced them (relative to the working directory of the
//! `pyc compile` run, unless absolute paths were given) and resolved the same way when
//! checking. Paths that are not UTF-8 are recorded lossily and will be reported missing.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use pyc_compiler::tree::{Digest, Digests};
use pyc_loader::Target;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

/// The format tag written in every manifest.
const FORMAT: &str = "pyc-manifest/1";

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Digest {
    Sha256::digest(data).into()
}

fn hex(digest: &Digest) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a manifest entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Source,
    Cache,
}

/// One file and its digest.
#[derive(Debug)]
pub struct Entry {
    pub path: PathBuf,
    pub kind: Kind,
    /// The digest in lowercase hex.
    pub sha256: String,
}

/// A manifest: the target and the files.
#[derive(Debug)]
pub struct Manifest {
    pub target: String,
    pub entries: Vec<Entry>,
}

/// A file of the manifest that does not match the tree.
#[derive(Debug)]
pub enum Problem {
    Missing(PathBuf),
    Unreadable(PathBuf, io::Error),
    /// The content changed.
    Altered(PathBuf),
    /// The content is that of another file of the manifest.
    Swapped {
        path: PathBuf,
        has: PathBuf,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Problem::Missing(p) => write!(f, "missing  {}", p.display()),
            Problem::Unreadable(p, e) => write!(f, "unreadable {}: {e}", p.display()),
            Problem::Altered(p) => write!(f, "altered  {}: digest differs", p.display()),
            Problem::Swapped { path, has } => write!(
                f,
                "swapped  {}: has the content of {}",
                path.display(),
                has.display()
            ),
        }
    }
}

impl Manifest {
    /// The manifest of a compile run: each source read, then its caches in level order.
    pub fn from_digests(target: Target, sources: &[(PathBuf, Digests)]) -> Manifest {
        let mut entries = Vec::new();
        for (source, digests) in sources {
            entries.push(Entry {
                path: source.clone(),
                kind: Kind::Source,
                sha256: hex(&digests.source),
            });
            for (cache, digest) in &digests.caches {
                entries.push(Entry {
                    path: cache.clone(),
                    kind: Kind::Cache,
                    sha256: hex(digest),
                });
            }
        }
        Manifest {
            target: target.to_string(),
            entries,
        }
    }

    /// Writes the manifest as JSON, atomically.
    pub fn write(&self, path: &Path) -> io::Result<()> {
        let files: Vec<Value> = self
            .entries
            .iter()
            .map(|e| {
                json!({
                    "path": e.path.to_string_lossy(),
                    "kind": match e.kind { Kind::Source => "source", Kind::Cache => "cache" },
                    "sha256": e.sha256,
                })
            })
            .collect();
        let doc = json!({ "format": FORMAT, "target": self.target, "files": files });
        let mut text = serde_json::to_vec_pretty(&doc).map_err(io::Error::other)?;
        text.push(b'\n');
        pyc_compiler::cache_write::write_atomic(path, &text, 0o644)
    }

    /// Reads a manifest written by [`Manifest::write`].
    pub fn read(path: &Path) -> Result<Manifest, String> {
        let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let doc: Value = serde_json::from_slice(&text)
            .map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
        let bad = || format!("{}: not a {FORMAT} manifest", path.display());
        if doc["format"] != FORMAT {
            return Err(bad());
        }
        let target = doc["target"].as_str().ok_or_else(bad)?.to_owned();
        let entries = doc["files"]
            .as_array()
            .ok_or_else(bad)?
            .iter()
            .map(|f| {
                let kind = match f["kind"].as_str() {
                    Some("source") => Kind::Source,
                    Some("cache") => Kind::Cache,
                    _ => return None,
                };
                let sha256 = f["sha256"].as_str().filter(|s| s.len() == 64)?;
                Some(Entry {
                    path: PathBuf::from(f["path"].as_str()?),
                    kind,
                    sha256: sha256.to_owned(),
                })
            })
            .collect::<Option<Vec<Entry>>>()
            .ok_or_else(bad)?;
        Ok(Manifest { target, entries })
    }

    /// Checks every file of the manifest against the tree, in manifest order.
    pub fn verify(&self) -> Vec<Problem> {
        // The first file with each digest (equal caches of several levels share one).
        let mut by_digest: HashMap<&str, &Path> = HashMap::new();
        for e in &self.entries {
            by_digest.entry(e.sha256.as_str()).or_insert(&e.path);
        }
        let mut problems = Vec::new();
        for entry in &self.entries {
            let data = match std::fs::read(&entry.path) {
                Ok(data) => data,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    problems.push(Problem::Missing(entry.path.clone()));
                    continue;
                }
                Err(e) => {
                    problems.push(Problem::Unreadable(entry.path.clone(), e));
                    continue;
                }
            };
            let actual = hex(&sha256(&data));
            if actual == entry.sha256 {
                continue;
            }
            problems.push(match by_digest.get(actual.as_str()) {
                Some(has) => Problem::Swapped {
                    path: entry.path.clone(),
                    has: has.to_path_buf(),
                },
                None => Problem::Altered(entry.path.clone()),
            });
        }
        problems
    }
}
