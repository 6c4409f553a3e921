//! An EMA-crossover signal, confirmed by the model's forecast.
//!
//! The crossover `x = ema_fast / ema_slow − 1` sets the direction with hysteresis: long
//! above `+band`, short below `−band`, unchanged in between. A forecast that contradicts
//! the direction with a score `E[y] / σ` below `−veto` makes the signal flat. Strength
//! grows with the forecast score. A [`Signal`] is emitted only when the direction
//! changes, so the signal stream is sparse.

use bot4_schemas::{Forecast, Signal};

use crate::models::one_factor::momentum;

/// Parameters of [`EmaCrossover`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignalConfig {
    /// Relative EMA gap that switches direction.
    pub band: f64,
    /// Quotes to see before any signal.
    pub warmup: u64,
    /// Forecast score against the direction that vetoes it.
    pub veto: f64,
}

impl Default for SignalConfig {
    fn default() -> Self {
        Self {
            band: 0.0015,
            warmup: 300,
            veto: 1.0,
        }
    }
}

/// Signal state of one symbol.
#[derive(Debug, Clone)]
pub struct EmaCrossover {
    config: SignalConfig,
    crossover: i8,
    emitted: i8,
}

impl EmaCrossover {
    /// Flat, waiting for warm-up.
    pub fn new(config: SignalConfig) -> Self {
        Self {
            config,
            crossover: 0,
            emitted: 0,
        }
    }

    /// The direction last emitted.
    pub fn direction(&self) -> i8 {
        self.emitted
    }

    /// Fold in a forecast; a signal if the direction changed.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::signals::crossover::{EmaCrossover, SignalConfig};
    /// let s = EmaCrossover::new(SignalConfig::default());
    /// assert_eq!(s.direction(), 0);
    /// ```
    #[inline]
    pub fn update(&mut self, forecast: &Forecast) -> Option<Signal> {
        let f = &forecast.features;
        if f.count < self.config.warmup || f.volatility <= 0.0 {
            return None;
        }
        let x = momentum(f);
        if x > self.config.band {
            self.crossover = 1;
        } else if x < -self.config.band {
            self.crossover = -1;
        }
        let score = if forecast.variance > 0.0 {
            forecast.expected_return / forecast.variance.sqrt()
        } else {
            0.0
        };
        let direction = if f64::from(self.crossover) * score < -self.config.veto {
            0
        } else {
            self.crossover
        };
        if direction == self.emitted {
            return None;
        }
        self.emitted = direction;
        Some(Signal {
            ts: forecast.ts,
            seq: forecast.seq,
            symbol: forecast.symbol,
            direction,
            strength: (0.5 + 0.25 * (score * f64::from(direction)).max(0.0)).min(1.0),
            confidence: score,
            volatility: f.volatility,
            bid: f.bid,
            ask: f.ask,
            // The forecast's return over its standard deviation, as an annual Sharpe
            // ratio, times the annualised volatility.
            edge: score * f.volatility,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bot4_schemas::{Decimal, FeatureVector, SymbolId};

    fn forecast(count: u64, fast: f64, expected: f64) -> Forecast {
        let features = FeatureVector {
            ts: count as i64,
            seq: count,
            symbol: SymbolId(0),
            bid: Decimal::ONE,
            ask: Decimal::TWO,
            mid: 1.5,
            ema_fast: fast,
            ema_slow: 1.0,
            log_return: 0.0,
            volatility: 0.5,
            spread: 0.0,
            count,
            microprice: 1.5,
            imbalance: 0.0,
            trade_imbalance: 0.0,
            bar: None,
        };
        Forecast {
            ts: count as i64,
            seq: count,
            symbol: SymbolId(0),
            expected_return: expected,
            variance: 1.0,
            bar_variance: 1.0,
            vol_ratio: 1.0,
            tail_dof: f64::INFINITY,
            scores: [0.0; bot4_schemas::FORECAST_SCORES],
            features,
        }
    }

    #[test]
    fn crossover_with_hysteresis_and_veto() {
        let config = SignalConfig {
            band: 0.01,
            warmup: 2,
            veto: 1.0,
        };
        let mut s = EmaCrossover::new(config);
        assert!(s.update(&forecast(1, 1.02, 0.0)).is_none(), "warm-up");
        let long = s.update(&forecast(2, 1.02, 0.0)).unwrap();
        assert_eq!(long.direction, 1);
        assert!(
            s.update(&forecast(3, 1.0, 0.0)).is_none(),
            "inside the band"
        );
        assert!(s.update(&forecast(4, 1.005, 0.0)).is_none());
        let flat = s.update(&forecast(5, 1.005, -2.0)).unwrap();
        assert_eq!(flat.direction, 0, "vetoed by the forecast");
        let short = s.update(&forecast(6, 0.98, 0.0)).unwrap();
        assert_eq!(short.direction, -1);
        assert!((0.0..=1.0).contains(&short.strength));
    }
}
