//! Simple moving average: the mean of the last `n` inputs.
//!
//! `SMA_t = (x_{t−n+1} + … + x_t) / n`
//!
//! TA-Lib `SMA`: the first value comes with the `n`-th input (lookback `n − 1`). The sum
//! is kept by a [`RollingSum`], so each update is O(1) amortised and rounding does not
//! drift. TA-Lib accepts periods from 2; here a period of 1 is allowed (the input
//! itself) and 0 is taken as 1.

use super::{Indicator, RollingSum};

/// The simple moving average of the last `period` inputs.
#[derive(Debug, Clone)]
pub struct Sma {
    window: RollingSum,
    period: usize,
}

impl Sma {
    /// The SMA over `period` inputs (0 is taken as 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            window: RollingSum::new(period),
            period,
        }
    }
}

impl Indicator for Sma {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, input: f64) -> Option<f64> {
        self.window.push(input);
        self.window.is_full().then(|| self.window.mean())
    }

    /// `period` (TA-Lib lookback `period − 1`).
    fn warmup(&self) -> usize {
        self.period
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A random walk from 1..1e5, steps of up to ±5 %, one in five exactly flat.
    fn walk() -> impl Strategy<Value = Vec<f64>> {
        let step = prop_oneof![1 => Just(0.0), 4 => -0.05f64..0.05];
        (1.0f64..1e5, prop::collection::vec(step, 0..200)).prop_map(|(start, steps)| {
            steps
                .iter()
                .scan(start, |p, r| {
                    *p *= 1.0 + r;
                    Some(*p)
                })
                .collect()
        })
    }

    fn naive(xs: &[f64], n: usize) -> Option<f64> {
        if xs.len() < n {
            return None;
        }
        let window = &xs[xs.len() - n..];
        Some(window.iter().sum::<f64>() / n as f64)
    }

    #[test]
    fn hand_checked() {
        let mut sma = Sma::new(3);
        assert_eq!(sma.warmup(), 3);
        let out: Vec<_> = [1.0, 2.0, 3.0, 4.0, 8.0]
            .into_iter()
            .map(|x| sma.update(x))
            .collect();
        assert_eq!(out, vec![None, None, Some(2.0), Some(3.0), Some(5.0)]);
        // Period 0 is period 1: the input itself.
        let mut one = Sma::new(0);
        assert_eq!(one.warmup(), 1);
        assert_eq!(one.update(7.5), Some(7.5));
    }

    proptest! {
        #[test]
        fn agrees_with_a_scan(n in 1usize..40, xs in walk()) {
            let mut sma = Sma::new(n);
            prop_assert_eq!(sma.warmup(), n);
            for i in 0..xs.len() {
                let got = sma.update(xs[i]);
                let want = naive(&xs[..=i], n);
                match (got, want) {
                    (Some(a), Some(b)) => prop_assert!(
                        (a - b).abs() <= 1e-9 * b.abs(),
                        "input {}: {} vs {}", i, a, b
                    ),
                    (None, None) => {}
                    _ => prop_assert!(false, "input {}: {:?} vs {:?}", i, got, want),
                }
            }
        }
    }
}
