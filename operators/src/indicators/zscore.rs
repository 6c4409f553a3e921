//! Rolling z-score: how many standard deviations the input is from the mean of the
//! last `n` inputs (itself included).
//!
//! `z = (x − m) / σ`, `m` the mean and `σ = √(Σ (x − m)² / n)` the population standard
//! deviation of the window; `z = 0` when `σ = 0`.
//!
//! TA-Lib has no z-score; the convention is pandas'
//! `(x − rolling(n).mean()) / rolling(n).std(ddof=0)`, 0 where the deviation is 0, first
//! value with the `n`-th input. A flat window (every value equal) gives 0 rather than
//! rounding noise over rounding noise. The mean and deviation come from a
//! [`RollingMoments`]: O(1) amortised per update. A period of 1 is allowed (always 0) and 0 is taken as 1.

use super::{Indicator, RollingMoments};

/// The z-score of each input within the last `period` inputs.
#[derive(Debug, Clone)]
pub struct ZScore {
    window: RollingMoments,
    period: usize,
}

impl ZScore {
    /// The z-score over `period` inputs (0 is taken as 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            window: RollingMoments::new(period),
            period,
        }
    }
}

impl Indicator for ZScore {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, input: f64) -> Option<f64> {
        self.window.push(input);
        if !self.window.is_full() {
            return None;
        }
        let sd = self.window.std_dev();
        if sd <= 0.0 {
            return Some(0.0);
        }
        Some((input - self.window.mean()) / sd)
    }

    /// `period`.
    fn warmup(&self) -> usize {
        self.period
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{choppy_prices, last, price_walk};
    use super::*;
    use proptest::prelude::*;

    fn naive(xs: &[f64], n: usize) -> Option<f64> {
        let w = last(xs, n)?;
        if w.iter().all(|&x| x == w[0]) {
            return Some(0.0);
        }
        let mean = w.iter().sum::<f64>() / n as f64;
        let sd = (w.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64).sqrt();
        Some((w[n - 1] - mean) / sd)
    }

    fn check(n: usize, xs: &[f64]) -> Result<(), TestCaseError> {
        let mut z = ZScore::new(n);
        prop_assert_eq!(z.warmup(), n);
        for i in 0..xs.len() {
            let got = z.update(xs[i]);
            let want = naive(&xs[..=i], n);
            match (got, want) {
                (Some(a), Some(b)) => {
                    // The running variance's shift may be up to n inputs old: σ is good to
                    // √(n·ε) times the range of the last 2n inputs, z to that over σ.
                    let recent = &xs[(i + 1).saturating_sub(2 * n)..=i];
                    let range = recent.iter().fold(f64::MIN, |m, &x| m.max(x))
                        - recent.iter().fold(f64::MAX, |m, &x| m.min(x));
                    let w = &xs[i + 1 - n..=i];
                    let mean = w.iter().sum::<f64>() / n as f64;
                    let sd = (w.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
                    let sd_tol = 2.0 * (n as f64 * f64::EPSILON).sqrt() * range;
                    let tol = 1e-9 * b.abs().max(1.0)
                        + if sd > 0.0 {
                            (1.0 + b.abs()) * sd_tol / sd
                        } else {
                            0.0
                        };
                    prop_assert!((a - b).abs() <= tol, "input {}: {} vs {}", i, a, b);
                }
                (None, None) => {}
                _ => prop_assert!(false, "input {}: {:?} vs {:?}", i, got, want),
            }
        }
        Ok(())
    }

    #[test]
    fn hand_checked() {
        // (1, 2, 3): m 2, σ √(2/3) → 1/√(2/3) = √1.5.
        // (2, 3, 1): m 2, same σ → −√1.5.
        let mut z = ZScore::new(3);
        assert_eq!(z.warmup(), 3);
        let out: Vec<_> = [1.0, 2.0, 3.0, 1.0]
            .into_iter()
            .map(|x| z.update(x))
            .collect();
        assert_eq!(&out[..2], &[None, None]);
        assert!((out[2].unwrap() - 1.5f64.sqrt()).abs() < 1e-12);
        assert!((out[3].unwrap() + 1.5f64.sqrt()).abs() < 1e-12);
        // A flat window: 0.
        let mut flat = ZScore::new(4);
        let last = (0..10).map(|_| flat.update(60002.4)).last();
        assert_eq!(last.flatten(), Some(0.0));
        // A flat window right after a jump, where the running variance is rounding noise
        // (about 1e-7 here): still exactly 0.
        for xs in [[60002.3, 0.1, 0.1], [0.7, 60002.3, 60002.3]] {
            let mut z = ZScore::new(2);
            let last = xs.into_iter().map(|x| z.update(x)).last();
            assert_eq!(last.flatten(), Some(0.0), "{xs:?}");
        }
    }

    proptest! {
        #[test]
        fn agrees_with_a_scan(n in 1usize..40, xs in price_walk(1.0..1e5, 0.05, 0..200)) {
            check(n, &xs)?;
        }

        #[test]
        fn agrees_with_a_scan_on_flat_windows(n in 1usize..6, xs in choppy_prices([60002.4, 60002.3, 60010.0])) {
            check(n, &xs)?;
        }
    }
}
