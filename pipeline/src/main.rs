//! `bot4`: generate a market, replay ticks through the trading graph, or run the demo.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use bot4_pipeline::config::{
    parse_bar_width, parse_duration, parse_epoch, parse_optional_interval, parse_time, Layout,
    StrategyConfig, TierConfig,
};
use bot4_pipeline::database::{self, Database};
use bot4_pipeline::generate::generate;
use bot4_pipeline::replay::{replay, DatabaseOptions, ReplayOptions};
use bot4_pipeline::research::garch::{garch, GarchOptions};
use bot4_pipeline::research::indicators::{indicators, IndicatorOptions};
use bot4_pipeline::research::stats::{stats, StatsOptions};
use bot4_pipeline::sources::postgres::DatabaseInput;
use bot4_pipeline::sources::synthetic::SyntheticConfig;
use bot4_pipeline::sources::TickInput;
use bot4_schemas::Decimal;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Bot4: an autonomous crypto-trading platform built as a timely-dataflow job.
#[derive(Debug, Parser)]
#[command(name = "bot4", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a synthetic market as Parquet tick files.
    Gen(GenArgs),
    /// Replay recorded ticks (Parquet or CSV) through the trading graph.
    Replay(ReplayArgs),
    /// Generate a day of 20 symbols and replay it, writing under ./bot4-out.
    Demo(DemoArgs),
    /// Compute every indicator column for a file of OHLCV bars or ticks.
    Indicators(IndicatorsArgs),
    /// Test one column of a file: ADF, Jarque-Bera and Ljung-Box, printed as JSON.
    Stats(StatsArgs),
    /// Fit a GARCH(1,1) to one column of a file and forecast its variance, as JSON.
    Garch(GarchArgs),
    /// Create or update the database schema: TimescaleDB hypertables when the extension
    /// is available, plain PostgreSQL range partitions otherwise.
    Migrate(MigrateArgs),
    /// Write a table's rows in a time range from the database as Parquet, by date and
    /// symbol.
    ///
    /// The files are OUT/<table>/date=YYYY-MM-DD/symbol=SYM/part-NNNN.parquet (without the
    /// symbol= level for equity and control, which have no symbol), the date being that of
    /// ts in UTC, zstd-compressed, for readers with Hive partitioning: e.g.
    /// polars.scan_parquet('OUT/fills/**/*.parquet', hive_partitioning=True), or duckdb's
    /// read_parquet('OUT/fills/**/*.parquet', hive_partitioning = true), or
    /// pyarrow.dataset.dataset('OUT/fills', partitioning='hive').
    ///
    /// Every column of the table comes out, by its type in the database: numeric(38,12) as
    /// decimal(38,12) (exact; a value of more than 28 significant digits is an error),
    /// bigint as int64, smallint as int16, double precision as float64, boolean, text, and
    /// uuid (run_id) as text. ts (and end, for bar_features) is timestamp[ns, UTC], from
    /// the exact nanoseconds. The symbol column stays in the files. Within a file the rows
    /// are in order of ts, then of the table's unique key; a partition rolls over to its
    /// next part file every 1048576 rows.
    ///
    /// The files are written in a hidden staging folder in OUT, and OUT/<table> appears
    /// only once all are complete: a failure leaves nothing behind. An existing
    /// OUT/<table> is replaced only when an earlier export made it (an export leaves
    /// OUT/.bot4-export-<table>.json, which says what it exported, beside the folder);
    /// any other is refused. A selection without rows writes nothing.
    Export(ExportArgs),
    /// Measure a part of Bot4 on this machine.
    Bench(BenchArgs),
    /// Ask a running job (started with --admin) for a mode of its safety controller:
    /// pause (no new orders), resume, reduce (only orders that reduce exposure),
    /// emergency (nothing but cancels, until a reset) or reset.
    Control(bot4_pipeline::control::cli::ControlArgs),
    /// Show what a running job (started with --admin) reports: its mode and why, event
    /// time, equity, drawdown, exposure, positions and health.
    Status(bot4_pipeline::control::cli::StatusArgs),
    /// Check a run's tamper-evident audit log.
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
struct AuditArgs {
    #[command(subcommand)]
    what: AuditCommand,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check that a run's audit log is a whole hash chain: every entry numbered in order,
    /// linked to the one before and matching its hash, and ending at the head recorded in
    /// the run's summary. Prints the entries and the head, or names the first broken
    /// entry and exits with status 1.
    ///
    /// From files: a run's output folder (with audit/ and summary.json), its audit/
    /// folder, or one .parquet file of it; the rows are checked in stored order (part
    /// files by name). From the database: --database-url and --run, the rows by seq and
    /// the head in runs.summary.
    Verify(AuditVerifyArgs),
}

#[derive(Debug, Args)]
struct AuditVerifyArgs {
    /// A run's output folder, its audit/ folder or one of its .parquet files.
    #[arg(required_unless_present = "run", conflicts_with = "run")]
    path: Option<PathBuf>,
    /// The run whose log to read from the database.
    #[arg(long, requires = "database_url")]
    run: Option<uuid::Uuid>,
    /// postgres://user:password@host:port/database (with --run).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
}

#[derive(Debug, Args)]
struct BenchArgs {
    #[command(subcommand)]
    what: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Database ingest: synthetic tick rows through the sink's writers (binary COPY, one
    /// transaction per batch), into a new run that is deleted afterwards.
    Sink(SinkBenchArgs),
}

#[derive(Debug, Args)]
struct SinkBenchArgs {
    /// postgres://user:password@host:port/database
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// Tick rows to write.
    #[arg(long, default_value_t = 2_000_000)]
    rows: usize,
    /// Connections writing in parallel.
    #[arg(long, default_value_t = 1)]
    writers: usize,
    /// Rows per batch (one transaction each).
    #[arg(long, default_value_t = 32 * 1024)]
    batch_rows: usize,
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// The table: ticks, bar_features, signals, orders, reports, fills, positions, equity,
    /// control or audit.
    #[arg(long)]
    table: String,
    /// From this time, inclusive (RFC 3339, or a date for its midnight UTC).
    #[arg(long)]
    start: String,
    /// To this time, exclusive.
    #[arg(long)]
    end: String,
    /// The folder that gets <table>/.
    #[arg(long)]
    out: PathBuf,
    /// Only the rows of this run (default: every run's; the files keep run_id).
    #[arg(long)]
    run: Option<uuid::Uuid>,
    /// Only these symbols, comma-separated (default: all; tables with a symbol column).
    #[arg(long, value_delimiter = ',')]
    symbols: Vec<String>,
    /// postgres://user:password@host:port/database
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
}

#[derive(Debug, Args)]
struct MigrateArgs {
    /// postgres://user:password@host:port/database
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
}

#[derive(Debug, Args)]
struct GarchArgs {
    /// A .csv or .parquet file.
    #[arg(long)]
    input: PathBuf,
    /// The column to model.
    #[arg(long)]
    column: String,
    /// The rows of this symbol only, for a file with a `symbol` column.
    #[arg(long)]
    symbol: Option<String>,
    /// The innovation distribution: normal or t (Student-t).
    #[arg(long, default_value = "normal", value_parser = ["normal", "t"])]
    dist: String,
    /// Forecast the variance 1..=H steps ahead.
    #[arg(long, default_value_t = 10)]
    horizon: usize,
    /// Model the column's log returns rather than its values.
    #[arg(long)]
    returns: bool,
}

#[derive(Debug, Args)]
struct StatsArgs {
    /// A .csv or .parquet file.
    #[arg(long)]
    input: PathBuf,
    /// The column to test.
    #[arg(long)]
    column: String,
    /// The rows of this symbol only, for a file with a `symbol` column.
    #[arg(long)]
    symbol: Option<String>,
    /// Test the column's log returns rather than its levels.
    #[arg(long)]
    returns: bool,
}

#[derive(Debug, Args)]
struct IndicatorsArgs {
    /// Bars (.csv or .parquet with columns ts, open, high, low, close, volume and
    /// optionally symbol), or tick files as `bot4 replay` reads them.
    #[arg(long)]
    input: PathBuf,
    /// The Parquet file to write: the bars, then one column per indicator.
    #[arg(long)]
    out: PathBuf,
    /// Width of the bars cut from tick input, e.g. 1m or 1h.
    #[arg(long, default_value = "1m")]
    bar: String,
}

#[derive(Debug, Args)]
struct GenArgs {
    /// Number of symbols.
    #[arg(long, default_value_t = 8)]
    symbols: usize,
    /// Event time covered, e.g. 30m, 2h, 1d.
    #[arg(long, default_value = "1h")]
    duration: String,
    /// Seed of the market's random numbers.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Market events per symbol per second.
    #[arg(long, default_value_t = 2.0)]
    rate: f64,
    /// L2 depth: book levels behind the touch per side in each snapshot (0: none).
    #[arg(long, default_value_t = 0)]
    depth_levels: usize,
    /// Event time between a symbol's depth snapshots, e.g. 30s.
    #[arg(long, default_value = "30s")]
    depth_interval: String,
    /// Start time, RFC 3339 in UTC (e.g. 2026-01-01T00:00:00Z) or a date.
    #[arg(long, default_value = "2026-01-01T00:00:00Z")]
    start: String,
    /// Output folder (gets ticks/ and instruments.csv).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct ReplayArgs {
    /// A tick file (.parquet or .csv) or a folder of them.
    #[arg(long, required_unless_present = "from", conflicts_with = "from")]
    input: Option<PathBuf>,
    /// Replay the ticks stored in this database (postgres://…) instead of files.
    #[arg(long, requires_all = ["start", "end"])]
    from: Option<String>,
    /// With --from: the run whose ticks to replay (default: the latest run with ticks of
    /// the symbols in the range).
    #[arg(long, requires = "from")]
    source_run: Option<uuid::Uuid>,
    /// With --from: only these symbols, comma-separated (default: all of the run's).
    #[arg(long, requires = "from", value_delimiter = ',')]
    symbols: Vec<String>,
    /// With --from: from this time, inclusive (RFC 3339, or a date for its midnight UTC).
    #[arg(long, requires = "from")]
    start: Option<String>,
    /// With --from: to this time, exclusive.
    #[arg(long, requires = "from")]
    end: Option<String>,
    /// Instrument registry CSV (symbol,tick_size,lot_size,min_notional); default: instruments.csv beside the input.
    #[arg(long)]
    instruments: Option<PathBuf>,
    /// Control events to inject: CSV with columns ts (ns), mode, reason.
    #[arg(long)]
    control: Option<PathBuf>,
    /// Output folder: one folder of Parquet per record type.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Output folder.
    #[arg(long, default_value = "bot4-out")]
    out: PathBuf,
    /// Seed of the generated market.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Worker threads per process.
    #[arg(long, short = 'w', default_value_t = default_workers())]
    workers: usize,
    /// Processes in the job (timely cluster mode).
    #[arg(long, short = 'n', default_value_t = 1)]
    processes: usize,
    /// This process's index, from 0.
    #[arg(long, short = 'p', default_value_t = 0)]
    process: usize,
    /// File of host:port lines, one per process.
    #[arg(long)]
    hostfile: Option<PathBuf>,
    /// Width of a timely epoch of event time, e.g. 100ms or 1s.
    #[arg(long, default_value = "1s")]
    epoch: String,
    /// Starting capital in quote currency.
    #[arg(long, default_value = "1000000")]
    capital: Decimal,
    /// Width of the time bars the indicators, models and signal run on, e.g. 1m or 10s.
    #[arg(long, default_value = "1m")]
    bar: String,
    /// Never draw a progress bar.
    #[arg(long)]
    quiet: bool,
    /// Also write every table to this PostgreSQL/TimescaleDB database
    /// (postgres://user:password@host:port/database); without it, Parquet only.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// The run's id in the database (default: a new one). Give every process of a
    /// multi-process job the same one.
    #[arg(long)]
    run_id: Option<uuid::Uuid>,
    /// Replay at this multiple of real time (e.g. 1 for a paper run's pace, 60 for a
    /// minute of market a second); as fast as possible without it.
    #[arg(long)]
    pace: Option<f64>,
    /// The capital tiers, a JSON file (`{"hysteresis": 0.2, "tiers": [...]}`, see the
    /// README); the embedded ones without it.
    #[arg(long)]
    tiers: Option<PathBuf>,
    /// Drawdown from the peak (a fraction) that moves the safety controller to Reduce;
    /// 0 turns the trigger off.
    #[arg(long, default_value_t = 0.15)]
    soft_drawdown: f64,
    /// Drawdown that moves it to Emergency; 0 turns the trigger off.
    #[arg(long, default_value_t = 0.20)]
    hard_drawdown: f64,
    /// A symbol without a tick for this long pauses trading (event time), e.g. 2m;
    /// 0 turns the trigger off.
    #[arg(long, default_value = "2m")]
    stale_after: String,
    /// Venue rejects within a minute that trip the circuit breaker (a Pause of five
    /// minutes); 0 turns it off.
    #[arg(long, default_value_t = 20)]
    breaker_rejects: u32,
    /// How long after it is asked for (`bot4 control set`, or a `set` row of the control
    /// file) a parameter change takes effect, in event time.
    #[arg(long, default_value = "24h")]
    parameter_cooldown: String,
    /// With --pace (or a live market): the largest skew between the market's time and the
    /// local clock before trading pauses; 0 turns the trigger off.
    #[arg(long, default_value = "2s")]
    max_clock_skew: String,
    #[command(flatten)]
    levers: bot4_pipeline::control::cli::ControlPlaneArgs,
}

fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

impl RunArgs {
    fn options(&self, input: TickInput, out: PathBuf) -> anyhow::Result<ReplayOptions> {
        let mut strategy = StrategyConfig::default();
        anyhow::ensure!(self.capital > Decimal::ZERO, "--capital must be positive");
        strategy.capital = self.capital;
        strategy.features.bar_width = parse_bar_width(&self.bar).context("--bar")?;
        if let Some(path) = &self.tiers {
            strategy.tiers = TierConfig::from_file(path).context("--tiers")?;
        }
        let limit = |v: f64| (v != 0.0).then_some(v);
        strategy.safety.soft_drawdown = limit(self.soft_drawdown);
        strategy.safety.hard_drawdown = limit(self.hard_drawdown);
        strategy.safety.stale_after_ns =
            parse_optional_interval(&self.stale_after).context("--stale-after")?;
        strategy.safety.breaker_rejects = self.breaker_rejects;
        strategy.safety.parameter_cooldown_ns = parse_optional_interval(&self.parameter_cooldown)
            .context("--parameter-cooldown")?
            .unwrap_or(0);
        strategy.safety.max_clock_skew_ns =
            parse_optional_interval(&self.max_clock_skew).context("--max-clock-skew")?;
        if let Some(pace) = self.pace {
            anyhow::ensure!(
                pace.is_finite() && pace > 0.0,
                "--pace must be a positive multiple of real time"
            );
        }
        Ok(ReplayOptions {
            input,
            instruments: None,
            control: None,
            out,
            layout: Layout::new(
                self.workers,
                self.processes,
                self.process,
                self.hostfile.as_ref(),
            )?,
            epoch: parse_epoch(&self.epoch).context("--epoch")?,
            strategy,
            progress: !self.quiet && std::io::stderr().is_terminal(),
            database: self
                .database_url
                .as_ref()
                .filter(|url| !url.is_empty())
                .map(|url| DatabaseOptions {
                    url: url.clone(),
                    run_id: self.run_id,
                }),
            control_plane: self.levers.config()?,
            pace: self.pace,
        })
    }
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BOT4_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        #[allow(
            clippy::print_stderr,
            reason = "the command's error message for its user"
        )]
        {
            eprintln!("bot4: error: {e:#}");
        }
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Gen(args) => {
            let config = synthetic_config(&args)?;
            gen(config, &args.out, true)
        }
        Command::Replay(args) => {
            let input = match (args.input, args.from) {
                (Some(path), _) => TickInput::Files(path),
                (None, Some(url)) => TickInput::Database(DatabaseInput {
                    url,
                    run: args.source_run,
                    symbols: args.symbols,
                    start: parse_time(args.start.as_deref().unwrap_or_default())
                        .context("--start")?,
                    end: parse_time(args.end.as_deref().unwrap_or_default()).context("--end")?,
                }),
                (None, None) => anyhow::bail!("give --input or --from"),
            };
            let mut opts = args.run.options(input, args.out)?;
            opts.instruments = args.instruments;
            opts.control = args.control;
            run_replay(&opts)
        }
        Command::Demo(args) => {
            let input = args.out.join("input");
            let config = SyntheticConfig {
                symbols: 20,
                duration: 86_400 * bot4_schemas::NANOS_PER_SECOND,
                seed: args.seed,
                // Five levels a side every 30 s: the venue walks them beyond the touch.
                depth_levels: 5,
                ..SyntheticConfig::default()
            };
            gen(config, &input, !args.run.quiet)?;
            let opts = args.run.options(input.into(), args.out.clone())?;
            run_replay(&opts)?;
            say(&format!(
                "outputs: {}/{{{}}}/*.parquet",
                args.out.display(),
                bot4_pipeline::sinks::TABLES.join(",")
            ));
            Ok(())
        }
        Command::Stats(args) => {
            let report = stats(&StatsOptions {
                input: args.input,
                column: args.column,
                symbol: args.symbol,
                returns: args.returns,
            })?;
            say(&serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Garch(args) => {
            let dist = if args.dist == "t" {
                bot4_operators::models::garch::Distribution::StudentT
            } else {
                bot4_operators::models::garch::Distribution::Normal
            };
            let report = garch(&GarchOptions {
                input: args.input,
                column: args.column,
                symbol: args.symbol,
                dist,
                horizon: args.horizon,
                returns: args.returns,
            })?;
            say(&serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Export(args) => {
            let report = bot4_pipeline::export::export(&bot4_pipeline::export::ExportOptions {
                url: args.database_url,
                table: args.table,
                start: parse_time(&args.start).context("--start")?,
                end: parse_time(&args.end).context("--end")?,
                out: args.out,
                run: args.run,
                symbols: args.symbols,
                part_rows: bot4_pipeline::export::PART_ROWS,
            })?;
            say(&report.to_text());
            Ok(())
        }
        Command::Audit(AuditArgs {
            what: AuditCommand::Verify(args),
        }) => {
            let report = match (args.path, args.run, args.database_url) {
                (Some(path), _, _) => bot4_pipeline::audit::verify_files(&path)?,
                (None, Some(run), Some(url)) => bot4_pipeline::audit::verify_database(&url, run)?,
                _ => anyhow::bail!("give a folder or file, or --database-url and --run"),
            };
            say(&report.to_text());
            Ok(())
        }
        Command::Migrate(args) => {
            let db = Database::new(&args.database_url)?;
            let report = database::with_connection(&db, async |conn| database::migrate(conn).await)
                .with_context(|| format!("migrating {}", db.describe()))?;
            say(&report.to_text());
            Ok(())
        }
        Command::Bench(BenchArgs {
            what: BenchCommand::Sink(args),
        }) => {
            let report =
                bot4_pipeline::bench::bench_sink(&bot4_pipeline::bench::SinkBenchOptions {
                    url: args.database_url,
                    rows: args.rows,
                    writers: args.writers,
                    batch_rows: args.batch_rows,
                })?;
            say(&report.to_text());
            Ok(())
        }
        Command::Control(args) => {
            say(&bot4_pipeline::control::cli::control_command(&args)?);
            Ok(())
        }
        Command::Status(args) => {
            say(&bot4_pipeline::control::cli::status_command(&args)?);
            Ok(())
        }
        Command::Indicators(args) => {
            let bar = parse_bar_width(&args.bar).context("--bar")?;
            let report = indicators(&IndicatorOptions {
                input: args.input,
                out: args.out.clone(),
                bar,
            })?;
            say(&format!(
                "{} bars of {} symbol(s), {} indicator columns: {}",
                report.bars,
                report.symbols,
                report.columns,
                args.out.display()
            ));
            Ok(())
        }
    }
}

fn synthetic_config(args: &GenArgs) -> anyhow::Result<SyntheticConfig> {
    let duration = parse_duration(&args.duration)?;
    Ok(SyntheticConfig {
        symbols: args.symbols,
        start_ts: parse_time(&args.start).context("--start")?,
        duration: i64::try_from(duration.as_nanos()).context("--duration is too long")?,
        seed: args.seed,
        events_per_second: args.rate,
        depth_levels: args.depth_levels,
        depth_interval: i64::try_from(parse_duration(&args.depth_interval)?.as_nanos())
            .context("--depth-interval is too long")?,
    })
}

fn gen(config: SyntheticConfig, out: &std::path::Path, progress: bool) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let bar = (progress && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} gen [{elapsed_precise}] {human_pos} ticks ({per_sec})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    });
    let (symbols, seed) = (config.symbols, config.seed);
    let generated = generate(config, out, bar.as_ref())
        .with_context(|| format!("generating into {}", out.display()))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    say(&format!(
        "generated {} ticks of {symbols} symbols (seed {seed}) in {} files under {} in {:.2} s",
        generated.ticks,
        generated.files,
        out.display(),
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

fn run_replay(opts: &ReplayOptions) -> anyhow::Result<()> {
    let summary = replay(opts).with_context(|| format!("replaying {}", opts.input))?;
    if let Some(summary) = summary {
        say(&summary.to_text());
    }
    Ok(())
}

/// Print the command's output for its user. A reader that has gone away (`bot4 stats |
/// head`) ends the output, not the program with a panic.
fn say(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", text.trim_end()).and_then(|()| out.flush());
}
