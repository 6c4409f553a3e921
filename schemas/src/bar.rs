//! OHLCV bars built from trades.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Nanos, SymbolId};

/// Open, high, low, close and volume of one symbol over `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bar {
    /// First nanosecond covered.
    pub start: Nanos,
    /// First nanosecond after the bar.
    pub end: Nanos,
    /// Instrument.
    pub symbol: SymbolId,
    /// First trade price.
    pub open: Decimal,
    /// Highest trade price.
    pub high: Decimal,
    /// Lowest trade price.
    pub low: Decimal,
    /// Last trade price.
    pub close: Decimal,
    /// Traded base volume.
    pub volume: Decimal,
    /// Number of trades.
    pub trades: u64,
}
