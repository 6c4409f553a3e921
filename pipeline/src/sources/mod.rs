//! Where ticks come from.

pub mod synthetic;
