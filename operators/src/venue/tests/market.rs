//! The market model: square-root impact beyond the touch, queue position, fee tiers.

use bot4_schemas::{Liquidity, Nanos, Order, Side, TimeInForce};
use rust_decimal::Decimal;

use super::super::{FeeTier, SymbolVenue, VenueConfig};
use super::{b, brief, config, d, instrument, limit, market, quote, run, trade, venue};
use bot4_schemas::ReportStatus::{Accepted, Cancelled, Filled, PartiallyFilled};

const SECOND: Nanos = 1_000_000_000;
const DAY: Nanos = 86_400 * SECOND;

/// A venue with `Y = 0.5` that has seen `seconds + 1` quotes a second apart whose mid
/// alternates between 100 (99.5 / 100.5) and 101 (100.5 / 101.5), sizes 1, and a trade of
/// 1 at each quote but the first: `V = 86 400` a day, `σ_d = ln(1.01)·√86 400`.
pub(super) fn warmed(seconds: i64) -> SymbolVenue {
    let config = VenueConfig {
        impact_coef: Some(0.5),
        ..config()
    };
    let mut v = SymbolVenue::new(instrument(), config, 1);
    let mut out = Vec::new();
    for k in 0..=seconds {
        let ts = k * SECOND;
        let tick = if k % 2 == 0 {
            quote(ts, "99.5", "1", "100.5", "1")
        } else {
            quote(ts, "100.5", "1", "101.5", "1")
        };
        v.on_tick(&tick, &mut out);
        if k > 0 {
            v.on_tick(&trade(ts, "100.5", "1", Side::Buy), &mut out);
        }
    }
    assert!(out.is_empty());
    v
}

#[test]
fn the_estimates_are_the_event_time_rates() {
    let v = warmed(3600);
    let (volume, sigma) = v.daily_estimates().expect("warm after an hour");
    assert!((volume / 86_400.0 - 1.0).abs() < 1e-9, "V {volume}");
    let expected = 1.01f64.ln() * 86_400f64.sqrt();
    assert!((sigma / expected - 1.0).abs() < 1e-9, "sigma {sigma}");
    assert_eq!(warmed(3599).daily_estimates(), None);
}

#[test]
fn the_excess_over_the_touch_fills_at_the_square_root_impact() {
    let mut v = warmed(3600);
    let t = 3600 * SECOND;
    v.submit(market(t, 1, Side::Buy, "865"));
    v.submit(market(t, 2, Side::Sell, "865"));
    let out = run(&mut v, quote(t + 20, "99.5", "1", "100.5", "1"));
    // Y·σ_d·√(864/86 400) = 0.5 · 2.924788 · 0.1 = 0.1462394:
    // 100.5 · 1.1462394 = 115.197 -> 115.5 (up); 99.5 · 0.8537606 = 84.949 -> 84.5 (down).
    assert_eq!(
        brief(&out),
        [
            b(t + 10, 1, Accepted, "0", "0", "865", 0),
            b(t + 10, 1, PartiallyFilled, "1", "100.5", "864", 1),
            b(t + 10, 1, Filled, "864", "115.5", "0", 2),
            b(t + 10, 2, Accepted, "0", "0", "865", 0),
            b(t + 10, 2, PartiallyFilled, "1", "99.5", "864", 1),
            b(t + 10, 2, Filled, "864", "84.5", "0", 2),
        ]
    );
    // 864 · 115.5 · 0.0005
    assert_eq!(
        (out[2].liquidity, out[2].fee),
        (Some(Liquidity::Taker), d("49.896"))
    );
    // A limit order takes beyond the touch only as far as the curve stays within its
    // limit: 100.5 · (1 + 1.462394·√(q/86 400)) <= 106 up to q = 120.998, so 120.9 lots
    // at 105.998 -> 106.
    v.submit(Order {
        tif: TimeInForce::Ioc,
        ..limit(t + 20, 3, Side::Buy, "106", "200")
    });
    let out = run(&mut v, quote(t + 40, "99.5", "1", "100.5", "1"));
    assert_eq!(
        brief(&out),
        [
            b(t + 30, 3, Accepted, "0", "0", "200", 0),
            b(t + 30, 3, PartiallyFilled, "1", "100.5", "199", 1),
            b(t + 30, 3, PartiallyFilled, "120.9", "106", "78.1", 2),
            b(t + 30, 3, Cancelled, "0", "0", "0", 3),
        ]
    );
}

#[test]
fn before_the_estimates_are_warm_the_excess_waits_for_quotes() {
    let mut v = warmed(1800);
    let t = 1800 * SECOND;
    v.submit(market(t, 1, Side::Buy, "2"));
    let out = run(&mut v, quote(t + 20, "99.5", "1", "100.5", "1"));
    assert_eq!(
        brief(&out),
        [
            b(t + 10, 1, Accepted, "0", "0", "2", 0),
            b(t + 10, 1, PartiallyFilled, "1", "100.5", "1", 1),
            b(t + 20, 1, Filled, "1", "100.5", "0", 2),
        ]
    );
}

#[test]
fn a_resting_order_waits_behind_the_displayed_size() {
    let mut v = venue();
    run(&mut v, quote(0, "100", "2", "100.5", "1"));
    // At the bid: 2 ahead. Behind the bid: unknown until the bid comes down to it.
    v.submit(limit(0, 1, Side::Buy, "100", "1"));
    v.submit(limit(0, 2, Side::Buy, "99.5", "1"));
    assert_eq!(run(&mut v, quote(20, "100", "2", "100.5", "1")).len(), 2);
    // Trades at the price use up what is ahead first: 2 - 1.5 = 0.5 left ahead.
    assert!(run(&mut v, trade(30, "100", "1.5", Side::Sell)).is_empty());
    // The bid shrinks to 0.3: at most 0.3 is ahead.
    assert!(run(&mut v, quote(40, "100", "0.3", "100.5", "1")).is_empty());
    let out = run(&mut v, trade(50, "100", "0.5", Side::Sell));
    assert_eq!(
        brief(&out),
        [b(50, 1, PartiallyFilled, "0.2", "100", "0.8", 1)]
    );
    assert_eq!(out[0].liquidity, Some(Liquidity::Maker));
    // Through 100 it fills; at 99.5 the second order's queue is unknown: nothing.
    let out = run(&mut v, trade(60, "99.5", "0.5", Side::Sell));
    assert_eq!(
        brief(&out),
        [b(60, 1, PartiallyFilled, "0.5", "100", "0.3", 2)]
    );
    // The bid reaches 99.5 with 0.7: that is ahead of the second order. The ask at 100
    // crosses the first.
    let out = run(&mut v, quote(70, "99.5", "0.7", "100", "1"));
    assert_eq!(brief(&out), [b(70, 1, Filled, "0.3", "100", "0", 3)]);
    let out = run(&mut v, trade(80, "99.5", "1", Side::Sell));
    assert_eq!(
        brief(&out),
        [b(80, 2, PartiallyFilled, "0.3", "99.5", "0.7", 1)]
    );
}

#[test]
fn the_fee_tier_follows_the_30_day_volume() {
    let config = VenueConfig {
        fee_tiers: vec![
            FeeTier {
                min_volume: d("0"),
                maker: d("0.0002"),
                taker: d("0.0005"),
            },
            FeeTier {
                min_volume: d("1000"),
                maker: d("0.0001"),
                taker: d("0.0003"),
            },
        ],
        ..config()
    };
    let mut v = SymbolVenue::new(instrument(), config.clone(), 1);
    run(&mut v, quote(0, "100", "100", "100.5", "100"));
    v.submit(market(0, 1, Side::Buy, "9"));
    v.submit(market(0, 2, Side::Buy, "1"));
    v.submit(market(0, 3, Side::Buy, "1"));
    let out = run(&mut v, quote(20, "100", "100", "100.5", "100"));
    let fees: Vec<Decimal> = out
        .iter()
        .filter(|r| r.fill().is_some())
        .map(|r| r.fee)
        .collect();
    // 904.5 · 5 bp; 100.5 · 5 bp (904.5 before it); 100.5 · 3 bp (1 005 before it).
    assert_eq!(fees, [d("0.45225"), d("0.05025"), d("0.03015")]);
    assert_eq!(v.volume_30d(20), d("1105.5"));
    // The days roll: on day 29 the volume still counts, on day 30 it is gone.
    assert_eq!(v.volume_30d(29 * DAY + 1), d("1105.5"));
    assert_eq!(v.volume_30d(30 * DAY), Decimal::ZERO);
    v.submit(market(30 * DAY, 4, Side::Buy, "1"));
    let out = run(&mut v, quote(30 * DAY + 20, "100", "100", "100.5", "100"));
    assert_eq!(out[1].fee, d("0.05025"));

    // The rest of the account's volume counts too.
    let mut v = SymbolVenue::new(instrument(), config, 1);
    v.set_other_volume(d("1000"));
    run(&mut v, quote(0, "100", "100", "100.5", "100"));
    v.submit(market(0, 1, Side::Buy, "1"));
    let out = run(&mut v, quote(20, "100", "100", "100.5", "100"));
    assert_eq!(out[1].fee, d("0.03015"));
}

#[test]
fn matching_ticks_allocates_nothing() {
    let mut v = venue();
    run(&mut v, quote(0, "99.5", "1", "100.5", "1"));
    for i in 0..10u64 {
        let (below, above) = ((99 - i).to_string(), (101 + i).to_string());
        v.submit(limit(0, 2 * i + 1, Side::Buy, &below, "1000"));
        v.submit(limit(0, 2 * i + 2, Side::Sell, &above, "1000"));
    }
    run(&mut v, quote(20, "99.5", "1", "100.5", "1"));
    assert_eq!(v.open_orders(), 20);
    let mut out = Vec::with_capacity(100_000);
    let info = allocation_counter::measure(|| {
        for k in 0..10_000 {
            let ts = 100 + 2 * k;
            v.on_tick(&quote(ts, "99.5", "1", "100.5", "1"), &mut out);
            v.on_tick(&trade(ts + 1, "98.5", "0.1", Side::Sell), &mut out);
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
    // Each trade through 99 filled the buy there.
    assert_eq!(out.len(), 10_000);
}
