//! One worker's tick stream: its units, opened as time reaches them and merged in
//! `(ts, seq)` order.
//!
//! Invariant: the ticks handed out are in non-decreasing `(ts, seq)` order, provided each
//! unit is in non-decreasing `ts` order (checked: a unit that goes back in time is an
//! error naming its file and row).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fs::File;
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use bot4_schemas::{ArrowRecord, SymbolRegistry, Tick};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;

use super::files::{Unit, UnitKind, ROW_BITS};
use crate::PipelineError;

/// Rows decoded at a time from one unit.
const BATCH_ROWS: usize = 8192;

/// The tick columns read from files; others are ignored.
const TICK_COLUMNS: [&str; 10] = [
    "ts",
    "symbol",
    "kind",
    "price",
    "size",
    "side",
    "bid_price",
    "bid_size",
    "ask_price",
    "ask_size",
];

enum Batches {
    Parquet(ParquetRecordBatchReader),
    Csv(csv::Reader<File>),
}

/// An open unit: its decoded batch and position.
struct Cursor {
    unit: Unit,
    batches: Batches,
    ticks: Vec<Tick>,
    pos: usize,
    next_row: u64,
    last_ts: i64,
}

impl Cursor {
    fn open(unit: Unit) -> Result<Self, PipelineError> {
        let path = &unit.path;
        let (batches, first_row) = match unit.kind {
            UnitKind::Parquet {
                row_group,
                first_row,
            } => {
                let file = File::open(path).map_err(|e| PipelineError::io(path, e))?;
                let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                    .map_err(|e| PipelineError::parquet(path, e))?;
                let mask =
                    ProjectionMask::columns(builder.parquet_schema(), TICK_COLUMNS.iter().copied());
                let reader = builder
                    .with_row_groups(vec![row_group])
                    .with_projection(mask)
                    .with_batch_size(BATCH_ROWS)
                    .build()
                    .map_err(|e| PipelineError::parquet(path, e))?;
                (Batches::Parquet(reader), first_row)
            }
            UnitKind::Csv => {
                let reader = csv::ReaderBuilder::new()
                    .trim(csv::Trim::All)
                    .from_path(path)
                    .map_err(|e| PipelineError::Input {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
                (Batches::Csv(reader), 0)
            }
        };
        Ok(Self {
            unit,
            batches,
            ticks: Vec::new(),
            pos: 0,
            next_row: first_row,
            last_ts: i64::MIN,
        })
    }

    /// The next tick, decoding another batch when needed.
    fn peek(&mut self, registry: &SymbolRegistry) -> Result<Option<&Tick>, PipelineError> {
        if self.pos == self.ticks.len() && !self.refill(registry)? {
            return Ok(None);
        }
        Ok(self.ticks.get(self.pos))
    }

    fn refill(&mut self, registry: &SymbolRegistry) -> Result<bool, PipelineError> {
        let path = &self.unit.path;
        let batch = match &mut self.batches {
            Batches::Parquet(reader) => match reader.next() {
                None => return Ok(false),
                Some(batch) => batch.map_err(|e| PipelineError::Input {
                    path: path.clone(),
                    reason: e.to_string(),
                })?,
            },
            Batches::Csv(reader) => match csv_batch(reader, path, self.next_row)? {
                None => return Ok(false),
                Some(batch) => batch,
            },
        };
        let mut ticks =
            Tick::from_batch(&batch, registry).map_err(|source| PipelineError::Input {
                path: path.clone(),
                reason: format!("rows from {}: {source}", self.next_row),
            })?;
        for tick in ticks.iter_mut() {
            if tick.ts < self.last_ts {
                return Err(PipelineError::Input {
                    path: path.clone(),
                    reason: format!(
                        "row {}: ts {} is before the previous row's {}; tick files must be sorted by ts",
                        self.next_row, tick.ts, self.last_ts
                    ),
                });
            }
            self.last_ts = tick.ts;
            tick.seq = (self.unit.file_index << ROW_BITS) | self.next_row;
            self.next_row += 1;
        }
        self.ticks = ticks;
        self.pos = 0;
        Ok(!self.ticks.is_empty() || self.refill(registry)?)
    }
}

/// Read up to [`BATCH_ROWS`] CSV records as a batch: `ts` as integer nanoseconds, the
/// other tick columns as text for the schema's own parsing.
fn csv_batch(
    reader: &mut csv::Reader<File>,
    path: &std::path::Path,
    first_row: u64,
) -> Result<Option<RecordBatch>, PipelineError> {
    let bad = |reason: String| PipelineError::Input {
        path: path.to_owned(),
        reason,
    };
    let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let columns: Vec<(usize, &str)> = TICK_COLUMNS
        .iter()
        .filter_map(|c| headers.iter().position(|h| h == *c).map(|i| (i, *c)))
        .collect();
    let mut records = Vec::with_capacity(BATCH_ROWS);
    let mut record = csv::StringRecord::new();
    while records.len() < BATCH_ROWS {
        let more = reader
            .read_record(&mut record)
            .map_err(|e| bad(format!("row {}: {e}", first_row + records.len() as u64)))?;
        if !more {
            break;
        }
        records.push(record.clone());
    }
    if records.is_empty() {
        return Ok(None);
    }
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (index, name) in columns {
        if name == "ts" {
            let values = records
                .iter()
                .enumerate()
                .map(|(row, r)| {
                    let text = r.get(index).unwrap_or("");
                    text.parse::<i64>().map_err(|_| {
                        bad(format!(
                            "row {}: ts `{text}` is not integer nanoseconds",
                            first_row + row as u64
                        ))
                    })
                })
                .collect::<Result<Vec<i64>, _>>()?;
            fields.push(Field::new(name, DataType::Int64, false));
            arrays.push(Arc::new(Int64Array::from(values)));
        } else {
            let values: StringArray = records
                .iter()
                .map(|r| r.get(index).filter(|v| !v.is_empty()))
                .collect();
            fields.push(Field::new(name, DataType::Utf8, true));
            arrays.push(Arc::new(values));
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map(Some)
        .map_err(|e| bad(e.to_string()))
}

/// The merged tick stream of one worker's units.
pub struct TickSource {
    registry: Arc<SymbolRegistry>,
    waiting: VecDeque<Unit>,
    /// Units being read; a finished unit's slot is emptied so its buffers are freed.
    open: Vec<Option<Cursor>>,
    heap: BinaryHeap<Reverse<((i64, u64), usize)>>,
}

impl std::fmt::Debug for TickSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TickSource")
            .field("waiting", &self.waiting.len())
            .field("open", &self.open.iter().flatten().count())
            .finish()
    }
}

impl TickSource {
    /// A source over `units`, opened lazily in order of their earliest time.
    pub fn new(mut units: Vec<Unit>, registry: Arc<SymbolRegistry>) -> Self {
        units.sort_by_key(|u| (u.min_ts.unwrap_or(i64::MIN), u.file_index, unit_order(u)));
        Self {
            registry,
            waiting: units.into(),
            open: Vec::new(),
            heap: BinaryHeap::new(),
        }
    }

    /// Append up to `max` further ticks to `out`, in order; returns how many (0 at end).
    pub fn fill(&mut self, out: &mut Vec<Tick>, max: usize) -> Result<usize, PipelineError> {
        let mut n = 0;
        while n < max {
            self.open_due()?;
            let Some(Reverse((_, index))) = self.heap.pop() else {
                break;
            };
            let slot = &mut self.open[index];
            let cursor = slot.as_mut().expect("a unit in the heap is open");
            out.push(cursor.ticks[cursor.pos]);
            cursor.pos += 1;
            n += 1;
            match cursor.peek(&self.registry)? {
                Some(next) => self.heap.push(Reverse((next.key(), index))),
                None => *slot = None,
            }
        }
        Ok(n)
    }

    /// Open every waiting unit that may hold ticks at or before the earliest open tick.
    fn open_due(&mut self) -> Result<(), PipelineError> {
        while let Some(unit) = self.waiting.front() {
            let head = self.heap.peek().map(|Reverse(((ts, _), _))| *ts);
            let due = match (head, unit.min_ts) {
                (None, _) | (_, None) => true,
                (Some(head), Some(min)) => min <= head,
            };
            if !due {
                break;
            }
            let unit = self.waiting.pop_front().expect("front was Some");
            let mut cursor = Cursor::open(unit)?;
            let index = self.open.len();
            if let Some(first) = cursor.peek(&self.registry)? {
                self.heap.push(Reverse((first.key(), index)));
                self.open.push(Some(cursor));
            } else {
                self.open.push(None);
            }
        }
        Ok(())
    }
}

fn unit_order(unit: &Unit) -> usize {
    match unit.kind {
        UnitKind::Parquet { row_group, .. } => row_group,
        UnitKind::Csv => 0,
    }
}
