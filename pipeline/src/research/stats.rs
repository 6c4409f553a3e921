//! `bot4 stats`: the augmented Dickey-Fuller, Jarque-Bera and Ljung-Box tests of one
//! column of a CSV or Parquet file ([`bot4_operators::stats`]), as JSON.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::Array;
use arrow_schema::DataType;
use bot4_operators::stats::adf::{adf, AdfOptions};
use bot4_operators::stats::jarque_bera::jarque_bera;
use bot4_operators::stats::ljung_box::ljung_box;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::json;

use crate::PipelineError;

/// The Ljung-Box lags reported.
pub const LJUNG_BOX_LAGS: [usize; 4] = [1, 5, 10, 20];

/// What `bot4 stats` was asked.
#[derive(Debug, Clone)]
pub struct StatsOptions {
    /// A `.csv` or `.parquet` file.
    pub input: PathBuf,
    /// The column to test.
    pub column: String,
    /// The rows of this symbol only (needed when the file holds several).
    pub symbol: Option<String>,
    /// Test the log returns `ln(x_t / x_{t−1})` of the column rather than its levels.
    pub returns: bool,
}

/// The tests of the column, as a JSON document.
pub fn stats(opts: &StatsOptions) -> Result<serde_json::Value, PipelineError> {
    let bad = |reason: String| PipelineError::Input {
        path: opts.input.clone(),
        reason,
    };
    let levels = read_series(&opts.input, &opts.column, opts.symbol.as_deref())?;
    let series = if opts.returns {
        if let Some(i) = levels.iter().position(|v| *v <= 0.0) {
            return Err(bad(format!(
                "column `{}`, row {}: {} is not positive, so it has no log return",
                opts.column,
                i + 1,
                levels[i]
            )));
        }
        levels.windows(2).map(|w| (w[1] / w[0]).ln()).collect()
    } else {
        levels
    };
    let fail = |test: &str, e: bot4_operators::stats::StatsError| {
        bad(format!("column `{}`: {test}: {e}", opts.column))
    };
    let a = adf(&series, AdfOptions::default()).map_err(|e| fail("ADF", e))?;
    let jb = jarque_bera(&series).map_err(|e| fail("Jarque-Bera", e))?;
    let lb = ljung_box(&series, &LJUNG_BOX_LAGS).map_err(|e| fail("Ljung-Box", e))?;
    Ok(json!({
        "input": opts.input.display().to_string(),
        "column": opts.column,
        "symbol": opts.symbol,
        "series": if opts.returns { "log_returns" } else { "levels" },
        "n": series.len(),
        "adf": {
            "regression": "c",
            "autolag": "AIC",
            "statistic": a.statistic,
            "p_value": a.p_value,
            "used_lag": a.used_lag,
            "n_obs": a.n_obs,
            "critical_values": { "1%": a.critical_1, "5%": a.critical_5, "10%": a.critical_10 },
        },
        "jarque_bera": {
            "statistic": jb.statistic,
            "p_value": jb.p_value,
            "skewness": jb.skewness,
            "kurtosis": jb.kurtosis,
        },
        "ljung_box": lb.iter().map(|l| json!({
            "lag": l.lag,
            "statistic": l.statistic,
            "p_value": l.p_value,
        })).collect::<Vec<_>>(),
    }))
}

/// Every value of `column` in `path` (`.csv` or `.parquet`), as floats: no nulls, no
/// text, nothing that is not a finite number.
/// The values of `column`, of the rows of `symbol` when one is given. A file with a
/// `symbol` column that holds several symbols needs one: a series that mixed them would
/// be meaningless, so it is an error rather than a silent mixture.
pub fn read_series(
    path: &Path,
    column: &str,
    symbol: Option<&str>,
) -> Result<Vec<f64>, PipelineError> {
    let bad = |reason: String| PipelineError::Input {
        path: path.to_owned(),
        reason,
    };
    let values = read_column(path, column)?;
    let symbols = read_symbols(path)?;
    match (symbols, symbol) {
        (None, None) => Ok(values),
        (None, Some(wanted)) => Err(bad(format!(
            "--symbol {wanted} asked, but the file has no `symbol` column"
        ))),
        (Some(symbols), Some(wanted)) => {
            let picked: Vec<f64> = values
                .iter()
                .zip(&symbols)
                .filter(|(_, s)| s.as_str() == wanted)
                .map(|(v, _)| *v)
                .collect();
            if picked.is_empty() {
                return Err(bad(format!(
                    "no rows of symbol `{wanted}`; the file holds {}",
                    listed(&symbols)
                )));
            }
            Ok(picked)
        }
        (Some(symbols), None) => {
            let distinct: std::collections::BTreeSet<&str> =
                symbols.iter().map(String::as_str).collect();
            if distinct.len() > 1 {
                return Err(bad(format!(
                    "the file holds {} symbols ({}): choose one with --symbol",
                    distinct.len(),
                    listed(&symbols)
                )));
            }
            Ok(values)
        }
    }
}

/// Up to five of `symbols`' distinct names, in order.
fn listed(symbols: &[String]) -> String {
    let distinct: std::collections::BTreeSet<&str> = symbols.iter().map(String::as_str).collect();
    let mut names: Vec<&str> = distinct.iter().copied().take(5).collect();
    if distinct.len() > 5 {
        names.push("…");
    }
    names.join(", ")
}

/// The `symbol` column of a CSV or Parquet file, `None` if it has none.
fn read_symbols(path: &Path) -> Result<Option<Vec<String>>, PipelineError> {
    let bad = |reason: String| PipelineError::Input {
        path: path.to_owned(),
        reason,
    };
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(|e| bad(e.to_string()))?;
        let Some(index) = reader
            .headers()
            .map_err(|e| bad(e.to_string()))?
            .iter()
            .position(|h| h == "symbol")
        else {
            return Ok(None);
        };
        let mut symbols = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| bad(e.to_string()))?;
            symbols.push(record.get(index).unwrap_or("").to_owned());
        }
        return Ok(Some(symbols));
    }
    let file = File::open(path).map_err(|e| PipelineError::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| PipelineError::parquet(path, e))?;
    if builder.schema().field_with_name("symbol").is_err() {
        return Ok(None);
    }
    let reader = builder
        .build()
        .map_err(|e| PipelineError::parquet(path, e))?;
    let mut symbols = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| bad(e.to_string()))?;
        let Some(array) = batch.column_by_name("symbol") else {
            return Ok(None);
        };
        match array.data_type() {
            DataType::Utf8 => symbols.extend(
                array
                    .as_string::<i32>()
                    .iter()
                    .map(|s| s.unwrap_or_default().to_owned()),
            ),
            DataType::LargeUtf8 => symbols.extend(
                array
                    .as_string::<i64>()
                    .iter()
                    .map(|s| s.unwrap_or_default().to_owned()),
            ),
            other => return Err(bad(format!("column `symbol` is {other}, not text"))),
        }
    }
    Ok(Some(symbols))
}

/// The values of `column` in every row of a CSV or Parquet file.
pub fn read_column(path: &Path, column: &str) -> Result<Vec<f64>, PipelineError> {
    let bad = |reason: String| PipelineError::Input {
        path: path.to_owned(),
        reason,
    };
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let values = match extension.as_deref() {
        Some("csv") => {
            let mut reader = csv::ReaderBuilder::new()
                .trim(csv::Trim::All)
                .from_path(path)
                .map_err(|e| bad(e.to_string()))?;
            let index = reader
                .headers()
                .map_err(|e| bad(e.to_string()))?
                .iter()
                .position(|h| h == column)
                .ok_or_else(|| bad(format!("no `{column}` column in the CSV header")))?;
            let mut values = Vec::new();
            for (row, record) in reader.records().enumerate() {
                let record = record.map_err(|e| bad(e.to_string()))?;
                let cell = record.get(index).unwrap_or("");
                let value = cell.parse::<f64>().ok().filter(|v| v.is_finite());
                values.push(value.ok_or_else(|| {
                    bad(format!(
                        "line {}, column `{column}`: `{cell}` is not a finite number",
                        row + 2
                    ))
                })?);
            }
            values
        }
        Some("parquet") => {
            let file = File::open(path).map_err(|e| PipelineError::io(path, e))?;
            let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|e| PipelineError::parquet(path, e))?;
            if builder.schema().field_with_name(column).is_err() {
                return Err(bad(format!("no `{column}` column")));
            }
            let reader = builder
                .build()
                .map_err(|e| PipelineError::parquet(path, e))?;
            let mut values = Vec::new();
            for batch in reader {
                let batch = batch.map_err(|e| bad(e.to_string()))?;
                let Some(array) = batch.column_by_name(column) else {
                    return Err(bad(format!("no `{column}` column")));
                };
                let first = values.len();
                if array.null_count() > 0 {
                    let row = (0..array.len()).find(|&i| array.is_null(i)).unwrap_or(0);
                    return Err(bad(format!(
                        "column `{column}`, row {}: null",
                        first + row + 1
                    )));
                }
                match array.data_type() {
                    DataType::Float64 => {
                        values.extend(array.as_primitive::<Float64Type>().values().iter())
                    }
                    DataType::Float32 => values.extend(
                        array
                            .as_primitive::<Float32Type>()
                            .values()
                            .iter()
                            .map(|v| f64::from(*v)),
                    ),
                    DataType::Int64 => values.extend(
                        array
                            .as_primitive::<Int64Type>()
                            .values()
                            .iter()
                            .map(|v| *v as f64),
                    ),
                    DataType::Int32 => values.extend(
                        array
                            .as_primitive::<Int32Type>()
                            .values()
                            .iter()
                            .map(|v| f64::from(*v)),
                    ),
                    DataType::Decimal128(_, scale) => {
                        let scale = 10f64.powi(i32::from(*scale));
                        values.extend(
                            array
                                .as_primitive::<arrow_array::types::Decimal128Type>()
                                .values()
                                .iter()
                                .map(|v| *v as f64 / scale),
                        )
                    }
                    other => {
                        return Err(bad(format!("column `{column}` is {other}, not a number")))
                    }
                }
                if let Some(i) = values[first..].iter().position(|v| !v.is_finite()) {
                    return Err(bad(format!(
                        "column `{column}`, row {}: not a finite number",
                        first + i + 1
                    )));
                }
            }
            values
        }
        _ => return Err(bad("not a .csv or .parquet file".into())),
    };
    Ok(values)
}
