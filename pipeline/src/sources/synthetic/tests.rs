//! Tests of the synthetic market: determinism, tick invariants, config errors, and each
//! stylised fact measured on generated data.

use std::sync::OnceLock;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::*;
use bot4_schemas::Side;

const MINUTE: Nanos = 60 * NANOS_PER_SECOND;
const HOUR: Nanos = 60 * MINUTE;

fn config(symbols: usize, duration: Nanos, seed: u64) -> SyntheticConfig {
    SyntheticConfig {
        symbols,
        duration,
        seed,
        ..SyntheticConfig::default()
    }
}

fn generate(config: SyntheticConfig) -> (SymbolRegistry, Vec<Tick>) {
    let market = SyntheticMarket::new(config).expect("valid config");
    let registry = market.registry().clone();
    (registry, market.collect())
}

fn f64_of(d: Decimal) -> f64 {
    d.to_f64().expect("decimal fits f64")
}

#[test]
fn same_seed_same_ticks_different_seed_different_ticks() {
    let (_, a) = generate(config(3, 10 * MINUTE, 42));
    let (_, b) = generate(config(3, 10 * MINUTE, 42));
    let (_, c) = generate(config(3, 10 * MINUTE, 43));
    assert!(a.len() > 1_000);
    assert_eq!(a, b);
    assert_ne!(a[..100], c[..100]);
}

#[test]
fn a_symbol_does_not_depend_on_how_many_others_there_are() {
    let btc_of = |symbols| {
        let (registry, ticks) = generate(config(symbols, 5 * MINUTE, 9));
        let id = registry
            .id("BTC-USDT")
            .expect("BTC is first in the universe");
        ticks
            .into_iter()
            .filter(|t| t.symbol == id)
            .map(|t| (t.ts, t.kind))
            .collect::<Vec<_>>()
    };
    assert_eq!(btc_of(2), btc_of(12));
}

#[test]
fn fill_in_any_chunks_matches_the_iterator() {
    let cfg = config(5, 7 * MINUTE, 3);
    let (_, expected) = generate(cfg);
    for chunk in [1, 7, 1_000, usize::MAX] {
        let mut market = SyntheticMarket::new(cfg).expect("valid config");
        let mut out = Vec::new();
        loop {
            let before = out.len();
            let n = market.fill(&mut out, chunk);
            assert_eq!(out.len(), before + n);
            assert!(n <= chunk);
            if n == 0 {
                break;
            }
        }
        assert_eq!(out, expected, "chunk {chunk}");
        assert_eq!(market.fill(&mut out, 10), 0);
        assert!(market.next().is_none());
        // Memory is one step's worth: at most a quote and a trade per symbol.
        assert!(market.pending.capacity() <= (2 * cfg.symbols).next_power_of_two());
    }
}

#[test]
fn names_prices_and_filters_are_realistic() {
    let (registry, ticks) = generate(config(32, MINUTE, 1));
    let names: Vec<&str> = registry.iter().map(|(_, i)| i.symbol.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "ids follow symbol order");
    for name in [
        "BTC-USDT",
        "ETH-USDT",
        "SOL-USDT",
        "SYN031-USDT",
        "SYN032-USDT",
    ] {
        assert!(registry.id(name).is_some(), "{name} missing");
    }
    assert!(registry.id("SYN030-USDT").is_none());

    let mut first_mid = vec![None; registry.len()];
    for t in &ticks {
        if let TickKind::Quote { .. } = t.kind {
            first_mid[t.symbol.0 as usize]
                .get_or_insert(f64_of(t.reference_price().expect("no depth")));
        }
    }
    for (id, inst) in registry.iter() {
        let mid = first_mid[id.0 as usize].expect("every symbol quotes in its first step");
        let tick = f64_of(inst.tick_size) / mid;
        let lot_value = f64_of(inst.lot_size) * mid;
        assert!(
            (1e-6..=1.1e-5).contains(&tick),
            "{}: tick/price {tick}",
            inst.symbol
        );
        assert!(
            (0.9..11.0).contains(&lot_value),
            "{}: lot worth {lot_value}",
            inst.symbol
        );
        assert_eq!(inst.min_notional, Decimal::from(5));
    }
    let btc = registry.id("BTC-USDT").expect("listed");
    let eth = registry.id("ETH-USDT").expect("listed");
    assert!((40_000.0..90_000.0).contains(&first_mid[btc.0 as usize].expect("quoted")));
    assert!((2_000.0..4_500.0).contains(&first_mid[eth.0 as usize].expect("quoted")));
    assert!(first_mid.iter().flatten().any(|&p| p < 1.0));
}

#[test]
fn ticks_are_ordered_on_the_grids_and_trades_print_at_the_touch() {
    let cfg = SyntheticConfig {
        symbols: 40,
        duration: 20 * MINUTE,
        seed: 5,
        events_per_second: 3.7,
        start_ts: 1_000_000_007,
        ..SyntheticConfig::default()
    };
    let (registry, ticks) = generate(cfg);
    let end = cfg.start_ts + cfg.duration;
    let mut book: Vec<Option<(Decimal, Decimal, Decimal, Decimal)>> = vec![None; registry.len()];
    let (mut trades, mut buys) = (0_usize, 0_usize);
    for (n, t) in ticks.iter().enumerate() {
        assert_eq!(t.seq, n as u64);
        assert!((cfg.start_ts..end).contains(&t.ts));
        if n > 0 {
            assert!(ticks[n - 1].ts <= t.ts, "out of order at {n}");
        }
        let inst = registry.get(t.symbol);
        let notional_ok = |price: Decimal, size: Decimal| price * size >= inst.min_notional;
        match t.kind {
            TickKind::Quote {
                bid,
                bid_size,
                ask,
                ask_size,
            } => {
                assert!(bid > Decimal::ZERO && bid < ask, "{t:?}");
                assert!(inst.on_tick(bid) && inst.on_tick(ask), "{t:?}");
                assert!(inst.on_lot(bid_size) && inst.on_lot(ask_size), "{t:?}");
                assert!(
                    notional_ok(bid, bid_size) && notional_ok(ask, ask_size),
                    "{t:?}"
                );
                book[t.symbol.0 as usize] = Some((bid, bid_size, ask, ask_size));
            }
            TickKind::Trade {
                price,
                size,
                aggressor,
            } => {
                let (bid, bid_size, ask, ask_size) =
                    book[t.symbol.0 as usize].expect("a trade comes after a quote");
                let (touch, shown) = match aggressor {
                    Side::Buy => (ask, ask_size),
                    Side::Sell => (bid, bid_size),
                };
                assert_eq!(price, touch, "{t:?}");
                assert!(size > Decimal::ZERO && size <= shown, "{t:?}");
                assert!(inst.on_lot(size) && notional_ok(price, size), "{t:?}");
                trades += 1;
                buys += usize::from(aggressor == Side::Buy);
            }
            TickKind::Depth { .. } => unreachable!("no depth without depth levels"),
        }
    }
    let per_symbol_step = ticks.len() as f64 / (40.0 * 20.0 * 60.0 * 3.7);
    assert!(
        (0.8..1.2).contains(&per_symbol_step),
        "{per_symbol_step} ticks per step"
    );
    let buy_share = buys as f64 / trades as f64;
    assert!((0.4..0.6).contains(&buy_share), "buy share {buy_share}");
}

#[test]
fn the_last_step_is_cut_at_the_end() {
    let cfg = SyntheticConfig {
        symbols: 2,
        start_ts: -5,
        duration: 1_700_000_001,
        seed: 1,
        events_per_second: 2.0,
        ..SyntheticConfig::default()
    };
    let (_, ticks) = generate(cfg);
    let end = cfg.start_ts + cfg.duration;
    assert!(ticks.iter().all(|t| (cfg.start_ts..end).contains(&t.ts)));
    // Steps start every 0.5 s; the fourth is cut to 0.2 s and still emits.
    assert!(ticks.iter().any(|t| t.ts >= cfg.start_ts + 1_500_000_000));
}

/// `config` with `levels` levels of depth every `interval`.
fn with_depth(config: SyntheticConfig, levels: usize, interval: Nanos) -> SyntheticConfig {
    SyntheticConfig {
        depth_levels: levels,
        depth_interval: interval,
        ..config
    }
}

#[test]
fn depth_leaves_quotes_and_trades_unchanged() {
    let (_, plain) = generate(config(3, 20 * MINUTE, 5));
    let (_, deep) = generate(with_depth(
        config(3, 20 * MINUTE, 5),
        4,
        30 * NANOS_PER_SECOND,
    ));
    assert!(plain
        .iter()
        .all(|t| !matches!(t.kind, TickKind::Depth { .. })));
    let strip = |ticks: &[Tick]| -> Vec<(Nanos, SymbolId, TickKind)> {
        ticks
            .iter()
            .filter(|t| !matches!(t.kind, TickKind::Depth { .. }))
            .map(|t| (t.ts, t.symbol, t.kind))
            .collect()
    };
    assert!(deep.len() > plain.len());
    assert_eq!(strip(&plain), strip(&deep));
    // `seq` still numbers the stream from 0 in `(ts, seq)` order.
    assert!(deep.iter().enumerate().all(|(i, t)| t.seq == i as u64));
    assert!(deep.windows(2).all(|w| w[0].key() < w[1].key()));
}

#[test]
fn depth_snapshots_sit_behind_the_touch_on_the_grids() {
    let levels = 3;
    let interval = 30 * NANOS_PER_SECOND;
    let duration = 30 * MINUTE;
    let (registry, ticks) = generate(with_depth(config(4, duration, 9), levels, interval));
    let mut quote: std::collections::BTreeMap<SymbolId, (Nanos, Decimal, Decimal)> =
        Default::default();
    // Per symbol: the snapshot times, and the levels standing after each update.
    let mut snapshots: std::collections::BTreeMap<SymbolId, Vec<Nanos>> = Default::default();
    let mut book: std::collections::BTreeMap<(SymbolId, bool, Decimal), Decimal> =
        Default::default();
    for t in &ticks {
        match t.kind {
            TickKind::Quote { bid, ask, .. } => {
                quote.insert(t.symbol, (t.ts, bid, ask));
            }
            TickKind::Depth { side, price, size } => {
                let instrument = registry.get(t.symbol);
                let &(ts, bid, ask) = quote.get(&t.symbol).expect("depth follows a quote");
                // Published with (and at the time of) a quote.
                assert_eq!(ts, t.ts);
                let times = snapshots.entry(t.symbol).or_default();
                if times.last() != Some(&t.ts) {
                    times.push(t.ts);
                }
                assert!(instrument.on_tick(price), "price on the tick grid");
                assert!(
                    instrument.on_lot(size) || size.is_zero(),
                    "size on the lot grid"
                );
                assert!(size >= Decimal::ZERO);
                let key = (t.symbol, side == Side::Buy, price);
                if size.is_zero() {
                    assert!(
                        book.remove(&key).is_some(),
                        "a removal names a standing level"
                    );
                } else {
                    // A new level lies strictly behind the touch.
                    match side {
                        Side::Buy => assert!(price < bid),
                        Side::Sell => assert!(price > ask),
                    }
                    assert!(size * price >= instrument.min_notional);
                    book.insert(key, size);
                }
            }
            TickKind::Trade { .. } => {}
        }
    }
    for (symbol, _) in registry.iter() {
        let times = &snapshots[&symbol];
        // One snapshot per interval, each with the first quote at or after it was due.
        assert_eq!(times.len() as i64, duration / interval, "{times:?}");
        let first = SyntheticConfig::default().start_ts;
        for (k, &ts) in times.iter().enumerate() {
            assert!(ts >= first + k as i64 * interval);
        }
        for bids in [true, false] {
            let standing = book
                .keys()
                .filter(|(s, b, _)| *s == symbol && *b == bids)
                .count();
            assert_eq!(standing, levels, "the last snapshot's levels stand");
        }
    }
}

#[test]
fn bad_configs_are_refused() {
    let ok = SyntheticConfig::default();
    assert!(matches!(
        refused_depth(with_depth(ok, MAX_DEPTH_LEVELS + 1, NANOS_PER_SECOND)),
        SyntheticError::TooManyDepthLevels { requested, max: MAX_DEPTH_LEVELS }
            if requested == MAX_DEPTH_LEVELS + 1
    ));
    for interval in [0, -1] {
        assert!(matches!(
            refused_depth(with_depth(ok, 2, interval)),
            SyntheticError::NonPositiveDepthInterval(i) if i == interval
        ));
    }
    // Without levels the interval is not used.
    assert!(SyntheticMarket::new(with_depth(ok, 0, 0)).is_ok());
    let refused =
        |cfg: SyntheticConfig| SyntheticMarket::new(cfg).map(|_| ()).expect_err("refused");
    assert!(matches!(
        refused(SyntheticConfig { symbols: 0, ..ok }),
        SyntheticError::NoSymbols
    ));
    assert!(matches!(
        refused(SyntheticConfig {
            symbols: 1_000,
            ..ok
        }),
        SyntheticError::TooManySymbols {
            requested: 1_000,
            max: 999
        }
    ));
    for duration in [0, -1] {
        assert!(matches!(
            refused(SyntheticConfig { duration, ..ok }),
            SyntheticError::NonPositiveDuration(d) if d == duration
        ));
    }
    for rate in [0.0, -2.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            refused(SyntheticConfig {
                events_per_second: rate,
                ..ok
            }),
            SyntheticError::BadRate(_)
        ));
    }
    assert!(matches!(
        refused(SyntheticConfig {
            events_per_second: 2e6,
            ..ok
        }),
        SyntheticError::RateTooHigh { .. }
    ));
    let err = refused(SyntheticConfig {
        start_ts: Nanos::MAX - 10,
        ..ok
    });
    assert!(matches!(err, SyntheticError::TimeOverflow { .. }));
    assert!(err.to_string().contains("overflows"), "{err}");
    assert!(SyntheticMarket::new(SyntheticConfig { symbols: 999, ..ok }).is_ok());
}

/// Per-symbol series the stylised-fact tests measure.
#[derive(Debug)]
struct Series {
    /// Log returns from the last quote mid of one minute to that of the next.
    minute_returns: Vec<Vec<f64>>,
    /// Log returns between consecutive quote mids.
    quote_returns: Vec<Vec<f64>>,
    /// Realised volatility within each minute: the root of the summed squared
    /// quote-to-quote log returns.
    minute_vol: Vec<Vec<f64>>,
    /// Mean relative spread of each minute's quotes.
    minute_spread: Vec<Vec<f64>>,
}

impl Series {
    fn of(cfg: SyntheticConfig) -> Self {
        let (registry, ticks) = generate(cfg);
        let (n, m) = (registry.len(), (cfg.duration / MINUTE) as usize);
        let mut last_mid = vec![vec![f64::NAN; m]; n];
        let mut minute_variance = vec![vec![0.0; m]; n];
        let mut spread_sum = vec![vec![0.0; m]; n];
        let mut quotes = vec![vec![0_u32; m]; n];
        let mut quote_returns = vec![Vec::new(); n];
        let mut prev = vec![f64::NAN; n];
        for t in &ticks {
            let TickKind::Quote { bid, ask, .. } = t.kind else {
                continue;
            };
            let s = t.symbol.0 as usize;
            let minute = ((t.ts - cfg.start_ts) / MINUTE) as usize;
            let (bid, ask) = (f64_of(bid), f64_of(ask));
            let mid = 0.5 * (bid + ask);
            if prev[s].is_finite() {
                let r = (mid / prev[s]).ln();
                quote_returns[s].push(r);
                minute_variance[s][minute] += r * r;
            }
            prev[s] = mid;
            last_mid[s][minute] = mid;
            spread_sum[s][minute] += (ask - bid) / mid;
            quotes[s][minute] += 1;
        }
        let minute_returns: Vec<Vec<f64>> = last_mid
            .iter()
            .map(|mids| mids.windows(2).map(|w| (w[1] / w[0]).ln()).collect())
            .collect();
        assert!(
            minute_returns.iter().flatten().all(|r| r.is_finite()),
            "every symbol quotes every minute"
        );
        let minute_spread = spread_sum
            .iter()
            .zip(&quotes)
            .map(|(sums, counts)| {
                sums.iter()
                    .zip(counts)
                    .map(|(sum, &count)| sum / f64::from(count))
                    .collect()
            })
            .collect();
        let minute_vol = minute_variance
            .iter()
            .map(|vs| vs.iter().map(|v| v.sqrt()).collect())
            .collect();
        Self {
            minute_returns,
            quote_returns,
            minute_vol,
            minute_spread,
        }
    }
}

/// 4 symbols × 2 days on a 4-second clock: the return facts.
fn two_days() -> &'static Series {
    static DATA: OnceLock<Series> = OnceLock::new();
    DATA.get_or_init(|| {
        Series::of(SyntheticConfig {
            events_per_second: 0.25,
            ..config(4, 48 * HOUR, 2_026)
        })
    })
}

/// 4 symbols × 6 hours at the default rate: the spread facts.
fn six_hours() -> &'static Series {
    static DATA: OnceLock<Series> = OnceLock::new();
    DATA.get_or_init(|| Series::of(config(4, 6 * HOUR, 2_026)))
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

fn correlation(x: &[f64], y: &[f64]) -> f64 {
    let (mx, my) = (mean(x), mean(y));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}

fn lag1_autocorrelation(x: &[f64]) -> f64 {
    correlation(&x[1..], &x[..x.len() - 1])
}

fn excess_kurtosis(x: &[f64]) -> f64 {
    let m = mean(x);
    let central = |k: i32| x.iter().map(|v| (v - m).powi(k)).sum::<f64>() / x.len() as f64;
    central(4) / central(2).powi(2) - 3.0
}

fn annualised_vol(minute_returns: &[f64]) -> f64 {
    let m = mean(minute_returns);
    let variance = minute_returns.iter().map(|r| (r - m).powi(2)).sum::<f64>()
        / (minute_returns.len() - 1) as f64;
    (variance * 365.0 * 24.0 * 60.0).sqrt()
}

#[test]
fn volatility_clusters() {
    let acf: Vec<f64> = two_days()
        .minute_returns
        .iter()
        .map(|r| lag1_autocorrelation(&r.iter().map(|x| x * x).collect::<Vec<_>>()))
        .collect();
    assert!(
        acf.iter().all(|&a| a > 0.03),
        "lag-1 acf of squared returns {acf:?}"
    );
    assert!(mean(&acf) > 0.08, "lag-1 acf of squared returns {acf:?}");
}

/// The innovations against the closed-form t(4) distribution: unit variance and the
/// tail mass `P(|T| > t) = 1 − (3/4)·x·(1 − x²/12)`, `x = t/√(1 + t²/4)`, at
/// `t = z·√2` for a standardised `z`.
#[test]
fn innovations_are_standardised_student_t4() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let draws: Vec<f64> = (0..400_000)
        .map(|_| process::student_t4(&mut rng))
        .collect();
    let variance = draws.iter().map(|z| z * z).sum::<f64>() / draws.len() as f64;
    assert!((variance - 1.0).abs() < 0.05, "variance {variance}");
    assert!(mean(&draws).abs() < 0.01);
    let t4_tail = |z: f64| {
        let t = z * 2_f64.sqrt();
        let x = t / (1.0 + t * t / 4.0).sqrt();
        1.0 - 0.75 * x * (1.0 - x * x / 12.0)
    };
    for z in [1.0, 2.0, 4.0, 8.0] {
        let observed = draws.iter().filter(|d| d.abs() > z).count() as f64 / draws.len() as f64;
        let expected = t4_tail(z);
        let tolerance = 4.0 * (expected / draws.len() as f64).sqrt() + 1e-5;
        assert!(
            (observed - expected).abs() < tolerance,
            "P(|z| > {z}): observed {observed}, t(4) {expected}"
        );
    }
}

#[test]
fn returns_have_fat_tails() {
    let data = two_days();
    let minute: Vec<f64> = data
        .minute_returns
        .iter()
        .map(|r| excess_kurtosis(r))
        .collect();
    let quote: Vec<f64> = data
        .quote_returns
        .iter()
        .map(|r| excess_kurtosis(r))
        .collect();
    assert!(
        minute.iter().all(|&k| k > 0.8),
        "1-min excess kurtosis {minute:?}"
    );
    assert!(
        quote.iter().all(|&k| k > 4.0),
        "quote-to-quote excess kurtosis {quote:?}"
    );
}

#[test]
fn symbols_move_together() {
    let r = &two_days().minute_returns;
    let mut pairs = Vec::new();
    for i in 0..r.len() {
        for j in i + 1..r.len() {
            pairs.push(correlation(&r[i], &r[j]));
        }
    }
    assert!(
        pairs.iter().all(|&c| c > 0.25),
        "pairwise correlations {pairs:?}"
    );
    assert!(mean(&pairs) > 0.4, "pairwise correlations {pairs:?}");
}

#[test]
fn spreads_widen_with_volatility() {
    let data = six_hours();
    let corr: Vec<f64> = data
        .minute_spread
        .iter()
        .zip(&data.minute_vol)
        .map(|(spread, vol)| correlation(spread, vol))
        .collect();
    assert!(
        corr.iter().all(|&c| c > 0.3),
        "corr(spread, realised vol) {corr:?}"
    );
}

#[test]
fn volatility_is_on_a_crypto_scale() {
    let vols: Vec<f64> = two_days()
        .minute_returns
        .iter()
        .map(|r| annualised_vol(r))
        .collect();
    assert!(
        vols.iter().all(|v| (0.3..1.2).contains(v)),
        "annualised vols {vols:?}"
    );
}

fn refused_depth(cfg: SyntheticConfig) -> SyntheticError {
    SyntheticMarket::new(cfg).map(|_| ()).expect_err("refused")
}
