//! The online forecasters allocate nothing once made: a rolling AR observation (with its
//! refits and re-summations), a logistic learn-and-predict step, and an ensemble
//! combine-and-observe step touch the heap zero times. The counting allocator of
//! `allocation-counter` is this test binary's global allocator.

use bot4_operators::models::arima::RollingAr;
use bot4_operators::models::ensemble::Ensemble;
use bot4_operators::models::sgd::OnlineLogistic;

/// A deterministic zig-zag series.
fn value(i: u32) -> f64 {
    [0.0, 1.5, -0.75, 2.0, -3.0, 0.5, 0.25][(i % 7) as usize] + f64::from(i % 11) * 0.01
}

#[test]
fn rolling_ar_allocates_nothing_per_observation() {
    let mut ar = RollingAr::new(5, 200, 10, true).expect("a valid spec");
    // Warm up past the first fit and re-summation.
    for i in 0..500 {
        ar.observe(value(i));
    }
    let info = allocation_counter::measure(|| {
        for i in 500..5_500 {
            ar.observe(value(i));
            std::hint::black_box(ar.forecast());
        }
    });
    assert!(ar.is_fitted());
    assert_eq!(info.count_total, 0, "{info:?}");
}

#[test]
fn online_logistic_allocates_nothing_per_step() {
    let mut model = OnlineLogistic::<8>::new(0.5, 1e-3);
    let info = allocation_counter::measure(|| {
        for i in 0..5_000 {
            let x: [f64; 8] = std::array::from_fn(|j| value(i + j as u32));
            std::hint::black_box(model.predict(&x));
            model.learn(&x, value(i + 9) > 0.0);
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
}

#[test]
fn ensemble_allocates_nothing_per_step() {
    let mut ensemble = Ensemble::<4>::new(0.05);
    let info = allocation_counter::measure(|| {
        for i in 0..5_000 {
            let y = value(i);
            std::hint::black_box(ensemble.combine([y + 0.1, y - 0.2, y * 0.5, 0.0]));
            ensemble.observe(y);
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
}

#[test]
fn the_counter_sees_allocations() {
    let info = allocation_counter::measure(|| {
        std::hint::black_box(vec![1u8; 64]);
    });
    assert!(info.count_total >= 1, "{info:?}");
}
