//! Classical statistical tests of a series, checked against statsmodels.
//!
//! Pure functions over `&[f64]`, computed in `f64`, each reproducing one statsmodels
//! function exactly (same estimators, same defaults, same approximations), so a number
//! here can be compared with a number from a notebook:
//!
//! - [`jarque_bera::jarque_bera`]: normality, as `statsmodels.stats.stattools.jarque_bera`;
//! - [`ljung_box::ljung_box`]: serial correlation, as
//!   `statsmodels.stats.diagnostic.acorr_ljungbox(x, lags=[...])`;
//! - [`adf::adf`]: the augmented Dickey-Fuller unit-root test, as
//!   `statsmodels.tsa.stattools.adfuller` with any of its `regression` (`n`, `c`, `ct`,
//!   `ctt`) and `autolag` (`AIC`, `BIC`, `t-stat`, `None`) options, with MacKinnon's
//!   p-values and critical values.
//!
//! `tests/stats_reference.rs` (crate `bot4-tests`) holds them to statsmodels' own output
//! on real and simulated series (fixtures made by `tests/python/make_stats_fixtures.py`).
//!
//! Every function refuses non-finite input ([`StatsError::NonFinite`]) instead of
//! propagating NaN.

pub mod adf;
pub mod dcc;
pub mod ewma_correlation;
pub mod jarque_bera;
pub mod ljung_box;
mod mackinnon;
pub(crate) mod ols;

use thiserror::Error;

/// Why a statistic could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum StatsError {
    /// The series is too short for the test as asked.
    #[error("series too short: needs at least {needed} values, got {got}")]
    TooShort {
        /// The fewest values the test needs with these options.
        needed: usize,
        /// The number of values given.
        got: usize,
    },
    /// A value is NaN or infinite.
    #[error("non-finite value at index {index}")]
    NonFinite {
        /// Index of the first non-finite value.
        index: usize,
    },
    /// The series is constant, so its moments or its regression are undefined.
    #[error("series is constant")]
    Constant,
    /// The least-squares design matrix is (numerically) rank deficient.
    #[error("singular regression: the regressors are collinear")]
    SingularRegression,
    /// A requested lag is not usable (zero, or none asked for).
    #[error("invalid lag {lag}: lags must be at least 1 and at least one lag is needed")]
    InvalidLag {
        /// The offending lag (0 when the list of lags was empty).
        lag: usize,
    },
}

/// `Err(NonFinite)` at the first NaN or infinity of `x`.
fn check_finite(x: &[f64]) -> Result<(), StatsError> {
    match x.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(StatsError::NonFinite { index }),
        None => Ok(()),
    }
}

/// `Err(TooShort)` unless `x` has at least `needed` values.
fn check_len(x: &[f64], needed: usize) -> Result<(), StatsError> {
    if x.len() < needed {
        Err(StatsError::TooShort {
            needed,
            got: x.len(),
        })
    } else {
        Ok(())
    }
}

/// Arithmetic mean (`x` non-empty).
fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// A tiny deterministic Gaussian source for the tests: an LCG and Box-Muller.
#[cfg(test)]
pub(crate) fn gaussians(seed: u64, n: usize) -> Vec<f64> {
    let mut state = seed;
    let mut uniform = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| {
            let (u1, u2) = (uniform(), uniform());
            (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        })
        .collect()
}
