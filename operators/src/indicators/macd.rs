//! Moving average convergence/divergence.
//!
//! `MACD = EMA_fast(x) − EMA_slow(x)`, `signal = EMA_signal(MACD)`,
//! `hist = MACD − signal`; every EMA with `k = 2 / (n + 1)`.
//!
//! TA-Lib `MACD` (`TA_INT_MACD`, default compatibility), followed exactly:
//! - if `fast > slow` the two are swapped;
//! - both price EMAs are seeded with simple averages whose windows end on the same
//!   input, index `slow − 1`: the slow one averages inputs `0..slow`, the fast one
//!   inputs `slow − fast..slow` — the fast EMA skips the first `slow − fast` inputs;
//! - the signal EMA is seeded with the simple average of the first `signal` MACD
//!   values;
//! - so the first output comes with input `slow + signal − 1` (lookback
//!   `(slow − 1) + (signal − 1)`), all three lines together.
//!
//! The EMAs are [`Ema`]s, which do TA-Lib's arithmetic. O(1) per update, no window.
//! TA-Lib accepts fast and slow periods from 2 and signal periods from 1; here any
//! period of 0 is taken as 1.

use super::ema::Ema;
use super::Indicator;

/// The three MACD lines at one input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacdValue {
    /// `EMA_fast − EMA_slow`.
    pub macd: f64,
    /// The EMA of the MACD line.
    pub signal: f64,
    /// `macd − signal`.
    pub hist: f64,
}

/// MACD with TA-Lib's alignment of the fast, slow and signal EMAs.
#[derive(Debug, Clone)]
pub struct Macd {
    fast: Ema,
    slow: Ema,
    signal: Ema,
    /// Inputs still to be kept from the fast EMA (`slow − fast` at first).
    fast_skip: usize,
    slow_period: usize,
    signal_period: usize,
}

impl Macd {
    /// MACD with EMAs over `fast` and `slow` inputs and a signal EMA over `signal` MACD
    /// values (0 is taken as 1; `fast` and `slow` are swapped if `fast > slow`).
    pub fn new(fast: usize, slow: usize, signal: usize) -> Self {
        let (fast, slow) = (fast.max(1), slow.max(1));
        let (fast, slow) = if fast > slow {
            (slow, fast)
        } else {
            (fast, slow)
        };
        let signal = signal.max(1);
        Self {
            fast: Ema::new(fast),
            slow: Ema::new(slow),
            signal: Ema::new(signal),
            fast_skip: slow - fast,
            slow_period: slow,
            signal_period: signal,
        }
    }
}

impl Indicator for Macd {
    type Input = f64;
    type Output = MacdValue;

    fn update(&mut self, input: f64) -> Option<MacdValue> {
        let slow = self.slow.update(input);
        let fast = if self.fast_skip > 0 {
            self.fast_skip -= 1;
            None
        } else {
            self.fast.update(input)
        };
        // Both warm from input `slow − 1` on.
        let macd = fast? - slow?;
        let signal = self.signal.update(macd)?;
        Some(MacdValue {
            macd,
            signal,
            hist: macd - signal,
        })
    }

    /// `slow + signal − 1` (TA-Lib lookback `(slow − 1) + (signal − 1)`).
    fn warmup(&self) -> usize {
        self.slow_period + self.signal_period - 1
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::price_walk;
    use super::*;
    use proptest::prelude::*;

    /// The EMA series of `xs` with period `n`, seeded with the mean of the first `n`
    /// values: entry `i` is the EMA at `xs[i]`, `None` before the seed.
    fn ema_series(xs: &[f64], n: usize) -> Vec<Option<f64>> {
        let k = 2.0 / (n as f64 + 1.0);
        let mut out = vec![None; xs.len()];
        if xs.len() < n {
            return out;
        }
        let mut v = xs[..n].iter().sum::<f64>() / n as f64;
        out[n - 1] = Some(v);
        for i in n..xs.len() {
            v = k * xs[i] + (1.0 - k) * v;
            out[i] = Some(v);
        }
        out
    }

    /// The MACD at the last of `xs`, from scratch, as TA-Lib describes it.
    fn naive(xs: &[f64], fast: usize, slow: usize, signal: usize) -> Option<MacdValue> {
        let (fast, slow) = (fast.min(slow), fast.max(slow));
        let slow_ema = ema_series(xs, slow);
        // The fast EMA's seed window ends where the slow one's does.
        let skip = (slow - fast).min(xs.len());
        let fast_ema = ema_series(&xs[skip..], fast);
        let macd: Vec<f64> = (0..xs.len())
            .filter_map(|i| {
                let f = if i >= skip { fast_ema[i - skip] } else { None };
                Some(f? - slow_ema[i]?)
            })
            .collect();
        let signal_ema = ema_series(&macd, signal);
        let m = *macd.last()?;
        let s = (*signal_ema.last()?)?;
        Some(MacdValue {
            macd: m,
            signal: s,
            hist: m - s,
        })
    }

    #[test]
    fn hand_checked() {
        // fast 2 (k 2/3), slow 3 (k 1/2), signal 2 (k 2/3) on 1, 4, 2, 5, 3.
        // Slow: seed mean(1, 4, 2) = 7/3, then 11/3, 10/3.
        // Fast skips the first input: seed mean(4, 2) = 3, then 13/3, 31/9.
        // MACD: 2/3, 2/3, 1/9; signal seed mean(2/3, 2/3) = 2/3, then
        // 2/3 + 2/3·(1/9 − 2/3) = 8/27.
        let mut macd = Macd::new(2, 3, 2);
        assert_eq!(macd.warmup(), 4);
        let out: Vec<_> = [1.0, 4.0, 2.0, 5.0, 3.0]
            .into_iter()
            .map(|x| macd.update(x))
            .collect();
        assert_eq!(&out[..3], &[None, None, None]);
        let want = [
            (2.0 / 3.0, 2.0 / 3.0, 0.0),
            (1.0 / 9.0, 8.0 / 27.0, -5.0 / 27.0),
        ];
        for (got, (m, s, h)) in out[3..].iter().zip(want) {
            let got = got.unwrap();
            assert!((got.macd - m).abs() < 1e-12, "{got:?}");
            assert!((got.signal - s).abs() < 1e-12, "{got:?}");
            assert!((got.hist - h).abs() < 1e-12, "{got:?}");
        }
        // fast > slow: swapped.
        let mut swapped = Macd::new(3, 2, 2);
        assert_eq!(swapped.warmup(), 4);
        let again: Vec<_> = [1.0, 4.0, 2.0, 5.0, 3.0]
            .into_iter()
            .map(|x| swapped.update(x))
            .collect();
        assert_eq!(again, out);
    }

    proptest! {
        #[test]
        fn agrees_with_a_scan(
            fast in 1usize..15,
            slow in 1usize..30,
            signal in 1usize..12,
            xs in price_walk(1.0..1e5, 0.05, 0..200),
        ) {
            let mut macd = Macd::new(fast, slow, signal);
            prop_assert_eq!(macd.warmup(), fast.max(slow) + signal - 1);
            for i in 0..xs.len() {
                let got = macd.update(xs[i]);
                let want = naive(&xs[..=i], fast, slow, signal);
                // MACD is a difference of prices: compare on the price scale.
                let scale = xs[..=i].iter().fold(0.0f64, |m, x| m.max(x.abs()));
                match (got, want) {
                    (Some(a), Some(b)) => {
                        for (x, y) in [(a.macd, b.macd), (a.signal, b.signal), (a.hist, b.hist)] {
                            prop_assert!(
                                (x - y).abs() <= 1e-9 * scale,
                                "input {}: {:?} vs {:?}", i, a, b
                            );
                        }
                    }
                    (None, None) => {}
                    _ => prop_assert!(false, "input {}: {:?} vs {:?}", i, got, want),
                }
            }
        }
    }
}
