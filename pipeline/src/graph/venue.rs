//! The simulated venue in the graph: gated orders and the market's ticks in, execution
//! reports out.

use std::sync::Arc;

use bot4_operators::venue::{SymbolVenue, VenueConfig};
use bot4_schemas::{ExecutionReport, Order, SymbolId, SymbolRegistry, Tick};
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::StreamVec;

use super::keyed::{binary_by_epoch, Keyed, SymbolStates};

/// Run each symbol's [`SymbolVenue`]: an epoch's orders are submitted (in key order),
/// then its ticks are played in `(ts, seq)` order; orders reach the venue after their
/// latency, so an order may act on a later epoch's ticks. Each symbol's venue draws
/// its latencies and outages from its own generator, seeded by the run's `seed` and
/// the symbol, so the draws do not depend on which worker runs it.
pub fn venue<'s>(
    ticks: StreamVec<'s, u64, Tick>,
    orders: StreamVec<'s, u64, Order>,
    registry: Arc<SymbolRegistry>,
    config: VenueConfig,
    seed: u64,
) -> StreamVec<'s, u64, ExecutionReport> {
    let mut states = SymbolStates::default();
    let mut make = move |symbol: SymbolId| {
        SymbolVenue::new(
            registry.get(symbol).clone(),
            config.clone(),
            symbol_seed(seed, symbol),
        )
    };
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

/// The seed of `symbol`'s venue: the run's seed and the symbol mixed by SplitMix64's
/// finaliser, so that neighbouring symbols get unrelated streams.
fn symbol_seed(seed: u64, symbol: SymbolId) -> u64 {
    let mut z = seed ^ u64::from(symbol.0).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
