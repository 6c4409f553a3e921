//! GARCH(1,1) with a constant mean by maximum likelihood, as the `arch` package fits it,
//! and an online form that refits on a rolling window in bounded slices of work.
//!
//! The model (`arch_model(y, mean='Constant', vol='GARCH', p=1, q=1, dist=...)`):
//!
//! `yₜ = μ + εₜ`, `εₜ = σₜ zₜ`, `σ²ₜ = ω + α ε²ₜ₋₁ + β σ²ₜ₋₁`,
//!
//! with `zₜ` standard normal or a Student-t with `ν` degrees of freedom scaled to unit
//! variance. Everything `arch` fixes before optimising is reproduced exactly from the
//! starting residuals `eₜ = yₜ − ȳ`:
//!
//! - the backcast `σ²₀ = ε²₀ := Σ_{i<τ} wᵢ e²ᵢ / Σ wᵢ`, `wᵢ = 0.94ⁱ`, `τ = min(75, n)`
//!   (so `σ²₁ = ω + (α + β) σ²₀`);
//! - the variance bounds: `σ²ₜ` is clipped below at `max(vₜ / 10⁶, var(e) / 10⁸)` and
//!   damped above `uₜ = clip(vₜ · 10⁶, 1 + max e², 10⁷ (1 + max e²))` to
//!   `uₜ + ln(σ²ₜ / uₜ)`, where `vₜ` is the EWMA(0.94) variance started at the backcast
//!   (they never bind at a sensible optimum, they keep the search finite);
//! - the parameter region: `ω ∈ [10⁻⁸ v̄, 10 v̄]` with `v̄ = mean(e²)`, `α, β ≥ 0`,
//!   `α + β < 1`, `ν ∈ [2.05, 500]`;
//! - the starting values: `μ = ȳ`; `(ω, α, β)` the best Gaussian likelihood on arch's
//!   grid `α ∈ {.01, .05, .1, .2}`, `α + β ∈ {.5, .7, .9, .98}`, `ω = (1 − α − β) v̄`;
//!   `ν = max((4k − 6)/(k − 3) if k > 3.75 else 12, 4)` from the kurtosis `k` of the
//!   standardised starting residuals.
//!
//! The log-likelihood, constants included:
//!
//! - normal: `ℓ = −½ Σ (ln 2π + ln σ²ₜ + ε²ₜ/σ²ₜ)`;
//! - Student-t: `ℓ = Σ [ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ ln(π(ν−2)) − ½ ln σ²ₜ
//!   − (ν+1)/2 · ln(1 + ε²ₜ / (σ²ₜ (ν−2)))]`.
//!
//! arch maximises it with SLSQP; here Nelder–Mead ([`super::optimize`]) searches the
//! same region (box bounds by clamping, `α + β < 1` by valuing other points `−∞`) to a
//! tight tolerance, so the two optima
//! agree to the optimisers' precision (`tests/garch_reference.rs`). To keep the
//! simplex well scaled, the series is multiplied by a power of two `2ᵏ` (exact in
//! floating point) that brings its variance near 1, and the estimates are scaled back
//! (`μ/2ᵏ`, `ω/4ᵏ`, `ℓ + n k ln 2`); for returns in percent `k = 0`.
//!
//! Forecasts from the end of the sample, as `res.forecast(horizon=h).variance`:
//! `σ²_{T+1} = ω + α ε²_T + β σ²_T` and `σ²_{T+h} = ω + (α + β) σ²_{T+h−1}`.

use std::f64::consts::PI;

use statrs::function::gamma::ln_gamma;

use super::optimize::{MinimizeOptions, NelderMead};
use super::{check_finite, ModelError};

/// The fewest observations [`fit`] accepts.
pub const MIN_OBSERVATIONS: usize = 100;

/// arch's bounds on the Student-t degrees of freedom.
const NU_MIN: f64 = 2.05;
const NU_MAX: f64 = 500.0;

/// `ln 2π`.
const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// The innovation distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Distribution {
    /// Standard normal `zₜ`.
    Normal,
    /// Student-t `zₜ` with `ν > 2` degrees of freedom, scaled to unit variance.
    StudentT,
}

impl Distribution {
    /// The number of parameters searched: `μ, ω, α, β` and `ν` for the Student-t.
    fn dimension(self) -> usize {
        match self {
            Distribution::Normal => 4,
            Distribution::StudentT => 5,
        }
    }
}

/// GARCH(1,1) parameters with a constant mean (see the module docs for the model).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GarchParams {
    /// The constant mean `μ`.
    pub mu: f64,
    /// The variance intercept `ω > 0`.
    pub omega: f64,
    /// The ARCH coefficient `α ≥ 0`.
    pub alpha: f64,
    /// The GARCH coefficient `β ≥ 0`.
    pub beta: f64,
    /// Student-t degrees of freedom `ν > 2`, `None` for normal innovations.
    pub nu: Option<f64>,
}

impl GarchParams {
    /// The persistence `α + β`.
    pub fn persistence(&self) -> f64 {
        self.alpha + self.beta
    }

    /// The unconditional variance `ω / (1 − α − β)`, `None` unless `α + β < 1`.
    pub fn long_run_variance(&self) -> Option<f64> {
        let p = self.persistence();
        (p < 1.0).then(|| self.omega / (1.0 - p))
    }

    /// The `h`-step variance forecast (`h ≥ 1`) from the next-step variance `next`:
    /// `σ²_{T+1} = next`, `σ²_{T+k} = ω + α σ²_{T+k−1} + β σ²_{T+k−1}`.
    pub fn variance_forecast_from(&self, next: f64, h: usize) -> f64 {
        let mut f = next;
        for _ in 1..h {
            f = self.omega + self.alpha * f + self.beta * f;
        }
        f
    }
}

/// A fitted GARCH(1,1).
#[derive(Debug, Clone, PartialEq)]
pub struct GarchFit {
    /// The maximum-likelihood estimates.
    pub params: GarchParams,
    /// The log-likelihood at the estimates, constants included (as arch's `loglikelihood`).
    pub log_likelihood: f64,
    /// Nelder–Mead iterations used.
    pub iterations: usize,
    /// Whether the optimiser met its tolerances (false: it hit its iteration limit).
    pub converged: bool,
    /// The conditional variances `σ²₁ … σ²_T` at the estimates.
    pub conditional_variances: Vec<f64>,
    /// The last residual `ε_T = y_T − μ`.
    pub last_residual: f64,
    /// The next-step variance `σ²_{T+1} = ω + α ε²_T + β σ²_T`.
    pub next_variance: f64,
}

impl GarchFit {
    /// The variance forecasts for `T+1 … T+h` (arch's `forecast(horizon=h).variance`).
    pub fn forecast(&self, h: usize) -> Vec<f64> {
        (1..=h).map(|k| self.variance_forecast(k)).collect()
    }

    /// The `h`-step variance forecast `σ²_{T+h}` (`h ≥ 1`; `h = 0` is read as 1), without
    /// allocating.
    pub fn variance_forecast(&self, h: usize) -> f64 {
        self.params.variance_forecast_from(self.next_variance, h)
    }

    /// The standardised residuals `(yₜ − μ) / σₜ` of the series the fit was made on.
    pub fn standardized_residuals(&self, returns: &[f64]) -> Vec<f64> {
        returns
            .iter()
            .zip(&self.conditional_variances)
            .map(|(y, s2)| (y - self.params.mu) / s2.sqrt())
            .collect()
    }
}

/// Fit GARCH(1,1) with a constant mean to `returns` by maximum likelihood, as arch does
/// (see the module docs).
///
/// Errors: fewer than [`MIN_OBSERVATIONS`] values ([`ModelError::TooShort`]), a NaN or
/// infinity ([`ModelError::NonFinite`]), a constant series ([`ModelError::Constant`]).
/// A search that reaches its iteration limit is returned with `converged == false`.
///
/// # Examples
///
/// ```
/// use bot4_operators::models::garch::{fit, Distribution};
///
/// // A deterministic, volatility-clustered series.
/// let y: Vec<f64> = (0..500)
///     .map(|i| ((i * 7919 % 101) as f64 / 50.0 - 1.0) * (1.0 + (i as f64 / 40.0).sin().abs()))
///     .collect();
/// let g = fit(&y, Distribution::Normal).unwrap();
/// assert!(g.params.alpha + g.params.beta < 1.0);
/// assert_eq!(g.forecast(3).len(), 3);
/// ```
pub fn fit(returns: &[f64], dist: Distribution) -> Result<GarchFit, ModelError> {
    let mut fitter = Fitter::new(returns.len(), dist);
    fitter.load(returns)?;
    fitter.step(usize::MAX);
    let done = fitter.result.ok_or(ModelError::NoConvergence {
        iterations: fitter.nm.iterations(),
    })?;
    let params = done.params;
    let mut conditional_variances = Vec::with_capacity(returns.len());
    let (scale, k) = (fitter.scale, fitter.scale * fitter.scale);
    let x = done.x;
    let mut pass = Pass::default();
    for t in 0..fitter.n {
        let (s2, e) = fitter.recursion_step(&x, t, &mut pass);
        pass.prev_s2 = s2;
        pass.prev_e2 = e * e;
        conditional_variances.push(s2 / k);
    }
    Ok(GarchFit {
        params,
        log_likelihood: done.log_likelihood,
        iterations: done.iterations,
        converged: done.converged,
        conditional_variances,
        last_residual: done.last_residual / scale,
        next_variance: done.next_variance,
    })
}

/// The optimiser's settings for the likelihood search.
fn search_options() -> MinimizeOptions {
    MinimizeOptions {
        max_iterations: 4_000,
        x_tolerance: 1e-8,
        f_tolerance: 1e-12,
        initial_step: 0.1,
    }
}

/// What a finished fit found, in the caller's units.
#[derive(Debug, Clone, Copy)]
struct Done {
    params: GarchParams,
    /// The search vector at the optimum (scaled units).
    x: [f64; 5],
    log_likelihood: f64,
    iterations: usize,
    converged: bool,
    /// `ε_T` in scaled units.
    last_residual: f64,
    /// `σ²_{T+1}` in the caller's units.
    next_variance: f64,
}

/// What the pass under way computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Nothing loaded.
    Idle,
    /// The Gaussian likelihood of starting grid point `i` (of 16).
    Grid(usize),
    /// The kurtosis of the standardised residuals at the grid's best point.
    Kurtosis,
    /// The likelihood at the optimiser's asked point.
    Search,
    /// The last variance and residual at the optimum.
    Final,
    /// Finished: `result` holds the fit.
    Done,
}

/// The state of one resumable pass of the variance recursion over the sample.
#[derive(Debug, Clone, Copy, Default)]
struct Pass {
    t: usize,
    prev_s2: f64,
    prev_e2: f64,
    /// The log-likelihood so far, or (kurtosis pass) `Σ z`.
    sum: f64,
    /// Kurtosis pass: `Σ z²`, `Σ z³`, `Σ z⁴`.
    moments: [f64; 3],
}

/// The whole fit as a resumable state machine over a preallocated copy of the sample:
/// [`Fitter::load`] (O(n), fixes arch's starting quantities), then [`Fitter::step`] with
/// budgets of recursion points until done. [`fit`] runs it in one step, [`OnlineGarch`]
/// in slices, so both follow exactly the same arithmetic.
#[derive(Debug, Clone)]
struct Fitter {
    dist: Distribution,
    /// The (scaled) sample, `n` values used of its capacity.
    y: Vec<f64>,
    lower: Vec<f64>,
    upper: Vec<f64>,
    n: usize,
    /// The power of two the sample was multiplied by.
    scale: f64,
    mean: f64,
    backcast: f64,
    /// `mean(e²)` of the starting residuals: the grid's target and the `ω` bounds' unit.
    target: f64,
    stage: Stage,
    pass: Pass,
    /// The point being evaluated: `μ, ω, α, β, ν`.
    x: [f64; 5],
    /// Student-t constant `ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ ln(π(ν−2))` at `x`.
    t_const: f64,
    grid_best: (usize, f64),
    nm: NelderMead,
    result: Option<Done>,
}

/// arch's starting grid for `(α, α + β)`, in its order (`α` outer).
const GRID_ALPHA: [f64; 4] = [0.01, 0.05, 0.1, 0.2];
const GRID_PERSISTENCE: [f64; 4] = [0.5, 0.7, 0.9, 0.98];

impl Fitter {
    /// A fitter for samples of up to `capacity` values; all storage is allocated here.
    fn new(capacity: usize, dist: Distribution) -> Self {
        let dim = dist.dimension();
        Self {
            dist,
            y: vec![0.0; capacity],
            lower: vec![0.0; capacity],
            upper: vec![0.0; capacity],
            n: 0,
            scale: 1.0,
            mean: 0.0,
            backcast: 0.0,
            target: 0.0,
            stage: Stage::Idle,
            pass: Pass::default(),
            x: [0.0; 5],
            t_const: 0.0,
            grid_best: (0, f64::NEG_INFINITY),
            nm: NelderMead::with_bounds(
                &[0.0; 5][..dim],
                &[f64::NEG_INFINITY; 5][..dim],
                &[f64::INFINITY; 5][..dim],
                search_options(),
            ),
            result: None,
        }
    }

    /// Copy `y` in (it must fit the capacity), check it, and compute arch's fixed
    /// starting quantities. O(n), no allocation.
    fn load(&mut self, y: &[f64]) -> Result<(), ModelError> {
        self.stage = Stage::Idle;
        self.result = None;
        if y.len() < MIN_OBSERVATIONS {
            return Err(ModelError::TooShort {
                needed: MIN_OBSERVATIONS,
                got: y.len(),
            });
        }
        if y.len() > self.y.len() {
            return Err(ModelError::InvalidSpec("sample longer than the fitter"));
        }
        check_finite(y)?;
        if y.iter().all(|v| *v == y[0]) {
            return Err(ModelError::Constant);
        }
        let n = y.len();
        self.n = n;
        // Scale by 2^k so that the variance is near 1 (exact in floating point).
        let raw_mean = y.iter().sum::<f64>() / n as f64;
        let raw_var = y.iter().map(|v| (v - raw_mean).powi(2)).sum::<f64>() / n as f64;
        if raw_var <= 0.0 || !raw_var.is_finite() {
            return Err(ModelError::Constant);
        }
        let k = (-0.5 * raw_var.log2()).round().clamp(-500.0, 500.0);
        self.scale = 2f64.powi(k as i32);
        for (dst, src) in self.y[..n].iter_mut().zip(y) {
            *dst = src * self.scale;
        }
        let y = &self.y[..n];
        self.mean = y.iter().sum::<f64>() / n as f64;
        let mean = self.mean;
        // Starting residuals e = y − ȳ: backcast, variance bounds, grid target.
        let tau = n.min(75);
        let mut w = 1.0;
        let (mut wsum, mut wx) = (0.0, 0.0);
        for v in &y[..tau] {
            let e = v - mean;
            wx += w * e * e;
            wsum += w;
            w *= 0.94;
        }
        self.backcast = wx / wsum;
        let e_mean = y.iter().map(|v| v - mean).sum::<f64>() / n as f64;
        let var = y.iter().map(|v| (v - mean - e_mean).powi(2)).sum::<f64>() / n as f64;
        let max_e2 = y.iter().map(|v| (v - mean).powi(2)).fold(0.0, f64::max);
        self.target = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
        let (lower_bound, upper_bound) = (var / 1e8, 1e7 * (1.0 + max_e2));
        let min_upper = 1.0 + max_e2;
        let mut ewma = 0.0;
        for t in 0..n {
            ewma = if t == 0 {
                0.0 + (1.0 - 0.94) * self.backcast + 0.94 * self.backcast
            } else {
                let e = y[t - 1] - mean;
                0.0 + (1.0 - 0.94) * (e * e) + 0.94 * ewma
            };
            let lo = ewma / 1e6;
            let mut hi = ewma * 1e6;
            self.lower[t] = if lo < lower_bound { lower_bound } else { lo };
            if hi < min_upper {
                hi = min_upper;
            }
            if hi > upper_bound {
                hi = upper_bound;
            }
            self.upper[t] = hi;
        }
        self.grid_best = (0, f64::NEG_INFINITY);
        self.begin_grid(0);
        Ok(())
    }

    /// Whether a fit is loaded and unfinished.
    fn is_running(&self) -> bool {
        !matches!(self.stage, Stage::Idle | Stage::Done)
    }

    fn begin_grid(&mut self, i: usize) {
        let alpha = GRID_ALPHA[i / 4];
        let agb = GRID_PERSISTENCE[i % 4];
        self.x = [
            self.mean,
            (1.0 - agb) * self.target,
            alpha,
            agb - alpha,
            0.0,
        ];
        self.pass = Pass::default();
        self.stage = Stage::Grid(i);
    }

    /// Set `x` to the optimiser's next point, skipping (valuing `+∞`) infeasible ones.
    /// Returns false when the optimiser is done.
    fn begin_search_point(&mut self) -> bool {
        loop {
            if self.nm.is_done() {
                return false;
            }
            let dim = self.dist.dimension();
            self.x[..dim].copy_from_slice(self.nm.ask());
            if self.feasible() {
                break;
            }
            self.nm.tell(f64::INFINITY);
        }
        if self.dist == Distribution::StudentT {
            let nu = self.x[4];
            self.t_const =
                ln_gamma((nu + 1.0) / 2.0) - ln_gamma(nu / 2.0) - (PI * (nu - 2.0)).ln() / 2.0;
        }
        self.pass = Pass::default();
        self.stage = Stage::Search;
        true
    }

    fn feasible(&self) -> bool {
        let [mu, omega, alpha, beta, nu] = self.x;
        let nu_ok = self.dist == Distribution::Normal || (NU_MIN..=NU_MAX).contains(&nu);
        mu.is_finite()
            && omega >= 1e-8 * self.target
            && omega <= 10.0 * self.target
            && (0.0..=1.0).contains(&alpha)
            && (0.0..=1.0).contains(&beta)
            && alpha + beta < 1.0
            && nu_ok
    }

    /// `(σ²ₜ, εₜ)` at `x` from the pass's previous values (arch's recursion, bounds
    /// included).
    #[inline]
    fn recursion_step(&self, x: &[f64; 5], t: usize, pass: &mut Pass) -> (f64, f64) {
        let [mu, omega, alpha, beta, _] = *x;
        let mut s2 = if t == 0 {
            omega + alpha * self.backcast + beta * self.backcast
        } else {
            omega + alpha * pass.prev_e2 + beta * pass.prev_s2
        };
        if s2 < self.lower[t] {
            s2 = self.lower[t];
        } else if s2 > self.upper[t] {
            s2 = if s2.is_infinite() {
                self.upper[t] + 1000.0
            } else {
                self.upper[t] + (s2 / self.upper[t]).ln()
            };
        }
        (s2, self.y[t] - mu)
    }

    /// Do at most `budget` recursion points of work. Returns true when the fit is done
    /// (or nothing is loaded).
    fn step(&mut self, budget: usize) -> bool {
        let mut left = budget;
        loop {
            match self.stage {
                Stage::Idle | Stage::Done => return true,
                _ => {}
            }
            if self.pass.t < self.n {
                if left == 0 {
                    return false;
                }
                let end = self.n.min(self.pass.t.saturating_add(left));
                left -= end - self.pass.t;
                self.run_pass(end);
                if self.pass.t < self.n {
                    return false;
                }
            }
            self.finish_pass();
        }
    }

    /// Advance the pass under way to point `end`.
    fn run_pass(&mut self, end: usize) {
        let x = self.x;
        let mut pass = self.pass;
        let stage = self.stage;
        let (dist, t_const) = (self.dist, self.t_const);
        let nu = x[4];
        for t in pass.t..end {
            let (s2, e) = self.recursion_step(&x, t, &mut pass);
            let e2 = e * e;
            match stage {
                Stage::Kurtosis => {
                    let z = e / s2.sqrt();
                    let z2 = z * z;
                    pass.sum += z;
                    pass.moments[0] += z2;
                    pass.moments[1] += z2 * z;
                    pass.moments[2] += z2 * z2;
                }
                Stage::Search | Stage::Final if dist == Distribution::StudentT => {
                    pass.sum += t_const
                        - 0.5 * s2.ln()
                        - ((nu + 1.0) / 2.0) * (1.0 + e2 / (s2 * (nu - 2.0))).ln();
                }
                _ => pass.sum += -0.5 * (LN_2PI + s2.ln() + e2 / s2),
            }
            pass.prev_s2 = s2;
            pass.prev_e2 = e2;
        }
        pass.t = end;
        self.pass = pass;
    }

    /// Use a completed pass and set up the next one.
    fn finish_pass(&mut self) {
        let dim = self.dist.dimension();
        match self.stage {
            Stage::Grid(i) => {
                if self.pass.sum > self.grid_best.1 {
                    self.grid_best = (i, self.pass.sum);
                }
                if i + 1 < GRID_ALPHA.len() * GRID_PERSISTENCE.len() {
                    self.begin_grid(i + 1);
                } else {
                    self.begin_grid(self.grid_best.0);
                    if self.dist == Distribution::StudentT {
                        self.stage = Stage::Kurtosis;
                    } else {
                        self.start_search();
                    }
                }
            }
            Stage::Kurtosis => {
                let n = self.n as f64;
                let m1 = self.pass.sum / n;
                let [s2, s3, s4] = self.pass.moments.map(|s| s / n);
                let m2 = s2 - m1 * m1;
                let m4 = s4 - 4.0 * m1 * s3 + 6.0 * m1 * m1 * s2 - 3.0 * m1.powi(4);
                let k = m4 / (m2 * m2);
                let nu = if k > 3.75 {
                    (4.0 * k - 6.0) / (k - 3.0)
                } else {
                    12.0
                };
                self.x[4] = nu.max(4.0);
                self.start_search();
            }
            Stage::Search => {
                let value = -self.pass.sum;
                self.nm.tell(if value.is_finite() {
                    value
                } else {
                    f64::INFINITY
                });
                if !self.begin_search_point() {
                    let (best, _) = self.nm.best();
                    self.x[..dim].copy_from_slice(best);
                    if self.dist == Distribution::StudentT {
                        let nu = self.x[4];
                        self.t_const = ln_gamma((nu + 1.0) / 2.0)
                            - ln_gamma(nu / 2.0)
                            - (PI * (nu - 2.0)).ln() / 2.0;
                    }
                    self.pass = Pass::default();
                    self.stage = Stage::Final;
                }
            }
            Stage::Final => {
                let [mu, omega, alpha, beta, nu] = self.x;
                let (scale, k) = (self.scale, self.scale * self.scale);
                let next = omega + alpha * self.pass.prev_e2 + beta * self.pass.prev_s2;
                let params = GarchParams {
                    mu: mu / scale,
                    omega: omega / k,
                    alpha,
                    beta,
                    nu: (self.dist == Distribution::StudentT).then_some(nu),
                };
                self.result = Some(Done {
                    params,
                    x: self.x,
                    log_likelihood: self.pass.sum + self.n as f64 * scale.ln(),
                    iterations: self.nm.iterations(),
                    converged: self.nm.converged(),
                    last_residual: self.y[self.n - 1] - mu,
                    next_variance: next / k,
                });
                self.stage = Stage::Done;
            }
            Stage::Idle | Stage::Done => {}
        }
    }

    fn start_search(&mut self) {
        let dim = self.dist.dimension();
        let x0 = self.x;
        let t = self.target;
        let lower = [f64::NEG_INFINITY, 1e-8 * t, 0.0, 0.0, NU_MIN];
        let upper = [f64::INFINITY, 10.0 * t, 1.0, 1.0, NU_MAX];
        self.nm.set_bounds(&lower[..dim], &upper[..dim]);
        self.nm.restart(&x0[..dim]);
        if !self.begin_search_point() {
            self.stage = Stage::Final;
            self.pass = Pass::default();
        }
    }
}

/// The online GARCH's settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct GarchConfig {
    /// The rolling window the model is refitted on.
    pub window: usize,
    /// Refit after this many new observations.
    pub refit_every: usize,
    /// No fit before this many observations (at least [`MIN_OBSERVATIONS`], at most
    /// `window`).
    pub min_obs: usize,
    /// The innovation distribution.
    pub dist: Distribution,
    /// Recursion points of refit work done by each [`OnlineGarch::observe`] (the work a
    /// graph operator can afford per update; [`OnlineGarch::advance`] can do more).
    pub work_per_step: usize,
}

impl Default for GarchConfig {
    /// Window 500, refit every 50, first fit at 200, normal, 64 points of work per update.
    fn default() -> Self {
        Self {
            window: 500,
            refit_every: 50,
            min_obs: 200,
            dist: Distribution::Normal,
            work_per_step: 64,
        }
    }
}

/// GARCH(1,1) on a rolling window, refitted every `refit_every` observations in bounded
/// slices of work, for the trading graph.
///
/// - [`observe`](Self::observe) pushes a return into the window, rolls the conditional
///   variance forward with the current parameters, `σ²ₜ₊₁ = ω + α (rₜ − μ)² + β σ²ₜ`,
///   starts a refit when one is due (copying the window into the fitter's buffer and
///   fixing arch's starting quantities: O(window)), and does `work_per_step` points of
///   refit work;
/// - [`advance`](Self::advance) does more refit work. A refit evaluates the same
///   likelihoods in the same order as [`fit`] on the snapshot, so its result is
///   bit-identical to `fit(snapshot)`; when it finishes, its parameters replace the old
///   ones and the variance is recomputed from them through the snapshot and the
///   observations made since (those, like every online update, without arch's bounds).
///
/// A window on which the fit fails (e.g. constant) keeps the old parameters. After
/// construction nothing allocates. Deterministic: the same calls give the same bits.
///
/// # Examples
///
/// ```
/// use bot4_operators::models::garch::{GarchConfig, OnlineGarch};
///
/// let mut g = OnlineGarch::new(GarchConfig::default()).unwrap();
/// for i in 0..300 {
///     g.observe(((i * 7919 % 101) as f64 / 50.0 - 1.0) * (1.0 + (i as f64 / 30.0).sin().abs()));
///     g.advance(10_000);
/// }
/// assert!(g.params().is_some());
/// assert!(g.variance_forecast(1) > 0.0);
/// ```
#[derive(Debug, Clone)]
pub struct OnlineGarch {
    config: GarchConfig,
    /// The window, oldest at `head` once full.
    ring: Vec<f64>,
    head: usize,
    len: usize,
    /// Observations since the last refit was scheduled (or since the start).
    since_refit: usize,
    /// Observations made while the running refit works on its snapshot.
    since_snapshot: usize,
    /// The window copied oldest first for a refit.
    snapshot: Vec<f64>,
    fitter: Fitter,
    params: Option<GarchParams>,
    /// `σ²` for the next observation under `params`.
    next_variance: f64,
}

impl OnlineGarch {
    /// An online GARCH with all its buffers allocated.
    ///
    /// Errors with [`ModelError::InvalidSpec`] unless `MIN_OBSERVATIONS ≤ min_obs ≤
    /// window` and `refit_every ≥ 1`.
    pub fn new(config: GarchConfig) -> Result<Self, ModelError> {
        if config.min_obs < MIN_OBSERVATIONS {
            return Err(ModelError::InvalidSpec(
                "min_obs below the GARCH minimum of 100",
            ));
        }
        if config.min_obs > config.window {
            return Err(ModelError::InvalidSpec("min_obs larger than the window"));
        }
        if config.refit_every == 0 {
            return Err(ModelError::InvalidSpec("refit_every must be at least 1"));
        }
        Ok(Self {
            config,
            ring: vec![0.0; config.window],
            head: 0,
            len: 0,
            since_refit: 0,
            since_snapshot: 0,
            snapshot: vec![0.0; config.window],
            fitter: Fitter::new(config.window, config.dist),
            params: None,
            next_variance: 0.0,
        })
    }

    /// The settings.
    pub fn config(&self) -> &GarchConfig {
        &self.config
    }

    /// Take a new return (non-finite returns are ignored). See the type's docs.
    pub fn observe(&mut self, r: f64) {
        if !r.is_finite() {
            return;
        }
        let window = self.config.window;
        if self.len < window {
            self.ring[(self.head + self.len) % window] = r;
            self.len += 1;
        } else {
            self.ring[self.head] = r;
            self.head = (self.head + 1) % window;
        }
        if let Some(p) = self.params {
            let e = r - p.mu;
            self.next_variance = p.omega + p.alpha * e * e + p.beta * self.next_variance;
        }
        self.since_refit += 1;
        if self.fitter.is_running() {
            self.since_snapshot += 1;
        }
        let due = self.params.is_none() || self.since_refit >= self.config.refit_every;
        if self.len >= self.config.min_obs && due && !self.fitter.is_running() {
            self.start_refit();
        }
        self.advance(self.config.work_per_step);
    }

    /// Do at most `budget_points` recursion points of the pending refit's work; swap in
    /// its parameters when it finishes.
    pub fn advance(&mut self, budget_points: usize) {
        if !self.fitter.is_running() {
            return;
        }
        if !self.fitter.step(budget_points) {
            return;
        }
        if let Some(done) = self.fitter.result {
            self.params = Some(done.params);
            let p = done.params;
            let mut s2 = done.next_variance;
            // Roll through the observations made while fitting (the newest ones).
            let window = self.config.window;
            let k = self.since_snapshot.min(self.len);
            for i in self.len - k..self.len {
                let e = self.ring[(self.head + i) % window] - p.mu;
                s2 = p.omega + p.alpha * e * e + p.beta * s2;
            }
            self.next_variance = s2;
        }
        self.since_snapshot = 0;
    }

    fn start_refit(&mut self) {
        self.since_refit = 0;
        self.since_snapshot = 0;
        let window = self.config.window;
        let (head, len) = (self.head, self.len);
        for (i, slot) in self.snapshot[..len].iter_mut().enumerate() {
            *slot = self.ring[(head + i) % window];
        }
        // A window the model cannot be fitted on keeps the old parameters.
        if self.fitter.load(&self.snapshot[..len]).is_err() {
            self.fitter.stage = Stage::Idle;
        }
    }

    /// The current parameters, `None` before the first fit.
    pub fn params(&self) -> Option<GarchParams> {
        self.params
    }

    /// Whether a refit is under way.
    pub fn is_fitting(&self) -> bool {
        self.fitter.is_running()
    }

    /// The `h`-step variance forecast (`h = 1`: the next return's `σ²`). Before the
    /// first fit, the sample variance (divisor n) of the window, or 0 when it is empty.
    pub fn variance_forecast(&self, h: usize) -> f64 {
        match self.params {
            Some(p) => p.variance_forecast_from(self.next_variance, h),
            None => {
                if self.len == 0 {
                    return 0.0;
                }
                let n = self.len as f64;
                let values = || self.ring[..self.len].iter();
                let mean = values().sum::<f64>() / n;
                values().map(|v| (v - mean).powi(2)).sum::<f64>() / n
            }
        }
    }

    /// The current parameters' unconditional variance `ω / (1 − α − β)`.
    pub fn long_run_variance(&self) -> Option<f64> {
        self.params.and_then(|p| p.long_run_variance())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::gaussians;

    /// A GARCH(1,1) path (μ .02, ω .05, α .1, β .85) from seeded Gaussians.
    fn simulated(seed: u64, n: usize) -> Vec<f64> {
        let (mu, omega, alpha, beta): (f64, f64, f64, f64) = (0.02, 0.05, 0.1, 0.85);
        let mut s2 = omega / (1.0 - alpha - beta);
        gaussians(seed, n)
            .into_iter()
            .map(|z| {
                let e = s2.sqrt() * z;
                s2 = omega + alpha * e * e + beta * s2;
                mu + e
            })
            .collect()
    }

    #[test]
    fn recovers_simulated_parameters() {
        let y = simulated(7, 4000);
        let g = fit(&y, Distribution::Normal).unwrap();
        assert!(g.converged);
        let p = g.params;
        assert!((p.alpha - 0.1).abs() < 0.03, "{p:?}");
        assert!((p.beta - 0.85).abs() < 0.05, "{p:?}");
        assert!((p.mu - 0.02).abs() < 0.03, "{p:?}");
        assert_eq!(g.conditional_variances.len(), y.len());
    }

    #[test]
    fn forecasts_approach_the_long_run_variance() {
        let g = fit(&simulated(3, 1000), Distribution::Normal).unwrap();
        let long_run = g.params.long_run_variance().unwrap();
        let f = g.forecast(2000);
        assert_eq!(f[0], g.next_variance);
        assert!((f[1999] - long_run).abs() < 1e-6 * long_run);
        assert_eq!(g.variance_forecast(7).to_bits(), f[6].to_bits());
    }

    #[test]
    fn bad_input_is_refused() {
        assert_eq!(
            fit(&[1.0; 50], Distribution::Normal).unwrap_err(),
            ModelError::TooShort {
                needed: 100,
                got: 50
            }
        );
        assert_eq!(
            fit(&[0.5; 200], Distribution::StudentT).unwrap_err(),
            ModelError::Constant
        );
        let mut y = simulated(1, 200);
        y[17] = f64::NAN;
        assert_eq!(
            fit(&y, Distribution::Normal).unwrap_err(),
            ModelError::NonFinite { index: 17 }
        );
    }

    #[test]
    fn scaling_leaves_the_optimum_in_place() {
        let y = simulated(5, 800);
        let small: Vec<f64> = y.iter().map(|v| v / 1000.0).collect();
        let (a, b) = (
            fit(&y, Distribution::Normal).unwrap(),
            fit(&small, Distribution::Normal).unwrap(),
        );
        assert!((a.params.alpha - b.params.alpha).abs() < 1e-4);
        assert!((a.params.beta - b.params.beta).abs() < 1e-4);
        assert!((a.params.omega - b.params.omega * 1e6).abs() < 1e-4 * a.params.omega);
        let n = y.len() as f64;
        assert!((a.log_likelihood - (b.log_likelihood - n * 1000f64.ln())).abs() < 1e-5);
    }

    fn online_config(dist: Distribution) -> GarchConfig {
        GarchConfig {
            window: 300,
            refit_every: 50,
            min_obs: 200,
            dist,
            work_per_step: 2_000,
        }
    }

    #[test]
    fn the_online_refit_equals_the_batch_fit_on_its_window() {
        for dist in [Distribution::Normal, Distribution::StudentT] {
            let y = simulated(11, 1_000);
            let mut g = OnlineGarch::new(online_config(dist)).unwrap();
            for r in &y[..199] {
                g.observe(*r);
                assert!(g.params().is_none() && !g.is_fitting());
            }
            g.observe(y[199]);
            assert!(g.is_fitting());
            let mut i = 200;
            while g.is_fitting() {
                g.observe(y[i]);
                i += 1;
            }
            let batch = fit(&y[..200], dist).unwrap();
            assert_eq!(g.params(), Some(batch.params), "{dist:?}");
            // The variance rolled through the observations made while fitting.
            let p = batch.params;
            let mut s2 = batch.next_variance;
            for r in &y[200..i] {
                s2 = p.omega + p.alpha * (r - p.mu).powi(2) + p.beta * s2;
            }
            assert_eq!(g.variance_forecast(1).to_bits(), s2.to_bits());
            assert_eq!(
                g.variance_forecast(3),
                p.variance_forecast_from(s2, 3),
                "{dist:?}"
            );
            assert_eq!(g.long_run_variance(), p.long_run_variance());
        }
    }

    #[test]
    fn a_later_refit_uses_the_latest_window() {
        let y = simulated(13, 700);
        let mut g = OnlineGarch::new(online_config(Distribution::Normal)).unwrap();
        let mut refits = Vec::new();
        for (i, r) in y.iter().enumerate() {
            let was = g.is_fitting();
            g.observe(*r);
            if !was && g.is_fitting() {
                refits.push(i + 1);
            }
            g.advance(usize::MAX);
        }
        assert_eq!(refits.first(), Some(&200));
        let last = *refits.last().unwrap();
        let window = &y[last.saturating_sub(300)..last];
        assert_eq!(
            g.params(),
            Some(fit(window, Distribution::Normal).unwrap().params)
        );
    }

    #[test]
    fn online_is_deterministic_and_starts_from_the_sample_variance() {
        let y = simulated(17, 500);
        let run = || {
            let mut g = OnlineGarch::new(online_config(Distribution::StudentT)).unwrap();
            let mut out = Vec::new();
            for r in &y {
                g.observe(*r);
                out.push(g.variance_forecast(1).to_bits());
            }
            out
        };
        let a = run();
        assert_eq!(a, run());
        let head = &y[..10];
        let m = head.iter().sum::<f64>() / 10.0;
        let var = head.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 10.0;
        assert_eq!(f64::from_bits(a[9]), var);
    }

    #[test]
    fn invalid_online_configs_are_refused() {
        let bad = |c: GarchConfig| OnlineGarch::new(c).is_err();
        let d = GarchConfig::default();
        assert!(bad(GarchConfig { min_obs: 50, ..d }));
        assert!(bad(GarchConfig { window: 150, ..d }));
        assert!(bad(GarchConfig {
            refit_every: 0,
            ..d
        }));
        assert!(!bad(d));
    }
}
