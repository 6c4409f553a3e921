//! One worker's database writer: a thread with its own connection that takes batches
//! from a bounded queue and commits each in one transaction, retrying on a new
//! connection while the database is away.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bot4_schemas::{Nanos, SymbolRegistry, NANOS_PER_SECOND};
use sqlx::postgres::{PgConnection, PgDatabaseError};
use sqlx::Connection;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::copy::{copy_statement, CopyBuf, PgRecord, RowContext};
use crate::database::{is_transient, runtime, Database};
use crate::PipelineError;

/// First wait before a retry; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

const NANOS_PER_DAY: Nanos = 86_400 * NANOS_PER_SECOND;

/// How a worker's rows reach the database.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    /// The database.
    pub database: Database,
    /// The run every row belongs to.
    pub run_id: Uuid,
    /// Rows of one table a batch holds at most (a batch always ends on an epoch
    /// boundary, so one epoch's rows may make it longer).
    pub batch_rows: usize,
    /// Wall time after which the rows of completed epochs are sent even if fewer.
    pub flush_after: Duration,
    /// Batches a worker may have queued for its writer before the policy applies.
    pub queue: usize,
    /// Whether a full queue sheds market data (ticks, bar features, signals) rather than
    /// wait. Orders, reports, fills, positions, equity and control are never shed: the
    /// worker waits for the writer. Live trading sheds; a replay never does.
    pub shed_market_data: bool,
    /// How long a writer keeps retrying an unreachable database before the run fails.
    pub retry_for: Duration,
}

impl SinkConfig {
    /// The defaults for run `run_id` into `database`.
    pub fn new(database: Database, run_id: Uuid) -> Self {
        Self {
            database,
            run_id,
            batch_rows: 32 * 1024,
            flush_after: Duration::from_secs(1),
            queue: 8,
            shed_market_data: false,
            retry_for: Duration::from_secs(300),
        }
    }
}

/// What a writer did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct WriterStats {
    /// Batches committed.
    pub batches: u64,
    /// Rows committed.
    pub rows: u64,
    /// Batches found already committed (re-sent after a lost acknowledgement).
    pub skipped: u64,
    /// Attempts that failed on the connection and were retried.
    pub retries: u64,
    /// Market-data rows shed because the queue was full.
    pub shed_rows: u64,
}

impl std::ops::Add for WriterStats {
    type Output = Self;

    /// The sum of two writers' figures.
    fn add(self, other: Self) -> Self {
        Self {
            batches: self.batches + other.batches,
            rows: self.rows + other.rows,
            skipped: self.skipped + other.skipped,
            retries: self.retries + other.retries,
            shed_rows: self.shed_rows + other.shed_rows,
        }
    }
}

/// The rows of one table that one worker received in epochs `first..=last`.
pub(crate) struct Batch<T> {
    pub(crate) rows: Vec<(u64, T)>,
    pub(crate) first: u64,
    pub(crate) last: u64,
}

/// A batch of any table, as the writer handles it.
pub(crate) trait AnyBatch: Send {
    fn table(&self) -> &'static str;
    fn statement(&self) -> String;
    fn epochs(&self) -> (u64, u64);
    fn rows(&self) -> u64;
    /// The `COPY` stream, and the least and greatest event time in it.
    fn encode(
        &self,
        run_id: &[u8; 16],
        registry: &SymbolRegistry,
    ) -> Result<(Vec<u8>, Nanos, Nanos), PipelineError>;
    /// Row `row` (from 1), for an error message.
    fn describe(&self, row: u64) -> String;
}

impl<T: PgRecord> AnyBatch for Batch<T> {
    fn table(&self) -> &'static str {
        T::TABLE
    }

    fn statement(&self) -> String {
        copy_statement::<T>()
    }

    fn epochs(&self) -> (u64, u64) {
        (self.first, self.last)
    }

    fn rows(&self) -> u64 {
        self.rows.len() as u64
    }

    fn encode(
        &self,
        run_id: &[u8; 16],
        registry: &SymbolRegistry,
    ) -> Result<(Vec<u8>, Nanos, Nanos), PipelineError> {
        let mut out = CopyBuf::new();
        for (i, (epoch, row)) in self.rows.iter().enumerate() {
            let ctx = RowContext {
                run_id,
                registry,
                epoch: *epoch,
            };
            if let Err(reason) = row.encode(ctx, &mut out) {
                return Err(PipelineError::BadRow {
                    table: T::TABLE,
                    row: i as u64 + 1,
                    first_epoch: self.first,
                    last_epoch: self.last,
                    reason,
                    record: format!("{row:?}"),
                });
            }
        }
        let (lo, hi) = out.time_range();
        Ok((out.finish(), lo, hi))
    }

    fn describe(&self, row: u64) -> String {
        usize::try_from(row)
            .ok()
            .and_then(|r| r.checked_sub(1))
            .and_then(|r| self.rows.get(r))
            .map_or_else(|| "(not in the batch)".into(), |(_, r)| format!("{r:?}"))
    }
}

/// The worker's side of its writer.
#[derive(Debug)]
pub struct Writer {
    sender: Option<mpsc::Sender<Box<dyn AnyBatch>>>,
    thread: Option<JoinHandle<Result<WriterStats, PipelineError>>>,
    shed_rows: Arc<AtomicU64>,
    /// The writer's error, once it has stopped on one.
    failure: Arc<Mutex<Option<PipelineError>>>,
    config: SinkConfig,
}

impl std::fmt::Debug for dyn AnyBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (first, last) = self.epochs();
        write!(f, "{} epochs {first}..={last}", self.table())
    }
}

/// Why a send did not queue its batch.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The queue was full and the batch was market data: dropped and counted.
    Shed,
    /// The writer has stopped (on an error, taken with [`Writer::take_failure`]).
    Stopped,
}

impl Writer {
    /// Start worker `part`'s writer thread. Starting never fails, so every worker builds
    /// the same graph: a writer whose thread could not start has stopped, with the
    /// error, and the run fails with it at its first batch.
    pub fn start(config: SinkConfig, part: usize, registry: Arc<SymbolRegistry>) -> Self {
        let (sender, receiver) = mpsc::channel(config.queue.max(1));
        let failure = Arc::new(Mutex::new(None));
        let slot = Arc::clone(&failure);
        let thread_config = config.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("bot4-db-writer-{part}"))
            .spawn(move || {
                let result = write_all(thread_config, part, registry, receiver);
                if let Err(e) = &result {
                    tracing::error!(part, error = %e, "database writer stopped");
                    // The worker learns of the failure from the closed queue and the
                    // run ends with this error.
                    if let Ok(mut slot) = slot.lock() {
                        *slot = Some(PipelineError::Dataflow(format!(
                            "the database writer of worker {part} stopped: {e}"
                        )));
                    }
                }
                result
            });
        let (sender, thread) = match spawned {
            Ok(thread) => (Some(sender), Some(thread)),
            Err(e) => {
                if let Ok(mut slot) = failure.lock() {
                    *slot = Some(PipelineError::Dataflow(format!(
                        "starting the database writer of worker {part}: {e}"
                    )));
                }
                (None, None)
            }
        };
        Self {
            sender,
            thread,
            shed_rows: Arc::new(AtomicU64::new(0)),
            failure,
            config,
        }
    }

    /// Queue a batch. Critical data waits for room; market data is shed when the queue
    /// is full and the configuration allows it.
    pub(crate) fn send(&self, batch: Box<dyn AnyBatch>, sheddable: bool) -> Result<(), Refused> {
        let Some(sender) = &self.sender else {
            return Err(Refused::Stopped);
        };
        if sheddable && self.config.shed_market_data {
            return match sender.try_send(batch) {
                Ok(()) => Ok(()),
                Err(mpsc::error::TrySendError::Full(batch)) => {
                    let rows = batch.rows();
                    let total = self.shed_rows.fetch_add(rows, Ordering::Relaxed) + rows;
                    tracing::warn!(
                        table = batch.table(),
                        rows,
                        shed_total = total,
                        "database sink queue full: market data shed"
                    );
                    Err(Refused::Shed)
                }
                Err(mpsc::error::TrySendError::Closed(_)) => Err(Refused::Stopped),
            };
        }
        sender.blocking_send(batch).map_err(|_| Refused::Stopped)
    }

    /// Queue the rows of table `T` received in epochs `first..=last`, each with its epoch,
    /// as one batch (what a sink operator does at the end of a batch), waiting for room
    /// in the queue unless `T` is market data and the writer sheds. Returns whether the
    /// batch was queued (`false`: shed); an error when the writer has stopped.
    pub fn send_rows<T: PgRecord>(&self, rows: Vec<(u64, T)>) -> Result<bool, PipelineError> {
        let (Some(&(first, _)), Some(&(last, _))) = (rows.first(), rows.last()) else {
            return Ok(true);
        };
        match self.send(Box::new(Batch { rows, first, last }), T::SHEDDABLE) {
            Ok(()) => Ok(true),
            Err(Refused::Shed) => Ok(false),
            Err(Refused::Stopped) => Err(self.take_failure().unwrap_or_else(|| {
                PipelineError::Dataflow("the database writer has stopped".into())
            })),
        }
    }

    /// The error the writer stopped on, if it has.
    pub(crate) fn take_failure(&self) -> Option<PipelineError> {
        self.failure.lock().ok().and_then(|mut slot| slot.take())
    }

    /// Close the queue, wait until every queued batch is committed, and return what the
    /// writer did or the error it stopped on.
    pub fn finish(mut self) -> Result<WriterStats, PipelineError> {
        self.sender = None;
        let Some(thread) = self.thread.take() else {
            return Err(self.take_failure().unwrap_or_else(|| {
                PipelineError::Dataflow("the database writer never started".into())
            }));
        };
        let mut stats = thread
            .join()
            .map_err(|_| PipelineError::Dataflow("the database writer panicked".into()))??;
        stats.shed_rows = self.shed_rows.load(Ordering::Relaxed);
        Ok(stats)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // A writer dropped without `finish` (the run failed) still commits what it was
        // given: acknowledged rows are kept.
        self.sender = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What became of a batch.
enum Written {
    Committed,
    AlreadyThere,
}

/// A failed attempt: worth retrying on a new connection, or final.
enum Failure {
    Transient(sqlx::Error),
    Final(PipelineError),
}

fn write_all(
    config: SinkConfig,
    part: usize,
    registry: Arc<SymbolRegistry>,
    mut receiver: mpsc::Receiver<Box<dyn AnyBatch>>,
) -> Result<WriterStats, PipelineError> {
    let rt = runtime()?;
    rt.block_on(async move {
        let mut session = Session {
            config: &config,
            part,
            conn: None,
            ensured_days: BTreeSet::new(),
            stats: WriterStats::default(),
        };
        let run_id = *config.run_id.as_bytes();
        while let Some(batch) = receiver.recv().await {
            let (bytes, lo, hi) = batch.encode(&run_id, &registry)?;
            session.write(&*batch, &bytes, lo, hi).await?;
        }
        if let Some(conn) = session.conn.take() {
            let _ = conn.close().await;
        }
        Ok(session.stats)
    })
}

/// A writer's connection and what it has done.
struct Session<'a> {
    config: &'a SinkConfig,
    part: usize,
    conn: Option<PgConnection>,
    /// Days (since the Unix epoch) whose partitions exist.
    ensured_days: BTreeSet<i64>,
    stats: WriterStats,
}

impl Session<'_> {
    /// Commit one batch, retrying with backoff while the database is unreachable.
    async fn write(
        &mut self,
        batch: &dyn AnyBatch,
        bytes: &[u8],
        lo: Nanos,
        hi: Nanos,
    ) -> Result<(), PipelineError> {
        let started = Instant::now();
        let mut backoff = FIRST_BACKOFF;
        loop {
            match self.attempt(batch, bytes, lo, hi).await {
                Ok(Written::Committed) => {
                    self.stats.batches += 1;
                    self.stats.rows += batch.rows();
                    return Ok(());
                }
                Ok(Written::AlreadyThere) => {
                    self.stats.skipped += 1;
                    return Ok(());
                }
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Transient(e)) => {
                    self.conn = None;
                    let (first, last) = batch.epochs();
                    if started.elapsed() >= self.config.retry_for {
                        return Err(PipelineError::Database {
                            context: format!(
                                "table {}: the database {} was unreachable for {} s; the batch of epochs {first}..={last} ({} rows) and those after it are not written",
                                batch.table(),
                                self.config.database.describe(),
                                started.elapsed().as_secs(),
                                batch.rows()
                            ),
                            cause: e,
                        });
                    }
                    self.stats.retries += 1;
                    tracing::warn!(
                        part = self.part,
                        table = batch.table(),
                        first_epoch = first,
                        last_epoch = last,
                        retry_in_ms = backoff.as_millis() as u64,
                        error = %e,
                        "database unreachable: batch held, retrying"
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    async fn attempt(
        &mut self,
        batch: &dyn AnyBatch,
        bytes: &[u8],
        lo: Nanos,
        hi: Nanos,
    ) -> Result<Written, Failure> {
        if self.conn.is_none() {
            let conn = self.config.database.connect().await.map_err(|e| match e {
                PipelineError::Database { cause, .. } => Failure::Transient(cause),
                other => Failure::Final(other),
            })?;
            self.conn = Some(conn);
        }
        self.ensure_partitions(lo, hi).await?;
        let conn = self.conn.as_mut().ok_or_else(|| {
            Failure::Final(PipelineError::Dataflow("no database connection".into()))
        })?;
        let (first, last) = batch.epochs();
        let final_error = |e: sqlx::Error| {
            if is_transient(&e) {
                return Failure::Transient(e);
            }
            Failure::Final(bad_row(batch, e))
        };
        let mut tx = conn.begin().await.map_err(final_error)?;
        // The ledger row first: if it is there, an earlier attempt committed the batch
        // and its acknowledgement was lost.
        let fresh = sqlx::query(
            "INSERT INTO run_epochs (run_id, table_name, part, first_epoch, last_epoch, rows) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(self.config.run_id)
        .bind(batch.table())
        .bind(self.part as i32)
        .bind(first as i64)
        .bind(last as i64)
        .bind(batch.rows() as i64)
        .execute(&mut *tx)
        .await
        .map_err(final_error)?
        .rows_affected()
            == 1;
        if !fresh {
            tx.rollback().await.map_err(final_error)?;
            return Ok(Written::AlreadyThere);
        }
        let mut copy = tx
            .copy_in_raw(&batch.statement())
            .await
            .map_err(final_error)?;
        copy.send(bytes).await.map_err(final_error)?;
        copy.finish().await.map_err(final_error)?;
        tx.commit().await.map_err(final_error)?;
        Ok(Written::Committed)
    }

    /// On plain PostgreSQL, create the daily partitions of the days `lo..=hi` touches
    /// (once per day per writer). A failure here is not the batch's: its rows land in
    /// the default partition.
    async fn ensure_partitions(&mut self, lo: Nanos, hi: Nanos) -> Result<(), Failure> {
        let (first, last) = (lo.div_euclid(NANOS_PER_DAY), hi.div_euclid(NANOS_PER_DAY));
        if (first..=last).all(|d| self.ensured_days.contains(&d)) {
            return Ok(());
        }
        let Some(conn) = self.conn.as_mut() else {
            return Ok(());
        };
        let result = sqlx::query("SELECT bot4_ensure_partitions(bot4_ts($1), bot4_ts($2))")
            .bind(first * NANOS_PER_DAY)
            .bind((last + 1).saturating_mul(NANOS_PER_DAY))
            .execute(&mut *conn)
            .await;
        match result {
            Ok(_) => {
                self.ensured_days.extend(first..=last);
                Ok(())
            }
            Err(e) if is_transient(&e) => Err(Failure::Transient(e)),
            Err(e) => {
                tracing::warn!(error = %e, "could not create daily partitions; rows go to the default partition");
                self.ensured_days.extend(first..=last);
                Ok(())
            }
        }
    }
}

/// The error of a batch the database refused: the table, the row (from the `COPY`
/// context PostgreSQL reports, `COPY ticks, line 3, …`) and the record.
fn bad_row(batch: &dyn AnyBatch, e: sqlx::Error) -> PipelineError {
    let (first, last) = batch.epochs();
    let Some(db) = e
        .as_database_error()
        .and_then(|d| d.try_downcast_ref::<PgDatabaseError>())
    else {
        return PipelineError::Database {
            context: format!(
                "table {}: writing the batch of epochs {first}..={last}",
                batch.table()
            ),
            cause: e,
        };
    };
    let row = db.r#where().and_then(copy_line).unwrap_or(0);
    let mut reason = format!("{} ({})", db.message(), db.code());
    if let Some(detail) = db.detail() {
        reason = format!("{reason}: {detail}");
    }
    PipelineError::BadRow {
        table: batch.table(),
        row,
        first_epoch: first,
        last_epoch: last,
        reason,
        record: batch.describe(row),
    }
}

/// The tuple number in a `COPY` error context such as `COPY ticks, line 3, column
/// price: "…"`.
fn copy_line(context: &str) -> Option<u64> {
    let rest = &context[context.find(", line ")? + ", line ".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bot4_schemas::{
        Decimal, Instrument, Order, OrderAction, OrderKind, SymbolId, Tick, TickKind,
    };

    fn registry() -> Arc<SymbolRegistry> {
        Arc::new(
            SymbolRegistry::new(vec![Instrument {
                symbol: "BTCUSDT".into(),
                tick_size: "0.01".parse().expect("a decimal"),
                lot_size: "0.001".parse().expect("a decimal"),
                min_notional: "10".parse().expect("a decimal"),
            }])
            .expect("a registry"),
        )
    }

    /// A database nobody answers: a port that was free a moment ago.
    fn unreachable() -> Database {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Database::new(&format!("postgres://bot4@127.0.0.1:{port}/none")).expect("a URL")
    }

    fn tick(seq: u64) -> Tick {
        Tick {
            ts: seq as i64,
            seq,
            symbol: SymbolId(0),
            kind: TickKind::Trade {
                price: Decimal::ONE,
                size: Decimal::ONE,
                aggressor: bot4_schemas::Side::Buy,
            },
        }
    }

    #[test]
    fn a_full_queue_sheds_market_data_and_counts_it() {
        let mut config = SinkConfig::new(unreachable(), Uuid::nil());
        config.queue = 1;
        config.shed_market_data = true;
        config.retry_for = Duration::from_millis(300);
        let writer = Writer::start(config, 0, registry());
        // The writer takes the first batch and retries it; the second waits in the queue
        // of one; the third finds the queue full and is shed.
        let mut queued = 0;
        let mut shed = 0;
        for epoch in 0..20u64 {
            match writer.send_rows(vec![(epoch, tick(epoch)), (epoch, tick(epoch + 100))]) {
                Ok(true) => queued += 1,
                Ok(false) => shed += 1,
                Err(_) => break,
            }
        }
        assert!(queued >= 1 && shed >= 1, "queued {queued}, shed {shed}");
        // The database never answers: the writer gives up after retry_for, naming it.
        let error = writer
            .finish()
            .expect_err("an unreachable database fails the run");
        assert!(error.to_string().contains("was unreachable"), "{error}");
    }

    #[test]
    fn critical_data_is_never_shed() {
        let mut config = SinkConfig::new(unreachable(), Uuid::nil());
        config.queue = 1;
        config.shed_market_data = true;
        config.retry_for = Duration::from_millis(200);
        let writer = Writer::start(config, 0, registry());
        let order = |epoch: u64| Order {
            ts: epoch as i64,
            client_id: epoch,
            symbol: SymbolId(0),
            action: OrderAction::New,
            side: bot4_schemas::Side::Buy,
            kind: OrderKind::Market,
            price: Decimal::ZERO,
            trigger: Decimal::ZERO,
            qty: Decimal::ONE,
            tif: bot4_schemas::TimeInForce::Gtc,
            expire_ts: i64::MAX,
            reduces_exposure: false,
            reduce_only: false,
            oco: 0,
        };
        // Each send waits for room rather than shed; once the writer has given up on the
        // unreachable database, sends fail with its error.
        let mut outcomes = Vec::new();
        for epoch in 0..4u64 {
            outcomes.push(writer.send_rows(vec![(epoch, order(epoch))]));
        }
        assert!(
            outcomes.iter().all(|o| !matches!(o, Ok(false))),
            "{outcomes:?}"
        );
        assert!(writer.finish().is_err());
    }

    #[test]
    fn copy_context_names_the_row() {
        assert_eq!(
            copy_line("COPY ticks, line 3, column price: \"x\""),
            Some(3)
        );
        assert_eq!(copy_line("COPY fills, line 12"), Some(12));
        assert_eq!(copy_line("SQL function"), None);
    }
}
