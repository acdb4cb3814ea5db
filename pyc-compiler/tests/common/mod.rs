//! Helpers shared by the test binaries (`mod common;`).

pub mod cpython_ast;
