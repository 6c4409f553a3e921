//! What the indicators' tests share: proptest strategies for prices and candles, a
//! candle constructor and a relative-tolerance comparison.

use std::ops::Range;

use proptest::prelude::*;

use super::{Candle, Indicator};

/// One hour, in ns.
const HOUR_NS: i64 = 3_600_000_000_000;

/// One of three `levels`, the first four times as often as each of the others.
fn level(levels: [f64; 3]) -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => Just(levels[0]),
        1 => Just(levels[1]),
        1 => Just(levels[2]),
    ]
}

/// Prices on a random walk: a number of prices drawn from `len`, each a step of up to
/// ±`max_step` (relative) from the one before, one step in five exactly flat; the walk
/// starts from a price drawn from `start` (which is not itself in the output).
pub(crate) fn price_walk(
    start: Range<f64>,
    max_step: f64,
    len: Range<usize>,
) -> impl Strategy<Value = Vec<f64>> {
    let step = prop_oneof![1 => Just(0.0), 4 => -max_step..max_step];
    (start, prop::collection::vec(step, len)).prop_map(|(start, steps)| {
        steps
            .iter()
            .scan(start, |p, r| {
                *p *= 1.0 + r;
                Some(*p)
            })
            .collect()
    })
}

/// Up to 99 prices on three exact `levels` (see [`level`]): long flat stretches.
pub(crate) fn choppy_prices(levels: [f64; 3]) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(level(levels), 0..100)
}

/// Valid candles (`0 < low ≤ open, close ≤ high`) on a random walk, as many as drawn
/// from `len`, starting from 0.5..2000 or from 1..1e5. One bar in five is flat with no
/// volume (open = high = low = close = the previous close), one in ten closes where the
/// previous one did; the others open at the previous close or gap up to ±1 % from it
/// (half and half), move up to ±5 % (one in five exactly flat) and have wicks of up to
/// 2 % on each side (one in three none), with a volume of 1..1000. So ties, zero ranges
/// and zero volumes happen. Timestamps start on a random UTC day (before or after the
/// epoch) and step by 0 to 3 hours.
pub(crate) fn candle_walk(len: Range<usize>) -> impl Strategy<Value = Vec<Candle>> {
    let gap = prop_oneof![Just(0.0), -0.01f64..0.01];
    let step = prop_oneof![1 => Just(0.0), 4 => -0.05f64..0.05];
    let wick = || prop_oneof![1 => Just(0.0), 2 => 0.0f64..0.02];
    let bar = (0u8..10, gap, step, wick(), wick(), 1.0f64..1000.0, 0i64..4);
    (
        prop_oneof![0.5f64..2000.0, 1.0f64..1e5],
        -5i64..5,
        prop::collection::vec(bar, len),
    )
        .prop_map(|(start, day, bars)| {
            let mut prev = start;
            let mut ts = day * 24 * HOUR_NS;
            bars.into_iter()
                .map(|(kind, gap, step, up, down, volume, hours)| {
                    ts += hours * HOUR_NS;
                    let candle = if kind < 2 {
                        Candle {
                            ts,
                            open: prev,
                            high: prev,
                            low: prev,
                            close: prev,
                            volume: 0.0,
                        }
                    } else {
                        let open = prev * (1.0 + gap);
                        let close = if kind == 2 { prev } else { open * (1.0 + step) };
                        Candle {
                            ts,
                            open,
                            high: open.max(close) * (1.0 + up),
                            low: open.min(close) * (1.0 - down),
                            close,
                            volume,
                        }
                    };
                    prev = candle.close;
                    candle
                })
                .collect()
        })
}

/// How [`choppy_candles`] gives a bar its wicks.
pub(crate) enum Wicks {
    /// One bar in four has a wick on both sides, the same length: the typical price is
    /// the close, so flat typical prices are common.
    Symmetric,
    /// Each side has one, one time in four, on its own: flat ranges are common.
    Independent,
}

/// Up to 99 candles on small exact numbers (made with [`candle`]): closes on three
/// levels (see [`level`]), wicks of 0 or `wick` as `wicks` says. Flat windows are
/// common.
pub(crate) fn choppy_candles(
    closes: [f64; 3],
    wick: f64,
    wicks: Wicks,
) -> impl Strategy<Value = Vec<Candle>> {
    let side = move || prop_oneof![3 => Just(0.0), 1 => Just(wick)];
    let sides = match wicks {
        Wicks::Symmetric => side().prop_map(|w| (w, w)).boxed(),
        Wicks::Independent => (side(), side()).boxed(),
    };
    prop::collection::vec((level(closes), sides), 0..100).prop_map(|bars| {
        bars.into_iter()
            .map(|(c, (up, down))| candle(c + up, c - down, c))
            .collect()
    })
}

/// A candle at time 0 that opens where it closes, with a volume of 1.
pub(crate) fn candle(high: f64, low: f64, close: f64) -> Candle {
    Candle {
        ts: 0,
        open: close,
        high,
        low,
        close,
        volume: 1.0,
    }
}

/// Whether `got` is within `rel` of `want`, relative to `scale` or to `|want|` if that is
/// larger: `scale` 0 is purely relative, `rel · scale` a floor for values near 0. For
/// `prop_assert!` and `assert!`.
pub(crate) fn near(got: f64, want: f64, rel: f64, scale: f64) -> bool {
    (got - want).abs() <= rel * scale.max(want.abs())
}

/// The last `n` of `xs`, if there are that many: the window an indicator of period `n`
/// sees at the end of `xs`.
pub(crate) fn last<T>(xs: &[T], n: usize) -> Option<&[T]> {
    xs.len().checked_sub(n).map(|start| &xs[start..])
}

/// Feeds `inputs` to `indicator` one at a time and fails unless each value agrees with
/// `naive` of the inputs so far: both `None`, or both a value and [`near`] to `rel`
/// with `scale`.
pub(crate) fn check_scan<I>(
    indicator: &mut I,
    inputs: &[I::Input],
    naive: impl Fn(&[I::Input]) -> Option<f64>,
    rel: f64,
    scale: f64,
) -> Result<(), TestCaseError>
where
    I: Indicator<Output = f64>,
    I::Input: Copy,
{
    for i in 0..inputs.len() {
        let got = indicator.update(inputs[i]);
        let want = naive(&inputs[..=i]);
        match (got, want) {
            (Some(a), Some(b)) => {
                prop_assert!(near(a, b, rel, scale), "input {}: {} vs {}", i, a, b)
            }
            (None, None) => {}
            _ => prop_assert!(false, "input {}: {:?} vs {:?}", i, got, want),
        }
    }
    Ok(())
}
