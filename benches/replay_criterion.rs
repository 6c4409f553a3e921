//! Full-graph replay throughput, in ticks per second of wall time.
//!
//! Each iteration is one `bot4_pipeline::replay::replay` of a synthetic market (see
//! [`BenchMarket`]: *dense*, ≈ 400 ticks per 1 s epoch, and *busy*, ≈ 1 600), generated
//! once into a temporary folder before any timing. An iteration includes everything a
//! replay does: reading the Parquet input, the timely graph, writing every output
//! table, and reading the decision tables back for their digests.
//!
//! Cases: each market with 1 and 2 workers at 1 s epochs, and the dense market with 1
//! worker at 100 ms epochs (ten times as many epochs over the same ticks, to show the
//! per-epoch cost).
//!
//! Run: `cargo bench -p bot4-benches --bench replay_criterion`

use std::path::Path;
use std::time::Duration;

use bot4_benches::BenchMarket;
use bot4_pipeline::config::{parse_epoch, Layout, StrategyConfig};
use bot4_pipeline::replay::{replay, ReplayOptions};
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};

/// `(market, workers, epoch)` of each case.
const CASES: [(BenchMarket, usize, &str); 5] = [
    (BenchMarket::Dense, 1, "1s"),
    (BenchMarket::Dense, 2, "1s"),
    (BenchMarket::Dense, 1, "100ms"),
    (BenchMarket::Busy, 1, "1s"),
    (BenchMarket::Busy, 2, "1s"),
];

fn options(input: &Path, out: &Path, workers: usize, epoch: &str) -> ReplayOptions {
    ReplayOptions {
        input: input.to_path_buf().into(),
        instruments: None,
        control: None,
        out: out.to_path_buf(),
        layout: Layout::new(workers, 1, 0, None).expect("a valid layout"),
        epoch: parse_epoch(epoch).expect("a valid epoch"),
        strategy: StrategyConfig::default(),
        progress: false,
        database: None,
        control_plane: Default::default(),
        pace: None,
    }
}

fn replay_throughput(c: &mut Criterion) {
    for market in BenchMarket::ALL {
        let input = tempfile::tempdir().expect("a temporary input folder");
        let generated = market.write(input.path()).expect("the market");

        let mut group = c.benchmark_group(format!("replay/{}", market.name()));
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_secs(2))
            .measurement_time(Duration::from_secs(20))
            .throughput(Throughput::Elements(generated.ticks));
        for (_, workers, epoch) in CASES.into_iter().filter(|case| case.0 == market) {
            // One output folder per case; each replay replaces the previous one's tables.
            let out = tempfile::tempdir().expect("a temporary output folder");
            let opts = options(input.path(), out.path(), workers, epoch);
            let summary = replay(&opts)
                .expect("the replay runs")
                .expect("process 0 returns a summary");
            assert_eq!(summary.ticks, generated.ticks, "every tick is replayed");
            group.bench_with_input(
                BenchmarkId::new(format!("workers={workers}"), format!("epoch={epoch}")),
                &opts,
                |b, opts| b.iter(|| replay(opts).expect("the replay runs")),
            );
        }
        group.finish();
    }
}

criterion_group!(benches, replay_throughput);
criterion_main!(benches);
