//! The simulated venue in the graph: gated orders and the market's ticks in, execution
//! reports out.

use std::collections::BTreeMap;
use std::sync::Arc;

use bot4_operators::venue::{SymbolVenue, VenueConfig};
use bot4_schemas::{Decimal, ExecutionReport, Order, SymbolId, SymbolRegistry, Tick};
use serde::{Deserialize, Serialize};
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::StreamVec;

use super::keyed::{binary_by_epoch, Keyed, SymbolStates};

/// What reaches the venues besides the ticks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ToVenue {
    /// An order that passed the safety gate, for its symbol's venue.
    Order(Order),
    /// The account's 30-day quote volume per symbol as of the end of the previous
    /// epoch (from the portfolio view, broadcast), for the fee tiers.
    Volumes(BTreeMap<SymbolId, Decimal>),
}

/// Run each symbol's [`SymbolVenue`]: an epoch's account volumes are applied first (each
/// venue's fee tier counts the other symbols' 30-day volume as of the end of the
/// previous epoch besides its own), then its orders are submitted (in key order), then
/// its ticks are played in `(ts, seq)` order; orders reach the venue after their
/// latency, so an order may act on a later epoch's ticks. Each symbol's venue draws
/// its latencies and outages from its own generator, seeded by the run's `seed` and
/// the symbol, so the draws do not depend on which worker runs it.
pub fn venue<'s>(
    ticks: StreamVec<'s, u64, Tick>,
    input: StreamVec<'s, u64, ToVenue>,
    registry: Arc<SymbolRegistry>,
    config: VenueConfig,
    seed: u64,
) -> StreamVec<'s, u64, ExecutionReport> {
    let mut states: SymbolStates<SymbolVenue> = SymbolStates::default();
    let make = move |symbol: SymbolId| {
        SymbolVenue::new(
            registry.get(symbol).clone(),
            config.clone(),
            symbol_seed(seed, symbol),
        )
    };
    // The latest account volumes, for venues made after they arrived.
    let mut volumes: BTreeMap<SymbolId, Decimal> = BTreeMap::new();
    let mut total = Decimal::ZERO;
    let other = |volumes: &BTreeMap<SymbolId, Decimal>, total: Decimal, symbol: SymbolId| {
        total - volumes.get(&symbol).copied().unwrap_or(Decimal::ZERO)
    };
    let mut orders = Vec::new();
    binary_by_epoch(
        ticks,
        input,
        Pipeline,
        Pipeline,
        "Venue",
        move |_t, ticks, input, out| {
            orders.clear();
            for x in input.drain(..) {
                match x {
                    ToVenue::Order(order) => orders.push(order),
                    // One view per epoch, the same on every worker.
                    ToVenue::Volumes(v) => {
                        total = v.values().copied().sum();
                        volumes = v;
                        for (symbol, venue) in states.iter_mut() {
                            venue.set_other_volume(other(&volumes, total, symbol));
                        }
                    }
                }
            }
            let mut venue_of = |symbol: SymbolId| {
                let mut venue = make(symbol);
                venue.set_other_volume(other(&volumes, total, symbol));
                venue
            };
            orders.sort_unstable_by_key(Keyed::key);
            for order in orders.drain(..) {
                states
                    .get_or_insert_with(order.symbol, &mut venue_of)
                    .submit(order);
            }
            for tick in ticks.iter() {
                states
                    .get_or_insert_with(tick.symbol, &mut venue_of)
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
