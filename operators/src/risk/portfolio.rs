//! The portfolio as the pre-trade checks see it: equity, each symbol's exposure and
//! risk at its stop, and the correlations between symbols, as of the end of the
//! previous epoch.
//!
//! The graph fills one view per epoch from the positions and the equity of the epoch
//! before, and every worker's checks read the same view, so a decision never depends on
//! the order in which symbols were processed within the epoch. Symbols are kept in a
//! `BTreeMap`, so iteration is in [`SymbolId`] order everywhere.

use std::collections::BTreeMap;

use bot4_schemas::{Decimal, SymbolId};

/// One symbol's entry in a [`PortfolioView`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct SymbolExposure {
    /// Signed notional of the position (quantity × mark) in quote currency: positive
    /// long, negative short.
    pub exposure: Decimal,
    /// What the position loses if its protective stop is hit, in quote currency
    /// (`|qty| · |mark − stop|`; the whole notional when it has no stop); never
    /// negative.
    pub risk_at_stop: Decimal,
}

/// The portfolio at the end of an epoch.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PortfolioView {
    /// Equity in quote currency.
    pub equity: Decimal,
    /// Each symbol's exposure and risk; a symbol without an entry holds nothing.
    pub symbols: BTreeMap<SymbolId, SymbolExposure>,
    /// Correlations of returns, keyed by the ordered pair `(low id, high id)`.
    correlations: BTreeMap<(SymbolId, SymbolId), f64>,
    /// The last price of each symbol held.
    marks: BTreeMap<SymbolId, Decimal>,
}

impl PortfolioView {
    /// An empty portfolio worth `equity`.
    pub fn new(equity: Decimal) -> Self {
        Self {
            equity,
            ..Self::default()
        }
    }

    /// Set `symbol`'s signed exposure and risk at stop.
    pub fn set_exposure(&mut self, symbol: SymbolId, exposure: Decimal, risk_at_stop: Decimal) {
        self.symbols.insert(
            symbol,
            SymbolExposure {
                exposure,
                risk_at_stop,
            },
        );
    }

    /// Set `symbol`'s last price.
    pub fn set_mark(&mut self, symbol: SymbolId, mark: Decimal) {
        self.marks.insert(symbol, mark);
    }

    /// `symbol`'s last price, if it is held.
    pub fn mark(&self, symbol: SymbolId) -> Option<Decimal> {
        self.marks.get(&symbol).copied()
    }

    /// Set the correlation of the returns of `a` and `b` (either order).
    pub fn set_correlation(&mut self, a: SymbolId, b: SymbolId, rho: f64) {
        self.correlations.insert(ordered(a, b), rho);
    }

    /// The correlation of `a` and `b`: 1 for a symbol with itself, `None` if unknown.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::risk::portfolio::PortfolioView;
    /// use bot4_schemas::{Decimal, SymbolId};
    /// let mut view = PortfolioView::new(Decimal::from(1_000_000));
    /// view.set_correlation(SymbolId(3), SymbolId(1), 0.8);
    /// assert_eq!(view.correlation(SymbolId(1), SymbolId(3)), Some(0.8));
    /// assert_eq!(view.correlation(SymbolId(2), SymbolId(2)), Some(1.0));
    /// assert_eq!(view.correlation(SymbolId(1), SymbolId(2)), None);
    /// ```
    #[inline]
    pub fn correlation(&self, a: SymbolId, b: SymbolId) -> Option<f64> {
        if a == b {
            return Some(1.0);
        }
        self.correlations.get(&ordered(a, b)).copied()
    }

    /// `symbol`'s entry (zero if it has none).
    pub fn exposure(&self, symbol: SymbolId) -> SymbolExposure {
        self.symbols.get(&symbol).copied().unwrap_or_default()
    }

    /// Sum of the absolute exposures of every symbol.
    pub fn gross_exposure(&self) -> Decimal {
        self.symbols
            .values()
            .fold(Decimal::ZERO, |sum, s| sum.saturating_add(s.exposure.abs()))
    }

    /// Sum of the absolute exposures of every symbol but `symbol`: what the sizing's
    /// leverage cap leaves room beside.
    pub fn gross_exposure_excluding(&self, symbol: SymbolId) -> Decimal {
        self.symbols
            .iter()
            .filter(|(s, _)| **s != symbol)
            .fold(Decimal::ZERO, |sum, (_, s)| {
                sum.saturating_add(s.exposure.abs())
            })
    }

    /// Sum of every symbol's risk at stop: the portfolio heat.
    pub fn heat(&self) -> Decimal {
        self.symbols
            .values()
            .fold(Decimal::ZERO, |sum, s| sum.saturating_add(s.risk_at_stop))
    }
}

fn ordered(a: SymbolId, b: SymbolId) -> (SymbolId, SymbolId) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_and_lookups() {
        let mut v = PortfolioView::new(Decimal::from(1_000));
        v.set_exposure(SymbolId(0), Decimal::from(300), Decimal::from(30));
        v.set_exposure(SymbolId(2), Decimal::from(-200), Decimal::from(25));
        v.set_correlation(SymbolId(2), SymbolId(0), -0.4);
        // |300| + |−200| = 500; 30 + 25 = 55.
        assert_eq!(v.gross_exposure(), Decimal::from(500));
        assert_eq!(v.gross_exposure_excluding(SymbolId(0)), Decimal::from(200));
        assert_eq!(v.heat(), Decimal::from(55));
        assert_eq!(v.correlation(SymbolId(0), SymbolId(2)), Some(-0.4));
        assert_eq!(v.exposure(SymbolId(1)), SymbolExposure::default());
    }
}
