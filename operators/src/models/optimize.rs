//! Nelder–Mead simplex minimisation in ask/tell form, shared by the likelihood fits.
//!
//! The minimiser never calls the objective itself: [`NelderMead::ask`] names the next
//! point to evaluate and [`NelderMead::tell`] hands back its value. A batch fit loops the
//! two ([`minimize`]); an online fit evaluates one point over many updates (a likelihood
//! in chunks of its recursion) and tells the value when it is complete. All storage is
//! allocated once in the constructor, so `ask`/`tell` never allocate.
//!
//! The method is the standard one (Nelder & Mead 1965, with the coefficients of Lagarias
//! et al. 1998 and scipy's `fmin`): reflection `ρ = 1`, expansion `χ = 2`, contraction
//! `ψ = ½`, shrink `σ = ½`. With the vertices sorted `f(x₀) ≤ … ≤ f(xₙ)` and `c` the
//! centroid of all but the worst:
//!
//! - reflect `x_r = c + ρ (c − xₙ)`; accept if `f(x₀) ≤ f(x_r) < f(xₙ₋₁)`;
//! - if `f(x_r) < f(x₀)`, expand `x_e = c + χ (x_r − c)` and keep the better of the two;
//! - if `f(xₙ₋₁) ≤ f(x_r) < f(xₙ)`, contract outside `c + ψ (x_r − c)`; otherwise inside
//!   `c + ψ (xₙ − c)`; accept the contraction if it beats `x_r` (outside) or `xₙ`
//!   (inside), else shrink every vertex towards the best: `xᵢ ← x₀ + σ (xᵢ − x₀)`.
//!
//! Convergence (scipy's rule, made scale-aware): every vertex within `x_tolerance · (1 +
//! |x₀ⱼ|)` of the best in every coordinate, and every value within `f_tolerance · (1 +
//! |f(x₀)|)` of the best. At convergence the search restarts once or more from the best
//! point with a fresh simplex (the usual remedy for a simplex that collapsed early), and
//! stops when a restart improves the best value by no more than the `f` tolerance, or
//! after [`MAX_RESTARTS`] restarts.
//!
//! Constraints: a value of `+∞` (or NaN, which is read as `+∞`) marks an infeasible
//! point, which the simplex then moves away from, so an objective can encode any feasible
//! region as long as the start is feasible. Box bounds can also be given
//! ([`NelderMead::with_bounds`]): every asked point is clamped into the box.
//!
//! # Examples
//!
//! ```
//! use bot4_operators::models::optimize::{minimize, MinimizeOptions};
//!
//! let rosenbrock = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
//! let m = minimize(rosenbrock, &[-1.2, 1.0], MinimizeOptions::default());
//! assert!(m.converged);
//! assert!((m.x[0] - 1.0).abs() < 1e-6 && (m.x[1] - 1.0).abs() < 1e-6);
//! ```

/// Restarts from the best point after the first convergence, at most.
pub const MAX_RESTARTS: usize = 3;

const REFLECT: f64 = 1.0;
const EXPAND: f64 = 2.0;
const CONTRACT: f64 = 0.5;
const SHRINK: f64 = 0.5;

/// Tolerances and limits of a Nelder–Mead search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinimizeOptions {
    /// The most iterations (reflection steps, counted over all restarts) before giving up.
    pub max_iterations: usize,
    /// Convergence in `x`: every vertex within `x_tolerance · (1 + |best_j|)` of the best.
    pub x_tolerance: f64,
    /// Convergence in `f`: every value within `f_tolerance · (1 + |best|)` of the best.
    pub f_tolerance: f64,
    /// The initial simplex steps each coordinate of the start by
    /// `initial_step · max(|x0_j|, 0.01)` (backwards if that leaves the bounds).
    pub initial_step: f64,
}

impl Default for MinimizeOptions {
    /// 5 000 iterations, `x` tolerance 1e-8, `f` tolerance 1e-12, initial step 10%.
    fn default() -> Self {
        Self {
            max_iterations: 5_000,
            x_tolerance: 1e-8,
            f_tolerance: 1e-12,
            initial_step: 0.1,
        }
    }
}

/// The result of [`minimize`].
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    /// The best point found.
    pub x: Vec<f64>,
    /// The objective there.
    pub value: f64,
    /// Iterations used.
    pub iterations: usize,
    /// Whether the tolerances were met (false: the iteration limit was reached).
    pub converged: bool,
}

/// What the pending `tell` is the value of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Vertex `i` of a new simplex.
    Init(usize),
    Reflect,
    Expand,
    ContractOutside,
    ContractInside,
    /// Vertex `i` of a shrunk simplex.
    Shrink(usize),
    Done,
}

/// A Nelder–Mead search in ask/tell form over a fixed dimension (see the module docs).
///
/// # Examples
///
/// ```
/// use bot4_operators::models::optimize::{MinimizeOptions, NelderMead};
///
/// let mut nm = NelderMead::new(&[3.0], MinimizeOptions::default());
/// while !nm.is_done() {
///     let x = nm.ask()[0];
///     nm.tell((x - 2.0) * (x - 2.0));
/// }
/// assert!((nm.best().0[0] - 2.0).abs() < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct NelderMead {
    n: usize,
    opts: MinimizeOptions,
    /// Box bounds, or empty when unbounded.
    lower: Vec<f64>,
    upper: Vec<f64>,
    /// `n + 1` vertices of `n` coordinates, row-major; sorted by `values` between steps.
    simplex: Vec<f64>,
    values: Vec<f64>,
    centroid: Vec<f64>,
    /// The point asked for.
    trial: Vec<f64>,
    reflected: Vec<f64>,
    f_reflected: f64,
    phase: Phase,
    iterations: usize,
    restarts: usize,
    /// The best value when the last restart began.
    best_at_restart: f64,
    converged: bool,
}

impl NelderMead {
    /// A search starting at `x0` (its first asked point is `x0` itself).
    pub fn new(x0: &[f64], opts: MinimizeOptions) -> Self {
        Self::build(x0, Vec::new(), Vec::new(), opts)
    }

    /// A search confined to the box `lower ≤ x ≤ upper`: every asked point is clamped
    /// into it. `x0` is clamped too.
    ///
    /// # Panics
    ///
    /// If the bounds are not as long as `x0`.
    pub fn with_bounds(x0: &[f64], lower: &[f64], upper: &[f64], opts: MinimizeOptions) -> Self {
        assert!(
            lower.len() == x0.len() && upper.len() == x0.len(),
            "bounds must have the dimension of x0"
        );
        Self::build(x0, lower.to_vec(), upper.to_vec(), opts)
    }

    fn build(x0: &[f64], lower: Vec<f64>, upper: Vec<f64>, opts: MinimizeOptions) -> Self {
        let n = x0.len();
        let mut nm = Self {
            n,
            opts,
            lower,
            upper,
            simplex: vec![0.0; (n + 1) * n],
            values: vec![f64::INFINITY; n + 1],
            centroid: vec![0.0; n],
            trial: x0.to_vec(),
            reflected: vec![0.0; n],
            f_reflected: f64::INFINITY,
            phase: Phase::Init(0),
            iterations: 0,
            restarts: 0,
            best_at_restart: f64::INFINITY,
            converged: false,
        };
        nm.clamp_trial();
        nm.simplex[..n].copy_from_slice(&nm.trial);
        nm
    }

    /// Replace the box bounds (allocates only if the search had none). Takes effect
    /// from the next asked point; use it before [`restart`](Self::restart).
    ///
    /// # Panics
    ///
    /// If the bounds do not have the dimension of the search.
    pub fn set_bounds(&mut self, lower: &[f64], upper: &[f64]) {
        assert!(
            lower.len() == self.n && upper.len() == self.n,
            "bounds must have the dimension of the search"
        );
        if self.lower.is_empty() {
            self.lower = lower.to_vec();
            self.upper = upper.to_vec();
        } else {
            self.lower.copy_from_slice(lower);
            self.upper.copy_from_slice(upper);
        }
    }

    /// Start a new search from `x0` in the storage of this one (no allocation), keeping
    /// its options and bounds.
    ///
    /// # Panics
    ///
    /// If `x0` does not have the dimension of the search.
    pub fn restart(&mut self, x0: &[f64]) {
        assert_eq!(
            x0.len(),
            self.n,
            "restart needs a point of the same dimension"
        );
        self.trial.copy_from_slice(x0);
        self.clamp_trial();
        self.simplex[..self.n].copy_from_slice(&self.trial);
        self.values.fill(f64::INFINITY);
        self.f_reflected = f64::INFINITY;
        self.phase = Phase::Init(0);
        self.iterations = 0;
        self.restarts = 0;
        self.best_at_restart = f64::INFINITY;
        self.converged = false;
    }

    /// The dimension of the search.
    pub fn dimension(&self) -> usize {
        self.n
    }

    /// The point whose objective value the next [`tell`](Self::tell) must give. Once the
    /// search is done, the best point.
    pub fn ask(&self) -> &[f64] {
        if self.phase == Phase::Done {
            self.vertex(0)
        } else {
            &self.trial
        }
    }

    /// Whether the search has finished (converged or out of iterations).
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Whether the search finished by meeting its tolerances.
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// Iterations used so far (over all restarts).
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// The best point evaluated so far and its value (`+∞` before any value is told).
    pub fn best(&self) -> (&[f64], f64) {
        let mut i = 0;
        for j in 1..=self.n {
            if self.values[j] < self.values[i] {
                i = j;
            }
        }
        (self.vertex(i), self.values[i])
    }

    /// Give the objective's value at the point last asked for, and move to the next one.
    /// NaN is read as `+∞` (infeasible). Ignored once the search is done.
    pub fn tell(&mut self, value: f64) {
        let f = if value.is_nan() { f64::INFINITY } else { value };
        let n = self.n;
        match self.phase {
            Phase::Done => {}
            Phase::Init(i) => {
                self.values[i] = f;
                if i < n {
                    self.make_vertex(i + 1);
                    self.phase = Phase::Init(i + 1);
                } else {
                    self.end_iteration();
                }
            }
            Phase::Reflect => {
                if f < self.values[0] {
                    self.f_reflected = f;
                    self.reflected.copy_from_slice(&self.trial);
                    self.set_trial_towards(EXPAND);
                    self.phase = Phase::Expand;
                } else if f < self.values[n - 1] {
                    self.accept_trial(f);
                } else {
                    self.f_reflected = f;
                    if f < self.values[n] {
                        self.set_trial_towards(CONTRACT);
                        self.phase = Phase::ContractOutside;
                    } else {
                        self.set_trial_towards(-CONTRACT);
                        self.phase = Phase::ContractInside;
                    }
                }
            }
            Phase::Expand => {
                if f < self.f_reflected {
                    self.accept_trial(f);
                } else {
                    self.trial.copy_from_slice(&self.reflected);
                    self.accept_trial(self.f_reflected);
                }
            }
            Phase::ContractOutside => {
                if f <= self.f_reflected {
                    self.accept_trial(f);
                } else {
                    self.start_shrink();
                }
            }
            Phase::ContractInside => {
                if f < self.values[n] {
                    self.accept_trial(f);
                } else {
                    self.start_shrink();
                }
            }
            Phase::Shrink(i) => {
                self.values[i] = f;
                self.simplex[i * n..(i + 1) * n].copy_from_slice(&self.trial);
                if i < n {
                    self.shrink_vertex(i + 1);
                    self.phase = Phase::Shrink(i + 1);
                } else {
                    self.end_iteration();
                }
            }
        }
    }

    fn vertex(&self, i: usize) -> &[f64] {
        &self.simplex[i * self.n..(i + 1) * self.n]
    }

    fn clamp_trial(&mut self) {
        if self.lower.is_empty() {
            return;
        }
        for ((x, lo), hi) in self.trial.iter_mut().zip(&self.lower).zip(&self.upper) {
            *x = x.max(*lo).min(*hi);
        }
    }

    /// Vertex `i ≥ 1` of a fresh simplex around vertex 0: coordinate `i − 1` stepped.
    fn make_vertex(&mut self, i: usize) {
        let n = self.n;
        self.trial.copy_from_slice(&self.simplex[..n]);
        let j = i - 1;
        let step = self.opts.initial_step * self.trial[j].abs().max(0.01);
        let forward = self.trial[j] + step;
        self.trial[j] = if !self.upper.is_empty() && forward > self.upper[j] {
            self.trial[j] - step
        } else {
            forward
        };
        self.clamp_trial();
        self.simplex[i * n..(i + 1) * n].copy_from_slice(&self.trial);
    }

    /// `trial = c + t (c − worst)`: reflection for `t = 1`, expansion `2`, outside
    /// contraction `½`, inside contraction `−½`.
    fn set_trial_towards(&mut self, t: f64) {
        let n = self.n;
        for j in 0..n {
            let c = self.centroid[j];
            self.trial[j] = c + t * (c - self.simplex[n * n + j]);
        }
        self.clamp_trial();
    }

    /// Replace the worst vertex by the trial point.
    fn accept_trial(&mut self, f: f64) {
        let n = self.n;
        self.simplex[n * n..].copy_from_slice(&self.trial);
        self.values[n] = f;
        self.end_iteration();
    }

    fn start_shrink(&mut self) {
        self.shrink_vertex(1);
        self.phase = Phase::Shrink(1);
    }

    fn shrink_vertex(&mut self, i: usize) {
        let n = self.n;
        for j in 0..n {
            let best = self.simplex[j];
            self.trial[j] = best + SHRINK * (self.simplex[i * n + j] - best);
        }
        self.clamp_trial();
    }

    /// Sort the simplex, test convergence and either stop, restart, or ask for the next
    /// reflection.
    fn end_iteration(&mut self) {
        let n = self.n;
        self.sort();
        if n == 0 {
            self.converged = true;
            self.phase = Phase::Done;
            return;
        }
        // A fresh simplex is not an iteration.
        if !matches!(self.phase, Phase::Init(_)) {
            self.iterations += 1;
        }
        if self.is_converged() {
            let best = self.values[0];
            let improved = self.best_at_restart - best > self.f_scale(best);
            if self.restarts < MAX_RESTARTS && improved {
                self.restarts += 1;
                self.best_at_restart = best;
                self.make_vertex(1);
                self.phase = Phase::Init(1);
                return;
            }
            self.converged = true;
            self.phase = Phase::Done;
            return;
        }
        if self.iterations >= self.opts.max_iterations {
            self.phase = Phase::Done;
            return;
        }
        for j in 0..n {
            let mut sum = 0.0;
            for i in 0..n {
                sum += self.simplex[i * n + j];
            }
            self.centroid[j] = sum / n as f64;
        }
        self.set_trial_towards(REFLECT);
        self.phase = Phase::Reflect;
    }

    fn f_scale(&self, best: f64) -> f64 {
        self.opts.f_tolerance * (1.0 + best.abs())
    }

    fn is_converged(&self) -> bool {
        let n = self.n;
        let best = self.values[0];
        if !best.is_finite() {
            return false;
        }
        let f_tol = self.f_scale(best);
        // NaN never reaches here (told NaN is +∞); +∞ − best fails the test.
        if self.values[1..]
            .iter()
            .any(|v| v - best > f_tol || v.is_infinite())
        {
            return false;
        }
        (1..=n).all(|i| {
            (0..n).all(|j| {
                let b = self.simplex[j];
                (self.simplex[i * n + j] - b).abs() <= self.opts.x_tolerance * (1.0 + b.abs())
            })
        })
    }

    /// Stable insertion sort of the vertices by value (ties keep their order), swapping
    /// rows in place.
    fn sort(&mut self) {
        let n = self.n;
        for i in 1..=n {
            let mut k = i;
            while k > 0 && self.values[k] < self.values[k - 1] {
                self.values.swap(k, k - 1);
                for j in 0..n {
                    self.simplex.swap(k * n + j, (k - 1) * n + j);
                }
                k -= 1;
            }
        }
    }
}

/// Minimise `f` from `x0` by Nelder–Mead: [`NelderMead`] with its ask/tell loop run to the
/// end.
pub fn minimize(mut f: impl FnMut(&[f64]) -> f64, x0: &[f64], opts: MinimizeOptions) -> Minimum {
    let mut nm = NelderMead::new(x0, opts);
    while !nm.is_done() {
        let value = f(nm.ask());
        nm.tell(value);
    }
    let (x, value) = nm.best();
    Minimum {
        x: x.to_vec(),
        value,
        iterations: nm.iterations,
        converged: nm.converged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rosenbrock(x: &[f64]) -> f64 {
        (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
    }

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let m = minimize(rosenbrock, &[-1.2, 1.0], MinimizeOptions::default());
        assert!(m.converged, "{m:?}");
        assert!(
            (m.x[0] - 1.0).abs() < 1e-7 && (m.x[1] - 1.0).abs() < 1e-7,
            "{m:?}"
        );
    }

    #[test]
    fn minimises_an_ill_scaled_quadratic_in_eight_dimensions() {
        let f = |x: &[f64]| {
            x.iter()
                .enumerate()
                .map(|(i, v)| 10f64.powi(i as i32 - 3) * (v - i as f64).powi(2))
                .sum::<f64>()
        };
        let opts = MinimizeOptions {
            x_tolerance: 1e-6,
            ..MinimizeOptions::default()
        };
        let m = minimize(f, &[0.5; 8], opts);
        assert!(m.converged, "{m:?}");
        for (i, v) in m.x.iter().enumerate() {
            assert!((v - i as f64).abs() < 1e-3, "{i}: {v}");
        }
    }

    #[test]
    fn infinite_values_keep_the_search_feasible() {
        // min (x - 2)² subject to x ≤ 1: the constrained optimum is on the boundary.
        let f = |x: &[f64]| {
            if x[0] > 1.0 {
                f64::INFINITY
            } else {
                (x[0] - 2.0).powi(2)
            }
        };
        let m = minimize(f, &[0.0], MinimizeOptions::default());
        assert!((m.x[0] - 1.0).abs() < 1e-6, "{m:?}");
    }

    #[test]
    fn bounds_clamp_every_asked_point() {
        let mut nm = NelderMead::with_bounds(
            &[0.5, 0.5],
            &[0.0, 0.0],
            &[1.0, 2.0],
            MinimizeOptions::default(),
        );
        while !nm.is_done() {
            let x = nm.ask();
            assert!(x[0] >= 0.0 && x[0] <= 1.0 && x[1] >= 0.0 && x[1] <= 2.0);
            let v = (x[0] - 3.0).powi(2) + (x[1] - 1.0).powi(2);
            nm.tell(v);
        }
        let (x, _) = nm.best();
        assert!(
            (x[0] - 1.0).abs() < 1e-6 && (x[1] - 1.0).abs() < 1e-6,
            "{x:?}"
        );
    }

    #[test]
    fn the_iteration_limit_stops_an_unconverged_search() {
        let opts = MinimizeOptions {
            max_iterations: 10,
            ..MinimizeOptions::default()
        };
        let m = minimize(rosenbrock, &[-1.2, 1.0], opts);
        assert!(!m.converged);
        assert_eq!(m.iterations, 10);
    }

    #[test]
    fn a_restarted_search_repeats_a_fresh_one() {
        let mut nm = NelderMead::new(&[5.0, 5.0], MinimizeOptions::default());
        while !nm.is_done() {
            let v = rosenbrock(nm.ask());
            nm.tell(v);
        }
        nm.restart(&[-1.2, 1.0]);
        while !nm.is_done() {
            let v = rosenbrock(nm.ask());
            nm.tell(v);
        }
        let fresh = minimize(rosenbrock, &[-1.2, 1.0], MinimizeOptions::default());
        assert_eq!(nm.best().0, &fresh.x[..]);
        assert_eq!(nm.iterations(), fresh.iterations);
    }

    #[test]
    fn ask_and_tell_are_deterministic() {
        let a = minimize(rosenbrock, &[-1.2, 1.0], MinimizeOptions::default());
        let b = minimize(rosenbrock, &[-1.2, 1.0], MinimizeOptions::default());
        assert_eq!(a.x[0].to_bits(), b.x[0].to_bits());
        assert_eq!(a.iterations, b.iterations);
    }
}
