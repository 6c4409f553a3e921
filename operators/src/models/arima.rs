//! AR(p) by least squares, ARIMA(p,d,q) by conditional sum of squares, and an online
//! AR(p) refitted on a rolling window.
//!
//! - [`fit_ar`] is statsmodels' `AutoReg(x, lags=p, trend='c'|'n').fit()`: ordinary least
//!   squares of `x_t` on `[1,] x_{t-1}, …, x_{t-p}` over `t = p … n-1`, solved by
//!   Householder QR; its [`ArFit::forecast`] is `res.forecast(h)`.
//! - [`fit_arima`] differences the series `d` times and minimises the conditional sum of
//!   squares (R's `arima(method = "CSS")`): with `y` the differenced series,
//!   `e_t = y_t − c − Σᵢ φᵢ y_{t−i} − Σⱼ θⱼ e_{t−j}` for `t ≥ p`, pre-sample errors zero,
//!   objective `S = Σ_{t≥p} e_t²`, over invertible MA polynomials (outside them the
//!   residual recursion explodes and `S` is dominated by rounding; see [`fit_arima`]).
//!   Hannan–Rissanen start, the shared Nelder–Mead
//!   ([`super::optimize::minimize`]), then Levenberg–Marquardt steps on the exact
//!   Jacobian of the residuals to polish the optimum.
//! - [`RollingAr`] keeps the cross-products of the AR design over the last `window`
//!   observations up to date in O(p²) per observation and solves the normal equations
//!   every `refit_every` observations, allocating nothing after construction.
//!
//! `tests/arima_reference.rs` (crate `bot4-tests`) holds [`fit_ar`] to statsmodels and
//! [`fit_arima`] to an independent scipy CSS fit (fixtures from
//! `tests/python/make_arima_fixtures.py`).

use super::optimize::{minimize, MinimizeOptions};
use super::{check_finite, ModelError};
use crate::indicators::window::Ring;
use crate::stats::ols::ols;

/// An AR(p) model fitted by ordinary least squares, as statsmodels' `AutoRegResults`.
#[derive(Debug, Clone, PartialEq)]
pub struct ArFit {
    /// The order `p`.
    pub p: usize,
    /// Whether a constant was fitted.
    pub trend: bool,
    /// `[c,] φ₁ … φ_p`: the constant first when fitted, then the lag coefficients.
    pub params: Vec<f64>,
    /// The innovation variance as statsmodels computes it: `σ² = SSR / nobs`.
    pub sigma2: f64,
    /// The conditional Gaussian log-likelihood,
    /// `llf = −nobs/2 · (ln 2π + ln σ² + 1)`.
    pub llf: f64,
    /// Observations in the regression: `n − p`.
    pub nobs: usize,
}

impl ArFit {
    /// The constant `c` (0 without a trend).
    pub fn constant(&self) -> f64 {
        if self.trend {
            self.params[0]
        } else {
            0.0
        }
    }

    /// The lag coefficients `φ₁ … φ_p`.
    pub fn ar(&self) -> &[f64] {
        &self.params[usize::from(self.trend)..]
    }

    /// Forecasts `h` steps past the end of `history`: `x̂_{T+k} = c + Σᵢ φᵢ x̂_{T+k−i}`,
    /// with observed values where `T+k−i ≤ T`. Equal to statsmodels' `res.forecast(h)`
    /// when `history` is the fitted series.
    ///
    /// # Panics
    /// If `history` holds fewer than `p` values.
    pub fn forecast(&self, history: &[f64], h: usize) -> Vec<f64> {
        assert!(
            history.len() >= self.p,
            "an AR({}) forecast needs the last {} values",
            self.p,
            self.p
        );
        let mut path: Vec<f64> = history[history.len() - self.p..].to_vec();
        for _ in 0..h {
            let next = self.constant()
                + self
                    .ar()
                    .iter()
                    .zip(path.iter().rev())
                    .map(|(phi, x)| phi * x)
                    .sum::<f64>();
            path.push(next);
        }
        path.split_off(self.p)
    }
}

/// Fit AR(`p`) to `x` by least squares: `x_t = [c +] Σᵢ φᵢ x_{t−i} + e_t`, `t = p … n−1`.
///
/// As statsmodels' `AutoReg(x, lags=p, trend='c' if trend else 'n').fit()`.
///
/// # Errors
/// [`ModelError::InvalidSpec`] for `p = 0` without a trend, [`ModelError::NonFinite`],
/// [`ModelError::TooShort`] unless `n − p` exceeds the number of parameters, and
/// [`ModelError::Constant`] when the regressors are collinear (a constant series).
///
/// # Examples
///
/// ```
/// use bot4_operators::models::arima::fit_ar;
///
/// let x: Vec<f64> = (0..200).map(|t| ((t * 7919) % 101) as f64 / 50.0 - 1.0).collect();
/// let fit = fit_ar(&x, 2, true).unwrap();
/// assert_eq!(fit.params.len(), 3);
/// assert_eq!(fit.forecast(&x, 5).len(), 5);
/// ```
pub fn fit_ar(x: &[f64], p: usize, trend: bool) -> Result<ArFit, ModelError> {
    if p == 0 && !trend {
        return Err(ModelError::InvalidSpec("an AR(0) needs a constant"));
    }
    check_finite(x)?;
    let k = p + usize::from(trend);
    let needed = p + k + 1;
    if x.len() < needed {
        return Err(ModelError::TooShort {
            needed,
            got: x.len(),
        });
    }
    let nobs = x.len() - p;
    let mut columns = Vec::with_capacity(k);
    if trend {
        columns.push(vec![1.0; nobs]);
    }
    for i in 1..=p {
        columns.push(x[p - i..x.len() - i].to_vec());
    }
    let fit = ols(&x[p..], columns).map_err(|_| ModelError::Constant)?;
    let sigma2 = fit.ssr / nobs as f64;
    let n = nobs as f64;
    let llf = -n / 2.0 * ((2.0 * std::f64::consts::PI).ln() + sigma2.ln() + 1.0);
    Ok(ArFit {
        p,
        trend,
        params: fit.params,
        sigma2,
        llf,
        nobs,
    })
}

/// Whether `1 − Σᵢ aᵢ zⁱ` has all its roots outside the unit circle (the AR polynomial
/// of a stationary process; with `aⱼ = −θⱼ`, the MA polynomial of an invertible one).
///
/// The Schur–Cohn test by the step-down (inverse Levinson–Durbin) recursion: the
/// polynomial is stable iff every reflection coefficient `r_k = a_k^{(k)}` has `|r_k| < 1`,
/// where `a_i^{(k−1)} = (a_i^{(k)} + r_k a_{k−i}^{(k)}) / (1 − r_k²)`.
pub fn is_stable(a: &[f64]) -> bool {
    let mut a = a.to_vec();
    while let Some(&r) = a.last() {
        if r.is_nan() || r.abs() >= 1.0 {
            return false;
        }
        let k = a.len();
        let prev: Vec<f64> = (0..k - 1)
            .map(|i| (a[i] + r * a[k - 2 - i]) / (1.0 - r * r))
            .collect();
        a = prev;
    }
    true
}

/// An ARIMA(p,d,q) model fitted by conditional sum of squares.
#[derive(Debug, Clone, PartialEq)]
pub struct ArimaFit {
    /// The AR order `p`.
    pub p: usize,
    /// The number of differences `d`.
    pub d: usize,
    /// The MA order `q`.
    pub q: usize,
    /// Whether a constant (the intercept `c` of the differenced series) was fitted.
    pub constant: bool,
    /// `[c,] φ₁ … φ_p, θ₁ … θ_q`.
    pub params: Vec<f64>,
    /// The conditional sum of squares at `params`: `S = Σ_{t≥p} e_t²`.
    pub css: f64,
    /// The terms in `S`: `n − d − p`.
    pub n_used: usize,
    /// `σ² = S / n_used`, as R's `arima(method = "CSS")`.
    pub sigma2: f64,
    /// Whether the AR polynomial `1 − Σ φᵢ zⁱ` has its roots outside the unit circle. A
    /// non-stationary fit is returned, not refused; its forecasts of `y` need not settle.
    pub stationary: bool,
    /// Whether the MA polynomial `1 + Σ θⱼ zʲ` has its roots outside the unit circle.
    /// The search keeps to that region (its closure), so this is `false` only for a fit
    /// that reached the boundary exactly, a root on the unit circle to rounding; a root
    /// within about 1e-6 of it is reported by [`ArimaFit::ma_at_boundary`] (typical of an
    /// over-differenced series).
    pub invertible: bool,
    /// Optimiser iterations (Nelder–Mead plus Levenberg–Marquardt).
    pub iterations: usize,
    /// The last `p` differenced values, oldest first.
    tail_y: Vec<f64>,
    /// The last `q` residuals, oldest first.
    tail_e: Vec<f64>,
    /// The last value of the series differenced `0 … d−1` times.
    last_levels: Vec<f64>,
}

impl ArimaFit {
    /// The intercept `c` (0 without a constant).
    pub fn intercept(&self) -> f64 {
        if self.constant {
            self.params[0]
        } else {
            0.0
        }
    }

    /// Whether an MA root lies within 1e-6 of the unit circle, i.e. the fit stopped at
    /// the boundary of the invertible region (the series looks over-differenced). Judged
    /// by the step-down recursion on `θ` scaled by `1 + 1e-6`.
    pub fn ma_at_boundary(&self) -> bool {
        let scaled: Vec<f64> = self
            .ma()
            .iter()
            .zip(1..)
            .map(|(v, j)| -v * (1.0 + 1e-6f64).powi(j))
            .collect();
        !is_stable(&scaled)
    }

    /// `φ₁ … φ_p`.
    pub fn ar(&self) -> &[f64] {
        let k = usize::from(self.constant);
        &self.params[k..k + self.p]
    }

    /// `θ₁ … θ_q`.
    pub fn ma(&self) -> &[f64] {
        let k = usize::from(self.constant);
        &self.params[k + self.p..]
    }

    /// Forecasts of the series' levels `h` steps past the end of the fitted data.
    ///
    /// The differenced series is forecast by `ŷ_{T+k} = c + Σᵢ φᵢ ŷ_{T+k−i} + Σⱼ θⱼ
    /// e_{T+k−j}` (observed `y` and CSS residuals up to `T`, future residuals zero), then
    /// integrated back `d` times: `x̂_{T+k} = x_T + Σ_{m≤k} ŷ_{T+m}` per level.
    pub fn forecast(&self, h: usize) -> Vec<f64> {
        let mut y = self.tail_y.clone();
        let mut e = self.tail_e.clone();
        let mut out = Vec::with_capacity(h);
        for _ in 0..h {
            let ar: f64 = self
                .ar()
                .iter()
                .zip(y.iter().rev())
                .map(|(a, v)| a * v)
                .sum();
            let ma: f64 = self
                .ma()
                .iter()
                .zip(e.iter().rev())
                .map(|(b, v)| b * v)
                .sum();
            let next = self.intercept() + ar + ma;
            y.push(next);
            e.push(0.0);
            out.push(next);
        }
        for &last in self.last_levels.iter().rev() {
            let mut level = last;
            for v in out.iter_mut() {
                level += *v;
                *v = level;
            }
        }
        out
    }
}

/// The CSS residuals of `y` (`e_t` for `t ≥ p`, `e_t = 0` before) into `e`, and their sum
/// of squares; `+∞` when they overflow.
fn css_residuals(
    theta: &[f64],
    y: &[f64],
    p: usize,
    q: usize,
    constant: bool,
    e: &mut [f64],
) -> f64 {
    let k = usize::from(constant);
    let c = if constant { theta[0] } else { 0.0 };
    let (phi, ma) = theta[k..k + p + q].split_at(p);
    let mut ssq = 0.0;
    for t in 0..y.len() {
        if t < p {
            e[t] = 0.0;
            continue;
        }
        let mut v = y[t] - c;
        for (i, a) in phi.iter().enumerate() {
            v -= a * y[t - 1 - i];
        }
        for (j, b) in ma.iter().enumerate().take(t) {
            v -= b * e[t - 1 - j];
        }
        e[t] = v;
        ssq += v * v;
    }
    if ssq.is_finite() {
        ssq
    } else {
        f64::INFINITY
    }
}

/// Whether `1 + Σⱼ θⱼ zʲ` has its roots outside the unit circle.
fn ma_invertible(ma: &[f64], scratch: &mut Vec<f64>) -> bool {
    scratch.clear();
    scratch.extend(ma.iter().map(|v| -v));
    is_stable(scratch)
}

/// The CSS objective over invertible MA polynomials: `S`, or `+∞` outside.
fn css_objective(
    theta: &[f64],
    y: &[f64],
    p: usize,
    q: usize,
    constant: bool,
    e: &mut [f64],
    scratch: &mut Vec<f64>,
) -> f64 {
    if !ma_invertible(&theta[usize::from(constant) + p..], scratch) {
        return f64::INFINITY;
    }
    css_residuals(theta, y, p, q, constant, e)
}

/// Map free values `u₁ … u_q` onto an invertible MA polynomial: reflection coefficients
/// `r_k = tanh(u_k)`, stepped up by Levinson–Durbin (`a_k^{(k)} = r_k`,
/// `a_i^{(k)} = a_i^{(k−1)} − r_k a_{k−i}^{(k−1)}`) to a stable `1 − Σ aᵢ zⁱ`, and
/// `θⱼ = −aⱼ`. Every `u` gives an invertible `θ` and every invertible `θ` has a `u`.
fn ma_from_free(u: &[f64], ma: &mut [f64], work: &mut [f64]) {
    for k in 0..u.len() {
        let r = u[k].tanh();
        work[..k].copy_from_slice(&ma[..k]);
        for i in 0..k {
            ma[i] = work[i] - r * work[k - 1 - i];
        }
        ma[k] = r;
    }
    ma.iter_mut().for_each(|v| *v = -*v);
}

/// The inverse of [`ma_from_free`] for an invertible `θ`, by the step-down recursion.
fn ma_to_free(ma: &[f64], u: &mut [f64]) {
    let mut a: Vec<f64> = ma.iter().map(|v| -v).collect();
    while let Some(&r) = a.last() {
        let k = a.len();
        u[k - 1] = r.clamp(-1.0 + 1e-12, 1.0 - 1e-12).atanh();
        a = (0..k - 1)
            .map(|i| (a[i] + r * a[k - 2 - i]) / (1.0 - r * r))
            .collect();
    }
}

/// Solve the symmetric positive definite `a x = b` (`a` row-major `k×k`, overwritten by
/// its Cholesky factor) into `b`. `false` when `a` is not numerically positive definite.
fn cholesky_solve(a: &mut [f64], b: &mut [f64], k: usize) -> bool {
    for j in 0..k {
        let mut s = a[j * k + j];
        for m in 0..j {
            s -= a[j * k + m] * a[j * k + m];
        }
        let scale = a[j * k + j].abs().max(f64::MIN_POSITIVE);
        if s.is_nan() || s <= 1e-13 * scale {
            return false;
        }
        let l = s.sqrt();
        a[j * k + j] = l;
        for i in j + 1..k {
            let mut s = a[i * k + j];
            for m in 0..j {
                s -= a[i * k + m] * a[j * k + m];
            }
            a[i * k + j] = s / l;
        }
    }
    for i in 0..k {
        let mut s = b[i];
        for m in 0..i {
            s -= a[i * k + m] * b[m];
        }
        b[i] = s / a[i * k + i];
    }
    for i in (0..k).rev() {
        let mut s = b[i];
        for m in i + 1..k {
            s -= a[m * k + i] * b[m];
        }
        b[i] = s / a[i * k + i];
    }
    true
}

/// The Hannan–Rissanen start: a long AR by least squares gives residuals `ê`, then `y_t`
/// is regressed on `[1,] y_{t−1…t−p}, ê_{t−1…t−q}`. `None` when either regression fails.
fn hannan_rissanen(y: &[f64], p: usize, q: usize, constant: bool) -> Option<Vec<f64>> {
    let n = y.len();
    let long = (p + q + 1)
        .max(((n as f64).ln() * 2.0).ceil() as usize)
        .min(n / 4);
    let k = usize::from(constant);
    if long <= p.max(q) {
        return None;
    }
    let ar = fit_ar(y, long, constant).ok()?;
    let mut e_hat = vec![0.0; n];
    for t in long..n {
        let pred: f64 = ar.constant()
            + ar.ar()
                .iter()
                .enumerate()
                .map(|(i, a)| a * y[t - 1 - i])
                .sum::<f64>();
        e_hat[t] = y[t] - pred;
    }
    let start = long + q.max(p);
    let rows = n.checked_sub(start)?;
    if rows <= 2 * (k + p + q) {
        return None;
    }
    let mut columns = Vec::with_capacity(k + p + q);
    if constant {
        columns.push(vec![1.0; rows]);
    }
    for i in 1..=p {
        columns.push(y[start - i..n - i].to_vec());
    }
    for j in 1..=q {
        columns.push(e_hat[start - j..n - j].to_vec());
    }
    ols(&y[start..], columns).ok().map(|f| f.params)
}

/// Levenberg–Marquardt on the CSS residuals from `theta`, with the exact Jacobian by its
/// recursion (pre-sample derivatives zero):
/// `∂e_t/∂c = −1 − Σⱼ θⱼ ∂e_{t−j}/∂c`, `∂e_t/∂φᵢ = −y_{t−i} − Σⱼ θⱼ ∂e_{t−j}/∂φᵢ`,
/// `∂e_t/∂θₘ = −e_{t−m} − Σⱼ θⱼ ∂e_{t−j}/∂θₘ`. Improves `theta` in place; returns the
/// objective and the iterations used.
fn levenberg_marquardt(
    theta: &mut [f64],
    y: &[f64],
    p: usize,
    q: usize,
    constant: bool,
) -> (f64, usize) {
    let n = y.len();
    let k = theta.len();
    let kc = usize::from(constant);
    let mut e = vec![0.0; n];
    let mut trial_e = vec![0.0; n];
    // Derivatives, row-major n×k.
    let mut de = vec![0.0; n * k];
    let mut jtj = vec![0.0; k * k];
    let mut jte = vec![0.0; k];
    let mut a = vec![0.0; k * k];
    let mut step = vec![0.0; k];
    let mut trial = vec![0.0; k];
    let mut scratch = Vec::with_capacity(q);
    let mut value = css_objective(theta, y, p, q, constant, &mut e, &mut scratch);
    let mut mu = 1e-3;
    let mut iterations = 0;
    while iterations < 200 && value.is_finite() {
        iterations += 1;
        let ma = &theta[kc + p..];
        de.fill(0.0);
        for t in p..n {
            for col in 0..k {
                let mut v = if col < kc {
                    -1.0
                } else if col < kc + p {
                    -y[t - 1 - (col - kc)]
                } else {
                    let m = col - kc - p + 1;
                    if t >= m {
                        -e[t - m]
                    } else {
                        0.0
                    }
                };
                for (j, b) in ma.iter().enumerate().take(t) {
                    v -= b * de[(t - 1 - j) * k + col];
                }
                de[t * k + col] = v;
            }
        }
        jtj.fill(0.0);
        jte.fill(0.0);
        for t in p..n {
            let row = &de[t * k..(t + 1) * k];
            for i in 0..k {
                jte[i] += row[i] * e[t];
                for j in 0..=i {
                    jtj[i * k + j] += row[i] * row[j];
                }
            }
        }
        for i in 0..k {
            for j in 0..i {
                jtj[j * k + i] = jtj[i * k + j];
            }
        }
        let mut improved = false;
        while mu < 1e12 {
            a.copy_from_slice(&jtj);
            for i in 0..k {
                a[i * k + i] += mu * jtj[i * k + i].max(1e-300);
                step[i] = -jte[i];
            }
            if cholesky_solve(&mut a, &mut step, k) {
                for i in 0..k {
                    trial[i] = theta[i] + step[i];
                }
                let v = css_objective(&trial, y, p, q, constant, &mut trial_e, &mut scratch);
                if v < value {
                    let gain = value - v;
                    theta.copy_from_slice(&trial);
                    std::mem::swap(&mut e, &mut trial_e);
                    value = v;
                    mu = (mu / 10.0).max(1e-12);
                    improved = gain > 1e-15 * value.max(f64::MIN_POSITIVE);
                    break;
                }
            }
            mu *= 10.0;
        }
        if !improved {
            break;
        }
    }
    (value, iterations)
}

/// Fit ARIMA(`p`,`d`,`q`) to `x` by conditional sum of squares.
///
/// `y` is `x` differenced `d` times; the residuals are
/// `e_t = y_t − c − Σᵢ φᵢ y_{t−i} − Σⱼ θⱼ e_{t−j}` for `t ≥ p` with `e_t = 0` for `t < p`
/// (and no intercept `c` unless `constant`), and `(c, φ, θ)` minimise
/// `S = Σ_{t≥p} e_t²`. With `q = 0` this is the AR least-squares fit; otherwise the
/// search starts at the Hannan–Rissanen estimate (or the AR fit, MA terms zero, if that
/// fails), runs the shared Nelder–Mead, and polishes its optimum with
/// Levenberg–Marquardt steps on the exact Jacobian.
///
/// The MA polynomial is kept invertible (`S = +∞` outside, for the simplex and the
/// polish alike). R's `arima(method = "CSS")` leaves it free, but beyond the unit circle
/// the recursion `e_t = u_t − Σ θⱼ e_{t−j}` amplifies by `|root|^{-n}` and `S` becomes a
/// rounding artefact with no stable minimum: an over-differenced series (returns
/// differenced once) has its unconstrained "minimum" just outside, at `θ₁ ≈ −1.004` on
/// S&P 500 returns. Constrained, such a fit stops at the boundary, which
/// [`ArimaFit::ma_at_boundary`] reports. The AR polynomial is not constrained (CSS
/// conditions on the first `p` values); [`ArimaFit::stationary`] reports it.
///
/// # Errors
/// [`ModelError::InvalidSpec`] for `p = q = 0` without a constant,
/// [`ModelError::NonFinite`], [`ModelError::TooShort`], [`ModelError::Constant`] when the
/// differenced series is constant, and [`ModelError::NoConvergence`] when neither the
/// simplex nor the polish converged.
///
/// # Examples
///
/// ```
/// use bot4_operators::models::arima::fit_arima;
///
/// let x: Vec<f64> = (0..300).map(|t| ((t * 7919) % 101) as f64 / 50.0 - 1.0).collect();
/// let fit = fit_arima(&x, 1, 0, 1, true).unwrap();
/// assert_eq!(fit.params.len(), 3);
/// assert_eq!(fit.forecast(10).len(), 10);
/// ```
pub fn fit_arima(
    x: &[f64],
    p: usize,
    d: usize,
    q: usize,
    constant: bool,
) -> Result<ArimaFit, ModelError> {
    if p == 0 && q == 0 && !constant {
        return Err(ModelError::InvalidSpec("ARIMA(0,d,0) needs a constant"));
    }
    check_finite(x)?;
    let k = usize::from(constant) + p + q;
    let needed = d + p + 2 * k + 2;
    if x.len() < needed {
        return Err(ModelError::TooShort {
            needed,
            got: x.len(),
        });
    }
    let mut last_levels = Vec::with_capacity(d);
    let mut y = x.to_vec();
    for _ in 0..d {
        last_levels.push(y[y.len() - 1]);
        y = y.windows(2).map(|w| w[1] - w[0]).collect();
    }
    if y.iter().all(|&v| v == y[0]) {
        return Err(ModelError::Constant);
    }
    let (theta, iterations) = if q == 0 && p > 0 {
        (fit_ar(&y, p, constant)?.params, 0)
    } else if q == 0 {
        // ARIMA(0,d,0) with a constant: the mean.
        (vec![y.iter().sum::<f64>() / y.len() as f64], 0)
    } else {
        let start = hannan_rissanen(&y, p, q, constant).unwrap_or_else(|| {
            let mut s = vec![0.0; k];
            if p > 0 {
                if let Ok(ar) = fit_ar(&y, p, constant) {
                    s[..ar.params.len()].copy_from_slice(&ar.params);
                }
            }
            s
        });
        let mut start = start;
        let kc = usize::from(constant);
        let mut scratch = Vec::with_capacity(q);
        while !ma_invertible(&start[kc + p..], &mut scratch) {
            start[kc + p..].iter_mut().for_each(|v| *v *= 0.5);
        }
        // The simplex searches `(c, φ, u)` with the MA part mapped onto the invertible
        // region ([`ma_from_free`]), so it can approach that region's boundary smoothly.
        let mut free = start.clone();
        ma_to_free(&start[kc + p..], &mut free[kc + p..]);
        let mut e = vec![0.0; y.len()];
        let mut theta = vec![0.0; k];
        let mut work = vec![0.0; q];
        let opts = MinimizeOptions {
            max_iterations: 20_000,
            x_tolerance: 1e-10,
            f_tolerance: 1e-15,
            initial_step: 0.1,
        };
        let nm = minimize(
            |u| {
                theta[..kc + p].copy_from_slice(&u[..kc + p]);
                ma_from_free(&u[kc + p..], &mut theta[kc + p..], &mut work);
                css_residuals(&theta, &y, p, q, constant, &mut e)
            },
            &free,
            opts,
        );
        let mut theta = nm.x[..kc + p].to_vec();
        theta.resize(k, 0.0);
        ma_from_free(&nm.x[kc + p..], &mut theta[kc + p..], &mut work);
        let (_, lm_iterations) = levenberg_marquardt(&mut theta, &y, p, q, constant);
        if !nm.converged && lm_iterations >= 200 {
            return Err(ModelError::NoConvergence {
                iterations: nm.iterations + lm_iterations,
            });
        }
        (theta, nm.iterations + lm_iterations)
    };
    let mut e = vec![0.0; y.len()];
    let css = css_residuals(&theta, &y, p, q, constant, &mut e);
    let n_used = y.len() - p;
    let kc = usize::from(constant);
    let stationary = is_stable(&theta[kc..kc + p]);
    let neg_ma: Vec<f64> = theta[kc + p..].iter().map(|v| -v).collect();
    let invertible = is_stable(&neg_ma);
    Ok(ArimaFit {
        p,
        d,
        q,
        constant,
        css,
        n_used,
        sigma2: css / n_used as f64,
        stationary,
        invertible,
        iterations,
        tail_y: y[y.len() - p..].to_vec(),
        tail_e: e[e.len() - q..].to_vec(),
        last_levels,
        params: theta,
    })
}

/// AR(p) refitted on a rolling window of the last `window` observations.
///
/// Over the window's rows `t = p … window−1` the sums `Σ z_t z_tᵀ` of
/// `z_t = ([1,] x_{t−1} − s, …, x_{t−p} − s, x_t − s)` are kept up to date as each
/// observation enters and the oldest leaves (O(p²) per observation). The shift `s` is the
/// window's mean at the last re-summation (0 without a constant, where no shift is exact),
/// which keeps cancellation out of the sums; every `window` observations the sums are
/// taken afresh from the window, so rounding from adding and removing rows never builds
/// up past one window's worth. Every `refit_every` observations once the window is full,
/// the normal equations `(XᵀX) β = Xᵀy` are solved by Cholesky, and the shifted
/// intercept is mapped back: `c = c' + s (1 − Σ φᵢ)`.
///
/// Non-finite observations are ignored. All storage is allocated in [`RollingAr::new`].
///
/// # Examples
///
/// ```
/// use bot4_operators::models::arima::RollingAr;
///
/// let mut ar = RollingAr::new(2, 100, 10, true).unwrap();
/// for t in 0..150 {
///     ar.observe(((t * 7919) % 101) as f64 / 50.0 - 1.0);
/// }
/// assert!(ar.is_fitted());
/// assert!(ar.forecast().is_finite());
/// ```
#[derive(Debug, Clone)]
pub struct RollingAr {
    p: usize,
    trend: bool,
    refit_every: usize,
    ring: Ring,
    shift: f64,
    /// `Σ z zᵀ`, row-major `(k+1)×(k+1)`, `k` regressors then the target.
    sums: Box<[f64]>,
    /// One row `z`.
    row: Box<[f64]>,
    /// The normal equations' matrix and right-hand side, solved in place.
    a: Box<[f64]>,
    b: Box<[f64]>,
    /// `[c,] φ₁ … φ_p` in the original (unshifted) scale.
    params: Box<[f64]>,
    fitted: bool,
    since_resum: usize,
    since_refit: usize,
}

impl RollingAr {
    /// An AR(`p`) on the last `window` observations, with a constant if `trend`, refitted
    /// every `refit_every` observations.
    ///
    /// # Errors
    /// [`ModelError::InvalidSpec`] for `p = 0` without a trend, `refit_every = 0`, or a
    /// window with no more rows (`window − p`) than parameters.
    pub fn new(
        p: usize,
        window: usize,
        refit_every: usize,
        trend: bool,
    ) -> Result<Self, ModelError> {
        let k = p + usize::from(trend);
        if k == 0 {
            return Err(ModelError::InvalidSpec("an AR(0) needs a constant"));
        }
        if refit_every == 0 {
            return Err(ModelError::InvalidSpec("refit_every must be at least 1"));
        }
        if window < p + k + 1 {
            return Err(ModelError::InvalidSpec(
                "the window must hold more rows than parameters",
            ));
        }
        let dim = k + 1;
        Ok(Self {
            p,
            trend,
            refit_every,
            ring: Ring::new(window),
            shift: 0.0,
            sums: vec![0.0; dim * dim].into_boxed_slice(),
            row: vec![0.0; dim].into_boxed_slice(),
            a: vec![0.0; k * k].into_boxed_slice(),
            b: vec![0.0; k].into_boxed_slice(),
            params: vec![0.0; k].into_boxed_slice(),
            fitted: false,
            since_resum: 0,
            since_refit: 0,
        })
    }

    /// Fill `row` with the design row whose target is the window's value `t` (`t ≥ p`).
    fn fill_row(&mut self, t: usize) {
        let kc = usize::from(self.trend);
        if self.trend {
            self.row[0] = 1.0;
        }
        for i in 1..=self.p {
            self.row[kc + i - 1] = self.ring.get(t - i).unwrap_or(0.0) - self.shift;
        }
        self.row[kc + self.p] = self.ring.get(t).unwrap_or(0.0) - self.shift;
    }

    /// Add `sign · row rowᵀ` to the sums (upper triangle only).
    fn accumulate(&mut self, sign: f64) {
        let dim = self.row.len();
        for i in 0..dim {
            let ri = sign * self.row[i];
            for j in i..dim {
                self.sums[i * dim + j] += ri * self.row[j];
            }
        }
    }

    /// Take the shift and the sums afresh from the window.
    fn resum(&mut self) {
        self.shift = if self.trend {
            self.ring.iter().sum::<f64>() / self.ring.len() as f64
        } else {
            0.0
        };
        self.sums.fill(0.0);
        for t in self.p..self.ring.len() {
            self.fill_row(t);
            self.accumulate(1.0);
        }
    }

    /// Solve the normal equations; keep the previous parameters if they are singular.
    fn refit(&mut self) {
        let k = self.b.len();
        let dim = k + 1;
        for i in 0..k {
            for j in 0..k {
                let (lo, hi) = (i.min(j), i.max(j));
                self.a[i * k + j] = self.sums[lo * dim + hi];
            }
            self.b[i] = self.sums[i * dim + k];
        }
        if !cholesky_solve(&mut self.a, &mut self.b, k) {
            return;
        }
        let kc = usize::from(self.trend);
        self.params.copy_from_slice(&self.b);
        if self.trend {
            let phi_sum: f64 = self.params[kc..].iter().sum();
            self.params[0] += self.shift * (1.0 - phi_sum);
        }
        self.fitted = true;
    }

    /// Take the next observation (ignored if not finite); refits when due.
    pub fn observe(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        let window = self.ring.capacity();
        if self.ring.is_full() {
            // The oldest row leaves with the oldest value.
            self.fill_row(self.p);
            self.accumulate(-1.0);
        }
        if self.ring.is_empty() && self.trend {
            self.shift = x;
        }
        self.ring.push(x);
        if self.ring.len() > self.p {
            self.fill_row(self.ring.len() - 1);
            self.accumulate(1.0);
        }
        self.since_resum += 1;
        if self.since_resum >= window {
            self.since_resum = 0;
            self.resum();
        }
        if self.ring.is_full() {
            if self.since_refit == 0 {
                self.refit();
            }
            self.since_refit = (self.since_refit + 1) % self.refit_every;
        }
    }

    /// The one-step forecast `x̂_{T+1} = c + Σᵢ φᵢ x_{T+1−i}` from the last fit and the
    /// newest `p` observations; NaN until the first fit.
    pub fn forecast(&self) -> f64 {
        if !self.fitted {
            return f64::NAN;
        }
        let kc = usize::from(self.trend);
        let n = self.ring.len();
        let mut f = if self.trend { self.params[0] } else { 0.0 };
        for i in 1..=self.p {
            f += self.params[kc + i - 1] * self.ring.get(n - i).unwrap_or(0.0);
        }
        f
    }

    /// `[c,] φ₁ … φ_p` of the last fit (zeros until the first).
    pub fn params(&self) -> &[f64] {
        &self.params
    }

    /// Whether a fit has been made.
    pub fn is_fitted(&self) -> bool {
        self.fitted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::gaussians;

    /// A Gaussian AR(2) `x_t = 0.3 + 0.5 x_{t−1} − 0.25 x_{t−2} + e_t`.
    fn ar2(seed: u64, n: usize) -> Vec<f64> {
        let e = gaussians(seed, n);
        let mut x = vec![0.0; n];
        for t in 2..n {
            x[t] = 0.3 + 0.5 * x[t - 1] - 0.25 * x[t - 2] + e[t];
        }
        x
    }

    /// The CSS objective straight from its definition, for comparison.
    fn naive_css(theta: &[f64], x: &[f64], p: usize, d: usize, q: usize, c: bool) -> f64 {
        let mut y = x.to_vec();
        for _ in 0..d {
            y = y.windows(2).map(|w| w[1] - w[0]).collect();
        }
        let mut e = vec![0.0; y.len()];
        css_residuals(theta, &y, p, q, c, &mut e)
    }

    #[test]
    fn ar_recovers_simulated_coefficients() {
        let x = ar2(3, 20_000);
        let fit = fit_ar(&x, 2, true).unwrap();
        assert!((fit.params[0] - 0.3).abs() < 0.05, "{:?}", fit.params);
        assert!((fit.params[1] - 0.5).abs() < 0.03, "{:?}", fit.params);
        assert!((fit.params[2] + 0.25).abs() < 0.03, "{:?}", fit.params);
        assert!((fit.sigma2 - 1.0).abs() < 0.05);
        assert_eq!(fit.nobs, 19_998);
    }

    #[test]
    fn ar_errors() {
        assert_eq!(
            fit_ar(&[1.0, 2.0], 0, false).err(),
            Some(ModelError::InvalidSpec("an AR(0) needs a constant"))
        );
        assert!(matches!(
            fit_ar(&[1.0, 2.0, 3.0], 2, true),
            Err(ModelError::TooShort { .. })
        ));
        assert_eq!(
            fit_ar(&[1.0, f64::NAN, 3.0, 4.0, 5.0, 6.0], 1, true).err(),
            Some(ModelError::NonFinite { index: 1 })
        );
        assert_eq!(
            fit_ar(&[2.0; 50], 1, true).err(),
            Some(ModelError::Constant)
        );
    }

    #[test]
    fn ar_forecast_iterates_the_recursion() {
        let fit = ArFit {
            p: 2,
            trend: true,
            params: vec![1.0, 0.5, 0.25],
            sigma2: 1.0,
            llf: 0.0,
            nobs: 10,
        };
        let f = fit.forecast(&[9.0, 4.0, 2.0], 2);
        assert_eq!(f[0], 1.0 + 0.5 * 2.0 + 0.25 * 4.0);
        assert_eq!(f[1], 1.0 + 0.5 * f[0] + 0.25 * 2.0);
    }

    #[test]
    fn stability_matches_known_polynomials() {
        assert!(is_stable(&[]));
        assert!(is_stable(&[0.5]));
        assert!(!is_stable(&[1.0]));
        assert!(!is_stable(&[-1.2]));
        // AR(2) stationarity triangle: φ₂ > −1, φ₂ < 1 − |φ₁|.
        assert!(is_stable(&[0.5, -0.25]));
        assert!(is_stable(&[1.2, -0.5]));
        assert!(!is_stable(&[0.6, 0.5]));
        assert!(!is_stable(&[0.2, -1.1]));
        // (1 − 0.9z)(1 − 1.1z) has a root inside.
        assert!(!is_stable(&[2.0, -0.99]));
    }

    #[test]
    fn the_ma_map_round_trips_and_stays_invertible() {
        let mut ma = [0.0; 3];
        let mut work = [0.0; 3];
        let mut back = [0.0; 3];
        for u in [[0.3, -1.2, 0.7], [5.0, -4.0, 2.5], [-0.1, 0.0, 0.2]] {
            ma_from_free(&u, &mut ma, &mut work);
            let neg: Vec<f64> = ma.iter().map(|v| -v).collect();
            assert!(is_stable(&neg), "{ma:?}");
            ma_to_free(&ma, &mut back);
            for (a, b) in u.iter().zip(&back) {
                assert!((a - b).abs() < 1e-9, "{u:?} -> {back:?}");
            }
        }
        // MA(1): θ = −tanh(u).
        ma_from_free(&[0.5], &mut ma[..1], &mut work);
        assert!((ma[0] + 0.5f64.tanh()).abs() < 1e-15);
    }

    #[test]
    fn arima_css_with_no_ma_is_ar_least_squares() {
        let x = ar2(5, 2_000);
        let fit = fit_arima(&x, 2, 0, 0, true).unwrap();
        let ar = fit_ar(&x, 2, true).unwrap();
        assert_eq!(fit.params, ar.params);
        assert!((fit.sigma2 - ar.sigma2).abs() < 1e-12);
        assert!(fit.stationary && fit.invertible);
    }

    #[test]
    fn arima_css_recovers_an_arma11_and_is_a_minimum() {
        let e = gaussians(11, 5_000);
        let mut x = vec![0.0; e.len()];
        for t in 1..e.len() {
            x[t] = 0.1 + 0.6 * x[t - 1] + e[t] + 0.3 * e[t - 1];
        }
        let fit = fit_arima(&x, 1, 0, 1, true).unwrap();
        assert!((fit.params[1] - 0.6).abs() < 0.05, "{:?}", fit.params);
        assert!((fit.params[2] - 0.3).abs() < 0.05, "{:?}", fit.params);
        assert!(fit.stationary && fit.invertible);
        let at = naive_css(&fit.params, &x, 1, 0, 1, true);
        assert!((at - fit.css).abs() <= 1e-12 * at);
        for i in 0..3 {
            for h in [1e-4, -1e-4] {
                let mut moved = fit.params.clone();
                moved[i] += h;
                assert!(naive_css(&moved, &x, 1, 0, 1, true) > fit.css);
            }
        }
    }

    #[test]
    fn arima_forecast_integrates_to_levels() {
        // A random walk with drift: ARIMA(0,1,1) forecasts are straight lines from the
        // last level with the fitted drift as slope.
        let e = gaussians(13, 3_000);
        let mut x = vec![100.0; e.len()];
        for t in 1..e.len() {
            x[t] = x[t - 1] + 0.05 + e[t];
        }
        let fit = fit_arima(&x, 0, 1, 1, true).unwrap();
        let f = fit.forecast(5);
        let e_last = fit.tail_e[0];
        let c = fit.intercept();
        let theta = fit.ma()[0];
        let last = x[x.len() - 1];
        assert!((f[0] - (last + c + theta * e_last)).abs() < 1e-9);
        for k in 1..5 {
            assert!((f[k] - f[k - 1] - c).abs() < 1e-9);
        }
    }

    #[test]
    fn arima_errors() {
        assert!(matches!(
            fit_arima(&[1.0; 10], 0, 0, 0, false),
            Err(ModelError::InvalidSpec(_))
        ));
        assert!(matches!(
            fit_arima(&[1.0, 2.0, 3.0], 1, 1, 1, true),
            Err(ModelError::TooShort { .. })
        ));
        let line: Vec<f64> = (0..100).map(f64::from).collect();
        assert_eq!(
            fit_arima(&line, 1, 1, 1, true).err(),
            Some(ModelError::Constant)
        );
    }

    #[test]
    fn rolling_ar_equals_the_batch_fit_on_its_window() {
        for trend in [true, false] {
            let x: Vec<f64> = ar2(17, 3_000).iter().map(|v| v * 0.01 + 0.002).collect();
            let (p, window, every) = (3, 250, 7);
            let mut rolling = RollingAr::new(p, window, every, trend).unwrap();
            let mut checked = 0;
            for (i, &v) in x.iter().enumerate() {
                rolling.observe(v);
                let n = i + 1;
                if n >= window && (n - window) % every == 0 {
                    let batch = fit_ar(&x[n - window..n], p, trend).unwrap();
                    for (a, b) in rolling.params().iter().zip(&batch.params) {
                        assert!(
                            (a - b).abs() <= 1e-9 * b.abs().max(1e-3),
                            "at {n}: {:?} vs {:?}",
                            rolling.params(),
                            batch.params
                        );
                    }
                    let f = batch.forecast(&x[n - window..n], 1)[0];
                    assert!((rolling.forecast() - f).abs() <= 1e-9 * f.abs().max(1e-3));
                    checked += 1;
                }
            }
            assert!(checked > 300);
        }
    }

    #[test]
    fn rolling_ar_waits_for_a_full_window_and_survives_a_flat_one() {
        let mut ar = RollingAr::new(1, 20, 1, true).unwrap();
        for _ in 0..19 {
            ar.observe(1.0);
            assert!(ar.forecast().is_nan());
        }
        ar.observe(1.0);
        // A flat window is singular: no fit yet, still NaN, no panic.
        assert!(!ar.is_fitted());
        ar.observe(f64::NAN);
        for t in 0..40 {
            ar.observe(f64::from(t % 3));
        }
        assert!(ar.is_fitted() && ar.forecast().is_finite());
        assert!(RollingAr::new(2, 4, 1, true).is_err());
        assert!(RollingAr::new(2, 40, 0, true).is_err());
    }
}
