//! The database side of Bot4: connecting, the embedded migrations, the run registry.
//!
//! Bot4 talks to PostgreSQL (with or without TimescaleDB) through sqlx on a Tokio
//! runtime of its own, on threads of its own: the dataflow's workers never wait on a
//! network round trip (see `sinks::postgres`).

mod migrate;
mod runs;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::ConnectOptions;

pub use migrate::{migrate, MigrationReport, MIGRATIONS};
pub use runs::{finish_run, run_instruments, start_run, RunRecord, RunStatus};

use crate::PipelineError;

/// The time-series tables the migrations create: one per table a run writes.
pub const SERIES_TABLES: [&str; 11] = crate::sinks::TABLES;

/// How long a connection attempt may take before it counts as a failure.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the database is: a parsed `postgres://` URL.
#[derive(Debug, Clone)]
pub struct Database {
    options: PgConnectOptions,
}

impl Database {
    /// Parse a `postgres://user:password@host:port/database` URL (`postgresql://` too,
    /// with libpq's query parameters such as `sslmode`), without connecting.
    pub fn new(url: &str) -> Result<Self, PipelineError> {
        let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        if !matches!(scheme.as_deref(), Some("postgres" | "postgresql")) {
            return Err(PipelineError::Config(
                "the database URL is not a PostgreSQL URL (postgres://user@host:port/database)"
                    .into(),
            ));
        }
        let options = PgConnectOptions::from_str(url).map_err(|e| PipelineError::Database {
            context:
                "the database URL is not a PostgreSQL URL (postgres://user@host:port/database)"
                    .into(),
            cause: e,
        })?;
        let options = options
            .application_name("bot4")
            // Statements are logged by Bot4's own spans; a long COPY is expected.
            .log_statements(log::LevelFilter::Trace)
            .log_slow_statements(log::LevelFilter::Debug, Duration::from_secs(10));
        Ok(Self { options })
    }

    /// `user@host:port/database`, for messages (never the password).
    pub fn describe(&self) -> String {
        format!(
            "{}@{}:{}/{}",
            self.options.get_username(),
            self.options.get_host(),
            self.options.get_port(),
            self.options.get_database().unwrap_or("")
        )
    }

    /// One connection, or a clear error naming the server.
    pub async fn connect(&self) -> Result<PgConnection, PipelineError> {
        let attempt = tokio::time::timeout(CONNECT_TIMEOUT, self.options.connect()).await;
        match attempt {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(source)) => Err(PipelineError::Database {
                context: format!("cannot connect to the database {}", self.describe()),
                cause: source,
            }),
            Err(_) => Err(PipelineError::Database {
                context: format!(
                    "cannot connect to the database {}: no answer in {} s",
                    self.describe(),
                    CONNECT_TIMEOUT.as_secs()
                ),
                cause: sqlx::Error::PoolTimedOut,
            }),
        }
    }
}

/// A Tokio runtime for the calling thread's database work.
pub fn runtime() -> Result<tokio::runtime::Runtime, PipelineError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| PipelineError::Dataflow(format!("starting a Tokio runtime: {e}")))
}

/// Run `f` on a connection to `db`, on a runtime of the calling thread's own.
pub fn with_connection<T>(
    db: &Database,
    f: impl AsyncFnOnce(&mut PgConnection) -> Result<T, PipelineError>,
) -> Result<T, PipelineError> {
    runtime()?.block_on(async {
        let mut conn = db.connect().await?;
        f(&mut conn).await
    })
}

/// The exact decimal of a `numeric` read as text (`price::text`), or `None` when it has
/// more significant digits than a [`bot4_schemas::Decimal`] holds (28). Bot4 reads
/// `numeric` as text for this reason: sqlx's binary decoding rounds such a value without
/// a word.
pub(crate) fn exact_decimal(text: &str) -> Option<bot4_schemas::Decimal> {
    bot4_schemas::Decimal::from_str_exact(text).ok()
}

/// An error of a statement, with what Bot4 was doing.
pub(crate) fn failed(context: impl Into<String>) -> impl FnOnce(sqlx::Error) -> PipelineError {
    let context = context.into();
    move |cause| PipelineError::Database { context, cause }
}

/// Whether `e` is the connection's fault rather than the statement's: worth retrying
/// on a new connection. PostgreSQL's class 08 (connection exception), 57P01..57P03
/// (the server is shutting down or starting) and 53300 (too many connections) count; a
/// constraint violation or a malformed value does not.
pub(crate) fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
        }),
        sqlx::Error::Protocol(_) => true,
        _ => false,
    }
}
