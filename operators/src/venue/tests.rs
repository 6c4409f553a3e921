//! Hand-computed examples of each venue rule. The basic rules are here, with the
//! helpers; the order kinds, self-trade prevention, the gateway, the market model and
//! the L2 levels have a file each.

use bot4_schemas::{
    ExecutionReport, Instrument, Liquidity, Nanos, Order, OrderKind, ReportStatus, Side, SymbolId,
    Tick, TickKind,
};
use rust_decimal::Decimal;

use super::{FeeTier, Latency, RejectReason, SymbolVenue, VenueConfig};
use ReportStatus::{Accepted, Cancelled, Expired, Filled, PartiallyFilled, Rejected};

mod depth;
mod gateway;
mod kinds;
mod market;
mod self_trade;

pub(super) const LATENCY: Nanos = 10;
/// The fixed acknowledgement latency of [`config`].
pub(super) const ACK: Nanos = 3;

pub(super) fn d(text: &str) -> Decimal {
    text.parse().expect("decimal literal")
}

/// Tick 0.5, lot 0.1, minimum notional 10.
pub(super) fn instrument() -> Instrument {
    Instrument {
        symbol: "TEST-USDT".into(),
        tick_size: d("0.5"),
        lot_size: d("0.1"),
        min_notional: d("10"),
    }
}

/// Fixed latencies (entry 10 ns, ack 3 ns), 2/5 bp fees, no impact, no rate limit, no
/// outages, cancel-new self-trade prevention.
pub(super) fn config() -> VenueConfig {
    VenueConfig {
        entry_latency: Latency {
            median_ns: LATENCY,
            sigma: 0.0,
        },
        ack_latency: Latency {
            median_ns: ACK,
            sigma: 0.0,
        },
        fee_tiers: FeeTier::flat(d("0.0002"), d("0.0005")),
        impact_coef: None,
        rate_limit: None,
        ..VenueConfig::default()
    }
}

pub(super) fn venue() -> SymbolVenue {
    SymbolVenue::new(instrument(), config(), 1)
}

pub(super) fn quote(ts: Nanos, bid: &str, bid_size: &str, ask: &str, ask_size: &str) -> Tick {
    Tick {
        ts,
        seq: 0,
        symbol: SymbolId(0),
        kind: TickKind::Quote {
            bid: d(bid),
            bid_size: d(bid_size),
            ask: d(ask),
            ask_size: d(ask_size),
        },
    }
}

pub(super) fn trade(ts: Nanos, price: &str, size: &str, aggressor: Side) -> Tick {
    Tick {
        ts,
        seq: 0,
        symbol: SymbolId(0),
        kind: TickKind::Trade {
            price: d(price),
            size: d(size),
            aggressor,
        },
    }
}

pub(super) fn order(
    ts: Nanos,
    client_id: u64,
    side: Side,
    kind: OrderKind,
    price: &str,
    qty: &str,
) -> Order {
    Order::new(ts, client_id, SymbolId(0), side, kind, d(price), d(qty))
}

pub(super) fn market(ts: Nanos, client_id: u64, side: Side, qty: &str) -> Order {
    order(ts, client_id, side, OrderKind::Market, "0", qty)
}

pub(super) fn limit(ts: Nanos, client_id: u64, side: Side, price: &str, qty: &str) -> Order {
    order(ts, client_id, side, OrderKind::Limit, price, qty)
}

pub(super) fn cancel(ts: Nanos, client_id: u64) -> Order {
    market(ts, client_id, Side::Buy, "0").cancel_of(ts)
}

pub(super) fn run(venue: &mut SymbolVenue, tick: Tick) -> Vec<ExecutionReport> {
    let mut out = Vec::new();
    venue.on_tick(&tick, &mut out);
    out
}

/// `(ts, client_id, status, fill_qty, fill_price, leaves_qty, event)`.
pub(super) type Brief = (Nanos, u64, ReportStatus, Decimal, Decimal, Decimal, u32);

pub(super) fn brief(reports: &[ExecutionReport]) -> Vec<Brief> {
    reports
        .iter()
        .map(|r| {
            (
                r.ts,
                r.client_id,
                r.status,
                r.fill_qty,
                r.fill_price,
                r.leaves_qty,
                r.event,
            )
        })
        .collect()
}

pub(super) fn b(
    ts: Nanos,
    id: u64,
    status: ReportStatus,
    qty: &str,
    price: &str,
    leaves: &str,
    event: u32,
) -> Brief {
    (ts, id, status, d(qty), d(price), d(leaves), event)
}

/// The reasons of `reports`, in order.
pub(super) fn reasons(reports: &[ExecutionReport]) -> Vec<Option<bot4_schemas::ReportReason>> {
    reports.iter().map(|r| r.reason).collect()
}

#[test]
fn market_orders_fill_at_the_touch_as_taker() {
    let mut v = venue();
    assert!(run(&mut v, quote(0, "100", "1", "100.5", "2")).is_empty());
    v.submit(market(0, 1, Side::Buy, "1.5"));
    v.submit(market(0, 2, Side::Sell, "0.5"));
    let out = run(&mut v, quote(20, "100", "1", "100.5", "2"));
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "1.5", 0),
            b(10, 1, Filled, "1.5", "100.5", "0", 1),
            b(10, 2, Accepted, "0", "0", "0.5", 0),
            b(10, 2, Filled, "0.5", "100", "0", 1),
        ]
    );
    // 100.5 * 1.5 * 0.0005 and 100 * 0.5 * 0.0005.
    assert_eq!(out[1].fee, d("0.075375"));
    assert_eq!(out[3].fee, d("0.025"));
    assert_eq!(out[1].liquidity, Some(Liquidity::Taker));
    assert_eq!((out[0].liquidity, out[0].fee), (None, Decimal::ZERO));
    assert_eq!((out[1].side, out[3].side), (Side::Buy, Side::Sell));
    assert_eq!(v.open_orders(), 0);
}

#[test]
fn a_market_remainder_fills_on_following_quotes() {
    let mut v = venue();
    run(&mut v, quote(0, "100", "1", "100.5", "0.4"));
    v.submit(market(0, 1, Side::Buy, "1"));
    let out = run(&mut v, quote(20, "100", "1", "101", "0.5"));
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "1", 0),
            b(10, 1, PartiallyFilled, "0.4", "100.5", "0.6", 1),
            b(20, 1, PartiallyFilled, "0.5", "101", "0.1", 2),
        ]
    );
    assert_eq!(v.open_orders(), 1);
    // Trades and empty asks fill nothing.
    assert!(run(&mut v, trade(30, "101", "5", Side::Sell)).is_empty());
    assert!(run(&mut v, trade(31, "101", "5", Side::Buy)).is_empty());
    assert!(run(&mut v, quote(35, "100", "1", "101", "0")).is_empty());
    let out = run(&mut v, quote(40, "100", "1", "101.5", "3"));
    assert_eq!(brief(&out), [b(40, 1, Filled, "0.1", "101.5", "0", 3)]);
    assert_eq!(out[0].liquidity, Some(Liquidity::Taker));
    assert_eq!(v.open_orders(), 0);
}

#[test]
fn a_market_order_before_any_quote_is_rejected() {
    let mut v = venue();
    let o = market(0, 1, Side::Buy, "1");
    assert_eq!(v.check(&o, LATENCY), Err(RejectReason::NoQuote));
    v.submit(o);
    let out = run(&mut v, trade(20, "100", "1", Side::Buy));
    assert_eq!(brief(&out), [b(10, 1, Rejected, "0", "0", "0", 0)]);
    assert_eq!(v.open_orders(), 0);
}

#[test]
fn a_crossing_limit_takes_the_touch_then_rests_at_its_price() {
    let mut v = venue();
    run(&mut v, quote(0, "100", "1", "100.5", "0.3"));
    v.submit(limit(0, 1, Side::Buy, "101", "1"));
    let out = run(&mut v, trade(20, "101", "0.2", Side::Sell));
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "1", 0),
            b(10, 1, PartiallyFilled, "0.3", "100.5", "0.7", 1),
            b(20, 1, PartiallyFilled, "0.2", "101", "0.5", 2),
        ]
    );
    assert_eq!(out[1].liquidity, Some(Liquidity::Taker));
    assert_eq!(out[2].liquidity, Some(Liquidity::Maker));
    // A later ask at the limit fills the resting order at its own price.
    let out = run(&mut v, quote(30, "100", "1", "101", "0.2"));
    assert_eq!(
        brief(&out),
        [b(30, 1, PartiallyFilled, "0.2", "101", "0.3", 3)]
    );
    // 101 * 0.2 * 0.0002
    assert_eq!(out[0].fee, d("0.00404"));
}

#[test]
fn a_limit_sell_crossing_the_bid_fills_at_the_bid() {
    let mut v = venue();
    run(&mut v, quote(0, "100", "2", "100.5", "1"));
    v.submit(limit(0, 1, Side::Sell, "99.5", "1"));
    let out = run(&mut v, quote(20, "99", "1", "100", "1"));
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "1", 0),
            b(10, 1, Filled, "1", "100", "0", 1),
        ]
    );
}

#[test]
fn resting_orders_fill_on_trades_at_or_through_their_price() {
    let mut v = venue();
    run(&mut v, quote(0, "99.5", "1", "100.5", "1"));
    v.submit(limit(0, 1, Side::Buy, "100", "1"));
    v.submit(limit(0, 2, Side::Sell, "101", "1"));
    let out = run(&mut v, trade(20, "100.5", "1", Side::Sell));
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "1", 0),
            b(10, 2, Accepted, "0", "0", "1", 0),
        ]
    );
    // A buy-aggressor trade does not hit a resting buy, even at its price.
    assert!(run(&mut v, trade(30, "100", "1", Side::Buy)).is_empty());
    let out = run(&mut v, trade(40, "100", "0.3", Side::Sell));
    assert_eq!(
        brief(&out),
        [b(40, 1, PartiallyFilled, "0.3", "100", "0.7", 1)]
    );
    assert_eq!(out[0].fee, d("0.006"));
    // Through the price: fills at the limit, not the trade price, and no more than left.
    let out = run(&mut v, trade(50, "99", "5", Side::Sell));
    assert_eq!(brief(&out), [b(50, 1, Filled, "0.7", "100", "0", 2)]);
    let out = run(&mut v, trade(60, "101.5", "0.4", Side::Buy));
    assert_eq!(
        brief(&out),
        [b(60, 2, PartiallyFilled, "0.4", "101", "0.6", 1)]
    );
    assert_eq!(v.open_orders(), 1);
}

#[test]
fn resting_orders_fill_when_a_quote_crosses_them() {
    let mut v = venue();
    run(&mut v, quote(0, "99", "1", "101", "1"));
    v.submit(limit(0, 1, Side::Sell, "100", "2"));
    v.submit(limit(0, 2, Side::Buy, "99.5", "1"));
    assert_eq!(run(&mut v, quote(20, "99", "1", "101", "1")).len(), 2);
    let out = run(&mut v, quote(30, "100.5", "0.5", "101.5", "1"));
    assert_eq!(
        brief(&out),
        [b(30, 1, PartiallyFilled, "0.5", "100", "1.5", 1)]
    );
    assert_eq!(out[0].liquidity, Some(Liquidity::Maker));
    let out = run(&mut v, quote(40, "98", "1", "99", "0.4"));
    assert_eq!(
        brief(&out),
        [b(40, 2, PartiallyFilled, "0.4", "99.5", "0.6", 1)]
    );
    assert!(run(&mut v, quote(50, "99", "1", "101", "1")).is_empty());
}

#[test]
fn our_fills_share_the_displayed_size_in_priority_order() {
    let mut v = venue();
    run(&mut v, quote(0, "99", "1", "101", "1"));
    v.submit(limit(0, 1, Side::Buy, "100", "0.5"));
    v.submit(limit(0, 2, Side::Buy, "100.5", "0.5"));
    v.submit(limit(0, 3, Side::Buy, "100.5", "0.5"));
    v.submit(market(0, 4, Side::Buy, "1.5"));
    let out = run(&mut v, quote(20, "99", "1", "102", "0"));
    // The market order takes the whole ask at arrival; the rest waits.
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "0.5", 0),
            b(10, 2, Accepted, "0", "0", "0.5", 0),
            b(10, 3, Accepted, "0", "0", "0.5", 0),
            b(10, 4, Accepted, "0", "0", "1.5", 0),
            b(10, 4, PartiallyFilled, "1", "101", "0.5", 1),
        ]
    );
    // Best price first, then first come; the trade's size is shared.
    let out = run(&mut v, trade(30, "100", "1.2", Side::Sell));
    assert_eq!(
        brief(&out),
        [
            b(30, 2, Filled, "0.5", "100.5", "0", 1),
            b(30, 3, Filled, "0.5", "100.5", "0", 1),
            b(30, 1, PartiallyFilled, "0.2", "100", "0.3", 1),
        ]
    );
    // The market remainder comes first on a quote, then the best limit.
    let out = run(&mut v, quote(40, "99", "1", "100", "0.6"));
    assert_eq!(
        brief(&out),
        [
            b(40, 4, Filled, "0.5", "100", "0", 2),
            b(40, 1, PartiallyFilled, "0.1", "100", "0.2", 2),
        ]
    );
}

#[test]
fn messages_arrive_after_the_latency_and_wait_for_a_later_tick() {
    let mut v = venue();
    run(&mut v, quote(0, "100", "1", "100.5", "1"));
    v.submit(limit(10, 1, Side::Buy, "100", "1"));
    // Arrives at 20: the tick at 20 happened first, so it still waits.
    assert!(run(&mut v, quote(20, "100", "1", "100.5", "1")).is_empty());
    assert_eq!(v.open_orders(), 1);
    let out = run(&mut v, quote(21, "100", "1", "100.5", "1"));
    assert_eq!(brief(&out), [b(20, 1, Accepted, "0", "0", "1", 0)]);
}

#[test]
fn messages_arrive_in_the_order_sent_on_one_connection() {
    let mut v = venue();
    run(&mut v, quote(0, "100", "1", "100.5", "0.6"));
    // Sent at 3, then 2, then 2: arrival = max(ts + 10, previous arrival).
    assert_eq!(v.submit(market(3, 7, Side::Buy, "0.5")), 13);
    assert_eq!(v.submit(market(2, 9, Side::Buy, "0.5")), 13);
    assert_eq!(v.submit(market(2, 8, Side::Buy, "0.5")), 13);
    let out = run(&mut v, quote(20, "100", "1", "101", "5"));
    assert_eq!(
        brief(&out),
        [
            b(13, 7, Accepted, "0", "0", "0.5", 0),
            b(13, 7, Filled, "0.5", "100.5", "0", 1),
            b(13, 9, Accepted, "0", "0", "0.5", 0),
            b(13, 9, PartiallyFilled, "0.1", "100.5", "0.4", 1),
            b(13, 8, Accepted, "0", "0", "0.5", 0),
            b(20, 9, Filled, "0.4", "101", "0", 2),
            b(20, 8, Filled, "0.5", "101", "0", 1),
        ]
    );
    assert!(out.iter().all(|r| r.received_ts == r.ts + ACK));
}

#[test]
fn orders_expire_at_their_expiry_before_the_tick_matches() {
    let mut v = venue();
    run(&mut v, quote(0, "99", "1", "101", "1"));
    let o = Order {
        expire_ts: 50,
        ..limit(0, 1, Side::Buy, "100", "1")
    };
    v.submit(o);
    assert_eq!(run(&mut v, quote(30, "99", "1", "101", "1")).len(), 1);
    // Expires at 50, before the trade at 50 could fill it.
    let out = run(&mut v, trade(50, "100", "1", Side::Sell));
    assert_eq!(brief(&out), [b(50, 1, Expired, "0", "0", "0", 1)]);
    assert_eq!(v.open_orders(), 0);
    assert!(run(&mut v, trade(60, "100", "1", Side::Sell)).is_empty());

    // Reported at its expiry time even when the next tick comes later.
    v.submit(Order {
        expire_ts: 75,
        ..limit(60, 2, Side::Buy, "100", "1")
    });
    let out = run(&mut v, quote(100, "99", "1", "101", "1"));
    assert_eq!(
        brief(&out),
        [
            b(70, 2, Accepted, "0", "0", "1", 0),
            b(75, 2, Expired, "0", "0", "0", 1),
        ]
    );
}

#[test]
fn a_market_remainder_expires_too() {
    let mut v = venue();
    run(&mut v, quote(0, "100", "1", "100.5", "0.5"));
    v.submit(Order {
        expire_ts: 30,
        ..market(0, 1, Side::Buy, "1")
    });
    let out = run(&mut v, quote(40, "100", "1", "100.5", "0.5"));
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "1", 0),
            b(10, 1, PartiallyFilled, "0.5", "100.5", "0.5", 1),
            b(30, 1, Expired, "0", "0", "0", 2),
        ]
    );
}

#[test]
fn an_order_expired_before_a_cancel_arrives_is_not_cancelled() {
    let mut v = venue();
    run(&mut v, quote(0, "99", "1", "101", "1"));
    v.submit(Order {
        expire_ts: 30,
        ..limit(0, 1, Side::Buy, "100", "1")
    });
    v.submit(cancel(25, 1));
    let out = run(&mut v, quote(100, "99", "1", "101", "1"));
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "1", 0),
            b(30, 1, Expired, "0", "0", "0", 1),
        ]
    );
}

#[test]
fn cancels_close_open_orders_and_nothing_else() {
    let mut v = venue();
    run(&mut v, quote(0, "99", "1", "101", "0.5"));
    // The sell goes first: after the buy at 100 rests, it would trade with it.
    v.submit(limit(0, 3, Side::Sell, "99", "0.2"));
    v.submit(limit(0, 1, Side::Buy, "100", "1"));
    v.submit(market(0, 2, Side::Buy, "1"));
    run(&mut v, quote(20, "99", "1", "101", "0"));
    assert_eq!(v.open_orders(), 2);
    v.submit(cancel(20, 1));
    v.submit(cancel(20, 2));
    v.submit(cancel(20, 3)); // already filled
    v.submit(cancel(20, 4)); // unknown
    v.submit(cancel(21, 1)); // already cancelled
    let out = run(&mut v, quote(40, "99", "1", "101", "5"));
    assert_eq!(
        brief(&out),
        [
            b(30, 1, Cancelled, "0", "0", "0", 1),
            b(30, 2, Cancelled, "0", "0", "0", 2),
        ]
    );
    assert_eq!(v.open_orders(), 0);
}

#[test]
fn a_cancel_arriving_before_its_order_cancels_nothing() {
    let mut v = venue();
    run(&mut v, quote(0, "99", "1", "101", "1"));
    // Sent first, it arrives first, even though the order was decided earlier.
    assert_eq!(v.submit(cancel(5, 1)), 15);
    assert_eq!(v.submit(limit(0, 1, Side::Buy, "100", "1")), 15);
    let out = run(&mut v, quote(20, "99", "1", "101", "1"));
    assert_eq!(brief(&out), [b(15, 1, Accepted, "0", "0", "1", 0)]);
    assert_eq!(v.open_orders(), 1);
}

#[test]
fn invalid_orders_are_rejected_with_a_reason() {
    let mut v = venue();
    let at = 100;
    let lim = |price: &str, qty: &str| limit(0, 1, Side::Buy, price, qty);
    assert_eq!(
        v.check(&lim("100", "0"), at),
        Err(RejectReason::NonPositiveQty(d("0")))
    );
    assert_eq!(
        v.check(&lim("100", "-1"), at),
        Err(RejectReason::NonPositiveQty(d("-1")))
    );
    assert_eq!(
        v.check(&lim("100", "0.15"), at),
        Err(RejectReason::QtyOffLot {
            qty: d("0.15"),
            lot_size: d("0.1")
        })
    );
    assert_eq!(
        v.check(&lim("0", "1"), at),
        Err(RejectReason::NonPositivePrice(d("0")))
    );
    assert_eq!(
        v.check(&lim("100.2", "1"), at),
        Err(RejectReason::PriceOffTick {
            price: d("100.2"),
            tick_size: d("0.5")
        })
    );
    assert_eq!(
        v.check(&lim("99.5", "0.1"), at),
        Err(RejectReason::BelowMinNotional {
            notional: d("9.95"),
            min_notional: d("10")
        })
    );
    assert_eq!(v.check(&lim("100", "0.1"), at), Ok(()));
    assert_eq!(
        v.check(
            &Order {
                expire_ts: at,
                ..lim("100", "1")
            },
            at
        ),
        Err(RejectReason::ExpiredOnArrival {
            expire_ts: at,
            arrival: at
        })
    );
    // A market order's notional uses the mid.
    run(&mut v, quote(0, "99.5", "1", "100", "1"));
    assert_eq!(
        v.check(&market(0, 1, Side::Sell, "0.1"), at),
        Err(RejectReason::BelowMinNotional {
            notional: d("9.975"),
            min_notional: d("10")
        })
    );
    run(&mut v, quote(1, "100", "1", "100.5", "1"));
    assert_eq!(v.check(&market(0, 1, Side::Sell, "0.1"), at), Ok(()));

    v.submit(lim("100.2", "1"));
    let mut o = lim("100", "0.15");
    o.client_id = 2;
    v.submit(o);
    let out = run(&mut v, quote(20, "100", "1", "100.5", "1"));
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Rejected, "0", "0", "0", 0),
            b(10, 2, Rejected, "0", "0", "0", 0),
        ]
    );
}

#[test]
fn fees_round_to_eight_places_half_to_even() {
    let config = VenueConfig {
        fee_tiers: FeeTier::flat(d("-0.0001"), d("0.0001")),
        ..config()
    };
    let fee = |liquidity, price| config.fee(Decimal::ZERO, liquidity, d(price), d("0.001"));
    // 1.25 * 0.001 * 0.0001 = 0.000000125 -> 0.00000012; 1.35 -> 0.000000135 -> 0.00000014
    assert_eq!(fee(Liquidity::Taker, "1.25"), d("0.00000012"));
    assert_eq!(fee(Liquidity::Taker, "1.35"), d("0.00000014"));
    assert_eq!(fee(Liquidity::Maker, "1.25"), d("-0.00000012"));
    assert_eq!(fee(Liquidity::Taker, "1.26"), d("0.00000013"));
}

#[test]
fn default_config() {
    let config = VenueConfig::default();
    assert_eq!(config.validate(), Ok(()));
    assert_eq!(
        (config.entry_latency.median_ns, config.entry_latency.sigma),
        (5_000_000, 0.5)
    );
    assert_eq!(
        (config.ack_latency.median_ns, config.ack_latency.sigma),
        (2_000_000, 0.5)
    );
    let tiers: Vec<_> = config
        .fee_tiers
        .iter()
        .map(|t| (t.min_volume, t.maker, t.taker))
        .collect();
    assert_eq!(
        tiers,
        [
            (d("0"), d("0.0002"), d("0.0005")),
            (d("1000000"), d("0.00016"), d("0.0004")),
            (d("5000000"), d("0.00012"), d("0.00035")),
            (d("25000000"), d("0.00008"), d("0.0003")),
        ]
    );
    assert_eq!(config.self_trade, super::SelfTradePrevention::CancelNew);
    assert_eq!(config.impact_coef, Some(0.5));
    let limit = config.rate_limit.expect("a default rate limit");
    assert_eq!((limit.capacity, limit.refill_per_second), (50, 10));
    assert!(config.outages.is_empty() && config.random_outages.is_none());
}

#[test]
#[should_panic(expected = "latency")]
fn zero_latency_is_refused() {
    let config = VenueConfig {
        entry_latency: Latency {
            median_ns: 0,
            sigma: 0.5,
        },
        ..config()
    };
    let _venue = SymbolVenue::new(instrument(), config, 1);
}

#[test]
fn invalid_configs_name_their_fault() {
    use super::{Outage, RateLimit, VenueConfigError};
    let bad = |c: VenueConfig| c.validate().err();
    assert_eq!(
        bad(VenueConfig {
            fee_tiers: Vec::new(),
            ..config()
        }),
        Some(VenueConfigError::FeeTiers)
    );
    let mut tiers = FeeTier::default_tiers();
    tiers.swap(1, 2);
    assert_eq!(
        bad(VenueConfig {
            fee_tiers: tiers,
            ..config()
        }),
        Some(VenueConfigError::FeeTiers)
    );
    assert_eq!(
        bad(VenueConfig {
            impact_coef: Some(-1.0),
            ..config()
        }),
        Some(VenueConfigError::ImpactCoef(-1.0))
    );
    assert_eq!(
        bad(VenueConfig {
            rate_limit: Some(RateLimit {
                capacity: 0,
                refill_per_second: 1
            }),
            ..config()
        }),
        Some(VenueConfigError::RateLimit)
    );
    assert_eq!(
        bad(VenueConfig {
            outages: vec![Outage { start: 5, end: 5 }],
            ..config()
        }),
        Some(VenueConfigError::Outage { start: 5, end: 5 })
    );
}

#[test]
fn a_reused_client_id_is_dropped() {
    let mut v = venue();
    run(&mut v, quote(0, "99", "1", "101", "1"));
    v.submit(limit(0, 1, Side::Buy, "100", "1"));
    v.submit(limit(0, 1, Side::Sell, "102", "1"));
    let out = run(&mut v, quote(20, "99", "1", "101", "1"));
    assert_eq!(brief(&out), [b(10, 1, Accepted, "0", "0", "1", 0)]);
    assert_eq!(out[0].side, Side::Buy);
    assert_eq!(v.open_orders(), 1);
}

#[test]
fn without_orders_ticks_only_move_the_book() {
    let mut v = venue();
    let mut out = Vec::new();
    for ts in 0..100 {
        v.on_tick(&quote(ts, "99", "1", "101", "1"), &mut out);
        v.on_tick(&trade(ts, "100", "1", Side::Buy), &mut out);
    }
    assert!(out.is_empty());
    assert_eq!(v.open_orders(), 0);
}
