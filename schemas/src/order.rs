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
    /// Distance of the protective stop from the entry price, in quote currency per
    /// unit; zero for none.
    pub stop_distance: Decimal,
    /// Distance of the take-profit from the entry price; zero for none.
    pub take_profit_distance: Decimal,
    /// Close the position this long after it was opened (a time stop), in
    /// nanoseconds; zero for none.
    pub max_hold_ns: Nanos,
}

/// Order types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderKind {
    /// Fill now at the best available prices.
    Market,
    /// Fill at `price` or better; rest until filled, cancelled or expired.
    Limit,
    /// A stop-market order: rests untriggered until the market moves against its side
    /// to `trigger` (a sell when the bid or a trade is at or below it, a buy when the
    /// ask or a trade is at or above it), then executes as a market order.
    Stop,
    /// A take-profit market order: rests until the market moves in its favour to
    /// `trigger` (a sell when the bid or a trade is at or above it, a buy when the ask
    /// or a trade is at or below it), then executes as a market order.
    TakeProfit,
}

impl OrderKind {
    /// Every kind.
    pub const ALL: [OrderKind; 4] = [
        OrderKind::Market,
        OrderKind::Limit,
        OrderKind::Stop,
        OrderKind::TakeProfit,
    ];

    /// Name as stored in files.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderKind::Market => "market",
            OrderKind::Limit => "limit",
            OrderKind::Stop => "stop",
            OrderKind::TakeProfit => "take_profit",
        }
    }

    /// The kind named `text` (as written by [`OrderKind::as_str`]).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Whether the order waits for its trigger price before it executes.
    pub fn is_triggered(self) -> bool {
        matches!(self, OrderKind::Stop | OrderKind::TakeProfit)
    }
}

/// How long an order stays working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeInForce {
    /// Good till cancelled (or until its `expire_ts`).
    Gtc,
    /// Immediate or cancel: what does not fill on arrival is cancelled.
    Ioc,
    /// Fill or kill: fills whole on arrival or is cancelled whole.
    Fok,
    /// Post only: a limit order that would take liquidity on arrival is rejected, so
    /// it only ever fills as maker.
    PostOnly,
}

impl TimeInForce {
    /// Every time in force.
    pub const ALL: [TimeInForce; 4] = [
        TimeInForce::Gtc,
        TimeInForce::Ioc,
        TimeInForce::Fok,
        TimeInForce::PostOnly,
    ];

    /// Name as stored in files.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeInForce::Gtc => "gtc",
            TimeInForce::Ioc => "ioc",
            TimeInForce::Fok => "fok",
            TimeInForce::PostOnly => "post_only",
        }
    }

    /// The time in force named `text` (as written by [`TimeInForce::as_str`]).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }
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
    /// Market, limit, stop or take-profit.
    pub kind: OrderKind,
    /// Limit price; zero for market, stop and take-profit orders.
    pub price: Decimal,
    /// Trigger price of a stop or take-profit order; zero for the others.
    pub trigger: Decimal,
    /// Quantity in base units, on the lot grid.
    pub qty: Decimal,
    /// How long it stays working.
    pub tif: TimeInForce,
    /// A resting order still open at this time expires; `i64::MAX` for never.
    pub expire_ts: Nanos,
    /// Whether, given the position when it was sent, filling it can only reduce exposure.
    pub reduces_exposure: bool,
    /// The venue may only fill it as far as it reduces the venue's position: the rest
    /// is cancelled (or the order rejected when nothing is left to reduce).
    pub reduce_only: bool,
    /// One-cancels-other: the client id of the linked order, which the venue cancels
    /// when this one triggers or fills; zero for none.
    pub oco: u64,
}

impl Order {
    /// A new order of `kind` with the defaults for everything else: good till
    /// cancelled, never expiring, no trigger, not reduce-only, no link.
    ///
    /// # Examples
    /// ```
    /// use bot4_schemas::{Decimal, Order, OrderAction, OrderKind, Side, SymbolId, TimeInForce};
    /// let o = Order::new(5, 1, SymbolId(0), Side::Buy, OrderKind::Limit, Decimal::from(100), Decimal::ONE);
    /// assert_eq!((o.action, o.tif, o.expire_ts, o.oco), (OrderAction::New, TimeInForce::Gtc, i64::MAX, 0));
    /// ```
    pub fn new(
        ts: Nanos,
        client_id: u64,
        symbol: SymbolId,
        side: Side,
        kind: OrderKind,
        price: Decimal,
        qty: Decimal,
    ) -> Self {
        Self {
            ts,
            client_id,
            symbol,
            action: OrderAction::New,
            side,
            kind,
            price,
            trigger: Decimal::ZERO,
            qty,
            tif: TimeInForce::Gtc,
            expire_ts: Nanos::MAX,
            reduces_exposure: false,
            reduce_only: false,
            oco: 0,
        }
    }

    /// The cancel of the open order `client_id`, sent at `ts`.
    pub fn cancel_of(&self, ts: Nanos) -> Self {
        Self {
            ts,
            action: OrderAction::Cancel,
            expire_ts: Nanos::MAX,
            reduces_exposure: true,
            ..*self
        }
    }

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
