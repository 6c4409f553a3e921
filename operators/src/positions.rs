//! The position and PnL of one symbol, from its fills and marks.
//!
//! # Accounting
//!
//! With `s = +1` for a buy and `-1` for a sell, each fill of `qty` at `price` with `fee`:
//!
//! * `qty += s * qty`, `fees += fee`, `fills += 1`, `ts = fill.ts`;
//! * `cash += -s * price * qty - fee`: exact, no division, so
//!   `cash == Σ(-s·price·qty) − Σfee` always;
//! * if the fill opens or adds to the position, `avg_price` becomes the weighted average
//!   entry `(|q|·avg + qty·price) / (|q| + qty)` rounded to 12 decimal places, half to
//!   even (just `price` when opening from flat);
//! * if it reduces the position, `realized_pnl += (price − avg_price) · closed · sign(q)`
//!   for the `closed = min(|q|, qty)` units it closes (before fees); `avg_price` stays,
//!   becomes 0 when the position goes flat, and becomes `price` when the fill goes
//!   through zero to the other side.
//!
//! [`PositionBook::mark`] sets the last price used for unrealised PnL.
//!
//! # Invariants
//!
//! `position.total_pnl() == cash + qty·mark` exactly, by definition. The split into
//! realised and unrealised PnL is exact up to the rounding of `avg_price`:
//!
//! `realized_pnl − fees + unrealized_pnl() == total_pnl() − avg_rounding_residual()`
//!
//! where [`PositionBook::avg_rounding_residual`] sums, over the fills that rounded
//! `avg_price`, `new_qty·avg_price − (old_qty·old_avg + s·qty·price)`: each term is at
//! most `|new_qty| · 0.5e-12` in size, and the residual is zero while every average is
//! exact in 12 places. (Decimal arithmetic is exact while values fit in 28 significant
//! digits.)

use bot4_schemas::{Fill, Nanos, Position, Side, SymbolId};
use rust_decimal::{Decimal, RoundingStrategy};

#[cfg(test)]
mod tests;

/// Decimal places `avg_price` is rounded to.
const AVG_DP: u32 = 12;

/// The position and PnL of one symbol.
///
/// # Examples
/// ```
/// use bot4_operators::positions::PositionBook;
/// use bot4_schemas::{Decimal, Fill, Liquidity, Side, SymbolId};
///
/// let fill = |side, price: i64, qty: i64| Fill { ts: 1, client_id: 1, symbol: SymbolId(0), side,
///     price: Decimal::from(price), qty: Decimal::from(qty), fee: Decimal::ONE, liquidity: Liquidity::Taker, event: 1 };
/// let mut book = PositionBook::new(SymbolId(0));
/// book.apply_fill(&fill(Side::Buy, 100, 2));
/// book.apply_fill(&fill(Side::Sell, 110, 1));
/// book.mark(2, Decimal::from(105));
/// let p = book.position();
/// assert_eq!((p.qty, p.avg_price, p.realized_pnl), (Decimal::ONE, Decimal::from(100), Decimal::from(10)));
/// assert_eq!(p.cash, Decimal::from(-200 + 110 - 2));
/// assert_eq!(p.total_pnl(), Decimal::from(13)); // 10 realised − 2 fees + 5 unrealised
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionBook {
    position: Position,
    avg_rounding_residual: Decimal,
}

impl PositionBook {
    /// A flat position in `symbol`, unmarked.
    pub fn new(symbol: SymbolId) -> Self {
        Self {
            position: Position::flat(symbol),
            avg_rounding_residual: Decimal::ZERO,
        }
    }

    /// Account for one fill. Fills of another symbol are ignored.
    pub fn apply_fill(&mut self, fill: &Fill) {
        let p = &mut self.position;
        if fill.symbol != p.symbol {
            return;
        }
        let signed = fill.side.sign() * fill.qty;
        let old = p.qty;
        let new = old + signed;
        if old.is_zero() {
            p.avg_price = fill.price;
        } else if old.is_sign_positive() == signed.is_sign_positive() {
            let basis = old * p.avg_price + signed * fill.price;
            p.avg_price =
                (basis / new).round_dp_with_strategy(AVG_DP, RoundingStrategy::MidpointNearestEven);
            self.avg_rounding_residual += new * p.avg_price - basis;
        } else {
            let closed = old.abs().min(fill.qty);
            p.realized_pnl += (fill.price - p.avg_price) * closed * Side::of(old).sign();
            if new.is_zero() {
                p.avg_price = Decimal::ZERO;
            } else if new.is_sign_positive() != old.is_sign_positive() {
                p.avg_price = fill.price;
            }
        }
        p.qty = new;
        p.cash -= signed * fill.price + fill.fee;
        p.fees += fill.fee;
        p.fills += 1;
        p.ts = fill.ts;
    }

    /// Mark the position at `price`, the last trade or mid price at `ts`.
    pub fn mark(&mut self, ts: Nanos, price: Decimal) {
        self.position.mark = price;
        self.position.ts = ts;
    }

    /// The position after the fills and marks so far.
    pub fn position(&self) -> &Position {
        &self.position
    }

    /// How far rounding `avg_price` has moved the realised/unrealised split:
    /// `realized_pnl − fees + unrealized_pnl() == total_pnl() − avg_rounding_residual()`.
    pub fn avg_rounding_residual(&self) -> Decimal {
        self.avg_rounding_residual
    }
}
