//! A one-factor forecast of the return over the next `horizon` quotes.
//!
//! The factor is momentum, `x = ema_fast / ema_slow − 1`. The model regresses the
//! realised log return over the following `horizon` quotes on the factor observed
//! `horizon` quotes earlier, with exponentially decaying weights:
//! `β = Σ λ^k x_{t−h} y_t / Σ λ^k x²_{t−h}`, and forecasts `E[y] = β x_now` with the
//! variance of the regression's residuals. Only information available at the tick is
//! used: a factor value enters the regression once its outcome is known.

use bot4_schemas::FeatureVector;

/// What a model expects of the return over its horizon.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Prediction {
    /// Expected log return.
    pub expected_return: f64,
    /// Variance of that return around the expectation.
    pub variance: f64,
}

/// Parameters of [`OneFactorModel`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ModelConfig {
    /// Forecast horizon, in quotes.
    pub horizon: usize,
    /// Half-life of the regression weights, in quotes.
    pub half_life: f64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            horizon: 50,
            half_life: 2_000.0,
        }
    }
}

/// Online one-factor regression for one symbol.
#[derive(Debug, Clone)]
pub struct OneFactorModel {
    horizon: usize,
    decay: f64,
    /// `(factor, ln mid)` of the last `horizon` quotes, a ring indexed by quote count.
    history: Vec<(f64, f64)>,
    quotes: u64,
    last_count: u64,
    sxy: f64,
    sxx: f64,
    see: f64,
    sw: f64,
}

impl OneFactorModel {
    /// An untrained model.
    pub fn new(config: ModelConfig) -> Self {
        let horizon = config.horizon.max(1);
        Self {
            horizon,
            decay: 1.0 - crate::features::alpha_from_half_life(config.half_life),
            history: vec![(0.0, 0.0); horizon],
            quotes: 0,
            last_count: 0,
            sxy: 0.0,
            sxx: 0.0,
            see: 0.0,
            sw: 0.0,
        }
    }

    /// The regression slope so far.
    pub fn beta(&self) -> f64 {
        if self.sxx > 0.0 {
            self.sxy / self.sxx
        } else {
            0.0
        }
    }

    /// Fold in the features after one tick and forecast.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::models::one_factor::{ModelConfig, OneFactorModel};
    /// let model = OneFactorModel::new(ModelConfig::default());
    /// assert_eq!(model.beta(), 0.0);
    /// ```
    #[inline]
    pub fn update(&mut self, features: &FeatureVector) -> Prediction {
        let factor = momentum(features);
        // Only a new quote advances the model's clock.
        if features.count > self.last_count && features.mid > 0.0 {
            self.last_count = features.count;
            let log_mid = features.mid.ln();
            let slot = (self.quotes % self.horizon as u64) as usize;
            if self.quotes >= self.horizon as u64 {
                let (x_old, log_mid_old) = self.history[slot];
                let y = log_mid - log_mid_old;
                let residual = y - self.beta() * x_old;
                self.sxy = self.decay * self.sxy + x_old * y;
                self.sxx = self.decay * self.sxx + x_old * x_old;
                self.see = self.decay * self.see + residual * residual;
                self.sw = self.decay * self.sw + 1.0;
            }
            self.history[slot] = (factor, log_mid);
            self.quotes += 1;
        }
        let variance = if self.sw > 0.0 {
            self.see / self.sw
        } else {
            0.0
        };
        Prediction {
            expected_return: self.beta() * factor,
            variance,
        }
    }
}

/// The momentum factor of a feature vector.
#[inline]
pub fn momentum(features: &FeatureVector) -> f64 {
    if features.ema_slow > 0.0 {
        features.ema_fast / features.ema_slow - 1.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bot4_schemas::{Decimal, SymbolId};

    fn features(count: u64, mid: f64, fast: f64, slow: f64) -> FeatureVector {
        FeatureVector {
            ts: count as i64,
            seq: count,
            symbol: SymbolId(0),
            bid: Decimal::ZERO,
            ask: Decimal::ZERO,
            mid,
            ema_fast: fast,
            ema_slow: slow,
            log_return: 0.0,
            volatility: 0.0,
            spread: 0.0,
            count,
            microprice: mid,
            imbalance: 0.0,
            trade_imbalance: 0.0,
            bar: None,
        }
    }

    /// When returns over the horizon are exactly `k` times the lagged factor, the model
    /// learns `β = k` and forecasts `k x`.
    #[test]
    fn learns_a_linear_relation() {
        let config = ModelConfig {
            horizon: 5,
            half_life: 20.0,
        };
        let mut model = OneFactorModel::new(config);
        let k = 0.5;
        let mut log_mids = vec![0.0f64; 5];
        let mut factors = Vec::new();
        let mut last = None;
        for i in 0..400u64 {
            let x = ((i * 7919) % 13) as f64 / 1000.0 - 0.006;
            let lm = if i >= 5 {
                log_mids[(i - 5) as usize] + k * factors[(i - 5) as usize]
            } else {
                0.0
            };
            if i >= 5 {
                log_mids.push(lm);
            } else {
                log_mids[i as usize] = 0.0;
            }
            factors.push(x);
            last = Some(model.update(&features(i + 1, lm.exp(), 1.0 + x, 1.0)));
        }
        assert!((model.beta() - k).abs() < 1e-9, "beta {}", model.beta());
        let f = last.unwrap();
        assert!((f.expected_return - k * factors[399]).abs() < 1e-9);
        // Only the first residual, made before β was known, is non-zero, and it decays.
        assert!(f.variance < 1e-10, "variance {}", f.variance);
    }

    #[test]
    fn trades_do_not_advance_the_clock() {
        let mut model = OneFactorModel::new(ModelConfig {
            horizon: 2,
            half_life: 10.0,
        });
        model.update(&features(1, 100.0, 100.0, 100.0));
        model.update(&features(1, 100.0, 100.0, 100.0));
        assert_eq!(model.quotes, 1);
    }
}
