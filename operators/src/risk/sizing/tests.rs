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

/// A signal at bid 3000 / ask 3001.
fn input(direction: i8, strength: f64, volatility: f64, edge: f64) -> Signal {
    Signal {
        ts: 0,
        seq: 0,
        symbol: SymbolId(0),
        direction,
        strength,
        confidence: 0.0,
        volatility,
        edge,
        bid: d(3000),
        ask: d(3001),
    }
}

fn account(equity: i64, others: i64) -> AccountView {
    AccountView {
        equity: d(equity),
        other_gross_exposure: d(others),
        tier: TierLimits::NONE,
    }
}

/// Caps loose enough that Kelly or the volatility target decide.
fn loose() -> RiskConfig {
    RiskConfig {
        concentration: 1.0,
        max_notional: d(10_000_000),
        ..RiskConfig::default()
    }
}

fn sized(config: &RiskConfig, i: Signal, a: AccountView) -> (Decimal, SizeLimit) {
    let s = size(&eth(), config, &i, &a);
    (s.target, s.limited_by)
}

#[test]
fn kelly_decides_when_it_is_below_the_volatility_target() {
    // f = 0.25 · 0.2 / 0.5² = 0.2; L_vol = 0.15 / 0.5 = 0.3; N = 0.2 · 1,000,000 =
    // 200,000; 200,000 / 3001 = 66.6444… → 66.644 ETH.
    let s = size(
        &eth(),
        &loose(),
        &input(1, 1.0, 0.5, 0.2),
        &account(1_000_000, 0),
    );
    assert_eq!(
        (s.target, s.limited_by),
        (Decimal::new(66_644, 3), SizeLimit::Kelly)
    );
    // cap = min(10,000,000, 1.0 · 1,000,000, 3 · 1,000,000) = 1,000,000; / 3001 =
    // 333.2222… → 333.222.
    assert_eq!(s.max_position, Decimal::new(333_222, 3));
    assert_eq!(s.urgency, Urgency::Passive);
}

#[test]
fn the_volatility_target_decides_when_it_is_below_kelly() {
    // f = 0.25 · 0.5 / 0.25 = 0.5 > L_vol = 0.3: N = 300,000; / 3001 = 99.9666… → 99.966.
    assert_eq!(
        sized(&loose(), input(1, 1.0, 0.5, 0.5), account(1_000_000, 0)),
        (Decimal::new(99_966, 3), SizeLimit::VolatilityTarget)
    );
    // Half strength: 150,000 / 3001 = 49.9833… → 49.983.
    assert_eq!(
        sized(&loose(), input(1, 0.5, 0.5, 0.5), account(1_000_000, 0)).0,
        Decimal::new(49_983, 3)
    );
}

#[test]
fn shorts_are_sized_at_the_bid() {
    // f = 0.2 as above, N = 200,000 at 3000: 66.6666… → −66.666.
    assert_eq!(
        sized(&loose(), input(-1, 1.0, 0.5, -0.2), account(1_000_000, 0)),
        (Decimal::new(-66_666, 3), SizeLimit::Kelly)
    );
}

#[test]
fn volatility_is_floored_and_leverage_capped_by_the_other_symbols() {
    // σ = max(0.01, 0.05) = 0.05: f = 0.25 · 0.02 / 0.0025 = 2.0, L_vol = 0.15 / 0.05 =
    // 3.0, N = 2,000,000. Room = 3 · 1,000,000 − 1,500,000 = 1,500,000 (concentration
    // 10 and max notional 10,000,000 do not bind): 1,500,000 / 3001 = 499.8333… → 499.833.
    let config = RiskConfig {
        concentration: 10.0,
        ..loose()
    };
    assert_eq!(
        sized(
            &config,
            input(1, 1.0, 0.01, 0.02),
            account(1_000_000, 1_500_000)
        ),
        (Decimal::new(499_833, 3), SizeLimit::Leverage)
    );
    // Others already at 4,000,000 > 3,000,000: no room at all (never negative).
    let s = size(
        &eth(),
        &config,
        &input(1, 1.0, 0.01, 0.02),
        &account(1_000_000, 4_000_000),
    );
    assert_eq!(
        (s.target, s.max_position, s.limited_by),
        (d(0), d(0), SizeLimit::Leverage)
    );
}

#[test]
fn default_caps_concentration_then_max_notional() {
    // Default concentration 5% of 1,000,000 = 50,000 < 200,000: 50,000 / 3001 =
    // 16.6611… → 16.661.
    assert_eq!(
        sized(
            &RiskConfig::default(),
            input(1, 1.0, 0.5, 0.2),
            account(1_000_000, 0)
        ),
        (Decimal::new(16_661, 3), SizeLimit::Concentration)
    );
    // With 10,000,000 of equity 5% is 500,000 > max notional 100,000: 33.3222… → 33.322.
    assert_eq!(
        sized(
            &RiskConfig::default(),
            input(1, 1.0, 0.5, 0.2),
            account(10_000_000, 0)
        ),
        (Decimal::new(33_322, 3), SizeLimit::MaxNotional)
    );
}

#[test]
fn the_tier_scales_and_tightens() {
    let half = AccountView {
        tier: TierLimits {
            risk_scale: 0.5,
            ..TierLimits::NONE
        },
        ..account(1_000_000, 0)
    };
    // 0.2 · 0.5 · 1,000,000 = 100,000; / 3001 = 33.3222… → 33.322.
    assert_eq!(
        sized(&loose(), input(1, 1.0, 0.5, 0.2), half),
        (Decimal::new(33_322, 3), SizeLimit::Kelly)
    );
    let tight = AccountView {
        tier: TierLimits {
            concentration: 0.02,
            ..TierLimits::NONE
        },
        ..account(1_000_000, 0)
    };
    // min(1.0, 0.02) · 1,000,000 = 20,000; / 3001 = 6.6644… → 6.664.
    assert_eq!(
        sized(&loose(), input(1, 1.0, 0.5, 0.2), tight),
        (Decimal::new(6_664, 3), SizeLimit::Concentration)
    );
}

#[test]
fn kelly_says_do_not_bet_against_the_edge() {
    for edge in [-0.2, 0.0, -0.0] {
        assert_eq!(
            sized(&loose(), input(1, 1.0, 0.5, edge), account(1_000_000, 0)),
            (d(0), SizeLimit::NoBet)
        );
    }
    assert_eq!(
        sized(&loose(), input(-1, 1.0, 0.5, 0.2), account(1_000_000, 0)),
        (d(0), SizeLimit::NoBet)
    );
    let flat = size(
        &eth(),
        &loose(),
        &input(0, 1.0, 0.5, 0.2),
        &account(1_000_000, 0),
    );
    assert_eq!((flat.target, flat.urgency), (d(0), Urgency::Aggressive));
}

#[test]
fn small_targets_are_zero() {
    // Equity 100: N = 20, capped at 5% = 5; 5 / 3001 = 0.00166 → 0.001 ETH, worth
    // 3.001 < 5.
    assert_eq!(
        sized(
            &RiskConfig::default(),
            input(1, 1.0, 0.5, 0.2),
            account(100, 0)
        ),
        (d(0), SizeLimit::MinOrder)
    );
    // N = 0.2 · 0.0005 · 1,000,000 = 100; 100 / 3001 = 0.0333… → 0.033, worth 99.033:
    // above the instrument's 5, below a configured 100.
    let config = RiskConfig {
        min_order_notional: d(100),
        ..loose()
    };
    assert_eq!(
        sized(&loose(), input(1, 0.0005, 0.5, 0.2), account(1_000_000, 0)).0,
        Decimal::new(33, 3)
    );
    assert_eq!(
        sized(&config, input(1, 0.0005, 0.5, 0.2), account(1_000_000, 0)),
        (d(0), SizeLimit::MinOrder)
    );
}

#[test]
fn invalid_state_never_makes_a_position() {
    let ok = input(1, 1.0, 0.5, 0.2);
    let cases = [
        (ok, account(0, 0)),
        (ok, account(-5, 0)),
        (ok, account(1_000_000, -1)),
        (input(1, 1.0, f64::NAN, 0.2), account(1_000_000, 0)),
        (input(1, 1.0, f64::INFINITY, 0.2), account(1_000_000, 0)),
        (input(1, 1.0, 0.5, f64::NAN), account(1_000_000, 0)),
        (input(1, 1.0, 0.5, f64::INFINITY), account(1_000_000, 0)),
        (input(1, f64::NAN, 0.5, 0.2), account(1_000_000, 0)),
        (Signal { ask: d(0), ..ok }, account(1_000_000, 0)),
    ];
    for (i, a) in cases {
        assert_eq!(
            sized(&loose(), i, a),
            (d(0), SizeLimit::InvalidState),
            "{i:?} {a:?}"
        );
    }
    let broken = RiskConfig {
        concentration: f64::NAN,
        ..loose()
    };
    assert_eq!(
        sized(&broken, ok, account(1_000_000, 0)).1,
        SizeLimit::InvalidState
    );
}

#[test]
fn the_sizer_reports_changes_only() {
    let mut r = RiskSizer::new(eth(), loose());
    let a = account(1_000_000, 0);
    assert!(r.update(&input(1, 1.0, 0.5, 0.2), &a).is_some());
    assert!(r.update(&input(1, 1.0, 0.5, 0.2), &a).is_none());
    assert_eq!(
        r.update(&input(0, 1.0, 0.5, 0.2), &a).map(|s| s.target),
        Some(d(0))
    );
    assert_eq!(r.config(), &loose());
}

prop_compose! {
    fn any_input()(
        direction in -1i8..=1,
        strength in 0.0f64..1.0,
        volatility in 0.0f64..3.0,
        edge in -2.0f64..2.0,
        bid in 1i64..100_000,
        spread in 0i64..10,
        confidence in 0.0f64..3.0,
    ) -> Signal {
        Signal { ts: 0, seq: 0, symbol: SymbolId(0), direction, strength, confidence, volatility, edge,
            bid: Decimal::new(bid, 2), ask: Decimal::new(bid + spread, 2) }
    }
}

prop_compose! {
    fn any_account()(
        equity in -1_000i64..50_000_000,
        others in 0i64..200_000_000,
        risk_scale in 0.0f64..1.5,
        concentration in 0.001f64..0.5,
        max_leverage in 0.1f64..5.0,
    ) -> AccountView {
        AccountView { equity: d(equity), other_gross_exposure: d(others),
            tier: TierLimits { risk_scale, concentration, max_leverage, max_symbols: 10 } }
    }
}

proptest! {
    /// Every target is on the lot grid, on the signal's side, within every cap, zero
    /// or at least the minimum order, zero against the edge, and reproducible.
    #[test]
    fn targets_respect_every_cap(i in any_input(), a in any_account(), loose_caps in any::<bool>()) {
        let config = if loose_caps { loose() } else { RiskConfig::default() };
        let inst = eth();
        let s = size(&inst, &config, &i, &a);
        prop_assert_eq!(s, size(&inst, &config, &i, &a));
        prop_assert!(inst.on_lot(s.target) && inst.on_lot(s.max_position));
        prop_assert!(s.target.abs() <= s.max_position);
        prop_assert!(s.target.is_zero() || (s.target > Decimal::ZERO) == (i.direction > 0));
        if i.edge * f64::from(i.direction) <= 0.0 || a.equity <= Decimal::ZERO {
            prop_assert!(s.target.is_zero());
        }
        let price = if i.direction >= 0 { i.ask } else { i.bid };
        let notional = s.target.abs() * price;
        prop_assert!(s.target.is_zero() || notional >= inst.min_notional.max(config.min_order_notional));
        let equity = a.equity.max(Decimal::ZERO);
        let fraction = |x: f64| decimal_from_f64(x).unwrap_or_default() * equity;
        prop_assert!(notional <= config.max_notional);
        prop_assert!(notional <= fraction(config.concentration.min(a.tier.concentration)));
        let room = fraction(config.max_leverage.min(a.tier.max_leverage)) - a.other_gross_exposure;
        prop_assert!(notional <= room.max(Decimal::ZERO));
    }

    /// More volatility never means a larger position, a larger edge never a smaller one.
    #[test]
    fn sizes_are_monotone(i in any_input(), a in any_account(), dv in 0.0f64..1.0, de in 0.0f64..1.0) {
        let config = loose();
        let base = size(&eth(), &config, &i, &a).target.abs();
        let wilder = Signal { volatility: i.volatility + dv, ..i };
        prop_assert!(size(&eth(), &config, &wilder, &a).target.abs() <= base);
        if i.edge * f64::from(i.direction) > 0.0 {
            let stronger = Signal { edge: i.edge + de * i.edge.signum(), ..i };
            prop_assert!(size(&eth(), &config, &stronger, &a).target.abs() >= base);
        }
    }
}
