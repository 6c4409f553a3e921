//! Order kinds, time in force, reduce-only and OCO.

use bot4_schemas::{Liquidity, Order, OrderKind, ReportReason, Side, TimeInForce};
use rust_decimal::Decimal;

use super::{b, brief, d, limit, market, order, quote, reasons, run, trade, venue};
use bot4_schemas::ReportStatus::{
    Accepted, Cancelled, Filled, PartiallyFilled, Rejected, Triggered,
};

fn triggered(ts: i64, id: u64, side: Side, kind: OrderKind, trigger: &str, qty: &str) -> Order {
    Order {
        trigger: d(trigger),
        ..order(ts, id, side, kind, "0", qty)
    }
}

fn with_tif(tif: TimeInForce, o: Order) -> Order {
    Order { tif, ..o }
}

#[test]
fn a_sell_stop_triggers_on_the_bid_and_executes_as_a_market_order() {
    let mut v = venue();
    run(&mut v, quote(0, "100", "1", "100.5", "1"));
    v.submit(triggered(0, 1, Side::Sell, OrderKind::Stop, "99", "1"));
    let out = run(&mut v, quote(20, "99.5", "1", "100", "1"));
    assert_eq!(brief(&out), [b(10, 1, Accepted, "0", "0", "1", 0)]);
    // Neither a bid nor a trade above the trigger triggers it.
    assert!(run(&mut v, trade(30, "99.5", "1", Side::Sell)).is_empty());
    let out = run(&mut v, quote(40, "99", "0.4", "99.5", "1"));
    assert_eq!(
        brief(&out),
        [
            b(40, 1, Triggered, "0", "0", "1", 1),
            b(40, 1, PartiallyFilled, "0.4", "99", "0.6", 2),
        ]
    );
    // 99 * 0.4 * 0.0005
    assert_eq!(
        (out[1].liquidity, out[1].fee),
        (Some(Liquidity::Taker), d("0.0198"))
    );
    // The remainder fills on the next quote, like a market order's.
    let out = run(&mut v, quote(50, "98.5", "1", "99", "1"));
    assert_eq!(brief(&out), [b(50, 1, Filled, "0.6", "98.5", "0", 3)]);
    assert_eq!(v.position(), d("-1"));
}

#[test]
fn a_buy_stop_triggers_on_a_trade_at_its_trigger() {
    let mut v = venue();
    run(&mut v, quote(0, "100", "1", "100.5", "1"));
    v.submit(triggered(0, 1, Side::Buy, OrderKind::Stop, "101", "0.5"));
    run(&mut v, trade(20, "100.5", "1", Side::Buy));
    let out = run(&mut v, trade(30, "101", "0.1", Side::Sell));
    // It takes the last quote's ask.
    assert_eq!(
        brief(&out),
        [
            b(30, 1, Triggered, "0", "0", "0.5", 1),
            b(30, 1, Filled, "0.5", "100.5", "0", 2),
        ]
    );
}

#[test]
fn take_profits_trigger_when_the_market_moves_their_way() {
    let mut v = venue();
    run(&mut v, quote(0, "100", "1", "100.5", "1"));
    v.submit(triggered(
        0,
        1,
        Side::Sell,
        OrderKind::TakeProfit,
        "101",
        "1",
    ));
    v.submit(triggered(
        0,
        2,
        Side::Buy,
        OrderKind::TakeProfit,
        "99.5",
        "1",
    ));
    // A sell take-profit whose trigger the bid already reaches triggers on arrival.
    v.submit(triggered(
        0,
        3,
        Side::Sell,
        OrderKind::TakeProfit,
        "99.5",
        "0.5",
    ));
    let out = run(&mut v, trade(20, "100.5", "1", Side::Buy));
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "1", 0),
            b(10, 2, Accepted, "0", "0", "1", 0),
            b(10, 3, Accepted, "0", "0", "0.5", 0),
            b(10, 3, Triggered, "0", "0", "0.5", 1),
            b(10, 3, Filled, "0.5", "100", "0", 2),
        ]
    );
    let out = run(&mut v, quote(30, "101", "2", "101.5", "1"));
    assert_eq!(
        brief(&out),
        [
            b(30, 1, Triggered, "0", "0", "1", 1),
            b(30, 1, Filled, "1", "101", "0", 2),
        ]
    );
    let out = run(&mut v, quote(40, "99", "1", "99.5", "0.5"));
    assert_eq!(
        brief(&out),
        [
            b(40, 2, Triggered, "0", "0", "1", 1),
            b(40, 2, PartiallyFilled, "0.5", "99.5", "0.5", 2),
        ]
    );
}

#[test]
fn untriggered_orders_use_no_liquidity() {
    let mut v = venue();
    run(&mut v, quote(0, "100", "1", "100.5", "1"));
    v.submit(triggered(0, 1, Side::Buy, OrderKind::Stop, "102", "1"));
    v.submit(market(0, 2, Side::Buy, "1"));
    let out = run(&mut v, quote(20, "100", "1", "100.5", "1"));
    assert_eq!(brief(&out)[2..], [b(10, 2, Filled, "1", "100.5", "0", 1)]);
}

#[test]
fn ioc_cancels_what_does_not_fill_on_arrival() {
    let mut v = venue();
    run(&mut v, quote(0, "100", "1", "100.5", "0.3"));
    v.submit(with_tif(
        TimeInForce::Ioc,
        limit(0, 1, Side::Buy, "101", "1"),
    ));
    v.submit(with_tif(
        TimeInForce::Ioc,
        limit(0, 2, Side::Buy, "100", "1"),
    ));
    v.submit(with_tif(TimeInForce::Ioc, market(0, 3, Side::Sell, "0.5")));
    let out = run(&mut v, quote(20, "100", "1", "100.5", "1"));
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "1", 0),
            b(10, 1, PartiallyFilled, "0.3", "100.5", "0.7", 1),
            b(10, 1, Cancelled, "0", "0", "0", 2),
            b(10, 2, Accepted, "0", "0", "1", 0),
            b(10, 2, Cancelled, "0", "0", "0", 1),
            b(10, 3, Accepted, "0", "0", "0.5", 0),
            b(10, 3, Filled, "0.5", "100", "0", 1),
        ]
    );
    let ioc = Some(ReportReason::ImmediateOrCancel);
    assert_eq!((out[2].reason, out[4].reason), (ioc, ioc));
    assert_eq!(v.open_orders(), 0);
}

#[test]
fn fok_fills_whole_or_not_at_all() {
    let mut v = venue();
    run(&mut v, quote(0, "100", "1", "100.5", "0.3"));
    v.submit(with_tif(
        TimeInForce::Fok,
        limit(0, 1, Side::Buy, "101", "0.5"),
    ));
    v.submit(with_tif(
        TimeInForce::Fok,
        limit(0, 2, Side::Buy, "101", "0.3"),
    ));
    let out = run(&mut v, quote(20, "100", "1", "100.5", "1"));
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "0.5", 0),
            b(10, 1, Cancelled, "0", "0", "0", 1),
            b(10, 2, Accepted, "0", "0", "0.3", 0),
            b(10, 2, Filled, "0.3", "100.5", "0", 1),
        ]
    );
    assert_eq!(out[1].reason, Some(ReportReason::FillOrKill));
}

#[test]
fn post_only_orders_rest_or_are_rejected_and_fill_as_maker() {
    let mut v = venue();
    run(&mut v, quote(0, "99.5", "1", "102", "1"));
    let post = |id, side, price: &str, qty: &str| {
        with_tif(TimeInForce::PostOnly, limit(0, id, side, price, qty))
    };
    v.submit(post(1, Side::Buy, "102", "1")); // crosses the ask
    v.submit(post(2, Side::Buy, "100", "1"));
    v.submit(with_tif(
        TimeInForce::PostOnly,
        market(0, 3, Side::Buy, "1"),
    ));
    v.submit(limit(0, 4, Side::Sell, "101", "1"));
    v.submit(post(5, Side::Buy, "101", "1")); // would take our own sell
    let out = run(&mut v, quote(20, "99.5", "1", "102", "1"));
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Rejected, "0", "0", "0", 0),
            b(10, 2, Accepted, "0", "0", "1", 0),
            b(10, 3, Rejected, "0", "0", "0", 0),
            b(10, 4, Accepted, "0", "0", "1", 0),
            b(10, 5, Rejected, "0", "0", "0", 0),
        ]
    );
    assert_eq!(
        reasons(&out),
        [
            Some(ReportReason::PostOnly),
            None,
            Some(ReportReason::ExchangeFilter),
            None,
            Some(ReportReason::PostOnly),
        ]
    );
    let out = run(&mut v, quote(30, "99.5", "1", "100", "0.4"));
    assert_eq!(
        brief(&out),
        [b(30, 2, PartiallyFilled, "0.4", "100", "0.6", 1)]
    );
    assert_eq!(out[0].liquidity, Some(Liquidity::Maker));
}

#[test]
fn reduce_only_orders_are_capped_and_cancelled_when_flat() {
    let mut v = venue();
    run(&mut v, quote(0, "100", "5", "100.5", "5"));
    let reduce = |o: Order| Order {
        reduce_only: true,
        ..o
    };
    v.submit(market(0, 1, Side::Buy, "1"));
    v.submit(reduce(limit(0, 2, Side::Sell, "101", "3")));
    v.submit(reduce(market(0, 3, Side::Buy, "1")));
    v.submit(market(0, 4, Side::Sell, "0.4"));
    v.submit(reduce(triggered(
        0,
        5,
        Side::Sell,
        OrderKind::Stop,
        "90",
        "0.5",
    )));
    let out = run(&mut v, quote(20, "100", "5", "100.5", "5"));
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "1", 0),
            b(10, 1, Filled, "1", "100.5", "0", 1),
            // Capped at the position of 1.
            b(10, 2, Accepted, "0", "0", "1", 0),
            // A buy cannot reduce a long position.
            b(10, 3, Rejected, "0", "0", "0", 0),
            b(10, 4, Accepted, "0", "0", "0.4", 0),
            b(10, 4, Filled, "0.4", "100", "0", 1),
            b(10, 5, Accepted, "0", "0", "0.5", 0),
        ]
    );
    assert_eq!(out[3].reason, Some(ReportReason::ReduceOnly));
    assert_eq!(v.position(), d("0.6"));
    // The trade could fill 1, but only 0.6 is left to reduce; then the position is flat
    // and every reduce-only order is cancelled.
    let out = run(&mut v, trade(30, "101.5", "2", Side::Buy));
    assert_eq!(
        brief(&out),
        [
            b(30, 2, PartiallyFilled, "0.6", "101", "0.4", 1),
            b(30, 2, Cancelled, "0", "0", "0", 2),
            b(30, 5, Cancelled, "0", "0", "0", 1),
        ]
    );
    assert_eq!(
        reasons(&out)[1..],
        [
            Some(ReportReason::ReduceOnly),
            Some(ReportReason::ReduceOnly)
        ]
    );
    assert_eq!((v.position(), v.open_orders()), (Decimal::ZERO, 0));
}

#[test]
fn oco_legs_cancel_each_other() {
    let mut v = venue();
    run(&mut v, quote(0, "100", "5", "100.5", "5"));
    v.submit(market(0, 1, Side::Buy, "1"));
    v.submit(Order {
        oco: 3,
        ..triggered(0, 2, Side::Sell, OrderKind::Stop, "99", "1")
    });
    v.submit(Order {
        oco: 2,
        ..triggered(0, 3, Side::Sell, OrderKind::TakeProfit, "101", "1")
    });
    assert_eq!(run(&mut v, quote(20, "100", "5", "100.5", "5")).len(), 4);
    let out = run(&mut v, trade(30, "101", "0.1", Side::Buy));
    assert_eq!(
        brief(&out),
        [
            b(30, 3, Triggered, "0", "0", "1", 1),
            b(30, 2, Cancelled, "0", "0", "0", 1),
            b(30, 3, Filled, "1", "100", "0", 2),
        ]
    );
    assert_eq!(out[1].reason, Some(ReportReason::Oco));
    // A leg that fills before its partner reaches the venue: the partner is rejected.
    v.submit(Order {
        oco: 5,
        ..market(40, 4, Side::Buy, "1")
    });
    v.submit(Order {
        oco: 4,
        ..triggered(41, 5, Side::Sell, OrderKind::Stop, "99", "1")
    });
    let out = run(&mut v, quote(60, "100", "5", "100.5", "5"));
    assert_eq!(
        brief(&out),
        [
            b(50, 4, Accepted, "0", "0", "1", 0),
            b(50, 4, Filled, "1", "100.5", "0", 1),
            b(51, 5, Rejected, "0", "0", "0", 0),
        ]
    );
    assert_eq!(out[2].reason, Some(ReportReason::Oco));
}
