//! Bollinger bands: a simple moving average and bands a multiple of the standard
//! deviation above and below it.
//!
//! `middle = SMA_n(x)`, `σ = √(Σ (x − middle)² / n)` (population), `upper = middle +
//! k_up · σ`, `lower = middle − k_down · σ`, over the last `n` inputs.
//!
//! TA-Lib `BBANDS` with `MAType = SMA`: the population standard deviation of the same
//! window as the average; the first value comes with the `n`-th input (lookback
//! `n − 1`). The mean and deviation come from a [`RollingMoments`], which sums
//! deviations from a shift so that prices far from zero lose no precision: O(1)
//! amortised per update. Its shift can be up to `n` updates old, so σ carries an
//! absolute error of about `√(n·ε)` times the range of the last `2n` inputs (ε the f64
//! epsilon) — below 1e-7 of it; TA-Lib's own `E[x²] − m²` loses more. A flat window
//! (every value equal) has σ = 0 exactly, as TA-Lib gives (TA-Lib zeroes a variance within an epsilon of 0, or negative). TA-Lib accepts
//! periods from 2; here a period of 1 is allowed (σ = 0) and 0 is taken as 1.

use super::{Indicator, RollingMoments};

/// The three Bollinger bands at one input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bands {
    /// `middle + k_up · σ`.
    pub upper: f64,
    /// The simple moving average.
    pub middle: f64,
    /// `middle − k_down · σ`.
    pub lower: f64,
}

/// Bollinger bands over `period` inputs.
#[derive(Debug, Clone)]
pub struct Bollinger {
    window: RollingMoments,
    period: usize,
    k_up: f64,
    k_down: f64,
}

impl Bollinger {
    /// Bands over `period` inputs (0 is taken as 1), `k_up` and `k_down` standard
    /// deviations above and below the average (TA-Lib's `nbdevup`, `nbdevdn`).
    pub fn new(period: usize, k_up: f64, k_down: f64) -> Self {
        let period = period.max(1);
        Self {
            window: RollingMoments::new(period),
            period,
            k_up,
            k_down,
        }
    }
}

impl Indicator for Bollinger {
    type Input = f64;
    type Output = Bands;

    fn update(&mut self, input: f64) -> Option<Bands> {
        self.window.push(input);
        if !self.window.is_full() {
            return None;
        }
        let middle = self.window.mean();
        let sd = self.window.std_dev();
        Some(Bands {
            upper: middle + self.k_up * sd,
            middle,
            lower: middle - self.k_down * sd,
        })
    }

    /// `period` (TA-Lib lookback `period − 1`).
    fn warmup(&self) -> usize {
        self.period
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{last, price_walk};
    use super::*;
    use proptest::prelude::*;

    fn naive(xs: &[f64], n: usize, up: f64, down: f64) -> Option<Bands> {
        let window = last(xs, n)?;
        let mean = window.iter().sum::<f64>() / n as f64;
        let var = window.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        let sd = var.sqrt();
        Some(Bands {
            upper: mean + up * sd,
            middle: mean,
            lower: mean - down * sd,
        })
    }

    #[test]
    fn hand_checked() {
        // Window (1, 3): mean 2, σ 1; window (3, 7): mean 5, σ 2.
        let mut bb = Bollinger::new(2, 2.0, 1.0);
        assert_eq!(bb.warmup(), 2);
        let out: Vec<_> = [1.0, 3.0, 7.0].into_iter().map(|x| bb.update(x)).collect();
        assert_eq!(out[0], None);
        let want = [(4.0, 2.0, 1.0), (9.0, 5.0, 3.0)];
        for (got, (u, m, l)) in out[1..].iter().zip(want) {
            let got = got.unwrap();
            assert!((got.upper - u).abs() < 1e-12, "{got:?}");
            assert!((got.middle - m).abs() < 1e-12, "{got:?}");
            assert!((got.lower - l).abs() < 1e-12, "{got:?}");
        }
        // A flat window: all three bands on the price.
        let mut flat = Bollinger::new(3, 2.0, 2.0);
        let last = [4.0, 4.0, 4.0].into_iter().map(|x| flat.update(x)).last();
        assert_eq!(
            last.flatten(),
            Some(Bands {
                upper: 4.0,
                middle: 4.0,
                lower: 4.0
            })
        );
        // A flat window right after a move, where the running variance is rounding noise:
        // still σ = 0.
        let mut after = Bollinger::new(2, 2.0, 2.0);
        let last = [0.7, 60002.3, 60002.3]
            .into_iter()
            .map(|x| after.update(x))
            .last();
        assert_eq!(last.flatten().map(|b| b.upper - b.lower), Some(0.0));
    }

    proptest! {
        #[test]
        fn agrees_with_a_scan(
            n in 1usize..40,
            up in 0.0f64..4.0,
            down in 0.0f64..4.0,
            xs in price_walk(1.0..1e5, 0.05, 0..200),
        ) {
            let mut bb = Bollinger::new(n, up, down);
            prop_assert_eq!(bb.warmup(), n);
            for i in 0..xs.len() {
                let got = bb.update(xs[i]);
                let want = naive(&xs[..=i], n, up, down);
                match (got, want) {
                    (Some(a), Some(b)) => {
                        // The running variance's shift may be up to n inputs old: σ is
                        // good to √(n·ε) times the range of the last 2n inputs.
                        let recent = &xs[(i + 1).saturating_sub(2 * n)..=i];
                        let range = recent.iter().fold(f64::MIN, |m, &x| m.max(x))
                            - recent.iter().fold(f64::MAX, |m, &x| m.min(x));
                        let sd_tol = 2.0 * (n as f64 * f64::EPSILON).sqrt() * range;
                        let tol = |k: f64| 1e-9 * b.middle.abs() + k * sd_tol;
                        prop_assert!((a.middle - b.middle).abs() <= tol(0.0), "input {}: {:?} vs {:?}", i, a, b);
                        prop_assert!((a.upper - b.upper).abs() <= tol(up), "input {}: {:?} vs {:?}", i, a, b);
                        prop_assert!((a.lower - b.lower).abs() <= tol(down), "input {}: {:?} vs {:?}", i, a, b);
                    }
                    (None, None) => {}
                    _ => prop_assert!(false, "input {}: {:?} vs {:?}", i, got, want),
                }
            }
        }
    }
}
