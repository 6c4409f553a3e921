//! The safety controller's watch over the whole portfolio, on worker 0: the automatic
//! triggers (drawdown, circuit breaker, stale data) and the capital tiers, whose control
//! events the graph feeds back into the control stream; the portfolio view the desks
//! decide on in the next epoch (equity, each symbol's exposure and risk at its stop,
//! the correlations of the symbols' bar returns, the tier's limits); and the job's
//! published status.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use bot4_operators::parameters::PendingChanges;
use bot4_operators::risk::portfolio::PortfolioView;
use bot4_operators::risk::tiers::{CapitalTiers, TierLimits};
use bot4_operators::risk::var::{portfolio_var, TailModel, VarPosition, VAR_CONFIDENCE};
use bot4_operators::safety_triggers::{SafetyTriggers, TriggerConfig};
use bot4_operators::stats::ewma_correlation::EwmaCorrelation;
use bot4_operators::venue::RollingVolume;
use bot4_schemas::{
    ControlCommand, ControlEvent, ControlSource, Decimal, EpochWidth, EquityPoint, Nanos,
    Parameter, Position, RiskPoint, SymbolId, SymbolRegistry,
};
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::StreamVec;

use super::keyed::unary_by_epoch;
use super::portfolio::PortfolioExposure;
use super::positions::SymbolEpoch;
use super::Totals;
use crate::config::StrategyConfig;
use crate::control::{JobState, PositionStatus, StatusBoard};

/// What the watch learns, per epoch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Watched {
    /// A control event, from anyone (the triggers' own come back too).
    Control(ControlEvent),
    /// The venue rejected an order at this time.
    Reject(Nanos),
    /// A symbol's epoch: its ticks and position.
    Symbol(SymbolEpoch),
    /// The portfolio at the epoch's end.
    Equity(EquityPoint),
    /// A change of the book's exposure (a differential update: `+1` the new, `−1` the
    /// old).
    Exposure(PortfolioExposure, isize),
    /// A symbol closed a bar ending at this time with this log return.
    Bar(SymbolId, Nanos, f64),
    /// A symbol's GARCH forecast at a bar close: the next bar's variance and the
    /// degrees of freedom of its Student-t tails (infinite: normal).
    Tail(SymbolId, f64, f64),
}

/// The portfolio as the desks see it in the epoch after it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct View {
    /// The start of the epoch it is for.
    pub ts: Nanos,
    /// Equity, exposures, marks and correlations.
    pub portfolio: PortfolioView,
    /// The capital tier's limits.
    pub tier: TierLimits,
    /// Each symbol's quote volume over the 30 days up to the epoch (the symbols that
    /// traded in them): the account's volume, which picks the venue's fee tier.
    pub volumes: BTreeMap<SymbolId, Decimal>,
}

/// What the watch feeds back to the next epoch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Fed {
    /// An automatic control event.
    Control(ControlEvent),
    /// The portfolio view.
    View(View),
    /// The book's risk at the end of the epoch (for the sinks, not fed back).
    Risk(RiskPoint),
}

impl Fed {
    /// The control event, if it is one.
    pub fn control(self) -> Option<ControlEvent> {
        match self {
            Fed::Control(e) => Some(e),
            _ => None,
        }
    }

    /// The view, if it is one.
    pub fn view(self) -> Option<View> {
        match self {
            Fed::View(v) => Some(v),
            _ => None,
        }
    }

    /// The risk row, if it is one.
    pub fn risk(self) -> Option<RiskPoint> {
        match self {
            Fed::Risk(r) => Some(r),
            _ => None,
        }
    }

    /// Whether it goes back into the graph (control events and views do).
    pub fn is_fed_back(&self) -> bool {
        !matches!(self, Fed::Risk(_))
    }
}

/// The watch's settings beside the triggers'.
#[derive(Debug, Clone)]
pub struct PortfolioSettings {
    /// The capital tiers, starting from the run's capital.
    pub tiers: CapitalTiers,
    /// The bar width: a bar's returns are aligned across symbols by its end, and an end
    /// is taken one bar width after it (later bars of it are not counted).
    pub bar_width: Nanos,
    /// The correlations' decay per bar.
    pub correlation_decay: f64,
    /// Bars two symbols need together before their correlation is known.
    pub correlation_min_bars: u64,
    /// Bars in a day: the one-bar GARCH variance times this is a day's (the square
    /// root of time).
    pub bars_per_day: f64,
}

impl Watched {
    /// Control events first, in `(ts, seq)` order, then the rest of the epoch.
    fn key(&self) -> (u8, i64, u64) {
        match self {
            Watched::Control(e) => (0, e.ts, e.seq),
            Watched::Reject(ts) => (1, *ts, 0),
            Watched::Symbol(s) => (2, 0, u64::from(s.position.symbol.0)),
            Watched::Equity(p) => (3, p.ts, 0),
            Watched::Exposure(_, diff) => (4, 0, u64::from(*diff > 0)),
            Watched::Bar(symbol, end, _) => (5, *end, u64::from(symbol.0)),
            Watched::Tail(symbol, _, _) => (6, 0, u64::from(symbol.0)),
        }
    }
}

/// Run the triggers over `watched` on worker 0, emitting at epoch `t` the control events
/// and the portfolio view that apply from the start of epoch `t + 1` (the caller feeds
/// them back with a delay of one epoch). Publishes the status on `board` when given,
/// and the mode in `totals`.
#[allow(clippy::too_many_arguments, reason = "the watch's inputs and settings")]
pub fn safety_watch<'s>(
    watched: StreamVec<'s, u64, Watched>,
    config: TriggerConfig,
    settings: PortfolioSettings,
    registry: Arc<SymbolRegistry>,
    epoch: EpochWidth,
    board: Option<StatusBoard>,
    totals: Rc<RefCell<Totals>>,
) -> StreamVec<'s, u64, Fed> {
    let names = (0..registry.len())
        .map(|i| registry.name(SymbolId(i as u32)).to_owned())
        .collect();
    let mut triggers = SafetyTriggers::new(config, names);
    let mut pending = PendingChanges::default();
    let mut status = Published::default();
    let PortfolioSettings {
        mut tiers,
        bar_width,
        correlation_decay,
        correlation_min_bars,
        bars_per_day,
    } = settings;
    let mut tails = RiskModel::new(registry.len(), bars_per_day);
    let mut correlations =
        EwmaCorrelation::new(registry.len(), correlation_decay, correlation_min_bars);
    let mut bars: BTreeMap<Nanos, Vec<(SymbolId, f64)>> = BTreeMap::new();
    let mut exposure: Option<PortfolioExposure> = None;
    let mut volumes: BTreeMap<SymbolId, RollingVolume> = BTreeMap::new();
    let mut events = Vec::new();
    let mut tier_seq = 0u64;
    unary_by_epoch(
        watched,
        Exchange::new(|_: &Watched| 0),
        "SafetyWatch",
        move |t, data, emitted| {
            data.sort_by_key(Watched::key);
            let mut drawdown = None;
            let mut equity = None;
            for w in data.iter() {
                match w {
                    Watched::Control(event) => {
                        pending.on_control(event, config.parameter_cooldown_ns);
                        let before = triggers.mode();
                        triggers.on_control(event);
                        status.control_events += 1;
                        if triggers.mode() != before {
                            status.cause = Some(event.clone());
                        }
                    }
                    Watched::Reject(ts) => {
                        triggers.on_reject(*ts);
                        status.venue_rejects += 1;
                    }
                    Watched::Symbol(s) => {
                        if s.ticks > 0 {
                            triggers.on_tick(s.position.symbol, epoch.epoch_end(t));
                        }
                        status.ticks += s.ticks;
                        status.orders += s.orders;
                        status.fills += s.fills;
                        if !s.traded.is_zero() {
                            volumes
                                .entry(s.position.symbol)
                                .or_default()
                                .add_at(epoch.epoch_start(t), s.traded);
                        }
                        status.positions.insert(s.position.symbol, s.position);
                    }
                    Watched::Equity(point) => {
                        drawdown = Some(point.drawdown);
                        equity = Some(point.equity);
                        status.equity = Some(*point);
                    }
                    Watched::Exposure(e, diff) => {
                        if *diff > 0 {
                            exposure = Some(e.clone());
                        } else if exposure.as_ref() == Some(e) {
                            exposure = None;
                        }
                    }
                    Watched::Bar(symbol, end, r) => {
                        bars.entry(*end).or_default().push((*symbol, *r));
                    }
                    Watched::Tail(symbol, variance, dof) => {
                        tails.observe(*symbol, *variance, *dof);
                    }
                }
            }
            let now = epoch.epoch_start(t + 1);
            // Bars that ended a bar width before this epoch's end: their returns are in.
            while let Some(entry) = bars.first_entry() {
                if entry.key().saturating_add(bar_width) > now {
                    break;
                }
                let mut returns = entry.remove();
                returns.sort_by_key(|&(symbol, _)| symbol);
                returns.dedup_by_key(|&mut (symbol, _)| symbol);
                correlations.observe(&returns);
            }
            for change in pending.due(now) {
                triggers.apply(&change);
            }
            events.clear();
            triggers.on_epoch_end(now, drawdown, &mut events);
            if let Some(change) = equity.and_then(|e| tiers.update(now, e)) {
                tier_seq += 1;
                events.push(ControlEvent {
                    ts: now,
                    seq: TIER_SEQ_BASE + tier_seq,
                    command: ControlCommand::Set,
                    source: ControlSource::CapitalTier,
                    reason: format!(
                        "equity {} moved the account from tier {} to tier {}",
                        change.equity, change.from_name, change.to_name
                    ),
                    parameter: Some(Parameter {
                        name: TIER_PARAMETER.into(),
                        value: change.to_name,
                    }),
                });
            }
            for event in events.iter() {
                tracing::warn!(
                    ts = event.ts,
                    command = event.command.as_str(),
                    source = event.source.as_str(),
                    reason = %event.reason,
                    "safety trigger"
                );
            }
            emitted.extend(events.drain(..).map(Fed::Control));
            if let Some(equity) = equity {
                let mut portfolio = PortfolioView::new(equity);
                let held = exposure.as_ref().map_or(&[][..], |e| &e.symbols[..]);
                for e in held {
                    portfolio.set_exposure(e.symbol, e.notional, e.risk_at_stop);
                    portfolio.set_mark(e.symbol, e.mark);
                }
                // The checks need the correlation of any symbol with each one held.
                for e in held {
                    for other in 0..registry.len() {
                        let other = SymbolId(other as u32);
                        if let Some(rho) = correlations.correlation(e.symbol, other) {
                            portfolio.set_correlation(e.symbol, other, rho);
                        }
                    }
                }
                if let Some(e) = exposure.as_ref().filter(|e| !e.symbols.is_empty()) {
                    tails.report(epoch.epoch_end(t), e, &correlations, emitted);
                }
                emitted.push(Fed::View(View {
                    ts: now,
                    portfolio,
                    tier: tiers.current().limits_for(StrategyConfig::NAME),
                    volumes: volumes
                        .iter()
                        .map(|(&symbol, v)| (symbol, v.total_as_of_ts(now)))
                        .filter(|(_, v)| !v.is_zero())
                        .collect(),
                }));
            }
            totals.borrow_mut().final_mode = triggers.mode().as_str();
            if let Some(board) = &board {
                status.publish(board, &triggers, &registry, epoch.epoch_end(t));
            }
        },
    )
}

/// Each symbol's latest GARCH volatility and tail, and the VaR and CVaR they give.
#[derive(Debug)]
struct RiskModel {
    /// Per symbol: the next bar's variance and the tail's degrees of freedom.
    latest: Vec<Option<(f64, f64)>>,
    /// Per symbol: its tail model, kept while its degrees of freedom stay the same (a
    /// quantile costs microseconds; it changes only when GARCH is refitted).
    models: Vec<Option<(u64, TailModel)>>,
    bars_per_day: f64,
    positions: Vec<VarPosition>,
    correlation: Vec<f64>,
}

impl RiskModel {
    fn new(symbols: usize, bars_per_day: f64) -> Self {
        Self {
            latest: vec![None; symbols],
            models: vec![None; symbols],
            bars_per_day,
            positions: Vec::new(),
            correlation: Vec::new(),
        }
    }

    fn observe(&mut self, symbol: SymbolId, variance: f64, dof: f64) {
        if let Some(slot) = self.latest.get_mut(symbol.0 as usize) {
            if variance > 0.0 && variance.is_finite() {
                *slot = Some((variance, dof));
            }
        }
    }

    /// The tail of `symbol`, and a day's volatility of its returns: GARCH's once
    /// fitted, else the bar returns' EWMA, else none (reported as NaN).
    fn tail(
        &mut self,
        symbol: SymbolId,
        correlations: &EwmaCorrelation,
    ) -> (f64, Option<TailModel>) {
        let i = symbol.0 as usize;
        let (bar_variance, dof) = match self.latest.get(i).copied().flatten() {
            Some(v) => v,
            None => match correlations.volatility(symbol) {
                Some(sd) => (sd * sd, f64::INFINITY),
                None => return (f64::NAN, None),
            },
        };
        let sigma = (bar_variance * self.bars_per_day).sqrt();
        let slot = &mut self.models[i];
        let model = match *slot {
            Some((bits, model)) if bits == dof.to_bits() => Some(model),
            _ => {
                let model = TailModel::new(VAR_CONFIDENCE, dof.is_finite().then_some(dof)).ok();
                *slot = model.map(|m| (dof.to_bits(), m));
                model
            }
        };
        (sigma, model)
    }

    /// One row per symbol held and one for the portfolio (correlations not yet known
    /// count as 1: no diversification is assumed that has not been seen).
    fn report(
        &mut self,
        ts: Nanos,
        exposure: &PortfolioExposure,
        correlations: &EwmaCorrelation,
        out: &mut Vec<Fed>,
    ) {
        self.positions.clear();
        for e in &exposure.symbols {
            let (sigma, model) = self.tail(e.symbol, correlations);
            let notional = e.notional.to_f64().unwrap_or(f64::NAN);
            let estimate = model.and_then(|m| m.estimate(notional, sigma, 0.0).ok());
            out.push(Fed::Risk(RiskPoint {
                ts,
                symbol: Some(e.symbol),
                exposure: e.notional,
                risk_at_stop: e.risk_at_stop,
                sigma: notional.abs() * sigma,
                dof: model.and_then(|m| m.dof()).unwrap_or(f64::INFINITY),
                var_99: estimate.map_or(f64::NAN, |v| v.var),
                cvar_99: estimate.map_or(f64::NAN, |v| v.cvar),
            }));
            self.positions.push(VarPosition {
                notional,
                sigma,
                mean: 0.0,
                dof: model.and_then(|m| m.dof()),
            });
        }
        let n = self.positions.len();
        self.correlation.clear();
        for a in &exposure.symbols {
            for b in &exposure.symbols {
                self.correlation
                    .push(correlations.correlation(a.symbol, b.symbol).unwrap_or(1.0));
            }
        }
        debug_assert_eq!(self.correlation.len(), n * n);
        let total = portfolio_var(&self.positions, &self.correlation, VAR_CONFIDENCE).ok();
        out.push(Fed::Risk(RiskPoint {
            ts,
            symbol: None,
            exposure: exposure.gross,
            risk_at_stop: exposure.heat,
            sigma: total.map_or(f64::NAN, |p| p.sigma),
            dof: total.and_then(|p| p.var_dof).unwrap_or(f64::INFINITY),
            var_99: total.map_or(f64::NAN, |p| p.estimate.var),
            cvar_99: total.map_or(f64::NAN, |p| p.estimate.cvar),
        }));
    }
}

/// The parameter a capital tier's event sets.
pub const TIER_PARAMETER: &str = "risk.tier";

/// Sequence numbers of the tiers' events, apart from the triggers' and people's.
const TIER_SEQ_BASE: u64 = 3 << 60;

/// What the watch keeps for the status board.
#[derive(Debug, Default)]
struct Published {
    cause: Option<ControlEvent>,
    equity: Option<EquityPoint>,
    positions: BTreeMap<SymbolId, Position>,
    ticks: u64,
    orders: u64,
    fills: u64,
    venue_rejects: u64,
    control_events: u64,
}

impl Published {
    fn publish(
        &self,
        board: &StatusBoard,
        triggers: &SafetyTriggers,
        registry: &SymbolRegistry,
        now: Nanos,
    ) {
        board.update(|s| {
            s.state = JobState::Running;
            s.mode = triggers.mode().as_str().to_owned();
            s.mode_since = self.cause.as_ref().map(|e| e.ts);
            s.mode_source = self.cause.as_ref().map(|e| e.source.as_str().to_owned());
            s.mode_reason = self.cause.as_ref().map(|e| e.reason.clone());
            s.event_time = Some(now);
            if let Some(p) = &self.equity {
                s.equity = Some(p.equity);
                s.drawdown = p.drawdown;
                s.gross_exposure = p.gross_exposure;
            }
            s.positions = self
                .positions
                .values()
                .map(|p| PositionStatus {
                    symbol: registry.name(p.symbol).to_owned(),
                    qty: p.qty,
                    avg_price: p.avg_price,
                    mark: p.mark,
                    notional: p.notional(),
                    unrealized_pnl: p.unrealized_pnl(),
                    realized_pnl: p.realized_pnl - p.fees,
                })
                .collect();
            s.ticks = self.ticks;
            s.orders = self.orders;
            s.fills = self.fills;
            s.venue_rejects = self.venue_rejects;
            s.stale_symbols = triggers
                .stale()
                .map(|id| registry.name(id).to_owned())
                .collect();
            s.control_events = self.control_events;
        });
    }
}
