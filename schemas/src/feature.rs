//! Statistics computed from market data: feature vectors and model forecasts.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Bar, Nanos, SymbolId};

/// Number of model inputs a closed bar carries ([`BarFeatures::inputs`]).
pub const BAR_INPUTS: usize = 8;

/// Names of [`BarFeatures::inputs`], in order; their Arrow columns are `input_<name>`.
pub const BAR_INPUT_NAMES: [&str; BAR_INPUTS] = [
    "rsi",
    "macd",
    "zscore",
    "stoch",
    "cci",
    "di_spread",
    "return_over_vol",
    "trade_imbalance",
];

/// What one completed time bar says: the bar itself (exact), its return, and the
/// scale-free indicator values the models read. Statistics, so floats.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BarFeatures {
    /// The bar, in exact decimals.
    pub bar: Bar,
    /// `ln(close / previous close)`; 0 for the symbol's first bar.
    pub log_return: f64,
    /// Realised volatility of one bar's return over the last 20 bars (not annualised);
    /// 0 until 21 bars have closed.
    pub volatility: f64,
    /// Bars closed so far for the symbol, this one included.
    pub count: u64,
    /// Whether every input is past its indicator's warm-up (before that they are 0).
    pub warm: bool,
    /// Model inputs, named by [`BAR_INPUT_NAMES`], each of order one.
    pub inputs: [f64; BAR_INPUTS],
}

/// Number of scores a forecast hands the signal combiner ([`Forecast::scores`]).
pub const FORECAST_SCORES: usize = 4;

/// Names of [`Forecast::scores`], in order; their Arrow columns are `score_<name>`.
pub const FORECAST_SCORE_NAMES: [&str; FORECAST_SCORES] = ["model", "momentum", "flow", "book"];

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
    /// Quotes seen so far for the symbol (the features are warm past a threshold).
    pub count: u64,
    /// Size-weighted mid `(bid · ask_size + ask · bid_size) / (bid_size + ask_size)`.
    pub microprice: f64,
    /// Top-of-book imbalance `(bid_size − ask_size) / (bid_size + ask_size)`, in `[−1, 1]`.
    pub imbalance: f64,
    /// Signed-volume imbalance of the recent trades, in `[−1, 1]`.
    pub trade_imbalance: f64,
    /// The bar this tick completed, if it completed one.
    pub bar: Option<BarFeatures>,
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
    /// GARCH forecast of the variance of the next bar's log return (0 before the first
    /// fit).
    pub bar_variance: f64,
    /// The GARCH one-step volatility over its long-run level (1 before the first fit):
    /// the volatility regime.
    pub vol_ratio: f64,
    /// Degrees of freedom of GARCH's Student-t innovations; infinite for normal ones
    /// (and before the first fit).
    pub tail_dof: f64,
    /// The standardised scores the signal combines, named by [`FORECAST_SCORE_NAMES`].
    pub scores: [f64; FORECAST_SCORES],
    /// The features it was computed from.
    pub features: FeatureVector,
}
