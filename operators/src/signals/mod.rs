//! Signals: turning forecasts into a signed direction with a strength and a confidence.
//!
//! - [`crossover`]: an EMA crossover with hysteresis, confirmed by a forecast.
//! - [`combiner`]: a regime-aware combiner of several forecasts, decorrelated by PCA.
//! - [`pca`]: the rolling covariance and its eigen-decomposition the combiner uses.

pub mod combiner;
pub mod crossover;
pub mod pca;
