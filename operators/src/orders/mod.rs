//! Order management for one symbol: from a target position to order messages, and
//! every order's life from the reports that come back.
//!
//! # Reaching the target
//!
//! The manager knows the position from the fills fed back by the venue (with its
//! quantity-weighted average entry, [`PositionBook`]) and each of its orders' state
//! ([`state::OrderState`]: new → acknowledged → partially filled → filled / cancelled /
//! rejected / expired). On a new target, and whenever one of its orders ends, it
//! reconciles: orders on the wrong side (or passive ones when the target is urgent) are
//! cancelled, and the gap between target and position not already covered by working
//! orders is sent as one new order — a post-only limit order joining the touch when
//! passive, a marketable immediate-or-cancel limit order when aggressive. A passive
//! order that expires, or that the venue refuses because it would have crossed
//! (post-only), is replaced by an aggressive one for what is still missing.
//!
//! # Aggressive orders: IOC limits, market orders only to close
//!
//! An aggressive order towards the target is a limit order with `TimeInForce::Ioc` at
//! the far touch of the intent's quote (the ask for a buy, the bid for a sell) moved
//! `ioc_slippage_bps` against us and rounded to the tick grid away from the touch (up
//! for a buy, down for a sell): it takes what the book offers up to that price and
//! never sweeps further. The venue cancels the unfilled rest (`ImmediateOrCancel`; a
//! fill-or-kill order that cannot fill whole ends the same way with `FillOrKill`, though
//! the manager never sends one). That is a normal end: the position keeps what filled,
//! the bracket follows it, and the gap is sent again — but not at once, which against a
//! thin book would loop order after order: after such a cancel no new IOC order goes out
//! until the next epoch ([`OrderManager::on_epoch`]), which reconciles again. Orders that
//! must close stay **market orders**: flattening outside Normal (Emergency, a Reduce to
//! zero), the time stop and every exit after standing aside, flattening without a price,
//! and the bracket's legs once triggered (the venue executes those). The IOC hold never
//! delays them.
//!
//! Invariant: counting every open order towards the target as if it filled (cancels in
//! flight included), the position never exceeds the intent's `max_position` in either
//! direction. The protective orders below are reduce-only, so the venue never lets them
//! add exposure, and they are not counted.
//!
//! # Protection: brackets, trailing stops and time stops
//!
//! While a position is open and the intent asks for it (`stop_distance`,
//! `take_profit_distance`), the manager keeps a bracket on it: a stop-market order at
//! `entry ∓ stop_distance` and a take-profit at `entry ± take_profit_distance`, both
//! reduce-only, for the whole position, linked one-cancels-other so the venue cancels
//! one when the other triggers. `entry` is the position's average entry price. When the
//! position changes, the bracket is replaced for the new quantity and entry. At each
//! epoch the stop trails the mark: for a long it moves up to `mark − stop_distance`
//! once that is at least `trail_step` of the distance above the current stop (never
//! down), a short's mirrors it; the take-profit keeps its distance from the entry.
//! When a bracket order fills, or the position has been open for the intent's
//! `max_hold_ns` (a time stop), the manager closes the position and stands aside (aims
//! for flat) until the next intent.
//!
//! # Idempotency and client ids
//!
//! Client ids are `symbol · 2⁴⁰ + counter`: deterministic and unique per run. Each
//! report is applied once: a bounded cache of `(client id, event)` (least recently
//! used out, with a time to live; [`IdempotencyCache`]) drops a report delivered twice.
//!
//! # The safety controller's modes
//!
//! The mode (broadcast to every worker, applied at its event time) decides what the
//! manager may send:
//! - **Normal**: the strategy's target.
//! - **Pause**: nothing. Open orders and the position are kept; the targets that
//!   arrive are remembered and pursued on resume.
//! - **Reduce**: only exposure-reducing orders, staged. On entering Reduce the
//!   symbol's exposure is cut at once to `reduce_to` of the position (the first
//!   stage); after that the target is the strategy's, but never larger than the
//!   position nor on the other side, so exposure only shrinks, in the steps the
//!   strategy's own signals (or an escalation to Emergency) take.
//! - **Emergency**: every open order is cancelled and the position flattened with
//!   market orders, again after each fill, until flat. The mode latches: only a reset
//!   (Normal again) lets the strategy trade.
//!
//! An order is marked `reduces_exposure` only when, with every open order towards the
//! target on its side filled too, the position would shrink without changing sign;
//! reduce-only orders are marked too. The safety gate passes nothing else in Reduce and
//! Emergency.

use std::collections::BTreeMap;

use bot4_schemas::{
    Decimal, ExecutionReport, Instrument, Nanos, Order, OrderAction, OrderIntent, OrderKind,
    ReportReason, ReportStatus, Side, SymbolId, TimeInForce, Urgency,
};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::RoundingStrategy;

use crate::idempotency::IdempotencyCache;
use crate::parameters::ParameterChange;
use crate::positions::PositionBook;
use crate::safety_gate::Mode;

pub mod state;

use state::{OrderState, OrderStatus};

/// Parameters of [`OrderManager`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct OrderConfig {
    /// How long a passive limit order rests before it expires, in nanoseconds.
    pub limit_ttl_ns: Nanos,
    /// How far beyond the far touch an aggressive (IOC) limit order may fill, in basis
    /// points of the touch. The pre-trade checks refuse a limit price more than their
    /// price band (5%) from the mid; [`SymbolDesk`](crate::desk::SymbolDesk) caps this
    /// at half its band, leaving the other half for the spread.
    pub ioc_slippage_bps: u32,
    /// The first stage of Reduce: the fraction of each position kept on entering it.
    pub reduce_to: f64,
    /// A cap on each symbol's position plus open orders, in quote currency at the far
    /// touch, on top of the intent's own limit; none by default (a run-time parameter).
    pub max_notional: Option<Decimal>,
    /// How far (a fraction of the stop distance) the mark must have moved the trailing
    /// stop before it is re-placed.
    pub trail_step: f64,
    /// After the pre-trade checks refuse an order, how long nothing that adds exposure
    /// (and no protective order) is sent, in nanoseconds of event time.
    pub refusal_backoff_ns: Nanos,
    /// After the venue refuses a message (a rate limit, an outage), or the pre-trade
    /// order rate is reached, how long the manager waits before sending more.
    pub venue_backoff_ns: Nanos,
    /// How many applied reports the idempotency cache remembers.
    pub report_cache: usize,
    /// How long it remembers each, in nanoseconds of event time.
    pub report_ttl_ns: Nanos,
}

impl Default for OrderConfig {
    fn default() -> Self {
        Self {
            limit_ttl_ns: 20_000_000_000,
            ioc_slippage_bps: 25,
            reduce_to: 0.5,
            max_notional: None,
            trail_step: 0.25,
            refusal_backoff_ns: 60_000_000_000,
            venue_backoff_ns: 1_000_000_000,
            report_cache: 4_096,
            report_ttl_ns: 3_600_000_000_000,
        }
    }
}

impl OrderConfig {
    /// Apply a change of one of the order stage's parameters; others are ignored.
    pub fn apply(&mut self, change: &ParameterChange) {
        match *change {
            ParameterChange::OrderMaxNotional(cap) => self.max_notional = cap,
            ParameterChange::OrderLimitTtl(ttl) => self.limit_ttl_ns = ttl,
            ParameterChange::OrderReduceTo(f) => self.reduce_to = f,
            _ => {}
        }
    }
}

/// What an order is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Towards the target.
    Target,
    /// The bracket's stop-loss.
    Stop,
    /// The bracket's take-profit.
    TakeProfit,
}

#[derive(Debug, Clone)]
struct Open {
    state: OrderState,
    role: Role,
}

impl Open {
    fn remaining(&self) -> Decimal {
        self.state.leaves
    }

    /// Whether a stop or take-profit has triggered and is executing.
    fn executing(&self) -> bool {
        matches!(
            self.state.status,
            OrderStatus::Triggered | OrderStatus::PartiallyFilled
        )
    }
}

/// The bracket on the position: its orders and terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bracket {
    stop: u64,
    take_profit: Option<u64>,
    qty: Decimal,
    stop_trigger: Decimal,
    take_profit_trigger: Decimal,
}

/// Counts of what the manager has done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderStats {
    /// New orders sent.
    pub sent: u64,
    /// Cancels sent.
    pub cancels: u64,
    /// Orders that ended filled.
    pub filled: u64,
    /// Orders refused (gate, pre-trade checks, venue).
    pub rejected: u64,
    /// Reports dropped as delivered twice.
    pub duplicates: u64,
    /// Reports that did not fit their order's life (applied to the position only).
    pub anomalies: u64,
    /// Positions closed by a stop, a take-profit or a time stop.
    pub protective_exits: u64,
}

/// Order state of one symbol.
#[derive(Debug, Clone)]
pub struct OrderManager {
    symbol: SymbolId,
    instrument: Instrument,
    config: OrderConfig,
    book: PositionBook,
    open: BTreeMap<u64, Open>,
    intent: Option<OrderIntent>,
    next_order: u64,
    mode: Mode,
    /// In Reduce: the largest absolute position the manager may aim for.
    cap: Option<Decimal>,
    seen: IdempotencyCache<(u64, u32)>,
    bracket: Option<Bracket>,
    /// When the position was last opened from flat.
    opened_at: Option<Nanos>,
    /// After a protective exit: aim for flat until the next intent.
    aside: bool,
    /// After a pre-trade refusal: send nothing that adds exposure, and no protective
    /// order, until this time.
    held_until: Option<Nanos>,
    /// After an IOC (or FOK) order towards the target ended with its rest cancelled:
    /// send no new IOC order until the next epoch.
    ioc_held: bool,
    /// The last mid the desk saw, and the account's cap on this symbol's notional.
    mid: Option<Decimal>,
    notional_cap: Option<Decimal>,
    stats: OrderStats,
}

impl OrderManager {
    /// No position, no orders.
    pub fn new(symbol: SymbolId, instrument: Instrument, config: OrderConfig) -> Self {
        Self {
            symbol,
            instrument,
            config,
            book: PositionBook::new(symbol),
            open: BTreeMap::new(),
            intent: None,
            next_order: 0,
            mode: Mode::Normal,
            cap: None,
            seen: IdempotencyCache::new(config.report_cache, config.report_ttl_ns),
            bracket: None,
            opened_at: None,
            aside: false,
            held_until: None,
            ioc_held: false,
            mid: None,
            notional_cap: None,
            stats: OrderStats::default(),
        }
    }

    /// The mode the manager is in.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// What it has done so far.
    pub fn stats(&self) -> OrderStats {
        self.stats
    }

    /// Apply a parameter change now in effect; changes of other stages' parameters are
    /// ignored. Orders already sent keep their terms.
    pub fn apply(&mut self, change: &ParameterChange) {
        self.config.apply(change);
    }

    /// The market and the account as the desk last saw them: the symbol's mid, and the
    /// largest notional the account's limits allow in it (concentration, maximum
    /// notional). Quantities are valued at the higher of the mid and the intent's price,
    /// so a target sized before the price moved is trimmed to the cap rather than sent
    /// and refused.
    pub fn set_market(&mut self, mid: Option<Decimal>, notional_cap: Option<Decimal>) {
        self.mid = mid.filter(|m| *m > Decimal::ZERO).or(self.mid);
        self.notional_cap = notional_cap;
    }

    /// The position according to the fills seen.
    pub fn position(&self) -> Decimal {
        self.book.position().qty
    }

    /// The position's average entry price (zero when flat).
    pub fn avg_entry(&self) -> Decimal {
        self.book.position().avg_price
    }

    /// How many orders are open (including those being cancelled).
    pub fn open_orders(&self) -> usize {
        self.open.len()
    }

    /// The quantity still working in open orders towards the target on `side`, other
    /// than `except` (the bracket's reduce-only orders are not counted).
    pub fn open_toward(&self, side: Side, except: u64) -> Decimal {
        self.open
            .iter()
            .filter(|(&id, o)| id != except && o.role == Role::Target && o.state.order.side == side)
            .map(|(_, o)| o.remaining())
            .sum()
    }

    /// The state of open order `client_id`.
    pub fn order(&self, client_id: u64) -> Option<&OrderState> {
        self.open.get(&client_id).map(|o| &o.state)
    }

    /// The stop and take-profit trigger prices of the bracket in place, if any.
    pub fn bracket(&self) -> Option<(Decimal, Option<Decimal>)> {
        self.bracket
            .map(|b| (b.stop_trigger, b.take_profit.map(|_| b.take_profit_trigger)))
    }

    /// Enter the safety controller's `mode` at event time `now`, sending what it asks
    /// for: Emergency cancels every open order and flattens; Reduce cuts the position
    /// to its first stage; leaving Pause or Reduce for Normal pursues the target again.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::orders::{OrderConfig, OrderManager};
    /// use bot4_operators::safety_gate::Mode;
    /// use bot4_schemas::{Decimal, Instrument, SymbolId};
    /// let btc = Instrument { symbol: "BTC-USDT".into(), tick_size: Decimal::new(1, 1),
    ///     lot_size: Decimal::new(1, 4), min_notional: Decimal::from(5) };
    /// let mut m = OrderManager::new(SymbolId(0), btc, OrderConfig::default());
    /// let mut out = Vec::new();
    /// m.set_mode(Mode::Emergency, 10, &mut out);
    /// assert!(out.is_empty(), "nothing open, nothing held");
    /// assert_eq!(m.mode(), Mode::Emergency);
    /// ```
    pub fn set_mode(&mut self, mode: Mode, now: Nanos, out: &mut Vec<Order>) {
        let before = self.mode;
        if mode == before {
            return;
        }
        self.mode = mode;
        self.cap = match mode {
            Mode::Reduce => Some(
                self.instrument.floor_qty(
                    self.position().abs()
                        * Decimal::from_f64(self.config.reduce_to.clamp(0.0, 1.0))
                            .unwrap_or(Decimal::ZERO),
                ),
            ),
            _ => None,
        };
        match mode {
            Mode::Pause => {}
            Mode::Emergency => {
                self.cancel_all(now, out);
                self.reconcile(now, Urgency::Aggressive, out);
            }
            Mode::Reduce => self.reconcile(now, Urgency::Passive, out),
            Mode::Normal => {
                let urgency = self.intent.map_or(Urgency::Passive, |i| i.urgency);
                self.reconcile(now, urgency, out);
            }
        }
        self.protect(now, None, out);
    }

    /// Take a new target and send what reaching it needs. A new target, with its own
    /// quote, lifts the hold after an IOC order's cancelled rest.
    pub fn on_intent(&mut self, intent: &OrderIntent, out: &mut Vec<Order>) {
        self.intent = Some(*intent);
        self.aside = false;
        self.ioc_held = false;
        let urgency = match self.mode {
            Mode::Emergency => Urgency::Aggressive,
            _ => intent.urgency,
        };
        self.reconcile(intent.ts, urgency, out);
        self.protect(intent.ts, None, out);
    }

    /// The start of an epoch at `now`, with the symbol's last mark (as of the end of
    /// the previous epoch): lift the hold of a pre-trade refusal once its backoff has
    /// passed and that of an IOC order's cancelled rest (sending the missing quantity
    /// again, aggressively), apply a due time stop, and trail the stop.
    pub fn on_epoch(&mut self, now: Nanos, mark: Option<Decimal>, out: &mut Vec<Order>) {
        let was_held = self.held_until.is_some_and(|until| now >= until);
        if was_held {
            self.held_until = None;
        }
        let ioc_retry = std::mem::take(&mut self.ioc_held);
        let max_hold = self.intent.map_or(0, |i| i.max_hold_ns);
        let due = self
            .opened_at
            .is_some_and(|at| max_hold > 0 && now.saturating_sub(at) >= max_hold);
        if due && !self.aside && self.mode == Mode::Normal && !self.position().is_zero() {
            self.aside = true;
            self.stats.protective_exits += 1;
            self.reconcile(now, Urgency::Aggressive, out);
        } else if ioc_retry {
            self.reconcile(now, Urgency::Aggressive, out);
        } else if was_held {
            let urgency = self.intent.map_or(Urgency::Passive, |i| i.urgency);
            self.reconcile(now, urgency, out);
        }
        self.protect(now, mark, out);
    }

    /// Learn what happened to an order, delivered at event time `now`. A report seen
    /// before is dropped.
    pub fn on_report(&mut self, report: &ExecutionReport, now: Nanos, out: &mut Vec<Order>) {
        if report.status == ReportStatus::Submitted {
            return;
        }
        if !self.seen.insert((report.client_id, report.event), now) {
            self.stats.duplicates += 1;
            return;
        }
        let was_flat = self.position().is_zero();
        if let Some(fill) = report.fill() {
            self.book.apply_fill(&fill);
        }
        let now_flat = self.position().is_zero();
        if now_flat {
            self.opened_at = None;
        } else if was_flat {
            self.opened_at = Some(report.ts);
        }
        let Some(open) = self.open.get_mut(&report.client_id) else {
            return;
        };
        if open.state.apply(report).is_err() {
            self.stats.anomalies += 1;
        }
        let role = open.role;
        let status = open.state.status;
        // A bracket order that triggers or fills is the protective exit: the manager
        // stands aside, and lets it (and only it) close the position.
        let exiting = role != Role::Target
            && (report.status == ReportStatus::Triggered || !report.fill_qty.is_zero());
        if exiting && !self.aside && self.mode == Mode::Normal {
            self.aside = true;
            self.stats.protective_exits += 1;
        }
        if report.status == ReportStatus::Rejected
            && matches!(
                report.reason,
                Some(ReportReason::RateLimited | ReportReason::VenueUnavailable)
            )
        {
            // The venue is refusing messages: back off before sending more.
            self.hold(report.ts, self.config.venue_backoff_ns);
        }
        if status.is_terminal() {
            self.open.remove(&report.client_id);
            match status {
                OrderStatus::Filled => self.stats.filled += 1,
                OrderStatus::Rejected => self.stats.rejected += 1,
                _ => {}
            }
            if let Some(b) = self.bracket.as_mut() {
                if b.stop == report.client_id {
                    // Without its stop the bracket is gone: it is placed again whole.
                    self.bracket = None;
                } else if b.take_profit == Some(report.client_id) {
                    b.take_profit = None;
                }
            }
            if role == Role::Target {
                // An IOC (or FOK) order whose rest the venue cancelled ended normally;
                // what is missing goes again, aggressively, at the next epoch.
                let immediate = status == OrderStatus::Cancelled
                    && matches!(
                        report.reason,
                        Some(ReportReason::ImmediateOrCancel | ReportReason::FillOrKill)
                    );
                if immediate {
                    self.ioc_held = true;
                }
                // A passive order that expired or would have crossed is replaced by an
                // aggressive one; any other end is a reason to look again.
                let escalate = status == OrderStatus::Expired
                    || report.reason == Some(ReportReason::PostOnly)
                    || immediate
                    || self.mode == Mode::Emergency;
                let urgency = if escalate {
                    Urgency::Aggressive
                } else {
                    self.intent.map_or(Urgency::Aggressive, |i| i.urgency)
                };
                self.reconcile(now, urgency, out);
            } else if self.aside || self.mode == Mode::Emergency {
                self.reconcile(now, Urgency::Aggressive, out);
            }
        } else if !report.fill_qty.is_zero() && (self.mode == Mode::Emergency || self.aside) {
            self.reconcile(now, Urgency::Aggressive, out);
        } else if open_refused(report) {
            // A cancel refused by a rate limit or an outage: the order still works, and
            // the cancel goes again once the backoff has passed (`on_epoch`).
            self.hold(report.ts, self.config.venue_backoff_ns);
        }
        // A bracket goes on at the first fill; it is resized once the orders towards the
        // target are done (and at each epoch), not at every partial fill.
        let entry_working = self.open.values().any(|o| o.role == Role::Target);
        if (!report.fill_qty.is_zero() || status.is_terminal())
            && (self.bracket.is_none() || !entry_working)
        {
            self.protect(now, None, out);
        }
    }

    /// The pre-trade checks refused `order`, which this manager has just sent: it is
    /// forgotten, nothing that adds exposure (and no protective order) goes out for
    /// `refusal_backoff_ns`, and the returned report records the refusal.
    pub fn refuse(&mut self, order: &Order, reason: ReportReason) -> ExecutionReport {
        let report = ExecutionReport {
            ts: order.ts,
            client_id: order.client_id,
            symbol: order.symbol,
            side: order.side,
            status: ReportStatus::Rejected,
            fill_qty: Decimal::ZERO,
            fill_price: Decimal::ZERO,
            fee: Decimal::ZERO,
            liquidity: None,
            leaves_qty: Decimal::ZERO,
            event: 0,
            reason: Some(reason),
            received_ts: order.ts,
        };
        self.seen.insert((order.client_id, 0), order.ts);
        if self.open.remove(&order.client_id).is_some() {
            self.stats.rejected += 1;
            if let Some(b) = self.bracket {
                if b.stop == order.client_id || b.take_profit == Some(order.client_id) {
                    self.bracket = None;
                }
            }
            let backoff = if reason == ReportReason::RiskOrderRate {
                self.config.venue_backoff_ns
            } else {
                self.config.refusal_backoff_ns
            };
            self.hold(order.ts, backoff);
        }
        report
    }

    /// Send nothing that adds exposure, and no protective order, until `from + backoff`
    /// (a longer hold already in place stays).
    fn hold(&mut self, from: Nanos, backoff: Nanos) {
        let until = from.saturating_add(backoff);
        self.held_until = Some(self.held_until.map_or(until, |h| h.max(until)));
    }

    /// The position the manager aims for in its mode, with the intent's limit and
    /// prices; `None` when it may send nothing (Pause, or no intent yet outside
    /// Emergency and Reduce).
    fn aim(&self, now: Nanos) -> Option<OrderIntent> {
        let flat = |mut i: OrderIntent| {
            i.target = Decimal::ZERO;
            i
        };
        let position = self.position();
        let held = || {
            self.intent.or_else(|| {
                // No intent yet but a position (fed back): aim with a unit limit.
                (!position.is_zero()).then_some(OrderIntent {
                    ts: now,
                    seq: 0,
                    symbol: self.symbol,
                    target: position,
                    max_position: position.abs(),
                    urgency: Urgency::Aggressive,
                    bid: Decimal::ZERO,
                    ask: Decimal::ZERO,
                    stop_distance: Decimal::ZERO,
                    take_profit_distance: Decimal::ZERO,
                    max_hold_ns: 0,
                })
            })
        };
        match self.mode {
            Mode::Normal if self.aside => held().map(flat),
            Mode::Normal => self.intent,
            Mode::Pause => None,
            Mode::Emergency => held().map(flat),
            Mode::Reduce => held().map(|mut i| {
                let cap = self.cap.unwrap_or(Decimal::ZERO).min(position.abs());
                i.target = if position.is_zero()
                    || i.target.is_sign_negative() != position.is_sign_negative()
                {
                    Decimal::ZERO
                } else {
                    i.target.abs().min(cap) * Side::of(position).sign()
                };
                i
            }),
        }
    }

    fn reconcile(&mut self, now: Nanos, urgency: Urgency, out: &mut Vec<Order>) {
        let Some(intent) = self.aim(now) else {
            return;
        };
        let position = self.position();
        if let Some(cap) = self.cap.as_mut() {
            // Exposure shrinks for good: the cap follows the position down.
            *cap = (*cap).min(position.abs());
        }
        let desired = intent.target - position;
        let side = Side::of(desired);
        for open in self.open.values_mut() {
            if open.role != Role::Target || open.state.cancel_sent {
                continue;
            }
            let order = &open.state.order;
            let wrong_side = desired.is_zero() || order.side != side;
            // A resting (passive) limit order; an IOC one ends on its own at once.
            let too_slow = urgency == Urgency::Aggressive && rests(order);
            if wrong_side || too_slow {
                open.state.cancel_sent = true;
                self.stats.cancels += 1;
                out.push(order.cancel_of(now));
            }
        }
        if desired.is_zero() {
            return;
        }
        let toward = |o: &&Open| o.role == Role::Target && o.state.order.side == side;
        // A triggered bracket order is executing the exit: it works towards flat too.
        let exiting: Decimal = self
            .open
            .values()
            .filter(|o| o.role != Role::Target && o.state.order.side == side && o.executing())
            .map(Open::remaining)
            .sum();
        let working: Decimal = self
            .open
            .values()
            .filter(toward)
            .filter(|o| !o.state.cancel_sent)
            .map(Open::remaining)
            .sum::<Decimal>()
            + exiting;
        let need = desired.abs() - working;
        // Exposure if every open order towards the target on this side filled, cancels
        // in flight included (the bracket's orders are reduce-only).
        let all_open: Decimal = self.open.values().filter(toward).map(Open::remaining).sum();
        let reference = match side {
            Side::Buy => intent.ask,
            Side::Sell => intent.bid,
        };
        let value_at = reference.max(self.mid.unwrap_or(Decimal::ZERO));
        let mut limit = intent.max_position;
        for cap in [self.config.max_notional, self.notional_cap]
            .into_iter()
            .flatten()
        {
            if value_at > Decimal::ZERO {
                limit = limit.min(self.instrument.floor_qty(cap / value_at));
            }
        }
        let room = limit - side.sign() * position - all_open;
        let mut qty = need.min(room);
        let reducing = !position.is_zero() && side.sign() != Side::of(position).sign();
        if self.mode != Mode::Normal || self.held_until.is_some() {
            // Outside Normal (and while a refusal holds) only reductions go out: with
            // every open order on this side filled as well, the position may shrink to
            // zero but not flip. What does not fit waits for the cancels in flight.
            qty = if reducing {
                qty.min(position.abs() - all_open)
            } else {
                Decimal::ZERO
            };
        }
        let qty = self.instrument.floor_qty(qty);
        if qty <= Decimal::ZERO {
            return;
        }
        // Flattening is never held back by the minimum notional (a remainder below it
        // could otherwise never be closed) nor by a missing price, and when aggressive
        // (or without a price) it is a market order: it must close.
        let flattening = intent.target.is_zero() && (self.mode != Mode::Normal || self.aside);
        if !flattening
            && (reference <= Decimal::ZERO || qty * reference < self.instrument.min_notional)
        {
            return;
        }
        let (kind, price, tif) = match urgency {
            _ if flattening && (urgency == Urgency::Aggressive || reference <= Decimal::ZERO) => {
                (OrderKind::Market, Decimal::ZERO, TimeInForce::Gtc)
            }
            Urgency::Aggressive if self.ioc_held => return,
            Urgency::Aggressive => (
                OrderKind::Limit,
                self.ioc_limit(side, reference),
                TimeInForce::Ioc,
            ),
            Urgency::Passive => (
                OrderKind::Limit,
                match side {
                    Side::Buy => intent.bid,
                    Side::Sell => intent.ask,
                },
                TimeInForce::PostOnly,
            ),
        };
        // With every open order on this side filled as well, does the position shrink
        // without changing sign?
        let reduces = reducing && all_open + qty <= position.abs();
        let mut order = self.new_order(now, side, kind, price, qty);
        order.tif = tif;
        order.reduces_exposure = reduces;
        if rests(&order) {
            order.expire_ts = now.saturating_add(self.config.limit_ttl_ns);
        }
        self.send(order, Role::Target, out);
    }

    /// The limit price of an IOC order on `side` whose far touch is `touch`: moved
    /// `ioc_slippage_bps` beyond it (up for a buy, down for a sell), then to the tick
    /// grid away from the touch.
    fn ioc_limit(&self, side: Side, touch: Decimal) -> Decimal {
        let slippage = Decimal::from(self.config.ioc_slippage_bps) / Decimal::from(10_000);
        match side {
            Side::Buy => self
                .instrument
                .round_price(touch * (Decimal::ONE + slippage), true),
            Side::Sell => self
                .instrument
                .round_price(touch * (Decimal::ONE - slippage), false),
        }
    }

    /// Keep the bracket in line with the position: place it, resize it, trail its
    /// stop to `mark`, or cancel it when flat. While the target is to leave the
    /// position (flat or the other side), the bracket in place stays as it is until
    /// the exit fills; after a refusal, nothing is placed until the hold ends.
    fn protect(&mut self, now: Nanos, mark: Option<Decimal>, out: &mut Vec<Order>) {
        if self.held_until.is_none() {
            self.sweep(now, out);
        }
        let position = self.position();
        let intent = self.intent;
        let leaving = intent.is_some_and(|i| {
            i.target.is_zero() || i.target.is_sign_negative() != position.is_sign_negative()
        });
        if self.held_until.is_some()
            || (leaving && self.bracket.is_some() && self.mode != Mode::Emergency && !self.aside)
        {
            if position.is_zero() {
                self.cancel_bracket(now, out);
            }
            return;
        }
        let wanted = match (self.mode, intent) {
            (Mode::Normal | Mode::Reduce, Some(i))
                if !position.is_zero() && !i.stop_distance.is_zero() && !self.aside && !leaving =>
            {
                Some(i)
            }
            _ => None,
        };
        let Some(intent) = wanted else {
            if self.mode != Mode::Pause {
                self.cancel_bracket(now, out);
            }
            return;
        };
        let long = position.is_sign_positive();
        let entry = self.avg_entry();
        let tick = self.instrument.tick_size;
        let on_tick = |price: Decimal, up: bool| {
            if tick <= Decimal::ZERO {
                return price;
            }
            let strategy = if up {
                RoundingStrategy::ToPositiveInfinity
            } else {
                RoundingStrategy::ToNegativeInfinity
            };
            (price / tick).round_dp_with_strategy(0, strategy) * tick
        };
        // A long's stop below the entry (rounded down, away from the market), its
        // take-profit above (rounded up); a short's mirrored.
        let stop_from = |base: Decimal| {
            if long {
                on_tick(base - intent.stop_distance, false)
            } else {
                on_tick(base + intent.stop_distance, true)
            }
        };
        let mut stop_trigger = stop_from(entry);
        let take_profit_trigger = if intent.take_profit_distance.is_zero() {
            Decimal::ZERO
        } else if long {
            on_tick(entry + intent.take_profit_distance, true)
        } else {
            on_tick(entry - intent.take_profit_distance, false)
        };
        let qty = position.abs();
        if let Some(b) = self.bracket {
            // Trail: keep the better of the placed stop and the one from the mark.
            let better = |a: Decimal, b: Decimal| if long { a.max(b) } else { a.min(b) };
            if b.qty == qty {
                stop_trigger = better(stop_trigger, b.stop_trigger);
            }
            if let Some(mark) = mark.filter(|m| *m > Decimal::ZERO) {
                let trailed = better(stop_trigger, stop_from(mark));
                let step = intent.stop_distance
                    * Decimal::from_f64(self.config.trail_step).unwrap_or(Decimal::ONE);
                if (trailed - stop_trigger).abs() >= step {
                    stop_trigger = trailed;
                }
            }
            let same = b.qty == qty
                && b.stop_trigger == stop_trigger
                && (b.take_profit.is_some() || intent.take_profit_distance.is_zero())
                && (b.take_profit.is_none() || b.take_profit_trigger == take_profit_trigger);
            if same {
                return;
            }
        }
        if stop_trigger <= Decimal::ZERO {
            return;
        }
        self.cancel_bracket(now, out);
        let exit = if long { Side::Sell } else { Side::Buy };
        let stop_id = self.peek_id(0);
        let tp_id = (!take_profit_trigger.is_zero()).then(|| self.peek_id(1));
        let mut stop = self.new_order(now, exit, OrderKind::Stop, Decimal::ZERO, qty);
        stop.trigger = stop_trigger;
        stop.reduce_only = true;
        stop.reduces_exposure = true;
        stop.oco = tp_id.unwrap_or(0);
        debug_assert_eq!(stop.client_id, stop_id);
        self.send(stop, Role::Stop, out);
        if let Some(tp_id) = tp_id {
            let mut tp = self.new_order(now, exit, OrderKind::TakeProfit, Decimal::ZERO, qty);
            tp.trigger = take_profit_trigger;
            tp.reduce_only = true;
            tp.reduces_exposure = true;
            tp.oco = stop_id;
            debug_assert_eq!(tp.client_id, tp_id);
            self.send(tp, Role::TakeProfit, out);
        }
        self.bracket = Some(Bracket {
            stop: stop_id,
            take_profit: tp_id,
            qty,
            stop_trigger,
            take_profit_trigger,
        });
    }

    /// Cancel the bracket's orders, except one that has triggered and is executing
    /// the exit (it is reduce-only: it cannot take the position past flat).
    fn cancel_bracket(&mut self, now: Nanos, out: &mut Vec<Order>) {
        let Some(b) = self.bracket.take() else {
            return;
        };
        for id in std::iter::once(b.stop).chain(b.take_profit) {
            if !self.open.get(&id).is_some_and(Open::executing) {
                self.cancel(id, now, out);
            }
        }
    }

    /// Cancel the protective orders that belong to no bracket any more (a leg whose
    /// partner was refused, a cancel the venue refused), unless executing.
    fn sweep(&mut self, now: Nanos, out: &mut Vec<Order>) {
        let bracket = self.bracket;
        let strays: Vec<u64> = self
            .open
            .iter()
            .filter(|(&id, o)| {
                o.role != Role::Target
                    && !o.state.cancel_sent
                    && !o.executing()
                    && !bracket.is_some_and(|b| b.stop == id || b.take_profit == Some(id))
            })
            .map(|(&id, _)| id)
            .collect();
        for id in strays {
            self.cancel(id, now, out);
        }
    }

    fn cancel_all(&mut self, now: Nanos, out: &mut Vec<Order>) {
        self.bracket = None;
        let ids: Vec<u64> = self.open.keys().copied().collect();
        for id in ids {
            self.cancel(id, now, out);
        }
    }

    fn cancel(&mut self, client_id: u64, now: Nanos, out: &mut Vec<Order>) {
        if let Some(open) = self.open.get_mut(&client_id) {
            if !open.state.cancel_sent {
                open.state.cancel_sent = true;
                self.stats.cancels += 1;
                out.push(open.state.order.cancel_of(now));
            }
        }
    }

    /// The client id the `k`-th next order will get.
    fn peek_id(&self, k: u64) -> u64 {
        Order::client_id_for(self.symbol, self.next_order + k)
    }

    fn new_order(
        &mut self,
        now: Nanos,
        side: Side,
        kind: OrderKind,
        price: Decimal,
        qty: Decimal,
    ) -> Order {
        let client_id = Order::client_id_for(self.symbol, self.next_order);
        self.next_order += 1;
        Order::new(now, client_id, self.symbol, side, kind, price, qty)
    }

    fn send(&mut self, order: Order, role: Role, out: &mut Vec<Order>) {
        debug_assert_eq!(order.action, OrderAction::New);
        self.stats.sent += 1;
        self.open.insert(
            order.client_id,
            Open {
                state: OrderState::new(order),
                role,
            },
        );
        out.push(order);
    }
}

/// Whether `order` rests in the book until it fills, expires or is cancelled: a limit
/// order that is neither immediate-or-cancel nor fill-or-kill.
fn rests(order: &Order) -> bool {
    order.kind == OrderKind::Limit && matches!(order.tif, TimeInForce::Gtc | TimeInForce::PostOnly)
}

/// Whether a report refuses a request about a working order (a cancel met by a rate
/// limit or an outage).
fn open_refused(report: &ExecutionReport) -> bool {
    report.fill_qty.is_zero()
        && !report.status.is_terminal()
        && matches!(
            report.reason,
            Some(ReportReason::RateLimited | ReportReason::VenueUnavailable)
        )
}

#[cfg(test)]
mod tests;
