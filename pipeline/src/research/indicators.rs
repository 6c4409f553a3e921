//! `bot4 indicators`: every column of the standard indicator set
//! ([`bot4_operators::indicators::set`]) for a file of OHLCV bars or of ticks.
//!
//! Bars come from a CSV or Parquet file with the columns `ts, open, high, low, close,
//! volume` (and optionally `symbol`); ticks in the documented tick schema (a file or a
//! folder, as `bot4 replay` reads them) are first cut into time bars per symbol. The
//! output is one Parquet file: the bar columns, then one `Float64` column per indicator,
//! null while it warms up. It is written beside its final name and renamed into place,
//! so a failed run leaves nothing half-written.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampNanosecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use bot4_operators::bars::TimeBars;
use bot4_operators::indicators::set::{IndicatorSet, COLUMNS};
use bot4_operators::indicators::Candle;
use bot4_schemas::{Nanos, OhlcvColumns};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::sources::{load_registry, plan_inputs, TickSource};
use crate::PipelineError;

/// Fewer bars than this (per symbol) is too short a series: the slowest indicator of the
/// set (`sma_50`) would never have a value.
pub const MIN_BARS: usize = 50;

/// What `bot4 indicators` was asked.
#[derive(Debug, Clone)]
pub struct IndicatorOptions {
    /// A bar file (`.csv`, `.parquet`), or tick files.
    pub input: PathBuf,
    /// The Parquet file to write.
    pub out: PathBuf,
    /// Width of the bars cut from ticks.
    pub bar: Nanos,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorReport {
    /// Bars read or built.
    pub bars: usize,
    /// Symbols among them (1 for a file without a `symbol` column).
    pub symbols: usize,
    /// Indicator columns written.
    pub columns: usize,
}

/// Read the input, compute every indicator and write the output file.
pub fn indicators(opts: &IndicatorOptions) -> Result<IndicatorReport, PipelineError> {
    let bars = read_input(&opts.input, opts.bar)?;
    let values = compute(&bars, &opts.input)?;
    write(&opts.out, &bars, &values)?;
    Ok(IndicatorReport {
        bars: bars.len(),
        symbols: symbols(&bars).len(),
        columns: COLUMNS.len(),
    })
}

/// The rows of each symbol, in input order (one unnamed symbol without a column).
fn symbols(bars: &OhlcvColumns) -> BTreeMap<&str, Vec<usize>> {
    let mut rows: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for i in 0..bars.len() {
        let symbol = bars.symbol.as_ref().map_or("", |s| s[i].as_str());
        rows.entry(symbol).or_default().push(i);
    }
    rows
}

/// Every indicator column for every bar, row-aligned with `bars`.
fn compute(
    bars: &OhlcvColumns,
    input: &Path,
) -> Result<Vec<[Option<f64>; COLUMNS.len()]>, PipelineError> {
    let bad = |reason: String| PipelineError::Input {
        path: input.to_owned(),
        reason,
    };
    let mut out = vec![[None; COLUMNS.len()]; bars.len()];
    for (symbol, rows) in symbols(bars) {
        let name = if symbol.is_empty() {
            String::from("the series")
        } else {
            format!("symbol `{symbol}`")
        };
        if rows.len() < MIN_BARS {
            return Err(bad(format!(
                "{name} has {} bars; at least {MIN_BARS} are needed",
                rows.len()
            )));
        }
        if let Some(w) = rows.windows(2).find(|w| bars.ts[w[1]] < bars.ts[w[0]]) {
            return Err(bad(format!(
                "{name} goes back in time at row {}: bars must be in time order",
                w[1] + 1
            )));
        }
        let mut set = IndicatorSet::new();
        for &i in &rows {
            let candle = Candle {
                ts: bars.ts[i],
                open: bars.open[i],
                high: bars.high[i],
                low: bars.low[i],
                close: bars.close[i],
                volume: bars.volume[i],
            };
            if !(candle.low <= candle.high && candle.volume >= 0.0) {
                return Err(bad(format!(
                    "row {}: low {} above high {} or negative volume {}",
                    i + 1,
                    candle.low,
                    candle.high,
                    candle.volume
                )));
            }
            out[i] = set.update(&candle);
        }
    }
    Ok(out)
}

/// The bars of `input`: a bar file, or ticks cut into bars `bar` ns wide.
fn read_input(input: &Path, bar: Nanos) -> Result<OhlcvColumns, PipelineError> {
    let extension = input
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let bars = match extension.as_deref() {
        Some("csv") if !is_tick_csv(input)? => read_csv(input)?,
        Some("parquet") if !is_tick_parquet(input)? => read_parquet(input)?,
        _ => bars_from_ticks(input, bar)?,
    };
    if bars.is_empty() {
        return Err(PipelineError::Input {
            path: input.to_owned(),
            reason: "no bars".into(),
        });
    }
    Ok(bars)
}

fn is_tick_csv(path: &Path) -> Result<bool, PipelineError> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| input_error(path, e))?;
    let headers = reader.headers().map_err(|e| input_error(path, e))?;
    Ok(!headers.iter().any(|h| h.trim() == "open") && headers.iter().any(|h| h.trim() == "kind"))
}

fn is_tick_parquet(path: &Path) -> Result<bool, PipelineError> {
    let file = File::open(path).map_err(|e| PipelineError::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| PipelineError::parquet(path, e))?;
    let schema = builder.schema();
    Ok(schema.field_with_name("open").is_err() && schema.field_with_name("kind").is_ok())
}

fn input_error(path: &Path, e: impl std::fmt::Display) -> PipelineError {
    PipelineError::Input {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

fn read_parquet(path: &Path) -> Result<OhlcvColumns, PipelineError> {
    let file = File::open(path).map_err(|e| PipelineError::io(path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| PipelineError::parquet(path, e))?;
    let mut bars = OhlcvColumns::default();
    let mut offset = 0;
    for batch in reader {
        let batch = batch.map_err(|e| input_error(path, e))?;
        let part = OhlcvColumns::from_batch(&batch).map_err(|source| PipelineError::Schema {
            path: path.to_owned(),
            source: offset_rows(source, offset),
        })?;
        offset += part.len();
        bars.extend(part);
    }
    Ok(bars)
}

/// `error` with its row counted from the file's start rather than its batch's.
fn offset_rows(error: bot4_schemas::SchemaError, offset: usize) -> bot4_schemas::SchemaError {
    match error {
        bot4_schemas::SchemaError::BadValue {
            column,
            row,
            reason,
        } => bot4_schemas::SchemaError::BadValue {
            column,
            row: row + offset,
            reason,
        },
        other => other,
    }
}

fn read_csv(path: &Path) -> Result<OhlcvColumns, PipelineError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| input_error(path, e))?;
    let headers = reader.headers().map_err(|e| input_error(path, e))?.clone();
    let column = |name: &str| -> Result<usize, PipelineError> {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| input_error(path, format!("no `{name}` column in the CSV header")))
    };
    let ts = column("ts")?;
    let prices = [
        column("open")?,
        column("high")?,
        column("low")?,
        column("close")?,
        column("volume")?,
    ];
    let symbol = headers.iter().position(|h| h == "symbol");
    let mut bars = OhlcvColumns {
        symbol: symbol.map(|_| Vec::new()),
        ..OhlcvColumns::default()
    };
    for (row, record) in reader.records().enumerate() {
        // Line numbers count the header.
        let line = row + 2;
        let record = record.map_err(|e| input_error(path, e))?;
        let cell = |i: usize| record.get(i).unwrap_or("");
        let bad = |name: &str, why: &str| {
            input_error(path, format!("line {line}, column `{name}`: {why}"))
        };
        bars.ts.push(parse_time(cell(ts)).ok_or_else(|| {
            bad(
                "ts",
                "not a time (integer ns since the epoch, RFC 3339, or YYYY-MM-DD)",
            )
        })?);
        let mut values = [0.0; 5];
        for (value, (i, name)) in values.iter_mut().zip(
            prices
                .iter()
                .zip(["open", "high", "low", "close", "volume"]),
        ) {
            *value = cell(*i)
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(name, &format!("`{}` is not a finite number", cell(*i))))?;
        }
        let [o, h, l, c, v] = values;
        bars.open.push(o);
        bars.high.push(h);
        bars.low.push(l);
        bars.close.push(c);
        bars.volume.push(v);
        if let (Some(i), Some(symbols)) = (symbol, bars.symbol.as_mut()) {
            symbols.push(cell(i).to_owned());
        }
    }
    Ok(bars)
}

/// A time: integer ns since the epoch, RFC 3339, or a date (midnight UTC).
fn parse_time(text: &str) -> Option<i64> {
    if let Ok(ns) = text.parse::<i64>() {
        return Some(ns);
    }
    let stamp = if text.len() == 10 {
        humantime::parse_rfc3339_weak(&format!("{text}T00:00:00")).ok()?
    } else {
        humantime::parse_rfc3339_weak(text.trim_end_matches('Z')).ok()?
    };
    let since = stamp.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(since.as_nanos()).ok()
}

/// Time bars of every symbol of the tick files under `input`.
fn bars_from_ticks(input: &Path, width: Nanos) -> Result<OhlcvColumns, PipelineError> {
    let registry = Arc::new(load_registry(input, None)?);
    let plan = plan_inputs(input, None)?;
    let mut source = TickSource::new(plan.units.clone(), Arc::clone(&registry));
    let mut makers: BTreeMap<u32, TimeBars> = BTreeMap::new();
    let mut done = Vec::new();
    let mut batch = Vec::with_capacity(4096);
    loop {
        batch.clear();
        if source.fill(&mut batch, 4096)? == 0 {
            break;
        }
        for tick in &batch {
            let maker = makers
                .entry(tick.symbol.0)
                .or_insert_with(|| TimeBars::new(width));
            done.extend(maker.update(tick));
        }
    }
    done.extend(makers.values_mut().filter_map(TimeBars::finish));
    done.sort_by_key(|b| (b.start, b.symbol));
    let candles: Vec<Candle> = done.iter().map(Candle::from_bar).collect();
    let column = |f: fn(&Candle) -> f64| candles.iter().map(f).collect();
    Ok(OhlcvColumns {
        ts: candles.iter().map(|c| c.ts).collect(),
        symbol: Some(
            done.iter()
                .map(|b| registry.get(b.symbol).symbol.clone())
                .collect(),
        ),
        open: column(|c| c.open),
        high: column(|c| c.high),
        low: column(|c| c.low),
        close: column(|c| c.close),
        volume: column(|c| c.volume),
    })
}

fn write(
    out: &Path,
    bars: &OhlcvColumns,
    values: &[[Option<f64>; COLUMNS.len()]],
) -> Result<(), PipelineError> {
    let float = |name: &str| Field::new(name, DataType::Float64, false);
    let mut fields = vec![Field::new(
        "ts",
        DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
        false,
    )];
    let mut columns: Vec<ArrayRef> = vec![Arc::new(
        TimestampNanosecondArray::from(bars.ts.clone()).with_timezone("UTC"),
    )];
    if let Some(symbols) = &bars.symbol {
        fields.push(Field::new("symbol", DataType::Utf8, false));
        columns.push(Arc::new(StringArray::from_iter_values(symbols)));
    }
    for (name, data) in [
        ("open", &bars.open),
        ("high", &bars.high),
        ("low", &bars.low),
        ("close", &bars.close),
        ("volume", &bars.volume),
    ] {
        fields.push(float(name));
        columns.push(Arc::new(Float64Array::from(data.clone())));
    }
    for (j, name) in COLUMNS.iter().enumerate() {
        fields.push(Field::new(*name, DataType::Float64, true));
        columns.push(Arc::new(Float64Array::from_iter(
            values.iter().map(|v| v[j]),
        )));
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| input_error(out, e))?;

    if let Some(folder) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(|e| PipelineError::io(folder, e))?;
    }
    let partial = out.with_extension("parquet.partial");
    let result = (|| {
        let file = File::create(&partial).map_err(|e| PipelineError::io(&partial, e))?;
        let level = ZstdLevel::try_new(3).map_err(|e| PipelineError::parquet(&partial, e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .build();
        let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props))
            .map_err(|e| PipelineError::parquet(&partial, e))?;
        writer
            .write(&batch)
            .map_err(|e| PipelineError::parquet(&partial, e))?;
        let file = writer
            .into_inner()
            .map_err(|e| PipelineError::parquet(&partial, e))?;
        file.sync_all()
            .map_err(|e| PipelineError::io(&partial, e))?;
        std::fs::rename(&partial, out).map_err(|e| PipelineError::io(out, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_parse_as_ns_rfc3339_or_dates() {
        assert_eq!(parse_time("1500"), Some(1500));
        assert_eq!(parse_time("1970-01-02"), Some(86_400_000_000_000));
        assert_eq!(parse_time("1970-01-01T00:00:01Z"), Some(1_000_000_000));
        assert_eq!(parse_time("yesterday"), None);
    }
}
