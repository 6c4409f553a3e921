//! The graph's model stage for one symbol: every model of [`crate::models`] fed from
//! the feature stream, combined into one [`Forecast`] per tick.
//!
//! On every tick:
//! - the tick-level [`OneFactorModel`] updates (momentum regression over quotes);
//! - a pending GARCH refit advances by at most [`ForecasterConfig::refit_work_per_tick`]
//!   recursion steps, so a refit is spread over many ticks and never stalls one.
//!
//! When the tick closed a bar (`features.bar`), with `r` the bar's log return:
//! - [`OnlineGarch`] observes `100·r` (percent returns, as `arch` is usually fitted) and
//!   forecasts the next bar's variance;
//! - [`RollingAr`] observes `r` and forecasts the next bar's return;
//! - [`OnlineLogistic`] learns `r > 0` from the inputs of the previous bar and predicts
//!   `p = P(next r > 0)` from this bar's; its return forecast is
//!   `(2p − 1) · σ · √(2/π)` (the mean of a return of scale `σ` whose sign is up with
//!   probability `p`);
//! - the [`Ensemble`] scores the members' previous forecasts against `r` and combines
//!   their new ones. Its members are the random walk (forecast 0), the AR and the
//!   logistic model, so a member that cannot beat "no change" loses its weight.
//!
//! The forecast's `expected_return` and `bar_variance` are the ensemble's and GARCH's
//! next-bar values (held between bars; the variance and `vol_ratio` stay 0 and 1 until
//! GARCH's first fit), and its scores, standardised for the signal
//! combiner, are: `model` = expected / σ, `momentum` = the one-factor model's
//! expected / its standard deviation, `flow` = the trade-sign imbalance, `book` = the
//! top-of-book imbalance.

use bot4_schemas::{FeatureVector, Forecast, BAR_INPUTS, FORECAST_SCORES};

use super::arima::RollingAr;
use super::ensemble::Ensemble;
use super::garch::{GarchConfig, OnlineGarch};
use super::one_factor::{ModelConfig, OneFactorModel};
use super::sgd::OnlineLogistic;
use super::ModelError;
use crate::features::alpha_from_half_life;

/// Inputs of the logistic model: a bar's inputs and the book imbalance at its close.
pub const LOGISTIC_INPUTS: usize = BAR_INPUTS + 1;

/// Members of the ensemble: random walk, AR, logistic.
pub const ENSEMBLE_MEMBERS: usize = 3;

/// Returns are fitted by GARCH in percent.
const GARCH_SCALE: f64 = 100.0;

/// `√(2/π)`: the mean absolute value of a standard normal.
const MEAN_ABS_NORMAL: f64 = 0.797_884_560_802_865_4;

/// Parameters of [`Forecaster`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForecasterConfig {
    /// The tick-level momentum regression.
    pub one_factor: ModelConfig,
    /// GARCH(1,1) on bar returns: window, refit cadence and distribution.
    pub garch: GarchConfig,
    /// GARCH recursion steps a pending refit may take per tick.
    pub refit_work_per_tick: usize,
    /// Order of the rolling AR model of bar returns.
    pub ar_order: usize,
    /// Bars in the AR model's window.
    pub ar_window: usize,
    /// Bars between AR refits.
    pub ar_refit_every: usize,
    /// Initial learning rate of the logistic model.
    pub learning_rate: f64,
    /// L2 penalty of the logistic model.
    pub l2: f64,
    /// Half-life, in bars, of the ensemble's error averages.
    pub ensemble_half_life: f64,
}

impl Default for ForecasterConfig {
    fn default() -> Self {
        Self {
            one_factor: ModelConfig::default(),
            garch: GarchConfig {
                refit_every: 60,
                ..GarchConfig::default()
            },
            refit_work_per_tick: 32,
            ar_order: 3,
            ar_window: 500,
            ar_refit_every: 20,
            learning_rate: 0.05,
            l2: 1e-3,
            ensemble_half_life: 100.0,
        }
    }
}

/// The model stage's state for one symbol.
#[derive(Debug, Clone)]
pub struct Forecaster {
    config: ForecasterConfig,
    one_factor: OneFactorModel,
    garch: OnlineGarch,
    ar: RollingAr,
    logistic: OnlineLogistic<LOGISTIC_INPUTS>,
    ensemble: Ensemble<ENSEMBLE_MEMBERS>,
    /// The logistic inputs of the last warm bar, waiting for their outcome.
    pending: Option<[f64; LOGISTIC_INPUTS]>,
    /// Next-bar values, held between bars.
    expected: f64,
    bar_variance: f64,
    vol_ratio: f64,
}

impl Forecaster {
    /// Untrained models, every buffer allocated; an error for an invalid configuration.
    pub fn new(config: ForecasterConfig) -> Result<Self, ModelError> {
        if !(config.learning_rate.is_finite() && config.learning_rate > 0.0) {
            return Err(ModelError::InvalidSpec(
                "the learning rate must be positive",
            ));
        }
        if !(config.l2.is_finite() && config.l2 >= 0.0) {
            return Err(ModelError::InvalidSpec(
                "the L2 penalty must not be negative",
            ));
        }
        if !(config.ensemble_half_life.is_finite() && config.ensemble_half_life > 0.0) {
            return Err(ModelError::InvalidSpec(
                "the ensemble's half-life must be positive",
            ));
        }
        Ok(Self {
            config,
            one_factor: OneFactorModel::new(config.one_factor),
            garch: OnlineGarch::new(config.garch)?,
            ar: RollingAr::new(
                config.ar_order,
                config.ar_window,
                config.ar_refit_every,
                true,
            )?,
            logistic: OnlineLogistic::new(config.learning_rate, config.l2),
            ensemble: Ensemble::new(alpha_from_half_life(config.ensemble_half_life)),
            pending: None,
            expected: 0.0,
            bar_variance: 0.0,
            vol_ratio: 1.0,
        })
    }

    /// Whether GARCH has been fitted, so the variance and regime are the model's.
    pub fn is_fitted(&self) -> bool {
        self.garch.params().is_some()
    }

    /// The ensemble's current member weights (random walk, AR, logistic).
    pub fn ensemble_weights(&self) -> [f64; ENSEMBLE_MEMBERS] {
        self.ensemble.weights()
    }

    /// Fold in the features after one tick and forecast.
    #[inline]
    pub fn update(&mut self, features: &FeatureVector) -> Forecast {
        let tick = self.one_factor.update(features);
        self.garch.advance(self.config.refit_work_per_tick);
        if let Some(bar) = &features.bar {
            self.on_bar(bar, features.imbalance);
        }
        let sd = self.bar_variance.sqrt();
        let mut scores = [0.0; FORECAST_SCORES];
        scores[0] = if sd > 0.0 { self.expected / sd } else { 0.0 };
        scores[1] = if tick.variance > 0.0 {
            tick.expected_return / tick.variance.sqrt()
        } else {
            0.0
        };
        scores[2] = features.trade_imbalance;
        scores[3] = features.imbalance;
        Forecast {
            ts: features.ts,
            seq: features.seq,
            symbol: features.symbol,
            expected_return: self.expected,
            variance: self.bar_variance,
            bar_variance: self.bar_variance,
            vol_ratio: self.vol_ratio,
            scores,
            features: *features,
        }
    }

    fn on_bar(&mut self, bar: &bot4_schemas::BarFeatures, book_imbalance: f64) {
        // The first bar has no return: there is nothing to learn from it yet.
        if bar.count > 1 {
            let r = bar.log_return;
            self.garch.observe(GARCH_SCALE * r);
            self.ar.observe(r);
            if let Some(x) = self.pending.take() {
                self.logistic.learn(&x, r > 0.0);
            }
            self.ensemble.observe(r);
        }
        let mut x = [0.0; LOGISTIC_INPUTS];
        x[..BAR_INPUTS].copy_from_slice(&bar.inputs);
        x[BAR_INPUTS] = book_imbalance;
        if bar.warm {
            self.pending = Some(x);
        }
        let fitted = self.is_fitted();
        self.bar_variance = if fitted {
            self.garch.variance_forecast(1) / (GARCH_SCALE * GARCH_SCALE)
        } else {
            0.0
        };
        self.vol_ratio = match self.garch.long_run_variance() {
            Some(long_run) if long_run > 0.0 && fitted => {
                (self.garch.variance_forecast(1) / long_run).sqrt()
            }
            _ => 1.0,
        };
        // Before the first fit the logistic member is scaled by the realised volatility.
        let sd = if fitted {
            self.bar_variance.sqrt()
        } else {
            bar.volatility
        };
        let p = if bar.warm {
            self.logistic.predict(&x)
        } else {
            0.5
        };
        let members = [
            0.0,
            self.ar.forecast(),
            (2.0 * p - 1.0) * sd * MEAN_ABS_NORMAL,
        ];
        self.expected = self.ensemble.combine(members);
    }
}
