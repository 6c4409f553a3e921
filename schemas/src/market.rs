//! Market data: trade and top-of-book quote ticks.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Nanos, SymbolId};

/// Buy or sell: the aggressor of a trade, or the direction of an order or fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Side {
    /// Buys the base asset.
    Buy,
    /// Sells the base asset.
    Sell,
}

impl Side {
    /// `+1` for a buy, `-1` for a sell.
    #[inline]
    pub fn sign(self) -> Decimal {
        match self {
            Side::Buy => Decimal::ONE,
            Side::Sell => Decimal::NEGATIVE_ONE,
        }
    }

    /// The side that moves a position by a signed quantity of this sign.
    #[inline]
    pub fn of(signed_qty: Decimal) -> Side {
        if signed_qty.is_sign_negative() {
            Side::Sell
        } else {
            Side::Buy
        }
    }

    /// Lower-case name, as stored in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }

    /// Parse the lower-case name.
    pub fn parse(text: &str) -> Option<Side> {
        match text {
            "buy" | "BUY" | "Buy" | "b" | "B" => Some(Side::Buy),
            "sell" | "SELL" | "Sell" | "s" | "S" => Some(Side::Sell),
            _ => None,
        }
    }
}

/// What a tick reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TickKind {
    /// A trade printed at `price` for `size`, initiated by `aggressor`.
    Trade {
        /// Trade price.
        price: Decimal,
        /// Trade size in base units.
        size: Decimal,
        /// The side that crossed the spread.
        aggressor: Side,
    },
    /// The best bid and ask changed.
    Quote {
        /// Best bid price.
        bid: Decimal,
        /// Size at the best bid.
        bid_size: Decimal,
        /// Best ask price.
        ask: Decimal,
        /// Size at the best ask.
        ask_size: Decimal,
    },
    /// One level of the order book changed (an L2 update): the displayed size at
    /// `price` on `side` (`Buy` for the bids) is now `size`; zero removes the level.
    /// The best level of each side is the latest `Quote`'s; depth ticks describe the
    /// levels behind it.
    Depth {
        /// The book side: `Buy` for a bid level, `Sell` for an ask level.
        side: Side,
        /// The level's price.
        price: Decimal,
        /// The size now displayed at `price`; zero when the level is gone.
        size: Decimal,
    },
}

impl TickKind {
    /// The name in Parquet and the database: `trade`, `quote` or `depth`.
    pub fn as_str(&self) -> &'static str {
        match self {
            TickKind::Trade { .. } => "trade",
            TickKind::Quote { .. } => "quote",
            TickKind::Depth { .. } => "depth",
        }
    }
}

/// One market-data event.
///
/// `(ts, seq)` orders ticks totally and the same way for every worker layout: `seq` is
/// assigned by the source from the tick's place in its input (file, row), never from
/// arrival order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tick {
    /// Event time.
    pub ts: Nanos,
    /// Position in the input, unique within a run.
    pub seq: u64,
    /// Instrument.
    pub symbol: SymbolId,
    /// Payload.
    pub kind: TickKind,
}

impl Tick {
    /// The total order ticks are processed in.
    #[inline]
    pub fn key(&self) -> (Nanos, u64) {
        (self.ts, self.seq)
    }

    /// The mid price of a quote, or the price of a trade; `None` for a depth update,
    /// whose level need not be where the market trades.
    #[inline]
    pub fn reference_price(&self) -> Option<Decimal> {
        match self.kind {
            TickKind::Trade { price, .. } => Some(price),
            TickKind::Quote { bid, ask, .. } => Some((bid + ask) / Decimal::TWO),
            TickKind::Depth { .. } => None,
        }
    }
}
