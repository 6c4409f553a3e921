//! The safety gate in the graph: an order is decided only once every control event up to
//! its time is known.

use std::collections::BTreeMap;

use bot4_operators::safety_gate::{rejection, Decision, ModeTimeline};
use bot4_schemas::{ControlEvent, EpochWidth, ExecutionReport, Nanos, Order};
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::StreamVec;

use super::keyed::{stash_message, Stash, Vecs};

/// What the gate does with one order.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Gated {
    /// Sent on to the venue.
    Pass(Order),
    /// Refused; the report goes back to the order stage.
    Blocked(ExecutionReport),
}

/// The gate's mode as a function of event time, built from every control event whose
/// epoch the control frontier has passed, applied in `(ts, seq)` order.
#[derive(Debug, Default)]
struct Timeline {
    modes: ModeTimeline,
    /// Events not yet final: their epoch is not behind the control frontier.
    pending: BTreeMap<(Nanos, u64), ControlEvent>,
}

impl Timeline {
    /// Apply every pending event of an epoch before `frontier`.
    fn settle(&mut self, frontier: Option<u64>, epoch: EpochWidth) {
        while let Some(entry) = self.pending.first_entry() {
            if frontier.is_some_and(|f| epoch.epoch_of(entry.key().0) >= f) {
                break;
            }
            let event = entry.remove();
            if self.modes.apply(&event) {
                tracing::info!(
                    ts = event.ts,
                    command = event.command.as_str(),
                    reason = %event.reason,
                    mode = ?self.modes.mode(),
                    "safety gate mode changed"
                );
            }
        }
    }
}

/// Gate `orders` by the broadcast `control` stream.
///
/// Orders of epoch `t` are decided once the control stream's frontier has passed `t`,
/// so every control event at or before an order's time applies to it, on every worker,
/// in replay as in live trading. The decision depends only on the order's time, never on
/// when it arrived, so the gate need not wait for the rest of the epoch's orders.
pub fn safety_gate<'s>(
    orders: StreamVec<'s, u64, Order>,
    control: StreamVec<'s, u64, ControlEvent>,
    epoch: EpochWidth,
) -> StreamVec<'s, u64, Gated> {
    orders.binary_frontier::<_, Vecs<Gated>, _, _, _, _>(
        control,
        Pipeline,
        Pipeline,
        "SafetyGate",
        move |_cap, _info| {
            let mut timeline = Timeline::default();
            let mut held: Stash<Order> = Stash::new();
            move |(orders, _), (control, control_frontier), output| {
                control.for_each(|_cap, events| {
                    for event in events.drain(..) {
                        timeline.pending.insert((event.ts, event.seq), event);
                    }
                });
                let frontier = control_frontier.frontier().first().copied();
                timeline.settle(frontier, epoch);
                let port = output.output_index();
                orders.for_each(|cap, data| stash_message(&mut held, cap, data, port));
                while let Some(entry) = held.first_entry() {
                    if control_frontier.less_equal(entry.key()) {
                        break;
                    }
                    let (cap, orders) = entry.remove();
                    let mut session = output.session(&cap);
                    for order in orders {
                        session.give(match timeline.modes.check(&order) {
                            Decision::Pass => Gated::Pass(order),
                            Decision::Block(_) => Gated::Blocked(rejection(&order)),
                        });
                    }
                }
            }
        },
    )
}
