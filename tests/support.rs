//! Shared helpers of the end-to-end tests: synthetic markets, in-process replays, layout
//! independent digests of a run's tables, and running the real `bot4` command with a
//! time limit.

#[path = "pg.rs"]
pub mod pg;

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use bot4_pipeline::config::{parse_bar_width, parse_epoch, Layout, StrategyConfig};
use bot4_pipeline::generate::generate;
use bot4_pipeline::replay::{replay, ReplayOptions};
use bot4_pipeline::sinks::{read_table, table_digest, TABLES};
use bot4_pipeline::sources::load_registry;
use bot4_pipeline::sources::synthetic::{SyntheticConfig, SyntheticMarket};
use bot4_pipeline::summary::Summary;
use bot4_schemas::{
    ArrowRecord, EquityPoint, ExecutionReport, Fill, Nanos, Order, Position, SymbolRegistry, Tick,
    NANOS_PER_SECOND,
};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

/// 2026-01-01T00:00:00Z, the default start of a synthetic market.
pub const START_TS: Nanos = 1_767_225_600 * NANOS_PER_SECOND;

/// A synthetic market of `symbols` symbols over `seconds` of event time, with L2 depth
/// as the demo has it (five levels a side every 30 s), so that the graph's tests run the
/// venue's book of levels too.
pub fn market_config(symbols: usize, seconds: i64, seed: u64, rate: f64) -> SyntheticConfig {
    SyntheticConfig {
        symbols,
        start_ts: START_TS,
        duration: seconds * NANOS_PER_SECOND,
        seed,
        events_per_second: rate,
        depth_levels: 5,
        depth_interval: 30 * NANOS_PER_SECOND,
    }
}

/// Generate `config` into `dir` (`dir/ticks/…` and `dir/instruments.csv`), as `bot4 gen`.
pub fn generate_market(config: SyntheticConfig, dir: &Path) {
    let generated = generate(config, dir, None).expect("generating a synthetic market");
    assert!(generated.ticks > 0, "the synthetic market has no ticks");
}

/// The ticks of `config` and their registry, in memory.
pub fn market_ticks(config: SyntheticConfig) -> (SymbolRegistry, Vec<Tick>) {
    let market = SyntheticMarket::new(config).expect("a valid synthetic config");
    let registry = market.registry().clone();
    (registry, market.collect())
}

/// The instrument registry a replay of `input` uses.
pub fn registry_of(input: &Path) -> SymbolRegistry {
    load_registry(input, None).expect("reading instruments.csv beside the input")
}

/// The bar width of the tests' replays (`--bar` of the command): markets of a few hours
/// make enough ten-second bars for the volatility model to be fitted and the signal to
/// trade, where one-minute bars would still be warming up.
pub const TEST_BAR: &str = "10s";

/// Options for an in-process replay of `input` into `out` on `workers` threads, with the
/// default strategy, one-second epochs and no progress bar.
pub fn replay_options(input: &Path, out: &Path, workers: usize) -> ReplayOptions {
    let mut strategy = StrategyConfig::default();
    strategy.features.bar_width = parse_bar_width(TEST_BAR).expect("a bar width");
    ReplayOptions {
        input: input.to_owned().into(),
        instruments: None,
        control: None,
        out: out.to_owned(),
        layout: Layout::new(workers, 1, 0, None).expect("a valid single-process layout"),
        epoch: parse_epoch("1s").expect("1s is an epoch width"),
        strategy,
        progress: false,
        database: None,
        control_plane: Default::default(),
        pace: None,
    }
}

/// Run a replay in-process; it must succeed and, as process 0, return its summary.
pub fn run_replay(opts: &ReplayOptions) -> Summary {
    replay(opts)
        .unwrap_or_else(|e| panic!("replaying {} failed: {e}", opts.input))
        .expect("process 0 returns the summary")
}

/// What must not depend on the worker layout: the digest of every decision table and
/// the number of ticks written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    /// Rows of `ticks/`.
    pub ticks: usize,
    /// `(table, rows, digest)` of orders, reports, fills, positions and equity.
    pub tables: Vec<(&'static str, usize, String)>,
}

impl Digests {
    /// Rows of `table`.
    pub fn rows(&self, table: &str) -> usize {
        self.entry(table).1
    }

    /// The digest of `table`.
    pub fn digest(&self, table: &str) -> &str {
        &self.entry(table).2
    }

    fn entry(&self, table: &str) -> &(&'static str, usize, String) {
        self.tables
            .iter()
            .find(|(name, _, _)| *name == table)
            .unwrap_or_else(|| panic!("no digest of table `{table}`"))
    }

    /// Sha-256 of `table`.
    pub fn sha(&self, table: &str) -> &str {
        self.tables
            .iter()
            .find(|(name, _, _)| *name == table)
            .map(|(_, _, sha)| sha.as_str())
            .unwrap_or_else(|| panic!("no digest of table `{table}`"))
    }
}

fn digest_of<T: ArrowRecord + std::fmt::Debug>(
    out: &Path,
    registry: &SymbolRegistry,
) -> (&'static str, usize, String) {
    let (rows, sha) = table_digest::<T>(out, registry)
        .unwrap_or_else(|e| panic!("digest of {}/{}: {e}", out.display(), T::NAME));
    (T::NAME, rows, sha)
}

/// The [`Digests`] of the replay output in `out`.
pub fn digests(out: &Path, registry: &SymbolRegistry) -> Digests {
    Digests {
        ticks: table::<Tick>(out, registry).len(),
        tables: vec![
            digest_of::<Order>(out, registry),
            digest_of::<ExecutionReport>(out, registry),
            digest_of::<Fill>(out, registry),
            digest_of::<Position>(out, registry),
            digest_of::<EquityPoint>(out, registry),
        ],
    }
}

/// Every row of table `T` in the replay output `out`.
pub fn table<T: ArrowRecord>(out: &Path, registry: &SymbolRegistry) -> Vec<T> {
    read_table::<T>(out, registry)
        .unwrap_or_else(|e| panic!("reading {}/{}: {e}", out.display(), T::NAME))
}

/// The tables of a replay that exist under `out` (as folders).
pub fn tables_present(out: &Path) -> Vec<&'static str> {
    TABLES
        .into_iter()
        .filter(|t| out.join(t).exists())
        .collect()
}

/// The `bot4` binary: `$BOT4_BIN` if set, else `target/<profile>/bot4` beside this test
/// executable (`target/<profile>/deps/<test>-<hash>`).
pub fn bot4_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("BOT4_BIN") {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "BOT4_BIN={} is not a file", path.display());
        return path;
    }
    let exe = std::env::current_exe().expect("the path of the test executable");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test executable lives in target/<profile>/deps/");
    let bin = profile_dir.join(format!("bot4{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "the bot4 binary is missing at {}: run `cargo build --release -p bot4-pipeline` \
         first (or set BOT4_BIN to its path)",
        bin.display()
    );
    bin
}

/// What a finished command left behind.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status.
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: String,
    /// Everything it wrote to stderr.
    pub stderr: String,
}

impl Finished {
    /// Stdout and stderr, for a failure message.
    pub fn describe(&self) -> String {
        format!(
            "status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// A running `bot4` whose output is collected in the background. Dropped unwaited (a
/// test failed before waiting), it kills the process so none outlives the test.
#[derive(Debug)]
pub struct Running {
    child: Child,
    stdout: Option<std::thread::JoinHandle<String>>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            // Best effort while unwinding: the process may exit on its own meanwhile.
            if self.child.kill().is_ok() {
                drop(self.child.wait());
            }
        }
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Err(e) = pipe.read_to_end(&mut bytes) {
            bytes.extend_from_slice(format!("\n<reading the pipe failed: {e}>").as_bytes());
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Start `bot4 args…` with its output captured.
pub fn spawn_bot4<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Running {
    let mut child = Command::new(bot4_bin())
        .args(args)
        .env("BOT4_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the bot4 binary");
    let stdout = Some(drain(child.stdout.take().expect("stdout is piped")));
    let stderr = Some(drain(child.stderr.take().expect("stderr is piped")));
    Running {
        child,
        stdout,
        stderr,
    }
}

impl Running {
    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the command is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Wait until the command exits, or kill it after `timeout`. Returns what it wrote and
    /// whether it was killed.
    pub fn wait(mut self, timeout: Duration) -> (Finished, bool) {
        let deadline = Instant::now() + timeout;
        let mut killed = false;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("polling a child process") {
                break status;
            }
            if Instant::now() >= deadline {
                if let Err(e) = self.child.kill() {
                    assert_eq!(
                        e.kind(),
                        std::io::ErrorKind::InvalidInput,
                        "killing a child process: {e}"
                    );
                }
                killed = true;
                break self.child.wait().expect("reaping a killed child process");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let join = |handle: Option<std::thread::JoinHandle<String>>| {
            handle
                .expect("the output is collected once")
                .join()
                .expect("an output reader thread")
        };
        let stdout = join(self.stdout.take());
        let stderr = join(self.stderr.take());
        (
            Finished {
                status,
                stdout,
                stderr,
            },
            killed,
        )
    }
}

/// Run `bot4 args…` to completion; it may take at most `timeout`.
pub fn run_bot4<S: AsRef<std::ffi::OsStr>>(args: &[S], timeout: Duration) -> Finished {
    let (finished, killed) = spawn_bot4(args).wait(timeout);
    assert!(
        !killed,
        "bot4 {:?} did not finish within {timeout:?}\n{}",
        args.iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect::<Vec<_>>(),
        finished.describe()
    );
    finished
}

/// The run id a replay with a database printed (`database          run <uuid>: …`).
pub fn printed_run_id(stdout: &str) -> String {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("database"))
        .unwrap_or_else(|| panic!("no database line in\n{stdout}"));
    line.split_whitespace()
        .nth(2)
        .expect("database run <id>:")
        .trim_end_matches(':')
        .to_owned()
}

/// `n` TCP ports on 127.0.0.1 that were free a moment ago (bound to port 0, then released).
pub fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("binding a free loopback port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("the bound address").port())
        .collect()
}

/// Write `batch` as a Parquet file at `path`, in row groups of at most `row_group_rows`.
pub fn write_parquet(path: &Path, batch: &RecordBatch, row_group_rows: usize) {
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(row_group_rows))
        .build();
    let file = std::fs::File::create(path).expect("creating a parquet file");
    let mut writer =
        ArrowWriter::try_new(file, batch.schema(), Some(props)).expect("a parquet writer");
    writer.write(batch).expect("writing a record batch");
    writer.close().expect("closing a parquet file");
}

/// Write a control file (`ts,mode,reason`) with these events.
pub fn write_control(path: &Path, events: &[(Nanos, &str)]) {
    let mut text = String::from("ts,mode,reason\n");
    for (ts, mode) in events {
        text.push_str(&format!("{ts},{mode},test {mode}\n"));
    }
    std::fs::write(path, text).expect("writing the control file");
}
