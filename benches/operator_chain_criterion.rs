//! One tick through one symbol's decision chain, features → model → signal → risk, in
//! nanoseconds per tick (the operators alone: no timely, no IO).
//!
//! The input is 100 000 consecutive `BTC-USDT` ticks of the default synthetic market,
//! generated before any timing; the chain is warmed on all of them first (past the
//! signal's warm-up), then each iteration feeds it the next tick, cycling through them.
//! Signals and intents are as sparse as in a replay: most ticks stop at the signal.
//!
//! The per-tick latency percentiles (p50, p99, p99.9, max) are printed by
//! `cargo run --release -p bot4-benches --bin chain_latency`.
//!
//! Run: `cargo bench -p bot4-benches --bench operator_chain_criterion`

use std::hint::black_box;
use std::time::Duration;

use bot4_benches::{symbol_ticks, Chain, Cycle, CHAIN_SYMBOL};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Ticks generated, and cycled through.
const TICKS: usize = 100_000;

fn chain_per_tick(c: &mut Criterion) {
    let ticks = symbol_ticks(CHAIN_SYMBOL, TICKS, 1).expect("synthetic ticks");
    let mut chain = Chain::warmed(&ticks);
    let mut cycle = Cycle::new(&ticks.ticks);

    let mut group = c.benchmark_group("operator_chain");
    group
        .throughput(Throughput::Elements(1))
        .measurement_time(Duration::from_secs(10));
    group.bench_function("features_model_signal_risk", |b| {
        b.iter(|| chain.update(black_box(cycle.next_item())))
    });
    group.finish();
}

criterion_group!(benches, chain_per_tick);
criterion_main!(benches);
