//! The Bot4 dataflow graph.
//!
//! ```text
//! ticks ─► exchange by symbol, sort by (ts, seq) ─┬─► features ─► model ─► signal ─► risk ─┐
//!                                                  │                                         ▼
//!                                                  │        feedback (+1 epoch) ──────► orders ◄─┐
//!                                                  │              ▲                        │     │
//! control ─┬─► broadcast ──────────────────────────┼──────────────┼───────────────► safety gate ◄┤
//!  (file,  │                                       │              │                        │ pass│
//!  levers) ├─► audit trail                         ├─────────────►│◄── venue ◄─────────────┘     │
//!          │                                       │              │   (blocked: rejections ─┘)   │
//!          ▲                                       └─► positions ◄┘                              │
//!          │                                               │ per symbol and epoch                │
//!          │                                               ▼                                     │
//!          └── feedback (+1 epoch) ◄── safety watch ◄── equity (worker 0) ─► sinks               │
//!                  (triggers: drawdown, circuit breaker, stale data)          broadcast control ─┘
//! ```
//! Timestamps are event-time epochs. Everything after the first exchange is keyed by
//! symbol and runs on the worker that owns it, except the control stream (assembled on
//! worker 0, broadcast to every worker), and the equity curve, the safety watch and the
//! audit trail (on worker 0).

mod audit;
mod desks;
mod equity;
mod gate;
pub mod keyed;
mod portfolio;
mod positions;
mod safety;
mod venue;

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use bot4_operators::audit::{AuditChain, AuditHead};
use bot4_operators::features::Features;
use bot4_operators::models::forecaster::Forecaster;
use bot4_operators::parameters::current_values;
use bot4_operators::signals::bar_signal::BarSignal;
use bot4_schemas::{
    AuditEntry, BarFeatures, ControlEvent, Decimal, EpochWidth, EquityPoint, ExecutionReport, Fill,
    Forecast, Order, OrderAction, Position, ReportReason, ReportStatus, RiskPoint, Signal,
    SymbolRegistry, Tick, TickKind,
};
use timely::dataflow::operators::vec::{Broadcast, Map};
use timely::dataflow::operators::{Concat, ConnectLoop, Feedback, Probe};
use timely::dataflow::{ProbeHandle, StreamVec};

pub use desks::Desked;
pub use equity::Totals;
pub use gate::Gated;
pub use positions::SymbolEpoch;
pub use safety::{Fed, PortfolioSettings, View, Watched, TIER_PARAMETER};
pub use venue::ToVenue;

use crate::config::StrategyConfig;
use crate::control::StatusBoard;
use crate::sinks::postgres::{sink_postgres, DatabaseSink};
use crate::sinks::{sink_parquet, SinkErrors};

/// What a worker needs to build its copy of the graph.
#[derive(Debug, Clone)]
pub struct GraphContext {
    /// The instruments.
    pub registry: Arc<SymbolRegistry>,
    /// Strategy and venue parameters.
    pub strategy: StrategyConfig,
    /// Epoch width.
    pub epoch: EpochWidth,
    /// Folder the part files go to.
    pub staging: PathBuf,
    /// This worker's index in the whole job.
    pub worker: usize,
    /// This worker's database writer, when the run writes to a database too.
    pub database: Option<DatabaseSink>,
    /// Where worker 0 publishes the job's status, when something reads it.
    pub board: Option<StatusBoard>,
}

/// What a worker keeps of its graph to drive and finish it.
#[derive(Debug)]
pub struct GraphHandles {
    /// Frontier of the graph's outputs.
    pub probe: ProbeHandle<u64>,
    /// Run totals (filled on worker 0).
    pub totals: Rc<RefCell<Totals>>,
    /// The first error of any sink.
    pub errors: SinkErrors,
    /// Where the run's audit chain ends (on worker 0).
    pub audit: Rc<RefCell<AuditHead>>,
}

/// Build the graph over a tick stream and a control stream (the control events of
/// control files and people's levers, entered on worker 0). Building never fails, so
/// every worker builds the same graph; a sink that cannot create its file records the
/// error in [`GraphHandles::errors`].
pub fn build<'s>(
    ticks: StreamVec<'s, u64, Tick>,
    control: StreamVec<'s, u64, ControlEvent>,
    ctx: &GraphContext,
) -> GraphHandles {
    let scope = ticks.scope();
    let s = &ctx.strategy;
    let registry = Arc::clone(&ctx.registry);

    let ticks = keyed::exchange_sorted(ticks, "ExchangeTicks");
    let fc = s.features;
    let features = keyed::per_symbol(
        ticks.clone(),
        "Features",
        move |symbol| Features::new(symbol, fc),
        // Depth updates are for the venue's book; the features read trades and quotes.
        |f, tick, out| {
            if !matches!(tick.kind, TickKind::Depth { .. }) {
                out.push(f.update(tick));
            }
        },
    );
    let bar_features: StreamVec<'s, u64, BarFeatures> = features.clone().flat_map(|f| f.bar);
    let mc = s.model;
    let forecasts: StreamVec<'s, u64, Forecast> = keyed::per_symbol(
        features,
        "Model",
        // `replay` validated the configuration before building the graph.
        move |_| Forecaster::new(mc).expect("the model configuration was validated"),
        |m, f, out| out.push(m.update(f)),
    );
    // Each symbol's GARCH variance and tail at its bar closes, for the book's VaR.
    let tails = forecasts.clone().flat_map(|f| {
        f.features
            .bar
            .map(|_| Watched::Tail(f.symbol, f.bar_variance, f.tail_dof))
    });
    let sc = s.bar_signal();
    let signals: StreamVec<'s, u64, Signal> = keyed::per_symbol(
        forecasts,
        "Signal",
        move |_| BarSignal::new(sc).expect("the signal configuration was validated"),
        |x, f, out| out.extend(x.update(f)),
    );

    // The control stream: the events that entered, and the safety watch's, which it
    // makes at the end of an epoch for the next one with the portfolio view.
    let (fed_handle, fed) = scope.feedback::<Vec<Fed>>(1);
    let control = control.concat(fed.clone().flat_map(Fed::control));
    let broadcast = control.clone().broadcast();
    let views = fed.flat_map(Fed::view).broadcast();

    let (loop_handle, feedback) = scope.feedback::<Vec<ExecutionReport>>(1);
    let desked = desks::desk_stage(
        signals.clone(),
        broadcast.clone(),
        views.clone(),
        feedback,
        Arc::clone(&registry),
        s.desk(),
        s.safety.parameter_cooldown_ns,
        ctx.epoch,
    );
    let orders = desked.clone().flat_map(|d| match d {
        Desked::Order(order) => Some(order),
        _ => None,
    });
    let refused = desked.clone().flat_map(|d| match d {
        Desked::Refused(_, report) => Some(report),
        _ => None,
    });
    // Every order the desks decided, passed or refused by the pre-trade checks: what the
    // `orders` table and the positions' order counts hold (a refused order's end is its
    // `rejected` report, with the check's reason).
    let decided = orders.clone().concat(desked.clone().flat_map(|d| match d {
        Desked::Refused(order, _) => Some(order),
        _ => None,
    }));
    let stops = desked.flat_map(|d| match d {
        Desked::Stop(symbol, stop) => Some((symbol, stop)),
        _ => None,
    });
    let gated = gate::safety_gate(orders.clone(), broadcast, ctx.epoch);
    let passed = gated.clone().flat_map(|g| match g {
        Gated::Pass(order) => Some(order),
        Gated::Blocked(_) => None,
    });
    let blocked = gated.flat_map(|g| match g {
        Gated::Blocked(report) => Some(report),
        Gated::Pass(_) => None,
    });
    let to_venue = passed
        .map(ToVenue::Order)
        .concat(views.clone().map(|v| ToVenue::Volumes(v.volumes)));
    let venue_reports = venue::venue(
        ticks.clone(),
        to_venue,
        Arc::clone(&registry),
        s.venue.clone(),
        s.seed,
    );
    // What the circuit breaker counts: the venue's refusals (rejected orders, and
    // cancels refused by a rate limit or an outage).
    let venue_rejects = venue_reports.clone().flat_map(|r| {
        let refused = r.status == ReportStatus::Rejected
            || matches!(
                r.reason,
                Some(ReportReason::RateLimited | ReportReason::VenueUnavailable)
            );
        refused.then_some(Watched::Reject(r.ts))
    });
    let reports = venue_reports.concat(blocked).concat(refused);
    reports.clone().connect_loop(loop_handle);

    let submitted = decided
        .clone()
        .flat_map(|o| (o.action == OrderAction::New).then(|| submitted(&o)));
    let snapshots = positions::positions(ticks.clone(), reports.clone().concat(submitted));
    let position_changes: StreamVec<'s, u64, Position> = snapshots
        .clone()
        .flat_map(|s| (s.fills > 0).then_some(s.position));
    let exposure = portfolio::portfolio_exposure(snapshots.clone(), stops);
    let totals = Rc::new(RefCell::new(Totals::default()));
    let equity: StreamVec<'s, u64, EquityPoint> =
        equity::equity(snapshots.clone(), s.capital, ctx.epoch, Rc::clone(&totals));
    let fills: StreamVec<'s, u64, Fill> = reports.clone().flat_map(|r| r.fill());

    let watched = control
        .clone()
        .map(Watched::Control)
        .concat(venue_rejects)
        .concat(snapshots.map(Watched::Symbol))
        .concat(equity.clone().map(Watched::Equity))
        .concat(exposure.map(|(e, _, diff)| Watched::Exposure(e, diff)))
        .concat(bar_features.clone().flat_map(|b| {
            (b.count > 1).then_some(Watched::Bar(b.bar.symbol, b.bar.end, b.log_return))
        }))
        .concat(tails);
    // `replay` validated the configuration before building the graph.
    let tiers = s.tiers().expect("the capital tiers were validated");
    let mut values = current_values(&s.orders, &s.safety);
    values.insert(TIER_PARAMETER, tiers.current().name.clone());
    let watch = safety::safety_watch(
        watched,
        s.safety,
        PortfolioSettings {
            tiers,
            bar_width: s.features.bar_width,
            correlation_decay: s.correlation_decay,
            correlation_min_bars: s.correlation_min_bars,
            bars_per_day: 86_400.0 * bot4_schemas::NANOS_PER_SECOND as f64
                / s.features.bar_width as f64,
        },
        Arc::clone(&registry),
        ctx.epoch,
        ctx.board.clone(),
        Rc::clone(&totals),
    );
    let risk: StreamVec<'s, u64, RiskPoint> = watch.clone().flat_map(Fed::risk);
    watch
        .flat_map(|f| f.is_fed_back().then_some(f))
        .connect_loop(fed_handle);
    let audit_head = Rc::new(RefCell::new(AuditChain::new().head()));
    let audit: StreamVec<'s, u64, AuditEntry> = audit::audit_trail(
        control.clone(),
        values,
        s.safety.parameter_cooldown_ns,
        Rc::clone(&audit_head),
    );

    let probe = ProbeHandle::new();
    let errors: SinkErrors = Rc::new(RefCell::new(None));
    if let Some(db) = &ctx.database {
        let errors = || Rc::clone(&errors);
        sink_postgres(ticks.clone(), db, errors());
        sink_postgres(bar_features.clone(), db, errors());
        sink_postgres(signals.clone(), db, errors());
        sink_postgres(decided.clone(), db, errors());
        sink_postgres(reports.clone(), db, errors());
        sink_postgres(fills.clone(), db, errors());
        sink_postgres(position_changes.clone(), db, errors());
        sink_postgres(equity.clone(), db, errors());
        sink_postgres(risk.clone(), db, errors());
        // The control events as applied, on worker 0, before the broadcast.
        sink_postgres(control.clone(), db, errors());
        sink_postgres(audit.clone(), db, errors());
    }
    macro_rules! sink {
        ($stream:expr, $t:ty) => {
            sink_parquet::<$t>(
                $stream,
                &ctx.staging,
                ctx.worker,
                Arc::clone(&registry),
                Rc::clone(&errors),
            )
        };
    }
    sink!(ticks, Tick);
    sink!(bar_features, BarFeatures);
    sink!(signals, Signal);
    sink!(decided, Order);
    sink!(reports, ExecutionReport);
    sink!(fills, Fill);
    sink!(position_changes, Position);
    sink!(risk, RiskPoint);
    sink!(control, ControlEvent);
    sink!(audit, AuditEntry);
    // Equity is downstream of every stage (through positions), so its frontier bounds
    // what the whole graph still holds; sinks hold nothing.
    sink!(equity.probe_with(&probe), EquityPoint);
    GraphHandles {
        probe,
        totals,
        errors,
        audit: audit_head,
    }
}

/// The accounting record of an order leaving the strategy.
fn submitted(order: &Order) -> ExecutionReport {
    ExecutionReport {
        ts: order.ts,
        client_id: order.client_id,
        symbol: order.symbol,
        side: order.side,
        status: ReportStatus::Submitted,
        fill_qty: Decimal::ZERO,
        fill_price: Decimal::ZERO,
        fee: Decimal::ZERO,
        liquidity: None,
        leaves_qty: order.qty,
        event: 0,
        reason: None,
        received_ts: order.ts,
    }
}
