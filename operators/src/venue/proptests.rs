//! Property tests of the venue on random quote and trade streams with random orders.

use std::collections::BTreeMap;

use bot4_schemas::{
    ExecutionReport, Liquidity, Nanos, Order, OrderAction, OrderKind, ReportStatus, Side, SymbolId,
    Tick, TickKind,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::tests::{d, instrument};
use super::{SymbolVenue, VenueConfig};

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
    New {
        buy: bool,
        market: bool,
        price_quarters: i64,
        qty: i64,
        expire_in: Option<Nanos>,
    },
    Cancel {
        target: usize,
    },
}

fn arb_step() -> impl Strategy<Value = Step> {
    let size = || prop_oneof![9 => (0i64..15).prop_map(|n| 2 * n), 1 => 0i64..30];
    prop_oneof![
        4 => (0i64..15, 190i64..210, 0i64..3, size(), size()).prop_map(
            |(dt, bid_halves, spread_halves, bid_size, ask_size)| Step::Quote {
                dt, bid_halves, spread_halves, bid_size, ask_size,
            }
        ),
        3 => (0i64..15, 188i64..214, 1i64..30, any::<bool>()).prop_map(
            |(dt, price_halves, size, buy)| Step::Trade { dt, price_halves, size, buy }
        ),
        3 => (
            any::<bool>(),
            prop::bool::weighted(0.3),
            prop_oneof![9 => (190i64..214).prop_map(|h| 2 * h), 1 => 370i64..430],
            size(),
            prop::option::weighted(0.3, 0i64..60),
        )
            .prop_map(|(buy, market, price_quarters, qty, expire_in)| Step::New {
                buy, market, price_quarters, qty, expire_in,
            }),
        1 => any::<usize>().prop_map(|target| Step::Cancel { target }),
    ]
}

/// What the session sent and what came back.
struct Session {
    latency: Nanos,
    /// Every `New`, by client id.
    orders: BTreeMap<u64, Order>,
    /// Every `Cancel` message's arrival times, by client id.
    cancels: BTreeMap<u64, Vec<Nanos>>,
    reports: Vec<ExecutionReport>,
    open_orders: usize,
}

fn run(steps: &[Step], latency: Nanos) -> Session {
    let config = VenueConfig {
        latency_ns: latency,
        maker_fee: d("0.0002"),
        taker_fee: d("0.0005"),
    };
    let mut venue = SymbolVenue::new(instrument(), config);
    let mut session = Session {
        latency,
        orders: BTreeMap::new(),
        cancels: BTreeMap::new(),
        reports: Vec::new(),
        open_orders: 0,
    };
    let (mut now, mut seq) = (0, 0);
    let mut tick = |dt: Nanos, kind: TickKind, venue: &mut SymbolVenue, out: &mut Vec<_>| {
        now += dt;
        seq += 1;
        let tick = Tick {
            ts: now,
            seq,
            symbol: SymbolId(0),
            kind,
        };
        venue.on_tick(&tick, out);
        now
    };
    let mut decided = 0;
    for step in steps {
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
                decided = tick(dt, kind, &mut venue, &mut session.reports);
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
                decided = tick(dt, kind, &mut venue, &mut session.reports);
            }
            Step::New {
                buy,
                market,
                price_quarters,
                qty,
                expire_in,
            } => {
                let client_id = session.orders.len() as u64 + 1;
                let order = Order {
                    ts: decided,
                    client_id,
                    symbol: SymbolId(0),
                    action: OrderAction::New,
                    side: if buy { Side::Buy } else { Side::Sell },
                    kind: if market {
                        OrderKind::Market
                    } else {
                        OrderKind::Limit
                    },
                    price: if market {
                        Decimal::ZERO
                    } else {
                        Decimal::new(price_quarters * 25, 2)
                    },
                    qty: Decimal::new(qty * 5, 2),
                    expire_ts: expire_in.map_or(i64::MAX, |e| decided + e),
                    reduces_exposure: false,
                };
                session.orders.insert(client_id, order);
                venue.submit(order);
            }
            Step::Cancel { target } => {
                // Sometimes an id that was never sent.
                let client_id = (target % (session.orders.len() + 2)) as u64;
                session
                    .cancels
                    .entry(client_id)
                    .or_default()
                    .push(decided + latency);
                venue.submit(Order {
                    ts: decided,
                    client_id,
                    symbol: SymbolId(0),
                    action: OrderAction::Cancel,
                    side: Side::Buy,
                    kind: OrderKind::Limit,
                    price: Decimal::ZERO,
                    qty: Decimal::ZERO,
                    expire_ts: i64::MAX,
                    reduces_exposure: false,
                });
            }
        }
    }
    session.open_orders = venue.open_orders();
    session
}

/// Every per-order invariant of one order's reports.
fn check_order(
    order: &Order,
    reports: &[&ExecutionReport],
    session: &Session,
) -> Result<(), TestCaseError> {
    let arrival = order.ts + session.latency;
    let config = VenueConfig {
        latency_ns: session.latency,
        maker_fee: d("0.0002"),
        taker_fee: d("0.0005"),
    };
    let mut filled = Decimal::ZERO;
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
            ReportStatus::Accepted | ReportStatus::Rejected => {
                prop_assert_eq!(i, 0);
                prop_assert_eq!(r.ts, arrival);
            }
            _ => prop_assert!(i > 0, "first report is neither accepted nor rejected"),
        }
        let is_fill = matches!(
            r.status,
            ReportStatus::PartiallyFilled | ReportStatus::Filled
        );
        prop_assert_eq!(is_fill, !r.fill_qty.is_zero());
        prop_assert_eq!(is_fill, r.liquidity.is_some());
        if is_fill {
            prop_assert!(r.fill_qty > Decimal::ZERO);
            filled += r.fill_qty;
            prop_assert!(filled <= order.qty, "fills exceed the order");
            prop_assert_eq!(r.leaves_qty, order.qty - filled);
            prop_assert_eq!(r.status == ReportStatus::Filled, r.leaves_qty.is_zero());
            let liquidity = r.liquidity.unwrap_or(Liquidity::Taker);
            prop_assert_eq!(r.fee, config.fee(liquidity, r.fill_price, r.fill_qty));
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
            let leaves = if r.status.is_terminal() {
                Decimal::ZERO
            } else {
                order.qty
            };
            prop_assert_eq!(r.leaves_qty, leaves);
        }
        match r.status {
            ReportStatus::Expired => prop_assert_eq!(r.ts, order.expire_ts),
            ReportStatus::Cancelled => {
                let sent = session.cancels.get(&order.client_id);
                prop_assert!(
                    sent.is_some_and(|s| s.contains(&r.ts)),
                    "cancelled without a cancel"
                );
            }
            _ => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_sessions_keep_the_venue_invariants(
        steps in prop::collection::vec(arb_step(), 0..120),
        latency in 1i64..20,
    ) {
        let session = run(&steps, latency);
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
        for (id, order) in &session.orders {
            let reports = by_order.get(id).map_or(&[][..], Vec::as_slice);
            check_order(order, reports, &session)?;
            if !reports.last().is_some_and(|r| r.status.is_terminal()) {
                still_open += 1;
            }
        }
        prop_assert_eq!(session.open_orders, still_open);

        let again = run(&steps, latency);
        prop_assert_eq!(again.reports, session.reports, "not deterministic");
    }
}
