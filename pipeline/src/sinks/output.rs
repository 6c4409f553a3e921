//! The output folder of a run: staging, atomic commit, and reading tables back.
//!
//! Each process writes its workers' part files under `<out>/.staging-p<process>/`.
//! Only when every worker of the run has succeeded are the earlier run's tables removed
//! and the new part files moved into `<out>/<table>/` (see `replay::commit`); a failed
//! run leaves no part of its output behind and the earlier output untouched.

use std::fs::File;
use std::path::{Path, PathBuf};

use bot4_schemas::{ArrowRecord, SymbolRegistry};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sha2::{Digest, Sha256};

use crate::PipelineError;

/// Every table a replay writes, to Parquet and to the database alike.
pub const TABLES: [&str; 11] = [
    "ticks",
    "bar_features",
    "signals",
    "orders",
    "reports",
    "fills",
    "positions",
    "equity",
    "risk",
    "control",
    "audit",
];

/// Entries an output folder may hold besides the tables.
const OTHER_ENTRIES: [&str; 3] = ["input", "summary.json", "instruments.csv"];

/// The output folder of one run, as seen by one process.
#[derive(Debug, Clone)]
pub struct OutputDir {
    root: PathBuf,
    process: usize,
}

impl OutputDir {
    /// The folder `root`, written by process `process`.
    pub fn new(root: impl Into<PathBuf>, process: usize) -> Self {
        Self {
            root: root.into(),
            process,
        }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// This process's staging folder.
    pub fn staging(&self) -> PathBuf {
        self.root.join(format!(".staging-p{}", self.process))
    }

    /// Make sure the folder holds nothing but Bot4 outputs and create a fresh staging
    /// folder. An earlier run's tables stay until this run commits.
    pub fn prepare(&self) -> Result<(), PipelineError> {
        let root = &self.root;
        std::fs::create_dir_all(root).map_err(|e| PipelineError::io(root, e))?;
        let entries = std::fs::read_dir(root).map_err(|e| PipelineError::io(root, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| PipelineError::io(root, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let ours = TABLES.contains(&name.as_str())
                || OTHER_ENTRIES.contains(&name.as_str())
                || name.starts_with(".staging-p");
            if !ours {
                return Err(PipelineError::Config(format!(
                    "{} holds `{name}`, which is not a Bot4 output; choose an empty or new --out folder",
                    root.display()
                )));
            }
        }
        let staging = self.staging();
        remove_dir_if_present(&staging)?;
        std::fs::create_dir_all(&staging).map_err(|e| PipelineError::io(&staging, e))
    }

    /// Remove an earlier run's tables and summary from `root`.
    pub fn remove_tables(root: &Path) -> Result<(), PipelineError> {
        for table in TABLES {
            remove_dir_if_present(&root.join(table))?;
        }
        match std::fs::remove_file(root.join("summary.json")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(PipelineError::io(root.join("summary.json"), e))
            }
            _ => Ok(()),
        }
    }

    /// Move worker `worker`'s part files from `staging` into their tables under `root`.
    pub fn commit_worker(root: &Path, staging: &Path, worker: usize) -> Result<(), PipelineError> {
        let prefix = format!("part-{worker:05}-");
        for table in TABLES {
            let from = staging.join(table);
            let Ok(entries) = std::fs::read_dir(&from) else {
                continue;
            };
            let to = root.join(table);
            std::fs::create_dir_all(&to).map_err(|e| PipelineError::io(&to, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| PipelineError::io(&from, e))?;
                let name = entry.file_name();
                if name.to_string_lossy().starts_with(&prefix) {
                    std::fs::rename(entry.path(), to.join(&name))
                        .map_err(|e| PipelineError::io(&to, e))?;
                }
            }
        }
        Ok(())
    }

    /// Throw this process's staged output away.
    pub fn abandon(&self) {
        if let Err(e) = remove_dir_if_present(&self.staging()) {
            tracing::warn!(error = %e, "could not remove the staging folder");
        }
    }

    /// Write `name` in the folder atomically (a temporary file renamed into place).
    pub fn write_file(&self, name: &str, contents: &[u8]) -> Result<(), PipelineError> {
        write_atomic(&self.root.join(name), contents)
    }
}

/// Write `path` atomically: a sibling temporary file, synced, then renamed.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), PipelineError> {
    use std::io::Write;
    let tmp = path.with_extension("partial");
    let mut file = File::create(&tmp).map_err(|e| PipelineError::io(&tmp, e))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| PipelineError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| PipelineError::io(path, e))
}

fn remove_dir_if_present(path: &Path) -> Result<(), PipelineError> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(PipelineError::io(path, e)),
    }
}

/// Every row of table `T::NAME` under `root`, over all part files, in file order.
pub fn read_table<T: ArrowRecord>(
    root: &Path,
    registry: &SymbolRegistry,
) -> Result<Vec<T>, PipelineError> {
    let mut rows = Vec::new();
    for_each_batch::<T>(root, registry, |batch| rows.extend(batch))?;
    Ok(rows)
}

/// Call `f` with the rows of each batch of table `T::NAME` under `root`, in file order.
pub fn for_each_batch<T: ArrowRecord>(
    root: &Path,
    registry: &SymbolRegistry,
    mut f: impl FnMut(Vec<T>),
) -> Result<(), PipelineError> {
    let dir = root.join(T::NAME);
    let mut parts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| PipelineError::io(&dir, e))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    parts.sort();
    for path in parts {
        let file = File::open(&path).map_err(|e| PipelineError::io(&path, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.build())
            .map_err(|e| PipelineError::parquet(&path, e))?;
        for batch in reader {
            let batch = batch.map_err(|e| PipelineError::Input {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            f(
                T::from_batch(&batch, registry).map_err(|source| PipelineError::Schema {
                    path: path.clone(),
                    source,
                })?,
            );
        }
    }
    Ok(())
}

/// A digest of a table's rows that does not depend on how they were split into part
/// files or ordered within them: the SHA-256 of each row's canonical text, summed as
/// 256-bit integers (a multiset hash), with the row count. Memory stays constant however
/// long the table is.
pub fn table_digest<T: ArrowRecord + std::fmt::Debug>(
    root: &Path,
    registry: &SymbolRegistry,
) -> Result<(usize, String), PipelineError> {
    let mut sum = [0u64; 4];
    let mut rows = 0usize;
    for_each_batch::<T>(root, registry, |batch| {
        for row in batch {
            let digest = Sha256::digest(format!("{row:?}").as_bytes());
            let mut carry = 0u128;
            for (i, limb) in sum.iter_mut().enumerate() {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(&digest[i * 8..i * 8 + 8]);
                let total = u128::from(*limb) + u128::from(u64::from_le_bytes(bytes)) + carry;
                *limb = total as u64;
                carry = total >> 64;
            }
            rows += 1;
        }
    })?;
    let hex: String = sum
        .iter()
        .rev()
        .map(|limb| format!("{limb:016x}"))
        .collect();
    Ok((rows, hex))
}
