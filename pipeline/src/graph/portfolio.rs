//! The portfolio's exposure, maintained incrementally with differential dataflow.
//!
//! Risk runs partitioned by symbol, but its portfolio limits need every symbol's
//! exposure. Two collections describe the book, each changing only where something
//! changed in an epoch:
//!
//! - **holdings**: `(symbol, (qty, mark))` from the positions stage's end-of-epoch
//!   snapshots (each new snapshot retracts the symbol's previous one);
//! - **stops**: `(symbol, stop trigger)` from the order stage's brackets.
//!
//! They are combined per symbol (a left join: a holding without a stop risks its whole
//! notional) into [`SymbolExposure`]s and reduced to one [`PortfolioExposure`] per
//! epoch, on one worker. Differential keeps both reductions' inputs arranged, so each
//! epoch costs the symbols that changed, not the whole book. The safety watch turns
//! the result, with the equity and correlations, into the portfolio view that the order
//! stage sees one epoch later (see `graph/safety.rs`).

use bot4_schemas::{Decimal, SymbolId};
use differential_dataflow::{AsCollection, VecCollection};
use serde::{Deserialize, Serialize};
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::operators::vec::Map;
use timely::dataflow::operators::Capability;
use timely::dataflow::StreamVec;

use super::keyed::SymbolStates;
use super::positions::SymbolEpoch;

/// One symbol's part of the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SymbolExposure {
    /// The symbol.
    pub symbol: SymbolId,
    /// Signed position.
    pub qty: Decimal,
    /// Its last price.
    pub mark: Decimal,
    /// Signed notional, `qty · mark`.
    pub notional: Decimal,
    /// What the position loses if its stop fills at the trigger: `|qty| · (mark − stop)`
    /// for a long (`(stop − mark)` for a short), at least zero; its whole notional when
    /// it has no stop.
    pub risk_at_stop: Decimal,
}

/// Every symbol's exposure at the end of an epoch, and the sums.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PortfolioExposure {
    /// Σ |notional|.
    pub gross: Decimal,
    /// Σ notional.
    pub net: Decimal,
    /// Σ risk at stop (the portfolio's heat).
    pub heat: Decimal,
    /// Each symbol with a position, by symbol.
    pub symbols: Vec<SymbolExposure>,
}

/// One side of the per-symbol join.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
enum Part {
    /// Position and mark.
    Holding(Decimal, Decimal),
    /// The bracket's stop trigger.
    Stop(Decimal),
}

/// The book's exposure per epoch, from the positions stage's snapshots and the order
/// stage's stops (`(symbol, Some(trigger))` when a bracket's stop is placed or moved,
/// `(symbol, None)` when it goes). The output stream carries differential updates of
/// the one-record collection: at each epoch where anything changed, the previous
/// [`PortfolioExposure`] with `−1` and the new one with `+1`.
pub fn portfolio_exposure<'s>(
    snapshots: StreamVec<'s, u64, SymbolEpoch>,
    stops: StreamVec<'s, u64, (SymbolId, Option<Decimal>)>,
) -> StreamVec<'s, u64, (PortfolioExposure, u64, isize)> {
    let holdings = changes(snapshots, "Holdings", |s: &SymbolEpoch| {
        let p = &s.position;
        (
            p.symbol,
            (!p.qty.is_zero()).then_some(Part::Holding(p.qty, p.mark)),
        )
    });
    let stops = changes(
        stops,
        "Stops",
        |&(symbol, stop): &(SymbolId, Option<Decimal>)| (symbol, stop.map(Part::Stop)),
    );
    holdings
        .concat(stops)
        .reduce(|&symbol, parts, out| {
            let mut holding = None;
            let mut stop = None;
            for (part, diff) in parts {
                if *diff <= 0 {
                    continue;
                }
                match **part {
                    Part::Holding(qty, mark) => holding = Some((qty, mark)),
                    Part::Stop(trigger) => stop = Some(trigger),
                }
            }
            if let Some((qty, mark)) = holding {
                out.push((exposure(symbol, qty, mark, stop), 1));
            }
        })
        .map(|(_, e)| ((), e))
        .reduce(|_, exposures, out| {
            let mut total = PortfolioExposure {
                gross: Decimal::ZERO,
                net: Decimal::ZERO,
                heat: Decimal::ZERO,
                symbols: Vec::with_capacity(exposures.len()),
            };
            for (e, diff) in exposures {
                if *diff <= 0 {
                    continue;
                }
                total.gross += e.notional.abs();
                total.net += e.notional;
                total.heat += e.risk_at_stop;
                total.symbols.push(**e);
            }
            out.push((total, 1));
        })
        .inner
        .map(|(((), total), t, diff)| (total, t, diff))
}

/// A symbol's exposure, with its risk at `stop` (or its whole notional without one):
/// a long of 2 marked at 100 with its stop at 95 risks 10; without a stop, 200.
pub fn exposure(
    symbol: SymbolId,
    qty: Decimal,
    mark: Decimal,
    stop: Option<Decimal>,
) -> SymbolExposure {
    let notional = qty * mark;
    let risk_at_stop = match stop {
        Some(stop) => (qty * (mark - stop)).max(Decimal::ZERO),
        None => notional.abs(),
    };
    SymbolExposure {
        symbol,
        qty,
        mark,
        notional,
        risk_at_stop,
    }
}

/// A collection keyed by symbol from a stream of per-symbol states: each record whose
/// value differs from the symbol's last retracts that one and asserts the new (`None`
/// asserts nothing). Records of one symbol must arrive on one worker, in epoch order.
fn changes<'s, D, V>(
    stream: StreamVec<'s, u64, D>,
    name: &str,
    value: impl Fn(&D) -> (SymbolId, Option<V>) + 'static,
) -> VecCollection<'s, u64, (SymbolId, V), isize>
where
    D: Clone + 'static,
    V: timely::ExchangeData + Ord + Copy + std::hash::Hash,
{
    let mut last: SymbolStates<Option<V>> = SymbolStates::default();
    stream
        .unary(Pipeline, name, move |_, _| {
            move |input, output| {
                let port = output.output_index();
                input.for_each(|cap, data| {
                    let Some(cap): Option<Capability<u64>> = cap.retain_least(port) else {
                        return;
                    };
                    let t = *cap.time();
                    let mut session = output.session(&cap);
                    for record in data.iter() {
                        let (symbol, new) = value(record);
                        let slot = last.get_or_insert_with(symbol, &mut |_| None);
                        if *slot == new {
                            continue;
                        }
                        if let Some(old) = slot.take() {
                            session.give(((symbol, old), t, -1isize));
                        }
                        if let Some(new) = new {
                            session.give(((symbol, new), t, 1isize));
                        }
                        *slot = new;
                    }
                });
            }
        })
        .as_collection()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risk_at_stop_is_the_loss_to_the_stop_or_the_whole_notional() {
        let e = exposure(
            SymbolId(0),
            Decimal::TWO,
            Decimal::from(100),
            Some(Decimal::from(95)),
        );
        assert_eq!(
            (e.notional, e.risk_at_stop),
            (Decimal::from(200), Decimal::from(10))
        );
        let short = exposure(
            SymbolId(0),
            -Decimal::TWO,
            Decimal::from(100),
            Some(Decimal::from(103)),
        );
        assert_eq!(
            (short.notional, short.risk_at_stop),
            (Decimal::from(-200), Decimal::from(6))
        );
        let bare = exposure(SymbolId(0), -Decimal::TWO, Decimal::from(100), None);
        assert_eq!(bare.risk_at_stop, Decimal::from(200));
        let trailed = exposure(
            SymbolId(0),
            Decimal::TWO,
            Decimal::from(100),
            Some(Decimal::from(101)),
        );
        assert_eq!(
            trailed.risk_at_stop,
            Decimal::ZERO,
            "a stop above the mark locks a gain"
        );
    }
}
