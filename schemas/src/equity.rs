//! The portfolio's equity curve.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::Nanos;

/// Portfolio equity at the end of one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EquityPoint {
    /// Last nanosecond of the epoch.
    pub ts: Nanos,
    /// Starting capital plus every symbol's PnL after fees.
    pub equity: Decimal,
    /// Realised PnL before fees.
    pub realized_pnl: Decimal,
    /// Unrealised PnL.
    pub unrealized_pnl: Decimal,
    /// Fees paid.
    pub fees: Decimal,
    /// Gross exposure.
    pub gross_exposure: Decimal,
    /// Highest equity so far.
    pub peak: Decimal,
    /// `(peak - equity) / peak`, a statistic.
    pub drawdown: f64,
}
