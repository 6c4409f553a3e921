use super::*;
use proptest::prelude::*;

fn eth() -> Instrument {
    Instrument {
        symbol: "ETH-USDT".into(),
        tick_size: Decimal::new(1, 2),
        lot_size: Decimal::new(1, 3),
        min_notional: Decimal::from(5),
    }
}

fn d(x: i64) -> Decimal {
    Decimal::from(x)
}

fn cents(x: i64) -> Decimal {
    Decimal::new(x, 2)
}

const ME: SymbolId = SymbolId(0);

fn risk() -> PreTradeRisk {
    PreTradeRisk::new(eth(), RiskLimits::default()).unwrap()
}

fn risk_with(limits: RiskLimits) -> PreTradeRisk {
    PreTradeRisk::new(eth(), limits).unwrap()
}

/// Flat, no open orders, mid 3,000, equity 1,000,000.
fn ctx(view: &PortfolioView) -> CheckContext<'_> {
    CheckContext {
        symbol: ME,
        position: d(0),
        open_buy: d(0),
        open_sell: d(0),
        mid: Some(d(3_000)),
        equity: Some(d(1_000_000)),
        portfolio: Some(view),
    }
}

fn view() -> PortfolioView {
    PortfolioView::new(d(1_000_000))
}

/// A limit buy of `qty` at 2,999 with its stop at 2,800.
fn buy(qty: i64) -> ProposedOrder {
    ProposedOrder {
        ts: 0,
        side: Side::Buy,
        kind: OrderType::Limit,
        qty: d(qty),
        limit_price: Some(d(2_999)),
        trigger_price: None,
        reduces_exposure: false,
        stop_price: Some(d(2_800)),
    }
}

fn market(side: Side, qty: Decimal) -> ProposedOrder {
    ProposedOrder {
        side,
        kind: OrderType::Market,
        qty,
        limit_price: None,
        ..buy(0)
    }
}

fn code(r: Result<(), RiskReject>) -> &'static str {
    r.err().map_or("ok", |e| e.code())
}

#[test]
fn a_plain_order_passes() {
    // post 10 · 3,000 = 30,000 ≤ 50,000 (5%) and ≤ 100,000; heat 10 · (3,000 − 2,800) =
    // 2,000 ≤ 250,000; gross 30,000 ≤ 3,000,000.
    let v = view();
    assert_eq!(risk().check(&buy(10), &ctx(&v)), Ok(()));
}

#[test]
fn exchange_filters() {
    let v = view();
    let c = ctx(&v);
    let r = risk();
    let lot = |qty| RiskReject::LotSize {
        qty,
        lot: Decimal::new(1, 3),
    };
    assert_eq!(r.evaluate(&buy(0), &c), Err(lot(d(0))));
    assert_eq!(r.evaluate(&buy(-1), &c), Err(lot(d(-1))));
    let half_lot = ProposedOrder {
        qty: Decimal::new(15, 4),
        ..buy(1)
    };
    assert_eq!(r.evaluate(&half_lot, &c), Err(lot(Decimal::new(15, 4))));
    let off_tick = ProposedOrder {
        limit_price: Some(Decimal::new(2_999_005, 3)),
        ..buy(1)
    };
    assert_eq!(code(r.evaluate(&off_tick, &c)), "tick_size");
    let negative = ProposedOrder {
        limit_price: Some(d(-3_000)),
        ..buy(1)
    };
    assert_eq!(code(r.evaluate(&negative, &c)), "tick_size");
    let no_limit = ProposedOrder {
        limit_price: None,
        ..buy(1)
    };
    assert_eq!(
        r.evaluate(&no_limit, &c),
        Err(RiskReject::MissingPrice {
            kind: OrderType::Limit
        })
    );
    let no_trigger = ProposedOrder {
        kind: OrderType::Stop,
        limit_price: None,
        ..buy(1)
    };
    assert_eq!(code(r.evaluate(&no_trigger, &c)), "missing_price");
    // 0.001 · 2,999 = 2.999 < 5; a market 0.002 at the 3,000 mid is 6.
    let tiny = ProposedOrder {
        qty: Decimal::new(1, 3),
        ..buy(0)
    };
    assert_eq!(
        r.evaluate(&tiny, &c),
        Err(RiskReject::MinNotional {
            notional: Decimal::new(2_999, 3),
            min: d(5)
        })
    );
    assert_eq!(
        r.evaluate(&market(Side::Buy, Decimal::new(2, 3)), &c),
        Ok(())
    );
}

#[test]
fn prices_stay_within_their_band() {
    let v = view();
    let c = ctx(&v);
    let r = risk();
    let limit = |side, price| ProposedOrder {
        side,
        limit_price: Some(price),
        qty: d(1),
        ..buy(1)
    };
    // 5% of 3,000 = 150: 3,150 is in, 3,150.01 out; a sell at 2,849.99 out.
    assert_eq!(r.evaluate(&limit(Side::Buy, d(3_150)), &c), Ok(()));
    assert_eq!(
        r.evaluate(&limit(Side::Buy, cents(315_001)), &c),
        Err(RiskReject::PriceBand {
            price: cents(315_001),
            mid: d(3_000),
            band: 0.05
        })
    );
    assert_eq!(
        code(r.evaluate(&limit(Side::Sell, cents(284_999)), &c)),
        "price_band"
    );
    // Stops get 10% = 300: a sell stop at 2,700 is in, 2,699.99 out.
    let stop = |trigger| ProposedOrder {
        side: Side::Sell,
        kind: OrderType::Stop,
        limit_price: None,
        trigger_price: Some(trigger),
        qty: d(1),
        ..buy(1)
    };
    assert_eq!(r.evaluate(&stop(d(2_700)), &c), Ok(()));
    assert_eq!(code(r.evaluate(&stop(cents(269_999)), &c)), "price_band");
}

#[test]
fn position_limits_count_open_orders_on_the_side() {
    let v = view();
    let c = CheckContext {
        position: d(10),
        open_buy: d(5),
        open_sell: d(7),
        ..ctx(&v)
    };
    // 10 + 5 + 2 = 17 ETH · 3,000 = 51,000 > 5% of 1,000,000.
    assert_eq!(
        risk().evaluate(&buy(2), &c),
        Err(RiskReject::Concentration {
            notional: d(51_000),
            limit: d(50_000)
        })
    );
    // 16 · 3,000 = 48,000 passes; open sells do not offset.
    assert_eq!(risk().evaluate(&buy(1), &c), Ok(()));
    let capped = risk_with(RiskLimits {
        max_position: Some(d(15)),
        ..RiskLimits::default()
    });
    assert_eq!(
        capped.evaluate(&buy(1), &c),
        Err(RiskReject::MaxPosition {
            position: d(16),
            limit: d(15)
        })
    );
    // With 10,000,000 of equity 5% is 500,000, and 34 · 3,000 = 102,000 > 100,000.
    let rich = PortfolioView::new(d(10_000_000));
    let c = CheckContext {
        equity: Some(d(10_000_000)),
        ..ctx(&rich)
    };
    assert_eq!(
        risk().evaluate(&buy(34), &c),
        Err(RiskReject::MaxNotional {
            notional: d(102_000),
            limit: d(100_000)
        })
    );
}

/// Five other symbols of 49,000 each without stops: 245,000 of heat.
fn hot_view() -> PortfolioView {
    let mut v = view();
    for s in 1..=5 {
        v.set_exposure(SymbolId(s), d(49_000), d(49_000));
        v.set_correlation(ME, SymbolId(s), 0.0);
    }
    // This symbol's own entry is replaced by its post-trade value.
    v.set_exposure(ME, d(0), d(100_000));
    v
}

#[test]
fn portfolio_heat_replaces_this_symbols_entry() {
    let v = hot_view();
    let c = ctx(&v);
    let with_stop = |stop| ProposedOrder {
        stop_price: stop,
        ..buy(10)
    };
    // 245,000 + 10 · (3,000 − 2,800) = 247,000 ≤ 250,000.
    assert_eq!(risk().evaluate(&with_stop(Some(d(2_800))), &c), Ok(()));
    // 245,000 + 10 · 600 = 251,000 > 250,000.
    assert_eq!(
        risk().evaluate(&with_stop(Some(d(2_400))), &c),
        Err(RiskReject::PortfolioHeat {
            heat: d(251_000),
            limit: d(250_000)
        })
    );
    // No stop: the whole 30,000 is at risk.
    assert_eq!(
        code(risk().evaluate(&with_stop(None), &c)),
        "portfolio_heat"
    );
    // A stop above the mid on a long risks nothing.
    assert_eq!(risk().evaluate(&with_stop(Some(d(3_100))), &c), Ok(()));
}

#[test]
fn correlated_exposure_in_the_same_direction_is_denied() {
    let held = |exposure, rho: Option<f64>| {
        let mut v = view();
        v.set_exposure(SymbolId(1), d(exposure), d(0));
        v.set_exposure(SymbolId(2), d(0), d(0)); // no exposure: no correlation needed
        if let Some(rho) = rho {
            v.set_correlation(SymbolId(1), ME, rho);
        }
        v
    };
    let sell = ProposedOrder {
        side: Side::Sell,
        limit_price: Some(d(3_001)),
        stop_price: Some(d(3_200)),
        ..buy(10)
    };
    // Long 1 and ρ = 0.8: buying 0 is +1 · +1 · 0.8 = 0.8 > 0.7; selling is −0.8.
    let v = held(40_000, Some(0.8));
    assert_eq!(
        risk().evaluate(&buy(10), &ctx(&v)),
        Err(RiskReject::Correlation {
            other: SymbolId(1),
            rho: 0.8
        })
    );
    assert_eq!(risk().evaluate(&sell, &ctx(&v)), Ok(()));
    // Short 1 and ρ = −0.75: buying is −1 · +1 · −0.75 = 0.75 > 0.7.
    let v = held(-40_000, Some(-0.75));
    assert_eq!(code(risk().evaluate(&buy(10), &ctx(&v))), "correlation");
    // Exactly at the limit passes.
    let v = held(40_000, Some(0.7));
    assert_eq!(risk().evaluate(&buy(10), &ctx(&v)), Ok(()));
    // Unknown or not finite: denied.
    for rho in [None, Some(f64::NAN)] {
        let v = held(40_000, rho);
        assert_eq!(
            risk().evaluate(&buy(10), &ctx(&v)),
            Err(RiskReject::MissingState {
                missing: Missing::Correlation(SymbolId(1))
            })
        );
    }
}

#[test]
fn gross_leverage_and_symbols_held() {
    let mut v = view();
    // Others: 2,980,000 gross, fully protected (no heat), uncorrelated.
    for s in 1..=4 {
        let exposure = if s % 2 == 0 { 745_000 } else { -745_000 };
        v.set_exposure(SymbolId(s), d(exposure), d(0));
        v.set_correlation(ME, SymbolId(s), 0.0);
    }
    // 2,980,000 + 10 · 3,000 = 3,010,000 > 3 · 1,000,000.
    assert_eq!(
        risk().evaluate(&buy(10), &ctx(&v)),
        Err(RiskReject::Leverage {
            gross: d(3_010_000),
            limit: d(3_000_000)
        })
    );
    // 2,980,000 + 6 · 3,000 = 2,998,000 passes.
    assert_eq!(risk().evaluate(&buy(6), &ctx(&v)), Ok(()));
    // Four others held plus this one: 5 > 4.
    let four = risk_with(RiskLimits {
        max_symbols: Some(4),
        ..RiskLimits::default()
    });
    assert_eq!(
        four.evaluate(&buy(6), &ctx(&v)),
        Err(RiskReject::MaxSymbols { held: 5, limit: 4 })
    );
}

#[test]
fn missing_state_fails_closed() {
    let v = view();
    let missing = |m| Err(RiskReject::MissingState { missing: m });
    let r = risk();
    let order = market(Side::Buy, d(1));
    assert_eq!(
        r.evaluate(
            &order,
            &CheckContext {
                mid: None,
                ..ctx(&v)
            }
        ),
        missing(Missing::Mid)
    );
    assert_eq!(
        r.evaluate(
            &order,
            &CheckContext {
                mid: Some(d(0)),
                ..ctx(&v)
            }
        ),
        missing(Missing::Mid)
    );
    assert_eq!(
        r.evaluate(
            &order,
            &CheckContext {
                equity: None,
                ..ctx(&v)
            }
        ),
        missing(Missing::Equity)
    );
    assert_eq!(
        r.evaluate(
            &order,
            &CheckContext {
                equity: Some(d(0)),
                ..ctx(&v)
            }
        ),
        missing(Missing::Equity)
    );
    assert_eq!(
        r.evaluate(
            &order,
            &CheckContext {
                portfolio: None,
                ..ctx(&v)
            }
        ),
        missing(Missing::Portfolio)
    );
    let broke = PortfolioView::new(d(-1));
    assert_eq!(r.evaluate(&order, &ctx(&broke)), missing(Missing::Equity));
    // The smaller equity applies: the view's 500,000 makes 5% = 25,000 < 30,000.
    let half = PortfolioView::new(d(500_000));
    assert_eq!(
        r.evaluate(&buy(10), &ctx(&half)),
        Err(RiskReject::Concentration {
            notional: d(30_000),
            limit: d(25_000)
        })
    );
}

#[test]
fn reducing_orders_skip_the_exposure_checks() {
    let v = view();
    let long = CheckContext {
        position: d(100),
        open_sell: d(5),
        mid: None,
        equity: None,
        portfolio: None,
        ..ctx(&v)
    };
    let reduce = |order: ProposedOrder| ProposedOrder {
        reduces_exposure: true,
        ..order
    };
    let r = risk();
    // 100 − 5 − 4 = 91 ≥ 0: a reducing market sell needs no mid, equity or view, and no
    // minimum notional, though 100 ETH is far over 5% of equity.
    assert_eq!(r.evaluate(&reduce(market(Side::Sell, d(4))), &long), Ok(()));
    assert_eq!(
        r.evaluate(&reduce(market(Side::Sell, Decimal::new(1, 3))), &long),
        Ok(())
    );
    // A reducing limit order needs a mid for its band.
    let sell_limit = reduce(ProposedOrder {
        side: Side::Sell,
        limit_price: Some(d(3_001)),
        ..buy(4)
    });
    assert_eq!(code(r.evaluate(&sell_limit, &long)), "missing_state");
    let with_mid = CheckContext {
        mid: Some(d(3_000)),
        ..long
    };
    assert_eq!(r.evaluate(&sell_limit, &with_mid), Ok(()));
    // ... and stays within it.
    let far = ProposedOrder {
        limit_price: Some(d(3_500)),
        ..sell_limit
    };
    assert_eq!(code(r.evaluate(&far, &with_mid)), "price_band");
    // A claim the context does not confirm is checked in full: 100 − 5 − 96 = −1 flips.
    assert_eq!(
        code(r.evaluate(&reduce(market(Side::Sell, d(96))), &long)),
        "missing_state"
    );
    let flat = CheckContext {
        position: d(0),
        ..long
    };
    assert_eq!(
        code(r.evaluate(&reduce(market(Side::Sell, d(1))), &flat)),
        "missing_state"
    );
    // 100 − 5 − 95 = 0: closing exactly is reducing.
    assert_eq!(
        r.evaluate(&reduce(market(Side::Sell, d(95))), &long),
        Ok(())
    );
    // Shorts mirror it: −10 + 3 + 7 = 0.
    let short = CheckContext {
        position: d(-10),
        open_buy: d(3),
        ..long
    };
    assert_eq!(r.evaluate(&reduce(market(Side::Buy, d(7))), &short), Ok(()));
    assert_eq!(
        code(r.evaluate(&reduce(market(Side::Buy, d(8))), &short)),
        "missing_state"
    );
}

#[test]
fn the_order_rate_is_a_sliding_window_of_passed_orders() {
    let v = view();
    let c = ctx(&v);
    let mut r = risk();
    let at = |ts| ProposedOrder { ts, ..buy(1) };
    const MS: Nanos = 1_000_000;
    for k in 0..20 {
        assert_eq!(r.check(&at(k * MS), &c), Ok(()), "order {k}");
    }
    let limited = Err(RiskReject::OrderRate {
        max_orders: 20,
        window_ns: 1_000_000_000,
    });
    assert_eq!(r.check(&at(500 * MS), &c), limited);
    // Orders at 0 … 19 ms: at 999.999999 ms all 20 are in the window; at 1 s the one at
    // 0 has left it.
    assert_eq!(r.check(&at(1_000 * MS - 1), &c), limited);
    assert_eq!(r.check(&at(1_000 * MS), &c), Ok(()));
    assert_eq!(r.check(&at(1_000 * MS), &c), limited);
    // A refused order does not count: 1 ms later the next slot (the order at 1 ms)
    // frees exactly one.
    assert_eq!(code(r.check(&buy(100), &c)), "order_rate");
    assert_eq!(r.check(&at(1_001 * MS), &c), Ok(()));
    // Disabled at 0.
    let mut free = risk_with(RiskLimits {
        max_orders: 0,
        ..RiskLimits::default()
    });
    for _ in 0..100 {
        assert_eq!(free.check(&at(0), &c), Ok(()));
    }
}

#[test]
fn new_limits_keep_the_rate_history() {
    let v = view();
    let mut r = risk();
    for _ in 0..20 {
        assert_eq!(r.check(&buy(1), &ctx(&v)), Ok(()));
    }
    let tighter = RiskLimits {
        concentration: 0.01,
        ..RiskLimits::default()
    };
    r.set_limits(tighter).unwrap();
    assert_eq!(r.limits(), &tighter);
    assert_eq!(code(r.check(&buy(1), &ctx(&v))), "order_rate");
    assert!(r
        .set_limits(RiskLimits {
            max_heat: f64::NAN,
            ..tighter
        })
        .is_err());
    assert!(PreTradeRisk::new(
        eth(),
        RiskLimits {
            concentration: -0.1,
            ..tighter
        }
    )
    .is_err());
}

#[test]
fn codes_are_distinct_and_messages_carry_the_numbers() {
    let rejects = [
        RiskReject::LotSize {
            qty: d(0),
            lot: d(1),
        },
        RiskReject::MissingPrice {
            kind: OrderType::Stop,
        },
        RiskReject::TickSize {
            price: d(1),
            tick: d(1),
        },
        RiskReject::OrderRate {
            max_orders: 1,
            window_ns: 1,
        },
        RiskReject::MissingState {
            missing: Missing::Correlation(SymbolId(4)),
        },
        RiskReject::PriceBand {
            price: d(1),
            mid: d(1),
            band: 0.05,
        },
        RiskReject::MinNotional {
            notional: d(1),
            min: d(5),
        },
        RiskReject::MaxPosition {
            position: d(1),
            limit: d(1),
        },
        RiskReject::MaxNotional {
            notional: d(1),
            limit: d(1),
        },
        RiskReject::Concentration {
            notional: d(51_000),
            limit: d(50_000),
        },
        RiskReject::Leverage {
            gross: d(1),
            limit: d(1),
        },
        RiskReject::MaxSymbols { held: 1, limit: 1 },
        RiskReject::PortfolioHeat {
            heat: d(1),
            limit: d(1),
        },
        RiskReject::Correlation {
            other: SymbolId(1),
            rho: 0.8,
        },
    ];
    let codes: std::collections::BTreeSet<_> = rejects.iter().map(RiskReject::code).collect();
    assert_eq!(codes.len(), rejects.len());
    assert!(codes
        .iter()
        .all(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_')));
    assert_eq!(
        rejects[9].to_string(),
        "notional 51000 would exceed the concentration limit 50000"
    );
    assert_eq!(rejects[1].to_string(), "a stop order needs a trigger price");
    assert_eq!(
        rejects[4].to_string(),
        "missing state: no correlation with symbol 4"
    );
}

#[test]
fn a_check_allocates_nothing() {
    let mut v = view();
    for s in 1..=10 {
        v.set_exposure(SymbolId(s), d(10_000), d(1_000));
        v.set_correlation(ME, SymbolId(s), 0.1);
    }
    let mut r = risk_with(RiskLimits {
        max_orders: 0,
        ..RiskLimits::default()
    });
    let c = ctx(&v);
    let info = allocation_counter::measure(|| {
        for k in 0..1_000 {
            let order = ProposedOrder {
                ts: k,
                ..buy(1 + k % 20)
            };
            std::hint::black_box(r.check(&order, &c).is_ok());
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
}

/// The checks from scratch: every condition evaluated on its own, in the documented
/// order, with vectors and plain loops.
fn reference(
    order: &ProposedOrder,
    ctx: &CheckContext<'_>,
    limits: &RiskLimits,
    inst: &Instrument,
) -> &'static str {
    let frac = |f: f64| decimal_from_f64(f).unwrap();
    if order.qty <= d(0) || !inst.on_lot(order.qty) {
        return "lot_size";
    }
    let prices: Vec<Decimal> = [order.limit_price, order.trigger_price]
        .into_iter()
        .flatten()
        .collect();
    let needs = match order.kind {
        OrderType::Market => true,
        OrderType::Limit => order.limit_price.is_some(),
        _ => order.trigger_price.is_some(),
    };
    if !needs {
        return "missing_price";
    }
    if prices.iter().any(|p| *p <= d(0) || !inst.on_tick(*p)) {
        return "tick_size";
    }
    let reduces = order.reduces_exposure
        && match order.side {
            Side::Buy => ctx.position < d(0) && ctx.position + ctx.open_buy + order.qty <= d(0),
            Side::Sell => ctx.position > d(0) && ctx.position - ctx.open_sell - order.qty >= d(0),
        };
    let mid = ctx.mid.filter(|m| *m > d(0));
    if mid.is_none() && (!reduces || !prices.is_empty()) {
        return "missing_state";
    }
    if !reduces {
        let Some(view) = ctx.portfolio else {
            return "missing_state";
        };
        match ctx.equity {
            Some(e) if e.min(view.equity) > d(0) => {}
            _ => return "missing_state",
        }
    }
    let Some(mid) = mid else {
        return "ok";
    };
    let band = if order.kind.is_triggered() {
        limits.trigger_band
    } else {
        limits.price_band
    };
    if prices.iter().any(|p| (*p - mid).abs() > frac(band) * mid) {
        return "price_band";
    }
    if reduces {
        return "ok";
    }
    let view = ctx.portfolio.unwrap();
    let equity = ctx.equity.unwrap().min(view.equity);
    let price = order.limit_price.or(order.trigger_price).unwrap_or(mid);
    if order.qty * price < inst.min_notional {
        return "min_notional";
    }
    let post = match order.side {
        Side::Buy => ctx.position + ctx.open_buy + order.qty,
        Side::Sell => ctx.position - ctx.open_sell - order.qty,
    };
    if limits.max_position.is_some_and(|m| post.abs() > m) {
        return "max_position";
    }
    let notional = post.abs() * mid;
    if notional > limits.max_notional {
        return "max_notional";
    }
    if notional > frac(limits.concentration) * equity {
        return "concentration";
    }
    let others: Vec<_> = view
        .symbols
        .iter()
        .filter(|(s, _)| **s != ctx.symbol)
        .collect();
    let gross: Decimal = others
        .iter()
        .map(|(_, e)| e.exposure.abs())
        .sum::<Decimal>()
        + notional;
    if gross > frac(limits.max_leverage) * equity {
        return "leverage";
    }
    let held =
        others.iter().filter(|(_, e)| !e.exposure.is_zero()).count() + usize::from(!post.is_zero());
    if limits.max_symbols.is_some_and(|m| held > m) {
        return "max_symbols";
    }
    let mine = match order.stop_price {
        None => notional,
        Some(stop) if post < d(0) => post.abs() * (stop - mid).max(d(0)),
        Some(stop) => post.abs() * (mid - stop).max(d(0)),
    };
    let heat: Decimal = others.iter().map(|(_, e)| e.risk_at_stop).sum::<Decimal>() + mine;
    if heat > frac(limits.max_heat) * equity {
        return "portfolio_heat";
    }
    let s = if order.side == Side::Buy { 1.0 } else { -1.0 };
    for (other, e) in others.iter().filter(|(_, e)| !e.exposure.is_zero()) {
        match view.correlation(ctx.symbol, **other) {
            Some(rho) if rho.is_finite() => {
                let sign = if e.exposure < d(0) { -1.0 } else { 1.0 };
                if sign * s * rho > limits.max_correlation {
                    return "correlation";
                }
            }
            _ => return "missing_state",
        }
    }
    "ok"
}

prop_compose! {
    fn any_order()(
        side in prop_oneof![Just(Side::Buy), Just(Side::Sell)],
        kind in prop_oneof![Just(OrderType::Market), Just(OrderType::Limit), Just(OrderType::Stop), Just(OrderType::TakeProfit)],
        qty_lots in -2i64..40_000,
        limit in prop::option::of(250_000i64..350_000),
        trigger in prop::option::of(250_000i64..350_000),
        off_tick in any::<bool>(),
        reduces in any::<bool>(),
        stop in prop::option::of(200_000i64..400_000),
    ) -> ProposedOrder {
        let price = |c: i64| if off_tick { Decimal::new(c * 10 + 5, 3) } else { cents(c) };
        ProposedOrder { ts: 0, side, kind, qty: Decimal::new(qty_lots, 3),
            limit_price: limit.map(price), trigger_price: trigger.map(cents),
            reduces_exposure: reduces, stop_price: stop.map(cents) }
    }
}

prop_compose! {
    fn any_view()(
        equity in -100i64..3_000_000,
        others in prop::collection::vec((1u32..12, -900_000i64..900_000, 0i64..80_000, prop::option::of(-1.0f64..1.0)), 0..10),
    ) -> PortfolioView {
        let mut v = PortfolioView::new(d(equity));
        for (s, exposure, risk, rho) in others {
            v.set_exposure(SymbolId(s), d(exposure), d(risk));
            if let Some(rho) = rho {
                v.set_correlation(ME, SymbolId(s), rho);
            }
        }
        v
    }
}

proptest! {
    /// The check agrees with the from-scratch reference on every input, and never
    /// lets a non-reducing order pass without its state.
    #[test]
    fn checks_agree_with_the_reference(
        order in any_order(),
        v in any_view(),
        position in -30_000i64..30_000,
        open_buy in 0i64..10_000,
        open_sell in 0i64..10_000,
        mid in prop::option::of(280_000i64..320_000),
        equity in prop::option::of(-100i64..3_000_000),
        has_view in any::<bool>(),
        max_position in prop::option::of(0i64..50_000),
        max_symbols in prop::option::of(0usize..6),
    ) {
        let limits = RiskLimits { max_position: max_position.map(|m| Decimal::new(m, 3)), max_symbols, ..RiskLimits::default() };
        let r = risk_with(limits);
        let c = CheckContext {
            symbol: ME,
            position: Decimal::new(position, 3),
            open_buy: Decimal::new(open_buy, 3),
            open_sell: Decimal::new(open_sell, 3),
            mid: mid.map(cents),
            equity: equity.map(d),
            portfolio: has_view.then_some(&v),
        };
        let got = r.evaluate(&order, &c);
        prop_assert_eq!(code(got), reference(&order, &c, &limits, &eth()));
        if got.is_ok() && !(order.reduces_exposure && confirms_reduction(&order, &c)) {
            prop_assert!(c.mid.is_some() && has_view && c.equity.is_some_and(|e| e > d(0)));
        }
    }

    /// However orders arrive, no window of one second holds more than 20 passed orders.
    #[test]
    fn passed_orders_respect_the_rate(gaps in prop::collection::vec(0i64..120_000_000, 1..200)) {
        let v = view();
        let mut r = risk();
        let mut passed = Vec::new();
        let mut ts = 0;
        for gap in gaps {
            ts += gap;
            if r.check(&ProposedOrder { ts, ..buy(1) }, &ctx(&v)).is_ok() {
                passed.push(ts);
            }
        }
        for (i, t) in passed.iter().enumerate() {
            let within = passed[..=i].iter().filter(|u| *t - **u < 1_000_000_000).count();
            prop_assert!(within <= 20);
        }
    }
}
