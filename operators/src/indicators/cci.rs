//! Commodity channel index.
//!
//! With the typical price `tp = (high + low + close) / 3` and, over the last `n`
//! candles, its mean `m` and mean absolute deviation `MD = Σ |tp − m| / n`:
//! `CCI = (tp − m) / (0.015 · MD)`.
//!
//! TA-Lib `CCI`: the first value comes with the `n`-th candle (lookback `n − 1`), and the
//! arithmetic is in TA-Lib's order, `(tp − m) / (0.015 · (Σ |tp − m| / n))`. The CCI is
//! 0 when the deviation is zero, as in TA-Lib. TA-Lib (≥ 0.8.1) tests `tp − m` and
//! `Σ |tp − m|` against an absolute epsilon (before, the test was exact, and a flat
//! window gave ±66.67 out of rounding noise); here a flat window — every typical price
//! equal — is detected exactly and gives 0, and nothing else is rounded to 0, so the
//! value does not depend on the unit prices are quoted in.
//!
//! Cost: the mean absolute deviation is about the window's *current* mean, which moves
//! with every candle, so it cannot be updated in O(1) exactly; each update is one pass
//! over the window, O(n) — the one indicator here that is not O(1). No allocation after
//! [`Cci::new`]. TA-Lib accepts periods from 2; here a period of 1 is allowed (always 0)
//! and 0 is taken as 1.

use super::{Candle, Indicator, Ring};

/// The commodity channel index over `period` candles.
#[derive(Debug, Clone)]
pub struct Cci {
    window: Ring,
    period: usize,
}

impl Cci {
    /// The CCI over `period` candles (0 is taken as 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            window: Ring::new(period),
            period,
        }
    }
}

impl Indicator for Cci {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, candle: Candle) -> Option<f64> {
        let tp = candle.typical();
        self.window.push(tp);
        if !self.window.is_full() {
            return None;
        }
        let n = self.period as f64;
        let (mut sum, mut lo, mut hi) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
        for v in self.window.iter() {
            sum += v;
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if lo == hi {
            return Some(0.0);
        }
        let mean = sum / n;
        let deviation: f64 = self.window.iter().map(|v| (v - mean).abs()).sum();
        Some((tp - mean) / (0.015 * (deviation / n)))
    }

    /// `period` (TA-Lib lookback `period − 1`).
    fn warmup(&self) -> usize {
        self.period
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{candle, candle_walk, check_scan, choppy_candles, last, Wicks};
    use super::*;
    use proptest::prelude::*;

    /// The CCI at the last of `cs`, from scratch.
    fn naive(cs: &[Candle], n: usize) -> Option<f64> {
        let tps: Vec<f64> = last(cs, n)?
            .iter()
            .map(|c| (c.high + c.low + c.close) / 3.0)
            .collect();
        let mean = tps.iter().sum::<f64>() / n as f64;
        let md = tps.iter().map(|t| (t - mean).abs()).sum::<f64>() / n as f64;
        if tps.iter().all(|&t| t == tps[0]) {
            return Some(0.0);
        }
        Some((tps[n - 1] - mean) / (0.015 * md))
    }

    fn check(n: usize, cs: &[Candle]) -> Result<(), TestCaseError> {
        let mut cci = Cci::new(n);
        prop_assert_eq!(cci.warmup(), n);
        check_scan(&mut cci, cs, |seen| naive(seen, n), 1e-9, 1.0)
    }

    #[test]
    fn hand_checked() {
        // Typical prices 1, 2, 3, 6, 3 (high = low = close).
        // (1, 2, 3): m 2, MD 2/3 → 1 / 0.01 = 100.
        // (2, 3, 6): m 11/3, MD 14/9 → (7/3) / (0.015 · 14/9) = 100.
        // (3, 6, 3): m 4, MD 4/3 → −1 / 0.02 = −50.
        let mut cci = Cci::new(3);
        assert_eq!(cci.warmup(), 3);
        let out: Vec<_> = [1.0, 2.0, 3.0, 6.0, 3.0]
            .into_iter()
            .map(|p| cci.update(candle(p, p, p)))
            .collect();
        assert_eq!(&out[..2], &[None, None]);
        for (got, want) in out[2..].iter().zip([100.0, 100.0, -50.0]) {
            let got = got.unwrap();
            assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        }
        // Typical price from high, low and close: (12 + 6 + 9) / 3 = 9.
        let mut two = Cci::new(2);
        two.update(candle(8.0, 8.0, 8.0));
        let v = two.update(candle(12.0, 6.0, 9.0)).unwrap();
        // m 8.5, MD 0.5 → 0.5 / 0.0075.
        assert!((v - 0.5 / 0.0075).abs() < 1e-9, "{v}");
        // A flat window: 0, not rounding noise.
        let mut flat = Cci::new(20);
        let last = (0..25)
            .map(|_| flat.update(candle(60002.4, 59921.3, 59973.9)))
            .last();
        assert_eq!(last.flatten(), Some(0.0));
    }

    proptest! {
        #[test]
        fn agrees_with_a_scan(n in 1usize..40, cs in candle_walk(0..200)) {
            check(n, &cs)?;
        }

        #[test]
        fn agrees_with_a_scan_on_flat_windows(n in 1usize..6, cs in choppy_candles([3.0, 1.5, 6.0], 1.5, Wicks::Symmetric)) {
            check(n, &cs)?;
        }
    }
}
