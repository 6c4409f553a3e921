//! Where ticks come from: files of recorded ticks (Parquet or CSV), the synthetic
//! market, and timed control events.

pub mod control;
pub mod files;
mod merge;
pub mod synthetic;

pub use control::read_control_file;
pub use files::{load_registry, plan_inputs, InputPlan, Unit};
pub use merge::TickSource;
