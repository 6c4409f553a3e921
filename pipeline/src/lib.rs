//! The Bot4 timely-dataflow graph, its sources and sinks, and the `bot4` command.

#![deny(unsafe_code)]

pub mod audit;
pub mod bench;
pub mod config;
pub mod control;
pub mod database;
mod error;
pub mod export;
pub mod graph;
pub mod sinks;
pub mod sources;

pub use error::PipelineError;
pub mod generate;
pub mod replay;
pub mod research;
pub mod summary;
