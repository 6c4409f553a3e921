//! Where the graph's records go: Parquet part files, one folder per record type.

mod output;
mod parquet;

pub use output::{read_table, table_digest, write_atomic, OutputDir, TABLES};
pub use parquet::{sink_parquet, PartWriter, SinkErrors};
