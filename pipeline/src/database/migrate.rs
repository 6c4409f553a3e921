//! The migrations under `migrations/`, embedded in the binary and applied with sqlx's
//! migrator (its `_sqlx_migrations` table, checksums and advisory lock).

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::postgres::PgConnection;

use super::failed;
use crate::PipelineError;

/// `(version, description, SQL)` of every file under `migrations/`, in version order.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        20261124000001,
        "storage",
        include_str!("../../../migrations/20261124000001_storage.sql"),
    ),
    (
        20261124000002,
        "runs",
        include_str!("../../../migrations/20261124000002_runs.sql"),
    ),
    (
        20261124000003,
        "series",
        include_str!("../../../migrations/20261124000003_series.sql"),
    ),
    (
        20261124000004,
        "ohlcv",
        include_str!("../../../migrations/20261124000004_ohlcv.sql"),
    ),
    (
        20261124000005,
        "policies",
        include_str!("../../../migrations/20261124000005_policies.sql"),
    ),
    (
        20261124000006,
        "control_sources",
        include_str!("../../../migrations/20261124000006_control_sources.sql"),
    ),
    (
        20261124000007,
        "audit",
        include_str!("../../../migrations/20261124000007_audit.sql"),
    ),
    (
        20261124000008,
        "control_parameters",
        include_str!("../../../migrations/20261124000008_control_parameters.sql"),
    ),
    (
        20261124000009,
        "order_types",
        include_str!("../../../migrations/20261124000009_order_types.sql"),
    ),
    (
        20261124000010,
        "depth_ticks",
        include_str!("../../../migrations/20261124000010_depth_ticks.sql"),
    ),
];

/// The embedded migrations as sqlx sees them.
#[derive(Debug)]
struct Embedded;

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// What `migrate` did and which storage the database uses.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationReport {
    /// Versions applied by this call.
    pub applied: Vec<i64>,
    /// Versions the database had already.
    pub already: usize,
    /// `timescaledb` (hypertables) or `partitioned` (plain PostgreSQL).
    pub storage: String,
    /// The server's version.
    pub server: String,
    /// TimescaleDB's version, when it is the storage.
    pub timescaledb: Option<String>,
}

impl MigrationReport {
    /// One line for the log or the terminal.
    pub fn to_text(&self) -> String {
        let storage = match &self.timescaledb {
            Some(v) => format!("TimescaleDB {v} hypertables"),
            None => format!(
                "plain PostgreSQL {} (no timescaledb extension: range partitions, materialized views, time_bucket through date_bin)",
                self.server
            ),
        };
        format!(
            "migrations: {} applied, {} already there; storage: {storage}",
            self.applied.len(),
            self.already
        )
    }
}

/// Apply the migrations the database lacks. Applying them twice changes nothing; a
/// database whose applied migrations differ from these files (an edited or unknown
/// version) is refused.
pub async fn migrate(conn: &mut PgConnection) -> Result<MigrationReport, PipelineError> {
    let migrator = Migrator::new(Embedded)
        .await
        .map_err(|e| PipelineError::Migration(e.to_string()))?;
    let before = applied_versions(conn).await?;
    migrator
        .run(&mut *conn)
        .await
        .map_err(|e| PipelineError::Migration(e.to_string()))?;
    let applied: Vec<i64> = MIGRATIONS
        .iter()
        .map(|m| m.0)
        .filter(|v| !before.contains(v))
        .collect();
    let (storage, server, timescaledb): (String, String, Option<String>) = sqlx::query_as(
        "SELECT bot4_storage(), current_setting('server_version'), \
         (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb')",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(failed("reading the storage decision"))?;
    let report = MigrationReport {
        applied,
        already: before.len(),
        storage,
        server,
        timescaledb,
    };
    tracing::info!(
        applied = report.applied.len(),
        already = report.already,
        storage = %report.storage,
        server = %report.server,
        "database migrated"
    );
    if report.timescaledb.is_none() {
        tracing::info!("no timescaledb extension: plain PostgreSQL range partitions");
    }
    Ok(report)
}

async fn applied_versions(conn: &mut PgConnection) -> Result<Vec<i64>, PipelineError> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await
        .map_err(failed("reading the applied migrations"))?;
    if !exists {
        return Ok(Vec::new());
    }
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(&mut *conn)
        .await
        .map_err(failed("reading the applied migrations"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_under_migrations_is_embedded_in_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("migrations/")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let embedded: Vec<String> = MIGRATIONS
            .iter()
            .map(|(v, d, _)| format!("{v}_{d}.sql"))
            .collect();
        assert_eq!(files, embedded);
        for (name, (_, _, sql)) in files.iter().zip(MIGRATIONS) {
            let on_disk = std::fs::read_to_string(dir.join(name)).expect("readable");
            assert_eq!(&on_disk, sql, "{name}");
        }
    }
}
