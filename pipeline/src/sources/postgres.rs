//! Ticks stored in the database: a run's `ticks` rows, selected by symbol and time,
//! read back in the graph's own order `(ts, seq)`.
//!
//! Each worker reads the symbols dealt to it (every `peers`-th of the sorted list) on a
//! thread and connection of its own, a time window at a time, so that the database
//! sorts small windows and the worker holds a bounded number of ticks.

use std::collections::VecDeque;
use std::sync::mpsc;
use std::sync::Arc;

use bot4_schemas::{Decimal, Nanos, Side, SymbolRegistry, Tick, TickKind};
use futures_util::TryStreamExt;
use sqlx::postgres::PgConnection;
use uuid::Uuid;

use crate::database::{self, failed, Database};
use crate::PipelineError;

/// Rows a time window should hold, on average, when the run's ticks are spread evenly.
const ROWS_PER_WINDOW: u64 = 50_000;

/// Chunks of ticks a reader may have ready ahead of its worker.
const CHUNKS_AHEAD: usize = 8;

/// Ticks per chunk handed to the worker.
const CHUNK: usize = 4096;

/// Which stored ticks to replay.
#[derive(Debug, Clone)]
pub struct DatabaseInput {
    /// `postgres://…`
    pub url: String,
    /// The run whose ticks to read; default: the latest run with ticks in the range.
    pub run: Option<Uuid>,
    /// Only these symbols (all of the run's when empty).
    pub symbols: Vec<String>,
    /// From this time (Unix nanoseconds), inclusive.
    pub start: Nanos,
    /// To this time, exclusive.
    pub end: Nanos,
}

/// A resolved selection: the run, its symbols, the window width and the row count.
#[derive(Debug, Clone)]
pub struct DatabasePlan {
    database: Database,
    run: Uuid,
    symbols: Vec<String>,
    start: Nanos,
    end: Nanos,
    window: Nanos,
    rows: u64,
}

impl DatabasePlan {
    /// Resolve `input` against the database: the run (given, or the latest with ticks
    /// in the range), its instruments, and how many ticks the selection holds.
    pub fn resolve(input: &DatabaseInput) -> Result<(Self, SymbolRegistry), PipelineError> {
        if input.start >= input.end {
            return Err(PipelineError::Config(format!(
                "--start must be before --end ({} >= {})",
                input.start, input.end
            )));
        }
        let database = Database::new(&input.url)?;
        database::with_connection(&database, async |conn| {
            let run = match input.run {
                Some(run) => run,
                None => latest_run(conn, input).await?,
            };
            let registry = database::run_instruments(conn, run).await?;
            let mut symbols = if input.symbols.is_empty() {
                registry.iter().map(|(_, i)| i.symbol.clone()).collect()
            } else {
                input.symbols.clone()
            };
            symbols.sort();
            symbols.dedup();
            if let Some(unknown) = symbols.iter().find(|s| registry.id(s).is_none()) {
                return Err(PipelineError::Config(format!(
                    "run {run} has no instrument `{unknown}`"
                )));
            }
            let rows: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM ticks WHERE run_id = $1 AND symbol = ANY($2) \
                 AND ts >= bot4_ts($3) AND ts <= bot4_ts($4) AND ts_ns >= $3 AND ts_ns < $4",
            )
            .bind(run)
            .bind(&symbols)
            .bind(input.start)
            .bind(input.end)
            .fetch_one(&mut *conn)
            .await
            .map_err(failed("counting the ticks to replay"))?;
            let rows = u64::try_from(rows).unwrap_or(0);
            if rows == 0 {
                return Err(PipelineError::Config(format!(
                    "run {run} has no ticks of {} in [{}, {})",
                    symbols.join(","),
                    input.start,
                    input.end
                )));
            }
            let span = (input.end - input.start) as u128;
            let window = (span * u128::from(ROWS_PER_WINDOW) / u128::from(rows)).clamp(
                bot4_schemas::NANOS_PER_SECOND as u128,
                86_400 * bot4_schemas::NANOS_PER_SECOND as u128,
            ) as Nanos;
            tracing::info!(run = %run, rows, symbols = symbols.len(), window_ns = window, "replaying ticks from the database");
            Ok((
                Self {
                    database: database.clone(),
                    run,
                    symbols,
                    start: input.start,
                    end: input.end,
                    window,
                    rows,
                },
                registry,
            ))
        })
    }

    /// The run whose ticks are read.
    pub fn run(&self) -> Uuid {
        self.run
    }

    /// Ticks in the selection.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// What the selection is, for the run registry.
    pub fn describe(&self) -> String {
        format!(
            "{} run {} symbols {} ns [{}, {})",
            self.database.describe(),
            self.run,
            self.symbols.join(","),
            self.start,
            self.end
        )
    }

    /// The symbols worker `index` of `peers` reads.
    fn symbols_for(&self, index: usize, peers: usize) -> Vec<String> {
        self.symbols
            .iter()
            .enumerate()
            .filter(|(i, _)| i % peers.max(1) == index)
            .map(|(_, s)| s.clone())
            .collect()
    }

    /// Worker `index`'s ticks, read on a thread of its own.
    pub fn source(
        &self,
        index: usize,
        peers: usize,
        registry: Arc<SymbolRegistry>,
    ) -> DatabaseTicks {
        let symbols = self.symbols_for(index, peers);
        let (sender, receiver) = mpsc::sync_channel(CHUNKS_AHEAD);
        if symbols.is_empty() {
            return DatabaseTicks {
                receiver,
                ready: VecDeque::new(),
            };
        }
        let plan = self.clone();
        let on_failure = sender.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("bot4-db-reader-{index}"))
            .spawn(move || {
                let result = database::runtime()
                    .and_then(|rt| rt.block_on(read_ticks(&plan, &symbols, &registry, &sender)));
                if let Err(e) = result {
                    // The worker may have stopped listening; then it has its own error.
                    let _ = sender.send(Err(e));
                }
            });
        if let Err(e) = spawned {
            let _ = on_failure.send(Err(PipelineError::Dataflow(format!(
                "starting the database reader of worker {index}: {e}"
            ))));
        }
        DatabaseTicks {
            receiver,
            ready: VecDeque::new(),
        }
    }
}

/// The latest run with ticks of the selection in its range.
async fn latest_run(conn: &mut PgConnection, input: &DatabaseInput) -> Result<Uuid, PipelineError> {
    let run: Option<Uuid> = sqlx::query_scalar(
        "SELECT r.run_id FROM runs r WHERE EXISTS ( \
             SELECT 1 FROM ticks t WHERE t.run_id = r.run_id \
             AND (cardinality($1::text[]) = 0 OR t.symbol = ANY($1)) \
             AND t.ts >= bot4_ts($2) AND t.ts <= bot4_ts($3) \
             AND t.ts_ns >= $2 AND t.ts_ns < $3) \
         ORDER BY r.started DESC, r.run_id LIMIT 1",
    )
    .bind(&input.symbols)
    .bind(input.start)
    .bind(input.end)
    .fetch_optional(&mut *conn)
    .await
    .map_err(failed("finding the run whose ticks to replay"))?;
    run.ok_or_else(|| {
        PipelineError::Config(format!(
            "no run in the database has ticks{} in [{}, {}) (ns)",
            if input.symbols.is_empty() {
                String::new()
            } else {
                format!(" of {}", input.symbols.join(","))
            },
            input.start,
            input.end
        ))
    })
}

/// A stored tick: its decimals as text, read exactly (see `database::exact_decimal`).
type Row = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Stream the ticks of `symbols` window by window into `sender`, in `(ts, seq)` order.
async fn read_ticks(
    plan: &DatabasePlan,
    symbols: &[String],
    registry: &SymbolRegistry,
    sender: &mpsc::SyncSender<Result<Vec<Tick>, PipelineError>>,
) -> Result<(), PipelineError> {
    let mut conn = plan.database.connect().await?;
    let mut lo = plan.start;
    while lo < plan.end {
        let hi = lo.saturating_add(plan.window).min(plan.end);
        let mut rows = sqlx::query_as::<_, Row>(
            "SELECT ts_ns, seq, symbol, kind, price::text, size::text, side, \
                    bid_price::text, bid_size::text, ask_price::text, ask_size::text \
             FROM ticks WHERE run_id = $1 AND symbol = ANY($2) \
             AND ts >= bot4_ts($3) AND ts <= bot4_ts($4) AND ts_ns >= $3 AND ts_ns < $4 \
             ORDER BY ts_ns, seq",
        )
        .bind(plan.run)
        .bind(symbols)
        .bind(lo)
        .bind(hi)
        .fetch(&mut conn);
        let mut chunk = Vec::with_capacity(CHUNK);
        while let Some(row) = rows
            .try_next()
            .await
            .map_err(failed("reading ticks from the database"))?
        {
            chunk.push(tick(row, registry)?);
            if chunk.len() == CHUNK
                && sender
                    .send(Ok(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK))))
                    .is_err()
            {
                return Ok(());
            }
        }
        if !chunk.is_empty() && sender.send(Ok(chunk)).is_err() {
            return Ok(());
        }
        lo = hi;
    }
    Ok(())
}

/// A stored row as a tick; a row the schema's checks should have refused is an error
/// naming it.
fn tick(row: Row, registry: &SymbolRegistry) -> Result<Tick, PipelineError> {
    let (ts, seq, symbol, kind, price, size, side, bid, bid_size, ask, ask_size) = row;
    let bad = |what: &str| {
        PipelineError::Config(format!(
            "the database holds a malformed tick (seq {seq}, {symbol} at {ts} ns): {what}"
        ))
    };
    let symbol_id = registry
        .id(&symbol)
        .ok_or_else(|| bad("its symbol is not among the run's instruments"))?;
    let number = |text: Option<String>| -> Result<Option<Decimal>, PipelineError> {
        text.map(|t| {
            database::exact_decimal(&t)
                .ok_or_else(|| bad(&format!("{t} has more digits than a decimal holds")))
        })
        .transpose()
    };
    let (price, size) = (number(price)?, number(size)?);
    let (bid, bid_size, ask, ask_size) = (
        number(bid)?,
        number(bid_size)?,
        number(ask)?,
        number(ask_size)?,
    );
    let kind = match (
        kind.as_str(),
        price,
        size,
        side,
        bid,
        bid_size,
        ask,
        ask_size,
    ) {
        ("trade", Some(price), Some(size), Some(side), ..) => TickKind::Trade {
            price,
            size,
            aggressor: Side::parse(&side).ok_or_else(|| bad("unknown side"))?,
        },
        ("quote", _, _, _, Some(bid), Some(bid_size), Some(ask), Some(ask_size)) => {
            TickKind::Quote {
                bid,
                bid_size,
                ask,
                ask_size,
            }
        }
        ("depth", Some(price), Some(size), Some(side), ..) => TickKind::Depth {
            side: Side::parse(&side).ok_or_else(|| bad("unknown side"))?,
            price,
            size,
        },
        _ => return Err(bad("its kind and price columns disagree")),
    };
    Ok(Tick {
        ts,
        seq: u64::try_from(seq).map_err(|_| bad("negative seq"))?,
        symbol: symbol_id,
        kind,
    })
}

/// One worker's ticks from the database.
#[derive(Debug)]
pub struct DatabaseTicks {
    receiver: mpsc::Receiver<Result<Vec<Tick>, PipelineError>>,
    ready: VecDeque<Tick>,
}

impl DatabaseTicks {
    /// Append up to `max` further ticks to `out`, in order; returns how many (0 at end).
    pub fn fill(&mut self, out: &mut Vec<Tick>, max: usize) -> Result<usize, PipelineError> {
        let mut n = 0;
        while n < max {
            if self.ready.is_empty() {
                match self.receiver.recv() {
                    Ok(Ok(chunk)) => self.ready.extend(chunk),
                    Ok(Err(e)) => return Err(e),
                    // The reader has finished.
                    Err(mpsc::RecvError) => break,
                }
            }
            let take = (max - n).min(self.ready.len());
            out.extend(self.ready.drain(..take));
            n += take;
        }
        Ok(n)
    }
}
