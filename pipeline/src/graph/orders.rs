//! The order stage: intents, the broadcast control stream and fed-back execution
//! reports in, order messages out.

use std::sync::Arc;

use bot4_operators::orders::{OrderConfig, OrderManager};
use bot4_operators::parameters::PendingChanges;
use bot4_operators::safety_gate::SafetyGate;
use bot4_schemas::{
    ControlEvent, EpochWidth, ExecutionReport, Nanos, Order, OrderIntent, SymbolId, SymbolRegistry,
};
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::vec::Map;
use timely::dataflow::operators::Concat;
use timely::dataflow::StreamVec;

use super::keyed::{binary_by_epoch, Keyed, SymbolStates};

/// What the order stage acts on within an epoch, in event time.
#[derive(Debug, Clone)]
enum Input {
    /// A control event: every symbol of this worker enters the new mode.
    Control(ControlEvent),
    /// A symbol's new target.
    Intent(OrderIntent),
}

impl Input {
    /// Event time, then control events before intents, then their own order.
    fn key(&self) -> (i64, u8, u64, u64) {
        match self {
            Input::Control(e) => (e.ts, 0, e.seq, 0),
            Input::Intent(i) => (i.ts, 1, u64::from(i.symbol.0), i.seq),
        }
    }
}

/// Run each symbol's [`OrderManager`]. Reports fed back at epoch `t` happened in epoch
/// `t − 1` or before; they are applied first, at the start of epoch `t` (the strategy
/// learns of a fill one epoch after it). Then the epoch's control events and intents are
/// applied in event-time order: the mode (the same state machine as the safety gate's,
/// fed the same broadcast events) decides what each manager may send, and on Emergency
/// every manager of the worker cancels and flattens. A parameter change (`set`) takes
/// effect at the start of the first epoch at or after `cooldown` from its time.
pub fn order_stage<'s>(
    intents: StreamVec<'s, u64, OrderIntent>,
    control: StreamVec<'s, u64, ControlEvent>,
    feedback: StreamVec<'s, u64, ExecutionReport>,
    registry: Arc<SymbolRegistry>,
    config: OrderConfig,
    cooldown: Nanos,
    epoch: EpochWidth,
) -> StreamVec<'s, u64, Order> {
    let mut states: SymbolStates<OrderManager> = SymbolStates::default();
    let mut gate = SafetyGate::default();
    let mut pending = PendingChanges::default();
    let mut config = config;
    // A symbol first seen in a mode starts in it; with no intent, position or order
    // yet, entering it sends nothing.
    let make = move |symbol: SymbolId, gate: &SafetyGate, config: OrderConfig| {
        let mut m = OrderManager::new(symbol, registry.get(symbol).clone(), config);
        let mut nothing = Vec::new();
        m.set_mode(gate.mode(), 0, &mut nothing);
        debug_assert!(nothing.is_empty());
        m
    };
    let inputs = intents
        .map(Input::Intent)
        .concat(control.map(Input::Control));
    binary_by_epoch(
        inputs,
        feedback,
        Pipeline,
        Pipeline,
        "Orders",
        move |t, inputs, reports, out| {
            let now = epoch.epoch_start(t);
            for change in pending.due(now) {
                config.apply(&change);
                for (_, m) in states.iter_mut() {
                    m.apply(&change);
                }
            }
            reports.sort_unstable_by_key(Keyed::key);
            for report in reports.iter() {
                states
                    .get_or_insert_with(report.symbol, &mut |s| make(s, &gate, config))
                    .on_report(report, now, out);
            }
            inputs.sort_unstable_by_key(Input::key);
            for input in inputs.iter() {
                match input {
                    Input::Control(event) => {
                        pending.on_control(event, cooldown);
                        if gate.on_control(event) {
                            for (_, m) in states.iter_mut() {
                                m.set_mode(gate.mode(), event.ts, out);
                            }
                        }
                    }
                    Input::Intent(intent) => states
                        .get_or_insert_with(intent.symbol, &mut |s| make(s, &gate, config))
                        .on_intent(intent, out),
                }
            }
        },
    )
}
