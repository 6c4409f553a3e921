//! The Ljung-Box portmanteau test of serial correlation, as statsmodels'
//! `statsmodels.stats.diagnostic.acorr_ljungbox(x, lags=[...])` with `model_df=0`.
//!
//! With the sample autocorrelation `r_k = Σ_{t≥k} (x_t - x̄)(x_{t-k} - x̄) / Σ_t (x_t - x̄)²`
//! (statsmodels' `acf(x, fft=False)`: demeaned, both sums over all `n` observations,
//! i.e. the biased estimator), `Q(h) = n (n + 2) Σ_{k=1..h} r_k² / (n - k)`, and the
//! p-value is the χ²(h) survival function at `Q(h)`.

use super::jarque_bera::chi2_sf;
use super::{check_finite, check_len, mean, StatsError};

/// The Ljung-Box statistic at one lag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LjungBox {
    /// The lag `h` (number of autocorrelations summed).
    pub lag: usize,
    /// `Q(h)`.
    pub statistic: f64,
    /// Its asymptotic χ²(h) p-value.
    pub p_value: f64,
}

/// The sample autocorrelations `r_0..=r_max_lag` of `x` (statsmodels' `acf(x,
/// nlags=max_lag, fft=False)`); `r_0 = 1`. `x` must be finite, non-constant and longer
/// than `max_lag`.
pub(crate) fn acf(x: &[f64], max_lag: usize) -> Vec<f64> {
    let m = mean(x);
    let d: Vec<f64> = x.iter().map(|v| v - m).collect();
    let c0: f64 = d.iter().map(|v| v * v).sum();
    (0..=max_lag)
        .map(|k| d[k..].iter().zip(&d).map(|(a, b)| a * b).sum::<f64>() / c0)
        .collect()
}

/// `Q(h)` and its p-value for each `h` in `lags` (in the order given; repeats allowed).
///
/// Every lag must be at least 1 and below `x.len()`; `lags` must not be empty
/// ([`StatsError::InvalidLag`] with lag 0 then). A constant series is
/// [`StatsError::Constant`] (its autocorrelations are undefined).
pub fn ljung_box(x: &[f64], lags: &[usize]) -> Result<Vec<LjungBox>, StatsError> {
    let max_lag = match lags.iter().max() {
        Some(&m) => m,
        None => return Err(StatsError::InvalidLag { lag: 0 }),
    };
    if lags.contains(&0) {
        return Err(StatsError::InvalidLag { lag: 0 });
    }
    check_len(x, max_lag + 1)?;
    check_finite(x)?;
    if x.iter().all(|&v| v == x[0]) {
        return Err(StatsError::Constant);
    }
    let n = x.len() as f64;
    let r = acf(x, max_lag);
    // cumulative[h] = n (n + 2) Σ_{k=1..h} r_k² / (n - k)
    let mut cumulative = vec![0.0; max_lag + 1];
    let mut sum = 0.0;
    for k in 1..=max_lag {
        sum += r[k] * r[k] / (n - k as f64);
        cumulative[k] = n * (n + 2.0) * sum;
    }
    Ok(lags
        .iter()
        .map(|&lag| {
            let statistic = cumulative[lag];
            LjungBox {
                lag,
                statistic,
                p_value: chi2_sf(statistic, lag as f64),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::gaussians;

    #[test]
    fn hand_checked_alternating_series() {
        // x = [1, -1, 1, -1]: mean 0, r_1 = -3/4, r_2 = 2/4.
        let x = [1.0, -1.0, 1.0, -1.0];
        let r = acf(&x, 2);
        assert_eq!(r, vec![1.0, -0.75, 0.5]);
        let q = ljung_box(&x, &[1, 2]).expect("valid");
        let q1 = 4.0 * 6.0 * (0.5625 / 3.0);
        let q2 = q1 + 4.0 * 6.0 * (0.25 / 2.0);
        assert!((q[0].statistic - q1).abs() < 1e-12);
        assert!((q[1].statistic - q2).abs() < 1e-12);
        // χ²(2) survival is exp(-x/2).
        assert!((q[1].p_value - (-q2 / 2.0).exp()).abs() < 1e-12);
        assert_eq!((q[0].lag, q[1].lag), (1, 2));
    }

    #[test]
    fn white_noise_is_not_significant_and_ar1_is() {
        let e = gaussians(7, 1000);
        for q in ljung_box(&e, &[1, 5, 10, 20]).expect("valid") {
            assert!(q.p_value > 0.01, "{q:?}");
        }
        let mut ar = e.clone();
        for t in 1..ar.len() {
            ar[t] = 0.8 * ar[t - 1] + e[t];
        }
        for q in ljung_box(&ar, &[1, 5, 10, 20]).expect("valid") {
            assert!(q.p_value < 1e-10, "{q:?}");
        }
    }

    #[test]
    fn statistic_grows_with_the_lag() {
        let e = gaussians(3, 300);
        let q = ljung_box(&e, &[20, 1, 5, 10]).expect("valid");
        assert!(q[1].statistic <= q[2].statistic);
        assert!(q[2].statistic <= q[3].statistic);
        assert!(q[3].statistic <= q[0].statistic);
    }

    #[test]
    fn invalid_inputs() {
        let x = [1.0, 2.0, 3.0];
        assert_eq!(ljung_box(&x, &[]), Err(StatsError::InvalidLag { lag: 0 }));
        assert_eq!(
            ljung_box(&x, &[0, 1]),
            Err(StatsError::InvalidLag { lag: 0 })
        );
        assert_eq!(
            ljung_box(&x, &[3]),
            Err(StatsError::TooShort { needed: 4, got: 3 })
        );
        assert_eq!(
            ljung_box(&[1.0, f64::INFINITY, 0.0], &[1]),
            Err(StatsError::NonFinite { index: 1 })
        );
        assert_eq!(ljung_box(&[2.0; 5], &[1]), Err(StatsError::Constant));
    }
}
