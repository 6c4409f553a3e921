//! The matching engine of a [`SymbolVenue`]: placing, triggering, self-trade
//! prevention, taking liquidity and matching resting orders against ticks.

use bot4_schemas::{
    ExecutionReport, Instrument, Liquidity, Nanos, Order, ReportReason, ReportStatus, Side,
    TimeInForce,
};
use rust_decimal::Decimal;

use super::account::Account;
use super::book::{Book, Estimates, SqrtImpact};
use super::config::{SelfTradePrevention, VenueConfig};
use super::gateway::Refusal;
use super::ladder::Depth;
use super::queue::{Execution, Fired, Queue, Working};
use super::SymbolVenue;

/// The state fills need: what is known of the market, and our account.
#[derive(Debug, Clone)]
pub(super) struct Exchange {
    pub(super) instrument: Instrument,
    pub(super) config: VenueConfig,
    /// `None` until the first quote.
    pub(super) book: Option<Book>,
    /// The levels behind the touch.
    pub(super) depth: Depth,
    pub(super) estimates: Estimates,
    pub(super) account: Account,
}

impl Exchange {
    /// The impact curve, when enabled and warm.
    pub(super) fn curve(&self) -> Option<SqrtImpact> {
        self.config.impact().and_then(|y| self.estimates.curve(y))
    }

    /// What a marketable order `w` could take now. A limit order that does not cross
    /// the touch gets nothing.
    fn plan(&self, w: &Working, curve: Option<SqrtImpact>) -> Plan {
        let Some(book) = self.book else {
            return Plan::default();
        };
        let (touch, left) = book.touch(w.side);
        if touch <= Decimal::ZERO || !(w.market || w.accepts(touch)) {
            return Plan::default();
        }
        let cap = if w.reduce_only {
            self.account.reducible(w.side)
        } else {
            w.leaves
        };
        let at_touch = w.leaves.min(left).min(cap).max(Decimal::ZERO);
        let mut want = (w.leaves.min(cap) - at_touch).max(Decimal::ZERO);
        let mut levels = Decimal::ZERO;
        for (price, left) in self.depth.beyond(w.side, touch) {
            if want <= Decimal::ZERO || !(w.market || w.accepts(price)) {
                break;
            }
            let qty = want.min(left).max(Decimal::ZERO);
            levels += qty;
            want -= qty;
        }
        let past = match curve {
            Some(curve) if want > Decimal::ZERO => {
                let mut walked = book;
                walked.walk(w.side, levels);
                let limit = (!w.market).then_some(w.price);
                let deepest = self.depth.deepest(w.side, touch);
                walked.beyond_touch(w.side, want, limit, deepest, &curve, &self.instrument)
            }
            _ => None,
        };
        Plan {
            at_touch,
            levels,
            past,
        }
    }

    /// Take liquidity for `w` as taker: the size left at the touch, then the known
    /// levels beyond it in price order, then (with the impact curve) what it still wants
    /// past them; each a fill of its own.
    pub(super) fn take(
        &mut self,
        w: &mut Working,
        ts: Nanos,
        curve: Option<SqrtImpact>,
        out: &mut Vec<ExecutionReport>,
    ) -> Fired {
        let plan = self.plan(w, curve);
        let mut fired = Fired::default();
        let Some(book) = self.book.as_mut() else {
            return fired;
        };
        let (touch, _) = book.touch(w.side);
        let taker = |qty, price| Execution {
            qty,
            price,
            liquidity: Liquidity::Taker,
        };
        if plan.at_touch > Decimal::ZERO {
            let done = w.fill(
                ts,
                taker(plan.at_touch, touch),
                &mut self.account,
                &self.config,
                out,
            );
            book.take_touch(w.side, done.qty);
            fired.merge(done);
        }
        // The plan's level quantity is the first `plan.levels` of the levels in order.
        let mut levels = plan.levels;
        while levels > Decimal::ZERO && !w.done {
            let Some((price, left)) = self
                .depth
                .beyond(w.side, touch)
                .find(|&(_, left)| left > Decimal::ZERO)
            else {
                break;
            };
            debug_assert!(w.market || w.accepts(price), "the plan stops at the limit");
            let done = w.fill(
                ts,
                taker(levels.min(left), price),
                &mut self.account,
                &self.config,
                out,
            );
            if done.qty <= Decimal::ZERO {
                break;
            }
            self.depth.take(w.side, price, done.qty);
            book.walk(w.side, done.qty);
            levels -= done.qty;
            fired.merge(done);
        }
        if let Some((qty, price)) = plan.past {
            let done = w.fill(ts, taker(qty, price), &mut self.account, &self.config, out);
            book.walk(w.side, done.qty);
            fired.merge(done);
        }
        fired
    }

    /// How much `w` would fill if it took liquidity now.
    fn fillable(&self, w: &Working, curve: Option<SqrtImpact>) -> Decimal {
        let plan = self.plan(w, curve);
        plan.at_touch + plan.levels + plan.past.map_or(Decimal::ZERO, |(qty, _)| qty)
    }

    /// A quote was just applied: a resting limit order `w` fills as maker at its price if
    /// the opposite touch reaches it, then its queue position follows its own side of the
    /// quote.
    fn rest_on_quote(
        &mut self,
        w: &mut Working,
        ts: Nanos,
        out: &mut Vec<ExecutionReport>,
    ) -> Fired {
        let mut fired = Fired::default();
        let Some(book) = self.book.as_mut() else {
            return fired;
        };
        let (touch, left) = book.touch(w.side);
        if touch > Decimal::ZERO && left > Decimal::ZERO && w.accepts(touch) {
            let fill = Execution {
                qty: left,
                price: w.price,
                liquidity: Liquidity::Maker,
            };
            fired = w.fill(ts, fill, &mut self.account, &self.config, out);
            book.take_touch(w.side, fired.qty);
        }
        if !w.done {
            let (own, size) = match w.side {
                Side::Buy => (book.bid, book.bid_size),
                Side::Sell => (book.ask, book.ask_size),
            };
            if own <= Decimal::ZERO || w.through(own) {
                w.ahead = Some(Decimal::ZERO);
            } else if own == w.price {
                w.ahead = Some(w.ahead.map_or(size, |a| a.min(size)));
            }
        }
        fired
    }

    /// Where a limit order resting now joins the queue at its price: behind the size
    /// left at its own side's touch when it joins there, first when it betters the touch
    /// (or that side is empty); behind the touch, behind the size left at its price's
    /// known level, and unknown without one.
    fn queue_position(&self, w: &Working) -> Option<Decimal> {
        let book = self.book?;
        let (own, left) = match w.side {
            Side::Buy => (book.bid, book.bid_left),
            Side::Sell => (book.ask, book.ask_left),
        };
        if own <= Decimal::ZERO || w.through(own) {
            Some(Decimal::ZERO)
        } else if own == w.price {
            Some(left)
        } else {
            self.depth.left_at(w.side, w.price)
        }
    }

    /// A depth tick at `price` on `side` was applied: a resting limit order there
    /// behind its side's touch (or resting before any quote) has at most the new `size`
    /// ahead of it, and exactly `size` if its place was unknown.
    pub(super) fn rest_on_depth(&self, w: &mut Working, price: Decimal, size: Decimal) {
        if w.done || w.market || w.price != price {
            return;
        }
        let own = self.book.map(|b| match w.side {
            Side::Buy => b.bid,
            Side::Sell => b.ask,
        });
        let at_or_better = |own: Decimal| match w.side {
            Side::Buy => w.price >= own,
            Side::Sell => w.price <= own,
        };
        if own.is_some_and(|own| own <= Decimal::ZERO || at_or_better(own)) {
            return;
        }
        let size = size.max(Decimal::ZERO);
        w.ahead = Some(w.ahead.map_or(size, |a| a.min(size)));
    }
}

/// What a marketable order can take now: at the touch, of the known levels beyond it,
/// and past them on the curve (quantity and price).
#[derive(Debug, Clone, Copy, Default)]
struct Plan {
    at_touch: Decimal,
    levels: Decimal,
    past: Option<(Decimal, Decimal)>,
}

impl Refusal {
    fn reason(self) -> ReportReason {
        match self {
            Refusal::RateLimited => ReportReason::RateLimited,
            Refusal::Unavailable => ReportReason::VenueUnavailable,
        }
    }
}

impl SymbolVenue {
    /// A message reaches the venue at `arrival`.
    pub(super) fn arrive(&mut self, arrival: Nanos, order: Order, out: &mut Vec<ExecutionReport>) {
        let new = order.action == bot4_schemas::OrderAction::New;
        if new && self.seen.contains(&order.client_id, arrival) {
            return;
        }
        let admitted = self.gateway.admit(arrival);
        if new {
            self.place(arrival, &order, admitted.err(), out);
            return;
        }
        if let Some(open) = self.find_open(order.client_id) {
            out.push(match admitted {
                Ok(()) => open.close(arrival, ReportStatus::Cancelled, None),
                Err(refusal) => open.status_report(arrival, refusal.reason()),
            });
        }
    }

    /// A new order reaches the venue at `arrival`.
    fn place(
        &mut self,
        arrival: Nanos,
        order: &Order,
        refused: Option<Refusal>,
        out: &mut Vec<ExecutionReport>,
    ) {
        self.seen.insert(order.client_id, arrival);
        let partner_fired = self.oco_cancelled.remove(&order.client_id);
        let mut w = Working::new(order, self.next_rank());
        let mut reason = refused.map(Refusal::reason).or_else(|| {
            self.check(order, arrival)
                .err()
                .map(|_| ReportReason::ExchangeFilter)
        });
        if reason.is_none() && partner_fired {
            reason = Some(ReportReason::Oco);
        }
        if reason.is_none() && w.reduce_only {
            let cap = self.ex.account.reducible(w.side);
            if cap.is_zero() {
                reason = Some(ReportReason::ReduceOnly);
            }
            w.leaves = w.leaves.min(cap);
        }
        if reason.is_none() && w.tif == TimeInForce::PostOnly && self.would_take(&w) {
            reason = Some(ReportReason::PostOnly);
        }
        if let Some(reason) = reason {
            out.push(w.close(arrival, ReportStatus::Rejected, Some(reason)));
            return;
        }
        out.push(w.report(arrival, ReportStatus::Accepted));
        if !w.kind.is_triggered() {
            self.start(w, arrival, out);
            return;
        }
        let touch = self.ex.book.map(|b| match w.side {
            Side::Buy => b.ask,
            Side::Sell => b.bid,
        });
        if touch.is_some_and(|t| w.triggers_at(t)) {
            self.trigger(w, arrival, out);
        } else {
            self.untriggered.push(w);
        }
    }

    /// Whether a post-only limit order `w` would take liquidity on arrival: it crosses
    /// the quote's opposite touch or one of our resting orders on the other side.
    fn would_take(&self, w: &Working) -> bool {
        let touch = self.ex.book.map_or(Decimal::ZERO, |b| b.touch(w.side).0);
        let opposite = match w.side {
            Side::Buy => &self.asks,
            Side::Sell => &self.bids,
        };
        (touch > Decimal::ZERO && w.accepts(touch))
            || opposite
                .orders
                .iter()
                .any(|o| !o.done && !o.market && w.accepts(o.price))
    }

    /// A stop or take-profit `w` triggers at `ts`: it reports `Triggered`, cancels its
    /// OCO partner, and starts executing as a market order.
    fn trigger(&mut self, mut w: Working, ts: Nanos, out: &mut Vec<ExecutionReport>) {
        w.market = true;
        w.rank = self.next_rank();
        out.push(w.report(ts, ReportStatus::Triggered));
        let partner = std::mem::take(&mut w.oco);
        if partner != 0 {
            self.cancel_partner(partner, ts, out);
        }
        if w.reduce_only && self.ex.account.reducible(w.side).is_zero() {
            out.push(w.close(ts, ReportStatus::Cancelled, Some(ReportReason::ReduceOnly)));
            return;
        }
        self.start(w, ts, out);
    }

    /// `w` starts executing at `ts` (a new market or limit order on arrival, a stop or
    /// take-profit when it triggers): self-trade prevention, then its time in force.
    fn start(&mut self, mut w: Working, ts: Nanos, out: &mut Vec<ExecutionReport>) {
        if !self.prevent_self_trade(&mut w, ts, out) {
            return;
        }
        let curve = self.ex.curve();
        if w.tif == TimeInForce::Fok && self.ex.fillable(&w, curve) < w.leaves {
            out.push(w.close(ts, ReportStatus::Cancelled, Some(ReportReason::FillOrKill)));
            return;
        }
        let fired = self.ex.take(&mut w, ts, curve, out);
        self.after_fill(fired, ts, out);
        if w.done {
            return;
        }
        match w.tif {
            TimeInForce::Ioc => out.push(w.close(
                ts,
                ReportStatus::Cancelled,
                Some(ReportReason::ImmediateOrCancel),
            )),
            // Unreachable: the check above lets only a whole fill through.
            TimeInForce::Fok => {
                out.push(w.close(ts, ReportStatus::Cancelled, Some(ReportReason::FillOrKill)))
            }
            TimeInForce::Gtc | TimeInForce::PostOnly => {
                if !w.market {
                    w.ahead = self.ex.queue_position(&w);
                }
                match w.side {
                    Side::Buy => self.bids.insert(w),
                    Side::Sell => self.asks.insert(w),
                }
            }
        }
    }

    /// Apply the self-trade policy to `w` against our resting limit orders on the other
    /// side that it crosses. Returns whether `w` still works.
    fn prevent_self_trade(
        &mut self,
        w: &mut Working,
        ts: Nanos,
        out: &mut Vec<ExecutionReport>,
    ) -> bool {
        // A market order crosses what rests at or inside the touch (anything, with no
        // touch); a limit order what its price reaches.
        let touch = self.ex.book.map_or(Decimal::ZERO, |b| b.touch(w.side).0);
        let reach = if w.market { touch } else { w.price };
        let opposite = match w.side {
            Side::Buy => &mut self.asks,
            Side::Sell => &mut self.bids,
        };
        if !opposite.orders.iter().any(|o| crosses_own(o, reach, w)) {
            return true;
        }
        match self.ex.config.self_trade {
            SelfTradePrevention::CancelNew => {
                out.push(w.close(ts, ReportStatus::Cancelled, Some(ReportReason::SelfTrade)));
                false
            }
            SelfTradePrevention::CancelResting => {
                for o in opposite.orders.iter_mut() {
                    if crosses_own(o, reach, w) {
                        out.push(o.close(
                            ts,
                            ReportStatus::Cancelled,
                            Some(ReportReason::SelfTrade),
                        ));
                    }
                }
                true
            }
            SelfTradePrevention::DecrementBoth => {
                for o in opposite.orders.iter_mut() {
                    if w.leaves.is_zero() {
                        break;
                    }
                    if !crosses_own(o, reach, w) {
                        continue;
                    }
                    let overlap = w.leaves.min(o.leaves);
                    w.leaves -= overlap;
                    o.leaves -= overlap;
                    out.push(if o.leaves.is_zero() {
                        o.close(ts, ReportStatus::Cancelled, Some(ReportReason::SelfTrade))
                    } else {
                        o.status_report(ts, ReportReason::SelfTrade)
                    });
                }
                if w.leaves.is_zero() {
                    out.push(w.close(ts, ReportStatus::Cancelled, Some(ReportReason::SelfTrade)));
                    false
                } else {
                    out.push(w.status_report(ts, ReportReason::SelfTrade));
                    true
                }
            }
        }
    }

    /// Follow up fills: cancel an OCO partner, and every reduce-only order the position
    /// no longer lets reduce.
    fn after_fill(&mut self, fired: Fired, ts: Nanos, out: &mut Vec<ExecutionReport>) {
        if fired.oco != 0 {
            self.cancel_partner(fired.oco, ts, out);
        }
        if fired.sign_changed {
            let account = &self.ex.account;
            let orders = self
                .bids
                .orders
                .iter_mut()
                .chain(self.asks.orders.iter_mut())
                .chain(self.untriggered.iter_mut());
            for o in orders {
                if !o.done && o.reduce_only && account.reducible(o.side).is_zero() {
                    out.push(o.close(ts, ReportStatus::Cancelled, Some(ReportReason::ReduceOnly)));
                }
            }
        }
    }

    /// Cancel the OCO partner `client_id` if it is open; if it has not reached the venue
    /// yet, it will be rejected when it does.
    fn cancel_partner(&mut self, client_id: u64, ts: Nanos, out: &mut Vec<ExecutionReport>) {
        if let Some(partner) = self.find_open(client_id) {
            out.push(partner.close(ts, ReportStatus::Cancelled, Some(ReportReason::Oco)));
        } else if !self.seen.contains(&client_id, ts) {
            self.oco_cancelled.insert(client_id);
        }
    }

    /// A quote at `ts` was applied: each side's orders in priority order take from the
    /// opposite touch (market orders as taker, crossed limit orders as maker); then the
    /// stops and take-profits it reaches trigger.
    pub(super) fn match_quote(&mut self, ts: Nanos, out: &mut Vec<ExecutionReport>) {
        let curve = self.ex.curve();
        for side in [Side::Buy, Side::Sell] {
            let mut i = 0;
            while i < self.queue(side).orders.len() {
                let w = match side {
                    Side::Buy => &mut self.bids.orders[i],
                    Side::Sell => &mut self.asks.orders[i],
                };
                i += 1;
                if w.done {
                    continue;
                }
                let fired = if w.market {
                    self.ex.take(w, ts, curve, out)
                } else {
                    self.ex.rest_on_quote(w, ts, out)
                };
                self.after_fill(fired, ts, out);
            }
        }
        if let Some(book) = self.ex.book {
            self.trigger_where(
                ts,
                |w| match w.side {
                    Side::Buy => w.triggers_at(book.ask),
                    Side::Sell => w.triggers_at(book.bid),
                },
                out,
            );
        }
    }

    /// A trade at `ts` of `size` at `price` whose aggressor is on the other side of
    /// `resting`: our limit orders on `resting` at or through `price` fill as maker at
    /// their own price; then the stops and take-profits it reaches trigger.
    pub(super) fn match_trade(
        &mut self,
        ts: Nanos,
        price: Decimal,
        size: Decimal,
        resting: Side,
        out: &mut Vec<ExecutionReport>,
    ) {
        let mut left = size.max(Decimal::ZERO);
        // Displayed size at exactly `price` that the trade took before reaching ours.
        let mut ahead_taken = Decimal::ZERO;
        let mut i = 0;
        while i < self.queue(resting).orders.len() {
            let w = match resting {
                Side::Buy => &mut self.bids.orders[i],
                Side::Sell => &mut self.asks.orders[i],
            };
            i += 1;
            if w.done || w.market {
                continue;
            }
            if w.through(price) {
                w.ahead = Some(Decimal::ZERO);
            } else if w.price == price {
                let ahead = w
                    .ahead
                    .map_or(left, |a| (a - ahead_taken).max(Decimal::ZERO));
                let taken = ahead.min(left);
                ahead_taken += taken;
                left -= taken;
            } else {
                break;
            }
            if left <= Decimal::ZERO {
                continue;
            }
            let fill = Execution {
                qty: left,
                price: w.price,
                liquidity: Liquidity::Maker,
            };
            let fired = w.fill(ts, fill, &mut self.ex.account, &self.ex.config, out);
            left -= fired.qty;
            self.after_fill(fired, ts, out);
        }
        if ahead_taken > Decimal::ZERO {
            for w in self.queue_mut(resting).orders.iter_mut() {
                if !w.done && !w.market && w.price == price {
                    w.ahead = w.ahead.map(|a| (a - ahead_taken).max(Decimal::ZERO));
                }
            }
        }
        self.trigger_where(ts, |w| w.triggers_at(price), out);
    }

    /// Trigger, in the order they reached the venue, the untriggered orders for which
    /// `reached` holds.
    fn trigger_where(
        &mut self,
        ts: Nanos,
        reached: impl Fn(&Working) -> bool,
        out: &mut Vec<ExecutionReport>,
    ) {
        let mut i = 0;
        while i < self.untriggered.len() {
            let w = &self.untriggered[i];
            if w.done || !reached(w) {
                i += 1;
                continue;
            }
            let w = self.untriggered.remove(i);
            self.trigger(w, ts, out);
        }
    }

    fn queue(&self, side: Side) -> &Queue {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    fn queue_mut(&mut self, side: Side) -> &mut Queue {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }
}

/// Whether our resting order `o` on the other side of `w` would trade with `w`, whose
/// reach is its limit price, or for a market order the touch (none: zero).
fn crosses_own(o: &Working, reach: Decimal, w: &Working) -> bool {
    if o.done || o.market {
        return false;
    }
    if w.market {
        reach <= Decimal::ZERO || o.accepts(reach)
    } else {
        w.accepts(o.price)
    }
}
