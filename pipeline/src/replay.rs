//! Running the graph over recorded ticks: one timely job, any layout of workers and
//! processes, the same orders and fills for every layout.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bot4_operators::audit::AuditHead;
use bot4_operators::clock_skew::{ClockSkewConfig, ClockSkewMonitor};
use bot4_operators::safety_triggers::MANUAL_SEQ_BASE;
use bot4_schemas::{
    ArrowRecord, ControlEvent, ControlSource, EpochWidth, EquityPoint, Fill, Nanos, Order,
    SymbolRegistry, Tick,
};
use indicatif::{ProgressBar, ProgressStyle};
use timely::dataflow::InputHandleVec;

use crate::config::{Layout, StrategyConfig};
use crate::control::plane::{ControlPlane, ControlPlaneConfig};
use crate::control::{ControlRequest, JobState, RequestReceiver, StatusBoard};
use crate::database::{self, Database, RunRecord, RunStatus};
use crate::graph::{self, GraphContext, Totals};
use crate::sinks::postgres::{DatabaseSink, SinkConfig, Writer, WriterStats};
use crate::sinks::{table_digest, OutputDir};
use crate::sources::postgres::DatabasePlan;
use crate::sources::{load_registry, plan_inputs, read_control_file, TickInput, TickPlan};
use crate::summary::{AuditSummary, ExecutionSummary, Summary};
use crate::PipelineError;

/// Ticks a worker reads before it lets the graph catch up.
const READ_BATCH: usize = 128;

/// Ticks a worker may have in the graph, sent but not yet through to its outputs.
const MAX_TICKS_IN_FLIGHT: u64 = 1 << 15;

/// Epochs a worker's input may run ahead of the graph's outputs: every epoch in flight
/// is a capability each waiting operator holds and timely tracks.
const MAX_EPOCHS_IN_FLIGHT: usize = 256;

/// Everything a replay needs.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// A tick file or a folder of them, or ticks stored in the database.
    pub input: TickInput,
    /// The instrument registry, if not `instruments.csv` beside the input.
    pub instruments: Option<PathBuf>,
    /// Timed control events to inject.
    pub control: Option<PathBuf>,
    /// Output folder.
    pub out: PathBuf,
    /// Workers and processes.
    pub layout: Layout,
    /// Epoch width.
    pub epoch: EpochWidth,
    /// Strategy parameters.
    pub strategy: StrategyConfig,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
    /// Also write every table to this database.
    pub database: Option<DatabaseOptions>,
    /// The levers a person may pull while the job runs (process 0 starts them).
    pub control_plane: ControlPlaneConfig,
    /// Replay at this multiple of real time (event time against wall time), as a paper
    /// run would see the market; as fast as possible when `None`.
    pub pace: Option<f64>,
}

/// The database a run writes to besides Parquet.
#[derive(Debug, Clone)]
pub struct DatabaseOptions {
    /// `postgres://…`
    pub url: String,
    /// The run's id; new when not given. Every process of a multi-process job must be
    /// given the same one.
    pub run_id: Option<uuid::Uuid>,
}

/// What one worker hands back.
#[derive(Debug)]
struct WorkerResult {
    totals: Totals,
    database: WriterStats,
    audit: AuditHead,
}

/// What every worker reads from the process that started it.
struct Shared {
    registry: Arc<SymbolRegistry>,
    plan: TickPlan,
    control: Vec<ControlEvent>,
    strategy: StrategyConfig,
    epoch: EpochWidth,
    staging: PathBuf,
    out_root: PathBuf,
    processes: usize,
    progress: Option<ProgressBar>,
    database: Option<SinkConfig>,
    /// Control requests from the levers, taken by worker 0.
    requests: Mutex<Option<RequestReceiver>>,
    board: Option<StatusBoard>,
    pace: Option<f64>,
}

/// What `run` hands back: worker 0's totals and audit head (on process 0), and what
/// this process's writers committed.
type RunOutcome = (Option<(Totals, AuditHead)>, WriterStats);

/// Everything prepared before the dataflow starts, so bad input fails before any output.
struct Prepared {
    registry: Arc<SymbolRegistry>,
    plan: TickPlan,
    control: Vec<ControlEvent>,
}

fn prepare(opts: &ReplayOptions) -> Result<Prepared, PipelineError> {
    let (plan, registry) = match &opts.input {
        TickInput::Files(path) => (
            TickPlan::Files(plan_inputs(path, opts.instruments.as_deref())?),
            load_registry(path, opts.instruments.as_deref())?,
        ),
        TickInput::Database(input) => {
            let (plan, registry) = DatabasePlan::resolve(input)?;
            (TickPlan::Database(Box::new(plan)), registry)
        }
    };
    let registry = Arc::new(registry);
    let control = match &opts.control {
        Some(path) => read_control_file(path)?,
        None => Vec::new(),
    };
    Ok(Prepared {
        registry,
        plan,
        control,
    })
}

/// Replay `opts.input` through the graph. Process 0 returns the run's summary; other
/// processes return `None`. On any error, on any worker, nothing of the run's output is
/// kept and an earlier run's output in the folder is left as it was.
pub fn replay(opts: &ReplayOptions) -> Result<Option<Summary>, PipelineError> {
    let started = Instant::now();
    opts.strategy.validate()?;
    let prepared = prepare(opts)?;
    let out = OutputDir::new(&opts.out, opts.layout.process);
    out.prepare()?;
    let sink = match &opts.database {
        Some(db) => Some(start_database(opts, db, &prepared)?),
        None => None,
    };
    tracing::info!(
        rows = prepared.plan.total_rows(),
        prepare_ms = started.elapsed().as_millis() as u64,
        "replay prepared"
    );
    // The levers and the status board, on process 0: its worker 0 enters the control
    // events and runs the safety watch.
    let board = (opts.layout.process == 0).then(StatusBoard::new);
    let plane = match &board {
        Some(board) => Some(ControlPlane::start(
            opts.control_plane.clone(),
            board.clone(),
        )?),
        None => None,
    };
    let (plane, requests) = match plane {
        Some((plane, requests)) => (Some(plane), Some(requests)),
        None => (None, None),
    };
    let result = run(opts, &prepared, &out, sink.clone(), board.clone(), requests);
    if let Some(board) = &board {
        board.update(|s| s.state = JobState::Finished);
    }
    if let Some(plane) = plane {
        plane.stop();
    }
    tracing::info!(
        run_ms = started.elapsed().as_millis() as u64,
        ok = result.is_ok(),
        "dataflow finished"
    );
    // Committed or not, this process's staging folder has served its purpose.
    out.abandon();
    let finished = result.and_then(|(totals, stats)| {
        if opts.layout.process != 0 {
            return Ok(None);
        }
        let (totals, audit) =
            totals.ok_or_else(|| PipelineError::Dataflow("worker 0 returned no totals".into()))?;
        let mut summary = summarize(opts, &prepared.registry, totals, started.elapsed())?;
        summary.database = sink.as_ref().map(|s| (s.run_id, stats));
        summary.audit = AuditSummary {
            entries: audit.entries,
            head: audit.hash_hex(),
        };
        out.write_file("summary.json", summary.to_json().as_bytes())?;
        Ok(Some(summary))
    });
    if let (Some(sink), 0) = (&sink, opts.layout.process) {
        let (status, json) = match &finished {
            Ok(summary) => (
                RunStatus::Finished,
                summary.as_ref().and_then(|s| serde_json::to_value(s).ok()),
            ),
            Err(_) => (RunStatus::Failed, None),
        };
        let recorded = database::with_connection(&sink.database, async |conn| {
            database::finish_run(conn, sink.run_id, status, json).await
        });
        if let Err(e) = recorded {
            // The run's rows are committed; only its end is not on record.
            tracing::warn!(run_id = %sink.run_id, error = %e, "could not record the end of the run");
            if finished.is_ok() {
                return Err(e);
            }
        }
    }
    finished
}

/// Connect to the run's database before anything runs (a database that is down fails
/// the run here, with nothing written), apply pending migrations and, on process 0,
/// record the run and its instruments.
fn start_database(
    opts: &ReplayOptions,
    db: &DatabaseOptions,
    prepared: &Prepared,
) -> Result<SinkConfig, PipelineError> {
    if opts.layout.processes > 1 && db.run_id.is_none() {
        return Err(PipelineError::Config(
            "a job of several processes writing to a database needs the same --run-id on every process".into(),
        ));
    }
    let database = Database::new(&db.url)?;
    let run_id = db.run_id.unwrap_or_else(uuid::Uuid::new_v4);
    let record = RunRecord {
        run_id,
        input: match &prepared.plan {
            TickPlan::Database(plan) => plan.describe(),
            TickPlan::Files(_) => opts.input.to_string(),
        },
        workers: opts.layout.peers(),
        config: serde_json::json!({
            "epoch_ns": opts.epoch.nanos(),
            "bar_ns": opts.strategy.features.bar_width,
            "capital": opts.strategy.capital,
            "workers": opts.layout.workers,
            "processes": opts.layout.processes,
            "strategy": opts.strategy,
        }),
    };
    let process = opts.layout.process;
    database::with_connection(&database, async |conn| {
        let report = database::migrate(conn).await?;
        tracing::info!(report = %report.to_text(), "database ready");
        if process == 0 {
            database::start_run(conn, &record, &prepared.registry).await?;
        }
        Ok(())
    })?;
    tracing::info!(run_id = %run_id, database = %database.describe(), "writing the run to the database");
    Ok(SinkConfig::new(database, run_id))
}

fn run(
    opts: &ReplayOptions,
    prepared: &Prepared,
    out: &OutputDir,
    database: Option<SinkConfig>,
    board: Option<StatusBoard>,
    requests: Option<RequestReceiver>,
) -> Result<RunOutcome, PipelineError> {
    let progress = progress_bar(opts.progress, &prepared.plan, &opts.layout);
    let shared = Arc::new(Shared {
        registry: Arc::clone(&prepared.registry),
        plan: prepared.plan.clone(),
        control: prepared.control.clone(),
        strategy: opts.strategy.clone(),
        epoch: opts.epoch,
        staging: out.staging(),
        out_root: out.root().to_owned(),
        processes: opts.layout.processes,
        progress: progress.clone(),
        database,
        requests: Mutex::new(requests),
        board,
        pace: opts.pace,
    });
    let guards = timely::execute(opts.layout.timely_config(), move |worker| {
        let Shared {
            registry,
            plan,
            control,
            strategy,
            epoch,
            staging,
            out_root,
            processes,
            progress,
            database,
            requests,
            board,
            pace,
        } = &*shared;
        let index = worker.index();
        let peers = worker.peers();
        let ctx = GraphContext {
            registry: Arc::clone(registry),
            strategy: strategy.clone(),
            epoch: *epoch,
            staging: staging.clone(),
            worker: index,
            database: database.as_ref().map(|config| DatabaseSink {
                writer: Rc::new(Writer::start(config.clone(), index, Arc::clone(registry))),
                config: config.clone(),
            }),
            board: if index == 0 { board.clone() } else { None },
        };
        let mut ticks_in = InputHandleVec::<u64, Tick>::new();
        let mut control_in = InputHandleVec::<u64, ControlEvent>::new();
        let handles = worker.dataflow::<u64, _, _>(|scope| {
            graph::build(ticks_in.to_stream(scope), control_in.to_stream(scope), &ctx)
        });

        // Control events enter once, on worker 0 (which keeps its input open and
        // advances it with its ticks), and the graph broadcasts them.
        let mut control = (index == 0).then(|| ControlInput {
            input: control_in,
            file: control.iter().cloned().collect(),
            requests: requests.lock().unwrap_or_else(|e| e.into_inner()).take(),
            manual: 0,
            now: 0,
            // Only a paced run has a local clock to compare the market's time with.
            clock: strategy
                .safety
                .max_clock_skew_ns
                .filter(|_| pace.is_some())
                .map(|max_skew_ns| {
                    ClockSkewMonitor::new(ClockSkewConfig {
                        max_skew_ns,
                        ..ClockSkewConfig::default()
                    })
                }),
        });
        let mut pacer = pace.map(Pacer::new);

        let mut in_flight = InFlight::default();
        let mut source = plan.source(index, peers, Arc::clone(registry));
        let mut batch = Vec::with_capacity(READ_BATCH);
        let (started, mut reading, mut waiting) = (Instant::now(), Duration::ZERO, Duration::ZERO);
        let read = loop {
            batch.clear();
            let clock = Instant::now();
            let filled = source.fill(&mut batch, READ_BATCH);
            reading += clock.elapsed();
            let n = match filled {
                Ok(0) => break Ok(()),
                Ok(n) => n,
                Err(e) => break Err(e),
            };
            for tick in batch.drain(..) {
                let local = pacer.as_mut().map(|pacer| pacer.wait_for(tick.ts));
                let e = epoch.epoch_of(tick.ts);
                if e > *ticks_in.time() {
                    if let Some(control) = &mut control {
                        control.advance_to(e, *epoch);
                    }
                    ticks_in.advance_to(e);
                    in_flight.start_epoch(e);
                }
                if let Some(control) = &mut control {
                    control.now = tick.ts;
                    if let Some(local) = local {
                        control.observe_clock(tick.ts, local, *epoch);
                    }
                    control.take_requests(*epoch);
                }
                ticks_in.send(tick);
                in_flight.sent += 1;
            }
            if let Some(bar) = progress {
                bar.inc(n as u64);
            }
            // Small batches and a step after each: a peer waiting on this worker's
            // progress (the order loop closes every epoch) waits one batch at most.
            worker.step();
            if in_flight.over(frontier(&handles.probe), 1) {
                let clock = Instant::now();
                wait_until(worker, |_| !in_flight.over(frontier(&handles.probe), 2));
                waiting += clock.elapsed();
            }
            if handles.errors.borrow().is_some() {
                break Ok(());
            }
        };
        if let Some(control) = control.take() {
            control.finish(*epoch);
        }
        drop(ticks_in);
        let fed = started.elapsed();
        // Every sink finishes its file when the dataflow is dropped.
        wait_until(worker, |w| !w.has_dataflows());
        tracing::debug!(
            worker = index,
            fed_ms = fed.as_millis() as u64,
            reading_ms = reading.as_millis() as u64,
            throttled_ms = waiting.as_millis() as u64,
            draining_ms = (started.elapsed() - fed).as_millis() as u64,
            "worker finished its input"
        );
        let outcome = read.and_then(|()| match handles.errors.borrow_mut().take() {
            Some(e) => Err(e),
            None => Ok(()),
        });
        // Every batch this worker queued is committed (or the writer's error) before
        // the run may commit its files.
        let mut ctx = ctx;
        let written = match ctx.database.take() {
            Some(sink) => match Rc::try_unwrap(sink.writer) {
                Ok(writer) => writer.finish(),
                Err(_) => Err(PipelineError::Dataflow(
                    "the database writer is still in use after the dataflow ended".into(),
                )),
            },
            None => Ok(WriterStats::default()),
        };
        let outcome = match (outcome, written) {
            (Err(e), _) => Err(e),
            (Ok(()), Err(e)) => Err(e),
            (Ok(()), Ok(stats)) => Ok(stats),
        };
        let first_of_process = index % (peers / *processes).max(1) == 0;
        commit(worker, outcome.is_ok(), first_of_process, out_root, staging)?;
        let database = outcome?;
        let totals = handles.totals.borrow().clone();
        let audit = *handles.audit.borrow();
        Ok(WorkerResult {
            totals,
            database,
            audit,
        })
    })
    .map_err(PipelineError::Dataflow)?;
    let mut totals = None;
    let mut stats = WriterStats::default();
    let mut first_error: Option<PipelineError> = None;
    for (i, result) in guards.join().into_iter().enumerate() {
        let error = match result {
            Ok(Ok(r)) => {
                stats = stats + r.database;
                if i == 0 {
                    totals = Some((r.totals, r.audit));
                }
                continue;
            }
            Ok(Err(e)) => e,
            Err(panic) => PipelineError::Dataflow(format!("worker {i} failed: {panic}")),
        };
        // Report the failure itself, not a worker that stopped because of it.
        if first_error
            .as_ref()
            .is_none_or(|e| matches!(e, PipelineError::PeerFailed))
        {
            first_error = Some(error);
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok((
            if opts.layout.process == 0 {
                totals
            } else {
                None
            },
            stats,
        )),
    }
}

/// Worker 0's control input: the control file's events, entered as the ticks reach
/// their epochs, and the levers' requests, stamped with the event time reached.
struct ControlInput {
    input: InputHandleVec<u64, ControlEvent>,
    /// The file's events not yet entered, in `(ts, seq)` order.
    file: std::collections::VecDeque<ControlEvent>,
    requests: Option<RequestReceiver>,
    /// Requests entered so far.
    manual: u64,
    /// The event time the input has reached.
    now: Nanos,
    /// The clock-skew trigger, in a run with a local clock.
    clock: Option<ClockSkewMonitor>,
}

impl ControlInput {
    /// Enter the file's events of epochs before `e`, then close the epochs before it.
    fn advance_to(&mut self, e: u64, epoch: EpochWidth) {
        while self
            .file
            .front()
            .is_some_and(|ev| epoch.epoch_of(ev.ts) < e)
        {
            if let Some(event) = self.file.pop_front() {
                self.send(event, epoch);
            }
        }
        if e > *self.input.time() {
            self.input.advance_to(e);
        }
    }

    fn send(&mut self, event: ControlEvent, epoch: EpochWidth) {
        let e = epoch.epoch_of(event.ts);
        if e > *self.input.time() {
            self.input.advance_to(e);
        }
        self.input.send(event);
    }

    /// Compare a tick's event time with the local clock's; a sustained skew enters a
    /// Pause from the clock-skew trigger.
    fn observe_clock(&mut self, event_ts: Nanos, local: Nanos, epoch: EpochWidth) {
        let Some((command, reason)) = self.clock.as_mut().and_then(|c| c.observe(event_ts, local))
        else {
            return;
        };
        tracing::warn!(ts = event_ts, reason = %reason, "safety trigger");
        let event = ControlEvent {
            ts: self.now.max(epoch.epoch_start(*self.input.time())),
            seq: MANUAL_SEQ_BASE + self.manual,
            command,
            source: ControlSource::ClockSkew,
            reason,
            parameter: None,
        };
        self.manual += 1;
        self.send(event, epoch);
    }

    /// Enter every request waiting, at the event time reached: it applies to every
    /// order from there on.
    fn take_requests(&mut self, epoch: EpochWidth) {
        let Some(requests) = &self.requests else {
            return;
        };
        let ready: Vec<ControlRequest> = requests.try_iter().collect();
        for request in ready {
            let ts = self.now.max(epoch.epoch_start(*self.input.time()));
            let event = ControlEvent {
                ts,
                seq: MANUAL_SEQ_BASE + self.manual,
                command: request.command,
                source: request.source,
                reason: request.reason,
                parameter: request.parameter,
            };
            self.manual += 1;
            tracing::warn!(
                ts,
                command = event.command.as_str(),
                source = event.source.as_str(),
                reason = %event.reason,
                latency_us = request.received.elapsed().as_micros() as u64,
                "control request entered the graph"
            );
            self.send(event, epoch);
        }
    }

    /// The input is done: the rest of the file's events enter, and requests still
    /// waiting are refused, as there is no later event time to apply them at.
    fn finish(mut self, epoch: EpochWidth) {
        while let Some(event) = self.file.pop_front() {
            self.send(event, epoch);
        }
        if let Some(requests) = &self.requests {
            for request in requests.try_iter() {
                tracing::warn!(
                    command = request.command.as_str(),
                    source = request.source.as_str(),
                    "control request after the end of the input: not applied"
                );
            }
        }
    }
}

/// Holds the reading back to a multiple of real time.
struct Pacer {
    speed: f64,
    start: Option<(Instant, Nanos)>,
}

impl Pacer {
    fn new(speed: f64) -> Self {
        Self { speed, start: None }
    }

    /// Sleep until event time `ts` is due; returns the local clock's event time then:
    /// later than `ts` when the reading has fallen behind, never earlier (a tick less
    /// than 200 µs early is let through without a sleep, and counts as on time).
    fn wait_for(&mut self, ts: Nanos) -> Nanos {
        let (wall, origin) = *self.start.get_or_insert((Instant::now(), ts));
        let due = Duration::from_secs_f64(((ts - origin).max(0) as f64 / 1e9) / self.speed);
        if let Some(left) = due.checked_sub(wall.elapsed()) {
            if left > Duration::from_micros(200) {
                std::thread::sleep(left);
            }
        }
        let local =
            origin.saturating_add((wall.elapsed().as_secs_f64() * self.speed * 1e9) as Nanos);
        local.max(ts)
    }
}

/// Commit the run's output only if every worker of every process succeeded.
///
/// Three barriers, each an epoch of a small dataflow: (1) every worker learns whether all
/// succeeded; (2) the first worker of each process removes the earlier run's tables;
/// (3) every worker moves its own part files into place. Only after the third may
/// process 0 read the tables for the summary.
fn commit(
    worker: &mut timely::worker::Worker,
    ok: bool,
    first_of_process: bool,
    out: &Path,
    staging: &Path,
) -> Result<(), PipelineError> {
    use timely::dataflow::operators::vec::Broadcast;
    use timely::dataflow::operators::{Inspect, Probe};
    let all_ok = Rc::new(Cell::new(true));
    let mut flags = InputHandleVec::<u64, bool>::new();
    let probe = timely::dataflow::ProbeHandle::new();
    let seen = Rc::clone(&all_ok);
    worker.dataflow::<u64, _, _>(|scope| {
        flags
            .to_stream(scope)
            .broadcast()
            .inspect(move |ok| seen.set(seen.get() && *ok))
            .probe_with(&probe);
    });
    let barrier =
        |worker: &mut timely::worker::Worker, flags: &mut InputHandleVec<u64, bool>, epoch: u64| {
            flags.advance_to(epoch);
            wait_until(worker, |_| !probe.less_than(&epoch));
        };
    flags.send(ok);
    barrier(worker, &mut flags, 1);
    let mut result = Ok(());
    if all_ok.get() && first_of_process {
        result = OutputDir::remove_tables(out);
    }
    barrier(worker, &mut flags, 2);
    if all_ok.get() && result.is_ok() {
        result = OutputDir::commit_worker(out, staging, worker.index());
    }
    barrier(worker, &mut flags, 3);
    drop(flags);
    wait_until(worker, |w| !w.has_dataflows());
    if !all_ok.get() && ok {
        return Err(PipelineError::PeerFailed);
    }
    result
}

/// The ticks a worker has sent into the graph that the graph's outputs have not yet
/// passed: what the worker's input holds in memory downstream.
#[derive(Debug, Default)]
struct InFlight {
    /// Ticks sent so far.
    sent: u64,
    /// `(epoch, ticks sent before it)` for each epoch begun and not yet through.
    starts: std::collections::VecDeque<(u64, u64)>,
}

impl InFlight {
    /// The input moves on to epoch `e`.
    fn start_epoch(&mut self, e: u64) {
        self.starts.push_back((e, self.sent));
    }

    /// Whether more than `1/part` of the ticks or epochs the graph may hold are in
    /// flight. Past the whole of either the worker stops reading until both are down to
    /// half: memory stays flat however long the replay, and the workers still run far
    /// enough ahead of each other that none waits on a peer's every epoch.
    fn over(&mut self, frontier: Option<u64>, part: u64) -> bool {
        self.count(frontier) > MAX_TICKS_IN_FLIGHT / part
            || self.starts.len() > MAX_EPOCHS_IN_FLIGHT / part as usize
    }

    /// Ticks sent but not yet through, given the outputs' frontier (`None` once the
    /// graph holds nothing).
    fn count(&mut self, frontier: Option<u64>) -> u64 {
        let Some(frontier) = frontier else {
            self.starts.clear();
            return 0;
        };
        // Epochs before the frontier are through; every tick sent before the first epoch
        // that is not is through with them.
        while self.starts.front().is_some_and(|&(e, _)| e < frontier) {
            self.starts.pop_front();
        }
        self.sent - self.starts.front().map_or(self.sent, |&(_, sent)| sent)
    }
}

/// The least time `probe` may still see, if any (epochs are totally ordered).
fn frontier(probe: &timely::dataflow::ProbeHandle<u64>) -> Option<u64> {
    probe.with_frontier(|f| f.first().copied())
}

/// How long a waiting worker keeps stepping before it parks.
const SPIN: Duration = Duration::from_micros(200);

/// Step `worker` until `done`: spin briefly, because a peer's progress usually arrives
/// within microseconds, then park until a peer sends something, so that a worker never
/// burns a core that a descheduled peer needs.
fn wait_until(
    worker: &mut timely::worker::Worker,
    mut done: impl FnMut(&timely::worker::Worker) -> bool,
) {
    let started = Instant::now();
    while !done(worker) {
        if started.elapsed() < SPIN {
            worker.step();
        } else {
            worker.step_or_park(None);
        }
    }
}

fn progress_bar(enabled: bool, plan: &TickPlan, layout: &Layout) -> Option<ProgressBar> {
    if !enabled {
        return None;
    }
    let total = plan.total_rows() / layout.processes as u64;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} replay [{elapsed_precise}] {bar:40} {human_pos}/{human_len} ticks ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(bar)
}

fn summarize(
    opts: &ReplayOptions,
    registry: &SymbolRegistry,
    totals: Totals,
    wall: Duration,
) -> Result<Summary, PipelineError> {
    let root = &opts.out;
    let digests = vec![
        digest::<Order>(root, registry)?,
        digest::<Fill>(root, registry)?,
        digest::<EquityPoint>(root, registry)?,
    ];
    let mut summary = Summary::new(
        totals,
        opts.strategy.capital,
        wall,
        opts.layout.peers(),
        digests,
    );
    summary.execution = ExecutionSummary::read(root, registry)?;
    Ok(summary)
}

fn digest<T: ArrowRecord + std::fmt::Debug>(
    root: &std::path::Path,
    registry: &SymbolRegistry,
) -> Result<(String, usize, String), PipelineError> {
    let (rows, hex) = table_digest::<T>(root, registry)?;
    Ok((T::NAME.to_owned(), rows, hex))
}

#[cfg(test)]
mod tests {
    use super::InFlight;

    #[test]
    fn in_flight_counts_ticks_of_epochs_the_frontier_has_not_passed() {
        let mut f = InFlight::default();
        for (epoch, ticks) in [(3u64, 5u64), (4, 2), (7, 4)] {
            f.start_epoch(epoch);
            f.sent += ticks;
        }
        assert_eq!(f.count(Some(0)), 11);
        assert_eq!(
            f.count(Some(3)),
            11,
            "epoch 3 is not through while the frontier is at 3"
        );
        assert_eq!(f.count(Some(4)), 6);
        assert_eq!(f.count(Some(6)), 4, "epochs 4..6 are through");
        assert_eq!(f.count(Some(5)), 4, "a count never goes back");
        f.start_epoch(9);
        f.sent += 1;
        assert_eq!(f.count(Some(8)), 1);
        assert_eq!(f.count(None), 0);
    }
}
