//! Statistics computed from market data: feature vectors and model forecasts.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Nanos, SymbolId};

/// The features of one symbol after one tick. Statistics, so floats; the exact last
/// bid and ask travel with them for the stages that price orders.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FeatureVector {
    /// Event time of the tick that produced it.
    pub ts: Nanos,
    /// `seq` of that tick.
    pub seq: u64,
    /// Instrument.
    pub symbol: SymbolId,
    /// Best bid (exact), zero before the first quote.
    pub bid: Decimal,
    /// Best ask (exact), zero before the first quote.
    pub ask: Decimal,
    /// Mid price.
    pub mid: f64,
    /// Fast exponential moving average of the mid.
    pub ema_fast: f64,
    /// Slow exponential moving average of the mid.
    pub ema_slow: f64,
    /// Log return of the mid since the previous tick.
    pub log_return: f64,
    /// Realised volatility of the mid, annualised.
    pub volatility: f64,
    /// Relative spread `(ask - bid) / mid`.
    pub spread: f64,
    /// Ticks seen so far for the symbol (the features are warm past a threshold).
    pub count: u64,
}

/// A model's forecast for one symbol.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// Event time of the features it came from.
    pub ts: Nanos,
    /// `seq` of the originating tick.
    pub seq: u64,
    /// Instrument.
    pub symbol: SymbolId,
    /// Expected log return over the model's horizon.
    pub expected_return: f64,
    /// Forecast variance of that return.
    pub variance: f64,
    /// The features it was computed from.
    pub features: FeatureVector,
}
