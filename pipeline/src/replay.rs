//! Running the graph over recorded ticks: one timely job, any layout of workers and
//! processes, the same orders and fills for every layout.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bot4_schemas::{
    ArrowRecord, ControlEvent, EpochWidth, EquityPoint, Fill, Order, SymbolRegistry, Tick,
};
use indicatif::{ProgressBar, ProgressStyle};
use timely::dataflow::InputHandleVec;

use crate::config::{Layout, StrategyConfig};
use crate::graph::{self, GraphContext, Totals};
use crate::sinks::{table_digest, OutputDir};
use crate::sources::{load_registry, plan_inputs, read_control_file, InputPlan, TickSource};
use crate::summary::Summary;
use crate::PipelineError;

/// Ticks a worker reads before it lets the graph catch up.
const READ_BATCH: usize = 4096;

/// Epochs the input may run ahead of the graph's outputs; bounds memory.
const MAX_LAG_EPOCHS: u64 = 16;

/// Everything a replay needs.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// A tick file or a folder of them.
    pub input: PathBuf,
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
}

/// What one worker hands back.
#[derive(Debug)]
struct WorkerResult {
    totals: Totals,
}

/// What every worker reads from the process that started it.
struct Shared {
    registry: Arc<SymbolRegistry>,
    plan: InputPlan,
    control: Vec<ControlEvent>,
    strategy: StrategyConfig,
    epoch: EpochWidth,
    staging: PathBuf,
    out_root: PathBuf,
    processes: usize,
    progress: Option<ProgressBar>,
}

/// Everything prepared before the dataflow starts, so bad input fails before any output.
struct Prepared {
    registry: Arc<SymbolRegistry>,
    plan: InputPlan,
    control: Vec<ControlEvent>,
}

fn prepare(opts: &ReplayOptions) -> Result<Prepared, PipelineError> {
    let plan = plan_inputs(&opts.input, opts.instruments.as_deref())?;
    let registry = Arc::new(load_registry(&opts.input, opts.instruments.as_deref())?);
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
    let prepared = prepare(opts)?;
    let out = OutputDir::new(&opts.out, opts.layout.process);
    out.prepare()?;
    tracing::info!(
        units = prepared.plan.units.len(),
        rows = prepared.plan.total_rows(),
        prepare_ms = started.elapsed().as_millis() as u64,
        "replay prepared"
    );
    let result = run(opts, &prepared, &out);
    tracing::info!(
        run_ms = started.elapsed().as_millis() as u64,
        ok = result.is_ok(),
        "dataflow finished"
    );
    // Committed or not, this process's staging folder has served its purpose.
    out.abandon();
    let totals = result?;
    if opts.layout.process != 0 {
        return Ok(None);
    }
    let totals =
        totals.ok_or_else(|| PipelineError::Dataflow("worker 0 returned no totals".into()))?;
    let summary = summarize(opts, &prepared.registry, totals, started.elapsed())?;
    out.write_file("summary.json", summary.to_json().as_bytes())?;
    Ok(Some(summary))
}

fn run(
    opts: &ReplayOptions,
    prepared: &Prepared,
    out: &OutputDir,
) -> Result<Option<Totals>, PipelineError> {
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
        } = &*shared;
        let index = worker.index();
        let peers = worker.peers();
        let ctx = GraphContext {
            registry: Arc::clone(registry),
            strategy: strategy.clone(),
            epoch: *epoch,
            staging: staging.clone(),
            worker: index,
        };
        let mut ticks_in = InputHandleVec::<u64, Tick>::new();
        let mut control_in = InputHandleVec::<u64, ControlEvent>::new();
        let handles = worker.dataflow::<u64, _, _>(|scope| {
            graph::build(ticks_in.to_stream(scope), control_in.to_stream(scope), &ctx)
        });

        // Control events enter once, on worker 0, and the graph broadcasts them.
        if index == 0 {
            for event in control {
                let e = epoch.epoch_of(event.ts);
                if e > *control_in.time() {
                    control_in.advance_to(e);
                }
                control_in.send(event.clone());
            }
        }
        drop(control_in);

        let mut source = TickSource::new(plan.for_worker(index, peers), Arc::clone(registry));
        let mut batch = Vec::with_capacity(READ_BATCH);
        let read = loop {
            batch.clear();
            let n = match source.fill(&mut batch, READ_BATCH) {
                Ok(0) => break Ok(()),
                Ok(n) => n,
                Err(e) => break Err(e),
            };
            for tick in batch.drain(..) {
                let e = epoch.epoch_of(tick.ts);
                if e > *ticks_in.time() {
                    ticks_in.advance_to(e);
                    // At most MAX_LAG_EPOCHS epochs in flight: memory stays flat and
                    // timely's frontiers stay small.
                    let horizon = e.saturating_sub(MAX_LAG_EPOCHS);
                    if handles.probe.less_than(&horizon) {
                        worker.step();
                        wait_until(worker, |_| !handles.probe.less_than(&horizon));
                    }
                }
                ticks_in.send(tick);
            }
            if let Some(bar) = progress {
                bar.inc(n as u64);
            }
            worker.step();
            if handles.errors.borrow().is_some() {
                break Ok(());
            }
        };
        drop(ticks_in);
        // Every sink finishes its file when the dataflow is dropped.
        wait_until(worker, |w| !w.has_dataflows());
        let outcome = read.and_then(|()| match handles.errors.borrow_mut().take() {
            Some(e) => Err(e),
            None => Ok(()),
        });
        let first_of_process = index % (peers / *processes).max(1) == 0;
        commit(worker, outcome.is_ok(), first_of_process, out_root, staging)?;
        outcome?;
        let totals = handles.totals.borrow().clone();
        Ok(WorkerResult { totals })
    })
    .map_err(PipelineError::Dataflow)?;
    let mut totals = None;
    let mut first_error: Option<PipelineError> = None;
    for (i, result) in guards.join().into_iter().enumerate() {
        let error = match result {
            Ok(Ok(r)) => {
                if i == 0 {
                    totals = Some(r.totals);
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
        None => Ok(if opts.layout.process == 0 {
            totals
        } else {
            None
        }),
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

fn progress_bar(enabled: bool, plan: &InputPlan, layout: &Layout) -> Option<ProgressBar> {
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
    Ok(Summary::new(
        totals,
        opts.strategy.risk.capital,
        wall,
        opts.layout.peers(),
        digests,
    ))
}

fn digest<T: ArrowRecord + std::fmt::Debug>(
    root: &std::path::Path,
    registry: &SymbolRegistry,
) -> Result<(String, usize, String), PipelineError> {
    let (rows, hex) = table_digest::<T>(root, registry)?;
    Ok((T::NAME.to_owned(), rows, hex))
}
