//! The augmented Dickey-Fuller unit-root test, as statsmodels'
//! `statsmodels.tsa.stattools.adfuller(x, maxlag, regression, autolag)`.
//!
//! The regression, for `p` lagged differences and `t` running over the sample,
//!
//! `Δx_t = γ x_{t-1} + Σ_{j=1..p} δ_j Δx_{t-j} + [α] + [β·t] + [β₂·t²] + ε_t`,
//!
//! is fitted by OLS and the statistic is the t-value of `γ` (H0: `γ = 0`, a unit root;
//! H1: `γ < 0`, stationary). As statsmodels does it:
//!
//! - the largest lag considered defaults to `ceil(12 (n/100)^(1/4))`, capped at
//!   `n/2 - n_trend - 1` (integer division; `n_trend` = 0, 1, 2 or 3 deterministic
//!   terms); an explicit `max_lag` above that cap is refused;
//! - with [`LagSelection::Aic`] / [`LagSelection::Bic`], every `p` in `0..=max_lag` is
//!   fitted on the *same* sample (the last `n - 1 - max_lag` differences, so the
//!   criteria are comparable), the smallest criterion wins (ties to the smaller lag), and
//!   the chosen `p` is refitted on the longest sample it allows, `n - 1 - p`
//!   observations; with [`LagSelection::TStat`], on that same common sample, `p` starts
//!   at `max_lag` and steps down while the last lagged difference's `|t|` is below
//!   `Φ⁻¹(0.95) = 1.6448536269514722` (stopping at 0), and the chosen `p` is refitted in
//!   the same way; with [`LagSelection::Fixed`], `p = max_lag`;
//! - the trend regressors are `t = 1, 2, ..., n_obs` over the regression sample and, for
//!   [`Regression::ConstantQuadraticTrend`], `t²`;
//! - AIC/BIC are statsmodels' OLS ones (Gaussian log-likelihood from the residual sum of
//!   squares, `k` = number of regressors);
//! - the p-value is MacKinnon (1994)'s approximation (`mackinnonp`), the critical values
//!   MacKinnon (2010)'s response surface at `n_obs` (`mackinnoncrit`).

use super::mackinnon::{mackinnoncrit, mackinnonp};
use super::ols::{ols, Fit};
use super::{check_finite, StatsError};

/// Deterministic terms of the ADF regression (statsmodels' `regression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Regression {
    /// No constant, no trend (`"n"`).
    None,
    /// A constant (`"c"`, statsmodels' default).
    Constant,
    /// A constant and a linear trend (`"ct"`).
    ConstantTrend,
    /// A constant, a linear and a quadratic trend (`"ctt"`).
    ConstantQuadraticTrend,
}

impl Regression {
    /// Number of deterministic regressors.
    fn n_trend(self) -> usize {
        match self {
            Regression::None => 0,
            Regression::Constant => 1,
            Regression::ConstantTrend => 2,
            Regression::ConstantQuadraticTrend => 3,
        }
    }
}

/// How the number of lagged differences is chosen (statsmodels' `autolag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LagSelection {
    /// Minimise the Akaike information criterion (`"AIC"`, statsmodels' default).
    Aic,
    /// Minimise the Bayesian (Schwarz) information criterion (`"BIC"`).
    Bic,
    /// General-to-specific: the largest `p ≤ max_lag` whose `p`-th lagged difference has
    /// `|t| ≥ Φ⁻¹(0.95)` in the regression with `p` lags, or 0 if none has (`"t-stat"`).
    TStat,
    /// Use exactly `max_lag` lags (`autolag=None`).
    Fixed,
}

/// Options of [`adf`]; [`Default`] is statsmodels' default (`regression="c"`,
/// `maxlag=None`, `autolag="AIC"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AdfOptions {
    /// Deterministic terms.
    pub regression: Regression,
    /// Largest lag considered (the lag used with [`LagSelection::Fixed`]); `None` for
    /// `ceil(12 (n/100)^(1/4))`, capped at `n/2 - n_trend - 1`.
    pub max_lag: Option<usize>,
    /// Lag selection.
    pub lag: LagSelection,
}

impl Default for AdfOptions {
    fn default() -> Self {
        Self {
            regression: Regression::Constant,
            max_lag: None,
            lag: LagSelection::Aic,
        }
    }
}

/// Result of [`adf`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adf {
    /// The τ statistic: the t-value of the lagged level.
    pub statistic: f64,
    /// MacKinnon (1994)'s approximate p-value.
    pub p_value: f64,
    /// Number of lagged differences in the final regression.
    pub used_lag: usize,
    /// Number of observations of the final regression, `n - 1 - used_lag`.
    pub n_obs: usize,
    /// MacKinnon (2010)'s 1 % critical value at `n_obs`.
    pub critical_1: f64,
    /// 5 % critical value.
    pub critical_5: f64,
    /// 10 % critical value.
    pub critical_10: f64,
}

/// The augmented Dickey-Fuller test of `x` (see the module documentation).
///
/// Errors: [`StatsError::NonFinite`]; [`StatsError::TooShort`] when `x` cannot hold the
/// lags asked for (or, with the default, not even lag 0); [`StatsError::Constant`] for a
/// constant series; [`StatsError::SingularRegression`] when the regressors are
/// collinear.
pub fn adf(x: &[f64], options: AdfOptions) -> Result<Adf, StatsError> {
    check_finite(x)?;
    let n = x.len();
    let n_trend = options.regression.n_trend();
    let max_lag = match options.max_lag {
        None => {
            let schwert = (12.0 * (n as f64 / 100.0).powf(0.25)).ceil() as usize;
            let cap = (n / 2)
                .checked_sub(n_trend + 1)
                .ok_or(StatsError::TooShort {
                    needed: 2 * (n_trend + 1),
                    got: n,
                })?;
            schwert.min(cap)
        }
        Some(m) => m,
    };
    // statsmodels' bound (maxlag <= n/2 - n_trend - 1), and enough observations left
    // for a residual degree of freedom in the largest regression.
    let needed = (2 * (max_lag + n_trend + 1)).max(2 * max_lag + n_trend + 3);
    if n < needed {
        return Err(StatsError::TooShort { needed, got: n });
    }
    if x.iter().all(|&v| v == x[0]) {
        return Err(StatsError::Constant);
    }
    let diff: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();

    let used_lag = match options.lag {
        LagSelection::Fixed => max_lag,
        LagSelection::Aic | LagSelection::Bic => {
            let criterion = |fit: &Fit| match options.lag {
                LagSelection::Bic => fit.bic(),
                _ => fit.aic(),
            };
            let mut best = (f64::INFINITY, 0);
            for p in 0..=max_lag {
                let ic = criterion(&regress(x, &diff, max_lag, p, options.regression)?);
                // Strictly smaller: ties go to the smaller lag, as in statsmodels'
                // `min((ic, lag))`.
                if ic < best.0 {
                    best = (ic, p);
                }
            }
            best.1
        }
        LagSelection::TStat => {
            // statsmodels' `_autolag(method="t-stat")` tests its last column, which (the
            // deterministic terms prepended) is the p-th lagged difference: column p
            // here. At p = 0 it stops whatever the t-value.
            let mut p = max_lag;
            while p > 0 {
                let fit = regress(x, &diff, max_lag, p, options.regression)?;
                if fit.t_value(p).abs() >= T_STAT_STOP {
                    break;
                }
                p -= 1;
            }
            p
        }
    };
    let fit = regress(x, &diff, used_lag, used_lag, options.regression)?;
    let statistic = fit.t_value(0);
    let n_obs = fit.nobs;
    let [critical_1, critical_5, critical_10] = mackinnoncrit(options.regression, n_obs);
    Ok(Adf {
        statistic,
        p_value: mackinnonp(statistic, options.regression),
        used_lag,
        n_obs,
        critical_1,
        critical_5,
        critical_10,
    })
}

/// statsmodels' stopping threshold for `autolag="t-stat"`, `stats.norm.ppf(.95)` as
/// the literal it hard-codes.
const T_STAT_STOP: f64 = 1.6448536269514722;

/// The ADF regression with `p` lagged differences on the sample that `sample_lag`
/// lags would leave (the last `n - 1 - sample_lag` differences). Column 0 is the
/// lagged level.
fn regress(
    x: &[f64],
    diff: &[f64],
    sample_lag: usize,
    p: usize,
    regression: Regression,
) -> Result<Fit, StatsError> {
    let rows = sample_lag..diff.len();
    let y: Vec<f64> = diff[rows.clone()].to_vec();
    let mut columns = Vec::with_capacity(p + 4);
    columns.push(x[rows.clone()].to_vec());
    for j in 1..=p {
        columns.push(rows.clone().map(|t| diff[t - j]).collect());
    }
    if regression != Regression::None {
        columns.push(vec![1.0; y.len()]);
    }
    if matches!(
        regression,
        Regression::ConstantTrend | Regression::ConstantQuadraticTrend
    ) {
        columns.push((1..=y.len()).map(|i| i as f64).collect());
    }
    if regression == Regression::ConstantQuadraticTrend {
        columns.push((1..=y.len()).map(|i| (i as f64).powi(2)).collect());
    }
    ols(&y, columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::gaussians;

    fn ar1(phi: f64, seed: u64, n: usize) -> Vec<f64> {
        let e = gaussians(seed, n);
        let mut x = e.clone();
        for t in 1..n {
            x[t] = phi * x[t - 1] + e[t];
        }
        x
    }

    fn all_options() -> Vec<AdfOptions> {
        let mut out = Vec::new();
        for regression in [
            Regression::None,
            Regression::Constant,
            Regression::ConstantTrend,
            Regression::ConstantQuadraticTrend,
        ] {
            for lag in [
                LagSelection::Aic,
                LagSelection::Bic,
                LagSelection::TStat,
                LagSelection::Fixed,
            ] {
                out.push(AdfOptions {
                    regression,
                    max_lag: None,
                    lag,
                });
            }
        }
        out
    }

    #[test]
    fn rejects_a_unit_root_for_a_stationary_ar1() {
        // n = 1000: at n = 500, "t-stat" keeps a spurious lag 17 with "ctt" and
        // rejects only at 5 % (p = 0.016).
        let x = ar1(0.5, 1, 1000);
        for o in all_options() {
            let r = adf(&x, o).expect("valid");
            assert!(r.p_value < 0.01, "{o:?}: {r:?}");
            assert!(r.statistic < r.critical_1, "{o:?}: {r:?}");
        }
    }

    #[test]
    fn does_not_reject_for_a_random_walk() {
        let x = ar1(1.0, 2, 500);
        for o in all_options() {
            let r = adf(&x, o).expect("valid");
            assert!(r.p_value > 0.05, "{o:?}: {r:?}");
            assert!(r.statistic > r.critical_5, "{o:?}: {r:?}");
        }
    }

    #[test]
    fn dickey_fuller_without_lags_matches_the_closed_form() {
        // No lags, no constant: Δx_t = γ x_{t-1}: γ = Σ x_{t-1}Δx_t / Σ x_{t-1}²,
        // se² = s² / Σ x_{t-1}², s² = ssr / (m - 1).
        let x = ar1(0.9, 3, 200);
        let r = adf(
            &x,
            AdfOptions {
                regression: Regression::None,
                max_lag: Some(0),
                lag: LagSelection::Fixed,
            },
        )
        .expect("valid");
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for w in x.windows(2) {
            sxy += w[0] * (w[1] - w[0]);
            sxx += w[0] * w[0];
        }
        let g = sxy / sxx;
        let ssr: f64 = x.windows(2).map(|w| (w[1] - w[0] - g * w[0]).powi(2)).sum();
        let t = g / (ssr / 198.0 / sxx).sqrt();
        assert!(
            (r.statistic - t).abs() < 1e-10 * t.abs(),
            "{} vs {t}",
            r.statistic
        );
        assert_eq!((r.used_lag, r.n_obs), (0, 199));
    }

    #[test]
    fn default_max_lag_follows_schwert() {
        // n = 1000: ceil(12 * 10^(1/4)) = ceil(21.34) = 22.
        let x = ar1(0.5, 4, 1000);
        let fixed = |regression| AdfOptions {
            regression,
            max_lag: None,
            lag: LagSelection::Fixed,
        };
        let r = adf(&x, fixed(Regression::Constant)).expect("valid");
        assert_eq!((r.used_lag, r.n_obs), (22, 977));
        // n = 20: ceil(12 * 0.2^(1/4)) = 9, capped at 20/2 - 2 - 1 = 7 for "ct".
        let r = adf(&x[..20], fixed(Regression::ConstantTrend)).expect("valid");
        assert_eq!((r.used_lag, r.n_obs), (7, 12));
    }

    #[test]
    fn trend_regression_is_invariant_to_an_added_trend() {
        let x = ar1(0.7, 5, 300);
        let shifted: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(i, v)| v + 100.0 + 0.37 * i as f64)
            .collect();
        let o = AdfOptions {
            regression: Regression::ConstantTrend,
            ..AdfOptions::default()
        };
        let (a, b) = (adf(&x, o).expect("valid"), adf(&shifted, o).expect("valid"));
        assert_eq!(a.used_lag, b.used_lag);
        assert!((a.statistic - b.statistic).abs() < 1e-9 * a.statistic.abs());
    }

    #[test]
    fn quadratic_trend_regression_is_invariant_to_an_added_quadratic() {
        let x = ar1(0.7, 7, 300);
        let shifted: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(i, v)| v - 3.0 + 0.2 * i as f64 + 0.001 * (i * i) as f64)
            .collect();
        let o = AdfOptions {
            regression: Regression::ConstantQuadraticTrend,
            ..AdfOptions::default()
        };
        let (a, b) = (adf(&x, o).expect("valid"), adf(&shifted, o).expect("valid"));
        assert_eq!(a.used_lag, b.used_lag);
        assert!((a.statistic - b.statistic).abs() < 1e-8 * a.statistic.abs());
    }

    #[test]
    fn t_stat_keeps_the_largest_significant_lag() {
        // An AR(3) in differences with a large third coefficient: the general-to-
        // specific search must stop at p ≥ 3, and the chosen lag's coefficient on the
        // common sample is significant while every larger one is not.
        let e = gaussians(8, 2000);
        let mut d = e.clone();
        for t in 3..d.len() {
            d[t] = 0.2 * d[t - 1] + 0.1 * d[t - 2] + 0.4 * d[t - 3] + e[t];
        }
        let x: Vec<f64> = d
            .iter()
            .scan(0.0, |level, v| {
                *level += v;
                Some(*level)
            })
            .collect();
        let max_lag = 10;
        let o = AdfOptions {
            regression: Regression::Constant,
            max_lag: Some(max_lag),
            lag: LagSelection::TStat,
        };
        let r = adf(&x, o).expect("valid");
        assert!(r.used_lag >= 3, "{r:?}");
        assert_eq!(r.n_obs, x.len() - 1 - r.used_lag);
        let diff: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
        let t_last = |p: usize| {
            regress(&x, &diff, max_lag, p, Regression::Constant)
                .expect("valid")
                .t_value(p)
                .abs()
        };
        assert!(t_last(r.used_lag) >= T_STAT_STOP);
        for p in r.used_lag + 1..=max_lag {
            assert!(t_last(p) < T_STAT_STOP, "lag {p}");
        }
        // The chosen lag is refitted on the longest sample it allows: the result is
        // that of a fixed-lag test at that lag.
        let w = ar1(1.0, 9, 500);
        let r = adf(&w, o).expect("valid");
        let fixed = adf(
            &w,
            AdfOptions {
                max_lag: Some(r.used_lag),
                lag: LagSelection::Fixed,
                ..o
            },
        )
        .expect("valid");
        assert_eq!(r, fixed);
    }

    #[test]
    fn invalid_inputs() {
        let x = ar1(0.5, 6, 30);
        let fixed = |max_lag| AdfOptions {
            regression: Regression::Constant,
            max_lag: Some(max_lag),
            lag: LagSelection::Fixed,
        };
        // 30/2 - 1 - 1 = 13 is the largest lag allowed.
        assert!(adf(&x, fixed(13)).is_ok());
        assert_eq!(
            adf(&x, fixed(14)),
            Err(StatsError::TooShort {
                needed: 32,
                got: 30
            })
        );
        assert_eq!(
            adf(&[1.0, 2.0, 3.0], AdfOptions::default()),
            Err(StatsError::TooShort { needed: 4, got: 3 })
        );
        let mut bad = x.clone();
        bad[3] = f64::NAN;
        assert_eq!(
            adf(&bad, AdfOptions::default()),
            Err(StatsError::NonFinite { index: 3 })
        );
        assert_eq!(
            adf(&[5.0; 50], AdfOptions::default()),
            Err(StatsError::Constant)
        );
    }
}
