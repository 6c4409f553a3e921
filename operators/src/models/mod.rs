//! Forecasting models, each a pure, incremental state machine over one symbol's data.
//!
//! - [`forecaster`]: the graph's model stage, every model above fed from the features
//!   and combined into one forecast per tick.
//! - [`one_factor`]: a momentum regression on the tick stream (expected return).
//! - [`garch`]: GARCH(1,1) by maximum likelihood (normal or Student-t innovations), with
//!   one-step and h-step variance forecasts, and an online form that refits on a
//!   rolling window in bounded slices of work per update.
//! - [`arima`]: AR(p) by least squares and ARIMA(p,d,q) by conditional sum of squares,
//!   with forecasts, and an online rolling AR.
//! - [`sgd`]: an online logistic model trained by stochastic gradient descent.
//! - [`ensemble`]: forecasts combined with weights that follow each member's recent
//!   accuracy.
//! - [`optimize`]: the derivative-free minimiser the likelihood fits share, written in
//!   ask/tell form so a fit can be spread over many updates.

pub mod arima;
pub mod ensemble;
pub mod forecaster;
pub mod garch;
pub mod one_factor;
pub mod optimize;
pub mod sgd;

use thiserror::Error;

/// Why a model could not be fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ModelError {
    /// The series is too short for the model as asked.
    #[error("series too short: needs at least {needed} values, got {got}")]
    TooShort {
        /// The fewest values the model needs.
        needed: usize,
        /// The number of values given.
        got: usize,
    },
    /// A value is NaN or infinite.
    #[error("non-finite value at index {index}")]
    NonFinite {
        /// Index of the first non-finite value.
        index: usize,
    },
    /// The series is constant, so the model is not identified.
    #[error("series is constant")]
    Constant,
    /// The model's specification is invalid (an order or option out of range).
    #[error("invalid model specification: {0}")]
    InvalidSpec(&'static str),
    /// The optimiser did not converge within its iteration limit.
    #[error("fit did not converge in {iterations} iterations")]
    NoConvergence {
        /// Iterations used.
        iterations: usize,
    },
}

/// `Err(NonFinite)` at the first NaN or infinity of `x`.
pub(crate) fn check_finite(x: &[f64]) -> Result<(), ModelError> {
    match x.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(ModelError::NonFinite { index }),
        None => Ok(()),
    }
}
