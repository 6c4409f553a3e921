//! The online GARCH allocates nothing once made: observing returns, scheduling refits
//! (the window snapshot included) and advancing them to completion touch the heap zero
//! times. The counting allocator of `allocation-counter` is this test binary's global
//! allocator.

use bot4_operators::models::garch::{Distribution, GarchConfig, OnlineGarch};

/// Return `i` of a deterministic series with volatility clusters.
fn ret(i: usize) -> f64 {
    let z = ((i * 7919 + 13) % 101) as f64 / 50.0 - 1.0;
    z * (1.0 + (i as f64 / 37.0).sin().abs() * 2.0)
}

#[test]
fn online_garch_allocates_nothing_per_update() {
    for dist in [Distribution::Normal, Distribution::StudentT] {
        let config = GarchConfig {
            window: 300,
            refit_every: 40,
            min_obs: 150,
            dist,
            work_per_step: 256,
        };
        let mut g = OnlineGarch::new(config).expect("a valid config");
        let mut fits = 0;
        let info = allocation_counter::measure(|| {
            for i in 0..3_000 {
                let was = g.is_fitting();
                g.observe(ret(i));
                if i % 3 == 0 {
                    g.advance(1_000);
                }
                if was && !g.is_fitting() {
                    fits += 1;
                }
                std::hint::black_box(g.variance_forecast(1));
                std::hint::black_box(g.variance_forecast(10));
                std::hint::black_box(g.long_run_variance());
            }
        });
        assert_eq!(info.count_total, 0, "{dist:?}: {info:?}");
        assert!(fits >= 5, "{dist:?}: only {fits} refits finished");
        assert!(g.params().is_some());
    }
}

#[test]
fn the_counter_sees_allocations() {
    // The zero above means something only if the counter counts.
    let info = allocation_counter::measure(|| {
        std::hint::black_box(vec![1u8; 64]);
    });
    assert!(info.count_total >= 1, "{info:?}");
}
