//! Parquet part files per worker and record type, and the sink operator that fills them.

use std::cell::RefCell;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use arrow_schema::SchemaRef;
use bot4_schemas::{ArrowRecord, SymbolRegistry};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::builder_rc::OperatorBuilder;
use timely::dataflow::StreamVec;
use timely::progress::operate::FrontierInterest;

use crate::PipelineError;

/// Rows buffered before they are encoded as one Arrow batch.
const BATCH_ROWS: usize = 8 * 1024;

/// Rows per Parquet row group: what a writer holds in memory before it flushes.
const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Rows per part file of a worker. A Parquet writer keeps the metadata of every row group
/// it has written until it closes the file, so a long replay rolls over to a new file
/// rather than let memory grow with the input.
const FILE_ROWS: u64 = 16 * ROW_GROUP_ROWS as u64;

/// Writes one worker's records of one type to `<dir>/<table>/part-<worker>-<n>.parquet`,
/// starting a new file every [`FILE_ROWS`] rows; or, made with
/// [`PartWriter::create_at`], to one given file. A file appears under its final name
/// only when it is complete.
#[derive(Debug)]
pub struct PartWriter<T> {
    path: PathBuf,
    partial: PathBuf,
    writer: Option<ArrowWriter<File>>,
    rows: Vec<T>,
    written: u64,
    in_file: u64,
    /// `(table folder, worker, next file number)` when rolling over files.
    roll: Option<(PathBuf, usize, u32)>,
    registry: Arc<SymbolRegistry>,
}

/// The name of file `n` of worker `worker`'s part of a table.
pub fn part_file_name(worker: usize, n: u32) -> String {
    format!("part-{worker:05}-{n:04}.parquet")
}

impl<T: ArrowRecord> PartWriter<T> {
    /// A writer for worker `worker`'s part of table `T::NAME` under `dir`.
    pub fn create(
        dir: &Path,
        worker: usize,
        registry: Arc<SymbolRegistry>,
    ) -> Result<Self, PipelineError> {
        let table = dir.join(T::NAME);
        let mut writer = Self::create_at(&table.join(part_file_name(worker, 0)), registry)?;
        writer.roll = Some((table, worker, 1));
        Ok(writer)
    }

    /// A writer for the one file `path`, written as a hidden `.partial` sibling until
    /// [`PartWriter::finish`].
    pub fn create_at(path: &Path, registry: Arc<SymbolRegistry>) -> Result<Self, PipelineError> {
        let (partial, writer) = open(path, T::schema())?;
        Ok(Self {
            path: path.to_owned(),
            partial,
            writer: Some(writer),
            rows: Vec::with_capacity(BATCH_ROWS),
            written: 0,
            in_file: 0,
            roll: None,
            registry,
        })
    }

    /// Add rows, encoding a batch whenever enough are buffered.
    pub fn push(&mut self, rows: &[T]) -> Result<(), PipelineError>
    where
        T: Clone,
    {
        self.rows.extend_from_slice(rows);
        if self.rows.len() >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), PipelineError> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let batch =
            T::to_batch(&self.rows, &self.registry).map_err(|source| PipelineError::Encode {
                table: T::NAME,
                source,
            })?;
        let writer = self.writer.as_mut().ok_or_else(|| {
            PipelineError::Dataflow(format!("{}: write after finish", self.path.display()))
        })?;
        writer
            .write(&batch)
            .map_err(|e| PipelineError::parquet(&self.partial, e))?;
        self.written += self.rows.len() as u64;
        self.in_file += self.rows.len() as u64;
        self.rows.clear();
        if self.in_file >= FILE_ROWS {
            if let Some((table, worker, n)) = self.roll.clone() {
                self.close_file()?;
                let path = table.join(part_file_name(worker, n));
                let (partial, writer) = open(&path, T::schema())?;
                (self.path, self.partial, self.writer) = (path, partial, Some(writer));
                self.in_file = 0;
                self.roll = Some((table, worker, n + 1));
            }
        }
        Ok(())
    }

    /// Close the current file and give it its final name.
    fn close_file(&mut self) -> Result<(), PipelineError> {
        if let Some(writer) = self.writer.take() {
            let file = writer
                .into_inner()
                .map_err(|e| PipelineError::parquet(&self.partial, e))?;
            file.sync_all()
                .map_err(|e| PipelineError::io(&self.partial, e))?;
            std::fs::rename(&self.partial, &self.path)
                .map_err(|e| PipelineError::io(&self.path, e))?;
        }
        Ok(())
    }

    /// Write what is buffered, close the file and give it its final name. Returns the
    /// number of rows written over all files.
    pub fn finish(&mut self) -> Result<u64, PipelineError> {
        self.flush()?;
        self.close_file()?;
        Ok(self.written)
    }
}

/// Create `path`'s hidden `.partial` sibling and a Parquet writer on it for rows of
/// `schema`, as every part file is written (also by `bot4 export`, whose columns are
/// known only at run time).
pub(crate) fn open(
    path: &Path,
    schema: SchemaRef,
) -> Result<(PathBuf, ArrowWriter<File>), PipelineError> {
    let folder = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder).map_err(|e| PipelineError::io(folder, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let partial = folder.join(format!(".{name}.partial"));
    let file = File::create(&partial).map_err(|e| PipelineError::io(&partial, e))?;
    let level = ZstdLevel::try_new(1).map_err(|e| PipelineError::parquet(&partial, e))?;
    // Dictionaries pay off for the few distinct strings (symbols, sides, statuses), not
    // for prices and quantities, which are nearly all distinct.
    let mut props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_dictionary_enabled(false);
    for field in schema.fields() {
        let column = || ColumnPath::from(field.name().as_str());
        match field.data_type() {
            arrow_schema::DataType::Utf8 => {
                props = props.set_column_dictionary_enabled(column(), true);
            }
            // A decimal's min/max statistics are slices of the encoded batch, and they
            // keep that whole batch alive until the file closes: ~7 bytes a tick row,
            // growing with the input. Prices and quantities are seldom filtered on, so
            // they go without statistics; times, sequences and symbols keep theirs.
            arrow_schema::DataType::Decimal128(..) => {
                props = props.set_column_statistics_enabled(column(), EnabledStatistics::None);
            }
            _ => {}
        }
    }
    let writer = ArrowWriter::try_new(file, schema, Some(props.build()))
        .map_err(|e| PipelineError::parquet(&partial, e))?;
    Ok((partial, writer))
}

/// The first error any sink of this worker met; the run fails with it.
pub type SinkErrors = Rc<RefCell<Option<PipelineError>>>;

/// A sink's state: its file and where to report a failure. The file is finished when the
/// operator is dropped, which timely does once the dataflow is complete, so the sink
/// needs no frontier notifications (it is scheduled only when data arrives).
struct SinkState<T: ArrowRecord + Clone> {
    writer: PartWriter<T>,
    errors: SinkErrors,
    failed: bool,
}

impl<T: ArrowRecord + Clone> SinkState<T> {
    fn push(&mut self, rows: &[T]) {
        if self.failed {
            return;
        }
        if let Err(e) = self.writer.push(rows) {
            self.fail(e);
        }
    }

    fn fail(&mut self, e: PipelineError) {
        self.failed = true;
        self.errors.borrow_mut().get_or_insert(e);
    }
}

impl<T: ArrowRecord + Clone> Drop for SinkState<T> {
    fn drop(&mut self) {
        if !self.failed {
            if let Err(e) = self.writer.finish() {
                self.fail(e);
            }
        }
    }
}

/// Write a stream to worker `worker`'s Parquet part file under `dir`, finishing the
/// file when the dataflow ends. A failure (to create the file, or later to write it) is
/// recorded in `errors` and later rows are dropped; the run then fails and nothing of it
/// is committed. Building the sink never fails, so every worker builds the same graph.
pub fn sink_parquet<T>(
    stream: StreamVec<'_, u64, T>,
    dir: &Path,
    worker: usize,
    registry: Arc<SymbolRegistry>,
    errors: SinkErrors,
) where
    T: ArrowRecord + Clone + 'static,
{
    let mut builder = OperatorBuilder::new(format!("Sink({})", T::NAME), stream.scope());
    let mut input = builder.new_input(stream, Pipeline);
    builder.set_notify_for(0, FrontierInterest::Never);
    let mut state = match PartWriter::create(dir, worker, registry) {
        Ok(writer) => Some(SinkState {
            writer,
            errors,
            failed: false,
        }),
        Err(e) => {
            errors.borrow_mut().get_or_insert(e);
            None
        }
    };
    builder.build(move |_capabilities| {
        move |_frontiers| {
            input.for_each(|_cap, data| {
                if let Some(state) = state.as_mut() {
                    state.push(data);
                }
            });
        }
    });
}
