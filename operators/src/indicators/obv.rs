//! On-balance volume: volume added on up closes and taken away on down closes.
//!
//! ```text
//! OBV_0 = V_0
//! OBV_t = OBV_{t−1} + V_t   if C_t > C_{t−1}
//!         OBV_{t−1} − V_t   if C_t < C_{t−1}
//!         OBV_{t−1}         if C_t = C_{t−1}
//! ```
//!
//! TA-Lib convention (`OBV`), followed exactly: the series starts at the first bar's
//! volume, at the first bar (lookback 0), and an unchanged close leaves it unchanged.

use super::{Candle, Indicator};

/// On-balance volume of the closes (TA-Lib `OBV`).
#[derive(Debug, Clone, Default)]
pub struct Obv {
    prev_close: Option<f64>,
    value: f64,
}

impl Obv {
    /// Fresh state: the first bar's volume is the first value.
    pub fn new() -> Self {
        Self {
            prev_close: None,
            value: 0.0,
        }
    }
}

impl Indicator for Obv {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, candle: Candle) -> Option<f64> {
        match self.prev_close.replace(candle.close) {
            None => self.value = candle.volume,
            Some(prev) if candle.close > prev => self.value += candle.volume,
            Some(prev) if candle.close < prev => self.value -= candle.volume,
            Some(_) => {}
        }
        Some(self.value)
    }

    /// One bar.
    fn warmup(&self) -> usize {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{candle, candle_walk, near};
    use super::*;
    use proptest::prelude::*;

    /// A flat bar at `close` with `volume`.
    fn bar(close: f64, volume: f64) -> Candle {
        Candle {
            volume,
            ..candle(close, close, close)
        }
    }

    /// OBV of the whole history, as a signed sum of volumes.
    fn naive(c: &[Candle]) -> f64 {
        let signed: f64 = c
            .windows(2)
            .map(|w| match w[1].close.partial_cmp(&w[0].close) {
                Some(std::cmp::Ordering::Greater) => w[1].volume,
                Some(std::cmp::Ordering::Less) => -w[1].volume,
                _ => 0.0,
            })
            .sum();
        c[0].volume + signed
    }

    #[test]
    fn hand_checked_against_ta_lib() {
        // TA-Lib OBV(close = [9, 10.5, 10.5, 9.5, 11.8], volume = [5, 3, 2, 7, 1])
        // = [5, 8, 8, 1, 2].
        let mut obv = Obv::new();
        assert_eq!(obv.warmup(), 1);
        let out: Vec<_> = [
            (9.0, 5.0),
            (10.5, 3.0),
            (10.5, 2.0),
            (9.5, 7.0),
            (11.8, 1.0),
        ]
        .into_iter()
        .map(|(c, v)| obv.update(bar(c, v)))
        .collect();
        assert_eq!(out, [Some(5.0), Some(8.0), Some(8.0), Some(1.0), Some(2.0)]);
    }

    proptest! {
        #[test]
        fn agrees_with_a_recomputation(c in candle_walk(1..150)) {
            let mut obv = Obv::new();
            let scale = c.iter().map(|x| x.volume).sum::<f64>();
            for i in 0..c.len() {
                let got = obv.update(c[i]);
                let want = naive(&c[..=i]);
                prop_assert!(got.is_some());
                let got = got.unwrap_or(f64::NAN);
                prop_assert!(near(got, want, 1e-12, scale), "bar {}: {} vs {}", i, got, want);
            }
        }
    }
}
