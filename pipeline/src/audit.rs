//! `bot4 audit verify`: check a run's audit log — its Parquet `audit/` folder or its
//! rows in the database — against its hash chain and its recorded head.
//!
//! A Parquet log is checked in the order its rows are stored: part files by name, rows
//! in file order, which is the order the run appended them. So a row moved within or
//! between files breaks the `seq` numbering where it lands, even when its contents are
//! intact. The database has no row order: its rows are read by `seq`, so there a swap of
//! whole rows is no change at all, and a duplicate `seq` or a gap shows. The head, the
//! number of entries and the last hash, comes from the run's `summary.json` (the field
//! `audit`, `{"entries": N, "head": "<64 hex>"}`) or `runs.summary`; without it a
//! removed tail cannot be told from a shorter log, and the report says so.

use std::fs::File;
use std::path::{Path, PathBuf};

use bot4_operators::audit::{verify, AuditHead, BrokenEntry};
use bot4_schemas::{hash_from_hex, ArrowRecord, AuditEntry, AuditKind, SymbolRegistry};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use thiserror::Error;
use uuid::Uuid;

use crate::database::{self, failed, Database};
use crate::PipelineError;

/// Why a log did not verify.
#[derive(Debug, Error)]
pub enum AuditError {
    /// The log was read and its chain is broken.
    #[error("audit log {log}: {entry}{at}")]
    Broken {
        /// The folder, file or run checked.
        log: String,
        /// The first broken entry.
        entry: BrokenEntry,
        /// Where that entry is stored (`, in FILE row R`), or nothing.
        at: String,
    },
    /// The log or its head could not be read.
    #[error(transparent)]
    Read(#[from] PipelineError),
}

/// A log whose chain is intact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The log's head: its entries and last hash.
    pub head: AuditHead,
    /// Where the recorded head it was checked against came from, or `None` when none
    /// was found.
    pub checked_against: Option<String>,
}

impl VerifyReport {
    /// What `bot4 audit verify` prints.
    pub fn to_text(&self) -> String {
        let first = format!(
            "audit: {} entries, chain intact, head {}",
            self.head.entries,
            self.head.hash_hex()
        );
        match &self.checked_against {
            Some(source) => format!("{first}\nthe head matches the one recorded in {source}"),
            None => format!(
                "{first}\nno recorded head to check against: entries removed from the end \
                 would not show"
            ),
        }
    }
}

/// The `audit` field of a run's summary: `{"entries": N, "head": "<64 hex>"}`.
///
/// # Examples
/// ```
/// use bot4_operators::audit::AuditChain;
/// use bot4_pipeline::audit::{head_from_summary, summary_field};
/// let head = AuditChain::new().head();
/// let summary = serde_json::json!({ "audit": summary_field(&head) });
/// assert_eq!(head_from_summary(&summary), Ok(Some(head)));
/// ```
pub fn summary_field(head: &AuditHead) -> serde_json::Value {
    serde_json::json!({ "entries": head.entries, "head": head.hash_hex() })
}

/// The head recorded in a run's summary (the field `audit`), `None` when it has none,
/// or what is wrong with it.
pub fn head_from_summary(summary: &serde_json::Value) -> Result<Option<AuditHead>, String> {
    let Some(field) = summary.get("audit").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let entries = field
        .get("entries")
        .and_then(serde_json::Value::as_u64)
        .ok_or("`audit.entries` is not a count of entries")?;
    let hash = field
        .get("head")
        .and_then(serde_json::Value::as_str)
        .and_then(hash_from_hex)
        .ok_or("`audit.head` is not a hash of 64 hex digits")?;
    Ok(Some(AuditHead { entries, hash }))
}

/// The part files of a log and the summary that may hold its head.
#[derive(Debug)]
struct Located {
    /// What was asked to check, for messages.
    log: PathBuf,
    files: Vec<PathBuf>,
    summary: Option<PathBuf>,
}

/// `path` as a run's output folder (holding `audit/`), an `audit/` folder, or one part
/// file. The head is looked for in `summary.json` beside the `audit/` folder, for a
/// single file only when it is the folder's only part.
fn locate(path: &Path) -> Result<Located, PipelineError> {
    let summary_in =
        |dir: Option<&Path>| dir.map(|d| d.join("summary.json")).filter(|s| s.is_file());
    let meta = std::fs::metadata(path).map_err(|e| PipelineError::io(path, e))?;
    if meta.is_file() {
        let folder = path.parent().unwrap_or(Path::new("."));
        let alone = parts(folder)?.len() == 1;
        return Ok(Located {
            log: path.to_owned(),
            files: vec![path.to_owned()],
            summary: if alone {
                summary_in(folder.parent())
            } else {
                None
            },
        });
    }
    let nested = path.join(AuditEntry::NAME);
    if nested.is_dir() {
        return Ok(Located {
            log: nested.clone(),
            files: parts(&nested)?,
            summary: summary_in(Some(path)),
        });
    }
    let files = parts(path)?;
    if files.is_empty() {
        return Err(PipelineError::Config(format!(
            "{} holds no audit log: give a run's output folder (with audit/), its audit/ \
             folder or one of its .parquet files",
            path.display()
        )));
    }
    Ok(Located {
        log: path.to_owned(),
        files,
        summary: summary_in(path.parent()),
    })
}

/// The Parquet part files in `dir`, by name; hidden (unfinished) files are not parts.
fn parts(dir: &Path) -> Result<Vec<PathBuf>, PipelineError> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| PipelineError::io(dir, e))? {
        let path = entry.map_err(|e| PipelineError::io(dir, e))?.path();
        let visible = path
            .file_name()
            .is_some_and(|n| !n.to_string_lossy().starts_with('.'));
        if visible && path.extension().is_some_and(|x| x == "parquet") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Every entry of `file`, in stored order.
fn read_file(file: &Path) -> Result<Vec<AuditEntry>, PipelineError> {
    let registry = SymbolRegistry::default();
    let reader = File::open(file).map_err(|e| PipelineError::io(file, e))?;
    let batches = ParquetRecordBatchReaderBuilder::try_new(reader)
        .and_then(|b| b.build())
        .map_err(|e| PipelineError::parquet(file, e))?;
    let mut rows = Vec::new();
    for batch in batches {
        let batch = batch.map_err(|e| PipelineError::Input {
            path: file.to_owned(),
            reason: e.to_string(),
        })?;
        rows.extend(AuditEntry::from_batch(&batch, &registry).map_err(|source| {
            PipelineError::Schema {
                path: file.to_owned(),
                source,
            }
        })?);
    }
    Ok(rows)
}

/// Verify the audit log at `path` (see [`locate`] for what it may be) and, when its
/// run's `summary.json` records a head, that it ends there.
pub fn verify_files(path: &Path) -> Result<VerifyReport, AuditError> {
    let located = locate(path)?;
    let mut entries = Vec::new();
    // (file, first index) of each part, to say where a broken entry is stored.
    let mut starts = Vec::with_capacity(located.files.len());
    for file in &located.files {
        starts.push((file, entries.len()));
        entries.extend(read_file(file)?);
    }
    let head = match &located.summary {
        Some(summary) => read_summary_head(summary)?.map(|h| (h, summary.display().to_string())),
        None => None,
    };
    verify(&entries, head.as_ref().map(|(h, _)| h))
        .map(|found| VerifyReport {
            head: found,
            checked_against: head.as_ref().map(|(_, source)| source.clone()),
        })
        .map_err(|entry| {
            let at = starts
                .iter()
                .rev()
                .find(|(_, first)| *first <= entry.index && entry.index < entries.len())
                .map(|(file, first)| format!(", in {} row {}", file.display(), entry.index - first))
                .unwrap_or_default();
            AuditError::Broken {
                log: located.log.display().to_string(),
                entry,
                at,
            }
        })
}

fn read_summary_head(path: &Path) -> Result<Option<AuditHead>, PipelineError> {
    let text = std::fs::read_to_string(path).map_err(|e| PipelineError::io(path, e))?;
    let input = |reason: String| PipelineError::Input {
        path: path.to_owned(),
        reason,
    };
    let summary: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| input(format!("not JSON: {e}")))?;
    head_from_summary(&summary).map_err(input)
}

/// One stored row, as read from the database.
type Row = (i64, i64, String, String, String, String);

/// The entry of a stored row, or why it cannot be one.
fn entry_of(row: Row) -> Result<AuditEntry, (u64, String)> {
    let (seq, ts, kind, payload, prev_hash, hash) = row;
    let seq = u64::try_from(seq).map_err(|_| (0, format!("seq {seq} is negative")))?;
    let kind = AuditKind::parse(&kind).ok_or_else(|| (seq, format!("kind `{kind}` is unknown")))?;
    let prev_hash =
        hash_from_hex(&prev_hash).ok_or((seq, "prev_hash is not 64 hex digits".to_owned()))?;
    let hash = hash_from_hex(&hash).ok_or((seq, "hash is not 64 hex digits".to_owned()))?;
    Ok(AuditEntry {
        seq,
        ts,
        kind,
        payload,
        prev_hash,
        hash,
    })
}

/// Verify run `run`'s audit log in the database at `url`, read by `seq`, and, when
/// `runs.summary` records a head (the field `audit`), that it ends there.
pub fn verify_database(url: &str, run: Uuid) -> Result<VerifyReport, AuditError> {
    let db = Database::new(url)?;
    let log = format!("of run {run} in {}", db.describe());
    let (rows, summary) = database::with_connection(&db, async |conn| {
        let summary: Option<Option<serde_json::Value>> =
            sqlx::query_scalar("SELECT summary->'audit' FROM runs WHERE run_id = $1")
                .bind(run)
                .fetch_optional(&mut *conn)
                .await
                .map_err(failed(format!("reading run {run}")))?;
        let Some(summary) = summary else {
            return Err(PipelineError::Config(format!(
                "the database {} has no run {run}",
                db.describe()
            )));
        };
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT seq, ts_ns, kind, payload, prev_hash, hash FROM audit \
             WHERE run_id = $1 ORDER BY seq, ts_ns",
        )
        .bind(run)
        .fetch_all(&mut *conn)
        .await
        .map_err(failed(format!("reading the audit log of run {run}")))?;
        Ok((rows, summary))
    })?;
    let head = match summary {
        Some(field) => {
            head_from_summary(&serde_json::json!({ "audit": field })).map_err(|reason| {
                PipelineError::Config(format!("runs.summary of run {run}: {reason}"))
            })?
        }
        None => None,
    };
    let broken = |entry: BrokenEntry| AuditError::Broken {
        log: log.clone(),
        entry,
        at: String::new(),
    };
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        match entry_of(row) {
            Ok(entry) => entries.push(entry),
            Err((seq, reason)) => {
                // An earlier entry may break the chain first.
                verify(&entries, None).map_err(broken)?;
                return Err(broken(BrokenEntry {
                    index: entries.len(),
                    seq,
                    reason,
                }));
            }
        }
    }
    let found = verify(&entries, head.as_ref()).map_err(broken)?;
    Ok(VerifyReport {
        head: found,
        checked_against: head.map(|_| format!("runs.summary of run {run}")),
    })
}
