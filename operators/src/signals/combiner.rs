//! A regime-aware combiner of `N` forecast scores into one signed signal.
//!
//! Each input is a z-like score (a member's expected return over its forecast
//! volatility). The combiner
//!
//! 1. decorrelates the inputs with a [`RollingPca`], so correlated inputs are not
//!    counted twice (two identical inputs give the same score as one of them);
//! 2. weights each whitened component by its realised, shrunk correlation with the
//!    outcome, learned online from [`SignalCombiner::observe_outcome`];
//! 3. classifies the volatility [`Regime`] from the ratio of the GARCH one-step forecast
//!    to its long-run level, with hysteresis;
//! 4. turns the score into a direction with hysteresis, thresholds and strength scaled
//!    by the regime, and emits a [`Decision`] only when the direction changes.
//!
//! Per update it costs `O(N²)` plus the PCA's amortised decomposition, and allocates
//! nothing.

use statrs::function::erf::erf;
use thiserror::Error;

use super::pca::{PcaConfig, RollingPca};

/// The volatility regime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Regime {
    /// Volatility well below its long-run level.
    Calm,
    /// Volatility near its long-run level.
    #[default]
    Normal,
    /// Volatility well above its long-run level.
    Turbulent,
}

/// Thresholds of [`classify`] on the volatility ratio `ρ = σ̂_{t+1} / σ̄` (GARCH one-step
/// forecast over its long-run, unconditional volatility).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RegimeConfig {
    /// Calm is entered when `ρ < calm_below`, and left when `ρ > calm_below + hysteresis`.
    pub calm_below: f64,
    /// Turbulent is entered when `ρ > turbulent_above`, and left when
    /// `ρ < turbulent_above − hysteresis`.
    pub turbulent_above: f64,
    /// Width of the band that must be crossed back to leave a regime (≥ 0).
    pub hysteresis: f64,
}

impl Default for RegimeConfig {
    fn default() -> Self {
        Self {
            calm_below: 0.8,
            turbulent_above: 1.5,
            hysteresis: 0.1,
        }
    }
}

/// The regime after `previous`, given the volatility ratio `ρ`.
///
/// Entering Calm needs `ρ < calm_below` and entering Turbulent `ρ > turbulent_above`, from
/// any regime; staying needs only `ρ ≤ calm_below + hysteresis` (Calm) or
/// `ρ ≥ turbulent_above − hysteresis` (Turbulent). A non-finite `ρ` keeps `previous`.
///
/// # Examples
/// ```
/// use bot4_operators::signals::combiner::{classify, Regime, RegimeConfig};
/// let c = RegimeConfig { calm_below: 0.8, turbulent_above: 1.5, hysteresis: 0.1 };
/// assert_eq!(classify(Regime::Normal, 1.45, &c), Regime::Normal);
/// assert_eq!(classify(Regime::Turbulent, 1.45, &c), Regime::Turbulent);
/// assert_eq!(classify(Regime::Turbulent, 1.35, &c), Regime::Normal);
/// ```
pub fn classify(previous: Regime, vol_ratio: f64, config: &RegimeConfig) -> Regime {
    if !vol_ratio.is_finite() {
        return previous;
    }
    if vol_ratio > config.turbulent_above {
        return Regime::Turbulent;
    }
    if vol_ratio < config.calm_below {
        return Regime::Calm;
    }
    match previous {
        Regime::Turbulent if vol_ratio >= config.turbulent_above - config.hysteresis => {
            Regime::Turbulent
        }
        Regime::Calm if vol_ratio <= config.calm_below + config.hysteresis => Regime::Calm,
        _ => Regime::Normal,
    }
}

/// The regime of one symbol, folded in one volatility ratio at a time by [`classify`].
#[derive(Debug, Clone)]
pub struct RegimeTracker {
    config: RegimeConfig,
    regime: Regime,
}

impl RegimeTracker {
    /// Starts in [`Regime::Normal`].
    pub fn new(config: RegimeConfig) -> Self {
        Self {
            config,
            regime: Regime::Normal,
        }
    }

    /// The current regime.
    pub fn regime(&self) -> Regime {
        self.regime
    }

    /// Fold in the ratio of the one-step volatility forecast to the long-run volatility.
    #[inline]
    pub fn update(&mut self, vol_ratio: f64) -> Regime {
        self.regime = classify(self.regime, vol_ratio, &self.config);
        self.regime
    }
}

/// Parameters of [`SignalCombiner`]; the defaults are meant for minute bars.
///
/// The score `s` the thresholds apply to is a predicted return over the return's
/// volatility (see [`SignalCombiner`]): with information coefficients of a few percent,
/// `s` has a standard deviation of a few hundredths.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct CombinerConfig {
    /// The rolling PCA that decorrelates the inputs (default: one-day half-life,
    /// re-decomposed hourly).
    pub pca: PcaConfig,
    /// Half-life, in outcomes, of the moments `E[d · r]` and `E[r²]` the weights come
    /// from (default: a week of minute bars, 10 080).
    pub outcome_half_life: f64,
    /// Shrinkage prior in pseudo-outcomes `n₀`: the weights are scaled by
    /// `n_eff / (n_eff + n₀)`, so they start at 0 and reach half their estimate after `n₀`
    /// effective outcomes (default 1 000).
    pub prior_outcomes: f64,
    /// `|s|` above which a flat signal enters (default 0.05).
    pub entry: f64,
    /// `|s|` below which a position exits to flat; less than `entry` (default 0.02).
    pub exit: f64,
    /// `|s|` at which strength reaches 1 before the regime's cut (default 0.15).
    pub full_strength_score: f64,
    /// Regime thresholds on the volatility ratio.
    pub regime: RegimeConfig,
    /// Multiplier of `entry` and `exit` in Calm; below 1 relaxes the bar (default 0.9).
    pub calm_threshold: f64,
    /// Multiplier of the strength in Calm, in `[0, 1]` (default 1).
    pub calm_strength: f64,
    /// Multiplier of `entry` and `exit` in Turbulent; above 1 raises the bar (default 1.5).
    pub turbulent_threshold: f64,
    /// Multiplier of the strength in Turbulent, in `[0, 1]` (default 0.5).
    pub turbulent_strength: f64,
    /// Inputs are clipped to `[−input_clip, input_clip]`; NaN inputs count as 0
    /// (default 10).
    pub input_clip: f64,
}

impl Default for CombinerConfig {
    fn default() -> Self {
        Self {
            pca: PcaConfig::default(),
            outcome_half_life: 10_080.0,
            prior_outcomes: 1_000.0,
            entry: 0.05,
            exit: 0.02,
            full_strength_score: 0.15,
            regime: RegimeConfig::default(),
            calm_threshold: 0.9,
            calm_strength: 1.0,
            turbulent_threshold: 1.5,
            turbulent_strength: 0.5,
            input_clip: 10.0,
        }
    }
}

/// Why a [`CombinerConfig`] was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// A field is out of its range.
    #[error("invalid combiner config: `{field}` {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What it must be.
        reason: &'static str,
    },
}

impl CombinerConfig {
    /// `Ok` if every field is in range: positive half-lives, `refresh_every ≥ 1`,
    /// `0 ≤ exit < entry`, positive multipliers and scales, strengths in `[0, 1]`,
    /// `calm_below < turbulent_above`, `hysteresis ≥ 0`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let checks: [(bool, &'static str, &'static str); 14] = [
            (
                self.pca.half_life > 0.0,
                "pca.half_life",
                "must be positive",
            ),
            (
                self.pca.refresh_every > 0,
                "pca.refresh_every",
                "must be at least 1",
            ),
            (
                self.pca.min_eigenvalue_ratio >= 0.0 && self.pca.min_eigenvalue >= 0.0,
                "pca.min_eigenvalue",
                "floors must be non-negative",
            ),
            (
                self.outcome_half_life > 0.0,
                "outcome_half_life",
                "must be positive",
            ),
            (
                self.prior_outcomes >= 0.0,
                "prior_outcomes",
                "must be non-negative",
            ),
            (self.exit >= 0.0, "exit", "must be non-negative"),
            (
                self.entry > self.exit && self.entry.is_finite(),
                "entry",
                "must exceed exit",
            ),
            (
                self.full_strength_score > 0.0,
                "full_strength_score",
                "must be positive",
            ),
            (
                self.regime.calm_below < self.regime.turbulent_above,
                "regime.calm_below",
                "must be below turbulent_above",
            ),
            (
                self.regime.hysteresis >= 0.0,
                "regime.hysteresis",
                "must be non-negative",
            ),
            (
                self.calm_threshold > 0.0 && self.turbulent_threshold > 0.0,
                "calm_threshold/turbulent_threshold",
                "must be positive",
            ),
            (
                (0.0..=1.0).contains(&self.calm_strength),
                "calm_strength",
                "must be in [0, 1]",
            ),
            (
                (0.0..=1.0).contains(&self.turbulent_strength),
                "turbulent_strength",
                "must be in [0, 1]",
            ),
            (
                self.input_clip > 0.0 && self.input_clip.is_finite(),
                "input_clip",
                "must be positive and finite",
            ),
        ];
        match checks.iter().find(|(ok, _, _)| !ok) {
            Some(&(_, field, reason)) => Err(ConfigError::Invalid { field, reason }),
            None => Ok(()),
        }
    }

    /// The (entry, exit) thresholds in `regime`.
    fn thresholds(&self, regime: Regime) -> (f64, f64) {
        let m = match regime {
            Regime::Calm => self.calm_threshold,
            Regime::Normal => 1.0,
            Regime::Turbulent => self.turbulent_threshold,
        };
        (self.entry * m, self.exit * m)
    }

    /// The strength multiplier in `regime`.
    fn strength_cut(&self, regime: Regime) -> f64 {
        match regime {
            Regime::Calm => self.calm_strength,
            Regime::Normal => 1.0,
            Regime::Turbulent => self.turbulent_strength,
        }
    }
}

/// A change of direction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// `+1` long, `−1` short, `0` flat.
    pub direction: i8,
    /// Fraction of the full risk allocation, in `[0, 1]`:
    /// `min(1, |s| / full_strength_score) · regime cut`, and 0 when flat.
    pub strength: f64,
    /// Edge of the sign over a coin flip, in `[0, 1]`: `2 P(sign r = sign s) − 1`.
    pub confidence: f64,
    /// The combined score `s`.
    pub score: f64,
    /// The regime the decision was taken in.
    pub regime: Regime,
}

/// The combined signal of one symbol over `N` input scores.
///
/// With `x` the clipped inputs, `μ, C = V Λ Vᵀ` the [`RollingPca`] moments and
/// `d = x − μ`, the whitened components are `z_k = v_kᵀ d / √λ_k` (0 for degenerate
/// components). Each outcome `r` (the realised return following the last update's
/// inputs) updates exponentially weighted moments of the de-meaned inputs and the
/// outcome, each new pair weighing `a_t = max(β, 1/t)`:
///
/// ```text
/// g ← g + a_t (d r − g)          (E[d · r], in input space)
/// q ← q + a_t (r² − q)           (E[r²])
/// w ← (1 − a_t)² w + a_t²        (Σ weights², so n_eff = 1 / w)
/// ```
///
/// The predictive correlation of component `k` is `E[z_k r] / √E[r²]` with
/// `E[z_k r] = v_kᵀ g / √λ_k`, shrunk towards 0 as a normal prior worth `n₀`
/// outcomes would:
///
/// ```text
/// ĉ_k = n_eff / (n_eff + n₀) · v_kᵀ g / √(λ_k q)
/// s   = Σ_k ĉ_k z_k          (≈ E[r | x] / σ_r, the regression of r on the components)
/// R   = √(Σ_k ĉ_k²)          (information coefficient of the combination)
/// confidence = erf(|s| / √(2 (1 − R²))) = 2 Φ(|s| / √(1 − R²)) − 1
/// ```
///
/// `g` is kept in input space and rotated into the current components at each update,
/// so a re-decomposition that turns or reorders near-degenerate components does not
/// scramble the learned weights. Since the components are whitened, `s = gᵀ C⁺ d ·
/// shrink / √q` with `C⁺` the pseudo-inverse over the kept components: duplicating an
/// input leaves `s` unchanged. Note `d` is de-meaned: a member's persistent bias is
/// not a signal.
///
/// Direction: flat enters long when `s > entry`, short when `s < −entry`; long exits to
/// flat when `s < exit` and flips short when `s < −entry` (symmetrically for short);
/// `entry` and `exit` are scaled by the regime's threshold multiplier.
#[derive(Debug, Clone)]
pub struct SignalCombiner<const N: usize> {
    config: CombinerConfig,
    beta: f64,
    pca: RollingPca<N>,
    outcomes: u64,
    weight_sq: f64,
    cross: [f64; N],
    second: f64,
    pending: Option<[f64; N]>,
    tracker: RegimeTracker,
    score: f64,
    ic: f64,
    confidence: f64,
    direction: i8,
}

impl<const N: usize> SignalCombiner<N> {
    /// Flat, with no learned weights (score 0 until outcomes arrive).
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::signals::combiner::{CombinerConfig, Regime, SignalCombiner};
    /// let mut c = SignalCombiner::<3>::new(CombinerConfig::default()).unwrap();
    /// assert!(c.update(&[0.5, 0.4, -0.1], 1.0, true).is_none(), "nothing learned yet");
    /// c.observe_outcome(0.001);
    /// assert_eq!((c.direction(), c.regime()), (0, Regime::Normal));
    /// ```
    pub fn new(config: CombinerConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            config,
            beta: 1.0 - (-std::f64::consts::LN_2 / config.outcome_half_life).exp(),
            pca: RollingPca::new(config.pca),
            outcomes: 0,
            weight_sq: 0.0,
            cross: [0.0; N],
            second: 0.0,
            pending: None,
            tracker: RegimeTracker::new(config.regime),
            score: 0.0,
            ic: 0.0,
            confidence: 0.0,
            direction: 0,
        })
    }

    /// The parameters.
    pub fn config(&self) -> &CombinerConfig {
        &self.config
    }

    /// The combined score `s` of the last update.
    pub fn score(&self) -> f64 {
        self.score
    }

    /// The confidence of the last update, in `[0, 1]`.
    pub fn confidence(&self) -> f64 {
        self.confidence
    }

    /// The shrunk information coefficient `R` of the combination at the last update.
    pub fn information_coefficient(&self) -> f64 {
        self.ic
    }

    /// The regime of the last update.
    pub fn regime(&self) -> Regime {
        self.tracker.regime()
    }

    /// The direction last emitted.
    pub fn direction(&self) -> i8 {
        self.direction
    }

    /// The decorrelating PCA.
    pub fn pca(&self) -> &RollingPca<N> {
        &self.pca
    }

    /// Outcomes folded in.
    pub fn outcomes(&self) -> u64 {
        self.outcomes
    }

    /// Shrunk predictive correlation `ĉ_k` of each component with the outcome, in the
    /// PCA's current component order.
    pub fn component_ic(&self) -> [f64; N] {
        let mut c = self.pca.whiten_deviation(&self.cross);
        let scale = self.shrinkage() / self.second.sqrt();
        for v in &mut c {
            *v = if scale.is_finite() { *v * scale } else { 0.0 };
        }
        c
    }

    /// Fold in one vector of input scores and the volatility ratio; a decision if the
    /// direction changed. While `warm` is false, the moments and the regime still learn
    /// but the direction does not move.
    #[inline]
    pub fn update(&mut self, inputs: &[f64; N], vol_ratio: f64, warm: bool) -> Option<Decision> {
        let clip = self.config.input_clip;
        let mut x = [0.0; N];
        for (xi, &v) in x.iter_mut().zip(inputs) {
            *xi = if v.is_nan() {
                0.0
            } else {
                v.clamp(-clip, clip)
            };
        }
        self.pca.observe(&x);
        let mean = self.pca.mean();
        let mut d = [0.0; N];
        for i in 0..N {
            d[i] = x[i] - mean[i];
        }
        self.pending = Some(d);
        let regime = self.tracker.update(vol_ratio);

        let c = self.component_ic();
        let z = self.pca.whiten_deviation(&d);
        let s: f64 = c.iter().zip(&z).map(|(c, z)| c * z).sum();
        let r2: f64 = c.iter().map(|c| c * c).sum::<f64>();
        if s.is_finite() && r2.is_finite() {
            self.score = s;
            self.ic = r2.sqrt();
            let resid = (1.0 - r2.min(0.99)).sqrt();
            self.confidence = erf(s.abs() / (std::f64::consts::SQRT_2 * resid)).clamp(0.0, 1.0);
        } else {
            self.score = 0.0;
            self.ic = 0.0;
            self.confidence = 0.0;
        }

        if !warm {
            return None;
        }
        let (entry, exit) = self.config.thresholds(regime);
        let s = self.score;
        let next = match self.direction {
            1 if s < -entry => -1,
            1 if s < exit => 0,
            -1 if s > entry => 1,
            -1 if s > -exit => 0,
            0 if s > entry => 1,
            0 if s < -entry => -1,
            current => current,
        };
        if next == self.direction {
            return None;
        }
        self.direction = next;
        let strength = if next == 0 {
            0.0
        } else {
            (s.abs() / self.config.full_strength_score).min(1.0) * self.config.strength_cut(regime)
        };
        Some(Decision {
            direction: next,
            strength: strength.clamp(0.0, 1.0),
            confidence: self.confidence,
            score: s,
            regime,
        })
    }

    /// Fold in the realised return that followed the last [`update`](Self::update)'s
    /// inputs. Each update's inputs pair with at most one outcome: an outcome with no
    /// update since the last one is ignored, as is one whose square is not finite.
    #[inline]
    pub fn observe_outcome(&mut self, outcome: f64) {
        if !(outcome * outcome).is_finite() {
            return;
        }
        let Some(d) = self.pending.take() else {
            return;
        };
        self.outcomes += 1;
        let a = self.beta.max(1.0 / self.outcomes as f64);
        for (g, di) in self.cross.iter_mut().zip(&d) {
            *g += a * (di * outcome - *g);
        }
        self.second += a * (outcome * outcome - self.second);
        self.weight_sq = (1.0 - a) * (1.0 - a) * self.weight_sq + a * a;
    }

    /// `n_eff / (n_eff + n₀)`, 0 before any outcome.
    fn shrinkage(&self) -> f64 {
        if self.outcomes == 0 {
            return 0.0;
        }
        let n_eff = 1.0 / self.weight_sq;
        n_eff / (n_eff + self.config.prior_outcomes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Equal weights (huge half-lives), every update decomposed, no shrinkage.
    fn exact() -> CombinerConfig {
        CombinerConfig {
            pca: PcaConfig {
                half_life: 1e12,
                refresh_every: 1,
                ..PcaConfig::default()
            },
            outcome_half_life: 1e12,
            prior_outcomes: 0.0,
            entry: 0.3,
            exit: 0.1,
            full_strength_score: 1.0,
            ..CombinerConfig::default()
        }
    }

    /// A deterministic uniform stream on `[-1, 1)` (xorshift64*).
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

    /// By hand, one input, equal weights:
    /// x = 1, r = 1:   μ = 1, C = 0 → s = 0;              g = 0,   q = 1
    /// x = −1, r = −1: μ = 0, C = 1, d = −1, g = 0 → s = 0; g = ½, q = 1
    /// x = 3:          μ = 1, C = ⅓(0² + 2² + 2²) = 8/3, d = 2
    ///                 s = g d / (C √q) = ½ · 2 / (8/3) = 0.375,  R = ½ / √(8/3)
    #[test]
    fn hand_computed_one_input() {
        let mut c = SignalCombiner::<1>::new(exact()).unwrap();
        assert!(c.update(&[1.0], 1.0, true).is_none());
        assert_eq!(c.score(), 0.0);
        c.observe_outcome(1.0);
        assert!(c.update(&[-1.0], 1.0, true).is_none());
        assert_eq!(c.score(), 0.0);
        c.observe_outcome(-1.0);
        let d = c.update(&[3.0], 1.0, true).unwrap();
        assert!((d.score - 0.375).abs() < 1e-12, "{d:?}");
        assert!((c.information_coefficient() - 0.306_186_217_847_897_2).abs() < 1e-12);
        // erf(0.375 / √(2 (1 − R²))), from Python's math.erf.
        assert!(
            (d.confidence - 0.306_359_378_216_241_6).abs() < 1e-9,
            "{d:?}"
        );
        assert_eq!((d.direction, d.regime), (1, Regime::Normal));
        assert!((d.strength - 0.375).abs() < 1e-12);

        // With n₀ = 2 and n_eff = 2 the weights are halved.
        let mut c = SignalCombiner::<1>::new(CombinerConfig {
            prior_outcomes: 2.0,
            ..exact()
        })
        .unwrap();
        c.update(&[1.0], 1.0, true);
        c.observe_outcome(1.0);
        c.update(&[-1.0], 1.0, true);
        c.observe_outcome(-1.0);
        assert!(
            c.update(&[3.0], 1.0, true).is_none(),
            "0.1875 is below entry"
        );
        assert!((c.score() - 0.1875).abs() < 1e-12);
        assert!((c.confidence() - 0.150_484_507_634_965_13).abs() < 1e-9);
    }

    /// The same hand case, entered in Normal, is not entered in Turbulent (entry
    /// 0.3 · 1.5 = 0.45 > 0.375) and is entered with a cut strength once the bar is met.
    #[test]
    fn turbulence_raises_the_bar() {
        let run = |vol_ratio: f64| {
            let mut c = SignalCombiner::<1>::new(exact()).unwrap();
            c.update(&[1.0], vol_ratio, true);
            c.observe_outcome(1.0);
            c.update(&[-1.0], vol_ratio, true);
            c.observe_outcome(-1.0);
            (c.update(&[3.0], vol_ratio, true), c.regime())
        };
        let (normal, regime) = run(1.0);
        assert_eq!(
            (normal.map(|d| d.direction), regime),
            (Some(1), Regime::Normal)
        );
        let (turbulent, regime) = run(2.0);
        assert_eq!((turbulent, regime), (None, Regime::Turbulent));

        let mut c = SignalCombiner::<1>::new(CombinerConfig {
            entry: 0.2,
            exit: 0.05,
            ..exact()
        })
        .unwrap();
        c.update(&[1.0], 2.0, true);
        c.observe_outcome(1.0);
        c.update(&[-1.0], 2.0, true);
        c.observe_outcome(-1.0);
        let d = c.update(&[3.0], 2.0, true).unwrap();
        assert_eq!(d.regime, Regime::Turbulent);
        assert!((d.strength - 0.375 * 0.5).abs() < 1e-12, "{d:?}");
    }

    /// A combiner that has learned `r = x` on a long alternating history, so that
    /// `s ≈ x` for the next few updates.
    fn trained() -> SignalCombiner<1> {
        let mut c = SignalCombiner::<1>::new(CombinerConfig {
            pca: PcaConfig {
                half_life: 1e12,
                refresh_every: 1,
                ..PcaConfig::default()
            },
            entry: 0.5,
            exit: 0.2,
            ..exact()
        })
        .unwrap();
        for i in 0..20_000 {
            let x = if i % 2 == 0 { 1.0 } else { -1.0 };
            c.update(&[x], 1.0, false);
            c.observe_outcome(x);
        }
        c
    }

    #[test]
    fn direction_has_hysteresis() {
        let mut c = trained();
        let mut step = |x: f64, ratio: f64| {
            let d = c.update(&[x], ratio, true);
            assert!(
                (c.score() - x).abs() < 1e-3,
                "s = {} for x = {x}",
                c.score()
            );
            d.map(|d| d.direction)
        };
        assert_eq!(step(0.45, 1.0), None, "below entry");
        assert_eq!(step(0.6, 1.0), Some(1), "enters long");
        assert_eq!(step(0.3, 1.0), None, "holds above exit");
        assert_eq!(
            step(-0.3, 1.0),
            Some(0),
            "a contrary score below exit exits"
        );
        assert_eq!(step(-0.45, 1.0), None, "flat until entry");
        assert_eq!(step(-0.6, 1.0), Some(-1), "enters short");
        assert_eq!(step(-0.25, 1.0), None, "holds");
        assert_eq!(step(0.6, 1.0), Some(1), "flips through");
        assert_eq!(step(0.1, 1.0), Some(0));
        // Calm relaxes the bar to 0.45, Turbulent raises it to 0.75.
        assert_eq!(step(0.47, 0.5), Some(1), "enters in Calm");
        assert_eq!(step(0.0, 0.5), Some(0));
        assert_eq!(step(0.7, 2.0), None, "not in Turbulent");
        assert_eq!(step(0.8, 2.0), Some(1));
        // Turbulent exits at 0.3: sooner.
        assert_eq!(step(0.28, 2.0), Some(0));
    }

    #[test]
    fn not_warm_learns_but_does_not_move() {
        let mut c = trained();
        assert!(c.update(&[0.9], 1.0, false).is_none());
        assert!(c.score() > 0.5);
        assert_eq!(c.direction(), 0);
        assert_eq!(c.update(&[0.9], 1.0, true).map(|d| d.direction), Some(1));
    }

    #[test]
    fn regime_hysteresis() {
        let mut t = RegimeTracker::new(RegimeConfig::default());
        let path = [
            (1.0, Regime::Normal),
            (1.55, Regime::Turbulent),
            (1.42, Regime::Turbulent),
            (f64::NAN, Regime::Turbulent),
            (1.39, Regime::Normal),
            (1.45, Regime::Normal),
            (0.75, Regime::Calm),
            (0.88, Regime::Calm),
            (0.91, Regime::Normal),
            (0.85, Regime::Normal),
            (0.7, Regime::Calm),
            (1.6, Regime::Turbulent),
            (0.5, Regime::Calm),
        ];
        for (ratio, expected) in path {
            assert_eq!(t.update(ratio), expected, "ratio {ratio}");
        }
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let bad = CombinerConfig {
            exit: 0.1,
            entry: 0.05,
            ..CombinerConfig::default()
        };
        assert_eq!(
            SignalCombiner::<2>::new(bad).unwrap_err(),
            ConfigError::Invalid {
                field: "entry",
                reason: "must exceed exit"
            }
        );
        let bad = CombinerConfig {
            turbulent_strength: 1.5,
            ..CombinerConfig::default()
        };
        assert!(bad.validate().is_err());
        assert!(CombinerConfig::default().validate().is_ok());
    }

    /// Feeds `inputs(t)` and outcomes correlated with them; the scores of each step.
    fn scores<const N: usize>(
        config: CombinerConfig,
        inputs: impl Fn(&[f64; 3]) -> [f64; N],
    ) -> Vec<(f64, Option<i8>)> {
        let mut c = SignalCombiner::<N>::new(config).unwrap();
        let mut u = Uniform(99);
        (0..3000)
            .map(|_| {
                let e = [u.next(), u.next(), u.next()];
                let d = c.update(&inputs(&e), 1.0, true).map(|d| d.direction);
                c.observe_outcome(0.3 * e[0] + 0.2 * e[1] + e[2]);
                (c.score(), d)
            })
            .collect()
    }

    /// Two identical inputs give the same combined score as one of them.
    #[test]
    fn duplicated_inputs_are_not_double_counted() {
        let config = CombinerConfig {
            pca: PcaConfig {
                half_life: 200.0,
                refresh_every: 10,
                ..PcaConfig::default()
            },
            outcome_half_life: 500.0,
            prior_outcomes: 50.0,
            entry: 0.15,
            exit: 0.05,
            ..CombinerConfig::default()
        };
        let compare = |a: Vec<(f64, Option<i8>)>, b: Vec<(f64, Option<i8>)>| {
            let mut decisions = 0;
            for (t, ((sa, da), (sb, db))) in a.iter().zip(&b).enumerate() {
                assert!(
                    (sa - sb).abs() <= 1e-9 * (1.0 + sa.abs()),
                    "t = {t}: {sa} vs {sb}"
                );
                assert_eq!(da, db, "t = {t}");
                decisions += usize::from(da.is_some());
            }
            assert!(decisions > 10, "the comparison saw {decisions} decisions");
        };
        compare(scores(config, |e| [e[0]]), scores(config, |e| [e[0], e[0]]));
        let a = |e: &[f64; 3]| e[0] + 0.5 * e[1];
        compare(
            scores(config, |e| [a(e), e[1]]),
            scores(config, |e| [a(e), a(e), e[1]]),
        );
    }

    /// Constant inputs have no components, so the score stays 0 whatever the outcomes.
    #[test]
    fn constant_inputs_score_zero() {
        let mut c = SignalCombiner::<3>::new(exact()).unwrap();
        for i in 0..500 {
            assert!(c.update(&[0.0, 2.0, -1.0], 1.0, true).is_none());
            c.observe_outcome(if i % 2 == 0 { 0.01 } else { -0.01 });
            assert_eq!(c.score(), 0.0);
            assert_eq!(c.confidence(), 0.0);
        }
    }

    fn finite() -> impl Strategy<Value = f64> {
        prop_oneof![
            4 => -3.0f64..3.0,
            1 => Just(0.0),
            1 => proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO,
        ]
    }

    type Step = ([f64; 3], f64, f64, bool);

    fn run(steps: &[Step]) -> Vec<Option<Decision>> {
        let config = CombinerConfig {
            pca: PcaConfig {
                half_life: 20.0,
                refresh_every: 3,
                ..PcaConfig::default()
            },
            outcome_half_life: 30.0,
            prior_outcomes: 5.0,
            entry: 0.1,
            exit: 0.03,
            ..CombinerConfig::default()
        };
        let mut c = SignalCombiner::<3>::new(config).unwrap();
        steps
            .iter()
            .map(|(x, ratio, outcome, warm)| {
                let d = c.update(x, *ratio, *warm);
                assert!(c.score().is_finite() && (0.0..=1.0).contains(&c.confidence()));
                assert!(c.information_coefficient().is_finite());
                c.observe_outcome(*outcome);
                d
            })
            .collect()
    }

    proptest! {
        #[test]
        fn decisions_are_bounded_finite_and_deterministic(
            steps in proptest::collection::vec(
                ([finite(), finite(), finite()], finite(), finite(), any::<bool>()),
                1..200,
            ),
        ) {
            let first = run(&steps);
            let mut direction = 0;
            for d in first.iter().flatten() {
                prop_assert!([-1, 0, 1].contains(&d.direction));
                prop_assert_ne!(d.direction, direction, "emitted only on change");
                direction = d.direction;
                prop_assert!((0.0..=1.0).contains(&d.strength), "{:?}", d);
                prop_assert!((0.0..=1.0).contains(&d.confidence), "{:?}", d);
                prop_assert!(d.score.is_finite());
                prop_assert_eq!(d.direction == 0, d.strength == 0.0);
            }
            let second = run(&steps);
            prop_assert_eq!(format!("{first:?}"), format!("{second:?}"));
        }

        /// A learned relation `r = x₀` (inputs with structure) produces trades whose
        /// score agrees in sign with the informative input.
        #[test]
        fn learned_sign_follows_the_informative_input(seed in 1u64..u64::MAX) {
            let mut c = SignalCombiner::<2>::new(CombinerConfig {
                prior_outcomes: 10.0,
                pca: PcaConfig { refresh_every: 5, ..PcaConfig::default() },
                ..CombinerConfig::default()
            }).unwrap();
            let mut u = Uniform(seed);
            for _ in 0..2000 {
                let (a, b) = (u.next(), u.next());
                c.update(&[a, 0.5 * a + b], 1.0, true);
                c.observe_outcome(a + 0.1 * u.next());
            }
            c.update(&[1.0, 0.5], 1.0, true);
            prop_assert!(c.score() > 0.0);
            prop_assert!(c.information_coefficient() > 0.5);
        }
    }
}
