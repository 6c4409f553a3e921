//! The two shapes every per-symbol stage takes in the graph.
//!
//! [`exchange_sorted`] routes records to the worker that owns their symbol and releases
//! each epoch, sorted by the records' key, once the input frontier has passed it: from
//! there on a symbol's records flow in `(ts, seq)` order, whatever the worker layout.
//! [`per_symbol`] then runs a per-symbol state machine over a stream that is already in
//! that order (a `Pipeline` channel preserves it), with no buffering.

use std::collections::BTreeMap;

use bot4_schemas::{
    ExecutionReport, FeatureVector, Forecast, Nanos, Order, OrderIntent, Signal, SymbolId, Tick,
};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::operators::Capability;
use timely::dataflow::StreamVec;
use timely::ExchangeData;

/// The container builder of every stream in the graph.
pub(crate) type Vecs<D> = CapacityContainerBuilder<Vec<D>>;

/// A record that belongs to one symbol and has a total processing order within it.
pub trait Keyed {
    /// The total order of a symbol's records.
    type Key: Ord;
    /// The symbol the record belongs to.
    fn symbol(&self) -> SymbolId;
    /// Its place in the processing order.
    fn key(&self) -> Self::Key;
}

/// The worker that owns `symbol`: timely sends a record with this hash to worker
/// `hash mod peers`.
#[inline]
pub fn route(symbol: SymbolId) -> u64 {
    u64::from(symbol.0)
}

macro_rules! keyed_by_seq {
    ($($t:ty),*) => {$(
        impl Keyed for $t {
            type Key = (Nanos, u64);
            #[inline]
            fn symbol(&self) -> SymbolId { self.symbol }
            #[inline]
            fn key(&self) -> (Nanos, u64) { (self.ts, self.seq) }
        }
    )*};
}
keyed_by_seq!(Tick, FeatureVector, Forecast, Signal, OrderIntent);

impl Keyed for Order {
    type Key = (Nanos, u64, bool);
    fn symbol(&self) -> SymbolId {
        self.symbol
    }
    /// `(ts, client_id, is_new)`: a cancel sorts before a new order with the same time
    /// and id, which keeps the order total.
    fn key(&self) -> Self::Key {
        (
            self.ts,
            self.client_id,
            self.action == bot4_schemas::OrderAction::New,
        )
    }
}

impl Keyed for ExecutionReport {
    type Key = (Nanos, u64, u32);
    fn symbol(&self) -> SymbolId {
        self.symbol
    }
    fn key(&self) -> Self::Key {
        ExecutionReport::key(self)
    }
}

/// Records of one epoch held until the frontier passes it.
pub(crate) type Stash<D> = BTreeMap<u64, (Capability<u64>, Vec<D>)>;

/// Add a message's records to the stash under its time.
pub(crate) fn stash_message<D>(
    stash: &mut Stash<D>,
    cap: timely::dataflow::operators::InputCapability<u64>,
    data: &mut Vec<D>,
    output_port: usize,
) {
    let Some(cap) = cap.retain_least(output_port) else {
        return;
    };
    stash
        .entry(*cap.time())
        .or_insert_with(|| (cap, Vec::new()))
        .1
        .append(data);
}

/// Route records to their symbol's worker and release each epoch sorted by key.
pub fn exchange_sorted<'s, D>(stream: StreamVec<'s, u64, D>, name: &str) -> StreamVec<'s, u64, D>
where
    D: Keyed + ExchangeData + Clone,
{
    unary_by_epoch(
        stream,
        Exchange::new(|d: &D| route(d.symbol())),
        name,
        |_epoch, data, out| {
            data.sort_unstable_by_key(Keyed::key);
            std::mem::swap(data, out);
        },
    )
}

/// Hold each epoch's records until the input's frontier has passed it, then call
/// `logic(epoch, records, output)` once per epoch, in epoch order, and send what it
/// produced at that epoch.
pub(crate) fn unary_by_epoch<'s, D, O, P, L>(
    stream: StreamVec<'s, u64, D>,
    pact: P,
    name: &str,
    mut logic: L,
) -> StreamVec<'s, u64, O>
where
    D: Clone + 'static,
    O: Clone + 'static,
    P: timely::dataflow::channels::pact::ParallelizationContract<u64, Vec<D>>,
    L: FnMut(u64, &mut Vec<D>, &mut Vec<O>) + 'static,
{
    stream.unary_frontier::<Vecs<O>, _, _, _>(pact, name, |_cap, _info| {
        let mut stash: Stash<D> = BTreeMap::new();
        let mut produced = Vec::new();
        move |(input, frontier), output| {
            let port = output.output_index();
            input.for_each(|cap, data| stash_message(&mut stash, cap, data, port));
            while let Some(entry) = stash.first_entry() {
                let epoch = *entry.key();
                if frontier.less_equal(&epoch) {
                    break;
                }
                let (cap, mut data) = entry.remove();
                logic(epoch, &mut data, &mut produced);
                if !produced.is_empty() {
                    output.session(&cap).give_container(&mut produced);
                    produced.clear();
                }
            }
        }
    })
}

/// Run one state machine per symbol over a stream already in per-symbol key order.
/// `make` creates a symbol's state on its first record; `logic` appends its outputs.
pub fn per_symbol<'s, I, O, S, M, L>(
    stream: StreamVec<'s, u64, I>,
    name: &str,
    mut make: M,
    mut logic: L,
) -> StreamVec<'s, u64, O>
where
    I: Keyed + Clone + 'static,
    O: Clone + 'static,
    S: 'static,
    M: FnMut(SymbolId) -> S + 'static,
    L: FnMut(&mut S, &I, &mut Vec<O>) + 'static,
{
    stream.unary::<Vecs<O>, _, _, _>(Pipeline, name, move |_cap, _info| {
        let mut states = SymbolStates::default();
        let mut produced = Vec::new();
        move |input, output| {
            input.for_each(|cap, data| {
                for record in data.iter() {
                    let state = states.get_or_insert_with(record.symbol(), &mut make);
                    logic(state, record, &mut produced);
                }
                if !produced.is_empty() {
                    output.session(&cap).give_container(&mut produced);
                    produced.clear();
                }
            });
        }
    })
}

/// Per-symbol state, indexed by the dense symbol id.
#[derive(Debug)]
pub(crate) struct SymbolStates<S>(Vec<Option<S>>);

impl<S> Default for SymbolStates<S> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<S> SymbolStates<S> {
    #[inline]
    pub(crate) fn get_or_insert_with(
        &mut self,
        symbol: SymbolId,
        make: &mut impl FnMut(SymbolId) -> S,
    ) -> &mut S {
        let i = symbol.0 as usize;
        if i >= self.0.len() {
            self.0.resize_with(i + 1, || None);
        }
        self.0[i].get_or_insert_with(|| make(symbol))
    }

    /// Every symbol's state, in symbol order.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (SymbolId, &mut S)> {
        self.0
            .iter_mut()
            .enumerate()
            .filter_map(|(i, s)| s.as_mut().map(|s| (SymbolId(i as u32), s)))
    }
}

/// One epoch of two inputs: the capability and each input's records.
type Pair<A, B> = (Capability<u64>, Vec<A>, Vec<B>);

/// Hold two inputs by epoch and hand each epoch to `logic` once both frontiers have
/// passed it, with the capability to emit at that epoch. `logic` gets the epoch and the
/// records of both inputs (in arrival order) and appends its outputs.
pub(crate) fn binary_by_epoch<'s, A, B, O, PA, PB, L>(
    a: StreamVec<'s, u64, A>,
    b: StreamVec<'s, u64, B>,
    pact_a: PA,
    pact_b: PB,
    name: &str,
    mut logic: L,
) -> StreamVec<'s, u64, O>
where
    A: Clone + 'static,
    B: Clone + 'static,
    O: Clone + 'static,
    PA: timely::dataflow::channels::pact::ParallelizationContract<u64, Vec<A>>,
    PB: timely::dataflow::channels::pact::ParallelizationContract<u64, Vec<B>>,
    L: FnMut(u64, &mut Vec<A>, &mut Vec<B>, &mut Vec<O>) + 'static,
{
    a.binary_frontier::<_, Vecs<O>, _, _, _, _>(b, pact_a, pact_b, name, |_cap, _info| {
        let mut stash: BTreeMap<u64, Pair<A, B>> = BTreeMap::new();
        let mut produced = Vec::new();
        move |(in_a, frontier_a), (in_b, frontier_b), output| {
            let port = output.output_index();
            // The epoch's entry, created under the first capability that arrives for it.
            fn entry<A, B>(
                stash: &mut BTreeMap<u64, Pair<A, B>>,
                cap: timely::dataflow::operators::InputCapability<u64>,
                port: usize,
            ) -> Option<&mut Pair<A, B>> {
                let cap = cap.retain_least(port)?;
                Some(
                    stash
                        .entry(*cap.time())
                        .or_insert_with(|| (cap, Vec::new(), Vec::new())),
                )
            }
            in_a.for_each(|cap, data| {
                if let Some(e) = entry(&mut stash, cap, port) {
                    e.1.append(data);
                }
            });
            in_b.for_each(|cap, data| {
                if let Some(e) = entry(&mut stash, cap, port) {
                    e.2.append(data);
                }
            });
            while let Some(entry) = stash.first_entry() {
                let epoch = *entry.key();
                if frontier_a.less_equal(&epoch) || frontier_b.less_equal(&epoch) {
                    break;
                }
                let (cap, mut a, mut b) = entry.remove();
                logic(epoch, &mut a, &mut b, &mut produced);
                if !produced.is_empty() {
                    output.session(&cap).give_container(&mut produced);
                    produced.clear();
                }
            }
        }
    })
}
