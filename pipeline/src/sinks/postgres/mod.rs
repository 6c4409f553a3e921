//! The database sink: every record type the graph writes to Parquet also goes to its
//! PostgreSQL / TimescaleDB table, by binary `COPY`.
//!
//! Each worker has one [`Writer`]: a thread with its own connection and a bounded queue.
//! The sink operator of each table keeps the rows of every epoch until the epoch is
//! complete (the input frontier has passed it), then gathers complete epochs into a
//! batch of at most `batch_rows` rows, or whatever it has after `flush_after` of wall
//! time or at the end of the input, and queues it. The writer commits each batch in one
//! transaction together with its ledger row in `run_epochs`
//! `(run, table, worker, first epoch)`, so that a batch re-sent after a lost
//! acknowledgement is skipped whole and a batch the database refuses leaves nothing.
//!
//! Back-pressure: when the queue is full a worker waits (the dataflow slows down and
//! the replay's input throttle stops reading), except for market data (ticks, bar
//! features, signals) when the run sheds it, which is then dropped and counted.

mod copy;
mod writer;

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Instant;

use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::builder_rc::OperatorBuilder;
use timely::dataflow::StreamVec;
use timely::progress::operate::FrontierInterest;

pub use copy::{copy_statement, CopyBuf, PgRecord, RowContext};
pub use writer::{SinkConfig, Writer, WriterStats};

pub(crate) use self::writer::{AnyBatch, Batch};
use super::SinkErrors;

/// A worker's database writer and how its sinks batch, when a database is configured.
#[derive(Debug, Clone)]
pub struct DatabaseSink {
    /// The worker's writer.
    pub writer: Rc<Writer>,
    /// Batching and the policy of a full queue.
    pub config: SinkConfig,
}

/// Write a stream to its table through this worker's `writer`. A writer that has
/// stopped on an error records it in `errors`, and the run fails with it.
pub fn sink_postgres<T: PgRecord>(
    stream: StreamVec<'_, u64, T>,
    sink: &DatabaseSink,
    errors: SinkErrors,
) {
    let mut builder = OperatorBuilder::new(format!("Database({})", T::TABLE), stream.scope());
    let mut input = builder.new_input(stream, Pipeline);
    builder.set_notify_for(0, FrontierInterest::Always);
    let writer = Rc::clone(&sink.writer);
    let (batch_rows, flush_after) = (sink.config.batch_rows.max(1), sink.config.flush_after);
    let mut state = SinkState::<T> {
        open: BTreeMap::new(),
        batch: Vec::new(),
        since: None,
        stopped: false,
    };
    builder.build(move |_capabilities| {
        move |frontiers| {
            input.for_each(|cap, data| {
                // Every message of this graph is sent under a capability.
                if let Some(&epoch) = cap.least() {
                    state.open.entry(epoch).or_default().append(data);
                }
            });
            if state.stopped {
                state.open.clear();
                return;
            }
            let frontier = frontiers[0].frontier().first().copied();
            // Epochs before the frontier are complete: no more rows will arrive for them.
            while let Some(entry) = state.open.first_entry() {
                if frontier.is_some_and(|f| *entry.key() >= f) {
                    break;
                }
                let (epoch, rows) = entry.remove_entry();
                state.since.get_or_insert_with(Instant::now);
                state.batch.extend(rows.into_iter().map(|r| (epoch, r)));
                if state.batch.len() >= batch_rows {
                    state.send(&writer, &errors);
                }
            }
            let due = state.since.is_some_and(|t| t.elapsed() >= flush_after);
            if !state.batch.is_empty() && (frontier.is_none() || due) {
                state.send(&writer, &errors);
            }
        }
    });
}

/// One table's rows on one worker: open epochs, and complete ones not yet sent.
struct SinkState<T> {
    open: BTreeMap<u64, Vec<T>>,
    batch: Vec<(u64, T)>,
    /// When the oldest row of `batch` became complete.
    since: Option<Instant>,
    /// The writer has stopped: later rows are dropped, the run fails.
    stopped: bool,
}

impl<T: PgRecord> SinkState<T> {
    fn send(&mut self, writer: &Writer, errors: &SinkErrors) {
        self.since = None;
        // Shed market data is counted and warned of by the writer.
        if let Err(failure) = writer.send_rows(std::mem::take(&mut self.batch)) {
            self.stopped = true;
            errors.borrow_mut().get_or_insert(failure);
        }
    }
}
