//! Position sizing: fractional Kelly under a volatility target, then the account's caps.
//!
//! For a signal with direction `d`, strength `s`, annualised volatility `σ` (floored at
//! `volatility_floor`) and edge `μ` (expected annualised return, signed like a long
//! position's), with equity `E`:
//!
//! ```text
//! f      = kelly_fraction · |μ| / σ²             fractional Kelly leverage
//! L_vol  = target_volatility / σ                 volatility-target leverage
//! L      = min(f, L_vol) · s · risk_scale        the tier scales the size
//! N      = L · E                                 target notional
//! cap    = min(max_notional, concentration · E, max(0, max_leverage · E − gross_others))
//! qty    = floor_lot(min(N / price, cap / max(bid, ask))) · d
//! ```
//!
//! `price` is the ask for a long and the bid for a short; the caps' quantity is
//! `cap / max(bid, ask)`, so that it also fits them valued at the mid, as the
//! pre-trade checks value it. `concentration` and
//! `max_leverage` are the smaller of the configured value and the tier's. A target
//! worth less than `max(min_notional, min_order_notional)` is zero. If `sign(μ) ≠ d`
//! (or `μ = 0`) Kelly says do not bet: the target is zero. Invalid or missing state —
//! equity ≤ 0, no price, a non-finite volatility, strength or edge, a negative gross
//! exposure — gives a zero target and a zero limit, never a position.
//!
//! The leverage and target notional are computed in `f64` and become a decimal quantity
//! once, through [`decimal_from_f64`] (the shortest decimal that round-trips), and the
//! caps are exact decimals, so a target is bit-for-bit reproducible.

use bot4_schemas::{decimal_from_f64, Decimal, Instrument, Signal, SymbolId, Urgency};
use rust_decimal::prelude::ToPrimitive;

use super::portfolio::PortfolioView;
use super::tiers::TierLimits;

/// Parameters of [`RiskSizer`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RiskConfig {
    /// Fraction of the full Kelly leverage `μ / σ²` to bet.
    pub kelly_fraction: f64,
    /// Annualised volatility each position is scaled to at most.
    pub target_volatility: f64,
    /// Volatility below which sizing stops growing.
    pub volatility_floor: f64,
    /// Largest notional of one symbol, as a fraction of equity.
    pub concentration: f64,
    /// Largest notional of one symbol, in quote currency.
    pub max_notional: Decimal,
    /// Largest gross exposure of the account, as a multiple of equity.
    pub max_leverage: f64,
    /// Smallest order worth sending, in quote currency, on top of the instrument's
    /// minimum notional (the larger applies).
    pub min_order_notional: Decimal,
    /// Forecast score from which the order stage should cross the spread.
    pub aggressive_score: f64,
}

impl Default for RiskConfig {
    fn default() -> Self {
        Self {
            kelly_fraction: 0.25,
            target_volatility: 0.15,
            volatility_floor: 0.05,
            concentration: 0.05,
            max_notional: Decimal::from(100_000),
            max_leverage: 3.0,
            min_order_notional: Decimal::ZERO,
            aggressive_score: 1.5,
        }
    }
}

/// The account as the sizing of one symbol sees it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct AccountView {
    /// Equity at the end of the previous epoch.
    pub equity: Decimal,
    /// Sum of the absolute exposures (notional) of every other symbol.
    pub other_gross_exposure: Decimal,
    /// What the active capital tier scales and tightens.
    pub tier: TierLimits,
}

impl AccountView {
    /// The account of `portfolio` as `symbol` sees it, in a tier with `tier` limits.
    pub fn from_portfolio(portfolio: &PortfolioView, symbol: SymbolId, tier: TierLimits) -> Self {
        Self {
            equity: portfolio.equity,
            other_gross_exposure: portfolio.gross_exposure_excluding(symbol),
            tier,
        }
    }
}

/// What decided a target's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum SizeLimit {
    /// The fractional Kelly leverage.
    Kelly,
    /// The volatility target.
    VolatilityTarget,
    /// The concentration cap.
    Concentration,
    /// The per-symbol maximum notional.
    MaxNotional,
    /// The account's leverage cap.
    Leverage,
    /// Below the minimum order: zero.
    MinOrder,
    /// A flat signal, or an edge of the wrong sign or zero: zero.
    NoBet,
    /// Missing or invalid state: zero.
    InvalidState,
}

/// A sized target.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Sizing {
    /// Signed target position, on the lot grid.
    pub target: Decimal,
    /// Largest absolute position the caps allow at this price (on the lot grid), for
    /// the order stage to keep position plus open orders within.
    pub max_position: Decimal,
    /// How urgently the order stage should get there.
    pub urgency: Urgency,
    /// What decided the size.
    pub limited_by: SizeLimit,
}

/// Size `signal` for `instrument` (see the [module documentation](self)).
///
/// # Examples
/// ```
/// use bot4_operators::risk::sizing::{size, AccountView, RiskConfig, SizeLimit};
/// use bot4_operators::risk::tiers::TierLimits;
/// use bot4_schemas::{Decimal, Instrument, Signal, SymbolId};
/// let btc = Instrument { symbol: "BTC-USDT".into(), tick_size: Decimal::new(1, 1),
///     lot_size: Decimal::new(1, 4), min_notional: Decimal::from(5) };
/// let signal = Signal { ts: 0, seq: 0, symbol: SymbolId(0), direction: 1, strength: 1.0,
///     confidence: 0.0, volatility: 0.6, edge: 0.3, bid: Decimal::from(50_000),
///     ask: Decimal::from(50_001) };
/// let account = AccountView { equity: Decimal::from(1_000_000),
///     other_gross_exposure: Decimal::ZERO, tier: TierLimits::NONE };
/// let s = size(&btc, &RiskConfig::default(), &signal, &account);
/// // Kelly 0.25 · 0.3 / 0.36 = 0.2083 and vol target 0.15 / 0.6 = 0.25: 208,333 USDT,
/// // capped at 5% of equity: 50,000 / 50,001 = 0.99998 → 0.9999 BTC.
/// assert_eq!((s.target, s.limited_by), (Decimal::new(9999, 4), SizeLimit::Concentration));
/// ```
pub fn size(
    instrument: &Instrument,
    config: &RiskConfig,
    signal: &Signal,
    account: &AccountView,
) -> Sizing {
    let urgency = if signal.confidence.abs() >= config.aggressive_score || signal.direction == 0 {
        Urgency::Aggressive
    } else {
        Urgency::Passive
    };
    let zero = |limited_by, max_position| Sizing {
        target: Decimal::ZERO,
        max_position,
        urgency,
        limited_by,
    };
    let price = if signal.direction >= 0 {
        signal.ask
    } else {
        signal.bid
    };
    let equity = account.equity;
    if price <= Decimal::ZERO
        || equity <= Decimal::ZERO
        || account.other_gross_exposure.is_sign_negative()
    {
        return zero(SizeLimit::InvalidState, Decimal::ZERO);
    }
    let Some((cap, cap_limit)) = notional_cap(config, account) else {
        return zero(SizeLimit::InvalidState, Decimal::ZERO);
    };
    // The caps are valued at the higher touch whatever the side, so that the quantity
    // also fits them at the mid, where the pre-trade checks value it.
    let max_position = instrument.floor_qty(cap / signal.ask.max(signal.bid));
    if signal.direction == 0 {
        return zero(SizeLimit::NoBet, max_position);
    }
    let sigma = signal.volatility.max(config.volatility_floor);
    let valid = signal.volatility.is_finite()
        && sigma > 0.0
        && signal.edge.is_finite()
        && signal.strength.is_finite();
    if !valid {
        return zero(SizeLimit::InvalidState, max_position);
    }
    let direction = f64::from(signal.direction.signum());
    if signal.edge * direction <= 0.0 {
        return zero(SizeLimit::NoBet, max_position);
    }
    let kelly = config.kelly_fraction * signal.edge.abs() / (sigma * sigma);
    let vol_target = config.target_volatility / sigma;
    let (leverage, mut limited_by) = if kelly <= vol_target {
        (kelly, SizeLimit::Kelly)
    } else {
        (vol_target, SizeLimit::VolatilityTarget)
    };
    let leverage = leverage * signal.strength.clamp(0.0, 1.0) * account.tier.risk_scale;
    let (Some(equity_f), Some(price_f)) = (equity.to_f64(), price.to_f64()) else {
        return zero(SizeLimit::InvalidState, max_position);
    };
    let qty = leverage * equity_f / price_f;
    if !qty.is_finite() || qty < 0.0 {
        return zero(SizeLimit::InvalidState, max_position);
    }
    // A finite quantity too large for a decimal is over the cap.
    let qty = match decimal_from_f64(qty) {
        Some(q) if q <= max_position => q,
        _ => {
            limited_by = cap_limit;
            max_position
        }
    };
    let qty = instrument.floor_qty(qty);
    if qty.is_zero() {
        return zero(limited_by, max_position);
    }
    let min_order = instrument.min_notional.max(config.min_order_notional);
    if qty.saturating_mul(price) < min_order {
        return zero(SizeLimit::MinOrder, max_position);
    }
    Sizing {
        target: if direction > 0.0 { qty } else { -qty },
        max_position,
        urgency,
        limited_by,
    }
}

/// The notional cap of one symbol and which limit sets it; `None` when a limit is not
/// a finite number (fail-closed).
fn notional_cap(config: &RiskConfig, account: &AccountView) -> Option<(Decimal, SizeLimit)> {
    let equity = account.equity;
    let concentration = decimal_from_f64(config.concentration.min(account.tier.concentration))?;
    let leverage = decimal_from_f64(config.max_leverage.min(account.tier.max_leverage))?;
    if concentration.is_sign_negative() || leverage.is_sign_negative() {
        return None;
    }
    let room = leverage
        .saturating_mul(equity)
        .saturating_sub(account.other_gross_exposure)
        .max(Decimal::ZERO);
    let mut cap = (
        concentration.saturating_mul(equity),
        SizeLimit::Concentration,
    );
    if config.max_notional < cap.0 {
        cap = (
            config.max_notional.max(Decimal::ZERO),
            SizeLimit::MaxNotional,
        );
    }
    if room < cap.0 {
        cap = (room, SizeLimit::Leverage);
    }
    Some(cap)
}

/// Sizing state of one symbol: sizes each signal and reports a target when it changes.
#[derive(Debug, Clone)]
pub struct RiskSizer {
    config: RiskConfig,
    instrument: Instrument,
    last_target: Option<Decimal>,
}

impl RiskSizer {
    /// Sizing for `instrument`.
    pub fn new(instrument: Instrument, config: RiskConfig) -> Self {
        Self {
            config,
            instrument,
            last_target: None,
        }
    }

    /// Its parameters.
    pub fn config(&self) -> &RiskConfig {
        &self.config
    }

    /// Size `signal` given `account`; the sizing if the target changed since the last
    /// one reported.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::risk::sizing::{AccountView, RiskConfig, RiskSizer};
    /// use bot4_operators::risk::tiers::TierLimits;
    /// use bot4_schemas::{Decimal, Instrument, Signal, SymbolId};
    /// let eth = Instrument { symbol: "ETH-USDT".into(), tick_size: Decimal::new(1, 2),
    ///     lot_size: Decimal::new(1, 3), min_notional: Decimal::from(5) };
    /// let mut sizer = RiskSizer::new(eth, RiskConfig::default());
    /// let account = AccountView { equity: Decimal::from(100_000),
    ///     other_gross_exposure: Decimal::ZERO, tier: TierLimits::NONE };
    /// let signal = Signal { ts: 0, seq: 0, symbol: SymbolId(1), direction: -1, strength: 0.5,
    ///     confidence: 0.0, volatility: 0.5, edge: -0.1, bid: Decimal::from(2_000),
    ///     ask: Decimal::from(2_001) };
    /// // Kelly 0.25 · 0.1 / 0.25 = 0.1, vol target 0.3: 0.1 · 0.5 · 100,000 = 5,000 USDT,
    /// // which is the 5% concentration cap, valued at the higher touch: 5,000 / 2,001 =
    /// // 2.4987…, 2.498 ETH short.
    /// assert_eq!(sizer.update(&signal, &account).unwrap().target, Decimal::new(-2498, 3));
    /// assert!(sizer.update(&signal, &account).is_none());
    /// ```
    pub fn update(&mut self, signal: &Signal, account: &AccountView) -> Option<Sizing> {
        let sizing = size(&self.instrument, &self.config, signal, account);
        if self.last_target == Some(sizing.target) {
            return None;
        }
        self.last_target = Some(sizing.target);
        Some(sizing)
    }
}

#[cfg(test)]
mod tests;
