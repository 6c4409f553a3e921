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

use std::collections::BTreeMap;

use bot4_schemas::{
    Decimal, ExecutionReport, Instrument, Nanos, Order, OrderAction, OrderIntent, OrderKind,
    ReportStatus, Side, SymbolId, Urgency,
};

/// Parameters of [`OrderManager`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct OrderConfig {
    /// How long a passive limit order rests before it expires, in nanoseconds.
    pub limit_ttl_ns: Nanos,
}

impl Default for OrderConfig {
    fn default() -> Self {
        Self {
            limit_ttl_ns: 20_000_000_000,
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
        self.reconcile(intent.ts, intent.urgency, out);
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
            if report.status == ReportStatus::Expired {
                self.reconcile(now, Urgency::Aggressive, out);
            }
        }
    }

    fn reconcile(&mut self, now: Nanos, urgency: Urgency, out: &mut Vec<Order>) {
        let Some(intent) = self.intent else {
            return;
        };
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
        let room = intent.max_position - side.sign() * self.position - all_open;
        let qty = self.instrument.floor_qty(need.min(room));
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
        let reference = match side {
            Side::Buy => intent.ask,
            Side::Sell => intent.bid,
        };
        if reference <= Decimal::ZERO || qty * reference < self.instrument.min_notional {
            return;
        }
        let after = self.position + side.sign() * qty;
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
            reduces_exposure: after.abs() < self.position.abs()
                && (after.is_zero()
                    || after.is_sign_negative() == self.position.is_sign_negative()),
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
