//! The simulated venue in the graph: gated orders and the market's ticks in, execution
//! reports out.

use std::sync::Arc;

use bot4_operators::venue::{SymbolVenue, VenueConfig};
use bot4_schemas::{ExecutionReport, Order, SymbolRegistry, Tick};
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::StreamVec;

use super::keyed::{binary_by_epoch, Keyed, SymbolStates};

/// Run each symbol's [`SymbolVenue`]: an epoch's orders are submitted (in key order),
/// then its ticks are played in `(ts, seq)` order; orders reach the venue after their
/// latency, so an order may act on a later epoch's ticks.
pub fn venue<'s>(
    ticks: StreamVec<'s, u64, Tick>,
    orders: StreamVec<'s, u64, Order>,
    registry: Arc<SymbolRegistry>,
    config: VenueConfig,
) -> StreamVec<'s, u64, ExecutionReport> {
    let mut states = SymbolStates::default();
    let mut make = move |symbol| SymbolVenue::new(registry.get(symbol).clone(), config.clone());
    binary_by_epoch(
        ticks,
        orders,
        Pipeline,
        Pipeline,
        "Venue",
        move |_t, ticks, orders, out| {
            orders.sort_unstable_by_key(Keyed::key);
            for order in orders.drain(..) {
                states
                    .get_or_insert_with(order.symbol, &mut make)
                    .submit(order);
            }
            for tick in ticks.iter() {
                states
                    .get_or_insert_with(tick.symbol, &mut make)
                    .on_tick(tick, out);
            }
        },
    )
}
