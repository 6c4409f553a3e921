//! Self-trade prevention, each policy: our resting sell at 100.5 inside a 99.5 / 101
//! quote, then a buy that reaches it.

use bot4_schemas::{ExecutionReport, ReportReason, Side};

use super::super::{SelfTradePrevention, SymbolVenue, VenueConfig};
use super::{b, brief, config, instrument, limit, market, quote, reasons, run};
use bot4_schemas::ReportStatus::{Accepted, Cancelled, Filled};

const STP: Option<ReportReason> = Some(ReportReason::SelfTrade);

/// A venue with `policy`, our sell of 1 resting at 100.5 and a buy of 0.4 at 100.5.
fn crossed(policy: SelfTradePrevention) -> (SymbolVenue, Vec<ExecutionReport>) {
    let config = VenueConfig {
        self_trade: policy,
        ..config()
    };
    let mut v = SymbolVenue::new(instrument(), config, 1);
    run(&mut v, quote(0, "99.5", "1", "101", "1"));
    v.submit(limit(0, 1, Side::Sell, "100.5", "1"));
    v.submit(limit(0, 2, Side::Buy, "100.5", "0.4"));
    let out = run(&mut v, quote(20, "99.5", "1", "101", "1"));
    (v, out)
}

#[test]
fn cancel_new_cancels_the_incoming_order() {
    let (v, out) = crossed(SelfTradePrevention::CancelNew);
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "1", 0),
            b(10, 2, Accepted, "0", "0", "0.4", 0),
            b(10, 2, Cancelled, "0", "0", "0", 1),
        ]
    );
    assert_eq!(reasons(&out), [None, None, STP]);
    assert_eq!(v.open_orders(), 1);
}

#[test]
fn cancel_resting_cancels_ours_and_lets_the_new_one_rest() {
    let (v, out) = crossed(SelfTradePrevention::CancelResting);
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "1", 0),
            b(10, 2, Accepted, "0", "0", "0.4", 0),
            b(10, 1, Cancelled, "0", "0", "0", 1),
        ]
    );
    assert_eq!(reasons(&out), [None, None, STP]);
    assert_eq!(v.open_orders(), 1);
}

#[test]
fn decrement_both_reduces_both_without_a_fill() {
    let (mut v, out) = crossed(SelfTradePrevention::DecrementBoth);
    // The resting sell keeps 0.6 (a report in its status, with the reason); the buy
    // reaches zero and is cancelled.
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "1", 0),
            b(10, 2, Accepted, "0", "0", "0.4", 0),
            b(10, 1, Accepted, "0", "0", "0.6", 1),
            b(10, 2, Cancelled, "0", "0", "0", 1),
        ]
    );
    assert_eq!(reasons(&out), [None, None, STP, STP]);
    assert!(out.iter().all(|r| r.fee.is_zero() && r.liquidity.is_none()));
    // A market buy of 1: our sell at 100.5 is inside the ask of 101, so both lose 0.6;
    // the rest of the buy takes the ask.
    v.submit(market(20, 3, Side::Buy, "1"));
    let out = run(&mut v, quote(40, "99.5", "1", "101", "1"));
    assert_eq!(
        brief(&out),
        [
            b(30, 3, Accepted, "0", "0", "1", 0),
            b(30, 1, Cancelled, "0", "0", "0", 2),
            b(30, 3, Accepted, "0", "0", "0.4", 1),
            b(30, 3, Filled, "0.4", "101", "0", 2),
        ]
    );
    assert_eq!(reasons(&out), [None, STP, STP, None]);
    assert_eq!(v.position(), super::d("0.4"));
}

#[test]
fn orders_that_do_not_reach_ours_are_left_alone() {
    let config = config();
    let mut v = SymbolVenue::new(instrument(), config, 1);
    run(&mut v, quote(0, "99.5", "1", "101", "1"));
    v.submit(limit(0, 1, Side::Sell, "101.5", "1"));
    // Below our sell, and a market buy while our sell rests behind the ask.
    v.submit(limit(0, 2, Side::Buy, "100", "1"));
    v.submit(market(0, 3, Side::Buy, "0.5"));
    let out = run(&mut v, quote(20, "99.5", "1", "101", "1"));
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "1", 0),
            b(10, 2, Accepted, "0", "0", "1", 0),
            b(10, 3, Accepted, "0", "0", "0.5", 0),
            b(10, 3, Filled, "0.5", "101", "0", 1),
        ]
    );
}
