//! Latency, rate limits and outages.

use bot4_schemas::{Nanos, ReportReason, Side};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};

use super::super::{Latency, Outage, RandomOutages, RateLimit, SymbolVenue, VenueConfig};
use super::{b, brief, cancel, config, instrument, limit, quote, reasons, run, trade, ACK};
use bot4_schemas::ReportStatus::{Accepted, Cancelled, PartiallyFilled, Rejected};

const SECOND: Nanos = 1_000_000_000;

#[test]
fn messages_arrive_after_a_log_normal_latency_in_the_order_sent() {
    let config = VenueConfig::default();
    let mut v = SymbolVenue::new(instrument(), config.clone(), 42);
    // The documented draws: stream 1 of the seed, exp(ln(5 ms) + 0.5 Z), at least 1 ns.
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    rng.set_stream(1);
    let dist = LogNormal::new((5e6f64).ln(), 0.5).expect("valid");
    let mut previous = Nanos::MIN;
    let mut latencies = Vec::new();
    for i in 0..4000u64 {
        // Pairs of an order and its cancel 1 ns later; pairs 1 s apart.
        let ts = (i / 2) as Nanos * SECOND + (i % 2) as Nanos;
        let draw = (dist.sample(&mut rng).round() as Nanos).max(1);
        let expected = (ts + draw).max(previous);
        let o = if i % 2 == 0 {
            limit(ts, i / 2 + 1, Side::Buy, "100", "1")
        } else {
            cancel(ts, i / 2 + 1)
        };
        assert_eq!(v.submit(o), expected, "message {i}");
        assert!(expected > ts);
        previous = expected;
        if i % 2 == 0 {
            latencies.push(draw as f64);
        }
    }
    // The draws are log-normal with median 5 ms and sigma 0.5.
    latencies.sort_by(f64::total_cmp);
    let median = latencies[latencies.len() / 2];
    assert!((median / 5e6 - 1.0).abs() < 0.05, "median {median}");
    let logs: Vec<f64> = latencies.iter().map(|l| l.ln()).collect();
    let mean = logs.iter().sum::<f64>() / logs.len() as f64;
    let sd = (logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / logs.len() as f64).sqrt();
    assert!((sd - 0.5).abs() < 0.03, "sigma {sd}");
}

#[test]
fn a_cancel_never_overtakes_its_order() {
    // Wide latencies: an order sent at 0 may take far longer than its cancel at 1.
    let config = VenueConfig {
        entry_latency: Latency {
            median_ns: 10,
            sigma: 2.0,
        },
        ..config()
    };
    for seed in 0..50 {
        let mut v = SymbolVenue::new(instrument(), config.clone(), seed);
        run(&mut v, quote(0, "99", "1", "101", "1"));
        let placed = v.submit(limit(0, 1, Side::Buy, "100", "1"));
        let cancelled = v.submit(cancel(1, 1));
        assert!(cancelled >= placed);
        let out = run(&mut v, quote(cancelled + 1, "99", "1", "101", "1"));
        assert_eq!(
            brief(&out),
            [
                b(placed, 1, Accepted, "0", "0", "1", 0),
                b(cancelled, 1, Cancelled, "0", "0", "0", 1),
            ]
        );
    }
}

#[test]
fn reports_are_received_after_the_ack_latency() {
    let mut v = super::venue();
    run(&mut v, quote(0, "99", "1", "101", "1"));
    v.submit(limit(0, 1, Side::Buy, "100", "1"));
    let out = run(&mut v, quote(20, "99", "1", "101", "1"));
    assert_eq!((out[0].ts, out[0].received_ts), (10, 10 + ACK));

    // Log-normal acks: never before the event.
    let mut v = SymbolVenue::new(instrument(), VenueConfig::default(), 3);
    let mut out = Vec::new();
    v.on_tick(&quote(0, "99", "1", "101", "1"), &mut out);
    for i in 0..200u64 {
        let ts = i as Nanos * SECOND;
        v.submit(limit(ts, 1000 + i, Side::Buy, "100", "1"));
        v.on_tick(&trade(ts + SECOND / 2, "100", "0.5", Side::Sell), &mut out);
    }
    assert!(out.len() > 200);
    assert!(out.iter().all(|r| r.received_ts >= r.ts));
    assert!(out.iter().any(|r| r.received_ts - r.ts != 2_000_000));
}

#[test]
fn messages_beyond_the_rate_limit_get_429s() {
    let config = VenueConfig {
        rate_limit: Some(RateLimit {
            capacity: 2,
            refill_per_second: 1,
        }),
        ..config()
    };
    let mut v = SymbolVenue::new(instrument(), config, 1);
    run(&mut v, quote(0, "99", "1", "101", "1"));
    v.submit(limit(0, 1, Side::Buy, "100", "1"));
    v.submit(limit(0, 2, Side::Buy, "100", "1"));
    v.submit(limit(0, 3, Side::Buy, "100", "1"));
    v.submit(cancel(0, 1));
    let out = run(&mut v, quote(20, "99", "1", "101", "1"));
    // Two tokens: the third order is refused, and so is the cancel, which reports that
    // the order still works.
    assert_eq!(
        brief(&out),
        [
            b(10, 1, Accepted, "0", "0", "1", 0),
            b(10, 2, Accepted, "0", "0", "1", 0),
            b(10, 3, Rejected, "0", "0", "0", 0),
            b(10, 1, Accepted, "0", "0", "1", 1),
        ]
    );
    let limited = Some(ReportReason::RateLimited);
    assert_eq!(reasons(&out), [None, None, limited, limited]);
    assert_eq!(v.open_orders(), 2);
    // A second later one token is back: the first cancel passes, the next is refused.
    v.submit(cancel(SECOND, 1));
    v.submit(cancel(SECOND, 2));
    let out = run(&mut v, quote(SECOND + 20, "99", "1", "101", "1"));
    let at = SECOND + 10;
    assert_eq!(
        brief(&out),
        [
            b(at, 1, Cancelled, "0", "0", "0", 2),
            b(at, 2, Accepted, "0", "0", "1", 1),
        ]
    );
    assert_eq!(reasons(&out), [None, limited]);
}

#[test]
fn an_outage_refuses_messages_and_delays_reports_to_its_end() {
    let config = VenueConfig {
        outages: vec![Outage {
            start: 100,
            end: 200,
        }],
        ..config()
    };
    let mut v = SymbolVenue::new(instrument(), config, 1);
    run(&mut v, quote(0, "99.5", "1", "101", "1"));
    v.submit(limit(0, 1, Side::Buy, "100", "1"));
    run(&mut v, quote(20, "99.5", "1", "101", "1"));
    v.submit(limit(95, 2, Side::Buy, "100", "1"));
    v.submit(cancel(100, 1));
    // The resting order still trades during the outage; its fill is received at the end.
    let out = run(&mut v, trade(150, "100", "0.3", Side::Sell));
    assert_eq!(
        brief(&out),
        [
            b(105, 2, Rejected, "0", "0", "0", 0),
            b(110, 1, Accepted, "0", "0", "1", 1),
            b(150, 1, PartiallyFilled, "0.3", "100", "0.7", 2),
        ]
    );
    let down = Some(ReportReason::VenueUnavailable);
    assert_eq!(reasons(&out), [down, down, None]);
    assert!(out.iter().all(|r| r.received_ts == 200));
    // After it, as before.
    v.submit(cancel(195, 1));
    let out = run(&mut v, quote(300, "99.5", "1", "101", "1"));
    assert_eq!(brief(&out), [b(205, 1, Cancelled, "0", "0", "0", 3)]);
    assert_eq!(out[0].received_ts, 205 + ACK);
}

#[test]
fn random_outages_depend_only_on_their_seed() {
    let day: Nanos = 86_400 * SECOND;
    let config = VenueConfig {
        random_outages: Some(RandomOutages {
            per_day: 24.0,
            mean_duration_ns: 600 * SECOND,
            seed: 9,
        }),
        ..config()
    };
    // Two venues with different latency seeds probe the day every minute.
    let probe = |seed: u64| {
        let mut v = SymbolVenue::new(instrument(), config.clone(), seed);
        let mut out = Vec::new();
        v.on_tick(&quote(0, "99", "1", "101", "1"), &mut out);
        let start = 20_000 * day;
        for minute in 0..1440 {
            let ts = start + minute * 60 * SECOND;
            v.submit(limit(ts, minute as u64 + 1, Side::Buy, "100", "1"));
            v.on_tick(&trade(ts + 30 * SECOND, "102", "1", Side::Buy), &mut out);
        }
        out.iter()
            .map(|r| r.reason == Some(ReportReason::VenueUnavailable))
            .collect::<Vec<_>>()
    };
    let (a, b) = (probe(1), probe(2));
    assert_eq!(a, b);
    // About 24 outages of 10 minutes: a sixth of the day, give or take.
    let down = a.iter().filter(|&&x| x).count();
    assert!((60..600).contains(&down), "{down} minutes down");
}
