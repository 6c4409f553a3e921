//! Where ticks come from: files of recorded ticks (Parquet or CSV), the database, the
//! synthetic market, and timed control events.

pub mod control;
pub mod files;
mod merge;
pub mod postgres;
pub mod synthetic;

pub use control::read_control_file;
pub use files::{load_registry, plan_inputs, InputPlan, Unit};
pub use merge::TickSource;

use std::path::PathBuf;
use std::sync::Arc;

use bot4_schemas::{SymbolRegistry, Tick};

use crate::PipelineError;

/// What a replay reads.
#[derive(Debug, Clone)]
pub enum TickInput {
    /// A tick file or a folder of them (Parquet or CSV).
    Files(PathBuf),
    /// A run's ticks stored in the database.
    Database(postgres::DatabaseInput),
}

impl From<PathBuf> for TickInput {
    fn from(path: PathBuf) -> Self {
        Self::Files(path)
    }
}

impl std::fmt::Display for TickInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Files(path) => write!(f, "{}", path.display()),
            Self::Database(input) => write!(
                f,
                "the database's ticks{}",
                input
                    .run
                    .map(|r| format!(" of run {r}"))
                    .unwrap_or_default()
            ),
        }
    }
}

/// Where every worker's ticks come from, resolved before the dataflow starts.
#[derive(Debug, Clone)]
pub enum TickPlan {
    /// Units of files, dealt to workers.
    Files(InputPlan),
    /// Symbols of a stored run, dealt to workers.
    Database(Box<postgres::DatabasePlan>),
}

impl TickPlan {
    /// Ticks in the whole input, where known.
    pub fn total_rows(&self) -> u64 {
        match self {
            Self::Files(plan) => plan.total_rows(),
            Self::Database(plan) => plan.rows(),
        }
    }

    /// Worker `index` of `peers`'s ticks.
    pub fn source(&self, index: usize, peers: usize, registry: Arc<SymbolRegistry>) -> Ticks {
        match self {
            Self::Files(plan) => {
                Ticks::Files(TickSource::new(plan.for_worker(index, peers), registry))
            }
            Self::Database(plan) => Ticks::Database(plan.source(index, peers, registry)),
        }
    }
}

/// One worker's ticks, in `(ts, seq)` order.
#[derive(Debug)]
pub enum Ticks {
    /// From files.
    Files(TickSource),
    /// From the database.
    Database(postgres::DatabaseTicks),
}

impl Ticks {
    /// Append up to `max` further ticks to `out`; returns how many (0 at the end).
    pub fn fill(&mut self, out: &mut Vec<Tick>, max: usize) -> Result<usize, PipelineError> {
        match self {
            Self::Files(source) => source.fill(out, max),
            Self::Database(source) => source.fill(out, max),
        }
    }
}
