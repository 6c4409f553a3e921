//! True range and Wilder's average true range.
//!
//! The true range of bar `t` is the widest of its own range and its gaps from the
//! previous close:
//!
//! ```text
//! TR_t = max(H_t − L_t, |H_t − C_{t−1}|, |L_t − C_{t−1}|)
//! ```
//!
//! and the average true range smooths it the way Wilder did:
//!
//! ```text
//! ATR_first = (TR_1 + … + TR_n) / n            (at bar n)
//! ATR_t     = (ATR_{t−1} · (n − 1) + TR_t) / n  (after)
//! ```
//!
//! TA-Lib conventions (`TRANGE`, `ATR`), followed exactly:
//! - there is no true range for the first bar (it has no previous close), so `TRANGE`'s
//!   first value is at the second bar (index 1);
//! - `ATR(n)` is seeded with the simple mean of the first `n` true ranges, so its first
//!   value is at bar `n` (index `n`, lookback `n`); `ATR(1)` is the true range itself;
//! - the operations are done in TA-Lib's order (`prev · (n − 1)`, `+ TR`, `/ n`).

use super::{Candle, Indicator};

/// The true range of a bar (`high`, `low`) after a bar that closed at `prev_close`:
/// `max(high − low, |high − prev_close|, |low − prev_close|)`, in TA-Lib's arithmetic.
#[inline]
pub fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    let mut tr = high - low;
    let up = (high - prev_close).abs();
    if up > tr {
        tr = up;
    }
    let down = (low - prev_close).abs();
    if down > tr {
        tr = down;
    }
    tr
}

/// The true range of each bar (TA-Lib `TRANGE`), from the second bar on.
#[derive(Debug, Clone, Default)]
pub struct TrueRange {
    prev_close: Option<f64>,
}

impl TrueRange {
    /// Fresh state: the first bar only gives the previous close.
    pub fn new() -> Self {
        Self { prev_close: None }
    }
}

impl Indicator for TrueRange {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, candle: Candle) -> Option<f64> {
        let prev = self.prev_close.replace(candle.close)?;
        Some(true_range(candle.high, candle.low, prev))
    }

    /// Two bars: the first only gives the previous close.
    fn warmup(&self) -> usize {
        2
    }
}

/// Wilder's average true range over `period` bars (TA-Lib `ATR`).
#[derive(Debug, Clone)]
pub struct Atr {
    period: usize,
    tr: TrueRange,
    /// True ranges seen, up to `period`.
    count: usize,
    /// Their sum, while seeding.
    sum: f64,
    value: f64,
}

impl Atr {
    /// ATR over `period` bars (at least one: 0 is taken as 1; `Atr::new(1)` is the true
    /// range).
    pub fn new(period: usize) -> Self {
        Self {
            period: period.max(1),
            tr: TrueRange::new(),
            count: 0,
            sum: 0.0,
            value: 0.0,
        }
    }

    /// The smoothing period.
    pub fn period(&self) -> usize {
        self.period
    }
}

impl Indicator for Atr {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, candle: Candle) -> Option<f64> {
        let tr = self.tr.update(candle)?;
        let n = self.period as f64;
        if self.count < self.period {
            self.sum += tr;
            self.count += 1;
            if self.count < self.period {
                return None;
            }
            self.value = self.sum / n;
        } else {
            self.value = (self.value * (n - 1.0) + tr) / n;
        }
        Some(self.value)
    }

    /// `period + 1` bars: `period` true ranges, the first of which needs two bars.
    fn warmup(&self) -> usize {
        self.period.saturating_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{candle, candle_walk, near};
    use super::*;
    use proptest::prelude::*;

    /// The true range of bar `i ≥ 1`, from its definition.
    fn naive_tr(c: &[Candle], i: usize) -> f64 {
        let pc = c[i - 1].close;
        [
            c[i].high - c[i].low,
            (c[i].high - pc).abs(),
            (c[i].low - pc).abs(),
        ]
        .into_iter()
        .fold(0.0, f64::max)
    }

    /// ATR of the whole history `c`, recomputed from scratch.
    fn naive_atr(c: &[Candle], period: usize) -> Option<f64> {
        if c.len() < period + 1 {
            return None;
        }
        let trs: Vec<f64> = (1..c.len()).map(|i| naive_tr(c, i)).collect();
        let n = period as f64;
        let mut atr = trs[..period].iter().sum::<f64>() / n;
        for tr in &trs[period..] {
            atr = (atr * (n - 1.0) + tr) / n;
        }
        Some(atr)
    }

    #[test]
    fn hand_checked_against_ta_lib() {
        // TA-Lib: TRANGE = [nan, 2, 2, 2.5, 2.5], ATR(3) = [nan, nan, nan, 13/6, 41/18].
        let bars = [
            candle(10.0, 8.0, 9.0),
            candle(11.0, 9.0, 10.5),
            candle(12.0, 10.0, 11.0),
            candle(11.5, 9.0, 9.5),
            candle(12.0, 11.0, 11.8),
        ];
        let mut tr = TrueRange::new();
        let mut atr = Atr::new(3);
        let mut atr1 = Atr::new(1);
        let trs: Vec<_> = bars.iter().map(|b| tr.update(*b)).collect();
        let atrs: Vec<_> = bars.iter().map(|b| atr.update(*b)).collect();
        let atr1s: Vec<_> = bars.iter().map(|b| atr1.update(*b)).collect();
        assert_eq!(trs, [None, Some(2.0), Some(2.0), Some(2.5), Some(2.5)]);
        assert_eq!(atr1s, trs);
        assert_eq!(&atrs[..3], &[None, None, None]);
        assert!((atrs[3].unwrap() - 13.0 / 6.0).abs() < 1e-12);
        assert!((atrs[4].unwrap() - 41.0 / 18.0).abs() < 1e-12);
        assert_eq!((tr.warmup(), atr.warmup(), atr1.warmup()), (2, 4, 2));
        // A gap: the previous close is outside the bar.
        assert_eq!(true_range(105.0, 104.0, 100.0), 5.0);
        assert_eq!(true_range(96.0, 95.0, 100.0), 5.0);
    }

    proptest! {
        #[test]
        fn agrees_with_a_recomputation(period in 1usize..30, c in candle_walk(1..120)) {
            let mut tr = TrueRange::new();
            let mut atr = Atr::new(period);
            prop_assert_eq!(atr.warmup(), period + 1);
            for i in 0..c.len() {
                let got_tr = tr.update(c[i]);
                let got_atr = atr.update(c[i]);
                if i == 0 {
                    prop_assert_eq!(got_tr, None);
                } else {
                    prop_assert_eq!(got_tr, Some(naive_tr(&c, i)));
                }
                match (got_atr, naive_atr(&c[..=i], period)) {
                    (Some(a), Some(b)) => prop_assert!(near(a, b, 1e-9, 0.0), "bar {}: {} vs {}", i, a, b),
                    (None, None) => {}
                    (a, b) => prop_assert!(false, "bar {}: {:?} vs {:?}", i, a, b),
                }
                prop_assert_eq!(got_atr.is_some(), i + 1 >= atr.warmup());
            }
        }
    }
}
