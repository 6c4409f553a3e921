//! Value at risk and expected shortfall (CVaR) with Student-t tails.
//!
//! A position of signed notional `N` whose one-period return has mean `μ` and
//! volatility `σ` (from GARCH), with standardised (unit-variance) Student-t innovations
//! of `ν > 2` degrees of freedom, loses at confidence `α` (default 99%):
//!
//! ```text
//! q     = t⁻¹_ν(α),  c = sqrt((ν − 2) / ν)            c rescales t_ν to unit variance
//! VaR   = |N|·σ·c·q − N·μ
//! CVaR  = |N|·σ·c·(f_ν(q) / (1 − α))·((ν + q²) / (ν − 1)) − N·μ
//! ```
//!
//! With `ν = None` (or infinite) the tails are normal: `VaR = |N|·σ·z_α − N·μ`,
//! `CVaR = |N|·σ·φ(z_α)/(1 − α) − N·μ`. Losses are positive; a large enough mean makes
//! them negative (a gain at that confidence), which is reported as is.
//!
//! **Portfolio.** With notionals `N_i`, volatilities `σ_i` and a correlation matrix `ρ`,
//! the portfolio's volatility in quote currency is `σ_p = sqrt(Σ_ij N_i σ_i ρ_ij N_j σ_j)`
//! and its mean `Σ N_i μ_i`. One tail is used for the sum: for VaR and for CVaR
//! separately, the symbol tail with the **largest multiplier** (the conservative
//! choice). The smallest `ν` is not always that: the unit-variance t's 99% quantile
//! peaks near `ν ≈ 4` (2.649, against the normal's 2.326) and falls below the normal's
//! as `ν → 2` (1.425 at `ν = 2.1`); its shortfall multiplier peaks near `ν ≈ 2.6`.
//! A correlation matrix that is not positive semi-definite can make `σ_p²` negative:
//! it is clipped to 0 and the result says so (`clipped`); that VaR understates the risk
//! and should be read with the undiversified sum, which is also reported.
//!
//! The quantile comes from `statrs` (`StudentsT::inverse_cdf`) polished by Newton steps
//! on the upper tail `P(T > q) = I_{ν/(ν+q²)}(ν/2, 1/2)/2`; from `ν = 10⁴` on, where
//! statrs' inverse beta loses accuracy (and for `ν` near 10⁶ stops converging), from
//! Fisher's expansion of the t quantile in `1/ν`. Both agree with scipy to about 1e-12
//! relative (`tests/var_reference.rs`).

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};
use statrs::function::beta::beta_reg;
use statrs::function::gamma::ln_gamma;

use super::RiskError;

/// The confidence of the reported VaR and CVaR.
pub const VAR_CONFIDENCE: f64 = 0.99;

/// The tail of standardised (unit-variance) returns at one confidence: what one unit of
/// volatility loses at it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct TailModel {
    confidence: f64,
    dof: Option<f64>,
    var_multiplier: f64,
    cvar_multiplier: f64,
}

impl TailModel {
    /// The tail at `confidence` (in `(0, 1)`) of a unit-variance Student-t with `dof`
    /// degrees of freedom (`> 2`), or of the standard normal for `None` or an infinite
    /// `dof`.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::risk::var::TailModel;
    /// let normal = TailModel::new(0.99, None).unwrap();
    /// assert!((normal.var_multiplier() - 2.326_347_874_040_841).abs() < 1e-12);
    /// // Fatter tails lose more at 99% for ν = 4: sqrt(2/4) · t⁻¹₄(0.99) = 2.6495.
    /// let t4 = TailModel::new(0.99, Some(4.0)).unwrap();
    /// assert!((t4.var_multiplier() - 2.649_491_906_789_311).abs() < 1e-12);
    /// ```
    pub fn new(confidence: f64, dof: Option<f64>) -> Result<Self, RiskError> {
        if !(confidence > 0.0 && confidence < 1.0) {
            return Err(RiskError::Confidence(confidence));
        }
        let tail = 1.0 - confidence;
        match dof.filter(|nu| *nu != f64::INFINITY) {
            None => {
                let z = normal_quantile(confidence)?;
                let density = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
                Ok(Self {
                    confidence,
                    dof: None,
                    var_multiplier: z,
                    cvar_multiplier: density / tail,
                })
            }
            Some(nu) => {
                if nu.is_nan() || nu <= 2.0 {
                    return Err(RiskError::DegreesOfFreedom(nu));
                }
                let t =
                    StudentsT::new(0.0, 1.0, nu).map_err(|_| RiskError::DegreesOfFreedom(nu))?;
                let q = t_quantile(&t, nu, confidence)?;
                let c = ((nu - 2.0) / nu).sqrt();
                Ok(Self {
                    confidence,
                    dof: Some(nu),
                    var_multiplier: c * q,
                    cvar_multiplier: c * t_density(q, nu) / tail * (nu + q * q) / (nu - 1.0),
                })
            }
        }
    }

    /// The confidence.
    pub fn confidence(&self) -> f64 {
        self.confidence
    }

    /// The degrees of freedom; `None` for normal tails.
    pub fn dof(&self) -> Option<f64> {
        self.dof
    }

    /// VaR of a unit notional with unit volatility and zero mean.
    pub fn var_multiplier(&self) -> f64 {
        self.var_multiplier
    }

    /// CVaR (expected shortfall) of a unit notional with unit volatility and zero mean.
    pub fn cvar_multiplier(&self) -> f64 {
        self.cvar_multiplier
    }

    /// VaR and CVaR of signed notional `notional` whose one-period return has volatility
    /// `sigma` and mean `mean`.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::risk::var::TailModel;
    /// let normal = TailModel::new(0.99, None).unwrap();
    /// let e = normal.estimate(1_000_000.0, 0.02, 0.0).unwrap();
    /// // 1,000,000 · 0.02 · 2.326348 = 46,526.96.
    /// assert!((e.var - 46_526.957_480_816_82).abs() < 1e-6);
    /// ```
    pub fn estimate(&self, notional: f64, sigma: f64, mean: f64) -> Result<VarEstimate, RiskError> {
        check_input("notional", notional)?;
        check_input("mean", mean)?;
        if !sigma.is_finite() || sigma < 0.0 {
            return Err(RiskError::Input {
                what: "volatility",
                value: sigma,
            });
        }
        let scale = notional.abs() * sigma;
        let drift = notional * mean;
        Ok(VarEstimate {
            var: scale * self.var_multiplier - drift,
            cvar: scale * self.cvar_multiplier - drift,
        })
    }
}

/// VaR and CVaR of a position or portfolio, in quote currency (losses positive).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct VarEstimate {
    /// Value at risk.
    pub var: f64,
    /// Conditional value at risk: the expected loss beyond the VaR.
    pub cvar: f64,
}

/// One position of a portfolio VaR.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct VarPosition {
    /// Signed notional, in quote currency.
    pub notional: f64,
    /// Volatility of its one-period return.
    pub sigma: f64,
    /// Mean of its one-period return.
    pub mean: f64,
    /// Degrees of freedom of its standardised innovations; `None` for normal.
    pub dof: Option<f64>,
}

/// The VaR and CVaR of a portfolio.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PortfolioVar {
    /// Volatility of the portfolio's one-period profit, in quote currency.
    pub sigma: f64,
    /// The diversified VaR and CVaR.
    pub estimate: VarEstimate,
    /// The sum of the positions' own VaR and CVaR: the estimate without diversification.
    pub undiversified: VarEstimate,
    /// The degrees of freedom whose tail gave the VaR (`None`: normal).
    pub var_dof: Option<f64>,
    /// The degrees of freedom whose tail gave the CVaR.
    pub cvar_dof: Option<f64>,
    /// Whether the correlation matrix made the variance negative and it was clipped to 0.
    pub clipped: bool,
}

/// VaR and CVaR at `confidence` of `positions` whose returns have the row-major
/// `correlation` matrix (`n × n` for `n` positions; its entries are used as given, the
/// diagonal should be 1). See the [module documentation](self) for the tail used.
///
/// # Examples
/// ```
/// use bot4_operators::risk::var::{portfolio_var, VarPosition};
/// let long = VarPosition { notional: 100_000.0, sigma: 0.03, mean: 0.0, dof: None };
/// let hedge = VarPosition { notional: -100_000.0, ..long };
/// // Perfectly correlated, a long and an equal short cancel.
/// let p = portfolio_var(&[long, hedge], &[1.0, 1.0, 1.0, 1.0], 0.99).unwrap();
/// assert!(p.estimate.var.abs() < 1e-9 && !p.clipped);
/// ```
pub fn portfolio_var(
    positions: &[VarPosition],
    correlation: &[f64],
    confidence: f64,
) -> Result<PortfolioVar, RiskError> {
    let n = positions.len();
    if correlation.len() != n * n {
        return Err(RiskError::Shape {
            expected: n * n,
            got: correlation.len(),
        });
    }
    for &rho in correlation {
        check_input("correlation", rho)?;
    }
    let mut variance = 0.0;
    let mut drift = 0.0;
    let mut undiversified = VarEstimate {
        var: 0.0,
        cvar: 0.0,
    };
    let mut var_tail = TailModel::new(confidence, None)?;
    let mut cvar_tail = var_tail;
    let mut var_dof = None;
    let mut cvar_dof = None;
    for (i, p) in positions.iter().enumerate() {
        let tail = TailModel::new(confidence, p.dof)?;
        let own = tail.estimate(p.notional, p.sigma, p.mean)?;
        undiversified.var += own.var;
        undiversified.cvar += own.cvar;
        drift += p.notional * p.mean;
        if i == 0 || tail.var_multiplier > var_tail.var_multiplier {
            var_tail = tail;
            var_dof = tail.dof;
        }
        if i == 0 || tail.cvar_multiplier > cvar_tail.cvar_multiplier {
            cvar_tail = tail;
            cvar_dof = tail.dof;
        }
        let wi = p.notional * p.sigma;
        for (q, rho) in positions.iter().zip(&correlation[i * n..(i + 1) * n]) {
            variance += wi * rho * q.notional * q.sigma;
        }
    }
    let clipped = variance < 0.0;
    let sigma = variance.max(0.0).sqrt();
    Ok(PortfolioVar {
        sigma,
        estimate: VarEstimate {
            var: sigma * var_tail.var_multiplier - drift,
            cvar: sigma * cvar_tail.cvar_multiplier - drift,
        },
        undiversified,
        var_dof,
        cvar_dof,
        clipped,
    })
}

fn check_input(what: &'static str, value: f64) -> Result<(), RiskError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(RiskError::Input { what, value })
    }
}

/// Newton steps that polish a quantile: enough from statrs' starting point.
const NEWTON_STEPS: usize = 3;

/// `z` with `Φ(z) = p`: statrs' quantile is accurate to about 1e-15 here.
fn normal_quantile(p: f64) -> Result<f64, RiskError> {
    let z = Normal::standard().inverse_cdf(p);
    if z.is_finite() {
        Ok(z)
    } else {
        Err(RiskError::Confidence(p))
    }
}

/// From this many degrees of freedom the t's quantile and density come from their
/// expansions in `1/ν`: statrs' inverse incomplete beta stops converging for `ν` of a
/// million or so, and the density's `ln Γ` difference loses digits.
const ASYMPTOTIC_DOF: f64 = 1e4;

/// `q` with `F_ν(q) = p`.
fn t_quantile(t: &StudentsT, nu: f64, p: f64) -> Result<f64, RiskError> {
    let q = if nu >= ASYMPTOTIC_DOF {
        fisher_quantile(normal_quantile(p)?, nu)
    } else {
        let mut q = t.inverse_cdf(p);
        if p > 0.5 {
            let tail = 1.0 - p;
            for _ in 0..NEWTON_STEPS {
                let density = t_density(q, nu);
                if !q.is_finite() || density.is_nan() || density <= 0.0 {
                    break;
                }
                // P(T > q) = I_{ν/(ν+q²)}(ν/2, 1/2) / 2 for q ≥ 0.
                let upper = 0.5 * beta_reg(0.5 * nu, 0.5, nu / (nu + q * q));
                q += (upper - tail) / density;
            }
        }
        q
    };
    if q.is_finite() {
        Ok(q)
    } else {
        Err(RiskError::DegreesOfFreedom(nu))
    }
}

/// The t quantile from the normal's `z` by Fisher's expansion (Abramowitz & Stegun
/// 26.7.5) to `ν⁻⁴`; for `ν ≥ 10⁴` the omitted terms are below 1e-18.
fn fisher_quantile(z: f64, nu: f64) -> f64 {
    let z2 = z * z;
    let g1 = (z2 + 1.0) * z / 4.0;
    let g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
    let g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
    let g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0;
    z + (g1 + (g2 + (g3 + g4 / nu) / nu) / nu) / nu
}

/// The density of the standard t with `ν` degrees of freedom at `x`.
fn t_density(x: f64, nu: f64) -> f64 {
    // ln Γ((ν+1)/2) − ln Γ(ν/2): directly, or for large ν by its expansion in
    // h = ν/2: ½ ln h − 1/(8h) + 1/(192h³) − 1/(640h⁵).
    let log_ratio = if nu >= ASYMPTOTIC_DOF {
        let h = 0.5 * nu;
        0.5 * h.ln() - 1.0 / (8.0 * h) + 1.0 / (192.0 * h.powi(3)) - 1.0 / (640.0 * h.powi(5))
    } else {
        ln_gamma(0.5 * (nu + 1.0)) - ln_gamma(0.5 * nu)
    };
    (log_ratio - 0.5 * (nu + 1.0) * (x * x / nu).ln_1p()).exp() / (nu * std::f64::consts::PI).sqrt()
}

#[cfg(test)]
mod tests;
