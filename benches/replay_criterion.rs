//! Full-graph replay throughput, in ticks per second of wall time.
//!
//! Each iteration is one `bot4_pipeline::replay::replay` of a dense synthetic market
//! (8 symbols, 10 minutes, 50 clock steps per second: ≈ 240 000 ticks, ≈ 400 per 1 s
//! epoch), generated once into a temporary folder before any timing. An iteration
//! includes everything a replay does: reading the Parquet input, the timely graph,
//! writing every output table, and reading the decision tables back for their digests.
//!
//! Cases: 1 and 2 workers at 1 s epochs, and 1 worker at 100 ms epochs (ten times as
//! many epochs over the same ticks, to show the per-epoch cost).
//!
//! Run: `cargo bench -p bot4-benches --bench replay_criterion`

use std::path::Path;
use std::time::Duration;

use bot4_benches::write_dense_market;
use bot4_pipeline::config::{parse_epoch, Layout, StrategyConfig};
use bot4_pipeline::replay::{replay, ReplayOptions};
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};

/// `(workers, epoch)` of each case.
const CASES: [(usize, &str); 3] = [(1, "1s"), (2, "1s"), (1, "100ms")];

fn options(input: &Path, out: &Path, workers: usize, epoch: &str) -> ReplayOptions {
    ReplayOptions {
        input: input.to_path_buf(),
        instruments: None,
        control: None,
        out: out.to_path_buf(),
        layout: Layout::new(workers, 1, 0, None).expect("a valid layout"),
        epoch: parse_epoch(epoch).expect("a valid epoch"),
        strategy: StrategyConfig::default(),
        progress: false,
    }
}

fn replay_throughput(c: &mut Criterion) {
    let input = tempfile::tempdir().expect("a temporary input folder");
    let generated = write_dense_market(input.path()).expect("the dense market");

    let mut group = c.benchmark_group("replay");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(generated.ticks));
    for (workers, epoch) in CASES {
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

criterion_group!(benches, replay_throughput);
criterion_main!(benches);
