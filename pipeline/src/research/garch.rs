//! `bot4 garch`: a GARCH(1,1) with a constant mean fitted by maximum likelihood to one
//! column of a CSV or Parquet file ([`bot4_operators::models::garch`], matching the
//! `arch` package), with its variance forecasts, as JSON.

use std::path::PathBuf;

use bot4_operators::models::garch::{fit, Distribution};
use serde_json::json;

use super::stats::read_series;
use crate::PipelineError;

/// What `bot4 garch` was asked.
#[derive(Debug, Clone)]
pub struct GarchOptions {
    /// A `.csv` or `.parquet` file.
    pub input: PathBuf,
    /// The column to model.
    pub column: String,
    /// The rows of this symbol only (needed when the file holds several).
    pub symbol: Option<String>,
    /// The innovation distribution.
    pub dist: Distribution,
    /// Forecast the variance for `1..=horizon` steps ahead.
    pub horizon: usize,
    /// Model the log returns `ln(x_t / x_{t−1})` of the column rather than its values.
    pub returns: bool,
}

/// The fit and its forecasts, as a JSON document.
pub fn garch(opts: &GarchOptions) -> Result<serde_json::Value, PipelineError> {
    let bad = |reason: String| PipelineError::Input {
        path: opts.input.clone(),
        reason,
    };
    if opts.horizon == 0 {
        return Err(PipelineError::Config("--horizon must be at least 1".into()));
    }
    let values = read_series(&opts.input, &opts.column, opts.symbol.as_deref())?;
    let series: Vec<f64> = if opts.returns {
        if let Some(i) = values.iter().position(|v| *v <= 0.0) {
            return Err(bad(format!(
                "column `{}`, row {}: {} is not positive, so it has no log return",
                opts.column,
                i + 1,
                values[i]
            )));
        }
        values.windows(2).map(|w| (w[1] / w[0]).ln()).collect()
    } else {
        values
    };
    let g = fit(&series, opts.dist)
        .map_err(|e| bad(format!("column `{}`: GARCH: {e}", opts.column)))?;
    let p = g.params;
    Ok(json!({
        "input": opts.input.display().to_string(),
        "column": opts.column,
        "symbol": opts.symbol,
        "series": if opts.returns { "log_returns" } else { "values" },
        "n": series.len(),
        "model": "constant mean, GARCH(1,1)",
        "dist": match opts.dist {
            Distribution::Normal => "normal",
            Distribution::StudentT => "t",
        },
        "mu": p.mu,
        "omega": p.omega,
        "alpha": p.alpha,
        "beta": p.beta,
        "nu": p.nu,
        "log_likelihood": g.log_likelihood,
        "persistence": p.persistence(),
        "long_run_variance": p.long_run_variance(),
        "iterations": g.iterations,
        "converged": g.converged,
        "forecast_variance": g.forecast(opts.horizon),
    }))
}
