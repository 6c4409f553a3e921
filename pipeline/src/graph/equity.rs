//! The portfolio view: every symbol's epoch snapshot gathered on worker 0 into the
//! equity curve and the run's totals.

use std::cell::RefCell;
use std::rc::Rc;

use bot4_operators::equity::EquityCurve;
use bot4_schemas::{Decimal, EpochWidth, EquityPoint};
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::StreamVec;

use super::keyed::unary_by_epoch;
use super::positions::SymbolEpoch;

/// The run's totals, as known to worker 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Totals {
    /// Ticks processed.
    pub ticks: u64,
    /// Orders submitted.
    pub orders: u64,
    /// Fills.
    pub fills: u64,
    /// The last equity point.
    pub last: Option<EquityPoint>,
    /// The largest drawdown.
    pub max_drawdown: f64,
    /// The safety controller's mode at the end (set by the driver).
    pub final_mode: &'static str,
}

impl Default for Totals {
    fn default() -> Self {
        Self {
            ticks: 0,
            orders: 0,
            fills: 0,
            last: None,
            max_drawdown: 0.0,
            final_mode: "normal",
        }
    }
}

/// Gather snapshots on worker 0 and emit one [`EquityPoint`] per epoch with activity,
/// keeping `totals` up to date. The sum is exact, so the curve does not depend on the
/// order snapshots arrive in.
pub fn equity<'s>(
    snapshots: StreamVec<'s, u64, SymbolEpoch>,
    capital: Decimal,
    epoch: EpochWidth,
    totals: Rc<RefCell<Totals>>,
) -> StreamVec<'s, u64, EquityPoint> {
    let mut curve = EquityCurve::new(capital);
    unary_by_epoch(
        snapshots,
        Exchange::new(|_: &SymbolEpoch| 0),
        "Equity",
        move |t, data, out| {
            let mut totals = totals.borrow_mut();
            for s in data.drain(..) {
                totals.ticks += s.ticks;
                totals.orders += s.orders;
                totals.fills += s.fills;
                curve.update(s.position);
            }
            let point = curve.point(epoch.epoch_end(t));
            totals.last = Some(point);
            totals.max_drawdown = curve.max_drawdown();
            out.push(point);
        },
    )
}
