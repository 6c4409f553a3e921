//! Small dense ordinary least squares by Householder QR.
//!
//! Enough of statsmodels' `OLS(...).fit()` for the tests here: coefficients, their
//! standard errors (`sigma² (X'X)⁻¹` with `sigma² = ssr / (nobs - k)`), and the
//! Gaussian log-likelihood, AIC and BIC exactly as statsmodels defines them with
//! `k` = the number of regressors (the rank of a full-rank design):
//!
//! `llf = -nobs/2 (ln 2π + ln(ssr/nobs) + 1)`, `aic = -2 llf + 2k`,
//! `bic = -2 llf + ln(nobs) k`.
//!
//! QR rather than the normal equations: the ADF design mixes a price level, its small
//! differences and a linear trend, whose scales differ by orders of magnitude, and
//! forming `X'X` would square the condition number.

use super::StatsError;

/// A fitted least-squares regression.
#[derive(Debug, Clone)]
pub(crate) struct Fit {
    /// The coefficients, in the order of the columns given.
    pub params: Vec<f64>,
    /// Their standard errors.
    pub bse: Vec<f64>,
    /// Sum of squared residuals.
    pub ssr: f64,
    /// Number of observations.
    pub nobs: usize,
}

impl Fit {
    /// The t-statistic of coefficient `j`.
    pub fn t_value(&self, j: usize) -> f64 {
        self.params[j] / self.bse[j]
    }

    /// Number of regressors.
    fn k(&self) -> f64 {
        self.params.len() as f64
    }

    /// Gaussian log-likelihood at the estimates, as statsmodels' `OLSResults.llf`.
    pub fn llf(&self) -> f64 {
        let n = self.nobs as f64;
        -n / 2.0 * ((2.0 * std::f64::consts::PI).ln() + (self.ssr / n).ln() + 1.0)
    }

    /// Akaike information criterion, as statsmodels' `OLSResults.aic`.
    pub fn aic(&self) -> f64 {
        -2.0 * self.llf() + 2.0 * self.k()
    }

    /// Bayesian information criterion, as statsmodels' `OLSResults.bic`.
    pub fn bic(&self) -> f64 {
        -2.0 * self.llf() + (self.nobs as f64).ln() * self.k()
    }
}

/// Regress `y` on the given columns (each as long as `y`; no constant is added).
///
/// `Err(SingularRegression)` when a column is, to rounding, a combination of the ones
/// before it, or when there are not more observations than regressors.
pub(crate) fn ols(y: &[f64], columns: Vec<Vec<f64>>) -> Result<Fit, StatsError> {
    let n = y.len();
    let k = columns.len();
    if n <= k || columns.iter().any(|c| c.len() != n) {
        return Err(StatsError::SingularRegression);
    }
    let mut a = columns;
    let mut qty = y.to_vec();
    // R's diagonal; the strict upper triangle stays in `a[j][i]`, i < j.
    let mut diag = vec![0.0; k];
    for j in 0..k {
        let original_norm = a[j].iter().map(|v| v * v).sum::<f64>().sqrt();
        let norm = a[j][j..].iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm <= 1e-11 * original_norm {
            return Err(StatsError::SingularRegression);
        }
        let alpha = if a[j][j] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = a[j][j..].to_vec();
        v[0] -= alpha;
        let vv: f64 = v.iter().map(|x| x * x).sum();
        let reflect = |col: &mut [f64]| {
            let dot: f64 = v.iter().zip(col.iter()).map(|(a, b)| a * b).sum();
            let s = 2.0 * dot / vv;
            for (c, vi) in col.iter_mut().zip(v.iter()) {
                *c -= s * vi;
            }
        };
        for col in a.iter_mut().skip(j + 1) {
            reflect(&mut col[j..]);
        }
        reflect(&mut qty[j..]);
        diag[j] = alpha;
    }
    let r = |i: usize, j: usize| if i == j { diag[j] } else { a[j][i] };
    // Back substitution: R beta = (Q'y)[..k].
    let mut params = vec![0.0; k];
    for i in (0..k).rev() {
        let s: f64 = ((i + 1)..k).map(|j| r(i, j) * params[j]).sum();
        params[i] = (qty[i] - s) / r(i, i);
    }
    let ssr: f64 = qty[k..].iter().map(|v| v * v).sum();
    // (X'X)^-1 = R^-1 R^-T, so var(beta_i) = sigma² * |row i of R^-1|²; build R^-1
    // column by column (back substitution against e_j) and accumulate the row norms.
    let mut row_norm2 = vec![0.0; k];
    for j in 0..k {
        let mut z = vec![0.0; j + 1];
        z[j] = 1.0 / r(j, j);
        for i in (0..j).rev() {
            let s: f64 = ((i + 1)..=j).map(|m| r(i, m) * z[m]).sum();
            z[i] = -s / r(i, i);
        }
        for (acc, zi) in row_norm2.iter_mut().zip(&z) {
            *acc += zi * zi;
        }
    }
    let sigma2 = ssr / (n - k) as f64;
    let bse = row_norm2.iter().map(|v| (sigma2 * v).sqrt()).collect();
    Ok(Fit {
        params,
        bse,
        ssr,
        nobs: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_line_recovers_its_coefficients() {
        // y = 2 + 3 t exactly, then with a +-1 disturbance.
        let t: Vec<f64> = (0..6).map(f64::from).collect();
        let e = [1.0, -1.0, -1.0, 1.0, 1.0, -1.0];
        let y: Vec<f64> = t.iter().map(|t| 2.0 + 3.0 * t).collect();
        let fit = ols(&y, vec![vec![1.0; 6], t.clone()]).expect("full rank");
        assert!((fit.params[0] - 2.0).abs() < 1e-12);
        assert!((fit.params[1] - 3.0).abs() < 1e-12);
        assert!(fit.ssr < 1e-20);
        // With noise, compare with the closed-form simple regression.
        let y2: Vec<f64> = y.iter().zip(e).map(|(y, e)| y + e).collect();
        let fit = ols(&y2, vec![vec![1.0; 6], t.clone()]).expect("full rank");
        let tm = 2.5;
        let ym = y2.iter().sum::<f64>() / 6.0;
        let sxy: f64 = t.iter().zip(&y2).map(|(t, y)| (t - tm) * (y - ym)).sum();
        let sxx: f64 = t.iter().map(|t| (t - tm) * (t - tm)).sum();
        let b = sxy / sxx;
        assert!((fit.params[1] - b).abs() < 1e-12);
        assert!((fit.params[0] - (ym - b * tm)).abs() < 1e-12);
        let ssr: f64 = t
            .iter()
            .zip(&y2)
            .map(|(t, y)| (y - fit.params[0] - fit.params[1] * t).powi(2))
            .sum();
        assert!((fit.ssr - ssr).abs() < 1e-12);
        let se_b = (ssr / 4.0 / sxx).sqrt();
        assert!((fit.bse[1] - se_b).abs() < 1e-12);
    }

    #[test]
    fn collinear_columns_are_singular() {
        let a: Vec<f64> = (0..10).map(f64::from).collect();
        let b: Vec<f64> = a.iter().map(|v| 2.0 * v).collect();
        let y = vec![1.0; 10];
        assert_eq!(
            ols(&y, vec![a, b]).err(),
            Some(StatsError::SingularRegression)
        );
    }
}
