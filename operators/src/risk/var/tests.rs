use super::*;
use proptest::prelude::*;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

#[test]
fn normal_position_by_hand() {
    let tail = TailModel::new(0.99, None).unwrap();
    // z₀.₉₉ = 2.3263478740408408, φ(z) = exp(−z²/2)/√(2π) = 0.026652142203458,
    // φ(z) / 0.01 = 2.665214220345806.
    assert!(close(tail.var_multiplier(), 2.326_347_874_040_840_8, 1e-13));
    assert!(close(tail.cvar_multiplier(), 2.665_214_220_345_806, 1e-12));
    // 1,000,000 · 0.02 = 20,000 of volatility: VaR 46,526.96, CVaR 53,304.28.
    let e = tail.estimate(1_000_000.0, 0.02, 0.0).unwrap();
    assert!(close(e.var, 46_526.957_480_816_82, 1e-12));
    assert!(close(e.cvar, 53_304.284_406_916_12, 1e-12));
    // A mean of 0.1% per period earns a long 1,000 and costs a short 1,000.
    let long = tail.estimate(1_000_000.0, 0.02, 0.001).unwrap();
    let short = tail.estimate(-1_000_000.0, 0.02, 0.001).unwrap();
    assert!(close(long.var, e.var - 1_000.0, 1e-12));
    assert!(close(short.var, e.var + 1_000.0, 1e-12));
    assert!(close(short.cvar, e.cvar + 1_000.0, 1e-12));
}

#[test]
fn student_t_position_by_hand() {
    // ν = 4: t⁻¹₄(0.99) = 3.7469473879791968, c = sqrt(2/4) = 0.7071067811865476:
    // VaR multiplier 2.6494919067893; f₄(q) = 3/8 · (1 + q²/4)^(−5/2) = 0.0069662…, so
    // CVaR multiplier = c · f₄(q)/0.01 · (4 + q²)/3 = 3.6915104856808.
    let t4 = TailModel::new(0.99, Some(4.0)).unwrap();
    assert!(close(t4.var_multiplier(), 2.649_491_906_789_311_5, 1e-12));
    assert!(close(t4.cvar_multiplier(), 3.691_510_485_680_758_3, 1e-12));
    let q = 3.746_947_387_979_197_f64;
    let f = 0.375 * (1.0 + q * q / 4.0).powf(-2.5);
    let by_hand = 0.5_f64.sqrt() * f / 0.01 * (4.0 + q * q) / 3.0;
    assert!(close(t4.cvar_multiplier(), by_hand, 1e-12));
    // 200,000 short at 1.5% volatility: 3,000 · 2.64949 = 7,948.48.
    let e = t4.estimate(-200_000.0, 0.015, 0.0).unwrap();
    assert!(close(e.var, 3_000.0 * 2.649_491_906_789_311_5, 1e-12));
    // An infinite ν is the normal.
    assert_eq!(
        TailModel::new(0.99, Some(f64::INFINITY)).unwrap(),
        TailModel::new(0.99, None).unwrap()
    );
}

/// The unit-variance t density, from its definition.
fn t_density(x: f64, nu: f64) -> f64 {
    use statrs::function::gamma::ln_gamma;
    let c = ((nu - 2.0) / nu).sqrt();
    // X = c·T: f_X(x) = f_T(x/c)/c.
    let t = x / c;
    (ln_gamma((nu + 1.0) / 2.0) - ln_gamma(nu / 2.0)).exp() / (nu * std::f64::consts::PI).sqrt()
        * (1.0 + t * t / nu).powf(-(nu + 1.0) / 2.0)
        / c
}

/// `∫_a^∞ g(x) dx` by Simpson's rule after `x = a/u`, `u ∈ (0, 1]`.
fn tail_integral(a: f64, g: impl Fn(f64) -> f64) -> f64 {
    let n = 200_000;
    let h = 1.0 / n as f64;
    let at = |u: f64| {
        if u == 0.0 {
            0.0
        } else {
            g(a / u) * a / (u * u)
        }
    };
    let mut sum = at(0.0) + at(1.0);
    for k in 1..n {
        let u = k as f64 * h;
        sum += if k % 2 == 1 { 4.0 } else { 2.0 } * at(u);
    }
    sum * h / 3.0
}

/// The quantile leaves `1 − α` in the tail and the shortfall is the tail's mean, both by
/// numerical integration of the density.
#[test]
fn closed_forms_match_the_integrated_density() {
    for nu in [3.0, 4.0, 5.0, 8.0, 30.0] {
        for alpha in [0.95, 0.99, 0.999] {
            let tail = TailModel::new(alpha, Some(nu)).unwrap();
            let q = tail.var_multiplier();
            let mass = tail_integral(q, |x| t_density(x, nu));
            assert!(
                close(mass, 1.0 - alpha, 1e-8),
                "ν {nu} α {alpha}: tail mass {mass}"
            );
            let shortfall = tail_integral(q, |x| x * t_density(x, nu)) / (1.0 - alpha);
            assert!(
                close(shortfall, tail.cvar_multiplier(), 1e-7),
                "ν {nu} α {alpha}: {shortfall}"
            );
        }
    }
}

/// A uniform in (0, 1).
fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// A standard normal, by Box–Muller.
fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    let (u, v) = (uniform(rng), uniform(rng));
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// A χ²_ν over ν for integer ν, the t's mixing variable.
fn chi2_over(rng: &mut ChaCha8Rng, nu: u32) -> f64 {
    (0..nu).map(|_| gaussian(rng).powi(2)).sum::<f64>() / f64::from(nu)
}

/// Empirical VaR and CVaR at `alpha` of `losses`.
fn empirical(mut losses: Vec<f64>, alpha: f64) -> VarEstimate {
    losses.sort_by(f64::total_cmp);
    let k = (alpha * losses.len() as f64) as usize;
    let tail = &losses[k..];
    VarEstimate {
        var: losses[k],
        cvar: tail.iter().sum::<f64>() / tail.len() as f64,
    }
}

#[test]
fn a_seeded_monte_carlo_agrees_with_a_position() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (nu, notional, sigma) = (5u32, 250_000.0, 0.02);
    let c = ((f64::from(nu) - 2.0) / f64::from(nu)).sqrt();
    let losses = (0..400_000)
        .map(|_| -notional * sigma * c * gaussian(&mut rng) / chi2_over(&mut rng, nu).sqrt())
        .collect();
    let mc = empirical(losses, 0.99);
    let e = TailModel::new(0.99, Some(5.0))
        .unwrap()
        .estimate(notional, sigma, 0.0)
        .unwrap();
    assert!(close(mc.var, e.var, 0.02), "{mc:?} {e:?}");
    assert!(close(mc.cvar, e.cvar, 0.03), "{mc:?} {e:?}");
}

/// Three correlated positions with common t innovations (a multivariate t, so the
/// portfolio's P&L is t with the portfolio's volatility).
#[test]
fn a_seeded_monte_carlo_agrees_with_a_portfolio() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let nu = 4u32;
    let rho = [1.0, 0.6, -0.3, 0.6, 1.0, 0.2, -0.3, 0.2, 1.0];
    // Cholesky factor of `rho`, lower triangular, by hand: l11 = 1; l21 = 0.6,
    // l22 = sqrt(1 − 0.36) = 0.8; l31 = −0.3, l32 = (0.2 + 0.18)/0.8 = 0.475,
    // l33 = sqrt(1 − 0.09 − 0.225625) = 0.827269.
    let l33 = (1.0f64 - 0.09 - 0.475 * 0.475).sqrt();
    let positions = [
        VarPosition {
            notional: 300_000.0,
            sigma: 0.02,
            mean: 0.0,
            dof: Some(4.0),
        },
        VarPosition {
            notional: -150_000.0,
            sigma: 0.04,
            mean: 0.0,
            dof: Some(4.0),
        },
        VarPosition {
            notional: 200_000.0,
            sigma: 0.01,
            mean: 0.0,
            dof: Some(4.0),
        },
    ];
    let c = ((f64::from(nu) - 2.0) / f64::from(nu)).sqrt();
    let losses = (0..400_000)
        .map(|_| {
            let z = [gaussian(&mut rng), gaussian(&mut rng), gaussian(&mut rng)];
            let x = [
                z[0],
                0.6 * z[0] + 0.8 * z[1],
                -0.3 * z[0] + 0.475 * z[1] + l33 * z[2],
            ];
            let scale = c / chi2_over(&mut rng, nu).sqrt();
            -positions
                .iter()
                .zip(x)
                .map(|(p, x)| p.notional * p.sigma * x * scale)
                .sum::<f64>()
        })
        .collect();
    let mc = empirical(losses, 0.99);
    let p = portfolio_var(&positions, &rho, 0.99).unwrap();
    assert!(close(mc.var, p.estimate.var, 0.02), "{mc:?} {p:?}");
    assert!(close(mc.cvar, p.estimate.cvar, 0.03), "{mc:?} {p:?}");
}

#[test]
fn portfolio_by_hand() {
    let positions = [
        VarPosition {
            notional: 100_000.0,
            sigma: 0.02,
            mean: 0.0,
            dof: None,
        },
        VarPosition {
            notional: 50_000.0,
            sigma: 0.03,
            mean: 0.0,
            dof: None,
        },
    ];
    // w = (2,000, 1,500); σ_p² = 2,000² + 1,500² + 2·0.5·2,000·1,500 = 9,250,000;
    // σ_p = 3,041.3813; VaR = 3,041.3813 · 2.3263479 = 7,075.33; undiversified
    // (2,000 + 1,500) · 2.3263479 = 8,142.22.
    let p = portfolio_var(&positions, &[1.0, 0.5, 0.5, 1.0], 0.99).unwrap();
    let z = 2.326_347_874_040_840_8;
    assert!(close(p.sigma, 9_250_000f64.sqrt(), 1e-14));
    assert!(close(p.estimate.var, 9_250_000f64.sqrt() * z, 1e-12));
    assert!(close(p.undiversified.var, 3_500.0 * z, 1e-12));
    assert_eq!((p.var_dof, p.cvar_dof, p.clipped), (None, None, false));
    // Means: 100,000 · 0.001 + 50,000 · (−0.002) = 0: no drift.
    let drifting = [
        VarPosition {
            mean: 0.001,
            ..positions[0]
        },
        VarPosition {
            mean: -0.002,
            ..positions[1]
        },
    ];
    let d = portfolio_var(&drifting, &[1.0, 0.5, 0.5, 1.0], 0.99).unwrap();
    assert!(close(d.estimate.var, p.estimate.var, 1e-12));
}

#[test]
fn the_most_conservative_tail_is_used() {
    let at = |dof| VarPosition {
        notional: 1.0,
        sigma: 0.01,
        mean: 0.0,
        dof,
    };
    let positions = [at(Some(2.1)), at(Some(2.5)), at(Some(4.0)), at(None)];
    let identity: Vec<f64> = (0..16)
        .map(|k| if k % 5 == 0 { 1.0 } else { 0.0 })
        .collect();
    let p = portfolio_var(&positions, &identity, 0.99).unwrap();
    // VaR multipliers at 99%: ν 2.1 → 1.425, 2.5 → 2.394, 4 → 2.649, normal 2.326;
    // CVaR multipliers: 2.753, 4.066, 3.692, 2.665.
    assert_eq!((p.var_dof, p.cvar_dof), (Some(4.0), Some(2.5)));
    // σ_p = 0.01 · sqrt(4) = 0.02.
    assert!(close(p.estimate.var, 0.02 * 2.649_491_906_789_311_5, 1e-12));
}

#[test]
fn a_non_psd_correlation_is_clipped_not_a_panic() {
    let at = |notional| VarPosition {
        notional,
        sigma: 1.0,
        mean: 0.0,
        dof: Some(5.0),
    };
    // w = (1, −1, −1): wᵀρw = 3 + 2·(−0.9 − 0.9 − 0.9) = −2.4 < 0.
    let rho = [1.0, 0.9, 0.9, 0.9, 1.0, -0.9, 0.9, -0.9, 1.0];
    let p = portfolio_var(&[at(1.0), at(-1.0), at(-1.0)], &rho, 0.99).unwrap();
    assert!(p.clipped);
    assert_eq!((p.sigma, p.estimate.var), (0.0, 0.0));
    assert!(p.undiversified.var > 0.0);
}

#[test]
fn invalid_inputs_are_errors() {
    for alpha in [0.0, 1.0, f64::NAN, -0.5] {
        assert!(matches!(
            TailModel::new(alpha, None),
            Err(RiskError::Confidence(_))
        ));
    }
    assert_eq!(
        TailModel::new(0.99, Some(2.0)).unwrap_err(),
        RiskError::DegreesOfFreedom(2.0)
    );
    assert!(TailModel::new(0.99, Some(f64::NAN)).is_err());
    assert!(TailModel::new(0.99, Some(-3.0)).is_err());
    let tail = TailModel::new(0.99, None).unwrap();
    assert!(tail.estimate(f64::NAN, 0.01, 0.0).is_err());
    assert!(tail.estimate(1.0, -0.01, 0.0).is_err());
    assert!(tail.estimate(1.0, f64::INFINITY, 0.0).is_err());
    assert!(tail.estimate(1.0, 0.01, f64::NAN).is_err());
    let p = VarPosition {
        notional: 1.0,
        sigma: 0.01,
        mean: 0.0,
        dof: None,
    };
    assert_eq!(
        portfolio_var(&[p, p], &[1.0], 0.99).unwrap_err(),
        RiskError::Shape {
            expected: 4,
            got: 1
        }
    );
    assert!(portfolio_var(&[p], &[f64::NAN], 0.99).is_err());
    let empty = portfolio_var(&[], &[], 0.99).unwrap();
    assert_eq!((empty.sigma, empty.estimate.var), (0.0, 0.0));
}

proptest! {
    /// CVaR is beyond VaR; both scale with |N|·σ; a portfolio of one position is that
    /// position; diversification never adds risk under a valid (equicorrelation) matrix.
    #[test]
    fn var_invariants(
        nu in prop::option::of(2.05f64..200.0),
        alpha in 0.9f64..0.999,
        notional in -1e7f64..1e7,
        sigma in 0.0f64..0.2,
        k in 0.1f64..10.0,
        rho in -0.45f64..1.0,
    ) {
        let tail = TailModel::new(alpha, nu).unwrap();
        let e = tail.estimate(notional, sigma, 0.0).unwrap();
        prop_assert!(e.cvar >= e.var && e.var >= 0.0);
        let scaled = tail.estimate(notional * k, sigma, 0.0).unwrap();
        prop_assert!((scaled.var - k * e.var).abs() <= 1e-9 * scaled.var.abs().max(1.0));
        let one = VarPosition { notional, sigma, mean: 0.0, dof: nu };
        let p = portfolio_var(&[one], &[1.0], alpha).unwrap();
        prop_assert!((p.estimate.var - e.var).abs() <= 1e-9 * e.var.max(1.0));
        let three = [one, VarPosition { notional: -notional / 2.0, ..one }, VarPosition { sigma: sigma * 2.0, ..one }];
        let matrix: Vec<f64> = (0..9).map(|i| if i % 4 == 0 { 1.0 } else { rho }).collect();
        let p = portfolio_var(&three, &matrix, alpha).unwrap();
        prop_assert!(!p.clipped || p.sigma == 0.0);
        prop_assert!(p.estimate.var <= p.undiversified.var * (1.0 + 1e-12) + 1e-9);
    }
}
