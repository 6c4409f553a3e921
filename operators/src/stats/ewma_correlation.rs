//! Pairwise correlations of the symbols' bar returns, exponentially weighted.
//!
//! The portfolio's correlation limit needs, for every pair of symbols, how their returns
//! move together now. Each aligned bar (the returns of the symbols that closed a bar at
//! the same end time) updates, for every pair `(i, j)` present in it, the weighted
//! second moments of that pair with weight `1 − λ` for the new bar:
//!
//! ```text
//! s_ii ← λ s_ii + (1 − λ) r_i²    s_jj ← λ s_jj + (1 − λ) r_j²    s_ij ← λ s_ij + (1 − λ) r_i r_j
//! ρ_ij = s_ij / √(s_ii s_jj)
//! ```
//!
//! (RiskMetrics' zero-mean estimator; each pair keeps its own variances, so a symbol
//! missing from some bars never gives a correlation outside `[−1, 1]`.) A pair's
//! correlation is known once it has seen `min_bars` bars together. Each symbol's own
//! variance `s_ii` over all its bars gives its one-bar volatility.

use bot4_schemas::SymbolId;

/// Pairwise EWMA correlations of `n` symbols.
///
/// # Examples
/// ```
/// use bot4_operators::stats::ewma_correlation::EwmaCorrelation;
/// use bot4_schemas::SymbolId;
/// let mut c = EwmaCorrelation::new(2, 0.94, 2);
/// c.observe(&[(SymbolId(0), 0.01), (SymbolId(1), 0.02)]);
/// assert_eq!(c.correlation(SymbolId(0), SymbolId(1)), None, "one bar is not enough");
/// c.observe(&[(SymbolId(0), -0.01), (SymbolId(1), -0.02)]);
/// assert!((c.correlation(SymbolId(0), SymbolId(1)).unwrap() - 1.0).abs() < 1e-12);
/// ```
#[derive(Debug, Clone)]
pub struct EwmaCorrelation {
    n: usize,
    lambda: f64,
    min_bars: u64,
    /// Per pair `i < j` (row-major upper triangle): `[s_ii, s_jj, s_ij]` and the bars seen.
    pairs: Vec<([f64; 3], u64)>,
    /// Per symbol: `s_ii` over all its bars, and the bars seen.
    own: Vec<(f64, u64)>,
}

impl EwmaCorrelation {
    /// No bars yet for `n` symbols; decay `lambda` per bar (0.94 is RiskMetrics' daily
    /// value), a pair known after `min_bars` common bars.
    pub fn new(n: usize, lambda: f64, min_bars: u64) -> Self {
        Self {
            n,
            lambda: lambda.clamp(0.0, 1.0),
            min_bars: min_bars.max(1),
            pairs: vec![([0.0; 3], 0); n * n.saturating_sub(1) / 2],
            own: vec![(0.0, 0); n],
        }
    }

    fn pair(&self, i: usize, j: usize) -> usize {
        debug_assert!(i < j && j < self.n);
        // Rows 0..i hold n−1, n−2, … pairs.
        i * (2 * self.n - i - 1) / 2 + (j - i - 1)
    }

    /// Fold in one aligned bar: each symbol's return at most once, non-finite returns
    /// and unknown symbols ignored.
    pub fn observe(&mut self, returns: &[(SymbolId, f64)]) {
        let (l, w) = (self.lambda, 1.0 - self.lambda);
        let valid = |&&(s, r): &&(SymbolId, f64)| (s.0 as usize) < self.n && r.is_finite();
        for &(s, r) in returns.iter().filter(valid) {
            let own = &mut self.own[s.0 as usize];
            own.0 = if own.1 == 0 {
                r * r
            } else {
                l * own.0 + w * r * r
            };
            own.1 += 1;
        }
        for (k, &(a, ra)) in returns.iter().enumerate() {
            for &(b, rb) in &returns[k + 1..] {
                if !valid(&&(a, ra)) || !valid(&&(b, rb)) || a == b {
                    continue;
                }
                let (i, j, ri, rj) = if a.0 < b.0 {
                    (a.0 as usize, b.0 as usize, ra, rb)
                } else {
                    (b.0 as usize, a.0 as usize, rb, ra)
                };
                let at = self.pair(i, j);
                let (m, seen) = &mut self.pairs[at];
                let x = [ri * ri, rj * rj, ri * rj];
                for (m, x) in m.iter_mut().zip(x) {
                    *m = if *seen == 0 { x } else { l * *m + w * x };
                }
                *seen += 1;
            }
        }
    }

    /// The correlation of `a` and `b`, once known; 1 for a symbol with itself.
    pub fn correlation(&self, a: SymbolId, b: SymbolId) -> Option<f64> {
        let (i, j) = (a.0.min(b.0) as usize, a.0.max(b.0) as usize);
        if j >= self.n {
            return None;
        }
        if i == j {
            return Some(1.0);
        }
        let ([sii, sjj, sij], seen) = self.pairs[self.pair(i, j)];
        if seen < self.min_bars || sii <= 0.0 || sjj <= 0.0 {
            return None;
        }
        Some((sij / (sii * sjj).sqrt()).clamp(-1.0, 1.0))
    }

    /// The one-bar volatility of `symbol`'s returns, once it has `min_bars` bars.
    pub fn volatility(&self, symbol: SymbolId) -> Option<f64> {
        let &(s, seen) = self.own.get(symbol.0 as usize)?;
        (seen >= self.min_bars).then(|| s.sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The naive weighted sums over a whole history, oldest first.
    fn naive(history: &[(f64, f64)], lambda: f64) -> f64 {
        let (mut sii, mut sjj, mut sij) = (0.0, 0.0, 0.0);
        for (k, &(x, y)) in history.iter().enumerate() {
            // The first bar seeds the moments with weight λ^(n−1), the others (1−λ)λ^(n−1−k).
            let age = (history.len() - 1 - k) as i32;
            let w = if k == 0 {
                lambda.powi(age)
            } else {
                (1.0 - lambda) * lambda.powi(age)
            };
            sii += w * x * x;
            sjj += w * y * y;
            sij += w * x * y;
        }
        sij / (sii * sjj).sqrt()
    }

    #[test]
    fn opposite_moves_are_minus_one_and_unknown_pairs_are_none() {
        let mut c = EwmaCorrelation::new(3, 0.9, 3);
        for k in 0..5 {
            let r = if k % 2 == 0 { 0.01 } else { -0.02 };
            c.observe(&[(SymbolId(2), -r), (SymbolId(0), r)]);
        }
        assert!((c.correlation(SymbolId(0), SymbolId(2)).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(c.correlation(SymbolId(0), SymbolId(1)), None);
        assert_eq!(c.correlation(SymbolId(1), SymbolId(1)), Some(1.0));
        assert_eq!(c.correlation(SymbolId(0), SymbolId(7)), None);
        // 0.01² then four updates with λ = 0.9: the volatility is the root of the EWMA.
        assert!(c.volatility(SymbolId(0)).unwrap() > 0.01);
        assert_eq!(c.volatility(SymbolId(1)), None);
    }

    proptest! {
        /// The recursive estimate equals the naive weighted sums, and stays in [−1, 1].
        #[test]
        fn matches_the_naive_weighted_sums(
            history in proptest::collection::vec((-0.05f64..0.05, -0.05f64..0.05), 2..60),
            lambda in 0.5f64..0.99,
        ) {
            let mut c = EwmaCorrelation::new(2, lambda, 1);
            for &(x, y) in &history {
                c.observe(&[(SymbolId(1), y), (SymbolId(0), x)]);
            }
            let expected = naive(&history, lambda);
            if let Some(rho) = c.correlation(SymbolId(0), SymbolId(1)) {
                prop_assert!((-1.0..=1.0).contains(&rho));
                if expected.is_finite() {
                    prop_assert!((rho - expected.clamp(-1.0, 1.0)).abs() < 1e-9, "{rho} vs {expected}");
                }
            }
        }
    }
}
