//! L2 levels behind the touch: walking them, their updates and pruning, the curve past
//! the deepest one, and queue position at a level.

use bot4_schemas::{
    Liquidity, Nanos, Order, OrderKind, Side, SymbolId, Tick, TickKind, TimeInForce,
};

use super::market::warmed;
use super::{b, brief, d, limit, market, order, quote, run, trade, venue};
use bot4_schemas::ReportStatus::{Accepted, Cancelled, Filled, PartiallyFilled};

const SECOND: Nanos = 1_000_000_000;

fn depth(ts: Nanos, side: Side, price: &str, size: &str) -> Tick {
    Tick {
        ts,
        seq: 0,
        symbol: SymbolId(0),
        kind: TickKind::Depth {
            side,
            price: d(price),
            size: d(size),
        },
    }
}

fn ioc(o: Order) -> Order {
    Order {
        tif: TimeInForce::Ioc,
        ..o
    }
}

/// A venue with the quote 100 × 1 / 100.5 × 1 and the levels `(side, price, size)`.
fn with_levels(levels: &[(Side, &str, &str)]) -> super::super::SymbolVenue {
    let mut v = venue();
    run(&mut v, quote(0, "100", "1", "100.5", "1"));
    for &(side, price, size) in levels {
        assert!(run(&mut v, depth(1, side, price, size)).is_empty());
    }
    v
}

#[test]
fn market_orders_walk_the_levels_beyond_the_touch() {
    let mut v = with_levels(&[
        (Side::Sell, "101", "2"),
        (Side::Sell, "103", "5"),
        (Side::Sell, "102", "1"),
        (Side::Buy, "99", "2"),
        (Side::Buy, "99.5", "1"),
    ]);
    v.submit(market(0, 1, Side::Buy, "3.5"));
    v.submit(market(0, 2, Side::Sell, "2.5"));
    let out = run(&mut v, depth(20, Side::Buy, "90", "1"));
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "3.5", 0),
            b(10, 1, PartiallyFilled, "1", "100.5", "2.5", 1),
            b(10, 1, PartiallyFilled, "2", "101", "0.5", 2),
            b(10, 1, Filled, "0.5", "102", "0", 3),
            b(10, 2, Accepted, "0", "0", "2.5", 0),
            b(10, 2, PartiallyFilled, "1", "100", "1.5", 1),
            b(10, 2, PartiallyFilled, "1", "99.5", "0.5", 2),
            b(10, 2, Filled, "0.5", "99", "0", 3),
        ]
    );
    // 5 bp of 100.5 · 1, 101 · 2, 102 · 0.5; 100 · 1, 99.5 · 1, 99 · 0.5.
    let fees: Vec<_> = out
        .iter()
        .filter(|r| r.fill().is_some())
        .map(|r| r.fee)
        .collect();
    assert_eq!(
        fees,
        [
            d("0.05025"),
            d("0.101"),
            d("0.0255"),
            d("0.05"),
            d("0.04975"),
            d("0.02475")
        ]
    );
    assert!(out
        .iter()
        .filter(|r| r.fill().is_some())
        .all(|r| r.liquidity == Some(Liquidity::Taker)));
    assert_eq!(v.position(), d("1"));

    // A quote that does not reach the levels keeps them, with what our fills took of
    // them: 101 is used up, 102 has 0.5 left; the touch is new.
    run(&mut v, quote(25, "100", "1", "100.5", "1"));
    v.submit(market(25, 3, Side::Buy, "3"));
    let out = run(&mut v, depth(40, Side::Buy, "90", "1"));
    assert_eq!(
        brief(&out),
        [
            b(35, 3, Accepted, "0", "0", "3", 0),
            b(35, 3, PartiallyFilled, "1", "100.5", "2", 1),
            b(35, 3, PartiallyFilled, "0.5", "102", "1.5", 2),
            b(35, 3, Filled, "1.5", "103", "0", 3),
        ]
    );
    // 103 · 1.5 · 0.0005
    assert_eq!(out[3].fee, d("0.07725"));
}

#[test]
fn a_limit_order_walks_the_levels_up_to_its_price() {
    let mut v = with_levels(&[
        (Side::Sell, "101", "2"),
        (Side::Sell, "102", "1"),
        (Side::Buy, "99.5", "1"),
        (Side::Buy, "98.5", "4"),
    ]);
    v.submit(ioc(limit(0, 1, Side::Buy, "101.5", "5")));
    v.submit(limit(0, 2, Side::Sell, "99", "3"));
    let out = run(&mut v, depth(20, Side::Buy, "90", "1"));
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "5", 0),
            b(10, 1, PartiallyFilled, "1", "100.5", "4", 1),
            b(10, 1, PartiallyFilled, "2", "101", "2", 2),
            b(10, 1, Cancelled, "0", "0", "0", 3),
            b(10, 2, Accepted, "0", "0", "3", 0),
            b(10, 2, PartiallyFilled, "1", "100", "2", 1),
            b(10, 2, PartiallyFilled, "1", "99.5", "1", 2),
        ]
    );
    // The sell's rest waits at 99; 98.5 is beyond it.
    assert_eq!(v.open_orders(), 1);
}

#[test]
fn fill_or_kill_counts_the_levels() {
    let mut v = with_levels(&[(Side::Sell, "101", "2")]);
    v.submit(Order {
        tif: TimeInForce::Fok,
        ..market(0, 1, Side::Buy, "3.1")
    });
    v.submit(Order {
        tif: TimeInForce::Fok,
        ..market(0, 2, Side::Buy, "3")
    });
    let out = run(&mut v, depth(20, Side::Buy, "90", "1"));
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "3.1", 0),
            b(10, 1, Cancelled, "0", "0", "0", 1),
            b(10, 2, Accepted, "0", "0", "3", 0),
            b(10, 2, PartiallyFilled, "1", "100.5", "2", 1),
            b(10, 2, Filled, "2", "101", "0", 2),
        ]
    );
}

#[test]
fn a_zero_update_removes_a_level() {
    let mut v = with_levels(&[
        (Side::Sell, "101", "2"),
        (Side::Sell, "102", "1"),
        (Side::Sell, "101", "0"),
        // Removing a level that is not there changes nothing.
        (Side::Sell, "104", "0"),
    ]);
    v.submit(ioc(market(0, 1, Side::Buy, "3")));
    let out = run(&mut v, depth(20, Side::Buy, "90", "1"));
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "3", 0),
            b(10, 1, PartiallyFilled, "1", "100.5", "2", 1),
            b(10, 1, PartiallyFilled, "1", "102", "1", 2),
            b(10, 1, Cancelled, "0", "0", "0", 3),
        ]
    );
}

#[test]
fn a_quote_prunes_the_levels_at_or_through_its_touch() {
    let mut v = with_levels(&[
        (Side::Sell, "101", "2"),
        (Side::Sell, "101.5", "1"),
        (Side::Sell, "102", "1"),
        (Side::Buy, "99.5", "1"),
        (Side::Buy, "99", "1"),
    ]);
    // The ask moves up through 101 onto 101.5, the bid down onto 99.5.
    run(&mut v, quote(2, "99.5", "0.5", "101.5", "0.5"));
    v.submit(ioc(market(2, 1, Side::Buy, "2")));
    v.submit(ioc(market(2, 2, Side::Sell, "2")));
    let out = run(&mut v, depth(20, Side::Buy, "90", "1"));
    assert_eq!(
        brief(&out),
        [
            b(12, 1, Accepted, "0", "0", "2", 0),
            b(12, 1, PartiallyFilled, "0.5", "101.5", "1.5", 1),
            b(12, 1, PartiallyFilled, "1", "102", "0.5", 2),
            b(12, 1, Cancelled, "0", "0", "0", 3),
            b(12, 2, Accepted, "0", "0", "2", 0),
            b(12, 2, PartiallyFilled, "0.5", "99.5", "1.5", 1),
            b(12, 2, PartiallyFilled, "1", "99", "0.5", 2),
            b(12, 2, Cancelled, "0", "0", "0", 3),
        ]
    );
    // When the quote comes back, the pruned levels stay gone.
    let mut v = with_levels(&[
        (Side::Sell, "101", "2"),
        (Side::Sell, "101.5", "1"),
        (Side::Sell, "102", "1"),
        (Side::Buy, "99.5", "1"),
        (Side::Buy, "99", "1"),
    ]);
    run(&mut v, quote(2, "99.5", "0.5", "101.5", "0.5"));
    run(&mut v, quote(3, "100", "1", "100.5", "1"));
    v.submit(ioc(market(3, 1, Side::Buy, "2.5")));
    v.submit(ioc(market(3, 2, Side::Sell, "2.5")));
    let out = run(&mut v, depth(20, Side::Buy, "90", "1"));
    assert_eq!(
        brief(&out),
        [
            b(13, 1, Accepted, "0", "0", "2.5", 0),
            b(13, 1, PartiallyFilled, "1", "100.5", "1.5", 1),
            b(13, 1, PartiallyFilled, "1", "102", "0.5", 2),
            b(13, 1, Cancelled, "0", "0", "0", 3),
            b(13, 2, Accepted, "0", "0", "2.5", 0),
            b(13, 2, PartiallyFilled, "1", "100", "1.5", 1),
            b(13, 2, PartiallyFilled, "1", "99", "0.5", 2),
            b(13, 2, Cancelled, "0", "0", "0", 3),
        ]
    );
}

#[test]
fn an_update_resets_what_our_fills_took_of_a_level() {
    let mut v = with_levels(&[(Side::Sell, "101", "2")]);
    v.submit(market(0, 1, Side::Buy, "3"));
    // The order takes 1 at the touch and the 2 at 101; then 101 shows 1.5 again.
    let out = run(&mut v, depth(20, Side::Sell, "101", "1.5"));
    assert_eq!(out.len(), 3);
    v.submit(market(20, 2, Side::Buy, "2"));
    let out = run(&mut v, depth(40, Side::Buy, "90", "1"));
    // Nothing is left at the touch (no new quote); the update's 1.5 is all there.
    assert_eq!(
        brief(&out),
        [
            b(30, 2, Accepted, "0", "0", "2", 0),
            b(30, 2, PartiallyFilled, "1.5", "101", "0.5", 1),
        ]
    );
    assert_eq!(v.open_orders(), 1);
}

#[test]
fn depth_ticks_neither_trigger_nor_fill_market_remainders() {
    let stop = Order {
        trigger: d("99"),
        client_id: 1,
        ..order(0, 1, Side::Sell, OrderKind::Stop, "0", "1")
    };
    let mut v = venue();
    run(&mut v, quote(0, "100", "1", "100.5", "0.5"));
    v.submit(stop);
    v.submit(market(0, 2, Side::Buy, "1"));
    let out = run(&mut v, depth(20, Side::Buy, "98", "1"));
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "1", 0),
            b(10, 2, Accepted, "0", "0", "1", 0),
            b(10, 2, PartiallyFilled, "0.5", "100.5", "0.5", 1),
        ]
    );
    // A new ask level does not fill the market remainder; the next quote walks it.
    assert!(run(&mut v, depth(30, Side::Sell, "101", "1")).is_empty());
    let out = run(&mut v, quote(40, "100", "1", "100.5", "0"));
    assert_eq!(brief(&out), [b(40, 2, Filled, "0.5", "101", "0", 2)]);
    assert_eq!(v.open_orders(), 1);
}

#[test]
fn past_the_deepest_level_the_curve_prices_no_better_than_it() {
    let t = 3600 * SECOND;
    let mut v = warmed(3600);
    run(&mut v, depth(t + 1, Side::Sell, "120", "1"));
    run(&mut v, depth(t + 1, Side::Buy, "90", "1"));
    v.submit(market(t, 1, Side::Buy, "3"));
    v.submit(market(t, 2, Side::Sell, "3"));
    let out = run(&mut v, quote(t + 20, "99.5", "1", "100.5", "1"));
    // The curve with W = 1 (the level) and q = 1: 1.462394·√(2/86 400) = 0.0070360;
    // 100.5 · 1.0070360 = 101.207 -> 101.5, worse than nothing past 120: 120.
    // 99.5 · 0.9929640 = 98.800 -> 98.5, no better than 90: 90.
    assert_eq!(
        brief(&out),
        [
            b(t + 10, 1, Accepted, "0", "0", "3", 0),
            b(t + 10, 1, PartiallyFilled, "1", "100.5", "2", 1),
            b(t + 10, 1, PartiallyFilled, "1", "120", "1", 2),
            b(t + 10, 1, Filled, "1", "120", "0", 3),
            b(t + 10, 2, Accepted, "0", "0", "3", 0),
            b(t + 10, 2, PartiallyFilled, "1", "99.5", "2", 1),
            b(t + 10, 2, PartiallyFilled, "1", "90", "1", 2),
            b(t + 10, 2, Filled, "1", "90", "0", 3),
        ]
    );

    // The curve counts what the levels gave as walked: W + q = 10 + 854 = 864, as for
    // 864 on the curve alone: 100.5 · 1.1462394 = 115.197 -> 115.5.
    let mut v = warmed(3600);
    run(&mut v, depth(t + 1, Side::Sell, "101", "10"));
    v.submit(market(t, 1, Side::Buy, "865"));
    let out = run(&mut v, quote(t + 20, "99.5", "1", "100.5", "1"));
    assert_eq!(
        brief(&out),
        [
            b(t + 10, 1, Accepted, "0", "0", "865", 0),
            b(t + 10, 1, PartiallyFilled, "1", "100.5", "864", 1),
            b(t + 10, 1, PartiallyFilled, "10", "101", "854", 2),
            b(t + 10, 1, Filled, "854", "115.5", "0", 3),
        ]
    );
    // 854 · 115.5 · 0.0005
    assert_eq!(out[3].fee, d("49.3185"));

    // A limit: the curve reaches 106 at W + q = 120.998, so 110.9 past the level's 10.
    let mut v = warmed(3600);
    run(&mut v, depth(t + 1, Side::Sell, "101", "10"));
    v.submit(ioc(limit(t, 1, Side::Buy, "106", "200")));
    let out = run(&mut v, quote(t + 20, "99.5", "1", "100.5", "1"));
    assert_eq!(
        brief(&out),
        [
            b(t + 10, 1, Accepted, "0", "0", "200", 0),
            b(t + 10, 1, PartiallyFilled, "1", "100.5", "199", 1),
            b(t + 10, 1, PartiallyFilled, "10", "101", "189", 2),
            b(t + 10, 1, PartiallyFilled, "110.9", "106", "78.1", 3),
            b(t + 10, 1, Cancelled, "0", "0", "0", 4),
        ]
    );
}

#[test]
fn without_levels_on_its_side_an_order_walks_the_curve_as_before() {
    let t = 3600 * SECOND;
    let mut v = warmed(3600);
    run(&mut v, depth(t + 1, Side::Buy, "99", "5"));
    run(&mut v, depth(t + 2, Side::Buy, "98", "5"));
    // Depth ticks do not move the estimates.
    assert_eq!(v.daily_estimates(), warmed(3600).daily_estimates());
    v.submit(market(t, 1, Side::Buy, "865"));
    let out = run(&mut v, quote(t + 20, "99.5", "1", "100.5", "1"));
    assert_eq!(
        brief(&out),
        [
            b(t + 10, 1, Accepted, "0", "0", "865", 0),
            b(t + 10, 1, PartiallyFilled, "1", "100.5", "864", 1),
            b(t + 10, 1, Filled, "864", "115.5", "0", 2),
        ]
    );
}

#[test]
fn a_resting_order_at_a_level_waits_behind_its_size() {
    let mut v = venue();
    run(&mut v, quote(0, "100", "2", "100.5", "1"));
    run(&mut v, depth(0, Side::Buy, "99.5", "3"));
    // At the level: 3 ahead. At 98.5, no level: unknown. At the bid: 2 ahead.
    v.submit(limit(0, 1, Side::Buy, "99.5", "1"));
    v.submit(limit(0, 2, Side::Buy, "98.5", "1"));
    v.submit(limit(0, 3, Side::Buy, "100", "1"));
    // A depth tick at the touch's price leaves the touch's queue alone.
    let out = run(&mut v, depth(20, Side::Buy, "100", "0.5"));
    assert_eq!(out.len(), 3);
    assert!(run(&mut v, trade(30, "100", "1.5", Side::Sell)).is_empty());
    // Through 100 the third fills; at 99.5 the trade's other 1 goes to the 3 ahead.
    let out = run(&mut v, trade(40, "99.5", "2", Side::Sell));
    assert_eq!(brief(&out), [b(40, 3, Filled, "1", "100", "0", 1)]);
    // 2 are left ahead; the level grows to 4, which does not add to them.
    assert!(run(&mut v, depth(50, Side::Buy, "99.5", "4")).is_empty());
    let out = run(&mut v, trade(60, "99.5", "2.6", Side::Sell));
    assert_eq!(
        brief(&out),
        [b(60, 1, PartiallyFilled, "0.6", "99.5", "0.4", 1)]
    );
    assert_eq!(out[0].liquidity, Some(Liquidity::Maker));
    // A level appears at 98.5: 2 ahead of the second; it grows (still 2), then shrinks
    // to 1.5 (1.5 ahead).
    run(&mut v, depth(70, Side::Buy, "98.5", "2"));
    run(&mut v, depth(71, Side::Buy, "98.5", "5"));
    run(&mut v, depth(72, Side::Buy, "98.5", "1.5"));
    let out = run(&mut v, trade(80, "98.5", "2.5", Side::Sell));
    assert_eq!(
        brief(&out),
        [
            b(80, 1, Filled, "0.4", "99.5", "0", 2),
            b(80, 2, PartiallyFilled, "0.6", "98.5", "0.4", 1),
        ]
    );
}

#[test]
fn a_removed_level_leaves_nothing_ahead() {
    let mut v = with_levels(&[(Side::Sell, "101.5", "1")]);
    v.submit(limit(0, 1, Side::Sell, "101.5", "1"));
    run(&mut v, depth(20, Side::Buy, "90", "1"));
    assert!(run(&mut v, trade(30, "101.5", "0.5", Side::Buy)).is_empty());
    run(&mut v, depth(40, Side::Sell, "101.5", "0"));
    let out = run(&mut v, trade(50, "101.5", "0.3", Side::Buy));
    assert_eq!(
        brief(&out),
        [b(50, 1, PartiallyFilled, "0.3", "101.5", "0.7", 1)]
    );
}
