//! Trading signals: a direction with a strength and a confidence.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Nanos, SymbolId};

/// A change in what the strategy wants to hold in one symbol.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// Event time of the tick that produced it.
    pub ts: Nanos,
    /// `seq` of that tick.
    pub seq: u64,
    /// Instrument.
    pub symbol: SymbolId,
    /// `+1` long, `-1` short, `0` flat.
    pub direction: i8,
    /// Fraction of the full risk allocation to use, in `[0, 1]`.
    pub strength: f64,
    /// How sure the signal's source is: in `[0, 1]` for the bar combiner; the EMA
    /// crossover reports its forecast's return over standard deviation, a t-like score.
    pub confidence: f64,
    /// Annualised volatility the size should be scaled by.
    pub volatility: f64,
    /// Expected annualised return of holding the signal's direction (signed like a
    /// long position's return), the edge the sizing bets on.
    pub edge: f64,
    /// Best bid when it fired.
    pub bid: Decimal,
    /// Best ask when it fired.
    pub ask: Decimal,
}
