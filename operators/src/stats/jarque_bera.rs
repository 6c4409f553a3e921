//! The Jarque-Bera test of normality, as statsmodels'
//! `statsmodels.stats.stattools.jarque_bera`.
//!
//! With the biased (population) central moments `m_k = mean((x - x̄)^k)`:
//! skewness `S = m3 / m2^(3/2)`, Pearson kurtosis `K = m4 / m2²` (3 for a normal),
//! `JB = n/6 (S² + (K - 3)²/4)`, and the p-value is the χ²(2) survival function at
//! `JB`.

use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::{check_finite, check_len, mean, StatsError};

/// Result of [`jarque_bera`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JarqueBera {
    /// The JB statistic.
    pub statistic: f64,
    /// Its asymptotic χ²(2) p-value.
    pub p_value: f64,
    /// Biased sample skewness.
    pub skewness: f64,
    /// Biased sample kurtosis, Pearson's (not excess): 3 for a normal.
    pub kurtosis: f64,
}

/// The Jarque-Bera statistic of `x`, its p-value, skewness and kurtosis.
///
/// Needs at least 2 values; a constant series is [`StatsError::Constant`] (scipy's
/// skewness is NaN there).
pub fn jarque_bera(x: &[f64]) -> Result<JarqueBera, StatsError> {
    check_len(x, 2)?;
    check_finite(x)?;
    let n = x.len() as f64;
    let m = mean(x);
    let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
    for &v in x {
        let d = v - m;
        let d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    m2 /= n;
    m3 /= n;
    m4 /= n;
    // scipy's test for "numerically constant" (numpy's f64 resolution is 1e-15).
    if m2 <= (1e-15 * m).powi(2) || m2 == 0.0 {
        return Err(StatsError::Constant);
    }
    let skewness = m3 / m2.powf(1.5);
    let kurtosis = m4 / (m2 * m2);
    let statistic = n / 6.0 * (skewness * skewness + 0.25 * (kurtosis - 3.0).powi(2));
    Ok(JarqueBera {
        statistic,
        p_value: chi2_sf(statistic, 2.0),
        skewness,
        kurtosis,
    })
}

/// Survival function of χ²(`df`) at `x` (`df` > 0).
pub(crate) fn chi2_sf(x: f64, df: f64) -> f64 {
    match ChiSquared::new(df) {
        Ok(d) => d.sf(x),
        Err(_) => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::gaussians;

    #[test]
    fn hand_checked_small_sample() {
        // x = [1, 2, 3, 4, 10]: mean 4, deviations -3 -2 -1 0 6.
        // m2 = 50/5 = 10, m3 = (-27 - 8 - 1 + 216)/5 = 36, m4 = (81 + 16 + 1 + 1296)/5 = 278.8
        let r = jarque_bera(&[1.0, 2.0, 3.0, 4.0, 10.0]).expect("valid");
        let s = 36.0 / 10f64.powf(1.5);
        let k = 278.8 / 100.0;
        assert!((r.skewness - s).abs() < 1e-14);
        assert!((r.kurtosis - k).abs() < 1e-14);
        let jb = 5.0 / 6.0 * (s * s + (k - 3.0) * (k - 3.0) / 4.0);
        assert!((r.statistic - jb).abs() < 1e-13);
        // χ²(2) survival is exp(-x/2).
        assert!((r.p_value - (-jb / 2.0).exp()).abs() < 1e-13);
    }

    #[test]
    fn symmetric_two_point_sample() {
        // ±1: skew 0, kurtosis 1, JB = n/6 * 4/4 = n/6.
        let x: Vec<f64> = (0..60)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let r = jarque_bera(&x).expect("valid");
        assert!(r.skewness.abs() < 1e-15);
        assert!((r.kurtosis - 1.0).abs() < 1e-14);
        assert!((r.statistic - 10.0).abs() < 1e-12);
    }

    #[test]
    fn normal_sample_is_not_rejected_and_a_skewed_one_is() {
        let z = gaussians(42, 2000);
        let r = jarque_bera(&z).expect("valid");
        assert!(r.p_value > 0.01, "{r:?}");
        assert!(
            r.skewness.abs() < 0.2 && (r.kurtosis - 3.0).abs() < 0.4,
            "{r:?}"
        );
        // exp(z) is log-normal: strongly skewed, heavy tailed.
        let e: Vec<f64> = z.iter().map(|v| v.exp()).collect();
        let r = jarque_bera(&e).expect("valid");
        assert!(r.skewness > 2.0 && r.p_value < 1e-10, "{r:?}");
    }

    #[test]
    fn invalid_inputs() {
        assert_eq!(
            jarque_bera(&[1.0]),
            Err(StatsError::TooShort { needed: 2, got: 1 })
        );
        assert_eq!(
            jarque_bera(&[1.0, f64::NAN, 2.0]),
            Err(StatsError::NonFinite { index: 1 })
        );
        assert_eq!(jarque_bera(&[3.0; 10]), Err(StatsError::Constant));
    }
}
