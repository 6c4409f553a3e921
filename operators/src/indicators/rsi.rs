//! Relative strength index, Wilder's.
//!
//! With the changes `d_t = x_t − x_{t−1}`, gains `max(d, 0)` and losses `max(−d, 0)`:
//! the average gain `G` and average loss `L` are seeded with the simple averages of the
//! first `n` changes, then smoothed the Wilder way, `G ← (G · (n − 1) + gain) / n` (the
//! same for `L`), and `RSI = 100 · G / (G + L)` (the same as `100 − 100 / (1 + G/L)`).
//!
//! TA-Lib `RSI` (default compatibility, no unstable period): `n` changes need `n + 1`
//! inputs, so the first value comes with input `n + 1` (lookback `n`), and the
//! arithmetic is in TA-Lib's order. When `G + L` is 0 (no move at all) the RSI is 0, as
//! TA-Lib gives. TA-Lib tests that with an absolute epsilon (`TA_IS_ZERO`, 1e-8 in old
//! releases, 1e-14 in newer ones); here the test is exact, so that the value does not
//! depend on the unit prices are quoted in — the two differ only when the average
//! absolute change is below that epsilon. TA-Lib accepts periods from 2; here a period
//! of 1 is allowed (RSI 100 on a rise, 0 on a fall or no move) and 0 is taken as 1.

use super::Indicator;

/// Wilder's RSI over `period` changes.
#[derive(Debug, Clone)]
pub struct Rsi {
    period: usize,
    prev: Option<f64>,
    /// Changes seen (counted up to `period`).
    changes: usize,
    /// Sums of gains and losses while seeding, their Wilder averages after.
    gain: f64,
    loss: f64,
}

impl Rsi {
    /// The RSI over `period` changes (0 is taken as 1).
    pub fn new(period: usize) -> Self {
        Self {
            period: period.max(1),
            prev: None,
            changes: 0,
            gain: 0.0,
            loss: 0.0,
        }
    }

    fn value(&self) -> f64 {
        let total = self.gain + self.loss;
        if total == 0.0 {
            0.0
        } else {
            100.0 * (self.gain / total)
        }
    }
}

impl Indicator for Rsi {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, input: f64) -> Option<f64> {
        let prev = self.prev.replace(input)?;
        let change = input - prev;
        let n = self.period as f64;
        if self.changes < self.period {
            if change < 0.0 {
                self.loss -= change;
            } else {
                self.gain += change;
            }
            self.changes += 1;
            if self.changes < self.period {
                return None;
            }
            self.gain /= n;
            self.loss /= n;
        } else {
            self.gain *= n - 1.0;
            self.loss *= n - 1.0;
            if change < 0.0 {
                self.loss -= change;
            } else {
                self.gain += change;
            }
            self.gain /= n;
            self.loss /= n;
        }
        Some(self.value())
    }

    /// `period + 1` (TA-Lib lookback `period`).
    fn warmup(&self) -> usize {
        self.period + 1
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check_scan, choppy_prices, price_walk};
    use super::*;
    use proptest::prelude::*;

    /// The RSI of all of `xs`, the textbook way: `100 − 100 / (1 + RS)`.
    fn naive(xs: &[f64], n: usize) -> Option<f64> {
        if xs.len() < n + 1 {
            return None;
        }
        let changes: Vec<f64> = xs.windows(2).map(|w| w[1] - w[0]).collect();
        let nf = n as f64;
        let mut up = changes[..n].iter().map(|d| d.max(0.0)).sum::<f64>() / nf;
        let mut down = changes[..n].iter().map(|d| (-d).max(0.0)).sum::<f64>() / nf;
        for d in &changes[n..] {
            up = (up * (nf - 1.0) + d.max(0.0)) / nf;
            down = (down * (nf - 1.0) + (-d).max(0.0)) / nf;
        }
        Some(if down == 0.0 {
            if up == 0.0 {
                0.0
            } else {
                100.0
            }
        } else {
            100.0 - 100.0 / (1.0 + up / down)
        })
    }

    fn check(n: usize, xs: &[f64]) -> Result<(), TestCaseError> {
        let mut rsi = Rsi::new(n);
        prop_assert_eq!(rsi.warmup(), n + 1);
        check_scan(&mut rsi, xs, |seen| naive(seen, n), 1e-9, 100.0)
    }

    #[test]
    fn hand_checked() {
        // Changes +1, −0.5, +1. Seed: G = 1/2, L = 0.5/2 → 100 · 0.5 / 0.75.
        // Then G = (0.5 + 1) / 2 = 0.75, L = (0.25 + 0) / 2 = 0.125 → 100 · 0.75 / 0.875.
        let mut rsi = Rsi::new(2);
        assert_eq!(rsi.warmup(), 3);
        let out: Vec<_> = [1.0, 2.0, 1.5, 2.5]
            .into_iter()
            .map(|x| rsi.update(x))
            .collect();
        assert_eq!(&out[..2], &[None, None]);
        assert!((out[2].unwrap() - 200.0 / 3.0).abs() < 1e-12);
        assert!((out[3].unwrap() - 600.0 / 7.0).abs() < 1e-12);
        // No move at all: 0, as TA-Lib.
        let mut flat = Rsi::new(2);
        let out: Vec<_> = [5.0, 5.0, 5.0, 5.0]
            .into_iter()
            .map(|x| flat.update(x))
            .collect();
        assert_eq!(out, vec![None, None, Some(0.0), Some(0.0)]);
    }

    proptest! {
        #[test]
        fn agrees_with_a_scan(n in 1usize..30, xs in price_walk(1.0..1e5, 0.05, 0..200)) {
            check(n, &xs)?;
        }

        #[test]
        fn agrees_with_a_scan_on_flat_stretches(n in 1usize..10, xs in choppy_prices([2.0, 1.0, 3.0])) {
            check(n, &xs)?;
        }
    }
}
