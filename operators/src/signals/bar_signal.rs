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
//! `σ_bar · √(bars per year)` (there is no signal before GARCH's first fit), and its
//! `confidence` the combiner's, in `[0, 1]`.

use bot4_schemas::{Forecast, Nanos, Signal, FORECAST_SCORES, NANOS_PER_SECOND};

use super::combiner::{CombinerConfig, ConfigError, SignalCombiner};
use crate::features::SECONDS_PER_YEAR;

/// Parameters of [`BarSignal`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
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
}

impl BarSignal {
    /// Flat and untrained; an error if the combiner's configuration is invalid.
    pub fn new(config: BarSignalConfig) -> Result<Self, ConfigError> {
        let bar_seconds = config.bar_width.max(1) as f64 / NANOS_PER_SECOND as f64;
        Ok(Self {
            combiner: SignalCombiner::new(config.combiner)?,
            bars_per_year: SECONDS_PER_YEAR / bar_seconds,
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
        // The first bar has no return; every later one is the outcome of the scores the
        // combiner saw at the previous close (it ignores an outcome with no scores).
        if bar.count > 1 {
            self.combiner.observe_outcome(bar.log_return);
        }
        let fitted = forecast.bar_variance > 0.0;
        let warm = bar.warm && fitted;
        let decision = self
            .combiner
            .update(&forecast.scores, forecast.vol_ratio, warm)?;
        // A decision needs warm inputs, so GARCH has been fitted.
        let volatility = (forecast.bar_variance * self.bars_per_year).sqrt();
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
            // The combined score is E[r | x] / σ_bar: the next bar's expected return,
            // annualised as if it held for every bar of a year.
            edge: decision.score * forecast.bar_variance.sqrt() * self.bars_per_year,
        })
    }
}

#[cfg(test)]
mod tests {
    use bot4_schemas::{Bar, BarFeatures, Decimal, FeatureVector, SymbolId, BAR_INPUTS};

    use super::*;

    /// Bars in a year of one-minute bars.
    const MINUTE_BARS_PER_YEAR: f64 = 365.0 * 86_400.0 / 60.0;

    /// A uniform stream on `[0, 1)` (xorshift64*).
    struct Rng(u64);

    impl Rng {
        fn uniform(&mut self) -> f64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
        }

        /// `±1` with equal odds.
        fn sign(&mut self) -> f64 {
            if self.uniform() < 0.5 {
                -1.0
            } else {
                1.0
            }
        }
    }

    /// The features of tick `seq` (one a second), closing bar `count` with `log_return`
    /// if given.
    fn features(seq: u64, bar: Option<(u64, f64)>, warm: bool) -> FeatureVector {
        let ts = seq as Nanos * NANOS_PER_SECOND;
        let (bid, ask) = (Decimal::new(99_995, 3), Decimal::new(100_005, 3));
        let bar = bar.map(|(count, log_return)| BarFeatures {
            bar: Bar {
                start: ts - 60 * NANOS_PER_SECOND,
                end: ts,
                symbol: SymbolId(3),
                open: bid,
                high: ask,
                low: bid,
                close: ask,
                volume: Decimal::ONE,
                trades: 1,
            },
            log_return,
            volatility: 1e-3,
            count,
            warm,
            inputs: [0.0; BAR_INPUTS],
        });
        FeatureVector {
            ts,
            seq,
            symbol: SymbolId(3),
            bid,
            ask,
            mid: 100.0,
            ema_fast: 100.0,
            ema_slow: 100.0,
            log_return: 0.0,
            volatility: 0.25,
            spread: 1e-4,
            count: seq,
            microprice: 100.0,
            imbalance: 0.0,
            trade_imbalance: 0.0,
            bar,
        }
    }

    fn forecast(
        features: FeatureVector,
        scores: [f64; FORECAST_SCORES],
        bar_variance: f64,
    ) -> Forecast {
        Forecast {
            ts: features.ts,
            seq: features.seq,
            symbol: features.symbol,
            expected_return: 0.0,
            variance: bar_variance,
            bar_variance,
            vol_ratio: 1.0,
            tail_dof: f64::INFINITY,
            scores,
            features,
        }
    }

    /// Bars whose `model` score's sign is the sign of the next bar's return (its size
    /// `0.5…1.5`), the other three scores uniform noise on `[−1, 1)`.
    struct Oracle {
        rng: Rng,
        seq: u64,
        bars: u64,
        /// The sign the last bar's score called for the next return.
        called: f64,
    }

    impl Oracle {
        fn new(seed: u64) -> Self {
            Self {
                rng: Rng(seed | 1),
                seq: 0,
                bars: 0,
                called: 0.0,
            }
        }

        /// The next bar's closing forecast, with `warm` and `bar_variance` as given.
        fn bar(&mut self, warm: bool, bar_variance: f64) -> Forecast {
            self.seq += 60;
            self.bars += 1;
            let r = if self.bars == 1 {
                0.0
            } else {
                self.called * (0.1 + self.rng.uniform()) * 1e-3
            };
            let model = self.rng.sign() * (0.5 + self.rng.uniform());
            self.called = model.signum();
            let noise = [(); 3].map(|()| 2.0 * self.rng.uniform() - 1.0);
            let scores = [model, noise[0], noise[1], noise[2]];
            forecast(
                features(self.seq, Some((self.bars, r)), warm),
                scores,
                bar_variance,
            )
        }

        /// A tick between bars with strong scores of the given sign.
        fn between(&mut self, sign: f64) -> Forecast {
            self.seq += 1;
            forecast(
                features(self.seq, None, true),
                [sign * 5.0; FORECAST_SCORES],
                1e-6,
            )
        }
    }

    fn bar_signal() -> BarSignal {
        BarSignal::new(BarSignalConfig::default()).expect("the default config is valid")
    }

    #[test]
    fn a_perfect_model_score_is_followed_at_bar_closes() {
        let mut signal = bar_signal();
        let mut oracle = Oracle::new(7);
        let bar_variance = 1.2e-6;
        let (mut longs, mut shorts) = (0, 0);
        let mut last_direction = 0i8;
        for _ in 0..2_000 {
            let f = oracle.bar(true, bar_variance);
            if let Some(s) = signal.update(&f) {
                assert_ne!(s.direction, last_direction, "only changes are emitted");
                last_direction = s.direction;
                match s.direction {
                    1 => {
                        longs += 1;
                        assert!(f.scores[0] > 0.0, "{s:?} on {:?}", f.scores);
                    }
                    -1 => {
                        shorts += 1;
                        assert!(f.scores[0] < 0.0, "{s:?} on {:?}", f.scores);
                    }
                    _ => assert_eq!(s.strength, 0.0),
                }
                assert!((0.0..=1.0).contains(&s.strength), "{s:?}");
                assert!((0.0..=1.0).contains(&s.confidence), "{s:?}");
                assert_eq!(s.volatility, (bar_variance * MINUTE_BARS_PER_YEAR).sqrt());
                assert_eq!((s.ts, s.seq, s.symbol), (f.ts, f.seq, f.symbol));
                assert_eq!((s.bid, s.ask), (f.features.bid, f.features.ask));
            }
            assert_eq!(signal.direction(), last_direction);
            // Once the combiner has learned (its prior is worth 1 000 outcomes), every
            // bar's direction is its score's sign.
            if oracle.bars > 1_000 {
                assert_eq!(f64::from(signal.direction()), f.scores[0].signum());
            }
        }
        assert!(
            longs > 100 && shorts > 100,
            "{longs} longs, {shorts} shorts"
        );
        // The first bar's return is no outcome: no scores preceded it.
        assert_eq!(signal.combiner.outcomes(), 1_999);
    }

    #[test]
    fn ticks_that_close_no_bar_give_no_signal() {
        let mut signal = bar_signal();
        let mut oracle = Oracle::new(11);
        assert!(signal.update(&oracle.between(1.0)).is_none());
        for _ in 0..1_500 {
            signal.update(&oracle.bar(true, 1e-6));
            let direction = signal.direction();
            let outcomes = signal.combiner.outcomes();
            // Scores that would flip the direction at a close do nothing between bars.
            for _ in 0..5 {
                let f = oracle.between(-f64::from(direction));
                assert!(signal.update(&f).is_none());
            }
            assert_eq!(signal.direction(), direction);
            assert_eq!(signal.combiner.outcomes(), outcomes);
        }
        assert_ne!(signal.direction(), 0, "the oracle is followed");
    }

    #[test]
    fn no_signal_before_the_inputs_are_warm_and_the_variance_fitted() {
        let mut signal = bar_signal();
        let mut oracle = Oracle::new(13);
        // The combiner learns from these bars but must not act on them.
        for _ in 0..1_200 {
            assert!(signal.update(&oracle.bar(false, 1e-6)).is_none());
        }
        for _ in 0..300 {
            assert!(signal.update(&oracle.bar(true, 0.0)).is_none());
        }
        assert_eq!(signal.direction(), 0);
        assert_eq!(signal.combiner.outcomes(), 1_499);
        // Warm and fitted, what it learned decides at once.
        let f = oracle.bar(true, 1e-6);
        let s = signal.update(&f).expect("a learned signal enters");
        assert_eq!(f64::from(s.direction), f.scores[0].signum());
    }

    #[test]
    fn invalid_combiner_configs_are_errors() {
        let d = BarSignalConfig::default();
        let bad = [
            CombinerConfig {
                entry: 0.0,
                ..d.combiner
            },
            CombinerConfig {
                exit: -0.1,
                ..d.combiner
            },
            CombinerConfig {
                pca: crate::signals::pca::PcaConfig {
                    refresh_every: 0,
                    ..d.combiner.pca
                },
                ..d.combiner
            },
            CombinerConfig {
                turbulent_strength: 1.5,
                ..d.combiner
            },
        ];
        for combiner in bad {
            let config = BarSignalConfig { combiner, ..d };
            assert!(
                matches!(BarSignal::new(config), Err(ConfigError::Invalid { .. })),
                "{combiner:?}"
            );
        }
    }

    #[test]
    fn the_volatility_is_annualised_by_the_bar_width() {
        let config = BarSignalConfig {
            bar_width: 300 * NANOS_PER_SECOND,
            ..BarSignalConfig::default()
        };
        let mut signal = BarSignal::new(config).unwrap();
        let mut oracle = Oracle::new(17);
        let bar_variance = 4e-6;
        let s = (0..2_000)
            .find_map(|_| signal.update(&oracle.bar(true, bar_variance)))
            .expect("a signal");
        let five_minute_bars_per_year = 365.0 * 86_400.0 / 300.0;
        assert_eq!(
            s.volatility,
            (bar_variance * five_minute_bars_per_year).sqrt()
        );
    }
}
