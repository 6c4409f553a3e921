//! AR/ARIMA fits and the online forecasters per update.
//!
//! - one `fit_ar` of an AR(5) with a constant on 10 000 values (Householder QR);
//! - one `fit_arima` ARIMA(2,1,1) with a constant on 2 000 levels by CSS (Hannan–Rissanen
//!   start, Nelder–Mead, Levenberg–Marquardt polish);
//! - one `RollingAr::observe` (p 5, window 500, refit every 20), in steady state, so
//!   the cost includes its share of refits and re-summations;
//! - one `OnlineLogistic::<8>` predict plus learn;
//! - one `Ensemble::<4>` combine plus observe.
//!
//! The series are seeded simulated AR(2) paths, made before any timing.
//!
//! Run: `cargo bench -p bot4-benches --bench models_criterion`

use std::hint::black_box;
use std::time::Duration;

use bot4_benches::gaussians;
use bot4_operators::models::arima::{fit_ar, fit_arima, RollingAr};
use bot4_operators::models::ensemble::Ensemble;
use bot4_operators::models::sgd::OnlineLogistic;
use criterion::{criterion_group, criterion_main, Criterion};

/// `x_t = 0.1 + 0.5 x_{t−1} − 0.3 x_{t−2} + e_t`.
fn ar2_path(seed: u64, n: usize) -> Vec<f64> {
    let e = gaussians(seed, n);
    let mut x = vec![0.0; n];
    for t in 2..n {
        x[t] = 0.1 + 0.5 * x[t - 1] - 0.3 * x[t - 2] + e[t];
    }
    x
}

fn fits(c: &mut Criterion) {
    let x = ar2_path(1, 10_000);
    c.bench_function("fit_ar p5 n10000", |b| {
        b.iter(|| fit_ar(black_box(&x), 5, true).expect("fits"))
    });
    // Levels: the cumulative sum of an AR(2) path, so one difference recovers it.
    let levels: Vec<f64> = ar2_path(2, 2_000)
        .iter()
        .scan(100.0, |level, v| {
            *level += v;
            Some(*level)
        })
        .collect();
    let mut g = c.benchmark_group("arima");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.bench_function("fit_arima 2,1,1 n2000", |b| {
        b.iter(|| fit_arima(black_box(&levels), 2, 1, 1, true).expect("fits"))
    });
    g.finish();
}

fn online(c: &mut Criterion) {
    let x = ar2_path(3, 100_000);
    let mut ar = RollingAr::new(5, 500, 20, true).expect("a valid spec");
    for &v in &x[..1_000] {
        ar.observe(v);
    }
    let mut i = 1_000;
    c.bench_function("RollingAr observe p5 w500 refit20", |b| {
        b.iter(|| {
            ar.observe(black_box(x[i]));
            i = if i + 1 == x.len() { 1_000 } else { i + 1 };
            black_box(ar.forecast())
        })
    });

    let mut model = OnlineLogistic::<8>::new(0.5, 1e-3);
    let mut j = 0;
    c.bench_function("OnlineLogistic<8> predict+learn", |b| {
        b.iter(|| {
            let features: [f64; 8] = std::array::from_fn(|k| x[(j + k) % x.len()]);
            let p = model.predict(black_box(&features));
            model.learn(&features, x[(j + 8) % x.len()] > 0.0);
            j = (j + 1) % x.len();
            black_box(p)
        })
    });

    let mut ensemble = Ensemble::<4>::new(0.05);
    let mut k = 0;
    c.bench_function("Ensemble<4> combine+observe", |b| {
        b.iter(|| {
            let y = x[k];
            let f = ensemble.combine(black_box([y + 0.1, 0.5 * y, -y, 0.0]));
            ensemble.observe(y);
            k = (k + 1) % x.len();
            black_box(f)
        })
    });
}

criterion_group!(benches, fits, online);
criterion_main!(benches);
