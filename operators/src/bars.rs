//! Bars from trades: time bars (one per fixed slice of event time) and volume bars (one
//! per fixed traded volume), in exact decimals.
//!
//! Both are fed one symbol's ticks in `(ts, seq)` order; quotes are ignored. A bar is
//! returned when it is known to be complete: a time bar when the first trade of a later
//! slice arrives (or on [`TimeBars::close_until`], when time has moved past it with no
//! trade), a volume bar when its volume is reached. Slices without trades make no bar:
//! there is no price to invent for them.

use bot4_schemas::{Bar, Nanos, SymbolId, Tick, TickKind};
use rust_decimal::Decimal;

/// A bar being built.
#[derive(Debug, Clone, Copy)]
struct Open {
    bar: Bar,
}

impl Open {
    fn start(start: Nanos, end: Nanos, symbol: SymbolId, price: Decimal, size: Decimal) -> Self {
        Self {
            bar: Bar {
                start,
                end,
                symbol,
                open: price,
                high: price,
                low: price,
                close: price,
                volume: size,
                trades: 1,
            },
        }
    }

    fn add(&mut self, price: Decimal, size: Decimal) {
        let b = &mut self.bar;
        b.high = b.high.max(price);
        b.low = b.low.min(price);
        b.close = price;
        b.volume += size;
        b.trades += 1;
    }
}

/// The trade in a tick, if it is one.
fn trade(tick: &Tick) -> Option<(Decimal, Decimal)> {
    match tick.kind {
        TickKind::Trade { price, size, .. } => Some((price, size)),
        TickKind::Quote { .. } | TickKind::Depth { .. } => None,
    }
}

/// Time bars of a fixed width, aligned to multiples of it since the epoch (so 1-minute
/// bars start on the minute).
#[derive(Debug, Clone)]
pub struct TimeBars {
    width: Nanos,
    open: Option<Open>,
}

impl TimeBars {
    /// Bars `width` ns wide (at least 1).
    pub fn new(width: Nanos) -> Self {
        Self {
            width: width.max(1),
            open: None,
        }
    }

    /// Feed a tick; the bar it completed, if any.
    pub fn update(&mut self, tick: &Tick) -> Option<Bar> {
        let (price, size) = trade(tick)?;
        let start = tick.ts.div_euclid(self.width) * self.width;
        match &mut self.open {
            Some(open) if open.bar.start == start => {
                open.add(price, size);
                None
            }
            slot => {
                let done = slot.take().map(|o| o.bar);
                *slot = Some(Open::start(
                    start,
                    start.saturating_add(self.width),
                    tick.symbol,
                    price,
                    size,
                ));
                done
            }
        }
    }

    /// The open bar, if event time `now` is past its end: nothing more can join it.
    pub fn close_until(&mut self, now: Nanos) -> Option<Bar> {
        if self.open.is_some_and(|o| o.bar.end <= now) {
            self.open.take().map(|o| o.bar)
        } else {
            None
        }
    }

    /// The open bar, complete or not, at the end of the input.
    pub fn finish(&mut self) -> Option<Bar> {
        self.open.take().map(|o| o.bar)
    }
}

/// Volume bars: a bar closes on the trade that brings its volume to `volume` or more
/// (the trade is not split, so a bar may hold a little more).
#[derive(Debug, Clone)]
pub struct VolumeBars {
    volume: Decimal,
    open: Option<Open>,
}

impl VolumeBars {
    /// Bars of `volume` base units each (a non-positive volume makes a bar per trade).
    pub fn new(volume: Decimal) -> Self {
        Self { volume, open: None }
    }

    /// Feed a tick; the bar it completed, if any. A bar's `end` is one nanosecond past
    /// its last trade.
    pub fn update(&mut self, tick: &Tick) -> Option<Bar> {
        let (price, size) = trade(tick)?;
        let end = tick.ts.saturating_add(1);
        let open = match &mut self.open {
            Some(open) => {
                open.add(price, size);
                open.bar.end = end;
                open
            }
            slot => slot.insert(Open::start(tick.ts, end, tick.symbol, price, size)),
        };
        if open.bar.volume >= self.volume {
            self.open.take().map(|o| o.bar)
        } else {
            None
        }
    }

    /// The open bar, short of its volume, at the end of the input.
    pub fn finish(&mut self) -> Option<Bar> {
        self.open.take().map(|o| o.bar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bot4_schemas::Side;
    use proptest::prelude::*;

    fn trade_tick(ts: Nanos, price: i64, size: i64) -> Tick {
        Tick {
            ts,
            seq: ts as u64,
            symbol: SymbolId(0),
            kind: TickKind::Trade {
                price: Decimal::new(price, 2),
                size: Decimal::new(size, 3),
                aggressor: Side::Buy,
            },
        }
    }

    fn quote_tick(ts: Nanos) -> Tick {
        Tick {
            ts,
            seq: ts as u64,
            symbol: SymbolId(0),
            kind: TickKind::Quote {
                bid: Decimal::ONE,
                bid_size: Decimal::ONE,
                ask: Decimal::TWO,
                ask_size: Decimal::ONE,
            },
        }
    }

    #[test]
    fn a_time_bar_closes_on_the_first_trade_of_a_later_slice() {
        let mut bars = TimeBars::new(60);
        assert_eq!(bars.update(&trade_tick(5, 100, 1)), None);
        assert_eq!(
            bars.update(&quote_tick(70)),
            None,
            "quotes do not close bars"
        );
        assert_eq!(bars.update(&trade_tick(59, 90, 2)), None);
        let bar = bars.update(&trade_tick(125, 95, 3)).expect("the first bar");
        assert_eq!((bar.start, bar.end, bar.trades), (0, 60, 2));
        assert_eq!(bar.open, Decimal::new(100, 2));
        assert_eq!(bar.low, Decimal::new(90, 2));
        assert_eq!(bar.close, Decimal::new(90, 2));
        assert_eq!(bar.volume, Decimal::new(3, 3));
        assert_eq!(bars.close_until(179), None);
        let bar = bars.close_until(180).expect("the second bar, by time");
        assert_eq!((bar.start, bar.end), (120, 180));
        assert_eq!(bars.finish(), None);
    }

    proptest! {
        /// Bars partition the trades: counts, volumes and extremes add up, in order.
        #[test]
        fn bars_account_for_every_trade(
            steps in prop::collection::vec((0i64..50, 1i64..10_000, 1i64..5_000), 1..200),
            width in 1i64..200,
            volume in 1i64..20_000,
        ) {
            let mut ts = 0;
            let ticks: Vec<Tick> = steps.iter().map(|&(dt, p, s)| { ts += dt; trade_tick(ts, p, s) }).collect();
            let total: Decimal = ticks.iter().filter_map(trade).map(|(_, s)| s).sum();
            let high = ticks.iter().filter_map(trade).map(|(p, _)| p).max();
            let mut time = TimeBars::new(width);
            let mut by_volume = VolumeBars::new(Decimal::new(volume, 3));
            let (mut tb, mut vb) = (Vec::new(), Vec::new());
            for t in &ticks {
                tb.extend(time.update(t));
                vb.extend(by_volume.update(t));
            }
            tb.extend(time.finish());
            vb.extend(by_volume.finish());
            for bars in [&tb, &vb] {
                prop_assert_eq!(bars.iter().map(|b| b.trades).sum::<u64>(), ticks.len() as u64);
                prop_assert_eq!(bars.iter().map(|b| b.volume).sum::<Decimal>(), total);
                prop_assert_eq!(bars.iter().map(|b| b.high).max(), high);
                prop_assert!(bars.windows(2).all(|w| w[0].start <= w[1].start));
                prop_assert!(bars.iter().all(|b| b.low <= b.open.min(b.close) && b.high >= b.open.max(b.close)));
            }
            prop_assert!(tb.iter().all(|b| b.end - b.start == width && b.start % width == 0));
            prop_assert!(tb.windows(2).all(|w| w[0].end <= w[1].start));
            let full = &vb[..vb.len().saturating_sub(1)];
            prop_assert!(full.iter().all(|b| b.volume >= Decimal::new(volume, 3)));
        }
    }
}
