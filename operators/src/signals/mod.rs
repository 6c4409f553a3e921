//! Signals: turning forecasts into a signed direction with a strength and a confidence.
//!
//! - [`bar_signal`]: the graph's signal stage, the combiner run at each bar close.
//! - [`crossover`]: an EMA crossover with hysteresis, confirmed by a forecast.
//! - [`combiner`]: a regime-aware combiner of several forecasts, decorrelated by PCA.
//! - [`pca`]: the rolling covariance and its eigen-decomposition the combiner uses.

pub mod bar_signal;
pub mod combiner;
pub mod crossover;
pub mod pca;
