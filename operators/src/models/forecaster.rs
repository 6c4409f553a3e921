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
use super::garch::{Distribution, GarchConfig, OnlineGarch};
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
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
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
            // Student-t innovations: crypto returns have fat tails, and the book's VaR
            // and CVaR take theirs from this fit.
            garch: GarchConfig {
                refit_every: 120,
                dist: Distribution::StudentT,
                ..GarchConfig::default()
            },
            refit_work_per_tick: 24,
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

    /// Whether GARCH has been fitted. A fit usually completes between bars: the
    /// forecast's `bar_variance` and `vol_ratio` take it up at the next bar close.
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
            tail_dof: self
                .garch
                .params()
                .and_then(|p| p.nu)
                .unwrap_or(f64::INFINITY),
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_huge_ensemble_half_life_is_no_panic() {
        let config = ForecasterConfig {
            ensemble_half_life: 1e17,
            ..ForecasterConfig::default()
        };
        assert!(Forecaster::new(config).is_ok());
    }

    use bot4_schemas::{Decimal, Nanos, Side, SymbolId, Tick, TickKind, NANOS_PER_SECOND};

    use super::*;
    use crate::features::{FeatureConfig, Features};
    use crate::models::garch::GarchParams;

    /// Quotes per bar: one a second on 60-second bars.
    const QUOTES_PER_BAR: usize = 60;

    /// xorshift64* with Box–Muller: a seeded source of uniforms and Gaussians.
    struct Rng(u64);

    impl Rng {
        fn new(seed: u64) -> Self {
            Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
        }

        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        /// Uniform on `(0, 1)`.
        fn uniform(&mut self) -> f64 {
            ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }

        fn gaussian(&mut self) -> f64 {
            let (u1, u2) = (self.uniform(), self.uniform());
            (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        }
    }

    /// How a bar's log return is drawn, given the bars before it.
    #[derive(Debug, Clone, Copy)]
    enum Law {
        /// GARCH(1,1) on the bar clock: `h ← ω + α R² + β h`, mean 0.
        Garch { omega: f64, alpha: f64, beta: f64 },
        /// AR(1): `R ← φ R_prev + e`, `e ~ N(0, σ²)`.
        Ar { phi: f64, sigma: f64 },
    }

    /// A per-bar GARCH(1,1) with `α = 0.1`, `β = 0.85` and a long-run bar volatility of
    /// 0.1 %.
    const GARCH: Law = Law::Garch {
        omega: 5e-8,
        alpha: 0.1,
        beta: 0.85,
    };

    /// A price in ten-thousandths.
    fn price(p: f64) -> Decimal {
        Decimal::new((p * 1e4).round() as i64, 4)
    }

    /// One symbol's ticks over `bars` 60-second bars: a quote every second whose mid
    /// takes one of the bar's 60 Gaussian log increments (so the bar's return is their
    /// sum, with the mean and variance the law gives that bar), spread 1 bp, random
    /// sizes; after each quote a trade at the bid or ask with probability ½, and always
    /// one after the bar's last quote (so the bar closes at its last mid ± half a spread).
    fn ticks(seed: u64, bars: usize, law: Law) -> Vec<Tick> {
        let mut rng = Rng::new(seed);
        let mut out = Vec::with_capacity(bars * QUOTES_PER_BAR * 3 / 2 + 16);
        let mut seq = 0u64;
        let mut push = |out: &mut Vec<Tick>, ts: Nanos, kind| {
            seq += 1;
            out.push(Tick {
                ts,
                seq,
                symbol: SymbolId(0),
                kind,
            });
        };
        let mut log_mid = 100f64.ln();
        let (mut h, mut prev) = match law {
            Law::Garch { omega, alpha, beta } => (omega / (1.0 - alpha - beta), 0.0),
            Law::Ar { sigma, .. } => (sigma * sigma, 0.0),
        };
        for k in 0..bars {
            let mean = match law {
                Law::Garch { .. } => 0.0,
                Law::Ar { phi, .. } => phi * prev,
            };
            let step_sd = (h / QUOTES_PER_BAR as f64).sqrt();
            let start = log_mid;
            for j in 0..QUOTES_PER_BAR {
                log_mid += mean / QUOTES_PER_BAR as f64 + step_sd * rng.gaussian();
                let mid = log_mid.exp();
                let (bid, ask) = (price(mid * (1.0 - 5e-5)), price(mid * (1.0 + 5e-5)));
                let ts = (60 * k + j) as Nanos * NANOS_PER_SECOND;
                let bid_size = Decimal::from(1 + rng.next_u64() % 9);
                let ask_size = Decimal::from(1 + rng.next_u64() % 9);
                push(
                    &mut out,
                    ts,
                    TickKind::Quote {
                        bid,
                        bid_size,
                        ask,
                        ask_size,
                    },
                );
                if j + 1 == QUOTES_PER_BAR || rng.uniform() < 0.5 {
                    let buy = rng.uniform() < 0.5;
                    push(
                        &mut out,
                        ts + 900_000_000,
                        TickKind::Trade {
                            price: if buy { ask } else { bid },
                            size: Decimal::from(1 + rng.next_u64() % 5),
                            aggressor: if buy { Side::Buy } else { Side::Sell },
                        },
                    );
                }
            }
            let r = log_mid - start;
            prev = r;
            if let Law::Garch { omega, alpha, beta } = law {
                h = omega + alpha * r * r + beta * h;
            }
        }
        out
    }

    /// The features of `ticks`, one vector per tick.
    fn features(ticks: &[Tick]) -> Vec<FeatureVector> {
        let mut f = Features::new(SymbolId(0), FeatureConfig::default());
        ticks.iter().map(|t| f.update(t)).collect()
    }

    fn forecaster() -> Forecaster {
        Forecaster::new(ForecasterConfig::default()).expect("the default config is valid")
    }

    /// The default configuration with normal GARCH innovations, whose refits cost what
    /// the cadence tests below were written for (a Student-t fit has one parameter more
    /// and takes two to three times the work).
    fn normal_config() -> ForecasterConfig {
        let d = ForecasterConfig::default();
        ForecasterConfig {
            garch: GarchConfig {
                dist: Distribution::Normal,
                ..d.garch
            },
            ..d
        }
    }

    /// Every float of a forecast, as bits.
    fn bits(f: &Forecast) -> [u64; 8] {
        [
            f.expected_return.to_bits(),
            f.variance.to_bits(),
            f.bar_variance.to_bits(),
            f.vol_ratio.to_bits(),
            f.scores[0].to_bits(),
            f.scores[1].to_bits(),
            f.scores[2].to_bits(),
            f.scores[3].to_bits(),
        ]
    }

    #[test]
    fn before_the_first_fit_the_variance_is_zero_and_the_regime_neutral() {
        let fv = features(&ticks(1, 400, GARCH));
        let mut model = forecaster();
        let (mut bars, mut first_fit) = (0u64, None);
        let mut last: Option<Forecast> = None;
        for v in &fv {
            let f = model.update(v);
            if let Some(bar) = &v.bar {
                bars = bar.count;
            }
            assert_eq!(f.scores[2], v.trade_imbalance);
            assert_eq!(f.scores[3], v.imbalance);
            assert_eq!(f.variance, f.bar_variance);
            assert_eq!((f.ts, f.seq, f.features), (v.ts, v.seq, *v));
            if bars == 0 {
                assert_eq!(f.expected_return, 0.0);
            }
            if model.is_fitted() {
                first_fit.get_or_insert(bars);
            }
            if first_fit.is_none() {
                assert_eq!((f.bar_variance, f.vol_ratio, f.scores[0]), (0.0, 1.0, 0.0));
            }
            // A fit may land between bars; the forecast takes it up at the next close.
            if v.bar.is_some() {
                assert_eq!(f.bar_variance > 0.0, model.is_fitted(), "at {}", v.seq);
                assert!(f.bar_variance.is_finite() && f.vol_ratio > 0.0);
            }
            // The bar values are held between bars.
            if let (Some(prev), None) = (&last, &v.bar) {
                assert_eq!(f.expected_return.to_bits(), prev.expected_return.to_bits());
                assert_eq!(f.bar_variance.to_bits(), prev.bar_variance.to_bits());
                assert_eq!(f.vol_ratio.to_bits(), prev.vol_ratio.to_bits());
            }
            last = Some(f);
        }
        // 200 returns need 201 bars (the first has none); the refit then takes a few
        // dozen bars of per-tick work.
        let first_fit = first_fit.expect("GARCH fitted within 400 bars");
        assert!(
            (201..=300).contains(&first_fit),
            "first fit at bar {first_fit}"
        );
    }

    #[test]
    fn the_bar_variance_is_the_online_garch_fed_the_bar_returns() {
        let fv = features(&ticks(2, 900, GARCH));
        let config = normal_config();
        let mut model = Forecaster::new(config).expect("a valid config");
        let mut reference = OnlineGarch::new(config.garch).unwrap();
        let (mut variance, mut ratio) = (0.0f64, 1.0f64);
        let mut refits = 0;
        let mut params = None;
        for v in &fv {
            let f = model.update(v);
            reference.advance(config.refit_work_per_tick);
            if let Some(bar) = &v.bar {
                if bar.count > 1 {
                    reference.observe(100.0 * bar.log_return);
                }
                if let Some(p) = reference.params() {
                    let next = reference.variance_forecast(1);
                    variance = next / 1e4;
                    ratio = (next / p.long_run_variance().unwrap()).sqrt();
                }
            }
            if reference.params() != params {
                params = reference.params();
                refits += 1;
            }
            assert_eq!(f.bar_variance.to_bits(), variance.to_bits(), "at {}", v.seq);
            assert_eq!(f.vol_ratio.to_bits(), ratio.to_bits(), "at {}", v.seq);
            let sd = variance.sqrt();
            if sd > 0.0 {
                assert_eq!(f.scores[0], f.expected_return / sd);
            }
        }
        assert_eq!(model.garch.params(), reference.params());
        assert!(refits >= 5, "{refits} fits");
    }

    #[test]
    fn garch_recovers_volatility_clustering_on_the_bar_clock() {
        let fv = features(&ticks(3, 3_000, GARCH));
        let mut model = Forecaster::new(normal_config()).expect("a valid config");
        let mut fits: Vec<GarchParams> = Vec::new();
        for v in &fv {
            let f = model.update(v);
            if let Some(p) = model.garch.params() {
                if fits.last() != Some(&p) {
                    fits.push(p);
                }
            }
            if v.bar.is_some() && model.is_fitted() {
                assert!(f.bar_variance > 0.0 && f.vol_ratio > 0.0, "at {}", v.seq);
            }
        }
        // A refit's work (≈ 250 k recursion points on a full window, at 24 a tick and 64
        // a bar: ≈ 2 200 a bar here) just about matches the 120-bar cadence at this tick
        // rate, so refits run nearly back to back, one every ~115–120 bars.
        assert!((19..=27).contains(&fits.len()), "{} fits", fits.len());
        // From a nearly full window on (the first fits, on 200 to 450 bars, may sit on
        // the boundary α = 0), the fits see the clustering. A window of 500 bars leaves
        // each estimate noisy: the median fit is held tight, three fits in four loosely.
        let full = &fits[4..];
        assert!(full.iter().all(|p| p.alpha + p.beta < 1.0));
        let good = full
            .iter()
            .filter(|p| p.alpha > 0.02 && p.beta > 0.5 && p.alpha + p.beta > 0.8)
            .count();
        assert!(
            good * 4 >= full.len() * 3,
            "{good} of {}: {full:?}",
            full.len()
        );
        let median = |f: fn(&GarchParams) -> f64| {
            let mut v: Vec<f64> = full.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (alpha, beta) = (median(|p| p.alpha), median(|p| p.beta));
        let persistence = median(GarchParams::persistence);
        assert!((0.05..0.16).contains(&alpha), "median α {alpha}");
        assert!((0.7..0.95).contains(&beta), "median β {beta}");
        assert!(
            (0.85..0.99).contains(&persistence),
            "median α + β {persistence}"
        );
    }

    #[test]
    fn the_ar_member_outweighs_the_random_walk_on_autocorrelated_bars() {
        let fv = features(&ticks(
            4,
            2_500,
            Law::Ar {
                phi: 0.3,
                sigma: 1e-3,
            },
        ));
        let mut model = forecaster();
        let (mut scored, mut ar_ahead) = (0, 0);
        for v in &fv {
            model.update(v);
            let Some(bar) = &v.bar else { continue };
            let w = model.ensemble_weights();
            assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{w:?}");
            assert!(w.iter().all(|w| (0.0..=1.0).contains(w)), "{w:?}");
            // The AR is first fitted when its window of 500 fills; give its error
            // average a few half-lives.
            if bar.count > 1_000 {
                scored += 1;
                ar_ahead += usize::from(w[1] > w[0]);
            }
        }
        let phi = model.ar.params()[1];
        assert!(
            (phi - 0.3).abs() < 0.12,
            "AR params {:?}",
            model.ar.params()
        );
        let w = model.ensemble_weights();
        assert!(w[1] > w[0], "{w:?}");
        assert!(ar_ahead * 3 >= scored * 2, "{ar_ahead} of {scored}");
    }

    #[test]
    fn the_same_ticks_give_the_same_bits() {
        let fv = features(&ticks(5, 400, GARCH));
        let (mut a, mut b) = (forecaster(), forecaster());
        for v in &fv {
            assert_eq!(bits(&a.update(v)), bits(&b.update(v)), "at {}", v.seq);
        }
        assert!(a.is_fitted());
    }

    #[test]
    fn invalid_configs_are_errors() {
        let d = ForecasterConfig::default();
        let bad = [
            ForecasterConfig {
                learning_rate: 0.0,
                ..d
            },
            ForecasterConfig {
                learning_rate: f64::NAN,
                ..d
            },
            ForecasterConfig { l2: -1e-3, ..d },
            ForecasterConfig {
                ensemble_half_life: 0.0,
                ..d
            },
            ForecasterConfig {
                ensemble_half_life: f64::INFINITY,
                ..d
            },
            ForecasterConfig {
                garch: GarchConfig {
                    min_obs: 50,
                    ..d.garch
                },
                ..d
            },
            ForecasterConfig {
                garch: GarchConfig {
                    refit_every: 0,
                    ..d.garch
                },
                ..d
            },
            ForecasterConfig {
                ar_refit_every: 0,
                ..d
            },
            ForecasterConfig { ar_window: 4, ..d },
        ];
        for config in bad {
            assert!(
                matches!(Forecaster::new(config), Err(ModelError::InvalidSpec(_))),
                "{config:?}"
            );
        }
        let student = ForecasterConfig {
            garch: GarchConfig {
                dist: Distribution::StudentT,
                ..d.garch
            },
            ..d
        };
        assert!(Forecaster::new(student).is_ok());
    }
}
