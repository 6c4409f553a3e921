//! The portfolio's equity curve from the positions of every symbol.
//!
//! `equity = capital + Σ_symbols (cash + qty · mark)`, exact. Drawdown is measured from
//! the highest equity seen at an epoch end.

use std::collections::BTreeMap;

use bot4_schemas::{Decimal, EquityPoint, Nanos, Position, SymbolId};
use rust_decimal::prelude::ToPrimitive;

/// The latest position of every symbol and the running peak.
#[derive(Debug, Clone)]
pub struct EquityCurve {
    capital: Decimal,
    positions: BTreeMap<SymbolId, Position>,
    peak: Decimal,
    max_drawdown: f64,
}

impl EquityCurve {
    /// A curve starting at `capital`.
    pub fn new(capital: Decimal) -> Self {
        Self {
            capital,
            positions: BTreeMap::new(),
            peak: capital,
            max_drawdown: 0.0,
        }
    }

    /// Replace a symbol's position with a newer one.
    pub fn update(&mut self, position: Position) {
        self.positions.insert(position.symbol, position);
    }

    /// The equity point at `ts` from the positions so far.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::equity::EquityCurve;
    /// use bot4_schemas::{Decimal, Position, SymbolId};
    /// let mut curve = EquityCurve::new(Decimal::from(1000));
    /// let mut p = Position::flat(SymbolId(0));
    /// p.qty = Decimal::ONE; p.cash = Decimal::from(-100); p.mark = Decimal::from(90); p.avg_price = Decimal::from(100);
    /// curve.update(p);
    /// let point = curve.point(1);
    /// assert_eq!(point.equity, Decimal::from(990));
    /// assert!((point.drawdown - 0.01).abs() < 1e-12);
    /// ```
    pub fn point(&mut self, ts: Nanos) -> EquityPoint {
        let mut point = EquityPoint {
            ts,
            equity: self.capital,
            realized_pnl: Decimal::ZERO,
            unrealized_pnl: Decimal::ZERO,
            fees: Decimal::ZERO,
            gross_exposure: Decimal::ZERO,
            peak: self.peak,
            drawdown: 0.0,
        };
        for p in self.positions.values() {
            point.equity += p.total_pnl();
            point.realized_pnl += p.realized_pnl;
            point.unrealized_pnl += p.unrealized_pnl();
            point.fees += p.fees;
            point.gross_exposure += p.notional();
        }
        self.peak = self.peak.max(point.equity);
        point.peak = self.peak;
        point.drawdown = if self.peak > Decimal::ZERO {
            // Normalised first: the float of a decimal depends on its scale, and equal
            // equities reached through prices of different scales (`100.5`, `100.50`)
            // must give the same drawdown.
            ((self.peak - point.equity) / self.peak)
                .normalize()
                .to_f64()
                .unwrap_or(0.0)
        } else {
            0.0
        };
        self.max_drawdown = self.max_drawdown.max(point.drawdown);
        point
    }

    /// The largest drawdown of any point so far.
    pub fn max_drawdown(&self) -> f64 {
        self.max_drawdown
    }
}
