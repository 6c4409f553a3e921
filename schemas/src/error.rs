//! Errors of the schemas crate.

use thiserror::Error;

/// What can go wrong when reading, converting or validating records.
#[derive(Debug, Error)]
pub enum SchemaError {
    /// A column the schema requires is absent.
    #[error("missing column `{column}` for {record}")]
    MissingColumn {
        /// The record type being read.
        record: &'static str,
        /// The missing column's name.
        column: String,
    },
    /// A column exists but its Arrow type cannot hold the field.
    #[error("column `{column}` has type {found}, expected {expected}")]
    ColumnType {
        /// The column's name.
        column: String,
        /// The type that was found.
        found: String,
        /// What the schema accepts.
        expected: &'static str,
    },
    /// A value could not be converted or is out of range.
    #[error("bad value in column `{column}` at row {row}: {reason}")]
    BadValue {
        /// The column's name.
        column: String,
        /// The row within the batch.
        row: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// An instrument registry is malformed or inconsistent.
    #[error("instrument registry: {0}")]
    Registry(String),
    /// Arrow refused to build a batch.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}
