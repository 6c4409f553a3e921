//! Exponential moving average.
//!
//! `EMA_t = EMA_{t−1} + k · (x_t − EMA_{t−1})`, `k = 2 / (n + 1)`.
//!
//! TA-Lib `EMA` in its default compatibility: the average is seeded with the simple
//! average of the first `n` inputs, so the first value comes with the `n`-th input
//! (lookback `n − 1`). The recursion is written as TA-Lib writes it,
//! `((x − prev) · k) + prev`, and the seed is summed from 0 in input order, so the values
//! agree with TA-Lib's to the last bit or nearly. O(1) per update, no window. TA-Lib
//! accepts periods from 2; here a period of 1 is allowed (k = 1: the input itself) and 0
//! is taken as 1.

use super::Indicator;

/// The exponential moving average with `k = 2 / (period + 1)`, seeded with the SMA of
/// the first `period` inputs.
#[derive(Debug, Clone)]
pub struct Ema {
    period: usize,
    k: f64,
    /// Inputs seen while seeding (at most `period`).
    seen: usize,
    /// Sum of the inputs seen while seeding.
    seed_sum: f64,
    value: Option<f64>,
}

impl Ema {
    /// The EMA over `period` inputs (0 is taken as 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            k: 2.0 / (period as f64 + 1.0),
            seen: 0,
            seed_sum: 0.0,
            value: None,
        }
    }

    /// The current value, once warm.
    pub fn value(&self) -> Option<f64> {
        self.value
    }
}

impl Indicator for Ema {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, input: f64) -> Option<f64> {
        match self.value {
            Some(prev) => self.value = Some((input - prev) * self.k + prev),
            None => {
                self.seed_sum += input;
                self.seen += 1;
                if self.seen >= self.period {
                    self.value = Some(self.seed_sum / self.period as f64);
                }
            }
        }
        self.value
    }

    /// `period` (TA-Lib lookback `period − 1`).
    fn warmup(&self) -> usize {
        self.period
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check_scan, price_walk};
    use super::*;
    use proptest::prelude::*;

    /// The EMA of all of `xs`, in closed form: the seed's weight decays by `1 − k` per
    /// later input, and input `j` weighs `k (1 − k)^(t − j)`.
    fn naive(xs: &[f64], n: usize) -> Option<f64> {
        if xs.len() < n {
            return None;
        }
        let k = 2.0 / (n as f64 + 1.0);
        let t = xs.len() - 1;
        let seed = xs[..n].iter().sum::<f64>() / n as f64;
        let mut v = seed * (1.0 - k).powi((t + 1 - n) as i32);
        for (j, x) in xs.iter().enumerate().skip(n) {
            v += k * (1.0 - k).powi((t - j) as i32) * x;
        }
        Some(v)
    }

    #[test]
    fn hand_checked() {
        // k = 2 / 4 = 0.5; seed (2 + 4 + 6) / 3 = 4; then 4 + 0.5·(8 − 4) = 6, 6 + 0.5·(4 − 6) = 5.
        let mut ema = Ema::new(3);
        assert_eq!(ema.warmup(), 3);
        let out: Vec<_> = [2.0, 4.0, 6.0, 8.0, 4.0]
            .into_iter()
            .map(|x| ema.update(x))
            .collect();
        assert_eq!(out, vec![None, None, Some(4.0), Some(6.0), Some(5.0)]);
        assert_eq!(ema.value(), Some(5.0));
    }

    proptest! {
        #[test]
        fn agrees_with_the_closed_form(n in 1usize..40, xs in price_walk(1.0..1e5, 0.05, 0..200)) {
            let mut ema = Ema::new(n);
            prop_assert_eq!(ema.warmup(), n);
            check_scan(&mut ema, &xs, |seen| naive(seen, n), 1e-9, 0.0)?;
        }
    }
}
