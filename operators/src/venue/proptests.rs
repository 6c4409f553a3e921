//! Property tests of the venue on random quote, trade and depth streams with random
//! orders of every kind, time in force and flag, under each self-trade policy, with
//! random latencies, a tight rate limit, an outage and impact fills.

use std::collections::BTreeMap;

use bot4_schemas::{
    ExecutionReport, Liquidity, Nanos, Order, OrderAction, OrderKind, ReportReason, ReportStatus,
    Side, SymbolId, Tick, TickKind, TimeInForce,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::tests::{d, instrument};
use super::{
    EstimateConfig, FeeTier, Latency, Outage, RateLimit, SelfTradePrevention, SymbolVenue,
    VenueConfig,
};

/// One input of a random session. Prices are in quarters (the tick is 0.5, so odd
/// quarters are off the grid), quantities in twentieths (the lot is 0.1).
#[derive(Debug, Clone)]
enum Step {
    Quote {
        dt: Nanos,
        bid_halves: i64,
        spread_halves: i64,
        bid_size: i64,
        ask_size: i64,
    },
    Trade {
        dt: Nanos,
        price_halves: i64,
        size: i64,
        buy: bool,
    },
    /// An L2 level update, on either side of the quote or through it; size 0 removes.
    Depth {
        dt: Nanos,
        bid: bool,
        price_halves: i64,
        size: i64,
    },
    New {
        buy: bool,
        kind: OrderKind,
        tif: TimeInForce,
        reduce_only: bool,
        price_quarters: i64,
        qty: i64,
        expire_in: Option<Nanos>,
    },
    /// A stop and a take-profit on the same side, linked both ways.
    OcoPair {
        buy: bool,
        stop_halves: i64,
        profit_halves: i64,
        qty: i64,
        reduce_only: bool,
    },
    Cancel {
        target: usize,
    },
}

fn arb_step() -> impl Strategy<Value = Step> {
    let size = || prop_oneof![9 => (0i64..15).prop_map(|n| 2 * n), 1 => 0i64..30];
    let kind = prop_oneof![
        3 => Just(OrderKind::Market),
        5 => Just(OrderKind::Limit),
        1 => Just(OrderKind::Stop),
        1 => Just(OrderKind::TakeProfit),
    ];
    let tif = prop_oneof![
        5 => Just(TimeInForce::Gtc),
        1 => Just(TimeInForce::Ioc),
        1 => Just(TimeInForce::Fok),
        2 => Just(TimeInForce::PostOnly),
    ];
    prop_oneof![
        4 => (0i64..15, 190i64..210, 0i64..3, size(), size()).prop_map(
            |(dt, bid_halves, spread_halves, bid_size, ask_size)| Step::Quote {
                dt, bid_halves, spread_halves, bid_size, ask_size,
            }
        ),
        3 => (0i64..15, 188i64..214, 1i64..30, any::<bool>()).prop_map(
            |(dt, price_halves, size, buy)| Step::Trade { dt, price_halves, size, buy }
        ),
        3 => (0i64..15, any::<bool>(), 182i64..222, prop_oneof![1 => Just(0i64), 3 => 1i64..40])
            .prop_map(|(dt, bid, price_halves, size)| Step::Depth { dt, bid, price_halves, size }),
        4 => (
            any::<bool>(),
            kind,
            tif,
            prop::bool::weighted(0.2),
            prop_oneof![9 => (190i64..214).prop_map(|h| 2 * h), 1 => 370i64..430],
            size(),
            prop::option::weighted(0.3, 0i64..60),
        )
            .prop_map(|(buy, kind, tif, reduce_only, price_quarters, qty, expire_in)| Step::New {
                buy, kind, tif, reduce_only, price_quarters, qty, expire_in,
            }),
        1 => (any::<bool>(), 186i64..216, 186i64..216, 1i64..30, any::<bool>()).prop_map(
            |(buy, stop_halves, profit_halves, qty, reduce_only)| Step::OcoPair {
                buy, stop_halves, profit_halves, qty, reduce_only,
            }
        ),
        1 => any::<usize>().prop_map(|target| Step::Cancel { target }),
    ]
}

fn arb_policy() -> impl Strategy<Value = SelfTradePrevention> {
    prop_oneof![
        Just(SelfTradePrevention::CancelNew),
        Just(SelfTradePrevention::CancelResting),
        Just(SelfTradePrevention::DecrementBoth),
    ]
}

/// Nanosecond latencies with a wide spread, fee tiers the sessions cross, a tight
/// rate limit, an outage, and impact fills from the tenth trade on.
fn config(policy: SelfTradePrevention) -> VenueConfig {
    VenueConfig {
        entry_latency: Latency {
            median_ns: 8,
            sigma: 0.8,
        },
        ack_latency: Latency {
            median_ns: 3,
            sigma: 0.8,
        },
        fee_tiers: vec![
            FeeTier {
                min_volume: d("0"),
                maker: d("0.0002"),
                taker: d("0.0005"),
            },
            FeeTier {
                min_volume: d("500"),
                maker: d("0.0001"),
                taker: d("0.0004"),
            },
            FeeTier {
                min_volume: d("2000"),
                maker: d("-0.0001"),
                taker: d("0.0003"),
            },
        ],
        self_trade: policy,
        impact_coef: Some(0.5),
        estimates: EstimateConfig {
            time_constant_ns: 200,
            warmup_ns: 50,
            min_trades: 10,
        },
        rate_limit: Some(RateLimit {
            capacity: 6,
            refill_per_second: 250_000_000,
        }),
        outages: vec![Outage {
            start: 300,
            end: 340,
        }],
        random_outages: None,
    }
}

/// What the session sent and what came back.
struct Session {
    config: VenueConfig,
    /// Every `New` with its arrival, by client id.
    orders: BTreeMap<u64, (Order, Nanos)>,
    /// Every `Cancel` message's arrival times, by client id.
    cancels: BTreeMap<u64, Vec<Nanos>>,
    /// The OCO pairs sent.
    pairs: Vec<(u64, u64)>,
    reports: Vec<ExecutionReport>,
    open_orders: usize,
    position: Decimal,
    /// Taker fills beyond the touch at a price the known levels do not allow.
    off_ladder: Vec<String>,
}

/// A naive book of the ticks: the last quote's touch and every level announced since,
/// pruned by quotes at or through their touch.
#[derive(Debug, Clone, Default)]
struct Levels {
    bid: Decimal,
    ask: Decimal,
    bids: BTreeMap<Decimal, Decimal>,
    asks: BTreeMap<Decimal, Decimal>,
}

impl Levels {
    fn apply(&mut self, kind: &TickKind) {
        match *kind {
            TickKind::Quote { bid, ask, .. } => {
                (self.bid, self.ask) = (bid, ask);
                if bid > Decimal::ZERO {
                    self.bids.retain(|&p, _| p < bid);
                }
                if ask > Decimal::ZERO {
                    self.asks.retain(|&p, _| p > ask);
                }
            }
            TickKind::Depth { side, price, size } => {
                let levels = match side {
                    Side::Buy => &mut self.bids,
                    Side::Sell => &mut self.asks,
                };
                if size > Decimal::ZERO {
                    levels.insert(price, size);
                } else {
                    levels.remove(&price);
                }
            }
            TickKind::Trade { .. } => {}
        }
    }

    /// A taker fill is at the touch or beyond it; beyond it, on a side with levels
    /// behind the touch, at one of their prices or no better than the deepest.
    fn check_taker(&self, r: &ExecutionReport) -> Result<(), String> {
        let p = r.fill_price;
        let (touch, behind): (Decimal, Vec<Decimal>) = match r.side {
            Side::Buy => (
                self.ask,
                self.asks
                    .keys()
                    .copied()
                    .filter(|&l| l > self.ask)
                    .collect(),
            ),
            Side::Sell => (
                self.bid,
                self.bids
                    .keys()
                    .copied()
                    .filter(|&l| l < self.bid)
                    .collect(),
            ),
        };
        let worse = |a: Decimal, b: Decimal| match r.side {
            Side::Buy => a >= b,
            Side::Sell => a <= b,
        };
        if !worse(p, touch) {
            return Err(format!(
                "taker fill at {p} better than the touch {touch}: {r:?}"
            ));
        }
        let deepest = match r.side {
            Side::Buy => behind.iter().max(),
            Side::Sell => behind.iter().min(),
        };
        match deepest {
            Some(&deepest) if p != touch && !behind.contains(&p) && !worse(p, deepest) => Err(
                format!("taker fill at {p} off the levels {behind:?} (touch {touch}): {r:?}"),
            ),
            _ => Ok(()),
        }
    }
}

fn run(steps: &[Step], seed: u64, policy: SelfTradePrevention) -> Session {
    let config = config(policy);
    let mut venue = SymbolVenue::new(instrument(), config.clone(), seed);
    let mut session = Session {
        config,
        orders: BTreeMap::new(),
        cancels: BTreeMap::new(),
        pairs: Vec::new(),
        reports: Vec::new(),
        open_orders: 0,
        position: Decimal::ZERO,
        off_ladder: Vec::new(),
    };
    let (mut now, mut seq) = (0, 0);
    let mut levels = Levels::default();
    let mut tick = |dt: Nanos, kind: TickKind, venue: &mut SymbolVenue, session: &mut Session| {
        now += dt;
        seq += 1;
        let tick = Tick {
            ts: now,
            seq,
            symbol: SymbolId(0),
            kind,
        };
        let from = session.reports.len();
        let before = levels.clone();
        venue.on_tick(&tick, &mut session.reports);
        levels.apply(&kind);
        for r in &session.reports[from..] {
            if r.liquidity == Some(Liquidity::Taker) {
                // What arrived before the tick saw the book before it.
                let seen = if r.ts < now { &before } else { &levels };
                if let Err(e) = seen.check_taker(r) {
                    session.off_ladder.push(e);
                }
            }
        }
        now
    };
    let mut decided = 0;
    let send = |order: Order, venue: &mut SymbolVenue, session: &mut Session| {
        let arrival = venue.submit(order);
        session.orders.insert(order.client_id, (order, arrival));
    };
    for step in steps {
        let next_id = session.orders.len() as u64 + 1;
        match *step {
            Step::Quote {
                dt,
                bid_halves,
                spread_halves,
                bid_size,
                ask_size,
            } => {
                let kind = TickKind::Quote {
                    bid: Decimal::new(bid_halves * 5, 1),
                    bid_size: Decimal::new(bid_size * 5, 2),
                    ask: Decimal::new((bid_halves + spread_halves) * 5, 1),
                    ask_size: Decimal::new(ask_size * 5, 2),
                };
                decided = tick(dt, kind, &mut venue, &mut session);
            }
            Step::Trade {
                dt,
                price_halves,
                size,
                buy,
            } => {
                let kind = TickKind::Trade {
                    price: Decimal::new(price_halves * 5, 1),
                    size: Decimal::new(size * 5, 2),
                    aggressor: if buy { Side::Buy } else { Side::Sell },
                };
                decided = tick(dt, kind, &mut venue, &mut session);
            }
            Step::Depth {
                dt,
                bid,
                price_halves,
                size,
            } => {
                let kind = TickKind::Depth {
                    side: if bid { Side::Buy } else { Side::Sell },
                    price: Decimal::new(price_halves * 5, 1),
                    size: Decimal::new(size * 5, 2),
                };
                decided = tick(dt, kind, &mut venue, &mut session);
            }
            Step::New {
                buy,
                kind,
                tif,
                reduce_only,
                price_quarters,
                qty,
                expire_in,
            } => {
                let price = Decimal::new(price_quarters * 25, 2);
                let (price, trigger) = match kind {
                    OrderKind::Market => (Decimal::ZERO, Decimal::ZERO),
                    OrderKind::Limit => (price, Decimal::ZERO),
                    OrderKind::Stop | OrderKind::TakeProfit => (Decimal::ZERO, price),
                };
                let side = if buy { Side::Buy } else { Side::Sell };
                let order = Order {
                    trigger,
                    tif,
                    reduce_only,
                    expire_ts: expire_in.map_or(i64::MAX, |e| decided + e),
                    ..Order::new(
                        decided,
                        next_id,
                        SymbolId(0),
                        side,
                        kind,
                        price,
                        Decimal::new(qty * 5, 2),
                    )
                };
                send(order, &mut venue, &mut session);
            }
            Step::OcoPair {
                buy,
                stop_halves,
                profit_halves,
                qty,
                reduce_only,
            } => {
                let side = if buy { Side::Buy } else { Side::Sell };
                let leg = |id, partner, kind, halves: i64| Order {
                    trigger: Decimal::new(halves * 5, 1),
                    reduce_only,
                    oco: partner,
                    ..Order::new(
                        decided,
                        id,
                        SymbolId(0),
                        side,
                        kind,
                        Decimal::ZERO,
                        Decimal::new(qty, 1),
                    )
                };
                let (a, b) = (next_id, next_id + 1);
                send(
                    leg(a, b, OrderKind::Stop, stop_halves),
                    &mut venue,
                    &mut session,
                );
                send(
                    leg(b, a, OrderKind::TakeProfit, profit_halves),
                    &mut venue,
                    &mut session,
                );
                session.pairs.push((a, b));
            }
            Step::Cancel { target } => {
                // Sometimes an id that was never sent.
                let client_id = (target % (session.orders.len() + 2)) as u64;
                let order = Order::new(
                    decided,
                    client_id,
                    SymbolId(0),
                    Side::Buy,
                    OrderKind::Limit,
                    Decimal::ZERO,
                    Decimal::ZERO,
                )
                .cancel_of(decided);
                debug_assert_eq!(order.action, OrderAction::Cancel);
                let arrival = venue.submit(order);
                session.cancels.entry(client_id).or_default().push(arrival);
            }
        }
    }
    session.open_orders = venue.open_orders();
    session.position = venue.position();
    session
}

/// Every per-order invariant of one order's reports.
fn check_order(
    order: &Order,
    arrival: Nanos,
    reports: &[&ExecutionReport],
    session: &Session,
) -> Result<(), TestCaseError> {
    let mut filled = Decimal::ZERO;
    let mut leaves = order.qty;
    let mut fill_times = Vec::new();
    let mut triggered = false;
    for (i, r) in reports.iter().enumerate() {
        prop_assert_eq!(r.event as usize, i, "events count from 0");
        prop_assert!(r.ts >= arrival, "report before the order arrived");
        prop_assert_eq!((r.side, r.symbol), (order.side, order.symbol));
        if i > 0 {
            prop_assert!(
                !reports[i - 1].status.is_terminal(),
                "a report after a terminal one"
            );
        }
        match r.status {
            ReportStatus::Accepted if i == 0 => {
                prop_assert_eq!(r.ts, arrival);
                prop_assert!(r.leaves_qty <= order.qty);
                prop_assert!(
                    order.reduce_only || r.leaves_qty == order.qty,
                    "capped without reduce-only"
                );
            }
            ReportStatus::Rejected => {
                prop_assert_eq!(i, 0);
                prop_assert_eq!(r.ts, arrival);
                prop_assert!(r.reason.is_some(), "a rejection without a reason");
            }
            _ => prop_assert!(i > 0, "first report is neither accepted nor rejected"),
        }
        if r.status == ReportStatus::Triggered && r.reason.is_none() {
            prop_assert!(
                order.kind.is_triggered() && !triggered,
                "triggered twice or not a stop"
            );
            prop_assert!(filled.is_zero(), "filled before its trigger");
            triggered = true;
        }
        let is_fill = !r.fill_qty.is_zero();
        prop_assert_eq!(is_fill, r.liquidity.is_some());
        if is_fill {
            prop_assert!(matches!(
                r.status,
                ReportStatus::PartiallyFilled | ReportStatus::Filled
            ));
            prop_assert!(r.fill_qty > Decimal::ZERO);
            prop_assert!(
                !order.kind.is_triggered() || triggered,
                "untriggered order filled"
            );
            filled += r.fill_qty;
            fill_times.push(r.ts);
            prop_assert!(filled <= order.qty, "fills exceed the order");
            prop_assert_eq!(r.leaves_qty, leaves - r.fill_qty);
            prop_assert_eq!(r.status == ReportStatus::Filled, r.leaves_qty.is_zero());
            let liquidity = r.liquidity.unwrap_or(Liquidity::Taker);
            if order.tif == TimeInForce::PostOnly {
                prop_assert_eq!(
                    liquidity,
                    Liquidity::Maker,
                    "post-only order took liquidity"
                );
            }
            if order.kind == OrderKind::Limit {
                let no_worse = match order.side {
                    Side::Buy => r.fill_price <= order.price,
                    Side::Sell => r.fill_price >= order.price,
                };
                prop_assert!(
                    no_worse,
                    "fill at {} beyond the limit {}",
                    r.fill_price,
                    order.price
                );
                if liquidity == Liquidity::Maker {
                    prop_assert_eq!(r.fill_price, order.price);
                } else {
                    prop_assert_eq!(r.ts, arrival, "taker limit fills only on arrival");
                }
            } else {
                prop_assert_eq!(liquidity, Liquidity::Taker);
            }
        } else {
            prop_assert_eq!((r.fill_price, r.fee), (Decimal::ZERO, Decimal::ZERO));
            if r.status.is_terminal() {
                prop_assert!(r.leaves_qty.is_zero());
            } else if i > 0 {
                // Status reports keep the quantity, but for a self-trade decrement.
                prop_assert!(r.leaves_qty <= leaves);
                if r.leaves_qty < leaves {
                    prop_assert_eq!(r.reason, Some(ReportReason::SelfTrade));
                }
                if r.status != ReportStatus::Triggered {
                    prop_assert!(r.reason.is_some(), "a status report without a reason");
                }
            }
        }
        leaves = r.leaves_qty;
        match r.status {
            ReportStatus::Expired => prop_assert_eq!(r.ts, order.expire_ts),
            ReportStatus::Cancelled if r.reason.is_none() => {
                let sent = session.cancels.get(&order.client_id);
                prop_assert!(
                    sent.is_some_and(|s| s.contains(&r.ts)),
                    "cancelled without a cancel"
                );
            }
            _ => {}
        }
    }
    if order.tif == TimeInForce::Fok && !filled.is_zero() {
        prop_assert_eq!(reports.last().map(|r| r.status), Some(ReportStatus::Filled));
        prop_assert!(
            fill_times.windows(2).all(|w| w[0] == w[1]),
            "FOK filled over time"
        );
    }
    Ok(())
}

/// The invariants across orders: position, reduce-only, fees, OCO, receipt times.
fn check_session(session: &Session) -> Result<(), TestCaseError> {
    let mut position = Decimal::ZERO;
    let mut volume = Decimal::ZERO;
    for r in &session.reports {
        prop_assert!(r.received_ts >= r.ts, "received before it happened");
        if let Some(o) = session
            .config
            .outages
            .iter()
            .find(|o| o.start <= r.ts && r.ts < o.end)
        {
            prop_assert!(r.received_ts >= o.end, "received during the outage");
        }
        let Some(fill) = r.fill() else { continue };
        let fee = session
            .config
            .fee(volume, fill.liquidity, fill.price, fill.qty);
        prop_assert_eq!(r.fee, fee, "fee not of the tier reached");
        volume += fill.price * fill.qty;
        let before = position;
        position += fill.side.sign() * fill.qty;
        let (order, _) = session.orders[&r.client_id];
        if order.reduce_only {
            prop_assert!(
                position.abs() < before.abs(),
                "reduce-only grew the position"
            );
            prop_assert!(
                position.is_zero() || position.is_sign_positive() == before.is_sign_positive(),
                "reduce-only flipped the position"
            );
        }
    }
    prop_assert_eq!(
        session.position,
        position,
        "position is not the sum of fills"
    );
    for &(a, b) in &session.pairs {
        let fills = |id| {
            session
                .reports
                .iter()
                .any(|r| r.client_id == id && r.fill().is_some())
        };
        prop_assert!(!(fills(a) && fills(b)), "both legs of an OCO pair filled");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_sessions_keep_the_venue_invariants(
        steps in prop::collection::vec(arb_step(), 0..150),
        seed in any::<u64>(),
        policy in arb_policy(),
    ) {
        let session = run(&steps, seed, policy);
        prop_assert!(
            session.reports.windows(2).all(|w| w[0].ts <= w[1].ts),
            "reports out of time order"
        );
        let mut by_order: BTreeMap<u64, Vec<&ExecutionReport>> = BTreeMap::new();
        for r in &session.reports {
            prop_assert!(session.orders.contains_key(&r.client_id), "report for an unknown order");
            by_order.entry(r.client_id).or_default().push(r);
        }
        let mut still_open = 0;
        for (id, (order, arrival)) in &session.orders {
            let reports = by_order.get(id).map_or(&[][..], Vec::as_slice);
            check_order(order, *arrival, reports, &session)?;
            if !reports.last().is_some_and(|r| r.status.is_terminal()) {
                still_open += 1;
            }
        }
        prop_assert_eq!(session.open_orders, still_open);
        check_session(&session)?;
        prop_assert!(session.off_ladder.is_empty(), "{:?}", session.off_ladder);

        let again = run(&steps, seed, policy);
        prop_assert_eq!(again.reports, session.reports, "not deterministic");
    }
}
