//! Finding a module on a list of directories as importlib's `PathFinder` and `FileFinder` do:
//! in each directory, a regular package (`NAME/__init__.py`, or a sourceless
//! `NAME/__init__.pyc`), then `NAME.py`, then a sourceless `NAME.pyc` (the legacy layout);
//! a directory `NAME` without `__init__` is remembered as a namespace portion, and only when no
//! directory has the module do the portions make a namespace package.

use std::path::{Path, PathBuf};

/// Where a module's code comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Location {
    /// A source file, run from its validated cache in `__pycache__`.
    Source(PathBuf),
    /// A sourceless `.pyc` beside where the source would be.
    Sourceless(PathBuf),
    /// A namespace package: no code, `__path__` spans the portions.
    Namespace(Vec<PathBuf>),
}

/// A module found on the path.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// The file or portions.
    pub location: Location,
    /// For a regular package, its directory (its `__path__`).
    pub package_dir: Option<PathBuf>,
}

impl Found {
    /// The file the module is loaded from (`spec.origin`), None for a namespace package.
    pub fn origin(&self) -> Option<&Path> {
        match &self.location {
            Location::Source(p) | Location::Sourceless(p) => Some(p),
            Location::Namespace(_) => None,
        }
    }

    /// Whether the module is a package (has `__path__`).
    pub fn is_package(&self) -> bool {
        self.package_dir.is_some() || matches!(self.location, Location::Namespace(_))
    }
}

/// Finds the module whose last name component is `leaf` in `dirs` (`sys.path`, or a package's
/// `__path__`). An empty entry means the current directory; entries are made absolute as
/// FileFinder makes them, so `__file__` is absolute.
pub fn find(dirs: &[PathBuf], leaf: &str) -> Option<Found> {
    let mut portions = Vec::new();
    for dir in dirs {
        let dir = if dir.as_os_str().is_empty() || dir == Path::new(".") {
            std::env::current_dir().ok()?
        } else {
            std::path::absolute(dir).unwrap_or_else(|_| dir.clone())
        };
        let base = dir.join(leaf);
        if base.is_dir() {
            for (init, sourceless) in [("__init__.py", false), ("__init__.pyc", true)] {
                let file = base.join(init);
                if file.is_file() {
                    let location = if sourceless {
                        Location::Sourceless(file)
                    } else {
                        Location::Source(file)
                    };
                    return Some(Found {
                        location,
                        package_dir: Some(base),
                    });
                }
            }
            portions.push(base);
        }
        let source = dir.join(format!("{leaf}.py"));
        if source.is_file() {
            return Some(Found {
                location: Location::Source(source),
                package_dir: None,
            });
        }
        let pyc = dir.join(format!("{leaf}.pyc"));
        if pyc.is_file() {
            return Some(Found {
                location: Location::Sourceless(pyc),
                package_dir: None,
            });
        }
    }
    (!portions.is_empty()).then_some(Found {
        location: Location::Namespace(portions),
        package_dir: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"").unwrap();
    }

    #[test]
    fn order_and_namespaces() {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        touch(&a.join("m.py"));
        touch(&a.join("m.pyc"));
        touch(&b.join("p/__init__.pyc"));
        touch(&a.join("ns/x.py"));
        touch(&b.join("ns/y.py"));
        touch(&a.join("later/q.py"));
        touch(&b.join("later.py"));
        let dirs = [a.clone(), b.clone()];
        assert_eq!(
            find(&dirs, "m").unwrap().location,
            Location::Source(a.join("m.py"))
        );
        let p = find(&dirs, "p").unwrap();
        assert_eq!(p.location, Location::Sourceless(b.join("p/__init__.pyc")));
        assert_eq!(p.package_dir, Some(b.join("p")));
        assert_eq!(
            find(&dirs, "ns").unwrap().location,
            Location::Namespace(vec![a.join("ns"), b.join("ns")])
        );
        // A module in a later entry wins over a namespace portion in an earlier one.
        assert_eq!(
            find(&dirs, "later").unwrap().location,
            Location::Source(b.join("later.py"))
        );
        assert!(find(&dirs, "nothing").is_none());
    }
}
