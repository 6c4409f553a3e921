//! What a running job shows of itself: published by worker 0, read by `bot4 status`.

use std::sync::{Arc, Mutex};

use bot4_schemas::{Decimal, Nanos};
use serde::{Deserialize, Serialize};

/// Where the job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Preparing its inputs and outputs.
    #[default]
    Starting,
    /// The graph is running.
    Running,
    /// The graph has finished its input.
    Finished,
}

/// One symbol's position as last known to the portfolio view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionStatus {
    /// The instrument.
    pub symbol: String,
    /// Signed quantity.
    pub qty: Decimal,
    /// Average entry price.
    pub avg_price: Decimal,
    /// Last mark price.
    pub mark: Decimal,
    /// `|qty| · mark`.
    pub notional: Decimal,
    /// Unrealised PnL at the mark.
    pub unrealized_pnl: Decimal,
    /// Realised PnL, after fees.
    pub realized_pnl: Decimal,
}

/// The job's status. Decimals are exact strings in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Status {
    /// Process id of the job.
    pub pid: u32,
    /// Where the job is in its life.
    pub state: JobState,
    /// The safety controller's mode: `normal`, `pause`, `reduce` or `emergency`.
    pub mode: String,
    /// Event time of the control event that set the mode, if any did.
    pub mode_since: Option<Nanos>,
    /// Which source set it (`admin`, `kill_file`, `drawdown`, …).
    pub mode_source: Option<String>,
    /// The reason given with it.
    pub mode_reason: Option<String>,
    /// Event time the portfolio view has reached.
    pub event_time: Option<Nanos>,
    /// Equity in quote currency.
    pub equity: Option<Decimal>,
    /// Drawdown from the peak, as a fraction.
    pub drawdown: f64,
    /// `Σ |qty| · mark` over every symbol.
    pub gross_exposure: Decimal,
    /// Every symbol with a position or fills.
    pub positions: Vec<PositionStatus>,
    /// Ticks through the graph so far.
    pub ticks: u64,
    /// Orders sent so far.
    pub orders: u64,
    /// Fills so far.
    pub fills: u64,
    /// Orders the venue refused so far.
    pub venue_rejects: u64,
    /// Symbols whose market data is stale.
    pub stale_symbols: Vec<String>,
    /// Control events applied so far.
    pub control_events: u64,
}

/// The status, shared between worker 0 (which writes it) and the admin endpoint (which
/// reads it).
#[derive(Debug, Clone, Default)]
pub struct StatusBoard(Arc<Mutex<Status>>);

impl StatusBoard {
    /// A board for this process, in state `Starting`, mode `normal`.
    pub fn new() -> Self {
        Self(Arc::new(Mutex::new(Status {
            pid: std::process::id(),
            mode: "normal".into(),
            ..Status::default()
        })))
    }

    /// A copy of the current status.
    pub fn snapshot(&self) -> Status {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Change the status in place.
    pub fn update(&self, f: impl FnOnce(&mut Status)) {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
    }
}
