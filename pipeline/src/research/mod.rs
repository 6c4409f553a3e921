//! Research commands: indicators and statistics over files of bars or ticks, outside the
//! trading graph, with the same operators the graph runs.

pub mod garch;
pub mod indicators;
pub mod stats;
