//! The order stage: intents and fed-back execution reports in, order messages out.

use std::sync::Arc;

use bot4_operators::orders::{OrderConfig, OrderManager};
use bot4_schemas::{EpochWidth, ExecutionReport, Order, OrderIntent, SymbolRegistry};
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::StreamVec;

use super::keyed::{binary_by_epoch, Keyed, SymbolStates};

/// Run each symbol's [`OrderManager`]. Reports fed back at epoch `t` happened in epoch
/// `t − 1` or before; they are applied first, at the start of epoch `t` (the strategy
/// learns of a fill one epoch after it), then the epoch's intents in order.
pub fn order_stage<'s>(
    intents: StreamVec<'s, u64, OrderIntent>,
    feedback: StreamVec<'s, u64, ExecutionReport>,
    registry: Arc<SymbolRegistry>,
    config: OrderConfig,
    epoch: EpochWidth,
) -> StreamVec<'s, u64, Order> {
    let mut states = SymbolStates::default();
    let mut make = move |symbol| OrderManager::new(symbol, registry.get(symbol).clone(), config);
    binary_by_epoch(
        intents,
        feedback,
        Pipeline,
        Pipeline,
        "Orders",
        move |t, intents, reports, out| {
            let now = epoch.epoch_start(t);
            reports.sort_unstable_by_key(Keyed::key);
            for report in reports.iter() {
                states
                    .get_or_insert_with(report.symbol, &mut make)
                    .on_report(report, now, out);
            }
            intents.sort_unstable_by_key(Keyed::key);
            for intent in intents.iter() {
                states
                    .get_or_insert_with(intent.symbol, &mut make)
                    .on_intent(intent, out);
            }
        },
    )
}
