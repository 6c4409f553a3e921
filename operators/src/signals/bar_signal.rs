//! The graph's signal stage for one symbol: the forecast's scores, combined at each bar
//! close by the regime-aware [`SignalCombiner`].
//!
//! Between bars nothing is decided: a [`Signal`] can only come from the tick that closed
//! a bar. On that tick the combiner first learns from the bar's realised return (the
//! outcome of the scores it saw at the previous close), then combines the new scores
//! with the GARCH volatility regime (`vol_ratio`). The inputs are warm once the bar's
//! indicators are and the volatility model has been fitted.
//!
//! The signal's `volatility` is the next bar's GARCH standard deviation annualised,
//! `σ_bar · √(bars per year)`, or the features' tick-level estimate before the first
//! fit.

use bot4_schemas::{Forecast, Nanos, Signal, FORECAST_SCORES, NANOS_PER_SECOND};

use super::combiner::{CombinerConfig, ConfigError, SignalCombiner};
use crate::features::SECONDS_PER_YEAR;

/// Parameters of [`BarSignal`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BarSignalConfig {
    /// The combiner's thresholds, regimes and learning rates.
    pub combiner: CombinerConfig,
    /// Width of the bars, to annualise the bar volatility.
    pub bar_width: Nanos,
}

impl Default for BarSignalConfig {
    /// One-minute bars; the combiner enters at a score of 0.1 (a predicted bar return of
    /// a tenth of its volatility) and holds until the score changes sign, so that a
    /// position is not churned by a score that merely fades.
    fn default() -> Self {
        Self {
            combiner: CombinerConfig {
                entry: 0.1,
                exit: 0.0,
                ..CombinerConfig::default()
            },
            bar_width: 60 * NANOS_PER_SECOND,
        }
    }
}

/// Signal state of one symbol.
#[derive(Debug, Clone)]
pub struct BarSignal {
    combiner: SignalCombiner<FORECAST_SCORES>,
    bars_per_year: f64,
    /// Whether a bar has closed since the start, so the next bar's return is an
    /// outcome of scores the combiner saw.
    seen_bar: bool,
}

impl BarSignal {
    /// Flat and untrained; an error if the combiner's configuration is invalid.
    pub fn new(config: BarSignalConfig) -> Result<Self, ConfigError> {
        let bar_seconds = config.bar_width.max(1) as f64 / NANOS_PER_SECOND as f64;
        Ok(Self {
            combiner: SignalCombiner::new(config.combiner)?,
            bars_per_year: SECONDS_PER_YEAR / bar_seconds,
            seen_bar: false,
        })
    }

    /// The direction last emitted.
    pub fn direction(&self) -> i8 {
        self.combiner.direction()
    }

    /// Fold in a forecast; a signal if it closed a bar and the direction changed.
    #[inline]
    pub fn update(&mut self, forecast: &Forecast) -> Option<Signal> {
        let f = &forecast.features;
        let bar = f.bar.as_ref()?;
        if self.seen_bar && bar.count > 1 {
            self.combiner.observe_outcome(bar.log_return);
        }
        self.seen_bar = true;
        let fitted = forecast.bar_variance > 0.0;
        let warm = bar.warm && fitted;
        let decision = self
            .combiner
            .update(&forecast.scores, forecast.vol_ratio, warm)?;
        let volatility = if fitted {
            (forecast.bar_variance * self.bars_per_year).sqrt()
        } else {
            f.volatility
        };
        Some(Signal {
            ts: forecast.ts,
            seq: forecast.seq,
            symbol: forecast.symbol,
            direction: decision.direction,
            strength: decision.strength,
            confidence: decision.confidence,
            volatility,
            bid: f.bid,
            ask: f.ask,
        })
    }
}
