//! The `runs` registry: one row per replay or session, with the instruments it traded.

use bot4_schemas::{Decimal, Instrument, SymbolRegistry};
use sqlx::postgres::PgConnection;
use uuid::Uuid;

use super::failed;
use crate::PipelineError;

/// What is recorded of a run when it starts.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// Its id: every row it writes carries it.
    pub run_id: Uuid,
    /// What it read: a path or a database selection.
    pub input: String,
    /// Workers in the job.
    pub workers: usize,
    /// Its parameters.
    pub config: serde_json::Value,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Every worker finished and every batch is in the database.
    Finished,
    /// It stopped on an error.
    Failed,
}

/// Record that run `run` starts, with the instruments of `registry`.
pub async fn start_run(
    conn: &mut PgConnection,
    run: &RunRecord,
    registry: &SymbolRegistry,
) -> Result<(), PipelineError> {
    let context = || format!("recording run {}", run.run_id);
    let mut tx = sqlx::Connection::begin(&mut *conn)
        .await
        .map_err(failed(context()))?;
    sqlx::query("INSERT INTO runs (run_id, config, input, workers) VALUES ($1, $2, $3, $4)")
        .bind(run.run_id)
        .bind(&run.config)
        .bind(&run.input)
        .bind(i32::try_from(run.workers).unwrap_or(i32::MAX))
        .execute(&mut *tx)
        .await
        .map_err(failed(context()))?;
    let (mut symbols, mut ticks, mut lots, mut notionals) = (vec![], vec![], vec![], vec![]);
    for (_, instrument) in registry.iter() {
        symbols.push(instrument.symbol.clone());
        ticks.push(instrument.tick_size);
        lots.push(instrument.lot_size);
        notionals.push(instrument.min_notional);
    }
    sqlx::query(
        "INSERT INTO run_instruments (run_id, symbol, tick_size, lot_size, min_notional) \
         SELECT $1, * FROM unnest($2::text[], $3::numeric[], $4::numeric[], $5::numeric[])",
    )
    .bind(run.run_id)
    .bind(&symbols)
    .bind(&ticks)
    .bind(&lots)
    .bind(&notionals)
    .execute(&mut *tx)
    .await
    .map_err(failed(context()))?;
    tx.commit().await.map_err(failed(context()))
}

/// Record how run `run_id` ended, with its summary.
pub async fn finish_run(
    conn: &mut PgConnection,
    run_id: Uuid,
    status: RunStatus,
    summary: Option<serde_json::Value>,
) -> Result<(), PipelineError> {
    let status = match status {
        RunStatus::Finished => "finished",
        RunStatus::Failed => "failed",
    };
    sqlx::query(
        "UPDATE runs SET status = $2, finished = greatest(now(), started), summary = $3 \
         WHERE run_id = $1",
    )
    .bind(run_id)
    .bind(status)
    .bind(summary)
    .execute(&mut *conn)
    .await
    .map_err(failed(format!("recording the end of run {run_id}")))?;
    Ok(())
}

/// The instruments run `run_id` traded.
pub async fn run_instruments(
    conn: &mut PgConnection,
    run_id: Uuid,
) -> Result<SymbolRegistry, PipelineError> {
    let rows: Vec<(String, Decimal, Decimal, Decimal)> = sqlx::query_as(
        "SELECT symbol, tick_size, lot_size, min_notional FROM run_instruments \
         WHERE run_id = $1 ORDER BY symbol",
    )
    .bind(run_id)
    .fetch_all(&mut *conn)
    .await
    .map_err(failed(format!("reading the instruments of run {run_id}")))?;
    if rows.is_empty() {
        return Err(PipelineError::Config(format!(
            "run {run_id} has no instruments in the database"
        )));
    }
    let instruments = rows
        .into_iter()
        .map(|(symbol, tick_size, lot_size, min_notional)| Instrument {
            symbol,
            tick_size: tick_size.normalize(),
            lot_size: lot_size.normalize(),
            min_notional: min_notional.normalize(),
        })
        .collect();
    SymbolRegistry::new(instruments)
        .map_err(|e| PipelineError::Config(format!("the instruments of run {run_id}: {e}")))
}
