//! The Bot4 timely-dataflow graph, its sources and sinks, and the `bot4` command.

#![deny(unsafe_code)]

pub mod sources;
