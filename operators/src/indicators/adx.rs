//! Wilder's directional movement: +DI, −DI and the average directional index (ADX).
//!
//! For each bar after the first, with `up = H_t − H_{t−1}` and `down = L_{t−1} − L_t`:
//!
//! ```text
//! +DM1 = up   if up > 0 and up > down,   else 0
//! −DM1 = down if down > 0 and down > up, else 0
//! TR1  = max(H_t − L_t, |H_t − C_{t−1}|, |L_t − C_{t−1}|)
//! ```
//!
//! These are smoothed in Wilder's "running sum" form: the first sum is over the first
//! `n − 1` one-bar values (bars 1 … n−1), and from bar `n` on `S_t = S_{t−1} −
//! S_{t−1}/n + x_t`. Then
//!
//! ```text
//! +DI = 100 · +DM_n / TR_n        −DI = 100 · −DM_n / TR_n
//! DX  = 100 · |+DI − −DI| / (+DI + −DI)
//! ADX = mean of the first n DX (bars n … 2n−1), then (ADX · (n − 1) + DX) / n
//! ```
//!
//! TA-Lib conventions (`ADX`, `PLUS_DI`, `MINUS_DI`, from `ta_ADX.c`), followed
//! exactly, operation for operation:
//! - the first ADX is at bar `2n − 1` (TA-Lib's lookback `2n − 1`);
//! - when the smoothed true range is zero, +DI and −DI are 0 and there is no DX; when
//!   +DI + −DI is zero there is no DX either. A missing DX adds 0 to the seeding sum
//!   (which is still divided by `n`) and leaves a running ADX unchanged;
//! - the zero tests are exact (`== 0`), as in the TA-Lib build the reference fixtures
//!   come from (0.8.1, which handles even subnormal prices); TA-Lib 0.4 tested against
//!   an absolute band of 1e-8 instead, which only matters for prices that move by less
//!   than that.
//!
//! One difference of shape: TA-Lib's `PLUS_DI`/`MINUS_DI` give values from bar `n`,
//! but [`Adx`] gives +DI and −DI together with ADX, from bar `2n − 1` on. Where they are
//! given they are TA-Lib's `PLUS_DI(n)`/`MINUS_DI(n)` values.

use super::atr::true_range;
use super::{Candle, Indicator};

/// One value of [`Adx`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdxValue {
    /// The average directional index, in [0, 100].
    pub adx: f64,
    /// The plus directional indicator +DI, in [0, 100].
    pub plus_di: f64,
    /// The minus directional indicator −DI, in [0, 100].
    pub minus_di: f64,
}

/// ADX with +DI and −DI over `period` bars (TA-Lib `ADX`, `PLUS_DI`, `MINUS_DI`).
#[derive(Debug, Clone)]
pub struct Adx {
    period: usize,
    /// High, low and close of the previous bar.
    prev: Option<(f64, f64, f64)>,
    /// Bars seen.
    seen: usize,
    /// Smoothed (running-sum) +DM, −DM and TR.
    plus_dm: f64,
    minus_dm: f64,
    tr: f64,
    /// Sum of the first `period` DX, while seeding.
    sum_dx: f64,
    adx: f64,
}

impl Adx {
    /// ADX over `period` bars. TA-Lib accepts periods from 2; period 1 (0 is taken as
    /// 1) follows the same formulas and gives the one-bar DI and DX, from bar 1.
    pub fn new(period: usize) -> Self {
        Self {
            period: period.max(1),
            prev: None,
            seen: 0,
            plus_dm: 0.0,
            minus_dm: 0.0,
            tr: 0.0,
            sum_dx: 0.0,
            adx: 0.0,
        }
    }

    /// The smoothing period.
    pub fn period(&self) -> usize {
        self.period
    }
}

impl Indicator for Adx {
    type Input = Candle;
    type Output = AdxValue;

    fn update(&mut self, candle: Candle) -> Option<AdxValue> {
        let (high, low, close) = (candle.high, candle.low, candle.close);
        self.seen = self.seen.saturating_add(1);
        let (prev_high, prev_low, prev_close) = self.prev.replace((high, low, close))?;
        // The index of this bar (≥ 1).
        let today = self.seen - 1;
        let up = high - prev_high;
        let down = prev_low - low;
        let (plus, minus) = if down > 0.0 && up < down {
            (0.0, down)
        } else if up > 0.0 && up > down {
            (up, 0.0)
        } else {
            (0.0, 0.0)
        };
        let tr = true_range(high, low, prev_close);
        let p = self.period;
        if today < p {
            self.plus_dm += plus;
            self.minus_dm += minus;
            self.tr += tr;
            return None;
        }
        let n = p as f64;
        self.minus_dm -= self.minus_dm / n;
        self.plus_dm -= self.plus_dm / n;
        self.minus_dm += minus;
        self.plus_dm += plus;
        self.tr = self.tr - self.tr / n + tr;
        let (plus_di, minus_di, dx) = if self.tr != 0.0 {
            let minus_di = 100.0 * (self.minus_dm / self.tr);
            let plus_di = 100.0 * (self.plus_dm / self.tr);
            let sum = minus_di + plus_di;
            let dx = (sum != 0.0).then(|| 100.0 * ((minus_di - plus_di).abs() / sum));
            (plus_di, minus_di, dx)
        } else {
            (0.0, 0.0, None)
        };
        let first = p.saturating_mul(2) - 1;
        if today <= first {
            self.sum_dx += dx.unwrap_or(0.0);
            if today < first {
                return None;
            }
            self.adx = self.sum_dx / n;
        } else if let Some(dx) = dx {
            self.adx = (self.adx * (n - 1.0) + dx) / n;
        }
        Some(AdxValue {
            adx: self.adx,
            plus_di,
            minus_di,
        })
    }

    /// `2 · period` bars (TA-Lib's lookback `2 · period − 1`, plus one).
    fn warmup(&self) -> usize {
        self.period.saturating_mul(2)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{candle, candle_walk, near};
    use super::*;
    use proptest::prelude::*;

    /// ADX, +DI and −DI of the last bar of `c`, recomputed from scratch bar by bar as
    /// whole series, the way Wilder lays the table out.
    fn naive(c: &[Candle], p: usize) -> Option<AdxValue> {
        let last = c.len() - 1;
        if last < 2 * p - 1 {
            return None;
        }
        let n = p as f64;
        let len = c.len();
        let (mut pdm1, mut mdm1, mut tr1) = (vec![0.0; len], vec![0.0; len], vec![0.0; len]);
        for i in 1..len {
            let up = c[i].high - c[i - 1].high;
            let down = c[i - 1].low - c[i].low;
            if down > 0.0 && down > up {
                mdm1[i] = down;
            } else if up > 0.0 && up > down {
                pdm1[i] = up;
            }
            let pc = c[i - 1].close;
            tr1[i] = [
                c[i].high - c[i].low,
                (c[i].high - pc).abs(),
                (c[i].low - pc).abs(),
            ]
            .into_iter()
            .fold(0.0, f64::max);
        }
        // Wilder's running sums, defined from bar p on.
        let smooth = |x: &[f64]| {
            let mut s = vec![f64::NAN; len];
            let mut acc: f64 = x[1..p].iter().sum();
            for i in p..len {
                acc = acc - acc / n + x[i];
                s[i] = acc;
            }
            s
        };
        let (pdm, mdm, tr) = (smooth(&pdm1), smooth(&mdm1), smooth(&tr1));
        let di = |i: usize| {
            if tr[i] == 0.0 {
                (0.0, 0.0)
            } else {
                (100.0 * pdm[i] / tr[i], 100.0 * mdm[i] / tr[i])
            }
        };
        let dx = |i: usize| {
            let (pl, mi) = di(i);
            (pl + mi != 0.0).then(|| 100.0 * (pl - mi).abs() / (pl + mi))
        };
        let mut adx = (p..2 * p).map(|i| dx(i).unwrap_or(0.0)).sum::<f64>() / n;
        for i in 2 * p..len {
            if let Some(dx) = dx(i) {
                adx = (adx * (n - 1.0) + dx) / n;
            }
        }
        let (plus_di, minus_di) = di(last);
        Some(AdxValue {
            adx,
            plus_di,
            minus_di,
        })
    }

    #[test]
    fn hand_checked_against_ta_lib() {
        // TA-Lib ADX(2) = [nan, nan, nan, 400/7, 3250/77]; PLUS_DI(2) = [nan, nan, 50,
        // 18.75, 87.5/4.5], MINUS_DI(2) = [nan, nan, 0, 25, 50/4.5].
        let bars = [
            candle(10.0, 8.0, 9.0),
            candle(11.0, 9.0, 10.5),
            candle(12.0, 10.0, 11.0),
            candle(11.5, 9.0, 9.5),
            candle(12.0, 11.0, 11.8),
        ];
        let mut adx = Adx::new(2);
        assert_eq!(adx.warmup(), 4);
        let out: Vec<_> = bars.iter().map(|b| adx.update(*b)).collect();
        assert_eq!(&out[..3], &[None, None, None]);
        let v3 = out[3].unwrap();
        assert!((v3.adx - 400.0 / 7.0).abs() < 1e-12);
        assert!((v3.plus_di - 18.75).abs() < 1e-12);
        assert!((v3.minus_di - 25.0).abs() < 1e-12);
        let v4 = out[4].unwrap();
        assert!((v4.adx - 3250.0 / 77.0).abs() < 1e-12);
        assert!((v4.plus_di - 87.5 / 4.5).abs() < 1e-12);
        assert!((v4.minus_di - 50.0 / 4.5).abs() < 1e-12);
        // No absolute epsilon: the same bars at any price scale give the same values.
        for scale in [1e-12, 1e-200, 1e12] {
            let mut adx = Adx::new(2);
            let mut last = None;
            for b in &bars {
                last = adx.update(candle(b.high * scale, b.low * scale, b.close * scale));
            }
            let v = last.unwrap();
            assert!((v.adx - 3250.0 / 77.0).abs() < 1e-9, "{scale}: {v:?}");
            assert!((v.plus_di - 87.5 / 4.5).abs() < 1e-9, "{scale}: {v:?}");
            assert!((v.minus_di - 50.0 / 4.5).abs() < 1e-9, "{scale}: {v:?}");
        }
    }

    #[test]
    fn flat_start_and_ties() {
        // TA-Lib, period 3, on flat bars, then bars that reach as far up as down (no
        // directional movement, but a true range): ADX 0 from bar 5, DI 0; the first
        // move up gives DX 100, so ADX = (0·2 + 100)/3, and +DI = 77.852760736196.
        let mut adx = Adx::new(3);
        let zero = Some(AdxValue {
            adx: 0.0,
            plus_di: 0.0,
            minus_di: 0.0,
        });
        let mut out = Vec::new();
        for _ in 0..6 {
            out.push(adx.update(candle(100.0, 100.0, 100.0)));
        }
        for k in 1..4 {
            let k = k as f64;
            out.push(adx.update(candle(100.0 + k, 100.0 - k, 100.0)));
        }
        assert!(out[..5].iter().all(Option::is_none));
        assert!(out[5..].iter().all(|v| *v == zero), "{out:?}");
        let v = adx.update(candle(150.0, 96.0, 140.0)).unwrap();
        assert!((v.adx - 100.0 / 3.0).abs() < 1e-12, "{v:?}");
        assert!((v.plus_di - 77.852760736196).abs() < 1e-9, "{v:?}");
        assert_eq!(v.minus_di, 0.0);
    }

    #[test]
    fn a_missing_dx_leaves_adx_unchanged() {
        // Period 1 smooths nothing, so a tie (up = down) leaves no DM at all: no DX, and
        // the ADX keeps its value instead of decaying towards 0.
        let mut adx = Adx::new(1);
        assert_eq!(adx.warmup(), 2);
        assert_eq!(adx.update(candle(10.0, 8.0, 9.0)), None);
        let v = adx.update(candle(11.0, 9.0, 10.0)).unwrap();
        assert_eq!((v.adx, v.plus_di, v.minus_di), (100.0, 50.0, 0.0));
        let v = adx.update(candle(12.0, 8.0, 10.0)).unwrap();
        assert_eq!((v.adx, v.plus_di, v.minus_di), (100.0, 0.0, 0.0));
        let v = adx.update(candle(11.0, 7.0, 8.0)).unwrap();
        assert_eq!((v.adx, v.plus_di, v.minus_di), (100.0, 0.0, 25.0));
    }

    proptest! {
        #[test]
        fn agrees_with_a_recomputation(period in 1usize..20, c in candle_walk(1..120)) {
            let mut adx = Adx::new(period);
            prop_assert_eq!(adx.warmup(), 2 * period);
            for i in 0..c.len() {
                let got = adx.update(c[i]);
                let want = naive(&c[..=i], period);
                match (got, want) {
                    (Some(a), Some(b)) => {
                        for (x, y) in [(a.adx, b.adx), (a.plus_di, b.plus_di), (a.minus_di, b.minus_di)] {
                            prop_assert!(near(x, y, 1e-9, 1.0), "bar {}: {:?} vs {:?}", i, a, b);
                            prop_assert!((0.0..=100.0).contains(&x));
                        }
                    }
                    (None, None) => {}
                    (a, b) => prop_assert!(false, "bar {}: {:?} vs {:?}", i, a, b),
                }
                prop_assert_eq!(got.is_some(), i + 1 >= adx.warmup());
            }
        }
    }
}
