//! The L2 levels behind the touch: per side, the displayed size at each price that a
//! depth tick announced, and how much of it our fills have taken since.
//!
//! A depth tick sets or removes one level and resets what our fills took of it (the
//! replayed feed does not contain our own fills). A quote prunes the levels at or
//! through its new touch, which is the best level of its side: bids at or above the new
//! bid, asks at or below the new ask; a side of the quote without a positive price
//! prunes nothing. Levels survive quotes otherwise.

use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Unbounded};

use bot4_schemas::Side;
use rust_decimal::Decimal;

/// One displayed level.
#[derive(Debug, Clone, Copy)]
struct Level {
    price: Decimal,
    size: Decimal,
    /// What our fills took of `size` since the level's last update.
    taken: Decimal,
}

/// The levels of one side, keyed by their distance from the touch.
///
/// Invariant: every level has a positive price and size, and `0 <= taken <= size`; the
/// key is the price for asks and minus the price for bids, so that iterating in key
/// order walks away from the touch on both sides.
#[derive(Debug, Clone)]
struct Ladder {
    bids: bool,
    levels: BTreeMap<Decimal, Level>,
}

impl Ladder {
    fn new(side: Side) -> Self {
        Self {
            bids: side == Side::Buy,
            levels: BTreeMap::new(),
        }
    }

    fn key(&self, price: Decimal) -> Decimal {
        if self.bids {
            -price
        } else {
            price
        }
    }

    fn set(&mut self, price: Decimal, size: Decimal) {
        let key = self.key(price);
        if size > Decimal::ZERO {
            let level = Level {
                price,
                size,
                taken: Decimal::ZERO,
            };
            self.levels.insert(key, level);
        } else {
            self.levels.remove(&key);
        }
    }

    /// Drop the levels at or through `touch`.
    fn prune(&mut self, touch: Decimal) {
        let key = self.key(touch);
        while self
            .levels
            .first_key_value()
            .is_some_and(|(k, _)| *k <= key)
        {
            self.levels.pop_first();
        }
    }

    /// The levels strictly behind `touch`, away from it.
    fn behind(&self, touch: Decimal) -> impl Iterator<Item = &Level> {
        self.levels
            .range((Excluded(self.key(touch)), Unbounded))
            .map(|(_, level)| level)
    }
}

/// Both sides' levels.
#[derive(Debug, Clone)]
pub(super) struct Depth {
    bids: Ladder,
    asks: Ladder,
}

impl Depth {
    pub(super) fn new() -> Self {
        Self {
            bids: Ladder::new(Side::Buy),
            asks: Ladder::new(Side::Sell),
        }
    }

    fn ladder(&self, side: Side) -> &Ladder {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    /// The ladder an order on `taker` side takes from.
    fn opposite(&mut self, taker: Side) -> &mut Ladder {
        match taker {
            Side::Buy => &mut self.asks,
            Side::Sell => &mut self.bids,
        }
    }

    /// A depth tick: the size displayed at `price` on `side` is now `size` (none when not
    /// positive). A non-positive price is no level and changes nothing.
    pub(super) fn set(&mut self, side: Side, price: Decimal, size: Decimal) {
        if price <= Decimal::ZERO {
            return;
        }
        match side {
            Side::Buy => self.bids.set(price, size),
            Side::Sell => self.asks.set(price, size),
        }
    }

    /// A quote: drop the levels at or through its touch on each side that has one.
    pub(super) fn prune(&mut self, bid: Decimal, ask: Decimal) {
        if bid > Decimal::ZERO {
            self.bids.prune(bid);
        }
        if ask > Decimal::ZERO {
            self.asks.prune(ask);
        }
    }

    /// The levels an order on `taker` side can take beyond `touch`, best first: each
    /// level's price and the size our fills have left of it (possibly zero).
    pub(super) fn beyond(
        &self,
        taker: Side,
        touch: Decimal,
    ) -> impl Iterator<Item = (Decimal, Decimal)> + '_ {
        let ladder = match taker {
            Side::Buy => &self.asks,
            Side::Sell => &self.bids,
        };
        ladder
            .behind(touch)
            .map(|level| (level.price, level.size - level.taken))
    }

    /// The price of the deepest level an order on `taker` side could reach beyond
    /// `touch`, if there is one.
    pub(super) fn deepest(&self, taker: Side, touch: Decimal) -> Option<Decimal> {
        let ladder = match taker {
            Side::Buy => &self.asks,
            Side::Sell => &self.bids,
        };
        let (key, level) = ladder.levels.last_key_value()?;
        (*key > ladder.key(touch)).then_some(level.price)
    }

    /// Our order on `taker` side took `qty` of the level at `price`.
    pub(super) fn take(&mut self, taker: Side, price: Decimal, qty: Decimal) {
        let ladder = self.opposite(taker);
        let key = ladder.key(price);
        if let Some(level) = ladder.levels.get_mut(&key) {
            level.taken = (level.taken + qty).min(level.size);
        }
    }

    /// The size our fills have left of the level at `price` on `side`, if it is known.
    pub(super) fn left_at(&self, side: Side, price: Decimal) -> Option<Decimal> {
        let ladder = self.ladder(side);
        ladder
            .levels
            .get(&ladder.key(price))
            .map(|level| level.size - level.taken)
    }
}
