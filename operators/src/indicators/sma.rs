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
    use super::super::testing::{check_scan, last, price_walk};
    use super::*;
    use proptest::prelude::*;

    fn naive(xs: &[f64], n: usize) -> Option<f64> {
        let window = last(xs, n)?;
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
        fn agrees_with_a_scan(n in 1usize..40, xs in price_walk(1.0..1e5, 0.05, 0..200)) {
            let mut sma = Sma::new(n);
            prop_assert_eq!(sma.warmup(), n);
            check_scan(&mut sma, &xs, |seen| naive(seen, n), 1e-9, 0.0)?;
        }
    }
}
