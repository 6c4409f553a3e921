//! `bot4 bench sink`: how fast the database sink ingests ticks, through the same writer,
//! encoder and transactions as a run.

use std::sync::Arc;
use std::time::Instant;

use bot4_schemas::{Tick, NANOS_PER_SECOND};
use serde::Serialize;

use crate::database::{self, Database, RunRecord};
use crate::sinks::postgres::{AnyBatch, Batch, SinkConfig, Writer};
use crate::sources::synthetic::{SyntheticConfig, SyntheticMarket};
use crate::PipelineError;

/// What to measure.
#[derive(Debug, Clone)]
pub struct SinkBenchOptions {
    /// The database (migrated by the bench if needed).
    pub url: String,
    /// Tick rows to write.
    pub rows: usize,
    /// Writers (connections) in parallel, as workers would have.
    pub writers: usize,
    /// Rows per batch (one transaction each).
    pub batch_rows: usize,
}

/// What was measured.
#[derive(Debug, Clone, Serialize)]
pub struct SinkBenchReport {
    /// Rows written.
    pub rows: u64,
    /// Batches committed.
    pub batches: u64,
    /// Writers in parallel.
    pub writers: usize,
    /// Wall time from the first batch queued to the last committed, in seconds.
    pub seconds: f64,
    /// Rows per second.
    pub rows_per_second: f64,
    /// Bytes of binary `COPY` data per row (what crosses the connection).
    pub copy_bytes_per_row: f64,
    /// Bytes the rows take in the table and its indexes, per row.
    pub stored_bytes_per_row: f64,
    /// The run the rows were written under (deleted afterwards).
    pub run_id: uuid::Uuid,
}

impl SinkBenchReport {
    /// The lines `bot4 bench sink` prints.
    pub fn to_text(&self) -> String {
        format!(
            "sink ingest: {} tick rows in {} batches over {} connection(s) in {:.2} s = {:.0} rows/s\nrow width: {:.1} bytes of binary COPY, {:.1} bytes stored with indexes",
            self.rows,
            self.batches,
            self.writers,
            self.seconds,
            self.rows_per_second,
            self.copy_bytes_per_row,
            self.stored_bytes_per_row
        )
    }
}

/// Generate `rows` ticks, write them through `writers` writers under a new run, report
/// the rate, and delete the run's rows again.
pub fn bench_sink(opts: &SinkBenchOptions) -> Result<SinkBenchReport, PipelineError> {
    let db = Database::new(&opts.url)?;
    let mut market = SyntheticMarket::new(SyntheticConfig {
        symbols: 8,
        duration: 86_400 * NANOS_PER_SECOND,
        events_per_second: 50.0,
        ..SyntheticConfig::default()
    })?;
    let registry = Arc::new(market.registry().clone());
    let mut ticks: Vec<Tick> = Vec::with_capacity(opts.rows);
    while ticks.len() < opts.rows {
        let want = opts.rows - ticks.len();
        if market.fill(&mut ticks, want) == 0 {
            break;
        }
    }
    let run_id = uuid::Uuid::new_v4();
    let record = RunRecord {
        run_id,
        input: "bot4 bench sink".into(),
        workers: opts.writers,
        config: serde_json::json!({ "bench": "sink", "rows": opts.rows }),
    };
    let (before, copy_bytes) = database::with_connection(&db, async |conn| {
        database::migrate(conn).await?;
        database::start_run(conn, &record, &registry).await?;
        let before = table_bytes(conn).await?;
        Ok((before, copy_size(&ticks, &registry, &run_id)?))
    })?;

    let mut config = SinkConfig::new(db.clone(), run_id);
    config.batch_rows = opts.batch_rows.max(1);
    config.queue = 4;
    let writers: Vec<Writer> = (0..opts.writers.max(1))
        .map(|part| Writer::start(config.clone(), part, Arc::clone(&registry)))
        .collect();
    let started = Instant::now();
    for (i, chunk) in ticks.chunks(config.batch_rows).enumerate() {
        // One epoch a batch: each is its own ledger entry.
        let epoch = i as u64;
        let rows = chunk.iter().map(|t| (epoch, *t)).collect();
        if writers[i % writers.len()].send_rows(rows).is_err() {
            break;
        }
    }
    let mut stats = crate::sinks::postgres::WriterStats::default();
    for writer in writers {
        stats = stats + writer.finish()?;
    }
    let seconds = started.elapsed().as_secs_f64().max(f64::EPSILON);

    let after = database::with_connection(&db, async |conn| {
        let after = table_bytes(conn).await?;
        sqlx::query("DELETE FROM ticks WHERE run_id = $1")
            .bind(run_id)
            .execute(&mut *conn)
            .await
            .map_err(database::failed("deleting the bench's rows"))?;
        sqlx::query("DELETE FROM runs WHERE run_id = $1")
            .bind(run_id)
            .execute(&mut *conn)
            .await
            .map_err(database::failed("deleting the bench's run"))?;
        Ok(after)
    })?;
    let rows = stats.rows.max(1) as f64;
    Ok(SinkBenchReport {
        rows: stats.rows,
        batches: stats.batches,
        writers: opts.writers.max(1),
        seconds,
        rows_per_second: stats.rows as f64 / seconds,
        copy_bytes_per_row: copy_bytes as f64 / rows,
        stored_bytes_per_row: after.saturating_sub(before) as f64 / rows,
        run_id,
    })
}

/// Bytes of the binary `COPY` stream of `ticks`.
fn copy_size(
    ticks: &[Tick],
    registry: &bot4_schemas::SymbolRegistry,
    run_id: &uuid::Uuid,
) -> Result<usize, PipelineError> {
    let batch = Batch {
        rows: ticks.iter().map(|t| (0, *t)).collect(),
        first: 0,
        last: 0,
    };
    Ok(batch.encode(run_id.as_bytes(), registry)?.0.len())
}

/// Bytes of the ticks table, its partitions and their indexes.
async fn table_bytes(conn: &mut sqlx::PgConnection) -> Result<u64, PipelineError> {
    let bytes: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0)::bigint \
         FROM pg_inherits WHERE inhparent = 'ticks'::regclass",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(database::failed("measuring the ticks table"))?;
    Ok(u64::try_from(bytes).unwrap_or(0))
}
