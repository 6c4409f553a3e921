//! MacKinnon's response-surface approximations for the Dickey-Fuller τ statistic
//! (one I(1) series, N = 1), as statsmodels' `statsmodels/tsa/adfvalues.py` ships them.
//!
//! - p-values: MacKinnon, J.G. (1994), "Approximate Asymptotic Distribution Functions
//!   for Unit-Root and Cointegration Tests", *Journal of Business & Economic
//!   Statistics* 12(2), 167-176: `p = Φ(poly(τ))`, a quadratic below `τ*` and a cubic
//!   above, clamped to 0 below `τ_min` and to 1 above `τ_max` (`mackinnonp`).
//! - critical values: MacKinnon, J.G. (2010), "Critical Values for Cointegration
//!   Tests", Queen's University Economics Working Paper 1227:
//!   `c(n) = β∞ + β1/n + β2/n² + β3/n³` (`mackinnoncrit`); the no-constant case uses
//!   MacKinnon (1996)'s values, as statsmodels does.
//!
//! The numbers below are copied from statsmodels 0.15.0's `statsmodels/tsa/adfvalues.py`
//! (the N = 1 rows of `tau_{nc,c,ct,ctt}_{smallp,largep}`, `tau_{star,min,max}_*` and
//! `tau_*_2010`, with its scaling factors already applied), not re-derived.

use statrs::distribution::{ContinuousCDF, Normal};

use super::adf::Regression;

/// `τ*`, `τ_min`, `τ_max` of MacKinnon (1994), N = 1.
fn cutoffs(regression: Regression) -> (f64, f64, f64) {
    match regression {
        Regression::None => (-1.04, -19.04, f64::INFINITY),
        Regression::Constant => (-1.61, -18.83, 2.74),
        Regression::ConstantTrend => (-2.89, -16.18, 0.7),
        // tau_star_ctt[0], tau_min_ctt[0], tau_max_ctt[0].
        Regression::ConstantQuadraticTrend => (-3.21, -17.17, 0.54),
    }
}

/// Left-tail (τ ≤ τ*) polynomial, lowest degree first (statsmodels' `tau_*_smallp`
/// row 0 times `[1, 1, 1e-2]`).
fn small_p(regression: Regression) -> [f64; 3] {
    match regression {
        Regression::None => [0.6344, 1.2378, 3.2496 * 1e-2],
        Regression::Constant => [2.1659, 1.4412, 3.8269 * 1e-2],
        Regression::ConstantTrend => [3.2512, 1.6047, 4.9588 * 1e-2],
        // tau_ctt_smallp[0].
        Regression::ConstantQuadraticTrend => [4.0003, 1.658, 4.8288 * 1e-2],
    }
}

/// Right-tail (τ > τ*) polynomial, lowest degree first (statsmodels' `tau_*_largep`
/// row 0 times `[1, 1e-1, 1e-1, 1e-2]`).
fn large_p(regression: Regression) -> [f64; 4] {
    match regression {
        Regression::None => [0.4797, 9.3557 * 1e-1, -0.6999 * 1e-1, 3.3066 * 1e-2],
        Regression::Constant => [1.7339, 9.3202 * 1e-1, -1.2745 * 1e-1, -1.0368 * 1e-2],
        Regression::ConstantTrend => [2.5261, 6.1654 * 1e-1, -3.7956 * 1e-1, -6.0285 * 1e-2],
        // tau_ctt_largep[0].
        Regression::ConstantQuadraticTrend => {
            [3.0778, 4.9529 * 1e-1, -4.1477 * 1e-1, -5.9359 * 1e-2]
        }
    }
}

/// 1 %, 5 %, 10 % rows of `[β∞, β1, β2, β3]` (statsmodels' `tau_*_2010[0]`).
fn crit_coefficients(regression: Regression) -> [[f64; 4]; 3] {
    match regression {
        Regression::None => [
            [-2.56574, -2.2358, -3.627, 0.0],
            [-1.94100, -0.2686, -3.365, 31.223],
            [-1.61682, 0.2656, -2.714, 25.364],
        ],
        Regression::Constant => [
            [-3.43035, -6.5393, -16.786, -79.433],
            [-2.86154, -2.8903, -4.234, -40.040],
            [-2.56677, -1.5384, -2.809, 0.0],
        ],
        Regression::ConstantTrend => [
            [-3.95877, -9.0531, -28.428, -134.155],
            [-3.41049, -4.3904, -9.036, -45.374],
            [-3.12705, -2.5856, -3.925, -22.380],
        ],
        // tau_ctt_2010[0].
        Regression::ConstantQuadraticTrend => [
            [-4.37113, -11.5882, -35.819, -334.047],
            [-3.83239, -5.9057, -12.490, -118.284],
            [-3.55326, -3.6596, -5.293, -63.559],
        ],
    }
}

/// Horner evaluation of `c[0] + c[1] x + c[2] x² + ...` (numpy's `polyval` order
/// reversed).
fn horner(c: &[f64], x: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &ci| acc * x + ci)
}

/// MacKinnon (1994)'s approximate p-value of an ADF τ statistic (statsmodels'
/// `mackinnonp(stat, regression, N=1)`).
pub(crate) fn mackinnonp(stat: f64, regression: Regression) -> f64 {
    let (star, min, max) = cutoffs(regression);
    if stat > max {
        return 1.0;
    }
    if stat < min {
        return 0.0;
    }
    let z = if stat <= star {
        horner(&small_p(regression), stat)
    } else {
        horner(&large_p(regression), stat)
    };
    standard_normal_cdf(z)
}

/// MacKinnon (2010)'s 1 %, 5 %, 10 % critical values for `nobs` observations
/// (statsmodels' `mackinnoncrit(N=1, regression, nobs)`).
pub(crate) fn mackinnoncrit(regression: Regression, nobs: usize) -> [f64; 3] {
    let inv = 1.0 / nobs as f64;
    crit_coefficients(regression).map(|c| horner(&c, inv))
}

/// Φ(z).
fn standard_normal_cdf(z: f64) -> f64 {
    match Normal::new(0.0, 1.0) {
        Ok(n) => n.cdf(z),
        // Unreachable: (0, 1) are valid parameters.
        Err(_) => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asymptotic_critical_values_are_the_leading_coefficients() {
        let c = mackinnoncrit(Regression::Constant, usize::MAX);
        assert!((c[0] - -3.43035).abs() < 1e-9);
        assert!((c[1] - -2.86154).abs() < 1e-9);
        assert!((c[2] - -2.56677).abs() < 1e-9);
    }

    #[test]
    fn quadratic_trend_values_are_statsmodels() {
        // statsmodels 0.15.0: mackinnonp(t, "ctt") on both sides of τ* = -3.21 and past
        // τ_min, τ_max; mackinnoncrit(1, "ctt", 250).
        let reg = Regression::ConstantQuadraticTrend;
        for (t, want) in [
            (-18.0, 0.0),
            (-5.0, 0.0010263486522916546),
            (-3.21, 0.2048801230059913),
            (-3.2, 0.20917214041581972),
            (-1.0, 0.9870296709815183),
            (0.5, 0.9993462594187176),
            (0.6, 1.0),
        ] {
            let p = mackinnonp(t, reg);
            assert!((p - want).abs() < 1e-9, "{t}: {p} vs {want}");
        }
        let want = [-4.418077283008, -3.856220210176, -3.5679871557759997];
        for (c, w) in mackinnoncrit(reg, 250).iter().zip(want) {
            assert!((c - w).abs() < 1e-12, "{c} vs {w}");
        }
    }

    #[test]
    fn p_value_is_monotone_and_about_right_at_the_critical_values() {
        for reg in [
            Regression::None,
            Regression::Constant,
            Regression::ConstantTrend,
            Regression::ConstantQuadraticTrend,
        ] {
            let mut last = 0.0;
            let mut t = -25.0;
            while t < 3.0 {
                let p = mackinnonp(t, reg);
                assert!((0.0..=1.0).contains(&p));
                assert!(p + 1e-12 >= last, "{reg:?} at {t}: {p} < {last}");
                last = p;
                t += 0.01;
            }
            // The asymptotic 5 % critical value has p ≈ 0.05 (two approximations,
            // so only roughly).
            let c = mackinnoncrit(reg, usize::MAX);
            assert!((mackinnonp(c[1], reg) - 0.05).abs() < 0.01, "{reg:?}");
        }
    }
}
