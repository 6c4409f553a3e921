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

    /// The mid price of a quote, or the price of a trade.
    #[inline]
    pub fn reference_price(&self) -> Decimal {
        match self.kind {
            TickKind::Trade { price, .. } => price,
            TickKind::Quote { bid, ask, .. } => (bid + ask) / Decimal::TWO,
        }
    }
}
