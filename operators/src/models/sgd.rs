//! An online logistic model of the probability of an up move, trained by stochastic
//! gradient descent on standardised features.
//!
//! Each feature is standardised by its running mean and variance (Welford):
//! `zᵢ = clamp((xᵢ − x̄ᵢ) / sᵢ, −Z, Z)` with `sᵢ` the population standard deviation so
//! far (`zᵢ = 0` while `sᵢ = 0`) and `Z = `[`Z_CLIP`]. The model is
//! `P(up | x) = σ(b + w·z)`, `σ(v) = 1 / (1 + e^{−v})`, and one step on the
//! L2-regularised log loss `ℓ = −y ln P − (1−y) ln(1−P) + λ/2 |w|²` is
//!
//! `w ← w − η_t ((P − y) z + λ w)`, `b ← b − η_t (P − y)`, `η_t = η₀ / (1 + η₀ λ t)`
//!
//! (the bias is not penalised). With that schedule, repeated passes over a sample
//! converge to the minimiser of the sample's mean regularised loss, which is what the
//! tests compare with a batch Newton fit.
//!
//! Robustness: raw features are clamped to ±[`X_CLIP`] (so squares stay finite), a
//! non-finite feature reads as its running mean (`z = 0`) and is left out of the
//! statistics, and the logit is clamped to ±[`LOGIT_CLIP`], so probabilities stay in
//! the open interval `(0, 1)` and nothing becomes NaN.

/// Raw features are clamped to `±X_CLIP` before use.
pub const X_CLIP: f64 = 1e100;
/// Standardised features are clamped to `±Z_CLIP` (winsorised at 10 deviations).
pub const Z_CLIP: f64 = 10.0;
/// The logit is clamped to `±LOGIT_CLIP`, so `P ∈ [σ(−30), σ(30)] ⊂ (0, 1)`.
pub const LOGIT_CLIP: f64 = 30.0;

/// Online L2-regularised logistic regression over `N` features.
///
/// # Examples
///
/// ```
/// use bot4_operators::models::sgd::OnlineLogistic;
///
/// let mut model = OnlineLogistic::<2>::new(0.5, 1e-3);
/// for t in 0..2_000 {
///     let x = [f64::from(t % 7) - 3.0, 100.0 + f64::from(t % 5)];
///     model.learn(&x, x[0] > 0.0);
/// }
/// assert!(model.predict(&[3.0, 102.0]) > 0.9);
/// assert!(model.predict(&[-3.0, 102.0]) < 0.1);
/// ```
#[derive(Debug, Clone)]
pub struct OnlineLogistic<const N: usize> {
    weights: [f64; N],
    bias: f64,
    /// Welford's running mean and sum of squared deviations, per feature.
    mean: [f64; N],
    m2: [f64; N],
    count: [u64; N],
    eta0: f64,
    lambda: f64,
    /// Steps taken.
    steps: u64,
}

impl<const N: usize> OnlineLogistic<N> {
    /// A model with all weights zero (`P = ½`), initial learning rate `eta0` and L2
    /// penalty `lambda`.
    ///
    /// # Panics
    /// If `eta0` is not positive and finite, or `lambda` is negative or not finite.
    pub fn new(eta0: f64, lambda: f64) -> Self {
        assert!(eta0 > 0.0 && eta0.is_finite(), "eta0 must be positive");
        assert!(
            lambda >= 0.0 && lambda.is_finite(),
            "lambda must be non-negative"
        );
        Self {
            weights: [0.0; N],
            bias: 0.0,
            mean: [0.0; N],
            m2: [0.0; N],
            count: [0; N],
            eta0,
            lambda,
            steps: 0,
        }
    }

    /// The standardised features `z` of `x` under the current statistics.
    fn standardise(&self, x: &[f64; N]) -> [f64; N] {
        let mut z = [0.0; N];
        for i in 0..N {
            if !x[i].is_finite() || self.count[i] == 0 {
                continue;
            }
            let sd = (self.m2[i] / self.count[i] as f64).sqrt();
            if sd > 0.0 {
                let v = (x[i].clamp(-X_CLIP, X_CLIP) - self.mean[i]) / sd;
                z[i] = v.clamp(-Z_CLIP, Z_CLIP);
            }
        }
        z
    }

    /// `σ(clamp(b + w·z, ±LOGIT_CLIP))`.
    fn probability(&self, z: &[f64; N]) -> f64 {
        let logit = self.bias + self.weights.iter().zip(z).map(|(w, z)| w * z).sum::<f64>();
        let logit = if logit.is_nan() { 0.0 } else { logit };
        1.0 / (1.0 + (-logit.clamp(-LOGIT_CLIP, LOGIT_CLIP)).exp())
    }

    /// The probability of an up move given raw features `x`: `σ(b + w·z)`.
    pub fn predict(&self, x: &[f64; N]) -> f64 {
        self.probability(&self.standardise(x))
    }

    /// Learn from one labelled example: fold `x` into the feature statistics, then take
    /// one SGD step `w ← w − η_t ((P − y) z + λ w)`, `b ← b − η_t (P − y)` with
    /// `η_t = η₀ / (1 + η₀ λ t)`.
    #[allow(
        clippy::needless_range_loop,
        reason = "four per-feature arrays in step"
    )]
    pub fn learn(&mut self, x: &[f64; N], label: bool) {
        for i in 0..N {
            if x[i].is_finite() {
                let v = x[i].clamp(-X_CLIP, X_CLIP);
                self.count[i] += 1;
                let delta = v - self.mean[i];
                self.mean[i] += delta / self.count[i] as f64;
                self.m2[i] += delta * (v - self.mean[i]);
            }
        }
        let z = self.standardise(x);
        let gradient = self.probability(&z) - if label { 1.0 } else { 0.0 };
        let eta = self.eta0 / (1.0 + self.eta0 * self.lambda * self.steps as f64);
        for (w, z) in self.weights.iter_mut().zip(&z) {
            *w -= eta * (gradient * z + self.lambda * *w);
        }
        self.bias -= eta * gradient;
        self.steps += 1;
    }

    /// The weights `w` on the standardised features.
    pub fn weights(&self) -> &[f64; N] {
        &self.weights
    }

    /// The bias `b`.
    pub fn bias(&self) -> f64 {
        self.bias
    }

    /// The running means `x̄` and population standard deviations `s` of the features.
    pub fn feature_moments(&self) -> ([f64; N], [f64; N]) {
        let sd = std::array::from_fn(|i| {
            if self.count[i] > 0 {
                (self.m2[i] / self.count[i] as f64).sqrt()
            } else {
                0.0
            }
        });
        (self.mean, sd)
    }

    /// Examples learnt.
    pub fn steps(&self) -> u64 {
        self.steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::gaussians;
    use proptest::prelude::*;

    const D: usize = 3;

    /// A noisy logistic problem on raw features of very different scales.
    fn problem(n: usize) -> (Vec<[f64; D]>, Vec<bool>) {
        let g = gaussians(42, 4 * n);
        let mut xs = Vec::with_capacity(n);
        let mut ys = Vec::with_capacity(n);
        for t in 0..n {
            let x = [g[4 * t], 1_000.0 + 50.0 * g[4 * t + 1], 1e-4 * g[4 * t + 2]];
            let logit = 0.4 + 1.5 * g[4 * t] - 0.8 * g[4 * t + 1] + 0.3 * g[4 * t + 2];
            // The label's noise: a logistic draw from the fourth Gaussian's CDF rank.
            let u = 0.5 * (1.0 + erf_approx(g[4 * t + 3] / std::f64::consts::SQRT_2));
            xs.push(x);
            ys.push(u < 1.0 / (1.0 + (-logit).exp()));
        }
        (xs, ys)
    }

    /// Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7): only needs to be monotone here.
    fn erf_approx(x: f64) -> f64 {
        let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
        let y = 1.0
            - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736)
                * t
                + 0.254_829_592)
                * t
                * (-x * x).exp();
        y.copysign(x)
    }

    /// The batch reference by Newton's method: minimise
    /// `(1/n) Σ ℓ(b + w·z) + λ/2 |w|²` on the sample-standardised features.
    fn batch_newton(z: &[[f64; D]], y: &[bool], lambda: f64) -> [f64; D + 1] {
        let k = D + 1;
        let n = z.len() as f64;
        let mut beta = [0.0; D + 1];
        for _ in 0..50 {
            let mut grad = [0.0; D + 1];
            let mut hess = [[0.0; D + 1]; D + 1];
            for (zi, &yi) in z.iter().zip(y) {
                let row = [1.0, zi[0], zi[1], zi[2]];
                let v: f64 = row.iter().zip(&beta).map(|(a, b)| a * b).sum();
                let p = 1.0 / (1.0 + (-v).exp());
                let r = p - if yi { 1.0 } else { 0.0 };
                for a in 0..k {
                    grad[a] += r * row[a] / n;
                    for b in 0..k {
                        hess[a][b] += p * (1.0 - p) * row[a] * row[b] / n;
                    }
                }
            }
            for a in 1..k {
                grad[a] += lambda * beta[a];
                hess[a][a] += lambda;
            }
            // Gaussian elimination on [H | g].
            let mut m = hess;
            let mut g = grad;
            for c in 0..k {
                for r in c + 1..k {
                    let f = m[r][c] / m[c][c];
                    let pivot = m[c];
                    for (a, b) in m[r][c..].iter_mut().zip(&pivot[c..]) {
                        *a -= f * b;
                    }
                    g[r] -= f * g[c];
                }
            }
            let mut step = [0.0; D + 1];
            for r in (0..k).rev() {
                let s: f64 = (r + 1..k).map(|j| m[r][j] * step[j]).sum();
                step[r] = (g[r] - s) / m[r][r];
            }
            for a in 0..k {
                beta[a] -= step[a];
            }
        }
        beta
    }

    #[test]
    fn sgd_converges_to_the_batch_regularised_solution() {
        let (xs, ys) = problem(2_000);
        let lambda = 0.01;
        let mut model = OnlineLogistic::<D>::new(1.0, lambda);
        // Many passes in a fixed, scrambled order.
        for epoch in 0..150usize {
            for j in 0..xs.len() {
                let i = (j * 7919 + epoch * 104_729) % xs.len();
                model.learn(&xs[i], ys[i]);
            }
        }
        let (mean, sd) = model.feature_moments();
        let z: Vec<[f64; D]> = xs
            .iter()
            .map(|x| std::array::from_fn(|i| (x[i] - mean[i]) / sd[i]))
            .collect();
        let beta = batch_newton(&z, &ys, lambda);
        let got = [
            model.bias(),
            model.weights()[0],
            model.weights()[1],
            model.weights()[2],
        ];
        for (g, b) in got.iter().zip(&beta) {
            assert!((g - b).abs() < 5e-3, "sgd {got:?} vs batch {beta:?}");
        }
        // The right signs, recovered through features scaled 1, 50 and 1e-4.
        assert!(beta[1] > 0.5 && beta[2] < -0.5 && beta[3] > 0.0, "{beta:?}");
    }

    #[test]
    fn a_separable_problem_is_learnt() {
        let mut model = OnlineLogistic::<2>::new(0.5, 1e-4);
        for t in 0..20_000u32 {
            let a = f64::from(t.wrapping_mul(2_654_435_761) % 1_000) / 1_000.0 - 0.5;
            let b = f64::from(t % 13);
            model.learn(&[a * 1e6, b], a > 0.0);
        }
        assert!(model.predict(&[0.4e6, 3.0]) > 0.99);
        assert!(model.predict(&[-0.4e6, 3.0]) < 0.01);
    }

    proptest! {
        #[test]
        fn probabilities_stay_in_the_open_interval_and_finite(
            examples in prop::collection::vec(
                (prop::array::uniform3(prop_oneof![
                    -1e300..1e300f64,
                    -10.0..10.0f64,
                    Just(f64::NAN),
                    Just(f64::INFINITY),
                    Just(f64::NEG_INFINITY),
                    Just(f64::MAX),
                    Just(f64::MIN_POSITIVE),
                ]), any::<bool>()),
                1..200,
            ),
        ) {
            let mut model = OnlineLogistic::<3>::new(2.0, 1e-3);
            for (x, y) in &examples {
                let p = model.predict(x);
                prop_assert!(p > 0.0 && p < 1.0, "p = {p}");
                model.learn(x, *y);
                prop_assert!(model.bias().is_finite());
                prop_assert!(model.weights().iter().all(|w| w.is_finite()));
            }
        }

        #[test]
        fn learning_is_deterministic(
            examples in prop::collection::vec(
                (prop::array::uniform2(-1e3..1e3f64), any::<bool>()),
                1..100,
            ),
        ) {
            let mut a = OnlineLogistic::<2>::new(0.3, 1e-2);
            let mut b = OnlineLogistic::<2>::new(0.3, 1e-2);
            for (x, y) in &examples {
                a.learn(x, *y);
                b.learn(x, *y);
                prop_assert_eq!(a.predict(x).to_bits(), b.predict(x).to_bits());
            }
            prop_assert_eq!(a.weights(), b.weights());
        }
    }
}
