//! A rolling principal-component analysis of an `N`-vector: exponentially weighted mean
//! and covariance, their eigen-decomposition by the cyclic Jacobi method, and whitening.
//!
//! The moments are updated in `O(N²)` per observation; the eigen-decomposition costs
//! `O(N³)` per Jacobi sweep and converges quadratically in a handful of sweeps (about
//! 7 µs for `N = 8` on the 2-core development machine, against about 30 ns for an
//! observation), so recomputing it every `refresh_every` observations amortises it to
//! `O(N³ · sweeps / refresh_every)` per observation: about 0.1 µs at the default 60. Everything lives in
//! fixed arrays: nothing allocates after construction.

/// Parameters of [`RollingPca`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PcaConfig {
    /// Half-life of the exponential weights, in observations: an observation `h` steps
    /// old weighs half as much as the newest. The weight of each new observation is
    /// `α = 1 − 2^(−1/h)`.
    pub half_life: f64,
    /// Observations between two eigen-decompositions (at least 1).
    pub refresh_every: u32,
    /// A component whose eigenvalue is at most `min_eigenvalue_ratio · λ_max` is treated
    /// as degenerate: [`RollingPca::whiten`] gives it 0 instead of scaling it up.
    pub min_eigenvalue_ratio: f64,
    /// Absolute floor on the eigenvalue of a component [`RollingPca::whiten`] keeps, so a
    /// constant input gives 0 rather than a division by (almost) zero.
    pub min_eigenvalue: f64,
}

impl Default for PcaConfig {
    /// For minute bars: a one-day half-life, re-decomposed every hour.
    fn default() -> Self {
        Self {
            half_life: 1440.0,
            refresh_every: 60,
            min_eigenvalue_ratio: 1e-4,
            min_eigenvalue: 1e-12,
        }
    }
}

/// Largest number of Jacobi sweeps; convergence is quadratic, so this is never reached
/// for a finite symmetric matrix of the sizes meant here (`N ≤ ~8`).
const MAX_SWEEPS: usize = 64;

/// Exponentially weighted mean and covariance of an `N`-vector, with its principal
/// components.
///
/// The `t`-th observation `x` (counting from 1) is folded in with weight
/// `a_t = max(α, 1/t)`:
///
/// ```text
/// d = x − μ,   μ ← μ + a_t · d,   C ← (1 − a_t) · (C + a_t · d dᵀ)
/// ```
///
/// so the first `1/α` observations are equally weighted (the exact population mean and
/// covariance), and the weights decay geometrically afterwards.
///
/// Every `refresh_every` observations `C = V Λ Vᵀ` is decomposed by [`jacobi_eigen`];
/// before the first decomposition the eigenvalues are 0 and the vectors the identity.
#[derive(Debug, Clone)]
pub struct RollingPca<const N: usize> {
    config: PcaConfig,
    alpha: f64,
    count: u64,
    since_refresh: u32,
    mean: [f64; N],
    cov: [[f64; N]; N],
    values: [f64; N],
    vectors: [[f64; N]; N],
}

impl<const N: usize> RollingPca<N> {
    /// Empty moments; no decomposition yet.
    ///
    /// # Panics
    /// If `half_life` is not positive or `refresh_every` is 0.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::signals::pca::{PcaConfig, RollingPca};
    /// let mut pca = RollingPca::<2>::new(PcaConfig { refresh_every: 1, ..PcaConfig::default() });
    /// for x in [[1.0, 1.0], [-1.0, -1.0], [2.0, 2.0], [-2.0, -2.0]] {
    ///     pca.observe(&x);
    /// }
    /// // Two identical inputs: one component carries all the variance.
    /// let ratio = pca.explained_variance_ratio();
    /// assert!((ratio[0] - 1.0).abs() < 1e-12 && ratio[1].abs() < 1e-12);
    /// ```
    pub fn new(config: PcaConfig) -> Self {
        assert!(
            config.half_life > 0.0,
            "PcaConfig::half_life must be positive"
        );
        assert!(
            config.refresh_every > 0,
            "PcaConfig::refresh_every must be at least 1"
        );
        Self {
            config,
            alpha: 1.0 - (-std::f64::consts::LN_2 / config.half_life).exp(),
            count: 0,
            since_refresh: 0,
            mean: [0.0; N],
            cov: [[0.0; N]; N],
            values: [0.0; N],
            vectors: identity(),
        }
    }

    /// The parameters.
    pub fn config(&self) -> &PcaConfig {
        &self.config
    }

    /// Observations folded in (non-finite ones are skipped and not counted).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The weighted mean `μ`.
    pub fn mean(&self) -> &[f64; N] {
        &self.mean
    }

    /// The weighted (population) covariance `C`.
    pub fn covariance(&self) -> &[[f64; N]; N] {
        &self.cov
    }

    /// Fold in one observation; re-decompose if `refresh_every` have passed since the last
    /// decomposition. An observation with a NaN or infinite element is skipped.
    #[inline]
    pub fn observe(&mut self, x: &[f64; N]) {
        if x.iter().any(|v| !v.is_finite()) {
            return;
        }
        self.count += 1;
        let a = self.alpha.max(1.0 / self.count as f64);
        let mut d = [0.0; N];
        for i in 0..N {
            d[i] = x[i] - self.mean[i];
            self.mean[i] += a * d[i];
        }
        for i in 0..N {
            for j in 0..=i {
                let c = (1.0 - a) * (self.cov[i][j] + a * d[i] * d[j]);
                self.cov[i][j] = c;
                self.cov[j][i] = c;
            }
        }
        self.since_refresh += 1;
        if self.since_refresh >= self.config.refresh_every {
            self.refresh();
        }
    }

    /// Decompose the current covariance now (`O(N³)` per sweep).
    pub fn refresh(&mut self) {
        (self.values, self.vectors) = jacobi_eigen(&self.cov);
        self.since_refresh = 0;
    }

    /// The last decomposition: eigenvalues sorted descending, and `vectors[k]` the unit
    /// eigenvector of `values[k]`, so `C = Σ_k values[k] · vectors[k] vectors[k]ᵀ`.
    /// Each vector's largest-magnitude element is positive.
    pub fn eigen(&self) -> (&[f64; N], &[[f64; N]; N]) {
        (&self.values, &self.vectors)
    }

    /// Share of the total variance each component explains, `max(λ_k, 0) / Σ_j max(λ_j, 0)`
    /// (all 0 while the covariance is 0).
    pub fn explained_variance_ratio(&self) -> [f64; N] {
        let total: f64 = self.values.iter().map(|v| v.max(0.0)).sum();
        let mut out = [0.0; N];
        if total > 0.0 {
            for (o, v) in out.iter_mut().zip(&self.values) {
                *o = v.max(0.0) / total;
            }
        }
        out
    }

    /// The eigenvalue a component must exceed to be kept by [`whiten`](Self::whiten):
    /// `max(min_eigenvalue_ratio · λ_max, min_eigenvalue)`.
    pub fn floor(&self) -> f64 {
        let largest = if N == 0 { 0.0 } else { self.values[0] };
        (self.config.min_eigenvalue_ratio * largest).max(self.config.min_eigenvalue)
    }

    /// Whitened principal components of `x`: `z_k = v_kᵀ (x − μ) / √λ_k` for
    /// `λ_k > floor` and `z_k = 0` otherwise. Over the data the decomposition was made
    /// from, the kept `z_k` have unit variance and are uncorrelated.
    #[inline]
    pub fn whiten(&self, x: &[f64; N]) -> [f64; N] {
        let mut d = [0.0; N];
        for i in 0..N {
            d[i] = x[i] - self.mean[i];
        }
        self.whiten_deviation(&d)
    }

    /// [`whiten`](Self::whiten) of a vector already de-meaned (or of any vector in the
    /// input space, such as a covariance with an outcome): `z_k = v_kᵀ d / √λ_k`.
    #[inline]
    pub fn whiten_deviation(&self, d: &[f64; N]) -> [f64; N] {
        let floor = self.floor();
        let mut z = [0.0; N];
        for ((zk, &lambda), v) in z.iter_mut().zip(&self.values).zip(&self.vectors) {
            if lambda > floor {
                *zk = dot(v, d) / lambda.sqrt();
            }
        }
        z
    }
}

/// Eigen-decomposition of a symmetric matrix by the cyclic Jacobi method.
///
/// Each rotation `A ← Pᵀ A P` in the plane `(p, q)` annihilates `a_pq`, with
/// `θ = (a_qq − a_pp) / (2 a_pq)`, `t = sgn θ / (|θ| + √(θ² + 1))`, `c = 1/√(t² + 1)`,
/// `s = t c`; sweeps over all `p < q` repeat until the off-diagonal mass is below
/// `10⁻²⁸` of the total (relative 1e-14), which the quadratic convergence reaches in
/// a handful of sweeps. `a` is assumed symmetric, not checked.
///
/// Returns the eigenvalues sorted descending (ties in their original diagonal order)
/// and `vectors[k]` the unit eigenvector of `values[k]`, its largest-magnitude element
/// made positive (the first such within 1e-12 of the largest, on near-ties), so the
/// result is a deterministic function of `a`.
///
/// # Examples
/// ```
/// use bot4_operators::signals::pca::jacobi_eigen;
/// let (values, vectors) = jacobi_eigen(&[[2.0, 1.0], [1.0, 2.0]]);
/// assert!((values[0] - 3.0).abs() < 1e-12 && (values[1] - 1.0).abs() < 1e-12);
/// let h = std::f64::consts::FRAC_1_SQRT_2;
/// assert!((vectors[0][0] - h).abs() < 1e-12 && (vectors[0][1] - h).abs() < 1e-12);
/// ```
pub fn jacobi_eigen<const N: usize>(a: &[[f64; N]; N]) -> ([f64; N], [[f64; N]; N]) {
    let mut a = *a;
    // Columns of `v` are the eigenvectors: A_original = V · diag(A) · Vᵀ.
    let mut v: [[f64; N]; N] = identity();
    let total: f64 = a.iter().flatten().map(|x| x * x).sum();
    for sweep in 0..MAX_SWEEPS {
        let off: f64 = a
            .iter()
            .enumerate()
            .flat_map(|(p, row)| &row[p + 1..])
            .map(|x| x * x)
            .sum();
        if off <= 1e-28 * total || !off.is_finite() {
            break;
        }
        for p in 0..N {
            for q in p + 1..N {
                let apq = a[p][q];
                if apq == 0.0 {
                    continue;
                }
                // After a few sweeps, an element negligible against both diagonals is
                // set to zero rather than rotated (rounding keeps it from vanishing).
                let small = 100.0 * apq.abs();
                if sweep > 3
                    && a[p][p].abs() + small == a[p][p].abs()
                    && a[q][q].abs() + small == a[q][q].abs()
                {
                    a[p][q] = 0.0;
                    a[q][p] = 0.0;
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * apq);
                let t = if theta.abs() > 1e150 {
                    0.5 / theta
                } else {
                    let t = 1.0 / (theta.abs() + (theta * theta + 1.0).sqrt());
                    if theta < 0.0 {
                        -t
                    } else {
                        t
                    }
                };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                rotate(&mut a, &mut v, p, q, c, s);
            }
        }
    }

    // Sort by eigenvalue, descending; a stable insertion sort keeps ties in order.
    let mut order = [0usize; N];
    for (k, o) in order.iter_mut().enumerate() {
        *o = k;
    }
    for i in 1..N {
        let mut j = i;
        while j > 0 && a[order[j]][order[j]] > a[order[j - 1]][order[j - 1]] {
            order.swap(j, j - 1);
            j -= 1;
        }
    }
    let mut values = [0.0; N];
    let mut vectors = [[0.0; N]; N];
    for (k, &col) in order.iter().enumerate() {
        values[k] = a[col][col];
        for i in 0..N {
            vectors[k][i] = v[i][col];
        }
        let largest = vectors[k].iter().fold(0.0f64, |m, x| m.max(x.abs()));
        if let Some(lead) = vectors[k].iter().find(|x| x.abs() >= largest - 1e-12) {
            if *lead < 0.0 {
                for x in &mut vectors[k] {
                    *x = -*x;
                }
            }
        }
    }
    (values, vectors)
}

/// `A ← Pᵀ A P` and `V ← V P` for the rotation with `P_pp = P_qq = c`, `P_pq = s`,
/// `P_qp = −s` (`p < q`); `a_pq` is set to exactly 0.
#[inline]
fn rotate<const N: usize>(
    a: &mut [[f64; N]; N],
    v: &mut [[f64; N]; N],
    p: usize,
    q: usize,
    c: f64,
    s: f64,
) {
    // Columns p and q of A P.
    for row in a.iter_mut() {
        let (kp, kq) = (row[p], row[q]);
        row[p] = c * kp - s * kq;
        row[q] = s * kp + c * kq;
    }
    // Rows p and q of Pᵀ (A P).
    let (upper, lower) = a.split_at_mut(q);
    for (pk, qk) in upper[p].iter_mut().zip(lower[0].iter_mut()) {
        (*pk, *qk) = (c * *pk - s * *qk, s * *pk + c * *qk);
    }
    a[p][q] = 0.0;
    a[q][p] = 0.0;
    for row in v.iter_mut() {
        let (kp, kq) = (row[p], row[q]);
        row[p] = c * kp - s * kq;
        row[q] = s * kp + c * kq;
    }
}

fn identity<const N: usize>() -> [[f64; N]; N] {
    let mut m = [[0.0; N]; N];
    for (i, row) in m.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    m
}

#[inline]
fn dot<const N: usize>(a: &[f64; N], b: &[f64; N]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A deterministic uniform stream on `[-1, 1)` (xorshift64*), for synthetic data.
    struct Uniform(u64);

    impl Uniform {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let bits = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
            bits as f64 / (1u64 << 52) as f64 - 1.0
        }
    }

    #[allow(clippy::needless_range_loop, reason = "a[j][i] mirrors a[i][j]")]
    fn symmetric<const N: usize>(entries: &[f64]) -> [[f64; N]; N] {
        let mut a = [[0.0; N]; N];
        let mut it = entries.iter();
        for i in 0..N {
            for j in 0..=i {
                let x = *it.next().unwrap();
                a[i][j] = x;
                a[j][i] = x;
            }
        }
        a
    }

    /// `A = V Λ Vᵀ`, `V Vᵀ = I`, sorted values, sign convention: checked against the
    /// naive products.
    fn check_decomposition<const N: usize>(a: &[[f64; N]; N]) -> Result<(), TestCaseError> {
        let (values, vectors) = jacobi_eigen(a);
        let scale = a.iter().flatten().fold(1.0f64, |m, x| m.max(x.abs()));
        for i in 0..N {
            for j in 0..N {
                let rebuilt: f64 = (0..N)
                    .map(|k| values[k] * vectors[k][i] * vectors[k][j])
                    .sum();
                prop_assert!(
                    (rebuilt - a[i][j]).abs() <= 1e-10 * scale,
                    "A[{i}][{j}]: {rebuilt} vs {}",
                    a[i][j]
                );
                let gram: f64 = (0..N).map(|m| vectors[i][m] * vectors[j][m]).sum();
                let expected = if i == j { 1.0 } else { 0.0 };
                prop_assert!((gram - expected).abs() <= 1e-10, "VVᵀ[{i}][{j}] = {gram}");
            }
        }
        for k in 1..N {
            prop_assert!(values[k - 1] >= values[k]);
        }
        for v in &vectors {
            let largest = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            let lead = v.iter().find(|x| x.abs() >= largest - 1e-12).unwrap();
            prop_assert!(*lead > 0.0);
        }
        // The trace is the sum of the eigenvalues.
        let trace: f64 = (0..N).map(|i| a[i][i]).sum();
        prop_assert!((trace - values.iter().sum::<f64>()).abs() <= 1e-10 * scale * N as f64);
        Ok(())
    }

    proptest! {
        #[test]
        fn jacobi_reconstructs_random_symmetric_matrices(
            entries in proptest::collection::vec(-10.0f64..10.0, 36),
        ) {
            check_decomposition(&symmetric::<1>(&entries))?;
            check_decomposition(&symmetric::<2>(&entries))?;
            check_decomposition(&symmetric::<3>(&entries))?;
            check_decomposition(&symmetric::<5>(&entries))?;
            check_decomposition(&symmetric::<8>(&entries))?;
        }

        /// Covariance-like (positive semi-definite, possibly rank-deficient) matrices.
        #[test]
        fn jacobi_reconstructs_gram_matrices(
            entries in proptest::collection::vec(-3.0f64..3.0, 24),
            rank in 1usize..4,
        ) {
            let mut a = [[0.0; 6]; 6];
            for r in 0..rank {
                for i in 0..6 {
                    for j in 0..6 {
                        a[i][j] += entries[6 * r + i] * entries[6 * r + j];
                    }
                }
            }
            check_decomposition(&a)?;
            let (values, _) = jacobi_eigen(&a);
            for &v in &values[rank..] {
                prop_assert!(v.abs() < 1e-9);
            }
        }
    }

    #[test]
    fn analytic_two_by_two() {
        // [[a, b], [b, c]]: λ = (a + c)/2 ± √(((a − c)/2)² + b²).
        let (a, b, c) = (4.0, 1.5, 1.0);
        let (values, vectors) = jacobi_eigen(&[[a, b], [b, c]]);
        let mid = (a + c) / 2.0;
        let radius = (((a - c) / 2.0f64).powi(2) + b * b).sqrt();
        assert!((values[0] - (mid + radius)).abs() < 1e-12);
        assert!((values[1] - (mid - radius)).abs() < 1e-12);
        // The top eigenvector is ∝ (b, λ₀ − a), at angle φ with tan 2φ = 2b/(a − c).
        let phi = 0.5 * (2.0 * b / (a - c)).atan();
        assert!((vectors[0][0] - phi.cos()).abs() < 1e-12);
        assert!((vectors[0][1] - phi.sin()).abs() < 1e-12);
        // The second, orthogonal, with its larger element (−sin φ, cos φ → cos φ) positive.
        assert!((vectors[1][0] + phi.sin()).abs() < 1e-12);
        assert!((vectors[1][1] - phi.cos()).abs() < 1e-12);
    }

    #[test]
    fn diagonal_and_zero_matrices() {
        let (values, vectors) = jacobi_eigen(&[[1.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 2.0]]);
        assert_eq!(values, [3.0, 2.0, 1.0]);
        assert_eq!(vectors, [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]);
        let (values, vectors) = jacobi_eigen(&[[0.0; 4]; 4]);
        assert_eq!(values, [0.0; 4]);
        assert_eq!(vectors, identity());
    }

    /// Equal weights while `t ≤ 1/α`: the exact population moments of the data.
    #[test]
    fn moments_match_the_naive_population_moments() {
        let config = PcaConfig {
            half_life: 1e9,
            refresh_every: 1000,
            ..PcaConfig::default()
        };
        let mut pca = RollingPca::<3>::new(config);
        let mut u = Uniform(7);
        let data: Vec<[f64; 3]> = (0..500)
            .map(|_| [u.next(), u.next() * 2.0 + 1.0, u.next()])
            .collect();
        for x in &data {
            pca.observe(x);
        }
        let n = data.len() as f64;
        for i in 0..3 {
            let mi = data.iter().map(|x| x[i]).sum::<f64>() / n;
            assert!((pca.mean()[i] - mi).abs() < 1e-12);
            for j in 0..3 {
                let mj = data.iter().map(|x| x[j]).sum::<f64>() / n;
                let c = data.iter().map(|x| (x[i] - mi) * (x[j] - mj)).sum::<f64>() / n;
                assert!((pca.covariance()[i][j] - c).abs() < 1e-12);
            }
        }
    }

    /// Beyond `1/α` observations the weights are geometric: an `h`-old observation
    /// weighs half the newest.
    #[test]
    fn weights_halve_over_the_half_life() {
        let mut pca = RollingPca::<1>::new(PcaConfig {
            half_life: 10.0,
            ..PcaConfig::default()
        });
        for _ in 0..1000 {
            pca.observe(&[0.0]);
        }
        pca.observe(&[1.0]);
        let after_one = pca.mean()[0];
        for _ in 0..10 {
            pca.observe(&[0.0]);
        }
        assert!((pca.mean()[0] / after_one - 0.5).abs() < 1e-12);
    }

    /// Correlated synthetic data, whitened with its own decomposition, has identity
    /// covariance.
    #[test]
    fn whitened_correlated_data_has_identity_covariance() {
        let mut pca = RollingPca::<4>::new(PcaConfig {
            half_life: 1e9,
            refresh_every: 1_000_000,
            min_eigenvalue_ratio: 0.0,
            ..PcaConfig::default()
        });
        let mut u = Uniform(42);
        let data: Vec<[f64; 4]> = (0..4000)
            .map(|_| {
                let (e0, e1, e2, e3) = (u.next(), u.next(), u.next(), u.next());
                // x = L e: strongly correlated, with very different scales.
                [
                    e0,
                    0.9 * e0 + 0.1 * e1,
                    5.0 * (e0 - e2),
                    0.01 * e3 + 0.3 * e1,
                ]
            })
            .collect();
        for x in &data {
            pca.observe(x);
        }
        pca.refresh();
        let z: Vec<[f64; 4]> = data.iter().map(|x| pca.whiten(x)).collect();
        let n = z.len() as f64;
        for i in 0..4 {
            assert!(
                (z.iter().map(|v| v[i]).sum::<f64>() / n).abs() < 1e-10,
                "mean {i}"
            );
            for j in 0..4 {
                let c = z.iter().map(|v| v[i] * v[j]).sum::<f64>() / n;
                let expected = if i == j { 1.0 } else { 0.0 };
                assert!((c - expected).abs() < 1e-9, "cov[{i}][{j}] = {c}");
            }
        }
        let ratio = pca.explained_variance_ratio();
        assert!((ratio.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(ratio.windows(2).all(|w| w[0] >= w[1]));
    }

    /// A duplicated input is a degenerate component: whitened to exactly 0, never
    /// amplified. A constant input likewise.
    #[test]
    fn degenerate_components_whiten_to_zero() {
        let mut pca = RollingPca::<3>::new(PcaConfig {
            refresh_every: 1,
            ..PcaConfig::default()
        });
        let mut u = Uniform(3);
        for _ in 0..200 {
            let a = u.next();
            pca.observe(&[a, a, 2.5]);
        }
        let z = pca.whiten(&[0.7, 0.7, 2.5]);
        assert!(z[0] != 0.0);
        assert_eq!(&z[1..], &[0.0, 0.0]);
        let z = pca.whiten(&[0.7, -0.7, 9.0]);
        assert!(z.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn before_any_decomposition_everything_whitens_to_zero() {
        let mut pca = RollingPca::<2>::new(PcaConfig::default());
        pca.observe(&[1.0, 2.0]);
        pca.observe(&[f64::NAN, 2.0]);
        assert_eq!(pca.count(), 1);
        assert_eq!(pca.whiten(&[3.0, -1.0]), [0.0, 0.0]);
        assert_eq!(pca.explained_variance_ratio(), [0.0, 0.0]);
    }

    #[test]
    fn deterministic() {
        let run = || {
            let mut pca = RollingPca::<5>::new(PcaConfig {
                half_life: 50.0,
                refresh_every: 7,
                ..PcaConfig::default()
            });
            let mut u = Uniform(11);
            let mut trace = Vec::new();
            for _ in 0..300 {
                let x = [u.next(), u.next(), u.next(), u.next(), u.next()];
                pca.observe(&x);
                trace.push(pca.whiten(&x).map(f64::to_bits));
            }
            let (values, vectors) = pca.eigen();
            (
                trace,
                values.map(f64::to_bits),
                vectors.map(|v| v.map(f64::to_bits)),
            )
        };
        assert_eq!(run(), run());
    }
}
