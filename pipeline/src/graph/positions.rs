//! Positions in the graph: fills and marks per symbol, one snapshot per symbol and epoch.

use bot4_operators::positions::PositionBook;
use bot4_schemas::{Decimal, ExecutionReport, Position, ReportStatus, SymbolId, Tick};
use serde::{Deserialize, Serialize};
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::StreamVec;

use super::keyed::{binary_by_epoch, Keyed, SymbolStates};

/// A symbol's position at the end of an epoch with what happened in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolEpoch {
    /// The position, marked at the last price of the epoch.
    pub position: Position,
    /// Ticks seen in the epoch.
    pub ticks: u64,
    /// Orders submitted in the epoch.
    pub orders: u64,
    /// Fills in the epoch.
    pub fills: u64,
    /// Quote volume filled in the epoch (`Σ price · qty`).
    pub traded: Decimal,
}

#[derive(Debug)]
struct Book {
    book: PositionBook,
    epoch: SymbolEpoch,
    touched: bool,
}

/// Apply fills and marks per symbol and emit a [`SymbolEpoch`] for every symbol with any
/// activity in the epoch. Within an epoch a symbol's reports and ticks are merged by
/// event time, reports first at equal times.
pub fn positions<'s>(
    ticks: StreamVec<'s, u64, Tick>,
    reports: StreamVec<'s, u64, ExecutionReport>,
) -> StreamVec<'s, u64, SymbolEpoch> {
    let mut states: SymbolStates<Book> = SymbolStates::default();
    let mut make = |symbol: SymbolId| Book {
        book: PositionBook::new(symbol),
        epoch: SymbolEpoch {
            position: Position::flat(symbol),
            ticks: 0,
            orders: 0,
            fills: 0,
            traded: Decimal::ZERO,
        },
        touched: false,
    };
    binary_by_epoch(
        ticks,
        reports,
        Pipeline,
        Pipeline,
        "Positions",
        move |_t, ticks, reports, out| {
            reports.sort_unstable_by_key(Keyed::key);
            let mut r = reports.iter().peekable();
            for tick in ticks.iter() {
                while let Some(report) = r.next_if(|report| report.ts <= tick.ts) {
                    apply(states.get_or_insert_with(report.symbol, &mut make), report);
                }
                let b = states.get_or_insert_with(tick.symbol, &mut make);
                if let Some(price) = tick.reference_price() {
                    b.book.mark(tick.ts, price);
                }
                b.epoch.ticks += 1;
                b.touched = true;
            }
            for report in r {
                apply(states.get_or_insert_with(report.symbol, &mut make), report);
            }
            for (_, b) in states.iter_mut() {
                if b.touched {
                    b.epoch.position = *b.book.position();
                    out.push(b.epoch);
                    b.epoch.ticks = 0;
                    b.epoch.orders = 0;
                    b.epoch.fills = 0;
                    b.epoch.traded = Decimal::ZERO;
                    b.touched = false;
                }
            }
        },
    )
}

fn apply(b: &mut Book, report: &ExecutionReport) {
    b.touched = true;
    if report.status == ReportStatus::Submitted {
        b.epoch.orders += 1;
    }
    if let Some(fill) = report.fill() {
        b.book.apply_fill(&fill);
        b.epoch.fills += 1;
        b.epoch.traded += fill.price * fill.qty;
    }
}
