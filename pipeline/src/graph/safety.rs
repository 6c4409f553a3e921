//! The safety controller's watch over the whole portfolio, on worker 0: the automatic
//! triggers (drawdown, circuit breaker, stale data), whose control events the graph
//! feeds back into the control stream, and the job's published status.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use bot4_operators::parameters::PendingChanges;
use bot4_operators::safety_triggers::{SafetyTriggers, TriggerConfig};
use bot4_schemas::{
    ControlEvent, EpochWidth, EquityPoint, Nanos, Position, SymbolId, SymbolRegistry,
};
use serde::{Deserialize, Serialize};
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::StreamVec;

use super::keyed::unary_by_epoch;
use super::positions::SymbolEpoch;
use super::Totals;
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
}

impl Watched {
    /// Control events first, in `(ts, seq)` order, then the rest of the epoch.
    fn key(&self) -> (u8, i64, u64) {
        match self {
            Watched::Control(e) => (0, e.ts, e.seq),
            Watched::Reject(ts) => (1, *ts, 0),
            Watched::Symbol(s) => (2, 0, u64::from(s.position.symbol.0)),
            Watched::Equity(p) => (3, p.ts, 0),
        }
    }
}

/// Run the triggers over `watched` on worker 0, emitting at epoch `t` the control events
/// that apply from the start of epoch `t + 1` (the caller feeds them back with a delay
/// of one epoch). Publishes the status on `board` when given, and the mode in `totals`.
pub fn safety_watch<'s>(
    watched: StreamVec<'s, u64, Watched>,
    config: TriggerConfig,
    registry: Arc<SymbolRegistry>,
    epoch: EpochWidth,
    board: Option<StatusBoard>,
    totals: Rc<RefCell<Totals>>,
) -> StreamVec<'s, u64, ControlEvent> {
    let names = (0..registry.len())
        .map(|i| registry.name(SymbolId(i as u32)).to_owned())
        .collect();
    let mut triggers = SafetyTriggers::new(config, names);
    let mut pending = PendingChanges::default();
    let mut status = Published::default();
    unary_by_epoch(
        watched,
        Exchange::new(|_: &Watched| 0),
        "SafetyWatch",
        move |t, data, emitted| {
            data.sort_by_key(Watched::key);
            let mut drawdown = None;
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
                        status.positions.insert(s.position.symbol, s.position);
                    }
                    Watched::Equity(point) => {
                        drawdown = Some(point.drawdown);
                        status.equity = Some(*point);
                    }
                }
            }
            let now = epoch.epoch_start(t + 1);
            for change in pending.due(now) {
                triggers.apply(&change);
            }
            triggers.on_epoch_end(now, drawdown, emitted);
            for event in emitted.iter() {
                tracing::warn!(
                    ts = event.ts,
                    command = event.command.as_str(),
                    source = event.source.as_str(),
                    reason = %event.reason,
                    "safety trigger"
                );
            }
            totals.borrow_mut().final_mode = triggers.mode().as_str();
            if let Some(board) = &board {
                status.publish(board, &triggers, &registry, epoch.epoch_end(t));
            }
        },
    )
}

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
