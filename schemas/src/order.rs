//! What the strategy wants (intents) and what it sends (orders).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Nanos, Side, SymbolId};

/// How soon a target should be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Urgency {
    /// Rest at the touch and earn the spread; cross only if the order expires.
    Passive,
    /// Cross the spread now.
    Aggressive,
}

/// The risk stage's decision: the position to hold in one symbol, already sized and
/// limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderIntent {
    /// Event time of the signal.
    pub ts: Nanos,
    /// `seq` of the originating tick.
    pub seq: u64,
    /// Instrument.
    pub symbol: SymbolId,
    /// Signed target position in base units, on the lot grid.
    pub target: Decimal,
    /// The absolute position the order stage must never exceed, counting open orders.
    pub max_position: Decimal,
    /// How to get there.
    pub urgency: Urgency,
    /// Best bid when decided.
    pub bid: Decimal,
    /// Best ask when decided.
    pub ask: Decimal,
}

/// Order types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderKind {
    /// Fill now at the best available prices.
    Market,
    /// Fill at `price` or better; rest until filled, cancelled or expired.
    Limit,
}

/// Whether an order message places a new order or cancels one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderAction {
    /// Place a new order.
    New,
    /// Cancel the open order with this message's `client_id`.
    Cancel,
}

/// An order message sent towards the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Event time at which it was decided.
    pub ts: Nanos,
    /// Deterministic, unique client order id: symbol in the high 24 bits, a per-symbol
    /// counter below.
    pub client_id: u64,
    /// Instrument.
    pub symbol: SymbolId,
    /// Place or cancel.
    pub action: OrderAction,
    /// Direction.
    pub side: Side,
    /// Market or limit.
    pub kind: OrderKind,
    /// Limit price; zero for market orders.
    pub price: Decimal,
    /// Quantity in base units, on the lot grid.
    pub qty: Decimal,
    /// A resting order still open at this time expires; `i64::MAX` for never.
    pub expire_ts: Nanos,
    /// Whether, given the position when it was sent, filling it can only reduce exposure.
    pub reduces_exposure: bool,
}

impl Order {
    /// The client id of order `counter` of `symbol`.
    ///
    /// # Examples
    /// ```
    /// use bot4_schemas::{Order, SymbolId};
    /// assert_eq!(Order::client_id_for(SymbolId(2), 7), (2 << 40) | 7);
    /// ```
    pub fn client_id_for(symbol: SymbolId, counter: u64) -> u64 {
        (u64::from(symbol.0) << 40) | (counter & ((1 << 40) - 1))
    }
}
