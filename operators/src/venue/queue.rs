//! The orders a [`SymbolVenue`](super::SymbolVenue) works: each order's state and
//! reports, and one side's open orders in priority order.

use bot4_schemas::{
    ExecutionReport, Liquidity, Nanos, Order, OrderKind, ReportReason, ReportStatus, Side,
    SymbolId, TimeInForce,
};
use rust_decimal::Decimal;

use super::account::Account;
use super::config::VenueConfig;

/// An order the venue has received, and what has happened to it so far.
///
/// Invariant: `ZERO <= leaves <= qty`, and `qty − leaves` is what filled plus what
/// self-trade prevention or the reduce-only cap took off; once `done`, no more reports
/// are made.
#[derive(Debug, Clone)]
pub(super) struct Working {
    pub(super) client_id: u64,
    symbol: SymbolId,
    pub(super) side: Side,
    pub(super) kind: OrderKind,
    pub(super) tif: TimeInForce,
    /// Limit price; unused unless `kind` is `Limit`.
    pub(super) price: Decimal,
    pub(super) trigger: Decimal,
    /// Quantity still working.
    pub(super) leaves: Decimal,
    pub(super) expire_ts: Nanos,
    pub(super) reduce_only: bool,
    /// The OCO partner to cancel when this order triggers or fills; zero once it has.
    pub(super) oco: u64,
    /// Executes as a market order: a market order, or a triggered stop or take-profit.
    pub(super) market: bool,
    /// Time priority: the order in which orders reached the venue (or triggered).
    pub(super) rank: u64,
    /// The displayed size ahead of a resting limit order at its price; `None` while
    /// neither the touch nor a level has shown its price's size since it rested.
    pub(super) ahead: Option<Decimal>,
    /// The last status it was reported in that is not terminal.
    status: ReportStatus,
    /// The `event` of this order's next report.
    next_event: u32,
    pub(super) done: bool,
}

/// One fill's terms.
#[derive(Debug, Clone, Copy)]
pub(super) struct Execution {
    pub(super) qty: Decimal,
    pub(super) price: Decimal,
    pub(super) liquidity: Liquidity,
}

/// What fills did beyond the order itself, for the venue to follow up.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Fired {
    /// Quantity filled.
    pub(super) qty: Decimal,
    /// The OCO partner to cancel, or zero.
    pub(super) oco: u64,
    /// The venue's position changed sign.
    pub(super) sign_changed: bool,
}

impl Fired {
    pub(super) fn merge(&mut self, other: Fired) {
        self.qty += other.qty;
        if self.oco == 0 {
            self.oco = other.oco;
        }
        self.sign_changed |= other.sign_changed;
    }
}

impl Working {
    pub(super) fn new(order: &Order, rank: u64) -> Self {
        Self {
            client_id: order.client_id,
            symbol: order.symbol,
            side: order.side,
            kind: order.kind,
            tif: order.tif,
            price: order.price,
            trigger: order.trigger,
            leaves: order.qty,
            expire_ts: order.expire_ts,
            reduce_only: order.reduce_only,
            oco: order.oco,
            market: order.kind == OrderKind::Market,
            rank,
            ahead: None,
            status: ReportStatus::Accepted,
            next_event: 0,
            done: false,
        }
    }

    /// A report of a new status without a fill (accepted, triggered).
    pub(super) fn report(&mut self, ts: Nanos, status: ReportStatus) -> ExecutionReport {
        debug_assert!(!status.is_terminal() && !self.done);
        self.status = status;
        self.make(ts, status, None, None)
    }

    /// A report that repeats the current status with the quantity still working, and
    /// why it is made: a refused cancel, or a self-trade decrement.
    pub(super) fn status_report(&mut self, ts: Nanos, reason: ReportReason) -> ExecutionReport {
        debug_assert!(!self.done);
        self.make(ts, self.status, None, Some(reason))
    }

    /// The order's terminal report without a fill: cancelled, expired or rejected.
    pub(super) fn close(
        &mut self,
        ts: Nanos,
        status: ReportStatus,
        reason: Option<ReportReason>,
    ) -> ExecutionReport {
        debug_assert!(status.is_terminal() && !self.done);
        self.done = true;
        self.leaves = Decimal::ZERO;
        self.make(ts, status, None, reason)
    }

    /// Fill up to `fill.qty`, no more than is working and, for a reduce-only order,
    /// than the position it can still reduce; book it; then, if a reduce-only order is
    /// left with nothing to reduce, cancel the rest. Reports nothing if nothing fills.
    pub(super) fn fill(
        &mut self,
        ts: Nanos,
        fill: Execution,
        account: &mut Account,
        config: &VenueConfig,
        out: &mut Vec<ExecutionReport>,
    ) -> Fired {
        let mut qty = fill.qty.min(self.leaves);
        if self.reduce_only {
            qty = qty.min(account.reducible(self.side));
        }
        if qty <= Decimal::ZERO || self.done {
            return Fired::default();
        }
        let booked = account.book(ts, self.side, fill.liquidity, fill.price, qty, config);
        self.leaves -= qty;
        let status = if self.leaves.is_zero() {
            self.done = true;
            ReportStatus::Filled
        } else {
            self.status = ReportStatus::PartiallyFilled;
            ReportStatus::PartiallyFilled
        };
        let execution = Execution { qty, ..fill };
        out.push(self.make(ts, status, Some((execution, booked.fee)), None));
        if !self.done && self.reduce_only && account.reducible(self.side).is_zero() {
            out.push(self.close(ts, ReportStatus::Cancelled, Some(ReportReason::ReduceOnly)));
        }
        Fired {
            qty,
            oco: std::mem::take(&mut self.oco),
            sign_changed: booked.sign_changed,
        }
    }

    /// The order's next report; fill fields are zero when `fill` is `None`.
    fn make(
        &mut self,
        ts: Nanos,
        status: ReportStatus,
        fill: Option<(Execution, Decimal)>,
        reason: Option<ReportReason>,
    ) -> ExecutionReport {
        let event = self.next_event;
        self.next_event += 1;
        ExecutionReport {
            ts,
            client_id: self.client_id,
            symbol: self.symbol,
            side: self.side,
            status,
            fill_qty: fill.map_or(Decimal::ZERO, |(f, _)| f.qty),
            fill_price: fill.map_or(Decimal::ZERO, |(f, _)| f.price),
            fee: fill.map_or(Decimal::ZERO, |(_, fee)| fee),
            liquidity: fill.map(|(f, _)| f.liquidity),
            leaves_qty: self.leaves,
            event,
            reason,
            // Stamped by the venue's gateway once the step that made it is done.
            received_ts: ts,
        }
    }

    /// Whether a counterparty at `price` trades with this limit order: a buy at
    /// `price <= limit`, a sell at `price >= limit`.
    pub(super) fn accepts(&self, price: Decimal) -> bool {
        match self.side {
            Side::Buy => price <= self.price,
            Side::Sell => price >= self.price,
        }
    }

    /// Whether a counterparty at `price` is strictly better than this limit order's
    /// price: it trades through it.
    pub(super) fn through(&self, price: Decimal) -> bool {
        match self.side {
            Side::Buy => price < self.price,
            Side::Sell => price > self.price,
        }
    }

    /// Whether an untriggered stop or take-profit triggers on a bid or ask of `touch`
    /// (the side it would trade against moves, for a sell the bid) or a trade at `touch`.
    pub(super) fn triggers_at(&self, touch: Decimal) -> bool {
        if touch <= Decimal::ZERO {
            return false;
        }
        match (self.kind, self.side) {
            (OrderKind::Stop, Side::Sell) | (OrderKind::TakeProfit, Side::Buy) => {
                touch <= self.trigger
            }
            (OrderKind::Stop, Side::Buy) | (OrderKind::TakeProfit, Side::Sell) => {
                touch >= self.trigger
            }
            (OrderKind::Market | OrderKind::Limit, _) => false,
        }
    }

    /// Sort key within a side: orders executing as market orders first, then the better
    /// limit price, then the earlier arrival.
    fn priority(&self) -> (bool, Decimal, u64) {
        let price = match (self.market, self.side) {
            (true, _) => Decimal::ZERO,
            (false, Side::Buy) => -self.price,
            (false, Side::Sell) => self.price,
        };
        (!self.market, price, self.rank)
    }
}

/// The open orders of one side that are in the book (resting limit orders) or working
/// as market orders, in priority order.
///
/// Invariant: `orders` is sorted by [`Working::priority`]; between the venue's steps
/// every order in it is open (`!done`).
#[derive(Debug, Clone)]
pub(super) struct Queue {
    pub(super) orders: Vec<Working>,
}

impl Queue {
    pub(super) fn new() -> Self {
        Self { orders: Vec::new() }
    }

    pub(super) fn insert(&mut self, order: Working) {
        debug_assert!(!order.done);
        let key = order.priority();
        let at = self.orders.partition_point(|o| o.priority() < key);
        self.orders.insert(at, order);
    }

    /// Drop the orders that are done.
    pub(super) fn sweep(&mut self) {
        self.orders.retain(|o| !o.done);
    }
}
