//! `bot4 gen`: a synthetic market written as Parquet tick files in the documented schema.
//!
//! Layout: `<out>/instruments.csv` and `<out>/ticks/date=YYYY-MM-DD/<SYMBOL>.parquet`, one
//! file per symbol and UTC day, each sorted by `(ts, seq)`. Splitting by symbol lets the
//! workers of a replay read in parallel over the same stretch of time (file `i` of a day
//! goes to worker `i mod peers`, the worker that owns symbol `i`). Files appear only
//! when the whole market has been written.

use std::path::Path;
use std::sync::Arc;

use bot4_schemas::{Nanos, SymbolRegistry, Tick, NANOS_PER_SECOND};
use indicatif::ProgressBar;

use crate::sinks::{write_atomic, PartWriter};
use crate::sources::synthetic::{SyntheticConfig, SyntheticMarket};
use crate::PipelineError;

/// Event time covered by one file.
const FILE_SPAN: Nanos = 86_400 * NANOS_PER_SECOND;

/// What a generation produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generated {
    /// Ticks written.
    pub ticks: u64,
    /// Files written.
    pub files: usize,
}

/// Generate the market of `config` into `out`, replacing an earlier generation there.
pub fn generate(
    config: SyntheticConfig,
    out: &Path,
    progress: Option<&ProgressBar>,
) -> Result<Generated, PipelineError> {
    let mut market = SyntheticMarket::new(config)?;
    let registry = Arc::new(market.registry().clone());
    prepare(out)?;
    let staging = out.join(".staging-gen");
    let generated = match write_files(&mut market, &staging, &registry, progress) {
        Ok(g) => g,
        Err(e) => {
            if let Err(cleanup) = std::fs::remove_dir_all(&staging) {
                tracing::warn!(error = %cleanup, "could not remove the staging folder");
            }
            return Err(e);
        }
    };
    let ticks = out.join("ticks");
    if ticks.exists() {
        std::fs::remove_dir_all(&ticks).map_err(|e| PipelineError::io(&ticks, e))?;
    }
    let staged = staging.join("ticks");
    std::fs::rename(&staged, &ticks).map_err(|e| PipelineError::io(&ticks, e))?;
    std::fs::remove_dir_all(&staging).map_err(|e| PipelineError::io(&staging, e))?;
    write_atomic(&out.join("instruments.csv"), registry.to_csv().as_bytes())?;
    Ok(generated)
}

/// `out` may hold only an earlier generation.
fn prepare(out: &Path) -> Result<(), PipelineError> {
    std::fs::create_dir_all(out).map_err(|e| PipelineError::io(out, e))?;
    for entry in std::fs::read_dir(out).map_err(|e| PipelineError::io(out, e))? {
        let entry = entry.map_err(|e| PipelineError::io(out, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !matches!(name.as_str(), "ticks" | "instruments.csv" | ".staging-gen") {
            return Err(PipelineError::Config(format!(
                "{} holds `{name}`; gen writes only into an empty folder or over an earlier generation",
                out.display()
            )));
        }
    }
    let staging = out.join(".staging-gen");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| PipelineError::io(&staging, e))?;
    }
    Ok(())
}

/// The UTC date of `ts`, as `YYYY-MM-DD`.
fn utc_date(ts: Nanos) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ts.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()[..10].to_owned()
}

fn write_files(
    market: &mut SyntheticMarket,
    staging: &Path,
    registry: &Arc<SymbolRegistry>,
    progress: Option<&ProgressBar>,
) -> Result<Generated, PipelineError> {
    let mut buffer = Vec::with_capacity(65_536);
    let mut writers: Vec<Option<PartWriter<Tick>>> = (0..registry.len()).map(|_| None).collect();
    let mut rows: Vec<Vec<Tick>> = vec![Vec::new(); registry.len()];
    let mut day: Option<Nanos> = None;
    let (mut ticks, mut files) = (0u64, 0usize);
    loop {
        buffer.clear();
        let n = market.fill(&mut buffer, 65_536);
        for tick in &buffer {
            let tick_day = tick.ts.div_euclid(FILE_SPAN);
            if day != Some(tick_day) {
                flush(&mut writers, &mut rows)?;
                files += finish(&mut writers)?;
                day = Some(tick_day);
            }
            let i = tick.symbol.0 as usize;
            if writers[i].is_none() {
                let path = staging
                    .join("ticks")
                    .join(format!("date={}", utc_date(tick.ts)))
                    .join(format!("{}.parquet", registry.name(tick.symbol)));
                writers[i] = Some(PartWriter::create_at(&path, Arc::clone(registry))?);
            }
            rows[i].push(*tick);
        }
        flush(&mut writers, &mut rows)?;
        ticks += n as u64;
        if let Some(bar) = progress {
            bar.set_position(ticks);
        }
        if n == 0 {
            break;
        }
    }
    files += finish(&mut writers)?;
    Ok(Generated { ticks, files })
}

fn flush(
    writers: &mut [Option<PartWriter<Tick>>],
    rows: &mut [Vec<Tick>],
) -> Result<(), PipelineError> {
    for (writer, rows) in writers.iter_mut().zip(rows.iter_mut()) {
        if let Some(w) = writer.as_mut() {
            w.push(rows)?;
        }
        rows.clear();
    }
    Ok(())
}

fn finish(writers: &mut [Option<PartWriter<Tick>>]) -> Result<usize, PipelineError> {
    let mut files = 0;
    for writer in writers.iter_mut() {
        if let Some(mut w) = writer.take() {
            w.finish()?;
            files += 1;
        }
    }
    Ok(files)
}
