//! Log returns of a price series.
//!
//! ```text
//! r_t = ln(P_t / P_{t−1})
//! ```
//!
//! The first value is at the second price (index 1), as for TA-Lib's one-bar
//! indicators (TA-Lib itself has no log return; the reference is numpy's
//! `log(p / p.shift(1))`). Prices must be positive: a zero or negative price gives what
//! `ln` gives (−∞, +∞ or NaN), not an error.

use super::Indicator;

/// The log return of each price over the previous one.
#[derive(Debug, Clone, Default)]
pub struct LogReturn {
    prev: Option<f64>,
}

impl LogReturn {
    /// Fresh state: the first price only gives the previous price.
    pub fn new() -> Self {
        Self { prev: None }
    }
}

impl Indicator for LogReturn {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, price: f64) -> Option<f64> {
        let prev = self.prev.replace(price)?;
        Some((price / prev).ln())
    }

    /// Two prices.
    fn warmup(&self) -> usize {
        2
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::price_walk;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hand_checked() {
        let mut r = LogReturn::new();
        assert_eq!(r.warmup(), 2);
        assert_eq!(r.update(100.0), None);
        let up = r.update(110.0).unwrap();
        assert!((up - 0.095_310_179_804_324_87).abs() < 1e-15, "{up}");
        let down = r.update(100.0).unwrap();
        assert!((up + down).abs() < 1e-15);
        assert_eq!(r.update(100.0), Some(0.0));
        assert!((r.update(50.0).unwrap() + std::f64::consts::LN_2).abs() < 1e-15);
    }

    proptest! {
        #[test]
        fn agrees_with_a_recomputation(prices in price_walk(0.01..1e6, 0.2, 2..201)) {
            let mut r = LogReturn::new();
            for (i, &p) in prices.iter().enumerate() {
                let got = r.update(p);
                if i == 0 {
                    prop_assert_eq!(got, None);
                    continue;
                }
                // ln P_t − ln P_{t−1}, and the simple return it stands for.
                let want = p.ln() - prices[i - 1].ln();
                let got = got.unwrap_or(f64::NAN);
                // Each logarithm is within a few ulps of 14, whence the absolute slack.
                prop_assert!((got - want).abs() <= 1e-9 * want.abs() + 1e-13, "{} vs {}", got, want);
                prop_assert!((got.exp() - p / prices[i - 1]).abs() <= 1e-12);
            }
        }
    }
}
