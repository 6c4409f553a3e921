//! Weighted moving average: linear weights, the newest input weighing most.
//!
//! `WMA_t = (1·x_{t−n+1} + 2·x_{t−n+2} + … + n·x_t) / (n (n + 1) / 2)`
//!
//! TA-Lib `WMA`: the first value comes with the `n`-th input (lookback `n − 1`). O(1)
//! per update by two running sums over the window, the plain sum `S` and the weighted
//! sum `W`: when `x` comes in and the oldest value leaves, every remaining weight drops
//! by one, so `W ← W − S + n·x` and then `S ← S − oldest + x` (TA-Lib's own scheme).
//! Every `n` updates both sums are taken afresh from the window, so rounding cannot
//! drift: O(1) amortised. TA-Lib accepts periods from 2; here a period of 1 is allowed
//! (the input itself) and 0 is taken as 1.

use super::{Indicator, Ring};

/// The linearly weighted moving average of the last `period` inputs.
#[derive(Debug, Clone)]
pub struct Wma {
    window: Ring,
    period: usize,
    /// `n (n + 1) / 2`.
    divider: f64,
    /// Σ x over the window.
    sum: f64,
    /// Σ (position, 1 = oldest) · x over the window.
    weighted: f64,
    since_resum: usize,
}

impl Wma {
    /// The WMA over `period` inputs (0 is taken as 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            window: Ring::new(period),
            period,
            divider: (period as f64) * (period as f64 + 1.0) / 2.0,
            sum: 0.0,
            weighted: 0.0,
            since_resum: 0,
        }
    }
}

impl Indicator for Wma {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, input: f64) -> Option<f64> {
        if self.window.is_full() {
            // Every weight drops by one (the oldest's to 0), the new value weighs n.
            self.weighted += self.period as f64 * input - self.sum;
            let oldest = self.window.push(input).unwrap_or(0.0);
            self.sum += input - oldest;
        } else {
            self.weighted += (self.window.len() + 1) as f64 * input;
            self.sum += input;
            self.window.push(input);
        }
        self.since_resum += 1;
        if self.since_resum >= self.period {
            self.since_resum = 0;
            self.sum = self.window.iter().sum();
            self.weighted = self
                .window
                .iter()
                .enumerate()
                .map(|(i, x)| (i + 1) as f64 * x)
                .sum();
        }
        self.window.is_full().then(|| self.weighted / self.divider)
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
        let mut num = 0.0;
        let mut den = 0.0;
        for (i, x) in window.iter().enumerate() {
            let w = (i + 1) as f64;
            num += w * x;
            den += w;
        }
        Some(num / den)
    }

    #[test]
    fn hand_checked() {
        let mut wma = Wma::new(3);
        assert_eq!(wma.warmup(), 3);
        let out: Vec<_> = [1.0, 2.0, 3.0, 4.0, 1.0]
            .into_iter()
            .map(|x| wma.update(x))
            .collect();
        // (1·1 + 2·2 + 3·3) / 6, (1·2 + 2·3 + 3·4) / 6, (1·3 + 2·4 + 3·1) / 6.
        let want = [14.0 / 6.0, 20.0 / 6.0, 14.0 / 6.0];
        assert_eq!(&out[..2], &[None, None]);
        for (got, want) in out[2..].iter().zip(want) {
            let got = got.unwrap();
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
    }

    proptest! {
        #[test]
        fn agrees_with_a_scan(n in 1usize..40, xs in price_walk(1.0..1e5, 0.05, 0..300)) {
            let mut wma = Wma::new(n);
            prop_assert_eq!(wma.warmup(), n);
            check_scan(&mut wma, &xs, |seen| naive(seen, n), 1e-9, 0.0)?;
        }
    }
}
