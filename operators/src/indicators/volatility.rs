//! Rolling volatility estimators: realized (close to close), Parkinson (high-low) and
//! Garman-Klass (OHLC).
//!
//! Over the last `n` values, with `r_t = ln(C_t / C_{t−1})`:
//!
//! ```text
//! realized     = sqrt( Σ r_t² / n )
//! Parkinson    = sqrt( Σ ln(H_t / L_t)² / (4 ln 2 · n) )
//! Garman-Klass = sqrt( (1/n) Σ [ ½ ln(H_t / L_t)² − (2 ln 2 − 1) ln(C_t / O_t)² ] )
//! ```
//!
//! All three are per bar (the volatility of one bar's return), not annualised: multiply
//! by `sqrt(bars per year)` to annualise. The realized volatility is the root mean
//! square of the returns (no mean subtracted, divided by `n`). A Garman-Klass mean that
//! comes out negative (a window of bars that moved from open to close nearly as far as
//! their range) is taken as 0 before the square root.
//!
//! TA-Lib has none of these; the references are pandas'
//! `sqrt((r**2).rolling(n).mean())` and the like. [`RealizedVol`] takes closes and gives
//! its first value at price `n` (index `n`: `n` returns need `n + 1` prices);
//! [`Parkinson`] and [`GarmanKlass`] take bars and give theirs at bar `n − 1`.

use std::f64::consts::LN_2;

use super::returns::LogReturn;
use super::{Candle, Indicator, RollingSum};

/// The mean of the last `n` terms, exactly 0 when they all are (a window of flat bars
/// has no volatility, not the rounding residue of the running sum).
#[derive(Debug, Clone)]
struct WindowMean {
    sum: RollingSum,
    /// Non-zero terms in the window.
    nonzero: usize,
}

impl WindowMean {
    fn new(n: usize) -> Self {
        Self {
            sum: RollingSum::new(n.max(1)),
            nonzero: 0,
        }
    }

    /// Push `x`; the mean of the window, once it is full.
    fn push(&mut self, x: f64) -> Option<f64> {
        if let Some(old) = self.sum.push(x) {
            if old != 0.0 {
                self.nonzero -= 1;
            }
        }
        if x != 0.0 {
            self.nonzero += 1;
        }
        if !self.sum.is_full() {
            return None;
        }
        Some(if self.nonzero == 0 {
            0.0
        } else {
            self.sum.mean()
        })
    }

    fn period(&self) -> usize {
        self.sum.ring().capacity()
    }
}

/// Realized volatility: the root mean square of the last `period` log returns of the
/// prices fed, per bar.
#[derive(Debug, Clone)]
pub struct RealizedVol {
    ret: LogReturn,
    squares: WindowMean,
}

impl RealizedVol {
    /// Over `period` returns (at least one).
    pub fn new(period: usize) -> Self {
        Self {
            ret: LogReturn::new(),
            squares: WindowMean::new(period),
        }
    }

    /// The number of returns in the window.
    pub fn period(&self) -> usize {
        self.squares.period()
    }
}

impl Indicator for RealizedVol {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, price: f64) -> Option<f64> {
        let r = self.ret.update(price)?;
        let mean = self.squares.push(r * r)?;
        Some(mean.max(0.0).sqrt())
    }

    /// `period + 1` prices.
    fn warmup(&self) -> usize {
        self.period() + 1
    }
}

/// Parkinson's high-low volatility over the last `period` bars, per bar.
#[derive(Debug, Clone)]
pub struct Parkinson {
    squares: WindowMean,
}

impl Parkinson {
    /// Over `period` bars (at least one).
    pub fn new(period: usize) -> Self {
        Self {
            squares: WindowMean::new(period),
        }
    }

    /// The number of bars in the window.
    pub fn period(&self) -> usize {
        self.squares.period()
    }
}

impl Indicator for Parkinson {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, candle: Candle) -> Option<f64> {
        let hl = (candle.high / candle.low).ln();
        let mean = self.squares.push(hl * hl)?;
        Some((mean / (4.0 * LN_2)).max(0.0).sqrt())
    }

    /// `period` bars.
    fn warmup(&self) -> usize {
        self.period()
    }
}

/// Garman and Klass's open-high-low-close volatility over the last `period` bars, per
/// bar.
#[derive(Debug, Clone)]
pub struct GarmanKlass {
    terms: WindowMean,
}

impl GarmanKlass {
    /// Over `period` bars (at least one).
    pub fn new(period: usize) -> Self {
        Self {
            terms: WindowMean::new(period),
        }
    }

    /// The number of bars in the window.
    pub fn period(&self) -> usize {
        self.terms.period()
    }
}

impl Indicator for GarmanKlass {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, candle: Candle) -> Option<f64> {
        let hl = (candle.high / candle.low).ln();
        let co = (candle.close / candle.open).ln();
        let term = 0.5 * hl * hl - (2.0 * LN_2 - 1.0) * co * co;
        let mean = self.terms.push(term)?;
        Some(mean.max(0.0).sqrt())
    }

    /// `period` bars.
    fn warmup(&self) -> usize {
        self.period()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{candle, candle_walk};
    use super::*;
    use proptest::prelude::*;

    fn bar(open: f64, high: f64, low: f64, close: f64) -> Candle {
        Candle {
            open,
            ..candle(high, low, close)
        }
    }

    /// Whether `got` is `want` (both square roots of a mean of terms) to 1e-9 of the
    /// mean's scale: compared as squares, because near zero the square root magnifies
    /// the running sum's last-bit rounding. `largest` is the largest |term| fed so far.
    fn agrees(got: f64, want: f64, largest: f64) -> bool {
        (got * got - want * want).abs() <= 1e-9 * (want * want + largest)
    }

    /// The root of the mean of `terms`, floored at 0.
    fn root_mean(terms: &[f64]) -> f64 {
        (terms.iter().sum::<f64>() / terms.len() as f64)
            .max(0.0)
            .sqrt()
    }

    #[test]
    fn hand_checked() {
        // Closes 100, 110, 100, 100: returns ±ln 1.1 and 0.
        let mut rv = RealizedVol::new(2);
        assert_eq!(rv.warmup(), 3);
        let out: Vec<_> = [100.0, 110.0, 100.0, 100.0]
            .into_iter()
            .map(|p| rv.update(p))
            .collect();
        let l = 1.1f64.ln();
        assert_eq!(&out[..2], &[None, None]);
        assert!((out[2].unwrap() - l).abs() < 1e-15);
        assert!((out[3].unwrap() - l / 2f64.sqrt()).abs() < 1e-15);
        assert_eq!(rv.update(100.0), Some(0.0));

        // A bar from 100 to 100·e^0.1 (high e^0.1 above its low): ln(H/L)² = 0.01.
        let e = 0.1f64.exp();
        let b = bar(100.0, 100.0 * e, 100.0, 100.0 * e);
        let mut pk = Parkinson::new(1);
        let mut gk = GarmanKlass::new(1);
        assert_eq!((pk.warmup(), gk.warmup()), (1, 1));
        let p = pk.update(b).unwrap();
        assert!((p - (0.01 / (4.0 * LN_2)).sqrt()).abs() < 1e-15, "{p}");
        // ½·0.01 − (2 ln 2 − 1)·0.01 = (1.5 − 2 ln 2)·0.01.
        let g = gk.update(b).unwrap();
        assert!(
            (g - ((1.5 - 2.0 * LN_2) * 0.01).sqrt()).abs() < 1e-15,
            "{g}"
        );
        // A bar that closes where it opens: only the range counts, ½·ln(1.21)².
        let g = gk.update(bar(100.0, 121.0, 100.0, 100.0)).unwrap();
        assert!((g - (0.5f64).sqrt() * 1.21f64.ln()).abs() < 1e-15, "{g}");

        // Windows of two; flat bars give exactly zero.
        let mut pk = Parkinson::new(2);
        let flat = bar(5.0, 5.0, 5.0, 5.0);
        assert_eq!(pk.update(b), None);
        let p = pk.update(flat).unwrap();
        assert!((p - (0.01 / (8.0 * LN_2)).sqrt()).abs() < 1e-15);
        assert_eq!(pk.update(flat), Some(0.0));
    }

    proptest! {
        #[test]
        fn realized_agrees_with_a_recomputation(period in 1usize..30, c in candle_walk(1..150)) {
            let mut rv = RealizedVol::new(period);
            prop_assert_eq!(rv.warmup(), period + 1);
            let closes: Vec<f64> = c.iter().map(|b| b.close).collect();
            let mut largest = 0.0f64;
            for i in 0..closes.len() {
                let got = rv.update(closes[i]);
                if i >= 1 {
                    let r = (closes[i] / closes[i - 1]).ln();
                    largest = largest.max(r * r);
                }
                if i < period {
                    prop_assert_eq!(got, None);
                    continue;
                }
                let squares: Vec<f64> = (i + 1 - period..=i)
                    .map(|j| (closes[j].ln() - closes[j - 1].ln()).powi(2))
                    .collect();
                let want = root_mean(&squares);
                let got = got.unwrap_or(f64::NAN);
                prop_assert!(agrees(got, want, largest), "bar {}: {} vs {}", i, got, want);
            }
        }

        #[test]
        fn parkinson_and_garman_klass_agree_with_a_recomputation(
            period in 1usize..30,
            c in candle_walk(1..150),
        ) {
            let mut pk = Parkinson::new(period);
            let mut gk = GarmanKlass::new(period);
            prop_assert_eq!((pk.warmup(), gk.warmup()), (period, period));
            let (mut largest_pk, mut largest_gk) = (0.0f64, 0.0f64);
            for i in 0..c.len() {
                let got_pk = pk.update(c[i]);
                let got_gk = gk.update(c[i]);
                let hl = c[i].high.ln() - c[i].low.ln();
                let co = c[i].close.ln() - c[i].open.ln();
                largest_pk = largest_pk.max(hl * hl / (4.0 * LN_2));
                largest_gk = largest_gk.max(0.5 * hl * hl).max((2.0 * LN_2 - 1.0) * co * co);
                if i + 1 < period {
                    prop_assert_eq!((got_pk, got_gk), (None, None));
                    continue;
                }
                let window = &c[i + 1 - period..=i];
                let pk_terms: Vec<f64> = window
                    .iter()
                    .map(|b| (b.high.ln() - b.low.ln()).powi(2) / (4.0 * LN_2))
                    .collect();
                let gk_terms: Vec<f64> = window
                    .iter()
                    .map(|b| {
                        let hl = b.high.ln() - b.low.ln();
                        let co = b.close.ln() - b.open.ln();
                        0.5 * hl.powi(2) - (2.0 * LN_2 - 1.0) * co.powi(2)
                    })
                    .collect();
                let (want_pk, want_gk) = (root_mean(&pk_terms), root_mean(&gk_terms));
                let (got_pk, got_gk) = (got_pk.unwrap_or(f64::NAN), got_gk.unwrap_or(f64::NAN));
                prop_assert!(agrees(got_pk, want_pk, largest_pk), "bar {}: {} vs {}", i, got_pk, want_pk);
                prop_assert!(agrees(got_gk, want_gk, largest_gk), "bar {}: {} vs {}", i, got_gk, want_gk);
                prop_assert!(got_pk >= 0.0 && got_gk >= 0.0);
            }
        }
    }
}
