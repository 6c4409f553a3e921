//! `bot4 export`: the rows of one time-series table of the database, over a time range,
//! as Parquet for notebooks, Hive-partitioned by date and symbol.
//!
//! `OUT/<table>/date=YYYY-MM-DD/symbol=SYM/part-NNNN.parquet` (without the `symbol=`
//! level for the tables that have no symbol: `equity`, `control`, `audit`), the date
//! being that of `ts` in UTC. The columns come from the database's catalog, so whatever a migration
//! adds comes out too: `numeric(38,12)` as `decimal(38,12)` (exact: a value of more
//! significant digits than Bot4's decimals hold, 28, is an error), `bigint`, `integer`
//! and `smallint` as `int64`, `int32` and `int16`, `double precision` and `real` as
//! `float64` and `float32`, `boolean`, `text` and `uuid` (as text). A `timestamptz`
//! column `ts` (or `X_ts`) comes out as `timestamp[ns, UTC]` named `ts` (or `X`), from
//! its exact twin `ts_ns` (or `X_ns`), which is not written again. The `symbol` column
//! stays in the files, for readers that ignore the partitioning.
//!
//! Memory stays flat whatever the range: the rows are read one UTC day at a time, each
//! day by one streamed query ordered by symbol, then `ts_ns`, then the table's unique
//! key (the order of the rows within each file), and written a batch at a time; a
//! partition rolls over to a new part file every [`PART_ROWS`] rows.
//!
//! Nothing is half-written: the files go to a hidden staging folder
//! `OUT/.bot4-export-<table>.staging/`, each under a hidden `.partial` name until it is
//! complete, and the table's folder is renamed into place only when every file is. An
//! export leaves the marker `OUT/.bot4-export-<table>.json` (what it exported) beside
//! the folder; an existing `OUT/<table>` is replaced by a new export only when that
//! marker says it is an earlier export, and refused otherwise (a replay's output, say).
//! An empty selection writes nothing and leaves an earlier export as it was.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Decimal128Builder, Float32Builder, Float64Builder, Int16Builder, Int32Builder,
    Int64Builder, StringBuilder, TimestampNanosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use bot4_schemas::{
    to_scaled_i128, Nanos, SchemaError, ARROW_DECIMAL_PRECISION, ARROW_DECIMAL_SCALE,
    NANOS_PER_SECOND,
};
use futures_util::TryStreamExt;
use parquet::arrow::ArrowWriter;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::Row;
use uuid::Uuid;

use crate::database::SERIES_TABLES;
use crate::database::{self, failed, Database};
use crate::sinks::{open_parquet_file, write_atomic};
use crate::PipelineError;

/// Rows per part file of a partition: a Parquet writer keeps the metadata of every row
/// group it wrote until the file closes, so a long partition rolls over to a new file.
pub const PART_ROWS: u64 = 1024 * 1024;

/// Rows decoded before they are encoded as one Arrow batch.
const BATCH_ROWS: usize = 8 * 1024;

const DAY_NS: Nanos = 86_400 * NANOS_PER_SECOND;

/// The one PostgreSQL type that becomes `decimal(38,12)`.
const DECIMAL_TYPE: &str = "numeric(38,12)";

/// What `bot4 export` was asked.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// `postgres://…`
    pub url: String,
    /// One of [`SERIES_TABLES`].
    pub table: String,
    /// From this time (Unix nanoseconds), inclusive.
    pub start: Nanos,
    /// To this time, exclusive.
    pub end: Nanos,
    /// The folder that gets `<table>/`.
    pub out: PathBuf,
    /// Only the rows of this run (default: every run's).
    pub run: Option<Uuid>,
    /// Only these symbols (default: all); only for tables with a `symbol` column.
    pub symbols: Vec<String>,
    /// Rows per part file ([`PART_ROWS`]).
    pub part_rows: u64,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    /// The table.
    pub table: &'static str,
    /// Rows written.
    pub rows: u64,
    /// Part files written.
    pub files: u64,
    /// `OUT/<table>`.
    pub folder: PathBuf,
    /// Whether an earlier export in the folder was replaced.
    pub replaced: bool,
}

impl ExportReport {
    /// The command's one-line summary.
    pub fn to_text(&self) -> String {
        if self.rows == 0 {
            return format!(
                "exported 0 rows of {}: none in the range, nothing written",
                self.table
            );
        }
        format!(
            "exported {} rows of {} in {} file{} to {}{}",
            self.rows,
            self.table,
            self.files,
            if self.files == 1 { "" } else { "s" },
            self.folder.display(),
            if self.replaced {
                " (replacing an earlier export)"
            } else {
                ""
            }
        )
    }
}

/// Export `opts.table` over `[opts.start, opts.end)` into `opts.out`.
pub fn export(opts: &ExportOptions) -> Result<ExportReport, PipelineError> {
    let table = export_table(&opts.table)?;
    if opts.start >= opts.end {
        return Err(PipelineError::Config(format!(
            "--start must be before --end ({} >= {} ns)",
            opts.start, opts.end
        )));
    }
    let mut symbols: Vec<String> = opts
        .symbols
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    symbols.sort();
    symbols.dedup();
    let mut target = Target::new(&opts.out, table);
    target.check()?;
    let db = Database::new(&opts.url)?;
    tracing::info!(
        table,
        start_ns = opts.start,
        end_ns = opts.end,
        run = ?opts.run,
        symbols = symbols.len(),
        database = %db.describe(),
        "exporting"
    );
    let written = database::with_connection(&db, async |conn| {
        let plan = Plan::read(&mut *conn, table).await?;
        plan.check_filters(opts.run, &symbols)?;
        target.prepare()?;
        let mut sink = Sink::new(&plan, target.new_folder(), opts.part_rows)?;
        for window in day_windows(opts.start, opts.end) {
            let before = sink.rows;
            write_day(&mut *conn, &plan, &mut sink, window, opts.run, &symbols).await?;
            let rows = sink.rows - before;
            tracing::debug!(table, date = %date_text(window.0), rows, "exported a day");
        }
        Ok((sink.rows, sink.files))
    });
    let (rows, files) = match written {
        Ok(counts) => counts,
        Err(e) => {
            target.abandon();
            return Err(e);
        }
    };
    let mut report = ExportReport {
        table,
        rows,
        files,
        folder: target.folder(),
        replaced: false,
    };
    if rows == 0 {
        target.abandon();
        tracing::info!(table, "nothing to export");
        return Ok(report);
    }
    let marker = serde_json::json!({
        "table": table,
        "start_ns": opts.start,
        "end_ns": opts.end,
        "run": opts.run.map(|r| r.to_string()),
        "symbols": symbols,
        "rows": rows,
        "files": files,
    });
    report.replaced = match target.commit(&marker) {
        Ok(replaced) => replaced,
        Err(e) => {
            target.abandon();
            return Err(e);
        }
    };
    tracing::info!(table, rows, files, folder = %report.folder.display(), "exported");
    Ok(report)
}

/// `name` if it is one of [`SERIES_TABLES`]; an error listing them otherwise.
fn export_table(name: &str) -> Result<&'static str, PipelineError> {
    SERIES_TABLES
        .into_iter()
        .find(|t| *t == name)
        .ok_or_else(|| {
            PipelineError::Config(format!(
                "--table `{name}` is not a table bot4 exports; choose one of {}",
                SERIES_TABLES.join(", ")
            ))
        })
}

/// Each UTC day that meets `[start, end)`, with the part of the range within it:
/// `(day number since 1970-01-01, from, to)`.
fn day_windows(start: Nanos, end: Nanos) -> impl Iterator<Item = (i64, Nanos, Nanos)> {
    let first = start.div_euclid(DAY_NS);
    let last = if end > start {
        (end - 1).div_euclid(DAY_NS)
    } else {
        first - 1
    };
    (first..=last).map(move |day| {
        let lo = day.saturating_mul(DAY_NS).max(start);
        let hi = day.saturating_add(1).saturating_mul(DAY_NS).min(end);
        (day, lo, hi)
    })
}

/// `YYYY-MM-DD` of day `day` since 1970-01-01 (proleptic Gregorian; H. Hinnant's
/// `civil_from_days`).
fn date_text(day: i64) -> String {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Hive's name for the partition of null values.
const HIVE_NULL: &str = "__HIVE_DEFAULT_PARTITION__";

/// A partition value as a path segment: ASCII letters, digits and `-_.~` as they are,
/// any other byte percent-encoded (as Hive does, and as pyarrow and polars decode), so a
/// value can never name another folder.
fn hive_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An SQL identifier, quoted.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// How a column is read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Decimal,
    Int64,
    Int32,
    Int16,
    Float64,
    Float32,
    Boolean,
    Text,
    /// Exact Unix nanoseconds (a `bigint` twin of a `timestamptz`).
    Nanos,
}

impl Kind {
    /// The kind of PostgreSQL type `sql_type` (as `format_type` names it), and whether
    /// it is read as text; `None` for a type export does not convert.
    fn of(sql_type: &str) -> Option<(Self, bool)> {
        Some(match sql_type {
            // As text: see `scaled`.
            DECIMAL_TYPE => (Self::Decimal, true),
            "bigint" => (Self::Int64, false),
            "integer" => (Self::Int32, false),
            "smallint" => (Self::Int16, false),
            "double precision" => (Self::Float64, false),
            "real" => (Self::Float32, false),
            "boolean" => (Self::Boolean, false),
            "text" => (Self::Text, false),
            "uuid" => (Self::Text, true),
            _ => return None,
        })
    }

    fn data_type(self) -> DataType {
        match self {
            Self::Decimal => DataType::Decimal128(ARROW_DECIMAL_PRECISION, ARROW_DECIMAL_SCALE),
            Self::Int64 => DataType::Int64,
            Self::Int32 => DataType::Int32,
            Self::Int16 => DataType::Int16,
            Self::Float64 => DataType::Float64,
            Self::Float32 => DataType::Float32,
            Self::Boolean => DataType::Boolean,
            Self::Text => DataType::Utf8,
            Self::Nanos => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
        }
    }
}

/// A column as the catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CatalogColumn {
    name: String,
    /// `format_type(atttypid, atttypmod)`: `numeric(38,12)`, `bigint`, …
    sql_type: String,
    not_null: bool,
}

/// A column of the files.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    /// Its name in the files.
    name: String,
    /// What the query selects for it.
    select: String,
    kind: Kind,
    nullable: bool,
}

/// What to select from a table and how to write it.
#[derive(Debug, Clone)]
struct Plan {
    table: &'static str,
    columns: Vec<Column>,
    schema: SchemaRef,
    /// The place of the `symbol` column, when the table has one.
    symbol: Option<usize>,
    has_run: bool,
    /// The table's unique key (its primary key, else its first unique constraint).
    key: Vec<String>,
}

impl Plan {
    /// The plan of `table` from the database's catalog.
    async fn read(conn: &mut PgConnection, table: &'static str) -> Result<Self, PipelineError> {
        let catalog: Vec<(String, String, bool)> = sqlx::query_as(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull \
             FROM pg_attribute a \
             WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum",
        )
        .bind(table)
        .fetch_all(&mut *conn)
        .await
        .map_err(failed(format!(
            "reading the columns of {table} from the catalog"
        )))?;
        let keys: Vec<(String, String)> = sqlx::query_as(
            "SELECT c.conname::text, a.attname::text \
             FROM pg_constraint c \
             CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n) \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
             WHERE c.conrelid = to_regclass($1) AND c.contype IN ('p', 'u') \
             ORDER BY c.contype, c.conname, k.n",
        )
        .bind(table)
        .fetch_all(&mut *conn)
        .await
        .map_err(failed(format!(
            "reading the unique key of {table} from the catalog"
        )))?;
        let key = keys
            .first()
            .map(|(first, _)| {
                keys.iter()
                    .take_while(|(name, _)| name == first)
                    .map(|(_, column)| column.clone())
                    .collect()
            })
            .unwrap_or_default();
        let catalog: Vec<CatalogColumn> = catalog
            .into_iter()
            .map(|(name, sql_type, not_null)| CatalogColumn {
                name,
                sql_type,
                not_null,
            })
            .collect();
        Self::new(table, &catalog, key)
    }

    /// The plan of `table` with these catalog columns and unique key.
    fn new(
        table: &'static str,
        catalog: &[CatalogColumn],
        key: Vec<String>,
    ) -> Result<Self, PipelineError> {
        if catalog.is_empty() {
            return Err(PipelineError::Config(format!(
                "the database has no table {table}: create the schema first (bot4 migrate)"
            )));
        }
        let find = |name: &str| catalog.iter().find(|c| c.name == name);
        // The `bigint` twin of a `timestamptz` column `X_ts` (or `ts`) is `X_ns` (`ts_ns`).
        let stem = |name: &str| name.strip_suffix("_ts").unwrap_or(name).to_owned();
        let twins: Vec<&str> = catalog
            .iter()
            .filter(|c| c.sql_type == "timestamp with time zone")
            .filter_map(|c| {
                let twin = format!("{}_ns", stem(&c.name));
                find(&twin)
                    .filter(|t| t.sql_type == "bigint")
                    .map(|t| t.name.as_str())
            })
            .collect();
        let mut columns: Vec<Column> = Vec::with_capacity(catalog.len());
        for c in catalog {
            if twins.contains(&c.name.as_str()) {
                continue;
            }
            let column = if c.sql_type == "timestamp with time zone" {
                let twin = format!("{}_ns", stem(&c.name));
                match find(&twin).filter(|t| t.sql_type == "bigint") {
                    Some(t) => Column {
                        name: stem(&c.name),
                        select: quote(&t.name),
                        kind: Kind::Nanos,
                        nullable: !t.not_null,
                    },
                    None => return Err(unsupported(table, c)),
                }
            } else {
                let (kind, as_text) = Kind::of(&c.sql_type).ok_or_else(|| unsupported(table, c))?;
                Column {
                    name: c.name.clone(),
                    select: if as_text {
                        format!("{}::text", quote(&c.name))
                    } else {
                        quote(&c.name)
                    },
                    kind,
                    nullable: !c.not_null,
                }
            };
            if columns.iter().any(|other| other.name == column.name) {
                return Err(PipelineError::Config(format!(
                    "table {table}: two columns would be written as `{}`",
                    column.name
                )));
            }
            columns.push(column);
        }
        if !columns
            .iter()
            .any(|c| c.name == "ts" && c.kind == Kind::Nanos)
        {
            return Err(PipelineError::Config(format!(
                "table {table} has no `ts` timestamptz with a `ts_ns` bigint twin: \
                 is the database's schema Bot4's (bot4 migrate)?"
            )));
        }
        let symbol = columns
            .iter()
            .position(|c| c.name == "symbol" && c.kind == Kind::Text);
        let has_run = catalog.iter().any(|c| c.name == "run_id");
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|c| Field::new(&c.name, c.kind.data_type(), c.nullable))
                .collect::<Vec<_>>(),
        ));
        Ok(Self {
            table,
            columns,
            schema,
            symbol,
            has_run,
            key,
        })
    }

    /// Refuse filters the table cannot apply.
    fn check_filters(&self, run: Option<Uuid>, symbols: &[String]) -> Result<(), PipelineError> {
        if run.is_some() && !self.has_run {
            return Err(PipelineError::Config(format!(
                "--run: table {} has no run_id column",
                self.table
            )));
        }
        if !symbols.is_empty() && self.symbol.is_none() {
            return Err(PipelineError::Config(format!(
                "--symbols: table {} has no symbol column",
                self.table
            )));
        }
        Ok(())
    }

    /// The query of one day: `$1`, `$2` the range in nanoseconds, then the run (`$3`)
    /// and the symbols, when given. `ts` bounds the range too, so that partitions and
    /// chunks are pruned (`ts` is `ts_ns` floored to the microsecond, hence `<=`).
    fn query(&self, run: bool, symbols: bool) -> String {
        let select: Vec<&str> = self.columns.iter().map(|c| c.select.as_str()).collect();
        let mut sql = format!(
            "SELECT {} FROM {} AS t WHERE ts >= bot4_ts($1) AND ts <= bot4_ts($2) \
             AND ts_ns >= $1 AND ts_ns < $2",
            select.join(", "),
            quote(self.table)
        );
        let mut next = 3;
        if run {
            sql.push_str(&format!(" AND run_id = ${next}"));
            next += 1;
        }
        if symbols {
            sql.push_str(&format!(" AND symbol = ANY(${next})"));
        }
        // `ts` before `ts_ns` changes nothing (it is `ts_ns` floored) but lets an index
        // that leads with `(run_id, symbol, ts)` give the order. The columns are the
        // table's (`t.`), not the selected ones of the same name (`run_id::text`).
        let mut order: Vec<&str> = Vec::new();
        if self.symbol.is_some() {
            order.push("symbol");
        }
        order.extend(["ts", "ts_ns"]);
        for column in &self.key {
            if !order.contains(&column.as_str()) {
                order.push(column);
            }
        }
        let order: Vec<String> = order.iter().map(|c| format!("t.{}", quote(c))).collect();
        sql.push_str(" ORDER BY ");
        sql.push_str(&order.join(", "));
        sql
    }
}

fn unsupported(table: &str, c: &CatalogColumn) -> PipelineError {
    PipelineError::Config(format!(
        "table {table}: column `{}` has type {}, which bot4 export does not convert \
         (it converts {DECIMAL_TYPE}, bigint, integer, smallint, double precision, real, \
         boolean, text, uuid, and timestamptz with a bigint `_ns` twin)",
        c.name, c.sql_type
    ))
}

/// Stream the rows of `(day, lo, hi)` (the range `[lo, hi)` within day `day`) into
/// `sink`: one partition per symbol.
async fn write_day(
    conn: &mut PgConnection,
    plan: &Plan,
    sink: &mut Sink<'_>,
    (day, lo, hi): (i64, Nanos, Nanos),
    run: Option<Uuid>,
    symbols: &[String],
) -> Result<(), PipelineError> {
    let sql = plan.query(run.is_some(), !symbols.is_empty());
    let mut query = sqlx::query(&sql).bind(lo).bind(hi);
    if let Some(run) = run {
        query = query.bind(run);
    }
    if !symbols.is_empty() {
        query = query.bind(symbols);
    }
    let day_text = date_text(day);
    let date = format!("date={day_text}");
    let fail = |cause| PipelineError::Database {
        context: format!("reading {} of {day_text} from the database", plan.table),
        cause,
    };
    let mut rows = query.fetch(&mut *conn);
    let mut current: Option<Option<String>> = None;
    let mut started = false;
    while let Some(row) = rows.try_next().await.map_err(fail)? {
        let partition = match plan.symbol {
            Some(index) => {
                // A null symbol (the portfolio's row of `risk`) goes to Hive's partition
                // for nulls, which readers read back as null.
                let symbol: Option<&str> = row.try_get(index).map_err(fail)?;
                if current.as_ref().map(Option::as_deref) == Some(symbol) {
                    None
                } else {
                    current = Some(symbol.map(str::to_owned));
                    Some(format!(
                        "{date}/symbol={}",
                        symbol.map_or_else(|| HIVE_NULL.to_owned(), hive_value)
                    ))
                }
            }
            None => (!started).then(|| date.clone()),
        };
        if let Some(partition) = partition {
            sink.start(&partition)?;
            started = true;
        }
        sink.push(&row)?;
    }
    sink.finish()
}

/// One column's values of the batch being built.
#[derive(Debug)]
enum ColumnBuilder {
    Decimal(Decimal128Builder),
    Int64(Int64Builder),
    Int32(Int32Builder),
    Int16(Int16Builder),
    Float64(Float64Builder),
    Float32(Float32Builder),
    Boolean(BooleanBuilder),
    Text(StringBuilder),
    Nanos(TimestampNanosecondBuilder),
}

impl ColumnBuilder {
    fn new(kind: Kind) -> Result<Self, SchemaError> {
        let n = BATCH_ROWS;
        Ok(match kind {
            Kind::Decimal => Self::Decimal(
                Decimal128Builder::with_capacity(n)
                    .with_precision_and_scale(ARROW_DECIMAL_PRECISION, ARROW_DECIMAL_SCALE)?,
            ),
            Kind::Int64 => Self::Int64(Int64Builder::with_capacity(n)),
            Kind::Int32 => Self::Int32(Int32Builder::with_capacity(n)),
            Kind::Int16 => Self::Int16(Int16Builder::with_capacity(n)),
            Kind::Float64 => Self::Float64(Float64Builder::with_capacity(n)),
            Kind::Float32 => Self::Float32(Float32Builder::with_capacity(n)),
            Kind::Boolean => Self::Boolean(BooleanBuilder::with_capacity(n)),
            Kind::Text => Self::Text(StringBuilder::with_capacity(n, 16 * n)),
            Kind::Nanos => {
                Self::Nanos(TimestampNanosecondBuilder::with_capacity(n).with_timezone("UTC"))
            }
        })
    }

    /// Append the value of column `index` of `row`.
    fn append(&mut self, row: &PgRow, index: usize) -> Result<(), AppendError> {
        match self {
            Self::Decimal(b) => match row.try_get::<Option<&str>, _>(index)? {
                Some(text) => {
                    let value = scaled(text).ok_or_else(|| AppendError::Inexact(text.into()))?;
                    b.append_value(value);
                }
                None => b.append_null(),
            },
            Self::Int64(b) => b.append_option(row.try_get::<Option<i64>, _>(index)?),
            Self::Int32(b) => b.append_option(row.try_get::<Option<i32>, _>(index)?),
            Self::Int16(b) => b.append_option(row.try_get::<Option<i16>, _>(index)?),
            Self::Float64(b) => b.append_option(row.try_get::<Option<f64>, _>(index)?),
            Self::Float32(b) => b.append_option(row.try_get::<Option<f32>, _>(index)?),
            Self::Boolean(b) => b.append_option(row.try_get::<Option<bool>, _>(index)?),
            Self::Text(b) => b.append_option(row.try_get::<Option<&str>, _>(index)?),
            Self::Nanos(b) => b.append_option(row.try_get::<Option<i64>, _>(index)?),
        }
        Ok(())
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Self::Decimal(b) => Arc::new(b.finish()),
            Self::Int64(b) => Arc::new(b.finish()),
            Self::Int32(b) => Arc::new(b.finish()),
            Self::Int16(b) => Arc::new(b.finish()),
            Self::Float64(b) => Arc::new(b.finish()),
            Self::Float32(b) => Arc::new(b.finish()),
            Self::Boolean(b) => Arc::new(b.finish()),
            Self::Text(b) => Arc::new(b.finish()),
            Self::Nanos(b) => Arc::new(b.finish()),
        }
    }
}

/// The unscaled `decimal(38,12)` of a `numeric` as PostgreSQL prints it, exact or
/// `None`: a value with more significant digits than a [`Decimal`] holds (28) is
/// refused, where sqlx's binary decoding would round it without a word.
fn scaled(text: &str) -> Option<i128> {
    crate::database::exact_decimal(text).and_then(to_scaled_i128)
}

/// Why a value could not be appended.
#[derive(Debug)]
enum AppendError {
    /// sqlx could not decode it.
    Decode(sqlx::Error),
    /// A `numeric` that has no exact [`Decimal`].
    Inexact(String),
}

impl From<sqlx::Error> for AppendError {
    fn from(e: sqlx::Error) -> Self {
        Self::Decode(e)
    }
}

/// A part file being written: its final name, its hidden `.partial` name, its writer.
struct OpenPart {
    path: PathBuf,
    partial: PathBuf,
    writer: ArrowWriter<File>,
}

/// Rows in, part files out: one partition folder at a time, each a sequence of files
/// of at most `part_rows` rows.
struct Sink<'a> {
    plan: &'a Plan,
    /// The new table folder, in staging.
    root: PathBuf,
    part_rows: u64,
    builders: Vec<ColumnBuilder>,
    buffered: usize,
    /// The partition being written, relative to `root`.
    partition: PathBuf,
    file: Option<OpenPart>,
    next_part: u32,
    in_file: u64,
    rows: u64,
    files: u64,
}

impl<'a> Sink<'a> {
    fn new(plan: &'a Plan, root: PathBuf, part_rows: u64) -> Result<Self, PipelineError> {
        let builders = plan
            .columns
            .iter()
            .map(|c| ColumnBuilder::new(c.kind))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| PipelineError::Encode {
                table: plan.table,
                source,
            })?;
        Ok(Self {
            plan,
            root,
            part_rows: part_rows.max(1),
            builders,
            buffered: 0,
            partition: PathBuf::new(),
            file: None,
            next_part: 0,
            in_file: 0,
            rows: 0,
            files: 0,
        })
    }

    /// Finish the partition being written and start `partition` (`date=…[/symbol=…]`).
    fn start(&mut self, partition: &str) -> Result<(), PipelineError> {
        self.finish()?;
        self.partition = PathBuf::from(partition);
        self.next_part = 0;
        Ok(())
    }

    fn push(&mut self, row: &PgRow) -> Result<(), PipelineError> {
        for (index, (builder, column)) in
            self.builders.iter_mut().zip(&self.plan.columns).enumerate()
        {
            builder.append(row, index).map_err(|e| match e {
                AppendError::Decode(cause) => PipelineError::Database {
                    context: format!(
                        "reading column `{}` of {} from the database",
                        column.name, self.plan.table
                    ),
                    cause,
                },
                AppendError::Inexact(text) => PipelineError::Encode {
                    table: self.plan.table,
                    source: SchemaError::BadValue {
                        column: column.name.clone(),
                        row: usize::try_from(self.rows).unwrap_or(usize::MAX) + self.buffered,
                        reason: format!(
                            "{text} has more significant digits than Bot4's exact decimals \
                             hold (28)"
                        ),
                    },
                },
            })?;
        }
        self.buffered += 1;
        if self.buffered >= BATCH_ROWS || self.in_file + self.buffered as u64 >= self.part_rows {
            self.flush()?;
        }
        Ok(())
    }

    /// Write the buffered rows to the partition's current part file (opening one if
    /// need be), and close that file once it holds `part_rows` rows.
    fn flush(&mut self) -> Result<(), PipelineError> {
        if self.buffered == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self
            .builders
            .iter_mut()
            .map(ColumnBuilder::finish)
            .collect();
        let batch = RecordBatch::try_new(self.plan.schema.clone(), arrays).map_err(|e| {
            PipelineError::Encode {
                table: self.plan.table,
                source: e.into(),
            }
        })?;
        let n = self.buffered as u64;
        self.buffered = 0;
        let mut part = match self.file.take() {
            Some(part) => part,
            None => {
                let path = self
                    .root
                    .join(&self.partition)
                    .join(format!("part-{:04}.parquet", self.next_part));
                let (partial, writer) = open_parquet_file(&path, self.plan.schema.clone())?;
                self.next_part += 1;
                self.files += 1;
                OpenPart {
                    path,
                    partial,
                    writer,
                }
            }
        };
        part.writer
            .write(&batch)
            .map_err(|e| PipelineError::parquet(&part.partial, e))?;
        self.file = Some(part);
        self.in_file += n;
        self.rows += n;
        if self.in_file >= self.part_rows {
            self.close_file()?;
        }
        Ok(())
    }

    /// Close the current part file and give it its final name.
    fn close_file(&mut self) -> Result<(), PipelineError> {
        self.in_file = 0;
        if let Some(part) = self.file.take() {
            let file = part
                .writer
                .into_inner()
                .map_err(|e| PipelineError::parquet(&part.partial, e))?;
            file.sync_all()
                .map_err(|e| PipelineError::io(&part.partial, e))?;
            std::fs::rename(&part.partial, &part.path)
                .map_err(|e| PipelineError::io(&part.path, e))?;
        }
        Ok(())
    }

    /// Write what is buffered and close the partition's file.
    fn finish(&mut self) -> Result<(), PipelineError> {
        self.flush()?;
        self.close_file()
    }
}

/// Where an export goes: `root/<table>`, its staging folder and its marker.
#[derive(Debug)]
struct Target {
    root: PathBuf,
    table: &'static str,
    /// Whether this export created `root` (removed again if nothing is written).
    created_root: bool,
}

impl Target {
    fn new(root: &Path, table: &'static str) -> Self {
        Self {
            root: root.to_owned(),
            table,
            created_root: false,
        }
    }

    /// `root/<table>`.
    fn folder(&self) -> PathBuf {
        self.root.join(self.table)
    }

    fn staging(&self) -> PathBuf {
        self.root
            .join(format!(".bot4-export-{}.staging", self.table))
    }

    /// The new table folder, inside the staging folder.
    fn new_folder(&self) -> PathBuf {
        self.staging().join(self.table)
    }

    /// Where the earlier export waits while the new one moves in.
    fn previous(&self) -> PathBuf {
        self.staging().join(".previous")
    }

    fn marker(&self) -> PathBuf {
        self.root.join(format!(".bot4-export-{}.json", self.table))
    }

    /// Whether `root/<table>` exists as an earlier export (to be replaced); an error if it
    /// exists otherwise.
    fn check(&self) -> Result<bool, PipelineError> {
        let folder = self.folder();
        match std::fs::symlink_metadata(&folder) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(PipelineError::io(&folder, e)),
            Ok(_) if self.marker().is_file() => Ok(true),
            Ok(_) => Err(PipelineError::Config(format!(
                "{} exists and is not an earlier bot4 export (there is no {}); \
                 remove it or choose another --out",
                folder.display(),
                self.marker().display()
            ))),
        }
    }

    /// Create `root` if need be and an empty staging folder (removing what a crashed
    /// export may have left there).
    fn prepare(&mut self) -> Result<(), PipelineError> {
        if !self.root.exists() {
            std::fs::create_dir_all(&self.root).map_err(|e| PipelineError::io(&self.root, e))?;
            self.created_root = true;
        }
        let staging = self.staging();
        remove_dir_if_present(&staging)?;
        std::fs::create_dir_all(&staging).map_err(|e| PipelineError::io(&staging, e))
    }

    /// Write the marker, then move the new table folder into place (the earlier export,
    /// if any, out of it first), then remove the staging folder. Returns whether an
    /// earlier export was replaced.
    fn commit(&self, marker: &serde_json::Value) -> Result<bool, PipelineError> {
        // Again: a folder may have appeared since the export started.
        let replacing = self.check()?;
        let text = serde_json::to_vec_pretty(marker).map_err(|e| {
            PipelineError::Config(format!(
                "describing the export in {}: {e}",
                self.marker().display()
            ))
        })?;
        write_atomic(&self.marker(), &text)?;
        let (new, folder) = (self.new_folder(), self.folder());
        if replacing {
            let previous = self.previous();
            std::fs::rename(&folder, &previous).map_err(|e| PipelineError::io(&folder, e))?;
            if let Err(e) = std::fs::rename(&new, &folder) {
                if let Err(back) = std::fs::rename(&previous, &folder) {
                    tracing::error!(
                        error = %back,
                        previous = %previous.display(),
                        "could not put the earlier export back"
                    );
                }
                return Err(PipelineError::io(&folder, e));
            }
        } else {
            std::fs::rename(&new, &folder).map_err(|e| PipelineError::io(&folder, e))?;
        }
        if let Err(e) = remove_dir_if_present(&self.staging()) {
            tracing::warn!(error = %e, "could not remove the export's staging folder");
        }
        Ok(replacing)
    }

    /// Throw the staged files away (and `root`, if this export created it and it is
    /// empty).
    fn abandon(&self) {
        let previous = self.previous();
        if previous.exists() {
            // Only if the earlier export could not be put back in place: keep it.
            tracing::error!(previous = %previous.display(), "the earlier export is kept here");
            if let Err(e) = remove_dir_if_present(&self.new_folder()) {
                tracing::warn!(error = %e, "could not remove the export's staged files");
            }
            return;
        }
        if let Err(e) = remove_dir_if_present(&self.staging()) {
            tracing::warn!(error = %e, "could not remove the export's staging folder");
        }
        if self.created_root {
            if let Err(e) = std::fs::remove_dir(&self.root) {
                tracing::debug!(error = %e, "left the output folder in place");
            }
        }
    }
}

fn remove_dir_if_present(path: &Path) -> Result<(), PipelineError> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(PipelineError::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, sql_type: &str, not_null: bool) -> CatalogColumn {
        CatalogColumn {
            name: name.into(),
            sql_type: sql_type.into(),
            not_null,
        }
    }

    /// The catalog of `fills` as the migrations create it.
    fn fills() -> Vec<CatalogColumn> {
        vec![
            col("run_id", "uuid", true),
            col("ts", "timestamp with time zone", true),
            col("ts_ns", "bigint", true),
            col("client_id", "bigint", true),
            col("symbol", "text", true),
            col("side", "text", true),
            col("price", "numeric(38,12)", true),
            col("qty", "numeric(38,12)", true),
            col("fee", "numeric(38,12)", true),
            col("liquidity", "text", true),
            col("event", "bigint", true),
        ]
    }

    fn key(columns: &[&str]) -> Vec<String> {
        columns.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn only_the_series_tables_are_exported() {
        assert_eq!(export_table("fills").ok(), Some("fills"));
        assert_eq!(export_table("control").ok(), Some("control"));
        assert_eq!(export_table("audit").ok(), Some("audit"));
        let message = export_table("runs; drop table x")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some(
                "--table `runs; drop table x` is not a table bot4 exports; choose one of \
                 ticks, bar_features, signals, orders, reports, fills, positions, equity, risk, \
                 control, audit"
            )
        );
    }

    #[test]
    fn columns_follow_the_catalog_with_times_from_their_nanosecond_twins() {
        let plan = Plan::new(
            "fills",
            &fills(),
            key(&["run_id", "client_id", "event", "ts"]),
        )
        .expect("a plan");
        let names: Vec<&str> = plan.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "run_id",
                "ts",
                "client_id",
                "symbol",
                "side",
                "price",
                "qty",
                "fee",
                "liquidity",
                "event"
            ]
        );
        let field = |name: &str| {
            plan.schema
                .field_with_name(name)
                .map(|f| (f.data_type().clone(), f.is_nullable()))
                .ok()
        };
        assert_eq!(field("run_id"), Some((DataType::Utf8, false)));
        assert_eq!(
            field("ts"),
            Some((
                DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                false
            ))
        );
        assert_eq!(field("price"), Some((DataType::Decimal128(38, 12), false)));
        assert_eq!(field("client_id"), Some((DataType::Int64, false)));
        assert_eq!(plan.symbol, Some(3));
        assert_eq!(
            plan.query(true, true),
            "SELECT \"run_id\"::text, \"ts_ns\", \"client_id\", \"symbol\", \"side\", \
             \"price\"::text, \"qty\"::text, \"fee\"::text, \"liquidity\", \"event\" \
             FROM \"fills\" AS t \
             WHERE ts >= bot4_ts($1) AND ts <= bot4_ts($2) AND ts_ns >= $1 AND ts_ns < $2 \
             AND run_id = $3 AND symbol = ANY($4) ORDER BY t.\"symbol\", t.\"ts\", \
             t.\"ts_ns\", t.\"run_id\", t.\"client_id\", t.\"event\""
        );
        assert!(plan.check_filters(Some(Uuid::nil()), &["A".into()]).is_ok());
    }

    #[test]
    fn bar_ends_and_tables_without_symbols() {
        let bars = vec![
            col("run_id", "uuid", true),
            col("ts", "timestamp with time zone", true),
            col("ts_ns", "bigint", true),
            col("end_ts", "timestamp with time zone", true),
            col("end_ns", "bigint", true),
            col("symbol", "text", true),
            col("warm", "boolean", true),
            col("direction", "smallint", false),
        ];
        let plan =
            Plan::new("bar_features", &bars, key(&["run_id", "symbol", "ts"])).expect("a plan");
        let names: Vec<&str> = plan.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["run_id", "ts", "end", "symbol", "warm", "direction"]
        );
        assert_eq!(plan.columns[2].select, "\"end_ns\"");
        assert_eq!(plan.columns[5].kind, Kind::Int16);
        assert!(plan.columns[5].nullable);

        let equity = vec![
            col("run_id", "uuid", true),
            col("ts", "timestamp with time zone", true),
            col("ts_ns", "bigint", true),
            col("drawdown", "double precision", true),
        ];
        let plan = Plan::new("equity", &equity, key(&["run_id", "ts"])).expect("a plan");
        assert_eq!(plan.symbol, None);
        let query = plan.query(false, false);
        assert!(
            query.ends_with("AND ts_ns < $2 ORDER BY t.\"ts\", t.\"ts_ns\", t.\"run_id\""),
            "{query}"
        );
        let refused = plan
            .check_filters(None, &["A".into()])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            refused.as_deref(),
            Some("--symbols: table equity has no symbol column")
        );
    }

    #[test]
    fn unconvertible_columns_and_missing_tables_are_errors() {
        let mut catalog = fills();
        catalog.push(col("extra", "numeric(20,8)", false));
        let e = Plan::new("fills", &catalog, Vec::new())
            .err()
            .map(|e| e.to_string());
        assert!(
            e.as_deref()
                .is_some_and(|e| e.contains("column `extra` has type numeric(20,8)")),
            "{e:?}"
        );
        let mut catalog = fills();
        catalog.retain(|c| c.name != "ts_ns");
        let e = Plan::new("fills", &catalog, Vec::new())
            .err()
            .map(|e| e.to_string());
        assert!(
            e.as_deref()
                .is_some_and(|e| e.contains("column `ts` has type timestamp with time zone")),
            "{e:?}"
        );
        let e = Plan::new("fills", &[], Vec::new())
            .err()
            .map(|e| e.to_string());
        assert!(
            e.as_deref().is_some_and(|e| e.contains("no table fills")),
            "{e:?}"
        );
    }

    #[test]
    fn ranges_split_into_utc_days() {
        let day = 20_454; // 2026-01-01
        let t0 = day * DAY_NS;
        let windows: Vec<_> = day_windows(t0 + 5, t0 + 2 * DAY_NS + 7).collect();
        assert_eq!(
            windows,
            [
                (day, t0 + 5, t0 + DAY_NS),
                (day + 1, t0 + DAY_NS, t0 + 2 * DAY_NS),
                (day + 2, t0 + 2 * DAY_NS, t0 + 2 * DAY_NS + 7)
            ]
        );
        assert_eq!(day_windows(t0, t0 + DAY_NS).count(), 1);
        assert_eq!(day_windows(t0, t0).count(), 0);
        assert_eq!(day_windows(-1, 1).map(|w| w.0).collect::<Vec<_>>(), [-1, 0]);
    }

    #[test]
    fn decimals_are_exact_or_refused() {
        assert_eq!(scaled("1.500000000000"), Some(1_500_000_000_000));
        assert_eq!(scaled("-0.000000000001"), Some(-1));
        assert_eq!(scaled("0"), Some(0));
        assert_eq!(
            scaled("1234567890123456.123456789012"),
            Some(1_234_567_890_123_456_123_456_789_012)
        );
        assert_eq!(scaled("12345678901234567890.123456789012"), None);
        assert_eq!(scaled("NaN"), None);
    }

    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(date_text(0), "1970-01-01");
        assert_eq!(date_text(-1), "1969-12-31");
        assert_eq!(date_text(20_454), "2026-01-01");
        assert_eq!(date_text(19_782), "2024-02-29");
        assert_eq!(date_text(11_016), "2000-02-29");
        assert_eq!(date_text(2_932_896), "9999-12-31");
    }

    #[test]
    fn partition_values_cannot_escape_their_folder() {
        assert_eq!(hive_value("BTC-USDT"), "BTC-USDT");
        assert_eq!(hive_value("a_b.c~1"), "a_b.c~1");
        assert_eq!(hive_value("../x/y=z"), "..%2Fx%2Fy%3Dz");
        assert_eq!(hive_value("é"), "%C3%A9");
    }

    #[test]
    fn an_existing_folder_is_replaced_only_when_it_is_an_earlier_export() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut target = Target::new(dir.path(), "fills");
        assert!(matches!(target.check(), Ok(false)));
        std::fs::create_dir(target.folder()).expect("a folder");
        let refused = target.check().err().map(|e| e.to_string());
        assert!(
            refused
                .as_deref()
                .is_some_and(|e| e.contains("is not an earlier bot4 export")),
            "{refused:?}"
        );

        // An export replaces the folder once the marker says it is one.
        std::fs::write(target.marker(), b"{}").expect("a marker");
        assert!(matches!(target.check(), Ok(true)));
        std::fs::write(target.folder().join("old"), b"old").expect("a file");
        target.prepare().expect("staging");
        std::fs::create_dir_all(target.new_folder().join("date=2026-01-01")).expect("a folder");
        target
            .commit(&serde_json::json!({"table": "fills"}))
            .expect("the commit");
        assert!(target.folder().join("date=2026-01-01").is_dir());
        assert!(!target.folder().join("old").exists());
        assert!(!target.staging().exists());
        let marker = std::fs::read_to_string(target.marker()).expect("the marker");
        assert!(marker.contains("\"fills\""), "{marker}");

        // Abandoned: the staging folder goes, a folder it created too.
        let root = dir.path().join("new");
        let mut target = Target::new(&root, "ticks");
        target.prepare().expect("staging");
        assert!(target.staging().is_dir());
        target.abandon();
        assert!(!root.exists());
    }
}
