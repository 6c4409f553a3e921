//! Volume-weighted average price of bars, by session or over a rolling window.
//!
//! Each bar stands for its volume traded at its typical price `TP = (H + L + C) / 3`:
//!
//! ```text
//! VWAP = Σ TP_i · V_i / Σ V_i
//! ```
//!
//! summed over the bars of the current session ([`SessionVwap`]: sessions are the
//! buckets `ts / session_ns` of the bars' start times, UTC days by default) or over the
//! last `n` bars ([`RollingVwap`]). When the volume summed is zero (no trade at all in
//! the session or window), the VWAP is the typical price of the newest bar, so the
//! series stays defined.
//!
//! TA-Lib has no VWAP. The rolling form is pandas'
//! `(tp * v).rolling(n).sum() / v.rolling(n).sum()`, first value at bar `n − 1`, except
//! that pandas gives NaN where the volume sum is zero.

use bot4_schemas::{Nanos, NANOS_PER_SECOND};

use super::{Candle, Indicator, RollingSum};

/// One UTC day, in ns: the default session.
pub const DAY_NS: Nanos = 86_400 * NANOS_PER_SECOND;

/// VWAP since the start of the current session.
///
/// A bar belongs to session `ts.div_euclid(session_ns)` (so sessions start at multiples
/// of `session_ns` since the epoch, also before it); a bar of another session than the
/// previous one (later or, for out-of-order input, earlier) starts the sums afresh.
#[derive(Debug, Clone)]
pub struct SessionVwap {
    session_ns: Nanos,
    session: Option<Nanos>,
    /// Σ TP · V and Σ V over the session so far.
    pv: f64,
    volume: f64,
}

impl SessionVwap {
    /// VWAP over sessions of `session_ns` nanoseconds (at least 1 ns).
    pub fn new(session_ns: Nanos) -> Self {
        Self {
            session_ns: session_ns.max(1),
            session: None,
            pv: 0.0,
            volume: 0.0,
        }
    }

    /// VWAP over UTC days.
    pub fn daily() -> Self {
        Self::new(DAY_NS)
    }

    /// The session length, in ns.
    pub fn session_ns(&self) -> Nanos {
        self.session_ns
    }
}

impl Indicator for SessionVwap {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, candle: Candle) -> Option<f64> {
        let session = candle.ts.div_euclid(self.session_ns);
        if self.session != Some(session) {
            self.session = Some(session);
            self.pv = 0.0;
            self.volume = 0.0;
        }
        let tp = candle.typical();
        self.pv += tp * candle.volume;
        self.volume += candle.volume;
        Some(if self.volume != 0.0 {
            self.pv / self.volume
        } else {
            tp
        })
    }

    /// One bar: every bar has a value.
    fn warmup(&self) -> usize {
        1
    }
}

/// VWAP over the last `period` bars.
#[derive(Debug, Clone)]
pub struct RollingVwap {
    pv: RollingSum,
    volume: RollingSum,
    /// Bars in the window with a non-zero volume: when none, the sums are exactly zero
    /// whatever rounding the running sums kept.
    traded: usize,
}

impl RollingVwap {
    /// VWAP over `period` bars (at least one).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            pv: RollingSum::new(period),
            volume: RollingSum::new(period),
            traded: 0,
        }
    }

    /// The window length.
    pub fn period(&self) -> usize {
        self.volume.ring().capacity()
    }
}

impl Indicator for RollingVwap {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, candle: Candle) -> Option<f64> {
        let tp = candle.typical();
        self.pv.push(tp * candle.volume);
        if let Some(old) = self.volume.push(candle.volume) {
            if old != 0.0 {
                self.traded -= 1;
            }
        }
        if candle.volume != 0.0 {
            self.traded += 1;
        }
        if !self.volume.is_full() {
            return None;
        }
        Some(if self.traded == 0 {
            tp
        } else {
            self.pv.sum() / self.volume.sum()
        })
    }

    /// `period` bars.
    fn warmup(&self) -> usize {
        self.period()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{candle, candle_walk, near};
    use super::*;
    use proptest::prelude::*;

    fn bar(ts: Nanos, high: f64, low: f64, close: f64, volume: f64) -> Candle {
        Candle {
            ts,
            volume,
            ..candle(high, low, close)
        }
    }

    /// VWAP of `bars`, from scratch: typical price weighted by volume, or the last
    /// bar's typical price when nothing traded.
    fn naive(bars: &[Candle]) -> f64 {
        let tp = |b: &Candle| (b.high + b.low + b.close) / 3.0;
        let v: f64 = bars.iter().map(|b| b.volume).sum();
        if v == 0.0 {
            bars.last().map_or(f64::NAN, tp)
        } else {
            bars.iter().map(|b| tp(b) * b.volume).sum::<f64>() / v
        }
    }

    /// The largest typical price among `bars`: the scale of the VWAP's rounding.
    fn scale(bars: &[Candle]) -> f64 {
        bars.iter().map(|b| b.high).fold(0.0, f64::max)
    }

    #[test]
    fn hand_checked() {
        let h = 3_600 * NANOS_PER_SECOND;
        // Typical prices 10, 20, 30, 40 (high = low = close).
        let bars = [
            bar(22 * h, 10.0, 10.0, 10.0, 1.0),
            bar(23 * h, 20.0, 20.0, 20.0, 3.0),
            bar(24 * h, 30.0, 30.0, 30.0, 0.0),
            bar(25 * h, 40.0, 40.0, 40.0, 1.0),
        ];
        let mut day = SessionVwap::daily();
        let out: Vec<_> = bars.iter().map(|b| day.update(*b)).collect();
        // Day 0: 10, (10 + 60)/4 = 17.5; day 1 starts at 24 h: nothing traded, so the
        // typical price 30; then 40.
        assert_eq!(out, [Some(10.0), Some(17.5), Some(30.0), Some(40.0)]);
        let mut roll = RollingVwap::new(2);
        let out: Vec<_> = bars.iter().map(|b| roll.update(*b)).collect();
        // (10 + 60)/4, (60 + 0)/3, (0 + 40)/1.
        assert_eq!(out, [None, Some(17.5), Some(20.0), Some(40.0)]);
        assert_eq!((day.warmup(), roll.warmup()), (1, 2));
        // Typical price with a real range: (12 + 6 + 9)/3 = 9.
        let mut vw = SessionVwap::new(h);
        assert_eq!(vw.update(bar(-1, 12.0, 6.0, 9.0, 2.0)), Some(9.0));
        // ts −1 is in session −1, ts 0 in session 0.
        assert_eq!(vw.update(bar(0, 3.0, 3.0, 3.0, 0.0)), Some(3.0));
        let mut roll = RollingVwap::new(2);
        roll.update(bar(0, 5.0, 5.0, 5.0, 0.0));
        assert_eq!(roll.update(bar(0, 6.0, 6.0, 6.0, 0.0)), Some(6.0));
    }

    proptest! {
        #[test]
        fn session_agrees_with_a_recomputation(
            hours in 1i64..30,
            c in candle_walk(1..150),
        ) {
            let session_ns = hours * 3_600 * NANOS_PER_SECOND;
            let mut vwap = SessionVwap::new(session_ns);
            let daily = SessionVwap::daily();
            prop_assert_eq!(daily.session_ns(), DAY_NS);
            for i in 0..c.len() {
                let got = vwap.update(c[i]);
                // The session's bars: those since the last change of bucket (the
                // timestamps never go back).
                let bucket = |b: &Candle| (b.ts as f64 / session_ns as f64).floor() as i64;
                let start = (0..=i).rev().take_while(|&j| bucket(&c[j]) == bucket(&c[i])).last().unwrap_or(i);
                let want = naive(&c[start..=i]);
                let got = got.unwrap_or(f64::NAN);
                prop_assert!(near(got, want, 1e-9, scale(&c[start..=i])), "bar {}: {} vs {}", i, got, want);
            }
        }

        #[test]
        fn rolling_agrees_with_a_recomputation(period in 1usize..30, c in candle_walk(1..150)) {
            let mut vwap = RollingVwap::new(period);
            prop_assert_eq!(vwap.warmup(), period);
            for i in 0..c.len() {
                let got = vwap.update(c[i]);
                if i + 1 < period {
                    prop_assert_eq!(got, None);
                    continue;
                }
                let window = &c[i + 1 - period..=i];
                let want = naive(window);
                let got = got.unwrap_or(f64::NAN);
                prop_assert!(near(got, want, 1e-9, scale(window)), "bar {}: {} vs {}", i, got, want);
            }
        }
    }
}
