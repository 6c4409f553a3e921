//! Order management for one symbol: from a target position to order messages.
//!
//! The manager knows the position from fills fed back by the venue and its own open
//! orders. On a new target, or when an order ends, it reconciles: orders on the wrong
//! side (or passive orders when the target is urgent) are cancelled, and the gap between
//! target and position not already covered by working orders is sent as one new order
//! — a limit order joining the touch when passive, a market order when aggressive. A
//! passive order that expires is replaced by a market order for what is still missing.
//!
//! Invariant: counting every open order as if it filled (cancels in flight included),
//! the position never exceeds the intent's `max_position` in either direction.
//!
//! The safety controller's mode (broadcast to every worker, applied at its event time)
//! decides what the manager may send:
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
//! An order is marked `reduces_exposure` only when, with every open order on its side
//! filled too, the position would shrink without changing sign; the safety gate passes
//! nothing else in Reduce and Emergency.

use std::collections::BTreeMap;

use bot4_schemas::{
    Decimal, ExecutionReport, Instrument, Nanos, Order, OrderAction, OrderIntent, OrderKind,
    ReportStatus, Side, SymbolId, Urgency,
};
use rust_decimal::prelude::FromPrimitive;

use crate::parameters::ParameterChange;
use crate::safety_gate::Mode;

/// Parameters of [`OrderManager`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct OrderConfig {
    /// How long a passive limit order rests before it expires, in nanoseconds.
    pub limit_ttl_ns: Nanos,
    /// The first stage of Reduce: the fraction of each position kept on entering it.
    pub reduce_to: f64,
    /// A cap on each symbol's position plus open orders, in quote currency at the far
    /// touch, on top of the intent's own limit; none by default (a run-time parameter).
    pub max_notional: Option<Decimal>,
}

impl Default for OrderConfig {
    fn default() -> Self {
        Self {
            limit_ttl_ns: 20_000_000_000,
            reduce_to: 0.5,
            max_notional: None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct OpenOrder {
    side: Side,
    kind: OrderKind,
    price: Decimal,
    remaining: Decimal,
    cancelling: bool,
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

/// Order state of one symbol.
#[derive(Debug, Clone)]
pub struct OrderManager {
    symbol: SymbolId,
    instrument: Instrument,
    config: OrderConfig,
    position: Decimal,
    open: BTreeMap<u64, OpenOrder>,
    intent: Option<OrderIntent>,
    next_order: u64,
    mode: Mode,
    /// In Reduce: the largest absolute position the manager may aim for.
    cap: Option<Decimal>,
}

impl OrderManager {
    /// No position, no orders.
    pub fn new(symbol: SymbolId, instrument: Instrument, config: OrderConfig) -> Self {
        Self {
            symbol,
            instrument,
            config,
            position: Decimal::ZERO,
            open: BTreeMap::new(),
            intent: None,
            next_order: 0,
            mode: Mode::Normal,
            cap: None,
        }
    }

    /// The mode the manager is in.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Apply a parameter change now in effect; changes of other stages' parameters are
    /// ignored. Orders already sent keep their terms.
    pub fn apply(&mut self, change: &ParameterChange) {
        self.config.apply(change);
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
                    self.position.abs()
                        * Decimal::from_f64(self.config.reduce_to.clamp(0.0, 1.0))
                            .unwrap_or(Decimal::ZERO),
                ),
            ),
            _ => None,
        };
        match mode {
            Mode::Pause => {}
            Mode::Emergency => self.reconcile(now, Urgency::Aggressive, out),
            Mode::Reduce => self.reconcile(now, Urgency::Passive, out),
            Mode::Normal => {
                let urgency = self.intent.map_or(Urgency::Passive, |i| i.urgency);
                self.reconcile(now, urgency, out);
            }
        }
    }

    /// The position according to the fills seen.
    pub fn position(&self) -> Decimal {
        self.position
    }

    /// How many orders are open (including those being cancelled).
    pub fn open_orders(&self) -> usize {
        self.open.len()
    }

    /// Take a new target and send what reaching it needs.
    pub fn on_intent(&mut self, intent: &OrderIntent, out: &mut Vec<Order>) {
        self.intent = Some(*intent);
        let urgency = match self.mode {
            Mode::Emergency => Urgency::Aggressive,
            _ => intent.urgency,
        };
        self.reconcile(intent.ts, urgency, out);
    }

    /// Learn what happened to an order, delivered at event time `now`; an expired
    /// passive order is followed by a market order for what is still missing.
    pub fn on_report(&mut self, report: &ExecutionReport, now: Nanos, out: &mut Vec<Order>) {
        if !report.fill_qty.is_zero() {
            self.position += report.side.sign() * report.fill_qty;
        }
        let Some(order) = self.open.get_mut(&report.client_id) else {
            return;
        };
        order.remaining = report.leaves_qty;
        if report.status.is_terminal() {
            self.open.remove(&report.client_id);
            // An expired passive order is replaced by a market order; in Emergency
            // every order's end is a chance to flatten what is left.
            if report.status == ReportStatus::Expired || self.mode == Mode::Emergency {
                self.reconcile(now, Urgency::Aggressive, out);
            }
        } else if self.mode == Mode::Emergency && !report.fill_qty.is_zero() {
            self.reconcile(now, Urgency::Aggressive, out);
        }
    }

    /// The position the manager aims for in its mode, with the intent's limit and
    /// prices; `None` when it may send nothing (Pause, or no intent yet outside
    /// Emergency and Reduce).
    fn aim(&self, now: Nanos) -> Option<OrderIntent> {
        let flat = |mut i: OrderIntent| {
            i.target = Decimal::ZERO;
            i
        };
        let held = || {
            self.intent.or_else(|| {
                // No intent yet but a position (fed back): aim with a unit limit.
                (!self.position.is_zero()).then_some(OrderIntent {
                    ts: now,
                    seq: 0,
                    symbol: self.symbol,
                    target: self.position,
                    max_position: self.position.abs(),
                    urgency: Urgency::Aggressive,
                    bid: Decimal::ZERO,
                    ask: Decimal::ZERO,
                })
            })
        };
        match self.mode {
            Mode::Normal => self.intent,
            Mode::Pause => None,
            Mode::Emergency => held().map(flat),
            Mode::Reduce => held().map(|mut i| {
                let cap = self.cap.unwrap_or(Decimal::ZERO).min(self.position.abs());
                i.target = if self.position.is_zero()
                    || i.target.is_sign_negative() != self.position.is_sign_negative()
                {
                    Decimal::ZERO
                } else {
                    i.target.abs().min(cap) * Side::of(self.position).sign()
                };
                i
            }),
        }
    }

    fn reconcile(&mut self, now: Nanos, urgency: Urgency, out: &mut Vec<Order>) {
        let Some(intent) = self.aim(now) else {
            return;
        };
        if let Some(cap) = self.cap.as_mut() {
            // Exposure shrinks for good: the cap follows the position down.
            *cap = (*cap).min(self.position.abs());
        }
        let desired = intent.target - self.position;
        let side = Side::of(desired);
        for (&client_id, order) in self.open.iter_mut() {
            let wrong_side = desired.is_zero() || order.side != side;
            let too_slow = urgency == Urgency::Aggressive && order.kind == OrderKind::Limit;
            if !order.cancelling && (wrong_side || too_slow) {
                order.cancelling = true;
                out.push(Order {
                    ts: now,
                    client_id,
                    symbol: self.symbol,
                    action: OrderAction::Cancel,
                    side: order.side,
                    kind: order.kind,
                    price: order.price,
                    qty: order.remaining,
                    expire_ts: Nanos::MAX,
                    reduces_exposure: true,
                });
            }
        }
        if desired.is_zero() {
            return;
        }
        let working: Decimal = self
            .open
            .values()
            .filter(|o| !o.cancelling && o.side == side)
            .map(|o| o.remaining)
            .sum();
        let need = desired.abs() - working;
        // Exposure if every open order on this side filled, cancels in flight included.
        let all_open: Decimal = self
            .open
            .values()
            .filter(|o| o.side == side)
            .map(|o| o.remaining)
            .sum();
        let reference = match side {
            Side::Buy => intent.ask,
            Side::Sell => intent.bid,
        };
        let limit = match self.config.max_notional {
            Some(cap) if reference > Decimal::ZERO => self
                .instrument
                .floor_qty(cap / reference)
                .min(intent.max_position),
            _ => intent.max_position,
        };
        let room = limit - side.sign() * self.position - all_open;
        let mut qty = need.min(room);
        if self.mode != Mode::Normal {
            // Outside Normal only reductions go out: with every open order on this side
            // filled as well, the position may shrink to zero but not flip. What does
            // not fit waits for the cancels in flight.
            let reducing =
                !self.position.is_zero() && side.sign() != Side::of(self.position).sign();
            qty = if reducing {
                qty.min(self.position.abs() - all_open)
            } else {
                Decimal::ZERO
            };
        }
        let qty = self.instrument.floor_qty(qty);
        if qty <= Decimal::ZERO {
            return;
        }
        let (kind, price) = match urgency {
            Urgency::Aggressive => (OrderKind::Market, Decimal::ZERO),
            Urgency::Passive => (
                OrderKind::Limit,
                match side {
                    Side::Buy => intent.bid,
                    Side::Sell => intent.ask,
                },
            ),
        };
        // Flattening is never held back by the minimum notional (a remainder below it
        // could otherwise never be closed) nor by a missing price: it is a market order.
        let flattening = intent.target.is_zero() && self.mode != Mode::Normal;
        if !flattening
            && (reference <= Decimal::ZERO || qty * reference < self.instrument.min_notional)
        {
            return;
        }
        let (kind, price) = if flattening && reference <= Decimal::ZERO {
            (OrderKind::Market, Decimal::ZERO)
        } else {
            (kind, price)
        };
        // With every open order on this side filled as well, does the position shrink
        // without changing sign?
        let reduces = !self.position.is_zero()
            && side.sign() != Side::of(self.position).sign()
            && all_open + qty <= self.position.abs();
        let client_id = Order::client_id_for(self.symbol, self.next_order);
        self.next_order += 1;
        self.open.insert(
            client_id,
            OpenOrder {
                side,
                kind,
                price,
                remaining: qty,
                cancelling: false,
            },
        );
        out.push(Order {
            ts: now,
            client_id,
            symbol: self.symbol,
            action: OrderAction::New,
            side,
            kind,
            price,
            qty,
            expire_ts: match kind {
                OrderKind::Limit => now.saturating_add(self.config.limit_ttl_ns),
                OrderKind::Market => Nanos::MAX,
            },
            reduces_exposure: reduces,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bot4_schemas::Liquidity;
    use proptest::prelude::*;

    fn btc() -> Instrument {
        Instrument {
            symbol: "BTC-USDT".into(),
            tick_size: Decimal::new(1, 1),
            lot_size: Decimal::new(1, 4),
            min_notional: Decimal::from(5),
        }
    }

    fn intent(ts: Nanos, target: Decimal, urgency: Urgency) -> OrderIntent {
        OrderIntent {
            ts,
            seq: 0,
            symbol: SymbolId(0),
            target,
            max_position: Decimal::from(2),
            urgency,
            bid: Decimal::from(50_000),
            ask: Decimal::new(500001, 1),
        }
    }

    fn fill(order: &Order, qty: Decimal, leaves: Decimal) -> ExecutionReport {
        ExecutionReport {
            ts: order.ts + 1,
            client_id: order.client_id,
            symbol: order.symbol,
            side: order.side,
            status: if leaves.is_zero() {
                ReportStatus::Filled
            } else {
                ReportStatus::PartiallyFilled
            },
            fill_qty: qty,
            fill_price: Decimal::from(50_000),
            fee: Decimal::ZERO,
            liquidity: Some(Liquidity::Taker),
            leaves_qty: leaves,
            event: 1,
        }
    }

    #[test]
    fn passive_target_joins_the_touch_then_escalates_on_expiry() {
        let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
        let mut out = Vec::new();
        m.on_intent(&intent(10, Decimal::ONE, Urgency::Passive), &mut out);
        assert_eq!(out.len(), 1);
        let limit = out[0];
        assert_eq!(
            (limit.kind, limit.side, limit.price, limit.qty),
            (
                OrderKind::Limit,
                Side::Buy,
                Decimal::from(50_000),
                Decimal::ONE
            )
        );
        assert_eq!(limit.expire_ts, 10 + OrderConfig::default().limit_ttl_ns);
        out.clear();
        // Half fills, then the rest expires: a market order for the missing half.
        m.on_report(
            &fill(&limit, Decimal::new(5, 1), Decimal::new(5, 1)),
            20,
            &mut out,
        );
        assert!(out.is_empty());
        let mut expired = fill(&limit, Decimal::ZERO, Decimal::ZERO);
        expired.status = ReportStatus::Expired;
        m.on_report(&expired, 30, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(
            (out[0].kind, out[0].qty, out[0].ts),
            (OrderKind::Market, Decimal::new(5, 1), 30)
        );
        assert_eq!(m.position(), Decimal::new(5, 1));
    }

    #[test]
    fn a_notional_cap_limits_new_exposure_and_applies_as_a_parameter() {
        let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
        m.apply(&ParameterChange::OrderMaxNotional(Some(Decimal::from(
            25_000,
        ))));
        let mut out = Vec::new();
        m.on_intent(&intent(10, Decimal::ONE, Urgency::Aggressive), &mut out);
        // 25,000 at the ask of 50,000.1: 0.4999 BTC, not the 1 asked for.
        assert_eq!(out[0].qty, Decimal::new(4999, 4));
        m.apply(&ParameterChange::OrderMaxNotional(None));
        let mut more = Vec::new();
        m.on_intent(&intent(20, Decimal::ONE, Urgency::Aggressive), &mut more);
        assert_eq!(
            more[0].qty,
            Decimal::new(5001, 4),
            "the rest, once the cap is lifted"
        );
        m.apply(&ParameterChange::SoftDrawdown(None));
        assert_eq!(
            m.config.max_notional, None,
            "another stage's parameter changes nothing"
        );
    }

    #[test]
    fn reversal_cancels_and_never_exceeds_the_limit() {
        let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
        let mut out = Vec::new();
        m.on_intent(&intent(10, Decimal::ONE, Urgency::Passive), &mut out);
        let first = out[0];
        out.clear();
        m.on_intent(&intent(20, -Decimal::TWO, Urgency::Aggressive), &mut out);
        assert_eq!(out[0].action, OrderAction::Cancel);
        assert_eq!(out[0].client_id, first.client_id);
        assert_eq!(
            (out[1].side, out[1].kind, out[1].qty),
            (Side::Sell, OrderKind::Market, Decimal::TWO)
        );
        assert!(!out[1].reduces_exposure);
    }

    proptest! {
        /// Whatever the targets and fills, position plus every open order stays within
        /// the limit on both sides, and every order is on the lot grid.
        #[test]
        fn exposure_stays_within_the_limit(
            steps in proptest::collection::vec((-30i64..=30, any::<bool>(), 0u8..4), 1..60)
        ) {
            let mut m = OrderManager::new(SymbolId(0), btc(), OrderConfig::default());
            let mut out = Vec::new();
            let mut ts = 0;
            for (target, aggressive, action) in steps {
                ts += 10;
                let urgency = if aggressive { Urgency::Aggressive } else { Urgency::Passive };
                let before = out.len();
                m.on_intent(&intent(ts, Decimal::new(target, 1), urgency), &mut out);
                // Fill, partially fill or expire the newest open order.
                if let Some(&(&id, o)) = m.open.iter().collect::<Vec<_>>().last() {
                    let order = Order { ts, client_id: id, symbol: SymbolId(0), action: OrderAction::New,
                        side: o.side, kind: o.kind, price: o.price, qty: o.remaining, expire_ts: 0, reduces_exposure: false };
                    let report = match action {
                        0 => fill(&order, o.remaining, Decimal::ZERO),
                        1 => {
                            let half = btc().floor_qty(o.remaining / Decimal::TWO);
                            fill(&order, half, o.remaining - half)
                        }
                        2 => { let mut r = fill(&order, Decimal::ZERO, Decimal::ZERO); r.status = ReportStatus::Expired; r }
                        _ => { let mut r = fill(&order, Decimal::ZERO, o.remaining); r.status = ReportStatus::Accepted; r }
                    };
                    m.on_report(&report, ts + 5, &mut out);
                }
                for o in &out[before..] {
                    prop_assert!(btc().on_lot(o.qty));
                }
                let long: Decimal = m.open.values().filter(|o| o.side == Side::Buy).map(|o| o.remaining).sum();
                let short: Decimal = m.open.values().filter(|o| o.side == Side::Sell).map(|o| o.remaining).sum();
                prop_assert!(m.position + long <= Decimal::TWO, "long exposure {}", m.position + long);
                prop_assert!(m.position - short >= -Decimal::TWO, "short exposure {}", m.position - short);
            }
        }
    }
}
