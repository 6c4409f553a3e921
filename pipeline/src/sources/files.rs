//! Finding tick files, checking their schema, and cutting them into units of work.
//!
//! A unit is one Parquet row group or one CSV file. Units are numbered in file-path
//! order, then row-group order, and dealt out to workers by file (or by unit when there
//! are fewer files than workers; see [`InputPlan::for_worker`]). Every tick
//! gets `seq = file_index · 2⁴⁰ + row_in_file`, so its identity does not depend on which
//! worker reads it.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_schema::{DataType, TimeUnit};
use bot4_schemas::SymbolRegistry;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::statistics::Statistics;

use crate::PipelineError;

/// Bits of `seq` that number rows within a file.
pub const ROW_BITS: u32 = 40;

/// The columns a tick file must have.
const REQUIRED: [&str; 2] = ["ts", "symbol"];

/// What a unit reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitKind {
    /// One row group of a Parquet file, whose first row is `first_row` of the file.
    Parquet {
        /// Row group index.
        row_group: usize,
        /// Row number of its first row within the file.
        first_row: u64,
    },
    /// A whole CSV file.
    Csv,
}

/// One unit of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// The file.
    pub path: PathBuf,
    /// Index of the file in path order.
    pub file_index: u64,
    /// Row group or whole file.
    pub kind: UnitKind,
    /// Rows, where the file says.
    pub rows: Option<u64>,
    /// Earliest event time, where statistics say; the source opens a unit no earlier
    /// than the ticks before this time are read.
    pub min_ts: Option<i64>,
}

/// Every unit of an input, in order.
#[derive(Debug, Clone, Default)]
pub struct InputPlan {
    /// The units.
    pub units: Vec<Unit>,
}

impl InputPlan {
    /// The units worker `index` of `peers` reads. With at least as many files as workers,
    /// whole files are dealt out (file `f` to worker `f mod peers`): a folder of
    /// per-symbol files is then read by the workers that own those symbols. With fewer
    /// files, units (row groups) are dealt out instead, so that every worker reads.
    pub fn for_worker(&self, index: usize, peers: usize) -> Vec<Unit> {
        let files = self.units.last().map_or(0, |u| u.file_index as usize + 1);
        self.units
            .iter()
            .enumerate()
            .filter(|(i, u)| {
                let share = if files >= peers {
                    u.file_index as usize
                } else {
                    *i
                };
                share % peers == index
            })
            .map(|(_, u)| u.clone())
            .collect()
    }

    /// Rows over all units, where known.
    pub fn total_rows(&self) -> u64 {
        self.units.iter().filter_map(|u| u.rows).sum()
    }
}

/// The tick files under `input` (a file, or a folder searched recursively for
/// `.parquet` and `.csv` files, preferring its `ticks/` subfolder, leaving out the
/// instrument registry), cut into units.
pub fn plan_inputs(input: &Path, registry: Option<&Path>) -> Result<InputPlan, PipelineError> {
    let meta = std::fs::metadata(input).map_err(|e| PipelineError::io(input, e))?;
    let mut files = Vec::new();
    if meta.is_dir() {
        let ticks = input.join("ticks");
        collect_files(if ticks.is_dir() { &ticks } else { input }, &mut files)?;
        // The registry may sit among the tick files; it is not one.
        let explicit = registry.and_then(|r| r.canonicalize().ok());
        files.retain(|f| {
            f.file_name().is_none_or(|n| n != "instruments.csv")
                && (explicit.is_none() || f.canonicalize().ok() != explicit)
        });
        if files.is_empty() {
            return Err(PipelineError::Input {
                path: input.to_owned(),
                reason: "no .parquet or .csv tick files found".into(),
            });
        }
    } else {
        files.push(input.to_owned());
    }
    files.sort();
    if files.len() as u64 >= 1 << (64 - ROW_BITS) {
        return Err(PipelineError::Input {
            path: input.to_owned(),
            reason: "too many files".into(),
        });
    }
    let mut plan = InputPlan::default();
    for (file_index, path) in files.into_iter().enumerate() {
        match extension(&path).as_deref() {
            Some("parquet") => plan_parquet(&path, file_index as u64, &mut plan.units)?,
            Some("csv") => {
                check_csv_header(&path)?;
                plan.units.push(Unit {
                    path,
                    file_index: file_index as u64,
                    kind: UnitKind::Csv,
                    rows: None,
                    min_ts: None,
                });
            }
            _ => {
                return Err(PipelineError::Input {
                    path,
                    reason: "not a .parquet or .csv file".into(),
                })
            }
        }
    }
    Ok(plan)
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), PipelineError> {
    for entry in std::fs::read_dir(dir).map_err(|e| PipelineError::io(dir, e))? {
        let entry = entry.map_err(|e| PipelineError::io(dir, e))?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect_files(&path, out)?;
        } else if matches!(extension(&path).as_deref(), Some("parquet" | "csv")) {
            out.push(path);
        }
    }
    Ok(())
}

fn plan_parquet(path: &Path, file_index: u64, units: &mut Vec<Unit>) -> Result<(), PipelineError> {
    let file = File::open(path).map_err(|e| PipelineError::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| PipelineError::parquet(path, e))?;
    let schema = builder.schema().clone();
    for column in REQUIRED {
        if schema.field_with_name(column).is_err() {
            return Err(PipelineError::Input {
                path: path.to_owned(),
                reason: format!("no `{column}` column: not a tick file (see docs/architecture.md for the tick schema)"),
            });
        }
    }
    let has = |c: &str| schema.field_with_name(c).is_ok();
    if !(has("price") || has("bid_price")) {
        return Err(PipelineError::Input {
            path: path.to_owned(),
            reason: "neither `price` (trades) nor `bid_price` (quotes) columns".into(),
        });
    }
    let ts_factor = match schema.field_with_name("ts").map(|f| f.data_type().clone()) {
        Ok(DataType::Timestamp(TimeUnit::Second, _)) => 1_000_000_000,
        Ok(DataType::Timestamp(TimeUnit::Millisecond, _)) => 1_000_000,
        Ok(DataType::Timestamp(TimeUnit::Microsecond, _)) => 1_000,
        _ => 1,
    };
    let metadata = builder.metadata();
    let ts_leaf = metadata
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .position(|c| c.path().parts() == ["ts"]);
    let mut first_row = 0u64;
    for (row_group, rg) in metadata.row_groups().iter().enumerate() {
        let rows = rg.num_rows().max(0) as u64;
        let min_ts = ts_leaf
            .and_then(|leaf| rg.column(leaf).statistics())
            .and_then(|s| match s {
                Statistics::Int64(s) => s.min_opt().copied(),
                _ => None,
            })
            .and_then(|m| m.checked_mul(ts_factor));
        units.push(Unit {
            path: path.to_owned(),
            file_index,
            kind: UnitKind::Parquet {
                row_group,
                first_row,
            },
            rows: Some(rows),
            min_ts,
        });
        first_row += rows;
    }
    Ok(())
}

fn check_csv_header(path: &Path) -> Result<(), PipelineError> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| PipelineError::Input {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let headers = reader.headers().map_err(|e| PipelineError::Input {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    for column in REQUIRED {
        if !headers.iter().any(|h| h.trim() == column) {
            return Err(PipelineError::Input {
                path: path.to_owned(),
                reason: format!("no `{column}` column in the CSV header"),
            });
        }
    }
    Ok(())
}

/// The instrument registry: `explicit` if given, else `instruments.csv` in the input
/// folder (or beside the input file).
pub fn load_registry(
    input: &Path,
    explicit: Option<&Path>,
) -> Result<SymbolRegistry, PipelineError> {
    let path = match explicit {
        Some(p) => p.to_owned(),
        None if input.is_dir() => input.join("instruments.csv"),
        None => input
            .parent()
            .unwrap_or(Path::new("."))
            .join("instruments.csv"),
    };
    let text = std::fs::read_to_string(&path).map_err(|e| PipelineError::Input {
        path: path.clone(),
        reason: format!(
            "cannot read the instrument registry ({e}); give one with --instruments FILE \
             (CSV: symbol,tick_size,lot_size,min_notional)"
        ),
    })?;
    SymbolRegistry::from_csv(&text).map_err(|source| PipelineError::Schema { path, source })
}
