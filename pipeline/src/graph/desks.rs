//! The risk and order stage: signals, the broadcast control stream and portfolio view,
//! and fed-back execution reports in; checked order messages, refusals and the
//! positions' stops out.

use std::collections::BTreeMap;
use std::sync::Arc;

use bot4_operators::desk::{DeskConfig, DeskOutput, SymbolDesk};
use bot4_operators::parameters::PendingChanges;
use bot4_operators::risk::portfolio::PortfolioView;
use bot4_operators::risk::tiers::TierLimits;
use bot4_operators::safety_gate::SafetyGate;
use bot4_schemas::{
    ControlEvent, Decimal, EpochWidth, ExecutionReport, Nanos, Order, Signal, SymbolId,
    SymbolRegistry,
};
use serde::{Deserialize, Serialize};
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::vec::Map;
use timely::dataflow::operators::Concat;
use timely::dataflow::StreamVec;

use super::keyed::{binary_by_epoch, Keyed, SymbolStates};
use super::safety::View;

/// What the stage sends on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Desked {
    /// An order message for the safety gate.
    Order(Order),
    /// An order the pre-trade checks refused, and its `rejected` report.
    Refused(Order, ExecutionReport),
    /// A symbol's protective stop changed.
    Stop(SymbolId, Option<Decimal>),
}

/// What the stage acts on within an epoch, in event time.
#[derive(Debug, Clone)]
enum Input {
    /// The portfolio as of the end of the previous epoch (the first thing applied).
    View(View),
    /// A control event: every symbol of this worker enters the new mode.
    Control(ControlEvent),
    /// A symbol's new signal.
    Signal(Signal),
    /// Sorts last: marks the end of the epoch's inputs.
    End,
}

impl Input {
    /// Views first, then event time, control events before signals, then their own
    /// order.
    fn key(&self) -> (u8, i64, u8, u64, u64) {
        match self {
            Input::View(v) => (0, v.ts, 0, 0, 0),
            Input::Control(e) => (1, e.ts, 0, e.seq, 0),
            Input::Signal(s) => (1, s.ts, 1, u64::from(s.symbol.0), s.seq),
            Input::End => (2, i64::MAX, 0, 0, 0),
        }
    }
}

/// Run each symbol's [`SymbolDesk`]. At the start of epoch `t` the stage takes the
/// portfolio view made at the end of `t − 1` (fed back by the safety watch and
/// broadcast), applies the reports fed back whose `received_ts` it has reached (they
/// happened in `t − 1` or before: the strategy learns of a fill one epoch after it, or
/// later when the venue's acknowledgement is late), then gives every desk the epoch's
/// start (time stops, trailing stops). Then the epoch's control events and signals
/// are applied in event-time order: the mode (the same state machine as the safety
/// gate's, fed the same broadcast events) decides what each desk may send, and on
/// Emergency every desk of the worker cancels and flattens. A parameter change (`set`)
/// takes effect at the start of the first epoch at or after `cooldown` from its time.
#[allow(clippy::too_many_arguments, reason = "the stage's inputs and settings")]
pub fn desk_stage<'s>(
    signals: StreamVec<'s, u64, Signal>,
    control: StreamVec<'s, u64, ControlEvent>,
    views: StreamVec<'s, u64, View>,
    feedback: StreamVec<'s, u64, ExecutionReport>,
    registry: Arc<SymbolRegistry>,
    config: DeskConfig,
    cooldown: Nanos,
    epoch: EpochWidth,
) -> StreamVec<'s, u64, Desked> {
    let mut desks: SymbolStates<SymbolDesk> = SymbolStates::default();
    let mut gate = SafetyGate::default();
    let mut pending = PendingChanges::default();
    let mut config = config;
    let mut view: Option<PortfolioView> = None;
    let mut tier = TierLimits::NONE;
    // A symbol first seen in a mode starts in it; with no intent, position or order
    // yet, entering it sends nothing.
    let make =
        move |symbol: SymbolId, gate: &SafetyGate, config: &DeskConfig, tier: &TierLimits| {
            // `replay` validated the configuration before building the graph.
            let mut desk = SymbolDesk::new(symbol, registry.get(symbol).clone(), config)
                .expect("the risk limits were validated");
            let _ = desk.set_tier(tier);
            let mut nothing = Vec::new();
            desk.set_mode(gate.mode(), 0, None, &mut nothing);
            desk
        };
    let mut produced = Vec::new();
    let mut held: BTreeMap<(Nanos, Nanos, u64, u32), ExecutionReport> = BTreeMap::new();
    let inputs = signals
        .map(Input::Signal)
        .concat(control.map(Input::Control))
        .concat(views.map(Input::View));
    binary_by_epoch(
        inputs,
        feedback,
        Pipeline,
        Pipeline,
        "Desks",
        move |t, inputs, reports, out| {
            let now = epoch.epoch_start(t);
            for change in pending.due(now) {
                config.orders.apply(&change);
                for (_, d) in desks.iter_mut() {
                    d.apply(&change);
                }
            }
            // A sentinel after every input, so that the epoch-start step below runs
            // even when nothing follows the control events at the start.
            inputs.push(Input::End);
            inputs.sort_unstable_by_key(Input::key);
            let first_other = inputs
                .iter()
                .position(|i| !matches!(i, Input::View(_)))
                .unwrap_or(inputs.len());
            if let Some(Input::View(latest)) = inputs[..first_other].last() {
                if latest.tier != tier {
                    tier = latest.tier;
                    for (_, d) in desks.iter_mut() {
                        // The tier's limits were validated when the tiers were built.
                        let _ = d.set_tier(&tier);
                    }
                }
                view = Some(latest.portfolio.clone());
            }
            let v = view.as_ref();
            // Control events at the epoch's very start apply before anything is decided
            // at it; then the reports the strategy has received, the epoch's start
            // (time and trailing stops), and the rest in event-time order.
            let at_start = inputs[first_other..]
                .iter()
                .take_while(|i| matches!(i, Input::Control(e) if e.ts <= now))
                .count();
            for (k, input) in inputs[first_other..].iter().enumerate() {
                if k == at_start {
                    // A report reaches the desk once the strategy has received it: at
                    // the first epoch that starts at or after its `received_ts`.
                    for report in reports.drain(..) {
                        let key = (
                            report.received_ts,
                            report.ts,
                            report.client_id,
                            report.event,
                        );
                        held.insert(key, report);
                    }
                    while let Some(entry) = held.first_entry() {
                        if entry.key().0 > now {
                            break;
                        }
                        reports.push(entry.remove());
                    }
                    reports.sort_unstable_by_key(Keyed::key);
                    for report in reports.iter() {
                        desks
                            .get_or_insert_with(report.symbol, &mut |s| {
                                make(s, &gate, &config, &tier)
                            })
                            .on_report(report, now, v, &mut produced);
                        drain_for(report.symbol, &mut produced, out);
                    }
                    for (symbol, d) in desks.iter_mut() {
                        d.on_epoch(now, v, &mut produced);
                        drain_for(symbol, &mut produced, out);
                    }
                }
                match input {
                    Input::View(_) | Input::End => {}
                    Input::Control(event) => {
                        pending.on_control(event, cooldown);
                        if gate.on_control(event) {
                            for (symbol, d) in desks.iter_mut() {
                                d.set_mode(gate.mode(), event.ts, v, &mut produced);
                                drain_for(symbol, &mut produced, out);
                            }
                        }
                    }
                    Input::Signal(signal) => {
                        desks
                            .get_or_insert_with(signal.symbol, &mut |s| {
                                make(s, &gate, &config, &tier)
                            })
                            .on_signal(signal, v, tier, &mut produced);
                        drain_for(signal.symbol, &mut produced, out);
                    }
                }
            }
        },
    )
}

/// Move a desk's outputs to the stage's.
fn drain_for(symbol: SymbolId, produced: &mut Vec<DeskOutput>, out: &mut Vec<Desked>) {
    out.extend(produced.drain(..).map(|o| match o {
        DeskOutput::Order(order) => Desked::Order(order),
        DeskOutput::Refused(order, report) => Desked::Refused(order, report),
        DeskOutput::Stop(stop) => Desked::Stop(symbol, stop),
    }));
}
