//! DCC(1,1) dynamic conditional correlation (Engle 2002) across N return series.
//!
//! Two-stage quasi-maximum likelihood:
//!
//! 1. each series gets a GARCH(1,1) with a constant mean ([`crate::models::garch::fit`],
//!    normal innovations), giving standardised residuals `zᵢₜ = (yᵢₜ − μᵢ) / σᵢₜ`;
//! 2. with `Q̄` the sample correlation matrix of `z` (correlation targeting),
//!
//!    `Qₜ = (1 − a − b) Q̄ + a zₜ₋₁ zₜ₋₁' + b Qₜ₋₁`, `Q₁ = Q̄`,
//!    `Rₜ = diag(Qₜ)^{−½} Qₜ diag(Qₜ)^{−½}`,
//!
//!    and `(a, b)` maximise the correlation part of the Gaussian log-likelihood
//!
//!    `ℓ_C(a, b) = −½ Σₜ (ln |Rₜ| + zₜ' Rₜ⁻¹ zₜ − zₜ' zₜ)`
//!
//!    over `a, b ≥ 0`, `a + b < 1` (Nelder–Mead from `a = 0.05, b = 0.9`).
//!
//! The full log-likelihood is the sum of the univariate GARCH log-likelihoods and
//! `ℓ_C`. The one-step-ahead forecast is `R_{T+1}` from
//! `Q_{T+1} = (1 − a − b) Q̄ + a z_T z_T' + b Q_T`.
//!
//! arch has no DCC; `dcc::tests` check the recursion against a naive recomputation,
//! recover the parameters of simulated DCC processes, and check that every `Rₜ` is a
//! correlation matrix.

use thiserror::Error;

use crate::models::garch::{self, Distribution, GarchFit};
use crate::models::optimize::{MinimizeOptions, NelderMead};
use crate::models::ModelError;

/// Why a DCC model could not be fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DccError {
    /// Fewer than two series.
    #[error("DCC needs at least 2 series, got {got}")]
    TooFewSeries {
        /// The number of series given.
        got: usize,
    },
    /// The series do not all have the same length.
    #[error("series {series} has {got} values, series 0 has {expected}")]
    LengthMismatch {
        /// Index of the first series whose length differs.
        series: usize,
        /// Its length.
        got: usize,
        /// The length of series 0.
        expected: usize,
    },
    /// A series' univariate GARCH could not be fitted.
    #[error("series {series}: {source}")]
    Garch {
        /// Index of the series.
        series: usize,
        /// The GARCH error.
        source: ModelError,
    },
    /// The standardised residuals are perfectly collinear, so `Q̄` is singular.
    #[error("the standardised residuals are collinear: their correlation matrix is singular")]
    Singular,
}

/// A fitted DCC(1,1) model. Matrices are `N × N`, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct DccFit {
    /// The number of series `N`.
    pub n_series: usize,
    /// The news coefficient `a`.
    pub a: f64,
    /// The persistence coefficient `b`.
    pub b: f64,
    /// The correlation part of the log-likelihood, `ℓ_C(a, b)`.
    pub correlation_log_likelihood: f64,
    /// The full log-likelihood: the GARCH log-likelihoods plus `ℓ_C`.
    pub log_likelihood: f64,
    /// Nelder–Mead iterations of stage 2.
    pub iterations: usize,
    /// Whether stage 2 met its tolerances.
    pub converged: bool,
    /// The stage-1 GARCH fit of each series.
    pub garch: Vec<GarchFit>,
    /// `Q̄`, the sample correlation of the standardised residuals.
    pub q_bar: Vec<f64>,
    /// `R₁ … R_T`, each `N × N`, concatenated.
    pub correlations: Vec<f64>,
    /// The one-step-ahead forecast `R_{T+1}`.
    pub forecast: Vec<f64>,
}

impl DccFit {
    /// `Rₜ` for `t` in `0..T` (0-based).
    pub fn correlation(&self, t: usize) -> &[f64] {
        let nn = self.n_series * self.n_series;
        &self.correlations[t * nn..(t + 1) * nn]
    }

    /// The last in-sample correlation matrix `R_T`.
    pub fn last_correlation(&self) -> &[f64] {
        let nn = self.n_series * self.n_series;
        &self.correlations[self.correlations.len() - nn..]
    }
}

/// Fit DCC(1,1) to `series` (each a return series, all of one length; see the module
/// docs).
///
/// Errors: fewer than 2 series, unequal lengths, a series GARCH cannot be fitted on (too
/// short, non-finite, constant), collinear standardised residuals.
pub fn fit(series: &[&[f64]]) -> Result<DccFit, DccError> {
    if series.len() < 2 {
        return Err(DccError::TooFewSeries { got: series.len() });
    }
    let expected = series[0].len();
    if let Some((i, s)) = series.iter().enumerate().find(|(_, s)| s.len() != expected) {
        return Err(DccError::LengthMismatch {
            series: i,
            got: s.len(),
            expected,
        });
    }
    let mut garch_fits = Vec::with_capacity(series.len());
    let mut z = Vec::with_capacity(series.len());
    for (i, s) in series.iter().enumerate() {
        let g = garch::fit(s, Distribution::Normal)
            .map_err(|source| DccError::Garch { series: i, source })?;
        z.push(g.standardized_residuals(s));
        garch_fits.push(g);
    }
    let z_refs: Vec<&[f64]> = z.iter().map(Vec::as_slice).collect();
    let stage2 = fit_standardized(&z_refs)?;
    let garch_ll: f64 = garch_fits.iter().map(|g| g.log_likelihood).sum();
    Ok(DccFit {
        n_series: series.len(),
        a: stage2.a,
        b: stage2.b,
        correlation_log_likelihood: stage2.log_likelihood,
        log_likelihood: garch_ll + stage2.log_likelihood,
        iterations: stage2.iterations,
        converged: stage2.converged,
        garch: garch_fits,
        q_bar: stage2.q_bar,
        correlations: stage2.correlations,
        forecast: stage2.forecast,
    })
}

/// Stage 2 alone: the DCC fit of given standardised residuals.
#[derive(Debug, Clone, PartialEq)]
pub struct DccCorrelation {
    /// The news coefficient `a`.
    pub a: f64,
    /// The persistence coefficient `b`.
    pub b: f64,
    /// `ℓ_C(a, b)`.
    pub log_likelihood: f64,
    /// Nelder–Mead iterations.
    pub iterations: usize,
    /// Whether the search met its tolerances.
    pub converged: bool,
    /// `Q̄`.
    pub q_bar: Vec<f64>,
    /// `R₁ … R_T`, concatenated.
    pub correlations: Vec<f64>,
    /// `R_{T+1}`.
    pub forecast: Vec<f64>,
}

/// Estimate `(a, b)` on standardised residuals `z` (one slice per series, equal lengths
/// of at least 2): stage 2 of [`fit`].
pub fn fit_standardized(z: &[&[f64]]) -> Result<DccCorrelation, DccError> {
    let n = z.len();
    if n < 2 {
        return Err(DccError::TooFewSeries { got: n });
    }
    let t_len = z[0].len();
    if let Some((i, s)) = z.iter().enumerate().find(|(_, s)| s.len() != t_len) {
        return Err(DccError::LengthMismatch {
            series: i,
            got: s.len(),
            expected: t_len,
        });
    }
    if t_len < 2 {
        return Err(DccError::Garch {
            series: 0,
            source: ModelError::TooShort {
                needed: 2,
                got: t_len,
            },
        });
    }
    for (i, s) in z.iter().enumerate() {
        crate::models::check_finite(s).map_err(|source| DccError::Garch { series: i, source })?;
    }
    let q_bar = sample_correlation(z);
    let mut work = Workspace::new(n);
    work.r.copy_from_slice(&q_bar);
    if !work.cholesky() {
        return Err(DccError::Singular);
    }
    let opts = MinimizeOptions {
        max_iterations: 2_000,
        x_tolerance: 1e-9,
        f_tolerance: 1e-12,
        initial_step: 0.1,
    };
    let mut nm = NelderMead::with_bounds(&[0.05, 0.9], &[0.0, 0.0], &[1.0, 1.0], opts);
    while !nm.is_done() {
        let (a, b) = (nm.ask()[0], nm.ask()[1]);
        let value = if a + b < 1.0 {
            -work.log_likelihood(z, &q_bar, a, b, None)
        } else {
            f64::INFINITY
        };
        nm.tell(value);
    }
    let (best, value) = nm.best();
    let (a, b) = (best[0], best[1]);
    let mut correlations = vec![0.0; t_len * n * n];
    work.log_likelihood(z, &q_bar, a, b, Some(&mut correlations));
    let forecast = work.next_correlation(z, &q_bar, a, b);
    Ok(DccCorrelation {
        a,
        b,
        log_likelihood: -value,
        iterations: nm.iterations(),
        converged: nm.converged(),
        q_bar,
        correlations,
        forecast,
    })
}

/// `ℓ_C(a, b)` of standardised residuals `z` given `Q̄` (see the module docs), and the
/// path `R₁ … R_T` into `path` when given (`T · N²` values).
pub fn correlation_log_likelihood(
    z: &[&[f64]],
    q_bar: &[f64],
    a: f64,
    b: f64,
    path: Option<&mut [f64]>,
) -> f64 {
    Workspace::new(z.len()).log_likelihood(z, q_bar, a, b, path)
}

/// The sample correlation matrix (divisor n) of the columns `z`, row-major.
fn sample_correlation(z: &[&[f64]]) -> Vec<f64> {
    let n = z.len();
    let t = z[0].len() as f64;
    let means: Vec<f64> = z.iter().map(|s| s.iter().sum::<f64>() / t).collect();
    let mut cov = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let c = z[i]
                .iter()
                .zip(z[j])
                .map(|(x, y)| (x - means[i]) * (y - means[j]))
                .sum::<f64>()
                / t;
            cov[i * n + j] = c;
            cov[j * n + i] = c;
        }
    }
    let mut corr = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            corr[i * n + j] = if i == j {
                1.0
            } else {
                cov[i * n + j] / (cov[i * n + i] * cov[j * n + j]).sqrt()
            };
        }
    }
    corr
}

/// Buffers for the recursion, allocated once per fit.
#[derive(Debug)]
struct Workspace {
    n: usize,
    q: Vec<f64>,
    r: Vec<f64>,
    /// The Cholesky factor of `r` (lower triangle).
    l: Vec<f64>,
    zt: Vec<f64>,
    y: Vec<f64>,
}

impl Workspace {
    fn new(n: usize) -> Self {
        Self {
            n,
            q: vec![0.0; n * n],
            r: vec![0.0; n * n],
            l: vec![0.0; n * n],
            zt: vec![0.0; n],
            y: vec![0.0; n],
        }
    }

    /// `r = diag(q)^{−½} q diag(q)^{−½}` (unit diagonal exactly).
    fn normalise(&mut self) {
        let n = self.n;
        for i in 0..n {
            for j in 0..n {
                self.r[i * n + j] = if i == j {
                    1.0
                } else {
                    self.q[i * n + j] / (self.q[i * n + i] * self.q[j * n + j]).sqrt()
                };
            }
        }
    }

    /// Cholesky-factor `r` into `l`; false unless positive definite.
    fn cholesky(&mut self) -> bool {
        let n = self.n;
        for i in 0..n {
            for j in 0..=i {
                let mut s = self.r[i * n + j];
                for k in 0..j {
                    s -= self.l[i * n + k] * self.l[j * n + k];
                }
                if i == j {
                    if s <= 0.0 || s.is_nan() {
                        return false;
                    }
                    self.l[i * n + i] = s.sqrt();
                } else {
                    self.l[i * n + j] = s / self.l[j * n + j];
                }
            }
        }
        true
    }

    /// `Qₜ` from `Qₜ₋₁` (in `q`) and `zₜ₋₁` (in `zt`).
    fn update(&mut self, q_bar: &[f64], a: f64, b: f64) {
        let c = 1.0 - a - b;
        let n = self.n;
        // The lower triangle, mirrored: Q stays exactly symmetric.
        for i in 0..n {
            for j in 0..=i {
                let k = i * n + j;
                let v = c * q_bar[k] + a * self.zt[i] * self.zt[j] + b * self.q[k];
                self.q[k] = v;
                self.q[j * n + i] = v;
            }
        }
    }

    fn load_z(&mut self, z: &[&[f64]], t: usize) {
        for (dst, s) in self.zt.iter_mut().zip(z) {
            *dst = s[t];
        }
    }

    fn log_likelihood(
        &mut self,
        z: &[&[f64]],
        q_bar: &[f64],
        a: f64,
        b: f64,
        mut path: Option<&mut [f64]>,
    ) -> f64 {
        let n = self.n;
        let t_len = z[0].len();
        self.q.copy_from_slice(q_bar);
        let mut ll = 0.0;
        for t in 0..t_len {
            if t > 0 {
                self.load_z(z, t - 1);
                self.update(q_bar, a, b);
            }
            self.normalise();
            if let Some(p) = path.as_deref_mut() {
                p[t * n * n..(t + 1) * n * n].copy_from_slice(&self.r);
            }
            if !self.cholesky() {
                return f64::NEG_INFINITY;
            }
            self.load_z(z, t);
            // ln|R| = 2 Σ ln Lᵢᵢ; z'R⁻¹z = |L⁻¹z|².
            let mut log_det = 0.0;
            let mut quad = 0.0;
            let mut zz = 0.0;
            for i in 0..n {
                let mut s = self.zt[i];
                for k in 0..i {
                    s -= self.l[i * n + k] * self.y[k];
                }
                self.y[i] = s / self.l[i * n + i];
                log_det += 2.0 * self.l[i * n + i].ln();
                quad += self.y[i] * self.y[i];
                zz += self.zt[i] * self.zt[i];
            }
            ll += -0.5 * (log_det + quad - zz);
        }
        ll
    }

    /// `R_{T+1}`, with `q` holding `Q_T` after [`log_likelihood`](Self::log_likelihood).
    fn next_correlation(&mut self, z: &[&[f64]], q_bar: &[f64], a: f64, b: f64) -> Vec<f64> {
        self.load_z(z, z[0].len() - 1);
        self.update(q_bar, a, b);
        self.normalise();
        self.r.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::gaussians;

    /// A tiny deterministic generator of correlated Gaussian vectors: `x = L ε`.
    fn correlated(seed: u64, t: usize, r: &[f64], n: usize) -> Vec<Vec<f64>> {
        let mut w = Workspace::new(n);
        w.r.copy_from_slice(r);
        assert!(w.cholesky());
        let e = gaussians(seed, t * n);
        let mut out = vec![vec![0.0; t]; n];
        for s in 0..t {
            for (i, column) in out.iter_mut().enumerate() {
                column[s] = (0..=i).map(|k| w.l[i * n + k] * e[s * n + k]).sum();
            }
        }
        out
    }

    /// A simulated DCC(1,1) of standardised residuals (unit-variance marginals).
    fn simulated_dcc(
        seed: u64,
        t: usize,
        a: f64,
        b: f64,
        q_bar: &[f64],
        n: usize,
    ) -> Vec<Vec<f64>> {
        let e = gaussians(seed, t * n);
        let mut w = Workspace::new(n);
        w.q.copy_from_slice(q_bar);
        let mut out = vec![vec![0.0; t]; n];
        for s in 0..t {
            if s > 0 {
                for (zt, column) in w.zt.iter_mut().zip(&out) {
                    *zt = column[s - 1];
                }
                w.update(q_bar, a, b);
            }
            w.normalise();
            assert!(w.cholesky());
            for (i, column) in out.iter_mut().enumerate() {
                column[s] = (0..=i).map(|k| w.l[i * n + k] * e[s * n + k]).sum();
            }
        }
        out
    }

    /// GARCH(1,1) marginals (ω .05, α .08, β .9) around given standardised residuals.
    fn with_garch(z: &[f64]) -> Vec<f64> {
        let mut s2: f64 = 0.05 / 0.02;
        z.iter()
            .map(|z| {
                let e = s2.sqrt() * z;
                s2 = 0.05 + 0.08 * e * e + 0.9 * s2;
                0.01 + e
            })
            .collect()
    }

    fn refs(v: &[Vec<f64>]) -> Vec<&[f64]> {
        v.iter().map(Vec::as_slice).collect()
    }

    /// Dense inverse and determinant by Gauss-Jordan elimination with partial pivoting.
    fn naive_inverse_det(m: &[Vec<f64>]) -> (Vec<Vec<f64>>, f64) {
        let n = m.len();
        let mut a: Vec<Vec<f64>> = m.to_vec();
        let mut inv: Vec<Vec<f64>> = (0..n)
            .map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect())
            .collect();
        let mut det = 1.0;
        for c in 0..n {
            let p = (c..n)
                .max_by(|&x, &y| a[x][c].abs().total_cmp(&a[y][c].abs()))
                .unwrap();
            if p != c {
                a.swap(p, c);
                inv.swap(p, c);
                det = -det;
            }
            let d = a[c][c];
            det *= d;
            for j in 0..n {
                a[c][j] /= d;
                inv[c][j] /= d;
            }
            for r in 0..n {
                if r != c {
                    let f = a[r][c];
                    for j in 0..n {
                        a[r][j] -= f * a[c][j];
                        inv[r][j] -= f * inv[c][j];
                    }
                }
            }
        }
        (inv, det)
    }

    #[test]
    fn the_recursion_matches_a_naive_recomputation() {
        let n = 3;
        let r = [1.0, 0.5, 0.2, 0.5, 1.0, -0.3, 0.2, -0.3, 1.0];
        let z = simulated_dcc(5, 400, 0.06, 0.9, &r, n);
        let z = refs(&z);
        let q_bar = sample_correlation(&z);
        let (a, b) = (0.07, 0.88);
        let mut path = vec![0.0; 400 * n * n];
        let ll = correlation_log_likelihood(&z, &q_bar, a, b, Some(&mut path));
        // Naive: nested Vecs, the formulas as written.
        let qb: Vec<Vec<f64>> = (0..n).map(|i| q_bar[i * n..(i + 1) * n].to_vec()).collect();
        let mut q = qb.clone();
        let mut naive_ll = 0.0;
        for t in 0..400 {
            if t > 0 {
                q = (0..n)
                    .map(|i| {
                        (0..n)
                            .map(|j| {
                                (1.0 - a - b) * qb[i][j]
                                    + a * z[i][t - 1] * z[j][t - 1]
                                    + b * q[i][j]
                            })
                            .collect()
                    })
                    .collect();
            }
            let rt: Vec<Vec<f64>> = (0..n)
                .map(|i| {
                    (0..n)
                        .map(|j| q[i][j] / (q[i][i] * q[j][j]).sqrt())
                        .collect()
                })
                .collect();
            for i in 0..n {
                for j in 0..n {
                    let got = path[t * n * n + i * n + j];
                    assert!((got - rt[i][j]).abs() < 1e-13, "t {t} ({i},{j})");
                }
            }
            let (inv, det) = naive_inverse_det(&rt);
            let zt: Vec<f64> = (0..n).map(|i| z[i][t]).collect();
            let quad: f64 = (0..n)
                .map(|i| (0..n).map(|j| zt[i] * inv[i][j] * zt[j]).sum::<f64>())
                .sum();
            let zz: f64 = zt.iter().map(|v| v * v).sum();
            naive_ll += -0.5 * (det.ln() + quad - zz);
        }
        assert!(
            (ll - naive_ll).abs() < 1e-9 * naive_ll.abs(),
            "{ll} vs {naive_ll}"
        );
    }

    #[test]
    fn recovers_a_constant_correlation() {
        let z = correlated(21, 2000, &[1.0, 0.6, 0.6, 1.0], 2);
        let y: Vec<Vec<f64>> = z.iter().map(|s| with_garch(s)).collect();
        let f = fit(&refs(&y)).unwrap();
        assert!(f.converged);
        assert!(f.a < 0.02, "a {}", f.a);
        let mean_rho = (0..2000).map(|t| f.correlation(t)[1]).sum::<f64>() / 2000.0;
        assert!((mean_rho - 0.6).abs() < 0.05, "mean rho {mean_rho}");
        assert!((f.q_bar[1] - 0.6).abs() < 0.05, "{:?}", f.q_bar);
    }

    #[test]
    fn recovers_simulated_dcc_parameters() {
        let q_bar = [1.0, 0.4, 0.4, 1.0];
        let z = simulated_dcc(33, 5000, 0.05, 0.93, &q_bar, 2);
        let y: Vec<Vec<f64>> = z.iter().map(|s| with_garch(s)).collect();
        let f = fit(&refs(&y)).unwrap();
        assert!(f.converged);
        assert!((f.a - 0.05).abs() < 0.02, "a {}", f.a);
        assert!((f.b - 0.93).abs() < 0.04, "b {}", f.b);
        let total: f64 = f.garch.iter().map(|g| g.log_likelihood).sum();
        assert!((f.log_likelihood - total - f.correlation_log_likelihood).abs() < 1e-9);
    }

    #[test]
    fn every_correlation_matrix_is_a_correlation_matrix() {
        let r = [1.0, 0.7, -0.2, 0.7, 1.0, 0.1, -0.2, 0.1, 1.0];
        let z = simulated_dcc(44, 1500, 0.08, 0.9, &r, 3);
        let y: Vec<Vec<f64>> = z.iter().map(|s| with_garch(s)).collect();
        let f = fit(&refs(&y)).unwrap();
        let n = 3;
        let mut w = Workspace::new(n);
        for t in 0..=1500 {
            let m = if t < 1500 {
                f.correlation(t)
            } else {
                &f.forecast[..]
            };
            for i in 0..n {
                assert_eq!(m[i * n + i], 1.0);
                for j in 0..n {
                    assert_eq!(m[i * n + j], m[j * n + i]);
                    assert!(m[i * n + j].abs() <= 1.0);
                }
            }
            w.r.copy_from_slice(m);
            assert!(w.cholesky(), "R_{t} is not positive definite");
        }
        assert_eq!(f.last_correlation(), f.correlation(1499));
    }

    #[test]
    fn bad_input_is_refused() {
        let a = with_garch(&gaussians(1, 300));
        let b = with_garch(&gaussians(2, 299));
        assert_eq!(fit(&[&a]).unwrap_err(), DccError::TooFewSeries { got: 1 });
        assert_eq!(
            fit(&[&a, &b]).unwrap_err(),
            DccError::LengthMismatch {
                series: 1,
                got: 299,
                expected: 300
            }
        );
        let flat = vec![0.1; 300];
        assert_eq!(
            fit(&[&a, &flat]).unwrap_err(),
            DccError::Garch {
                series: 1,
                source: ModelError::Constant
            }
        );
        assert_eq!(fit(&[&a, &a]).unwrap_err(), DccError::Singular);
    }
}
