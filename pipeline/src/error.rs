//! Errors of the pipeline crate.

use std::path::PathBuf;

use thiserror::Error;

/// What can stop a run. Every variant names the file, column or argument at fault.
#[derive(Debug, Error)]
pub enum PipelineError {
    /// A file could not be read or written.
    #[error("{}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A Parquet file is unreadable or could not be written.
    #[error("{}", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: parquet::errors::ParquetError,
    },
    /// A file's content does not fit the documented schema.
    #[error("{}", path.display())]
    Schema {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: bot4_schemas::SchemaError,
    },
    /// A record could not be converted for writing.
    #[error("writing {table}")]
    Encode {
        /// The output table.
        table: &'static str,
        /// The cause.
        source: bot4_schemas::SchemaError,
    },
    /// Input that is readable but wrong: unsorted ticks, an unknown column value.
    #[error("{}: {reason}", path.display())]
    Input {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A command-line value or configuration is invalid.
    #[error("{0}")]
    Config(String),
    /// The synthetic market refused its configuration.
    #[error(transparent)]
    Synthetic(#[from] crate::sources::synthetic::SyntheticError),
    /// Another worker of the job failed, so this one committed nothing.
    #[error("another worker of the job failed; nothing was committed")]
    PeerFailed,
    /// The database could not be reached or refused a statement.
    #[error("{context}: {cause}")]
    Database {
        /// What Bot4 was doing.
        context: String,
        /// The cause (shown in the message: sqlx's own chain repeats it).
        cause: sqlx::Error,
    },
    /// The database refused a batch because of one of its rows; nothing of the batch
    /// was written.
    #[error("database: table {table}: row {row} of the batch of epochs {first_epoch}..={last_epoch} was refused: {reason}; the row: {record}")]
    BadRow {
        /// The table.
        table: &'static str,
        /// The row's place in its batch, from 1.
        row: u64,
        /// The batch's first epoch.
        first_epoch: u64,
        /// The batch's last epoch.
        last_epoch: u64,
        /// The database's (or the encoder's) reason.
        reason: String,
        /// The record, as Bot4 holds it.
        record: String,
    },
    /// The migrations could not be applied.
    #[error("migrating the database: {0}")]
    Migration(String),
    /// Timely could not start or a worker failed.
    #[error("dataflow: {0}")]
    Dataflow(String),
}

impl PipelineError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// A Parquet error on `path`.
    pub fn parquet(path: impl Into<PathBuf>, source: parquet::errors::ParquetError) -> Self {
        Self::Parquet {
            path: path.into(),
            source,
        }
    }
}
