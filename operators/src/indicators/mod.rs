//! Technical indicators, updated one input at a time.
//!
//! Every indicator here is a small state machine: `update` takes the next input (a price,
//! a [`Candle`], a quote…) and returns the indicator's value once it has seen enough
//! inputs, `None` before. Each update is O(1) (amortised where a window is re-summed to
//! keep rounding from drifting) and allocates nothing: windows are fixed-size rings made
//! when the indicator is. Indicators are statistics, so they work in `f64`; prices and
//! quantities become floats only here, at the edge of the exact world.
//!
//! The conventions follow TA-Lib's, so that `bot4 indicators` agrees with it column by
//! column: the first value comes out at the same input, recursive averages are seeded
//! with the simple average of their first `period` inputs, and Wilder's smoothing is
//! `(prev · (n − 1) + x) / n`. Each file's tests check the incremental value against a
//! from-scratch computation over the whole history; `tests/` checks them against TA-Lib
//! itself through committed fixtures.

pub mod adx;
pub mod atr;
pub mod bollinger;
pub mod cci;
pub mod ema;
pub mod macd;
pub mod microstructure;
pub mod obv;
pub mod returns;
pub mod rsi;
pub mod set;
pub mod sma;
pub mod stochastic;
#[cfg(test)]
pub(crate) mod testing;
pub mod volatility;
pub mod vwap;
pub mod window;
pub mod wma;
pub mod zscore;

use bot4_schemas::{Bar, Nanos};

pub use window::{Ring, RollingExtreme, RollingMoments, RollingSum};

/// An exact decimal as the indicators' float (NaN if it has none, which no price or
/// quantity within the schemas' bounds lacks).
pub(crate) fn to_f64(d: rust_decimal::Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or(f64::NAN)
}

/// One OHLCV bar as the indicators see it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Candle {
    /// Event time (the bar's start, ns).
    pub ts: Nanos,
    /// First price.
    pub open: f64,
    /// Highest price.
    pub high: f64,
    /// Lowest price.
    pub low: f64,
    /// Last price.
    pub close: f64,
    /// Traded volume.
    pub volume: f64,
}

impl Candle {
    /// The candle of an exact bar.
    pub fn from_bar(bar: &Bar) -> Self {
        Self {
            ts: bar.start,
            open: to_f64(bar.open),
            high: to_f64(bar.high),
            low: to_f64(bar.low),
            close: to_f64(bar.close),
            volume: to_f64(bar.volume),
        }
    }

    /// The typical price `(high + low + close) / 3`.
    pub fn typical(&self) -> f64 {
        (self.high + self.low + self.close) / 3.0
    }
}

/// An incremental indicator.
pub trait Indicator {
    /// What it is fed.
    type Input;
    /// What it gives.
    type Output;

    /// Feed the next input; the value, once enough inputs have been seen.
    fn update(&mut self, input: Self::Input) -> Option<Self::Output>;

    /// How many inputs it needs before the first value (TA-Lib's "lookback" + 1).
    fn warmup(&self) -> usize;
}
