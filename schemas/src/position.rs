//! Positions and their profit and loss.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Nanos, SymbolId};

/// The position in one symbol after the fills up to `ts`, marked at `mark`.
///
/// `cash` is the quote currency that trading the symbol has moved (sells add, buys
/// subtract, fees subtract), so `cash + qty * mark` is the symbol's whole PnL after
/// fees, exactly; the realised/unrealised split uses `avg_price`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Event time of the last change.
    pub ts: Nanos,
    /// Instrument.
    pub symbol: SymbolId,
    /// Signed quantity in base units.
    pub qty: Decimal,
    /// Average entry price of the open quantity.
    pub avg_price: Decimal,
    /// Last mid (or trade) price.
    pub mark: Decimal,
    /// Net quote currency from trading, after fees.
    pub cash: Decimal,
    /// Realised PnL before fees.
    pub realized_pnl: Decimal,
    /// Fees paid.
    pub fees: Decimal,
    /// Number of fills so far.
    pub fills: u64,
}

impl Position {
    /// An empty position.
    pub fn flat(symbol: SymbolId) -> Self {
        Self {
            ts: 0,
            symbol,
            qty: Decimal::ZERO,
            avg_price: Decimal::ZERO,
            mark: Decimal::ZERO,
            cash: Decimal::ZERO,
            realized_pnl: Decimal::ZERO,
            fees: Decimal::ZERO,
            fills: 0,
        }
    }

    /// PnL after fees, realised and unrealised: `cash + qty * mark`.
    pub fn total_pnl(&self) -> Decimal {
        self.cash + self.qty * self.mark
    }

    /// Unrealised PnL of the open quantity against its average entry.
    pub fn unrealized_pnl(&self) -> Decimal {
        self.qty * (self.mark - self.avg_price)
    }

    /// Gross exposure in quote currency.
    pub fn notional(&self) -> Decimal {
        (self.qty * self.mark).abs()
    }
}
