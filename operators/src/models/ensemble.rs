//! Forecasts of one quantity from `M` models, combined with weights that follow each
//! member's recent accuracy.
//!
//! Each member `i` carries an exponentially weighted mean squared error,
//! `mseᵢ ← (1 − α) mseᵢ + α (fᵢ − y)²` (started at its first squared error), and the
//! weights are inverse-EW-MSE:
//!
//! `wᵢ = (1 / max(mseᵢ, ε)) / Σⱼ (1 / max(mseⱼ, ε))`, `ε = 1e-12 · maxⱼ mseⱼ`,
//!
//! equal until a member has been scored, and equal when every error is zero. Inverse MSE
//! rather than `exp(−η · mse)`: it does not depend on the scale of the quantity (no `η`
//! to tune per market), and it is the optimal combination of unbiased, uncorrelated
//! forecasts. The floor `ε` keeps a member with zero error from taking an infinite
//! weight while still giving it essentially all of it.
//!
//! [`Ensemble::combine`] remembers the forecasts it combined; [`Ensemble::observe`] scores
//! them against the outcome. A non-finite member forecast is left out of that
//! combination (the others renormalised) and of that scoring.

/// An inverse-EW-MSE weighted combination of `M` forecasts.
///
/// # Examples
///
/// ```
/// use bot4_operators::models::ensemble::Ensemble;
///
/// let mut ensemble = Ensemble::<2>::new(0.1);
/// for t in 0..100 {
///     let truth = f64::from(t);
///     ensemble.combine([truth + 0.1, truth + 3.0]);
///     ensemble.observe(truth);
/// }
/// assert!(ensemble.weights()[0] > 0.99);
/// ```
#[derive(Debug, Clone)]
pub struct Ensemble<const M: usize> {
    alpha: f64,
    /// The EW mean squared errors, `None` until first scored.
    mse: [Option<f64>; M],
    pending: Option<[f64; M]>,
}

impl<const M: usize> Ensemble<M> {
    /// An ensemble whose error averages decay with weight `alpha ∈ (0, 1]` on the newest
    /// squared error (a half-life of `ln ½ / ln(1 − α)` observations).
    ///
    /// # Panics
    /// If `alpha` is not in `(0, 1]`, or `M = 0`.
    pub fn new(alpha: f64) -> Self {
        assert!(alpha > 0.0 && alpha <= 1.0, "alpha must be in (0, 1]");
        assert!(M > 0, "an ensemble needs a member");
        Self {
            alpha,
            mse: [None; M],
            pending: None,
        }
    }

    /// The current weights: non-negative, summing to 1.
    pub fn weights(&self) -> [f64; M] {
        let scored = self.mse.iter().flatten();
        let max = scored.clone().fold(0.0f64, |a, &b| a.max(b));
        if max <= 0.0 || self.mse.iter().any(Option::is_none) {
            // Unscored members get the mean weight of the scored ones, so a member is
            // neither favoured nor punished before it has a record.
            return self.weights_with_unscored(max);
        }
        let floor = 1e-12 * max;
        let mut w = [0.0; M];
        for (w, m) in w.iter_mut().zip(&self.mse) {
            *w = 1.0 / m.unwrap_or(max).max(floor);
        }
        normalise(&mut w);
        w
    }

    fn weights_with_unscored(&self, max: f64) -> [f64; M] {
        let mut w = [1.0; M];
        if max > 0.0 {
            let floor = 1e-12 * max;
            let mut sum = 0.0;
            let mut n = 0usize;
            for (w, m) in w.iter_mut().zip(&self.mse) {
                if let Some(m) = m {
                    *w = 1.0 / m.max(floor);
                    sum += *w;
                    n += 1;
                }
            }
            let fill = sum / n as f64;
            for (w, m) in w.iter_mut().zip(&self.mse) {
                if m.is_none() {
                    *w = fill;
                }
            }
        }
        normalise(&mut w);
        w
    }

    /// Combine the members' forecasts: `Σ wᵢ fᵢ` over the finite `fᵢ` (weights
    /// renormalised over them), NaN if none is finite. The forecasts are kept for the
    /// next [`Ensemble::observe`], replacing any not yet scored.
    pub fn combine(&mut self, forecasts: [f64; M]) -> f64 {
        let w = self.weights();
        let (mut sum, mut total) = (0.0, 0.0);
        for (w, f) in w.iter().zip(&forecasts) {
            if f.is_finite() {
                sum += w * f;
                total += w;
            }
        }
        self.pending = Some(forecasts);
        if total > 0.0 {
            sum / total
        } else {
            f64::NAN
        }
    }

    /// Score the pending forecasts against `outcome`: `mseᵢ ← (1 − α) mseᵢ + α (fᵢ − y)²`
    /// for each finite `fᵢ`. Nothing happens without pending forecasts or with a
    /// non-finite outcome (the pending forecasts are dropped either way).
    pub fn observe(&mut self, outcome: f64) {
        let Some(forecasts) = self.pending.take() else {
            return;
        };
        if !outcome.is_finite() {
            return;
        }
        for (m, f) in self.mse.iter_mut().zip(&forecasts) {
            let e2 = (f - outcome) * (f - outcome);
            if !e2.is_finite() {
                continue;
            }
            *m = Some(match *m {
                Some(m) => (1.0 - self.alpha) * m + self.alpha * e2,
                None => e2,
            });
        }
    }

    /// Each member's EW mean squared error (NaN until first scored).
    pub fn errors(&self) -> [f64; M] {
        self.mse.map(|m| m.unwrap_or(f64::NAN))
    }
}

/// Scale `w` to sum to 1 (equal weights if it sums to nothing finite and positive).
fn normalise<const M: usize>(w: &mut [f64; M]) {
    let sum: f64 = w.iter().sum();
    if sum > 0.0 && sum.is_finite() {
        w.iter_mut().for_each(|v| *v /= sum);
    } else {
        w.fill(1.0 / M as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn weight_moves_to_the_accurate_member() {
        let mut e = Ensemble::<3>::new(0.05);
        assert_eq!(e.weights(), [1.0 / 3.0; 3]);
        for t in 0..500u32 {
            let y = f64::from(t % 17).sin();
            let wobble = if t % 2 == 0 { 1.0 } else { -1.0 };
            e.combine([y + 0.05 * wobble, y + 0.5 * wobble, y - 2.0]);
            e.observe(y);
        }
        let w = e.weights();
        assert!(w[0] > w[1] && w[1] > w[2], "{w:?}");
        // Inverse MSE: 1/0.0025 : 1/0.25 : 1/4.
        let expected = [1.0 / 0.0025, 1.0 / 0.25, 1.0 / 4.0];
        let total: f64 = expected.iter().sum();
        for (w, x) in w.iter().zip(expected) {
            assert!((w - x / total).abs() < 1e-9, "{w} vs {}", x / total);
        }
    }

    #[test]
    fn regime_change_is_followed() {
        let mut e = Ensemble::<2>::new(0.1);
        for t in 0..400u32 {
            let y = f64::from(t);
            let (a, b) = if t < 200 { (y, y + 1.0) } else { (y + 1.0, y) };
            e.combine([a, b]);
            e.observe(y);
            if t == 199 {
                assert!(e.weights()[0] > 0.999);
            }
        }
        assert!(e.weights()[1] > 0.999);
    }

    #[test]
    fn non_finite_forecasts_and_outcomes_are_skipped() {
        let mut e = Ensemble::<2>::new(0.5);
        assert_eq!(e.combine([1.0, f64::NAN]), 1.0);
        e.observe(1.5);
        assert_eq!(e.errors()[0], 0.25);
        assert!(e.errors()[1].is_nan());
        assert!(e.combine([f64::NAN, f64::INFINITY]).is_nan());
        e.observe(f64::NAN);
        e.observe(2.0); // nothing pending
        assert_eq!(e.errors()[0], 0.25);
        let w = e.weights();
        assert!((w[0] - 0.5).abs() < 1e-15 && (w[1] - 0.5).abs() < 1e-15);
    }

    #[test]
    fn a_perfect_member_takes_almost_all_the_weight() {
        let mut e = Ensemble::<2>::new(0.2);
        for t in 0..50u32 {
            let y = f64::from(t);
            e.combine([y, y + 1.0]);
            e.observe(y);
        }
        let w = e.weights();
        assert!(w[0] > 1.0 - 1e-9 && w[1] > 0.0, "{w:?}");
    }

    proptest! {
        #[test]
        fn weights_are_a_distribution(
            steps in prop::collection::vec(
                (prop::array::uniform4(prop_oneof![-1e6..1e6f64, Just(f64::NAN)]),
                 -1e6..1e6f64),
                0..100,
            ),
        ) {
            let mut e = Ensemble::<4>::new(0.1);
            for (f, y) in &steps {
                e.combine(*f);
                e.observe(*y);
                let w = e.weights();
                prop_assert!(w.iter().all(|w| *w >= 0.0 && w.is_finite()), "{w:?}");
                prop_assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{w:?}");
            }
        }

        #[test]
        fn equal_members_get_equal_weights(
            steps in prop::collection::vec((-1e3..1e3f64, -1e3..1e3f64), 1..100),
        ) {
            let mut e = Ensemble::<3>::new(0.3);
            for (f, y) in &steps {
                let c = e.combine([*f; 3]);
                prop_assert!((c - f).abs() <= 1e-12 * f.abs().max(1.0));
                e.observe(*y);
                prop_assert!(e.weights().iter().all(|w| (w - 1.0 / 3.0).abs() < 1e-15));
            }
        }

        #[test]
        fn combining_is_deterministic(
            steps in prop::collection::vec(
                (prop::array::uniform2(-1e3..1e3f64), -1e3..1e3f64), 1..100),
        ) {
            let mut a = Ensemble::<2>::new(0.2);
            let mut b = Ensemble::<2>::new(0.2);
            for (f, y) in &steps {
                prop_assert_eq!(a.combine(*f).to_bits(), b.combine(*f).to_bits());
                a.observe(*y);
                b.observe(*y);
            }
            prop_assert_eq!(a.weights(), b.weights());
        }
    }
}
