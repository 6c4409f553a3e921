//! The book's risk at the end of an epoch: each symbol's and the portfolio's.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Nanos, SymbolId};

/// One symbol's risk, or the whole portfolio's (`symbol` `None`), at the end of an epoch.
///
/// The value at risk and the expected shortfall are for one day at 99%, in quote
/// currency (a loss is positive), from GARCH's volatility with its Student-t tails.
/// They are statistics, so floats; the exposure is exact.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RiskPoint {
    /// Last nanosecond of the epoch.
    pub ts: Nanos,
    /// The symbol; `None` for the portfolio.
    pub symbol: Option<SymbolId>,
    /// Signed notional (the portfolio's: its gross exposure).
    pub exposure: Decimal,
    /// What the position loses if its stop fills at the trigger; its whole notional
    /// without a stop (the portfolio's: the sum, its heat).
    pub risk_at_stop: Decimal,
    /// Standard deviation of one day's profit, in quote currency.
    pub sigma: f64,
    /// Degrees of freedom of the tail used; infinite for normal tails.
    pub dof: f64,
    /// Value at risk, one day, 99%.
    pub var_99: f64,
    /// Expected shortfall beyond it (CVaR), one day, 99%.
    pub cvar_99: f64,
}
