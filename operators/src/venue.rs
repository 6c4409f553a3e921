//! A simulated venue for one symbol: order messages and market-data ticks in, execution
//! reports out, deterministically. Replay and paper trading both execute through it.
//!
//! # Time
//!
//! An order message leaves the strategy at `order.ts` and reaches the venue at
//! `arrival = order.ts + latency_ns`. Messages in flight wait ordered by
//! `(arrival, client_id)`, ties broken by the order of [`SymbolVenue::submit`] calls. A
//! tick at time `T` is processed in two steps:
//!
//! 1. Every message with `arrival < T` reaches the venue and every open order with
//!    `expire_ts <= T` expires, in event-time order: arrivals in `(arrival, client_id)`
//!    order, an expiry at `e` before any arrival at `e`. All of them see the book as it
//!    was before `T`: the last quote seen. (Interleaving rather than "all arrivals, then
//!    all expiries" only matters for a cancel arriving after its order expired, which
//!    then finds nothing to cancel.) A message arriving exactly at `T` waits for the
//!    next tick: the tick happened first.
//! 2. The tick is applied: a quote replaces the book; then open orders match against
//!    the tick.
//!
//! Every report carries the time its event happened: the arrival time for what a
//! message causes (acceptance, rejection, an immediate fill, a cancel), `expire_ts` for
//! an expiry, `T` for a match against tick `T`. Reports are appended in non-decreasing
//! `ts`; reports at equal `ts` in processing order ([`ExecutionReport::key`] sorts
//! them canonically).
//!
//! # Rules
//!
//! * **Placing** (`OrderAction::New`): [`SymbolVenue::check`] validates the order
//!   against the instrument; a failure is a `Rejected` report. Otherwise an `Accepted`
//!   report, then an immediate taker fill if the order crosses the last quote (a
//!   market order always does; a limit buy if `price >= ask`, a limit sell if
//!   `price <= bid`): at the touch price for at most the displayed size. What is left
//!   stays open: a limit order rests at its limit price, a market order's remainder
//!   fills as taker on each following quote at that quote's touch price and size.
//! * **Resting limit orders** fill as maker at their own limit price: a resting buy at
//!   `p` on a sell-aggressor trade at a price `<= p` (for at most the trade size), or on
//!   a quote with `ask <= p` (for at most `ask_size`); sells mirror this. Trades never
//!   fill market remainders.
//! * **Shared liquidity**: our own fills use up what they hit. Until the next quote,
//!   later fills against the same quote see only the size left; the size of a trade is
//!   shared the same way. Open orders take it in priority order: market remainders
//!   first, then limit orders best price first, then earliest accepted.
//! * **Cancelling** (`OrderAction::Cancel`, naming the order by `client_id`): an open
//!   order is closed with a `Cancelled` report. A cancel of an order that is unknown,
//!   done, or still in flight reports nothing.
//! * **Expiry**: an open order (resting limit or market remainder) still open at its
//!   `expire_ts` gets an `Expired` report at `expire_ts`.
//! * **Client ids** identify orders: a `New` whose `client_id` this venue has already
//!   seen is dropped without a report, since its reports would interleave with the
//!   first order's.
//!
//! # Reports
//!
//! `event` counts an order's reports from 0. A fill's status is `Filled` when it
//! leaves nothing, else `PartiallyFilled`; `leaves_qty` is what is still working after
//! the event (0 after a terminal report); fill fields are zero and `liquidity` is
//! `None` when a report carries no fill. The fee is `price * qty * rate` rounded to 8
//! decimal places, half to even ([`VenueConfig::fee`]).
//!
//! # Invariants
//!
//! No order fills more than its quantity, no fill is at a price worse than its limit,
//! every order gets at most one terminal report and nothing after it. The venue does
//! not know its symbol's id: it trusts its caller to route one symbol's ticks and
//! orders to it, and its reports carry the order's `symbol`.

use std::collections::{BTreeMap, BTreeSet};

use bot4_schemas::{
    ExecutionReport, Instrument, Liquidity, Nanos, Order, OrderAction, OrderKind, ReportStatus,
    Side, Tick, TickKind,
};
use rust_decimal::Decimal;

mod config;
#[cfg(test)]
mod proptests;
mod queue;
mod reject;
#[cfg(test)]
mod tests;

pub use config::VenueConfig;
use queue::{Queue, Working};
use reject::check_order;
pub use reject::RejectReason;

/// The last quote seen, and how much of its displayed size our fills have left.
#[derive(Debug, Clone, Copy)]
struct Book {
    bid: Decimal,
    ask: Decimal,
    /// Bid size not yet taken by our sells; zero when there is no bid.
    bid_left: Decimal,
    /// Ask size not yet taken by our buys; zero when there is no ask.
    ask_left: Decimal,
}

impl Book {
    fn new(bid: Decimal, bid_size: Decimal, ask: Decimal, ask_size: Decimal) -> Self {
        let size = |price: Decimal, size: Decimal| {
            if price > Decimal::ZERO && size > Decimal::ZERO {
                size
            } else {
                Decimal::ZERO
            }
        };
        Self {
            bid,
            ask,
            bid_left: size(bid, bid_size),
            ask_left: size(ask, ask_size),
        }
    }

    fn mid(&self) -> Decimal {
        (self.bid + self.ask) / Decimal::TWO
    }
}

/// The simulated venue of one symbol.
///
/// # Examples
/// ```
/// use bot4_operators::venue::{SymbolVenue, VenueConfig};
/// use bot4_schemas::{Decimal, Instrument, Order, OrderAction, OrderKind, ReportStatus, Side, SymbolId, Tick, TickKind};
///
/// let instrument = Instrument { symbol: "BTC-USDT".into(), tick_size: Decimal::new(1, 1), lot_size: Decimal::new(1, 3), min_notional: Decimal::new(5, 0) };
/// let mut venue = SymbolVenue::new(instrument, VenueConfig::default());
/// let quote = |ts| Tick { ts, seq: 0, symbol: SymbolId(0), kind: TickKind::Quote {
///     bid: Decimal::new(1000, 0), bid_size: Decimal::ONE, ask: Decimal::new(1001, 0), ask_size: Decimal::ONE } };
/// let mut reports = Vec::new();
/// venue.on_tick(&quote(0), &mut reports);
/// venue.submit(Order { ts: 0, client_id: 1, symbol: SymbolId(0), action: OrderAction::New, side: Side::Buy,
///     kind: OrderKind::Market, price: Decimal::ZERO, qty: Decimal::new(1, 1), expire_ts: i64::MAX, reduces_exposure: false });
/// venue.on_tick(&quote(10_000_000), &mut reports); // after the 5 ms latency
/// let statuses: Vec<_> = reports.iter().map(|r| r.status).collect();
/// assert_eq!(statuses, [ReportStatus::Accepted, ReportStatus::Filled]);
/// assert_eq!(reports[1].ts, 5_000_000);
/// assert_eq!(reports[1].fill_price, Decimal::new(1001, 0));
/// assert_eq!(venue.open_orders(), 0);
/// ```
#[derive(Debug, Clone)]
pub struct SymbolVenue {
    instrument: Instrument,
    config: VenueConfig,
    /// `None` until the first quote.
    book: Option<Book>,
    /// Messages not yet at the venue, keyed by `(arrival, client_id, submit number)`.
    in_flight: BTreeMap<(Nanos, u64, u64), Order>,
    submitted: u64,
    /// Open buy orders, in priority order.
    bids: Queue,
    /// Open sell orders, in priority order.
    asks: Queue,
    /// Orders accepted or rejected so far; gives each its time priority.
    activated: u64,
    /// Client ids of every `New` that has reached the venue.
    seen: BTreeSet<u64>,
}

impl SymbolVenue {
    /// A venue trading `instrument`, with no quote and no orders.
    ///
    /// # Panics
    /// If `config.latency_ns < 1`: an order decided on a tick must not trade on it.
    pub fn new(instrument: Instrument, config: VenueConfig) -> Self {
        assert!(
            config.latency_ns >= 1,
            "venue latency must be at least 1 ns, got {}",
            config.latency_ns
        );
        Self {
            instrument,
            config,
            book: None,
            in_flight: BTreeMap::new(),
            submitted: 0,
            bids: Queue::new(Side::Buy),
            asks: Queue::new(Side::Sell),
            activated: 0,
            seen: BTreeSet::new(),
        }
    }

    /// Send an order message: it leaves the strategy at `order.ts` and reaches the
    /// venue at `order.ts + latency_ns`, where the first tick after that acts on it.
    pub fn submit(&mut self, order: Order) {
        let arrival = order.ts.saturating_add(self.config.latency_ns);
        self.in_flight
            .insert((arrival, order.client_id, self.submitted), order);
        self.submitted += 1;
    }

    /// Process one tick of this symbol, appending the reports it causes to `out`.
    /// Ticks must come in `(ts, seq)` order.
    pub fn on_tick(&mut self, tick: &Tick, out: &mut Vec<ExecutionReport>) {
        self.catch_up(tick.ts, out);
        match tick.kind {
            TickKind::Quote {
                bid,
                bid_size,
                ask,
                ask_size,
            } => {
                let book = self.book.insert(Book::new(bid, bid_size, ask, ask_size));
                let config = &self.config;
                self.bids
                    .match_quote(tick.ts, ask, &mut book.ask_left, config, out);
                self.asks
                    .match_quote(tick.ts, bid, &mut book.bid_left, config, out);
            }
            TickKind::Trade {
                price,
                size,
                aggressor,
            } => {
                let resting = match aggressor {
                    Side::Sell => &mut self.bids,
                    Side::Buy => &mut self.asks,
                };
                resting.match_trade(tick.ts, price, size, &self.config, out);
            }
        }
    }

    /// How many orders are open: resting limit orders, market remainders, and new
    /// orders still in flight.
    pub fn open_orders(&self) -> usize {
        let in_flight = self
            .in_flight
            .values()
            .filter(|o| o.action == OrderAction::New)
            .count();
        self.bids.len() + self.asks.len() + in_flight
    }

    /// Whether the venue would accept `order` arriving at `arrival`, given the last
    /// quote seen; see [`RejectReason`] for the checks.
    pub fn check(&self, order: &Order, arrival: Nanos) -> Result<(), RejectReason> {
        check_order(&self.instrument, self.book.map(|b| b.mid()), order, arrival)
    }

    /// Step 1 of a tick at `now`: deliver the messages arriving before `now` and expire
    /// the orders expiring at or before it, in event-time order.
    fn catch_up(&mut self, now: Nanos, out: &mut Vec<ExecutionReport>) {
        loop {
            let arrival = self
                .in_flight
                .first_key_value()
                .map(|(&(arrival, _, _), _)| arrival)
                .filter(|&arrival| arrival < now);
            let expiry = earliest_expiry(&self.bids, &self.asks).filter(|&(e, _)| e <= now);
            let due = expiry.filter(|&(e, _)| arrival.is_none_or(|a| e <= a));
            if let Some((expire_ts, client_id)) = due {
                let open = self
                    .bids
                    .remove(client_id)
                    .or_else(|| self.asks.remove(client_id));
                if let Some(mut open) = open {
                    out.push(open.close(expire_ts, ReportStatus::Expired));
                }
                continue;
            }
            let Some(((arrival, _, _), order)) = arrival.and_then(|_| self.in_flight.pop_first())
            else {
                return;
            };
            self.arrive(arrival, order, out);
        }
    }

    /// A message reaches the venue at `arrival`.
    fn arrive(&mut self, arrival: Nanos, order: Order, out: &mut Vec<ExecutionReport>) {
        match order.action {
            OrderAction::Cancel => {
                let open = self
                    .bids
                    .remove(order.client_id)
                    .or_else(|| self.asks.remove(order.client_id));
                if let Some(mut open) = open {
                    out.push(open.close(arrival, ReportStatus::Cancelled));
                }
            }
            OrderAction::New => self.place(arrival, order, out),
        }
    }

    /// A new order reaches the venue at `arrival`.
    fn place(&mut self, arrival: Nanos, order: Order, out: &mut Vec<ExecutionReport>) {
        if !self.seen.insert(order.client_id) {
            return;
        }
        let mut working = Working::new(&order, self.activated);
        self.activated += 1;
        if self.check(&order, arrival).is_err() {
            out.push(working.close(arrival, ReportStatus::Rejected));
            return;
        }
        out.push(working.report(arrival, ReportStatus::Accepted));
        if let Some(book) = self.book.as_mut() {
            let (touch, left) = match order.side {
                Side::Buy => (book.ask, &mut book.ask_left),
                Side::Sell => (book.bid, &mut book.bid_left),
            };
            let crosses = match (order.kind, order.side) {
                (OrderKind::Market, _) => true,
                (OrderKind::Limit, Side::Buy) => order.price >= touch,
                (OrderKind::Limit, Side::Sell) => order.price <= touch,
            };
            if crosses {
                working.fill_up_to(arrival, touch, Liquidity::Taker, left, &self.config, out);
            }
        }
        if !working.is_done() {
            match order.side {
                Side::Buy => self.bids.insert(working),
                Side::Sell => self.asks.insert(working),
            }
        }
    }
}

/// The open order that expires first, as `(expire_ts, client_id)`.
fn earliest_expiry(bids: &Queue, asks: &Queue) -> Option<(Nanos, u64)> {
    bids.iter()
        .chain(asks.iter())
        .map(|o| (o.expire_ts, o.client_id))
        .min()
}
