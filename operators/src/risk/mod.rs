//! The risk engine's pure logic: position sizing, pre-trade checks, value at risk and
//! capital tiers.
//!
//! How the pieces fit, in the order an order meets them:
//!
//! ```text
//!  Signal ──► sizing (per symbol) ──► target, max_position ──► OrderManager ──► order
//!               ▲ equity, the other symbols' gross exposure                       │
//!               │ and the tier's scale and limits                                 ▼
//!  PortfolioView (end of epoch t−1) ────────────────────────────► pre-trade checks
//!  CapitalTiers ─► TierLimits ──────────────────────────────────►  (per order)
//!       ▲                                                                │ pass
//!       │ equity                                                         ▼
//!  positions, equity (end of each epoch) ─► VaR / CVaR report     SafetyGate ─► venue
//! ```
//!
//! - [`sizing`] turns each signal of a symbol into a signed target quantity on the lot
//!   grid: fractional Kelly under a volatility target, scaled by the capital tier and
//!   capped by concentration, the symbol's maximum notional and the account's leverage.
//! - The order manager (`crate::orders`) turns targets into orders; [`checks`] then
//!   decides each new order, fail-closed, against the symbol's position and open orders
//!   and the [`portfolio`] view as of the end of the previous epoch (so every worker
//!   decides from the same view, whatever the order of symbols within an epoch):
//!   exchange filters, price band, order rate, position and notional limits,
//!   concentration, portfolio heat, correlation, gross leverage, symbols held. A
//!   refused order never reaches the safety gate or the venue.
//! - [`var`] computes 99% VaR and CVaR (expected shortfall) with Student-t tails from
//!   the GARCH volatility, per symbol and for the portfolio, reported once per epoch.
//! - [`tiers`] moves the account between capital tiers with hysteresis as its equity
//!   changes; the active tier's [`tiers::TierLimits`] scale the sizing and tighten the
//!   limits of both the sizing and the checks.
//!
//! Everything here is deterministic: decimals for money and quantities, `f64` only for
//! statistics, ordered maps, and time only from the records (`ts`).

pub mod checks;
pub mod portfolio;
pub mod sizing;
pub mod tiers;
pub mod var;

pub use checks::{
    CheckContext, Missing, OrderType, PreTradeRisk, ProposedOrder, RiskLimits, RiskReject,
};
pub use portfolio::{PortfolioView, SymbolExposure};
pub use sizing::{size, AccountView, RiskConfig, RiskSizer, SizeLimit, Sizing};
pub use tiers::{CapitalTiers, Tier, TierChange, TierLimits};
pub use var::{portfolio_var, PortfolioVar, TailModel, VarEstimate, VarPosition};

/// An invalid risk configuration or statistical input.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum RiskError {
    /// No capital tiers were configured.
    #[error("no capital tiers")]
    NoTiers,
    /// Tier `tier`'s `min_equity` is not above the previous tier's.
    #[error("capital tier {tier}: min_equity must be above the previous tier's")]
    TiersNotAscending {
        /// Index of the tier.
        tier: usize,
    },
    /// Tier `tier` has a non-finite or negative risk scale, or a limit that is not
    /// positive.
    #[error("capital tier {tier}: risk_scale must be finite and ≥ 0, concentration and max_leverage > 0")]
    TierLimits {
        /// Index of the tier.
        tier: usize,
    },
    /// The hysteresis is not in `[0, 1)`.
    #[error("hysteresis {0} is not in [0, 1)")]
    Hysteresis(f64),
    /// A confidence level not in `(0, 1)`.
    #[error("confidence {0} is not in (0, 1)")]
    Confidence(f64),
    /// Degrees of freedom not above 2 (the variance of a Student-t needs ν > 2).
    #[error("degrees of freedom {0} must be above 2")]
    DegreesOfFreedom(f64),
    /// A notional, volatility, mean or correlation that is not finite, or a negative
    /// volatility.
    #[error("{what} {value} is not a valid input")]
    Input {
        /// Which input.
        what: &'static str,
        /// Its value.
        value: f64,
    },
    /// The inputs of a portfolio computation have different lengths.
    #[error("expected {expected} values, got {got}")]
    Shape {
        /// How many were expected.
        expected: usize,
        /// How many were given.
        got: usize,
    },
}
