//! One bar through the indicators, in nanoseconds per bar: the whole standard set
//! (`IndicatorSet`, every column `bot4 indicators` writes) and one indicator of each
//! family, plus one quote through the quote features.
//!
//! The bars are 1-minute bars of `BTC-USDT` in the default synthetic market (built from
//! its trades with `TimeBars`), made before any timing; each indicator is warmed on all
//! of them, then each iteration feeds it the next bar, cycling through them.
//!
//! Run: `cargo bench -p bot4-benches --bench indicators_criterion`

use std::hint::black_box;
use std::time::Duration;

use bot4_benches::{symbol_bars, symbol_ticks, Cycle, CHAIN_SYMBOL};
use bot4_operators::indicators::adx::Adx;
use bot4_operators::indicators::atr::Atr;
use bot4_operators::indicators::bollinger::Bollinger;
use bot4_operators::indicators::cci::Cci;
use bot4_operators::indicators::ema::Ema;
use bot4_operators::indicators::macd::Macd;
use bot4_operators::indicators::microstructure::{Quote, QuoteState};
use bot4_operators::indicators::obv::Obv;
use bot4_operators::indicators::rsi::Rsi;
use bot4_operators::indicators::set::IndicatorSet;
use bot4_operators::indicators::sma::Sma;
use bot4_operators::indicators::stochastic::Stochastic;
use bot4_operators::indicators::volatility::GarmanKlass;
use bot4_operators::indicators::vwap::SessionVwap;
use bot4_operators::indicators::{Candle, Indicator};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};

/// Ticks of the symbol the bars are cut from: about two days of the default market,
/// a few thousand one-minute bars.
const TICKS: usize = 400_000;

/// Warm `indicator` on every bar, then time one update per iteration.
fn bench<I: Indicator + 'static>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    mut indicator: I,
    inputs: &[I::Input],
) where
    I::Input: Copy,
{
    for x in inputs {
        black_box(indicator.update(*x));
    }
    let mut cycle = Cycle::new(inputs);
    group.bench_function(name, |b| {
        b.iter(|| indicator.update(black_box(*cycle.next_item())))
    });
}

fn indicators_per_bar(c: &mut Criterion) {
    let ticks = symbol_ticks(CHAIN_SYMBOL, TICKS, 1).expect("synthetic ticks");
    let bars: Vec<Candle> = symbol_bars(&ticks, 60_000_000_000);
    let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();
    let quotes: Vec<Quote> = ticks.ticks.iter().filter_map(Quote::from_tick).collect();

    let mut group = c.benchmark_group("indicators");
    group
        .throughput(Throughput::Elements(1))
        .measurement_time(Duration::from_secs(5));

    let mut set = IndicatorSet::new();
    for b in &bars {
        black_box(set.update(b));
    }
    let mut cycle = Cycle::new(&bars);
    group.bench_function("standard_set", |b| {
        b.iter(|| set.update(black_box(cycle.next_item())))
    });

    // One of each family.
    bench(&mut group, "trend/sma_20", Sma::new(20), &closes);
    bench(&mut group, "trend/ema_12", Ema::new(12), &closes);
    bench(
        &mut group,
        "trend/macd_12_26_9",
        Macd::new(12, 26, 9),
        &closes,
    );
    bench(&mut group, "momentum/rsi_14", Rsi::new(14), &closes);
    bench(
        &mut group,
        "momentum/stoch_5_3_3",
        Stochastic::new(5, 3, 3),
        &bars,
    );
    bench(&mut group, "momentum/cci_20", Cci::new(20), &bars);
    bench(
        &mut group,
        "volatility/bollinger_20",
        Bollinger::new(20, 2.0, 2.0),
        &closes,
    );
    bench(&mut group, "volatility/atr_14", Atr::new(14), &bars);
    bench(&mut group, "volatility/adx_14", Adx::new(14), &bars);
    bench(
        &mut group,
        "volatility/garman_klass_20",
        GarmanKlass::new(20),
        &bars,
    );
    bench(&mut group, "volume/obv", Obv::new(), &bars);
    bench(
        &mut group,
        "volume/vwap_session",
        SessionVwap::daily(),
        &bars,
    );
    bench(
        &mut group,
        "microstructure/quote",
        QuoteState::new(),
        &quotes,
    );
    group.finish();
}

criterion_group!(benches, indicators_per_bar);
criterion_main!(benches);
