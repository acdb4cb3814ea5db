//! Generated per-target tables (see `fixtures/gen_tables.py`).

pub mod v311;
pub mod v312;
pub mod v313;
