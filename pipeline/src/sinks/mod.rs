//! Where the graph's records go: Parquet part files, one folder per record type, and,
//! when a database is configured, its tables.

mod output;
mod parquet;
pub mod postgres;

pub use output::{for_each_batch, read_table, table_digest, write_atomic, OutputDir, TABLES};
pub(crate) use parquet::open as open_parquet_file;
pub use parquet::{sink_parquet, PartWriter, SinkErrors};
