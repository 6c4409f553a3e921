//! The open orders of one side of a [`SymbolVenue`](super::SymbolVenue), in priority
//! order, and how they match against ticks.

use bot4_schemas::{
    ExecutionReport, Liquidity, Nanos, Order, OrderKind, ReportStatus, Side, SymbolId,
};
use rust_decimal::Decimal;

use super::VenueConfig;

/// An order the venue has received, and what has happened to it so far.
///
/// Invariant: `ZERO <= filled <= qty`; once `is_done`, no more reports are made.
#[derive(Debug, Clone)]
pub(super) struct Working {
    pub(super) client_id: u64,
    symbol: SymbolId,
    side: Side,
    kind: OrderKind,
    /// Limit price; unused for market orders.
    price: Decimal,
    qty: Decimal,
    filled: Decimal,
    pub(super) expire_ts: Nanos,
    /// The `event` of this order's next report.
    next_event: u32,
    /// Time priority: the order in which orders reached the venue.
    rank: u64,
    done: bool,
}

impl Working {
    pub(super) fn new(order: &Order, rank: u64) -> Self {
        Self {
            client_id: order.client_id,
            symbol: order.symbol,
            side: order.side,
            kind: order.kind,
            price: order.price,
            qty: order.qty,
            filled: Decimal::ZERO,
            expire_ts: order.expire_ts,
            next_event: 0,
            rank,
            done: false,
        }
    }

    fn remaining(&self) -> Decimal {
        self.qty - self.filled
    }

    pub(super) fn is_done(&self) -> bool {
        self.done
    }

    /// A report without a fill, leaving the remaining quantity working.
    pub(super) fn report(&mut self, ts: Nanos, status: ReportStatus) -> ExecutionReport {
        let leaves_qty = self.remaining();
        self.make(ts, status, None, leaves_qty)
    }

    /// The order's terminal report without a fill: cancelled, expired or rejected.
    pub(super) fn close(&mut self, ts: Nanos, status: ReportStatus) -> ExecutionReport {
        debug_assert!(status.is_terminal() && !self.done);
        self.done = true;
        self.make(ts, status, None, Decimal::ZERO)
    }

    /// Fill as much of the order as `available` allows at `price`, and take it from
    /// `available`. Reports nothing if nothing fills.
    pub(super) fn fill_up_to(
        &mut self,
        ts: Nanos,
        price: Decimal,
        liquidity: Liquidity,
        available: &mut Decimal,
        config: &VenueConfig,
        out: &mut Vec<ExecutionReport>,
    ) {
        let qty = self.remaining().min(*available);
        if qty <= Decimal::ZERO {
            return;
        }
        *available -= qty;
        self.filled += qty;
        let leaves_qty = self.remaining();
        let status = if leaves_qty.is_zero() {
            self.done = true;
            ReportStatus::Filled
        } else {
            ReportStatus::PartiallyFilled
        };
        let fill = Execution {
            qty,
            price,
            fee: config.fee(liquidity, price, qty),
            liquidity,
        };
        out.push(self.make(ts, status, Some(fill), leaves_qty));
    }

    /// The order's next report; fill fields are zero when `fill` is `None`.
    fn make(
        &mut self,
        ts: Nanos,
        status: ReportStatus,
        fill: Option<Execution>,
        leaves_qty: Decimal,
    ) -> ExecutionReport {
        let event = self.next_event;
        self.next_event += 1;
        ExecutionReport {
            ts,
            client_id: self.client_id,
            symbol: self.symbol,
            side: self.side,
            status,
            fill_qty: fill.map_or(Decimal::ZERO, |f| f.qty),
            fill_price: fill.map_or(Decimal::ZERO, |f| f.price),
            fee: fill.map_or(Decimal::ZERO, |f| f.fee),
            liquidity: fill.map(|f| f.liquidity),
            leaves_qty,
            event,
        }
    }

    /// Sort key within a side: market orders first, then the better limit price, then
    /// the earlier arrival.
    fn priority(&self) -> (bool, Decimal, u64) {
        let price = match self.side {
            Side::Buy => -self.price,
            Side::Sell => self.price,
        };
        (self.kind == OrderKind::Limit, price, self.rank)
    }
}

/// One fill of a [`Working`] order.
#[derive(Debug, Clone, Copy)]
struct Execution {
    qty: Decimal,
    price: Decimal,
    fee: Decimal,
    liquidity: Liquidity,
}

/// The open orders of one side, in priority order.
///
/// Invariant: every order in `orders` is open (`!is_done()`), and `orders` is sorted by
/// [`Working::priority`].
#[derive(Debug, Clone)]
pub(super) struct Queue {
    side: Side,
    orders: Vec<Working>,
}

impl Queue {
    pub(super) fn new(side: Side) -> Self {
        Self {
            side,
            orders: Vec::new(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.orders.len()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &Working> {
        self.orders.iter()
    }

    pub(super) fn insert(&mut self, order: Working) {
        debug_assert!(order.side == self.side && !order.is_done());
        let key = order.priority();
        let at = self.orders.partition_point(|o| o.priority() < key);
        self.orders.insert(at, order);
    }

    /// Take the open order `client_id` out of the queue.
    pub(super) fn remove(&mut self, client_id: u64) -> Option<Working> {
        let at = self.orders.iter().position(|o| o.client_id == client_id)?;
        Some(self.orders.remove(at))
    }

    /// A quote tick at `ts` whose opposite touch is `touch` with `available` size left:
    /// market orders fill as taker at `touch`, limit orders it crosses as maker at their
    /// limit price.
    pub(super) fn match_quote(
        &mut self,
        ts: Nanos,
        touch: Decimal,
        available: &mut Decimal,
        config: &VenueConfig,
        out: &mut Vec<ExecutionReport>,
    ) {
        let side = self.side;
        self.match_with(
            available,
            |order| match order.kind {
                OrderKind::Market => Some((touch, Liquidity::Taker)),
                OrderKind::Limit => {
                    crossed(side, order.price, touch).then_some((order.price, Liquidity::Maker))
                }
            },
            ts,
            config,
            out,
        );
    }

    /// A trade at `ts` of `size` at `price` whose aggressor is on the other side: limit
    /// orders at or through `price` fill as maker at their limit price.
    pub(super) fn match_trade(
        &mut self,
        ts: Nanos,
        price: Decimal,
        size: Decimal,
        config: &VenueConfig,
        out: &mut Vec<ExecutionReport>,
    ) {
        let side = self.side;
        let mut available = size;
        self.match_with(
            &mut available,
            |order| match order.kind {
                OrderKind::Market => None,
                OrderKind::Limit => {
                    crossed(side, order.price, price).then_some((order.price, Liquidity::Maker))
                }
            },
            ts,
            config,
            out,
        );
    }

    /// Fill the orders, in priority order, for which `terms` gives a price, until
    /// `available` is used up; then drop the filled ones.
    fn match_with(
        &mut self,
        available: &mut Decimal,
        terms: impl Fn(&Working) -> Option<(Decimal, Liquidity)>,
        ts: Nanos,
        config: &VenueConfig,
        out: &mut Vec<ExecutionReport>,
    ) {
        if self.orders.is_empty() {
            return;
        }
        for order in &mut self.orders {
            if *available <= Decimal::ZERO {
                break;
            }
            if let Some((price, liquidity)) = terms(order) {
                order.fill_up_to(ts, price, liquidity, available, config, out);
            }
        }
        self.orders.retain(|o| !o.is_done());
    }
}

/// Whether a resting order of `side` at `limit` trades against a counterparty at
/// `price`: a buy at `price <= limit`, a sell at `price >= limit`.
fn crossed(side: Side, limit: Decimal, price: Decimal) -> bool {
    match side {
        Side::Buy => price <= limit,
        Side::Sell => price >= limit,
    }
}
