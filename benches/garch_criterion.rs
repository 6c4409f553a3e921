//! GARCH(1,1) and DCC fits, and the online GARCH per update.
//!
//! - one maximum-likelihood GARCH(1,1) fit of 10 000 returns, normal and Student-t
//!   (`models::garch::fit`, the arch-matching estimator);
//! - one DCC(1,1) fit of 3 series × 2 000 returns (`stats::dcc::fit`: three GARCH fits and
//!   the correlation stage);
//! - one `OnlineGarch` update: `observe` (window 500, refit every 50, 64 points of
//!   refit work) plus `advance(64)`, in steady state with refits under way.
//!
//! The series are seeded simulated GARCH(1,1) paths (μ .03, ω .05, α .08, β .9, as the
//! arch fixtures), made before any timing.
//!
//! Run: `cargo bench -p bot4-benches --bench garch_criterion`

use std::hint::black_box;
use std::time::Duration;

use bot4_benches::gaussians;
use bot4_operators::models::garch::{fit, Distribution, GarchConfig, OnlineGarch};
use bot4_operators::stats::dcc;
use criterion::{criterion_group, criterion_main, Criterion};

/// A GARCH(1,1) path in percent.
fn garch_path(seed: u64, n: usize) -> Vec<f64> {
    let (omega, alpha, beta) = (0.05, 0.08, 0.9);
    let mut s2: f64 = omega / (1.0 - alpha - beta);
    gaussians(seed, n)
        .into_iter()
        .map(|z| {
            let e = s2.sqrt() * z;
            s2 = omega + alpha * e * e + beta * s2;
            0.03 + e
        })
        .collect()
}

fn fits(c: &mut Criterion) {
    let mut group = c.benchmark_group("garch_fit");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    let y = garch_path(1, 10_000);
    group.bench_function("normal_10000", |b| {
        b.iter(|| fit(black_box(&y), Distribution::Normal).expect("fits"))
    });
    group.bench_function("student_t_10000", |b| {
        b.iter(|| fit(black_box(&y), Distribution::StudentT).expect("fits"))
    });
    group.finish();

    let mut group = c.benchmark_group("dcc_fit");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    // Correlated through a common factor.
    let common = garch_path(10, 2_000);
    let series: Vec<Vec<f64>> = (0..3)
        .map(|i| {
            garch_path(20 + i, 2_000)
                .iter()
                .zip(&common)
                .map(|(a, b)| 0.8 * a + 0.6 * b)
                .collect()
        })
        .collect();
    let refs: Vec<&[f64]> = series.iter().map(Vec::as_slice).collect();
    group.bench_function("3x2000", |b| {
        b.iter(|| dcc::fit(black_box(&refs)).expect("fits"))
    });
    group.finish();
}

fn online(c: &mut Criterion) {
    let mut group = c.benchmark_group("online_garch");
    let y = garch_path(2, 100_000);
    let mut g = OnlineGarch::new(GarchConfig::default()).expect("a valid config");
    for r in &y[..2_000] {
        g.observe(*r);
        g.advance(64);
    }
    let mut i = 2_000;
    group.bench_function("observe_advance_64", |b| {
        b.iter(|| {
            g.observe(black_box(y[i]));
            g.advance(64);
            i = if i + 1 == y.len() { 2_000 } else { i + 1 };
            black_box(g.variance_forecast(1))
        })
    });
    group.finish();
}

criterion_group!(benches, fits, online);
criterion_main!(benches);
