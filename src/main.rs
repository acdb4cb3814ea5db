//! The `pyc` command line.
fn main() {}
