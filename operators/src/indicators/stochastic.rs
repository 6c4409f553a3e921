//! Stochastic oscillator, slow %K and %D.
//!
//! `fastK = 100 · (close − LL) / (HH − LL)`, with `HH` the highest high and `LL` the
//! lowest low of the last `fastk` candles (this one included);
//! `slowK = SMA_slowk(fastK)`, `slowD = SMA_slowd(slowK)`.
//!
//! TA-Lib `STOCH` with both MA types SMA: fastK is computed as TA-Lib does,
//! `(close − LL) / ((HH − LL) / 100)`, and is 0 when `HH − LL` is exactly 0 (TA-Lib's
//! test is exact too); the first value comes with input `fastk + slowk + slowd − 2`
//! (lookback `(fastk − 1) + (slowk − 1) + (slowd − 1)`). The extremes are
//! [`RollingExtreme`]s and the averages [`RollingSum`]s: O(1) amortised per update.
//! Periods of 0 are taken as 1 (TA-Lib's minimum).

use super::{Candle, Indicator, RollingExtreme, RollingSum};

/// Slow %K and %D at one candle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StochValue {
    /// Slow %K: the SMA of fast %K.
    pub k: f64,
    /// Slow %D: the SMA of slow %K.
    pub d: f64,
}

/// The (slow) stochastic oscillator.
#[derive(Debug, Clone)]
pub struct Stochastic {
    highs: RollingExtreme,
    lows: RollingExtreme,
    slow_k: RollingSum,
    slow_d: RollingSum,
    fastk_period: usize,
    /// Candles seen (counted up to `fastk_period`).
    seen: usize,
    warmup: usize,
}

impl Stochastic {
    /// The stochastic with fast %K over `fastk_period` candles, slow %K the SMA of
    /// `slowk_period` fast %K values and %D the SMA of `slowd_period` slow %K values
    /// (0 is taken as 1).
    pub fn new(fastk_period: usize, slowk_period: usize, slowd_period: usize) -> Self {
        let (fastk, slowk, slowd) = (
            fastk_period.max(1),
            slowk_period.max(1),
            slowd_period.max(1),
        );
        Self {
            highs: RollingExtreme::max(fastk),
            lows: RollingExtreme::min(fastk),
            slow_k: RollingSum::new(slowk),
            slow_d: RollingSum::new(slowd),
            fastk_period: fastk,
            seen: 0,
            warmup: fastk + slowk + slowd - 2,
        }
    }
}

impl Indicator for Stochastic {
    type Input = Candle;
    type Output = StochValue;

    fn update(&mut self, candle: Candle) -> Option<StochValue> {
        let highest = self.highs.push(candle.high);
        let lowest = self.lows.push(candle.low);
        if self.seen < self.fastk_period {
            self.seen += 1;
            if self.seen < self.fastk_period {
                return None;
            }
        }
        let diff = (highest - lowest) / 100.0;
        let fast_k = if diff != 0.0 {
            (candle.close - lowest) / diff
        } else {
            0.0
        };
        self.slow_k.push(fast_k);
        if !self.slow_k.is_full() {
            return None;
        }
        let k = self.slow_k.mean();
        self.slow_d.push(k);
        self.slow_d.is_full().then(|| StochValue {
            k,
            d: self.slow_d.mean(),
        })
    }

    /// `fastk + slowk + slowd − 2` (TA-Lib lookback
    /// `(fastk − 1) + (slowk − 1) + (slowd − 1)`).
    fn warmup(&self) -> usize {
        self.warmup
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{candle, candle_walk, choppy_candles, near, Wicks};
    use super::*;
    use proptest::prelude::*;

    fn mean(xs: &[f64]) -> f64 {
        xs.iter().sum::<f64>() / xs.len() as f64
    }

    /// Slow %K and %D at the last of `cs`, from scratch.
    fn naive(cs: &[Candle], fastk: usize, slowk: usize, slowd: usize) -> Option<StochValue> {
        if cs.len() < fastk + slowk + slowd - 2 {
            return None;
        }
        let fast: Vec<f64> = (fastk - 1..cs.len())
            .map(|i| {
                let w = &cs[i + 1 - fastk..=i];
                let hh = w.iter().map(|c| c.high).fold(f64::MIN, f64::max);
                let ll = w.iter().map(|c| c.low).fold(f64::MAX, f64::min);
                if hh == ll {
                    0.0
                } else {
                    100.0 * (cs[i].close - ll) / (hh - ll)
                }
            })
            .collect();
        let slow: Vec<f64> = fast.windows(slowk).map(mean).collect();
        let d = mean(&slow[slow.len() - slowd..]);
        Some(StochValue {
            k: slow[slow.len() - 1],
            d,
        })
    }

    fn check(fastk: usize, slowk: usize, slowd: usize, cs: &[Candle]) -> Result<(), TestCaseError> {
        let mut st = Stochastic::new(fastk, slowk, slowd);
        prop_assert_eq!(st.warmup(), fastk + slowk + slowd - 2);
        for i in 0..cs.len() {
            let got = st.update(cs[i]);
            let want = naive(&cs[..=i], fastk, slowk, slowd);
            match (got, want) {
                (Some(a), Some(b)) => prop_assert!(
                    near(a.k, b.k, 1e-9, 100.0) && near(a.d, b.d, 1e-9, 100.0),
                    "input {}: {:?} vs {:?}",
                    i,
                    a,
                    b
                ),
                (None, None) => {}
                _ => prop_assert!(false, "input {}: {:?} vs {:?}", i, got, want),
            }
        }
        Ok(())
    }

    #[test]
    fn hand_checked() {
        // fastK over 3: (11 − 8)/(12 − 8) = 75 %, (8 − 7)/(12 − 7) = 20 %,
        // (10 − 7)/(12 − 7) = 60 %, (10 − 7)/(11 − 7) = 75 %.
        // slowK over 2: 47.5, 40, 67.5; %D over 2: 43.75, 53.75.
        let cs = [
            candle(10.0, 8.0, 9.0),
            candle(11.0, 9.0, 10.0),
            candle(12.0, 10.0, 11.0),
            candle(11.0, 7.0, 8.0),
            candle(10.0, 8.0, 10.0),
            candle(10.0, 10.0, 10.0),
        ];
        let mut st = Stochastic::new(3, 2, 2);
        assert_eq!(st.warmup(), 5);
        let out: Vec<_> = cs.into_iter().map(|c| st.update(c)).collect();
        assert_eq!(&out[..4], &[None, None, None, None]);
        let want = [(40.0, 43.75), (67.5, 53.75)];
        for (got, (k, d)) in out[4..].iter().zip(want) {
            let got = got.unwrap();
            assert!(
                (got.k - k).abs() < 1e-12 && (got.d - d).abs() < 1e-12,
                "{got:?}"
            );
        }
        // No range at all: fast %K is 0, as TA-Lib.
        let mut flat = Stochastic::new(2, 1, 1);
        let out: Vec<_> = (0..3).map(|_| flat.update(candle(5.0, 5.0, 5.0))).collect();
        assert_eq!(out[0], None);
        assert_eq!(out[2], Some(StochValue { k: 0.0, d: 0.0 }));
    }

    proptest! {
        #[test]
        fn agrees_with_a_scan(
            fastk in 1usize..20,
            slowk in 1usize..8,
            slowd in 1usize..8,
            cs in candle_walk(0..200),
        ) {
            check(fastk, slowk, slowd, &cs)?;
        }

        #[test]
        fn agrees_with_a_scan_on_flat_windows(
            fastk in 1usize..6,
            slowk in 1usize..4,
            slowd in 1usize..4,
            cs in choppy_candles([2.0, 1.0, 3.0], 1.0, Wicks::Independent),
        ) {
            check(fastk, slowk, slowd, &cs)?;
        }
    }
}
