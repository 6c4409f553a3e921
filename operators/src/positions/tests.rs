//! Hand-computed examples and property tests of [`PositionBook`].

use bot4_schemas::{Decimal, Fill, Liquidity, Side, SymbolId};
use proptest::prelude::*;

use super::PositionBook;

fn d(text: &str) -> Decimal {
    text.parse().expect("decimal literal")
}

fn fill(side: Side, price: &str, qty: &str, fee: &str) -> Fill {
    Fill {
        ts: 1,
        client_id: 1,
        symbol: SymbolId(3),
        side,
        price: d(price),
        qty: d(qty),
        fee: d(fee),
        liquidity: Liquidity::Taker,
        event: 1,
    }
}

/// `realized − fees + unrealized == total − residual`, the exact split of PnL.
fn split_holds(book: &PositionBook) -> bool {
    let p = book.position();
    p.realized_pnl - p.fees + p.unrealized_pnl() == p.total_pnl() - book.avg_rounding_residual()
}

#[test]
fn a_long_is_built_reduced_and_closed() {
    let mut book = PositionBook::new(SymbolId(3));
    book.apply_fill(&fill(Side::Buy, "100", "2", "0.1"));
    book.apply_fill(&fill(Side::Buy, "103", "1", "0.05"));
    let p = *book.position();
    assert_eq!(
        (p.qty, p.avg_price, p.realized_pnl),
        (d("3"), d("101"), d("0"))
    );
    assert_eq!((p.cash, p.fees, p.fills), (d("-303.15"), d("0.15"), 2));

    book.apply_fill(&fill(Side::Sell, "105", "1", "0.05"));
    let p = *book.position();
    assert_eq!(
        (p.qty, p.avg_price, p.realized_pnl),
        (d("2"), d("101"), d("4"))
    );
    assert_eq!(p.cash, d("-198.2"));

    book.mark(7, d("102"));
    let p = *book.position();
    assert_eq!((p.ts, p.mark, p.unrealized_pnl()), (7, d("102"), d("2")));
    // 4 realised − 0.2 fees + 2 unrealised
    assert_eq!(p.total_pnl(), d("5.8"));

    book.apply_fill(&fill(Side::Sell, "99", "2", "0"));
    let p = *book.position();
    assert_eq!(
        (p.qty, p.avg_price, p.realized_pnl),
        (d("0"), d("0"), d("0"))
    );
    assert_eq!(p.total_pnl(), d("-0.2"));
    assert!(split_holds(&book));
}

#[test]
fn a_short_flips_to_a_long_at_the_fill_price() {
    let mut book = PositionBook::new(SymbolId(3));
    book.apply_fill(&fill(Side::Sell, "100", "2", "0"));
    book.apply_fill(&fill(Side::Buy, "90", "1", "0"));
    let p = *book.position();
    assert_eq!(
        (p.qty, p.avg_price, p.realized_pnl),
        (d("-1"), d("100"), d("10"))
    );
    // Closes the last unit short (+5), then opens 2 long at 95.
    book.apply_fill(&fill(Side::Buy, "95", "3", "0"));
    let p = *book.position();
    assert_eq!(
        (p.qty, p.avg_price, p.realized_pnl),
        (d("2"), d("95"), d("15"))
    );
    assert_eq!(p.cash, d("200") - d("90") - d("285"));
    book.mark(2, d("95"));
    assert_eq!(book.position().total_pnl(), d("15"));
    assert!(split_holds(&book));
}

#[test]
fn average_entry_rounds_to_twelve_places_and_the_residual_keeps_the_split_exact() {
    let mut book = PositionBook::new(SymbolId(3));
    book.apply_fill(&fill(Side::Buy, "1", "1", "0"));
    book.apply_fill(&fill(Side::Buy, "2", "2", "0"));
    assert_eq!(book.position().avg_price, d("1.666666666667"));
    // 3 * 1.666666666667 − 5
    assert_eq!(book.avg_rounding_residual(), d("0.000000000001"));
    book.mark(2, d("2"));
    let p = *book.position();
    assert_eq!(p.total_pnl(), d("1"));
    assert_eq!(p.unrealized_pnl(), d("0.999999999999"));
    assert!(split_holds(&book));
}

#[test]
fn average_entry_rounds_half_to_even() {
    let mut book = PositionBook::new(SymbolId(3));
    book.apply_fill(&fill(Side::Sell, "1", "1", "0"));
    book.apply_fill(&fill(Side::Sell, "0.000000000001", "1", "0"));
    assert_eq!(book.position().avg_price, d("0.5"));
    let mut book = PositionBook::new(SymbolId(3));
    book.apply_fill(&fill(Side::Sell, "1", "1", "0"));
    book.apply_fill(&fill(Side::Sell, "0.000000000003", "1", "0"));
    assert_eq!(book.position().avg_price, d("0.500000000002"));
    assert!(split_holds(&book));
}

#[test]
fn fills_of_another_symbol_are_ignored() {
    let mut book = PositionBook::new(SymbolId(4));
    book.apply_fill(&fill(Side::Buy, "100", "1", "0.1"));
    assert_eq!(*book.position(), bot4_schemas::Position::flat(SymbolId(4)));
}

/// A fill of `qty` hundredths at `price` cents with `fee` ten-thousandths.
fn arb_fill() -> impl Strategy<Value = Fill> {
    (any::<bool>(), 1i64..100_000, 1i64..500, -100i64..1_000).prop_map(|(buy, price, qty, fee)| {
        Fill {
            ts: 0,
            client_id: 0,
            symbol: SymbolId(3),
            side: if buy { Side::Buy } else { Side::Sell },
            price: Decimal::new(price, 2),
            qty: Decimal::new(qty, 2),
            fee: Decimal::new(fee, 4),
            liquidity: Liquidity::Maker,
            event: 0,
        }
    })
}

proptest! {
    #[test]
    fn positions_equal_the_sums_of_their_fills(
        fills in prop::collection::vec(arb_fill(), 0..60),
        mark in 1i64..100_000,
    ) {
        let mut book = PositionBook::new(SymbolId(3));
        let mut residual_bound = Decimal::ZERO;
        for (ts, f) in fills.iter().enumerate() {
            let before = book.position().qty;
            book.apply_fill(&Fill { ts: ts as i64, ..*f });
            let after = book.position().qty;
            if !before.is_zero() && Side::of(before) == f.side {
                residual_bound += after.abs() * Decimal::new(1, 12);
            }
            if after.is_zero() {
                prop_assert_eq!(book.position().avg_price, Decimal::ZERO);
            }
        }
        book.mark(fills.len() as i64, Decimal::new(mark, 2));
        let p = *book.position();
        let signed: Decimal = fills.iter().map(|f| f.side.sign() * f.qty).sum();
        let fees: Decimal = fills.iter().map(|f| f.fee).sum();
        let gross: Decimal = fills.iter().map(|f| -f.side.sign() * f.price * f.qty).sum();
        prop_assert_eq!(p.qty, signed);
        prop_assert_eq!(p.fees, fees);
        prop_assert_eq!(p.cash, gross - fees);
        prop_assert_eq!(p.fills, fills.len() as u64);
        prop_assert_eq!(p.total_pnl(), p.cash + p.qty * p.mark);
        prop_assert!(split_holds(&book));
        prop_assert!(book.avg_rounding_residual().abs() <= residual_bound);
        if !p.qty.is_zero() {
            let lo = fills.iter().map(|f| f.price).min().unwrap_or_default();
            let hi = fills.iter().map(|f| f.price).max().unwrap_or_default();
            prop_assert!(lo <= p.avg_price && p.avg_price <= hi);
        }
    }

    /// When the position only ever opens from flat or flips, every average is a fill
    /// price, nothing rounds, and the split of PnL is exact with no residual.
    #[test]
    fn without_adds_the_split_is_exact(
        steps in prop::collection::vec((1i64..100_000, any::<bool>(), any::<bool>()), 0..40),
        mark in 1i64..100_000,
    ) {
        let mut book = PositionBook::new(SymbolId(3));
        let unit = Decimal::new(5, 1);
        for (i, &(price, buy_if_flat, flip)) in steps.iter().enumerate() {
            let qty = book.position().qty;
            let (side, amount) = if qty.is_zero() {
                (if buy_if_flat { Side::Buy } else { Side::Sell }, unit)
            } else {
                let opposite = if qty.is_sign_positive() { Side::Sell } else { Side::Buy };
                (opposite, if flip { unit * Decimal::TWO } else { unit })
            };
            book.apply_fill(&Fill {
                ts: i as i64,
                client_id: 0,
                symbol: SymbolId(3),
                side,
                price: Decimal::new(price, 2),
                qty: amount,
                fee: Decimal::new(price, 6),
                liquidity: Liquidity::Taker,
                event: 0,
            });
        }
        book.mark(0, Decimal::new(mark, 2));
        let p = *book.position();
        prop_assert_eq!(book.avg_rounding_residual(), Decimal::ZERO);
        prop_assert_eq!(p.realized_pnl - p.fees + p.unrealized_pnl(), p.total_pnl());
    }
}
