//! The signal combiner allocates nothing once made: an update (including the PCA's
//! periodic Jacobi re-decomposition) and an outcome touch the heap zero times. The
//! counting allocator of `allocation-counter` is this test binary's global allocator.

use bot4_operators::signals::combiner::{CombinerConfig, SignalCombiner};
use bot4_operators::signals::pca::PcaConfig;

/// Step `i` of a deterministic input stream: correlated scores, a volatility ratio that
/// visits every regime, and an outcome related to the first score.
fn step(i: u64) -> ([f64; 4], f64, f64) {
    let a = [0.0, 1.2, -0.7, 2.1, -2.5, 0.4, 0.9, -1.6, 0.1, -0.3, 1.7][(i % 11) as usize];
    let b = [0.5, -1.0, 0.8, 0.0, -0.2, 1.1, -0.9][(i % 7) as usize];
    let ratio = [1.0, 0.6, 0.7, 1.2, 1.7, 1.9, 1.3, 0.9][(i / 13 % 8) as usize];
    ([a, 0.8 * a + 0.2 * b, b, a], ratio, 0.001 * a + 0.0005 * b)
}

#[test]
fn the_combiner_allocates_nothing_per_update() {
    let config = CombinerConfig {
        pca: PcaConfig {
            half_life: 100.0,
            refresh_every: 5,
            ..PcaConfig::default()
        },
        prior_outcomes: 10.0,
        ..CombinerConfig::default()
    };
    let mut combiner = SignalCombiner::<4>::new(config).unwrap();
    for i in 0..200 {
        let (x, ratio, outcome) = step(i);
        std::hint::black_box(combiner.update(&x, ratio, true));
        combiner.observe_outcome(outcome);
    }
    let mut decisions = 0;
    let info = allocation_counter::measure(|| {
        for i in 200..5_200 {
            let (x, ratio, outcome) = step(i);
            decisions +=
                usize::from(std::hint::black_box(combiner.update(&x, ratio, true)).is_some());
            combiner.observe_outcome(outcome);
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
    assert!(
        decisions > 0,
        "every branch, including decisions, was measured"
    );
}

#[test]
fn the_counter_sees_allocations() {
    // The zero above means something only if the counter counts.
    let info = allocation_counter::measure(|| {
        std::hint::black_box(vec![1u8; 64]);
    });
    assert!(info.count_total >= 1, "{info:?}");
}
