//! Per-tick latency of one symbol's decision chain, features → model → signal → risk:
//! the p50, p99, p99.9 and max that criterion does not report.
//!
//! The chain is warmed on 100 000 `BTC-USDT` ticks of the default synthetic market, then
//! fed 1 000 000 ticks (cycling through the same ones) twice: once timed in rounds of one
//! pass each (the batched mean, comparable with `operator_chain_criterion`), once with
//! each tick timed by its own pair of `Instant::now()` reads. Each per-tick figure
//! includes one timer read's overhead, measured and printed alongside; on a shared or
//! preempted core the top percentiles also catch scheduler noise.
//!
//! The same per-call timing then runs over the feature stage alone
//! (`Features::update`: book, order flow, and on the ticks that close a one-minute bar
//! the bar's whole indicator set), one tick at a time, and over the standard indicator set
//! (`IndicatorSet::update`, every column `bot4 indicators` writes), one 1-minute bar of
//! the same symbol at a time.
//!
//! Run: `cargo run --release -p bot4-benches --bin chain_latency`

#![allow(clippy::print_stdout, reason = "the report is this command's output")]

use std::hint::black_box;
use std::time::Instant;

use bot4_benches::{latency_line, symbol_bars, symbol_ticks, Chain, Cycle, CHAIN_SYMBOL};
use bot4_operators::features::{FeatureConfig, Features};
use bot4_operators::indicators::set::IndicatorSet;

/// Distinct ticks generated, and cycled through.
const TICKS: usize = 100_000;
/// Ticks timed.
const SAMPLES: usize = 1_000_000;

fn report(name: &str, samples: &mut [u64]) {
    println!("{}", latency_line(name, samples));
}

fn main() {
    let ticks = symbol_ticks(CHAIN_SYMBOL, TICKS, 1).expect("synthetic ticks");
    let mut chain = Chain::warmed(&ticks);
    let mut cycle = Cycle::new(&ticks.ticks);

    // One round is one pass over the distinct ticks; the median round resists the
    // preemptions of a shared machine better than one long mean.
    let mut rounds = Vec::with_capacity(SAMPLES / TICKS);
    let mut intents = 0usize;
    for _ in 0..SAMPLES / TICKS {
        let started = Instant::now();
        for _ in 0..TICKS {
            intents += usize::from(black_box(chain.update(black_box(cycle.next_item()))).is_some());
        }
        rounds.push(started.elapsed().as_nanos() as f64 / TICKS as f64);
    }
    rounds.sort_unstable_by(f64::total_cmp);
    let batched_median = rounds[rounds.len() / 2];
    let batched_min = rounds[0];

    let mut timer = vec![0u64; SAMPLES];
    for sample in timer.iter_mut() {
        let t0 = Instant::now();
        *sample = t0.elapsed().as_nanos() as u64;
    }

    let mut latency = vec![0u64; SAMPLES];
    for sample in latency.iter_mut() {
        let tick = cycle.next_item();
        let t0 = Instant::now();
        black_box(chain.update(black_box(tick)));
        *sample = t0.elapsed().as_nanos() as u64;
    }

    println!(
        "chain features → model → signal → risk, {CHAIN_SYMBOL}, {SAMPLES} ticks cycling over {TICKS}"
    );
    println!(
        "batched mean           {batched_median:.1} ns/tick (median of {} rounds of {TICKS}; best {batched_min:.1}; {intents} intents)",
        rounds.len()
    );
    report("timer overhead", &mut timer);
    report("per-tick (with timer)", &mut latency);

    let mut features = Features::new(ticks.symbol, FeatureConfig::default());
    for tick in &ticks.ticks {
        black_box(features.update(tick));
    }
    let mut bar_ticks = 0usize;
    for sample in latency.iter_mut() {
        let tick = cycle.next_item();
        let t0 = Instant::now();
        let v = black_box(features.update(black_box(tick)));
        *sample = t0.elapsed().as_nanos() as u64;
        bar_ticks += usize::from(v.bar.is_some());
    }
    println!();
    println!(
        "feature stage (Features::update), {SAMPLES} ticks, {bar_ticks} of them closing a bar"
    );
    report("per-tick (with timer)", &mut latency);

    let bars = symbol_bars(&ticks, 60_000_000_000);
    let mut set = IndicatorSet::new();
    for bar in &bars {
        black_box(set.update(bar));
    }
    let mut cycle = Cycle::new(&bars);
    for sample in latency.iter_mut() {
        let bar = cycle.next_item();
        let t0 = Instant::now();
        black_box(set.update(black_box(bar)));
        *sample = t0.elapsed().as_nanos() as u64;
    }
    println!();
    println!(
        "standard indicator set, {} one-minute bars of {CHAIN_SYMBOL} cycled, {SAMPLES} updates",
        bars.len()
    );
    report("per-bar (with timer)", &mut latency);
}
