//! StarModel's SQL store (being written).

pub mod ddl;
mod dialect;

pub use dialect::{ColumnKind, Dialect, column_type};
