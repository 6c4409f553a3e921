//! Market-microstructure features: what the top of the book and the trade flow say.
//!
//! From a top-of-book [`Quote`] (best bid `b` for size `q_b`, best ask `a` for size
//! `q_a`), [`QuoteFeatures`]:
//!
//! ```text
//! mid             = (b + a) / 2
//! spread          = a − b
//! relative_spread = spread / mid
//! microprice      = (b · q_a + a · q_b) / (q_b + q_a)
//! imbalance       = (q_b − q_a) / (q_b + q_a)          in [−1, 1]
//! ```
//!
//! The microprice leans towards the side with less size (a thin ask is likely to be
//! taken, so the next price is likely nearer it); the imbalance is positive when more
//! size is bid than offered. A book that is empty on a side (a price or size not
//! positive), crossed (`b > a`) or not finite has no features: [`Quote::features`] and
//! [`QuoteState`] reject it with `None`. A locked book (`b = a`) is accepted, with
//! spread 0.
//!
//! From the trade flow, [`TradeSignImbalance`] over the last `n` trades, each fed as
//! its signed size (`+size` when the buyer was the aggressor, `−size` when the seller
//! was):
//!
//! ```text
//! imbalance = Σ signed size / Σ |size|                  in [−1, 1]
//! ```
//!
//! TA-Lib has none of these.

use bot4_schemas::{Side, Tick, TickKind};

use super::{to_f64, Indicator, RollingSum};

/// The best bid and ask, with their sizes, as floats.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Quote {
    /// Best bid price.
    pub bid: f64,
    /// Size at the best bid.
    pub bid_size: f64,
    /// Best ask price.
    pub ask: f64,
    /// Size at the best ask.
    pub ask_size: f64,
}

impl Quote {
    /// A quote of bid `bid` for `bid_size` and ask `ask` for `ask_size`.
    pub fn new(bid: f64, bid_size: f64, ask: f64, ask_size: f64) -> Self {
        Self {
            bid,
            bid_size,
            ask,
            ask_size,
        }
    }

    /// The quote of a quote tick; `None` for a trade or a depth update.
    pub fn from_tick(tick: &Tick) -> Option<Self> {
        match tick.kind {
            TickKind::Quote {
                bid,
                bid_size,
                ask,
                ask_size,
            } => Some(Self::new(
                to_f64(bid),
                to_f64(bid_size),
                to_f64(ask),
                to_f64(ask_size),
            )),
            TickKind::Trade { .. } | TickKind::Depth { .. } => None,
        }
    }

    /// Whether the book has both sides (positive prices and sizes), is not crossed and
    /// is finite.
    pub fn is_valid(&self) -> bool {
        let Self {
            bid,
            bid_size,
            ask,
            ask_size,
        } = *self;
        [bid, bid_size, ask, ask_size]
            .iter()
            .all(|v| v.is_finite() && *v > 0.0)
            && bid <= ask
    }

    /// Its features; `None` for an empty, crossed or non-finite book.
    pub fn features(&self) -> Option<QuoteFeatures> {
        if !self.is_valid() {
            return None;
        }
        let Self {
            bid,
            bid_size,
            ask,
            ask_size,
        } = *self;
        let mid = (bid + ask) / 2.0;
        let spread = ask - bid;
        let depth = bid_size + ask_size;
        Some(QuoteFeatures {
            spread,
            relative_spread: spread / mid,
            mid,
            // Clamped: rounding must not put the microprice outside the spread.
            microprice: ((bid * ask_size + ask * bid_size) / depth).clamp(bid, ask),
            imbalance: ((bid_size - ask_size) / depth).clamp(-1.0, 1.0),
        })
    }
}

/// What one quote says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuoteFeatures {
    /// `ask − bid`, in price units (never negative).
    pub spread: f64,
    /// `spread / mid` (multiply by 10 000 for basis points).
    pub relative_spread: f64,
    /// `(bid + ask) / 2`.
    pub mid: f64,
    /// The size-weighted mid `(bid · ask_size + ask · bid_size) / (bid_size + ask_size)`,
    /// in `[bid, ask]`.
    pub microprice: f64,
    /// `(bid_size − ask_size) / (bid_size + ask_size)`, in `[−1, 1]`: positive when more
    /// is bid than offered.
    pub imbalance: f64,
}

/// The features of each quote fed; remembers the last valid ones and counts the books
/// it rejected.
#[derive(Debug, Clone, Default)]
pub struct QuoteState {
    last: Option<QuoteFeatures>,
    rejected: u64,
}

impl QuoteState {
    /// Fresh state.
    pub fn new() -> Self {
        Self::default()
    }

    /// The features of the last valid quote.
    pub fn last(&self) -> Option<QuoteFeatures> {
        self.last
    }

    /// How many quotes were rejected (empty, crossed or non-finite books).
    pub fn rejected(&self) -> u64 {
        self.rejected
    }
}

impl Indicator for QuoteState {
    type Input = Quote;
    type Output = QuoteFeatures;

    /// The quote's features; `None` (and [`QuoteState::last`] unchanged) for a book
    /// that is empty on a side, crossed or not finite.
    fn update(&mut self, quote: Quote) -> Option<QuoteFeatures> {
        let features = quote.features();
        match features {
            Some(f) => self.last = Some(f),
            None => self.rejected += 1,
        }
        features
    }

    /// One quote.
    fn warmup(&self) -> usize {
        1
    }
}

/// The signed size of a trade tick: `+size` if the buyer was the aggressor, `−size` if
/// the seller was; `None` for a quote or a depth update. The input of [`TradeSignImbalance`].
pub fn signed_trade_size(tick: &Tick) -> Option<f64> {
    match tick.kind {
        TickKind::Trade {
            size, aggressor, ..
        } => {
            let size = to_f64(size).abs();
            Some(match aggressor {
                Side::Buy => size,
                Side::Sell => -size,
            })
        }
        TickKind::Quote { .. } | TickKind::Depth { .. } => None,
    }
}

/// The order-flow imbalance of the last `period` trades: `Σ signed size / Σ |size|`,
/// from −1 (all sold into the bid) to 1 (all bought from the ask); 0 when none of them
/// had any size.
#[derive(Debug, Clone)]
pub struct TradeSignImbalance {
    signed: RollingSum,
    gross: RollingSum,
    /// Trades in the window with a non-zero size.
    sized: usize,
}

impl TradeSignImbalance {
    /// Over `period` trades (at least one).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            signed: RollingSum::new(period),
            gross: RollingSum::new(period),
            sized: 0,
        }
    }

    /// The number of trades in the window.
    pub fn period(&self) -> usize {
        self.gross.ring().capacity()
    }
}

impl Indicator for TradeSignImbalance {
    /// The trade's signed size (see [`signed_trade_size`]).
    type Input = f64;
    type Output = f64;

    fn update(&mut self, signed_size: f64) -> Option<f64> {
        self.signed.push(signed_size);
        if let Some(old) = self.gross.push(signed_size.abs()) {
            if old != 0.0 {
                self.sized -= 1;
            }
        }
        if signed_size != 0.0 {
            self.sized += 1;
        }
        if !self.gross.is_full() {
            return None;
        }
        if self.sized == 0 {
            return Some(0.0);
        }
        Some((self.signed.sum() / self.gross.sum()).clamp(-1.0, 1.0))
    }

    /// `period` trades.
    fn warmup(&self) -> usize {
        self.period()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bot4_schemas::SymbolId;
    use proptest::prelude::*;

    fn tick(kind: TickKind) -> Tick {
        Tick {
            ts: 0,
            seq: 0,
            symbol: SymbolId(0),
            kind,
        }
    }

    #[test]
    fn hand_checked_quote() {
        // Bid 99 for 3, ask 101 for 1: mid 100, spread 2, microprice (99 + 303)/4.
        let f = Quote::new(99.0, 3.0, 101.0, 1.0).features().unwrap();
        assert_eq!(
            f,
            QuoteFeatures {
                spread: 2.0,
                relative_spread: 0.02,
                mid: 100.0,
                microprice: 100.5,
                imbalance: 0.5,
            }
        );
        // Locked is fine; crossed, one-sided, zero or non-finite are not.
        let locked = Quote::new(100.0, 1.0, 100.0, 1.0).features().unwrap();
        assert_eq!((locked.spread, locked.microprice), (0.0, 100.0));
        for bad in [
            Quote::new(101.0, 1.0, 100.0, 1.0),
            Quote::new(99.0, 0.0, 101.0, 1.0),
            Quote::new(99.0, 1.0, 101.0, 0.0),
            Quote::new(0.0, 1.0, 101.0, 1.0),
            Quote::new(99.0, 1.0, f64::INFINITY, 1.0),
            Quote::new(f64::NAN, 1.0, 101.0, 1.0),
            Quote::new(99.0, -1.0, 101.0, 1.0),
        ] {
            assert_eq!(bad.features(), None, "{bad:?}");
        }
        let mut state = QuoteState::new();
        assert_eq!(state.warmup(), 1);
        assert_eq!(state.update(Quote::new(99.0, 3.0, 101.0, 1.0)), Some(f));
        assert_eq!(state.update(Quote::new(101.0, 1.0, 100.0, 1.0)), None);
        assert_eq!((state.last(), state.rejected()), (Some(f), 1));
    }

    #[test]
    fn from_ticks() {
        let d = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
        let q = tick(TickKind::Quote {
            bid: d("99.5"),
            bid_size: d("2"),
            ask: d("100.5"),
            ask_size: d("0.25"),
        });
        assert_eq!(
            Quote::from_tick(&q),
            Some(Quote::new(99.5, 2.0, 100.5, 0.25))
        );
        assert_eq!(signed_trade_size(&q), None);
        let trade = |aggressor| {
            tick(TickKind::Trade {
                price: d("100"),
                size: d("1.5"),
                aggressor,
            })
        };
        assert_eq!(signed_trade_size(&trade(Side::Buy)), Some(1.5));
        assert_eq!(signed_trade_size(&trade(Side::Sell)), Some(-1.5));
        assert_eq!(Quote::from_tick(&trade(Side::Buy)), None);
    }

    #[test]
    fn hand_checked_trade_imbalance() {
        let mut imb = TradeSignImbalance::new(3);
        assert_eq!(imb.warmup(), 3);
        let out: Vec<_> = [2.0, -1.0, 1.0, -4.0, 0.0, 0.0, 0.0, 5.0]
            .into_iter()
            .map(|x| imb.update(x))
            .collect();
        let want = [
            None,
            None,
            Some(0.5),        // (2 − 1 + 1)/4
            Some(-4.0 / 6.0), // (−1 + 1 − 4)/6
            Some(-0.6),       // (1 − 4)/5
            Some(-1.0),       // −4/4
            Some(0.0),        // nothing traded
            Some(1.0),        // 5/5
        ];
        for (got, want) in out.iter().zip(want) {
            match (got, want) {
                (Some(g), Some(w)) => assert!((g - w).abs() < 1e-12, "{out:?}"),
                (g, w) => assert_eq!(*g, w),
            }
        }
    }

    proptest! {
        #[test]
        fn quote_features_agree_with_the_definitions(
            quotes in prop::collection::vec(
                (0.01f64..1e5, -0.01f64..0.05, 0u8..8, 0.0f64..100.0, 0.0f64..100.0),
                1..100,
            ),
        ) {
            let mut state = QuoteState::new();
            let mut last = None;
            let mut rejected = 0;
            for (bid, rel_spread, kind, bid_size, ask_size) in quotes {
                // Some empty sides; negative spreads cross the book.
                let bid_size = if kind == 0 { 0.0 } else { bid_size };
                let ask_size = if kind == 1 { 0.0 } else { ask_size };
                let ask = if kind == 2 { bid } else { bid * (1.0 + rel_spread) };
                let got = state.update(Quote::new(bid, bid_size, ask, ask_size));
                let valid = bid_size > 0.0 && ask_size > 0.0 && ask >= bid;
                prop_assert_eq!(got.is_some(), valid);
                if let Some(f) = got {
                    let mid = 0.5 * bid + 0.5 * ask;
                    let w_bid = ask_size / (bid_size + ask_size);
                    let micro = bid * w_bid + ask * (1.0 - w_bid);
                    let tol = |x: f64| 1e-9 * x.abs().max(1e-300);
                    prop_assert!((f.mid - mid).abs() <= tol(mid));
                    prop_assert_eq!(f.spread, ask - bid);
                    prop_assert!((f.relative_spread - (ask - bid) / mid).abs() <= 1e-12);
                    prop_assert!((f.microprice - micro).abs() <= tol(mid));
                    prop_assert!(bid <= f.microprice && f.microprice <= ask);
                    let imb = bid_size / (bid_size + ask_size) * 2.0 - 1.0;
                    prop_assert!((f.imbalance - imb).abs() <= 1e-12);
                    prop_assert!((-1.0..=1.0).contains(&f.imbalance));
                    last = got;
                } else {
                    rejected += 1;
                }
                prop_assert_eq!(state.last(), last);
                prop_assert_eq!(state.rejected(), rejected);
            }
        }

        #[test]
        fn trade_imbalance_agrees_with_a_recomputation(
            period in 1usize..30,
            trades in prop::collection::vec((0.0f64..100.0, 0u8..5), 1..200),
        ) {
            // Buys, sells and some trades of no size.
            let sizes: Vec<f64> = trades
                .iter()
                .map(|&(s, k)| match k {
                    0 => 0.0,
                    1 | 2 => s,
                    _ => -s,
                })
                .collect();
            let mut imb = TradeSignImbalance::new(period);
            for i in 0..sizes.len() {
                let got = imb.update(sizes[i]);
                if i + 1 < period {
                    prop_assert_eq!(got, None);
                    continue;
                }
                let window = &sizes[i + 1 - period..=i];
                let bought: f64 = window.iter().filter(|s| **s > 0.0).sum();
                let sold: f64 = -window.iter().filter(|s| **s < 0.0).sum::<f64>();
                let want = if bought + sold == 0.0 { 0.0 } else { (bought - sold) / (bought + sold) };
                let got = got.unwrap_or(f64::NAN);
                prop_assert!((got - want).abs() <= 1e-9, "trade {}: {} vs {}", i, got, want);
                prop_assert!((-1.0..=1.0).contains(&got));
            }
        }
    }
}
