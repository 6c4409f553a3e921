//! Pre-trade checks of one symbol's new orders, fail-closed.
//!
//! [`PreTradeRisk::check`] decides one proposed order against the symbol's position and
//! open orders, the last mid, the equity and the [`PortfolioView`] as of the end of the
//! previous epoch. Cancels are never checked (the caller does not ask). The checks run
//! in the order of [`RiskReject`]'s variants and the first failure is returned:
//!
//! 1. **Exchange filters**: the quantity is positive and on the lot grid; the order has
//!    the price its type needs (a limit price for a limit order, a trigger price for a
//!    stop or take-profit); every price is positive and on the tick grid.
//! 2. **Order rate**: at most `max_orders` orders passed within any `rate_window_ns` of
//!    event time (the orders' `ts`), a sliding window over the passed orders' times.
//!    It applies to every order, reducing ones too, as an exchange's rate limit does;
//!    only an order that passes every check counts.
//! 3. **State**: a priced order needs a mid (its band is relative to it); an order that
//!    does not reduce exposure also needs the equity (positive) and the portfolio view.
//!    Missing state denies ([`Missing`]).
//! 4. **Price band**: a limit price within `price_band` (5%) of the mid; a stop's or
//!    take-profit's trigger (and limit) price within `trigger_band` (10%). Protective
//!    stops sit away from the market by design — two or three ATRs of a volatile coin
//!    are often more than 5% — so a 5% band would refuse legitimate stops, while 10%
//!    still catches a misplaced digit.
//!
//! An order that **reduces exposure** stops here: it skips the minimum notional (as
//! exchanges exempt reduce-only orders, so a remainder can always be closed) and every
//! exposure check. A reducing market order therefore needs no mid and no equity:
//! flattening never waits for data. The caller's `reduces_exposure` is trusted only when
//! the context confirms it: the order is on the opposite side of the position, and the
//! position with every open order on the order's side and the order filled neither
//! flips nor grows; otherwise the order is checked in full.
//!
//! 5. **Minimum notional**: `qty × price` (the limit price, else the trigger, else the
//!    mid) at least the instrument's `min_notional`.
//! 6. **Exposure**, with `post` = position + open orders on the order's side + the order
//!    (the worst case: everything on that side fills), valued at the mid, and `E` the
//!    smaller of the context's and the view's equity:
//!    `|post| ≤ max_position` (if set); `|post|·mid ≤ max_notional`;
//!    `|post|·mid ≤ concentration · E`; gross exposure (every other symbol's `|exposure|`
//!    from the view, plus `|post|·mid`) `≤ max_leverage · E`; the symbols holding
//!    exposure (the others with a non-zero exposure, plus this one) `≤ max_symbols`;
//!    portfolio heat (the other symbols' risk at stop from the view, plus this symbol's
//!    post-trade risk `|post| · max(0, (mid − stop)·sign(post))`, or `|post|·mid` without
//!    a stop) `≤ max_heat · E`; and for every other symbol `j` with exposure, with `s`
//!    the sign of the order's side, `sign(exposure_j) · s · ρ_ij ≤ max_correlation`
//!    (an unknown or non-finite `ρ_ij` denies).
//!
//! The portfolio's map is iterated once per order, and nothing allocates or hashes: the
//! check is a few dozen decimal operations plus one ordered-map lookup per symbol held.

use bot4_schemas::{decimal_from_f64, Decimal, Instrument, Nanos, Side, SymbolId};
use thiserror::Error;

use super::portfolio::PortfolioView;
use super::tiers::TierLimits;
use super::RiskError;

/// How a proposed order executes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum OrderType {
    /// At the market.
    Market,
    /// At its limit price or better.
    Limit,
    /// A stop (stop-market, or stop-limit with a limit price): triggers when the market
    /// moves against its side to the trigger price.
    Stop,
    /// A take-profit: triggers when the market moves in its favour to the trigger price.
    TakeProfit,
}

impl OrderType {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderType::Market => "market",
            OrderType::Limit => "limit",
            OrderType::Stop => "stop",
            OrderType::TakeProfit => "take_profit",
        }
    }

    /// Whether it waits for a trigger price.
    pub fn is_triggered(self) -> bool {
        matches!(self, OrderType::Stop | OrderType::TakeProfit)
    }
}

/// A new order proposed for one symbol.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ProposedOrder {
    /// Event time at which it would be sent.
    pub ts: Nanos,
    /// Buy or sell.
    pub side: Side,
    /// How it executes.
    pub kind: OrderType,
    /// Quantity, positive.
    pub qty: Decimal,
    /// Limit price (limit and stop-limit orders).
    pub limit_price: Option<Decimal>,
    /// Trigger price (stop and take-profit orders).
    pub trigger_price: Option<Decimal>,
    /// Whether, with every open order on its side filled too, the position shrinks
    /// without changing sign.
    pub reduces_exposure: bool,
    /// The position's protective stop after this order, for the portfolio heat.
    pub stop_price: Option<Decimal>,
}

/// What the checks know of the symbol and the account.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckContext<'a> {
    /// The symbol of the order.
    pub symbol: SymbolId,
    /// Its signed position.
    pub position: Decimal,
    /// Quantity of its open buy orders.
    pub open_buy: Decimal,
    /// Quantity of its open sell orders.
    pub open_sell: Decimal,
    /// Its last mid price.
    pub mid: Option<Decimal>,
    /// The account's equity.
    pub equity: Option<Decimal>,
    /// The portfolio at the end of the previous epoch.
    pub portfolio: Option<&'a PortfolioView>,
}

/// The limits of [`PreTradeRisk`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RiskLimits {
    /// Largest absolute position, in base units; `None` for no limit.
    pub max_position: Option<Decimal>,
    /// Largest absolute position, in quote currency.
    pub max_notional: Decimal,
    /// Largest notional of one symbol, as a fraction of equity.
    pub concentration: f64,
    /// Largest portfolio heat (sum of risk at stop), as a fraction of equity.
    pub max_heat: f64,
    /// Largest correlation with an existing exposure in the direction of the new one.
    pub max_correlation: f64,
    /// Most orders passed in a window of `rate_window_ns`; 0 disables the limit.
    pub max_orders: u32,
    /// The order-rate window, in nanoseconds of event time.
    pub rate_window_ns: Nanos,
    /// Largest distance of a limit price from the mid, as a fraction of the mid.
    pub price_band: f64,
    /// Largest distance of a stop's or take-profit's prices from the mid.
    pub trigger_band: f64,
    /// Largest gross exposure, as a multiple of equity.
    pub max_leverage: f64,
    /// Most symbols holding exposure at once; `None` for no limit.
    pub max_symbols: Option<usize>,
}

impl Default for RiskLimits {
    fn default() -> Self {
        Self {
            max_position: None,
            max_notional: Decimal::from(100_000),
            concentration: 0.05,
            max_heat: 0.25,
            max_correlation: 0.7,
            max_orders: 20,
            rate_window_ns: 1_000_000_000,
            price_band: 0.05,
            trigger_band: 0.10,
            max_leverage: 3.0,
            max_symbols: None,
        }
    }
}

impl RiskLimits {
    /// These limits, tightened by a capital tier: the smaller concentration, leverage
    /// and number of symbols of the two.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::risk::checks::RiskLimits;
    /// use bot4_operators::risk::tiers::default_tiers;
    /// let preservation = RiskLimits::default().with_tier(&default_tiers()[0].limits());
    /// assert_eq!((preservation.concentration, preservation.max_leverage), (0.03, 1.5));
    /// assert_eq!(preservation.max_symbols, Some(5));
    /// ```
    pub fn with_tier(&self, tier: &TierLimits) -> Self {
        Self {
            concentration: self.concentration.min(tier.concentration),
            max_leverage: self.max_leverage.min(tier.max_leverage),
            max_symbols: Some(self.max_symbols.unwrap_or(usize::MAX).min(tier.max_symbols)),
            ..*self
        }
    }
}

/// State a check needed and did not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Missing {
    /// The symbol's mid price (or a mid that is not positive).
    Mid,
    /// The equity (or an equity that is not positive).
    Equity,
    /// The portfolio view.
    Portfolio,
    /// The correlation with a symbol holding exposure (or one that is not finite).
    Correlation(SymbolId),
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Missing::Mid => f.write_str("no mid price"),
            Missing::Equity => f.write_str("no positive equity"),
            Missing::Portfolio => f.write_str("no portfolio view"),
            Missing::Correlation(other) => write!(f, "no correlation with symbol {}", other.0),
        }
    }
}

/// Why a new order was refused. The checks run in the order of the variants.
#[derive(Debug, Clone, Copy, PartialEq, Error, serde::Serialize)]
pub enum RiskReject {
    /// The quantity is not positive or not a multiple of the lot size.
    #[error("quantity {qty} is not a positive multiple of the lot size {lot}")]
    LotSize {
        /// The order's quantity.
        qty: Decimal,
        /// The instrument's lot size.
        lot: Decimal,
    },
    /// The order lacks the price its type needs.
    #[error("a {} order needs a {} price", .kind.as_str(), if .kind.is_triggered() { "trigger" } else { "limit" })]
    MissingPrice {
        /// The order's type.
        kind: OrderType,
    },
    /// A price is not positive or not a multiple of the tick size.
    #[error("price {price} is not a positive multiple of the tick size {tick}")]
    TickSize {
        /// The offending price.
        price: Decimal,
        /// The instrument's tick size.
        tick: Decimal,
    },
    /// Too many orders within the rate window.
    #[error("{max_orders} orders already passed within {window_ns} ns")]
    OrderRate {
        /// The limit.
        max_orders: u32,
        /// The window, in nanoseconds.
        window_ns: Nanos,
    },
    /// State the checks need is missing: fail-closed.
    #[error("missing state: {missing}")]
    MissingState {
        /// What was missing.
        missing: Missing,
    },
    /// A price is too far from the mid.
    #[error("price {price} is more than {band} away from the mid {mid}")]
    PriceBand {
        /// The offending price.
        price: Decimal,
        /// The mid.
        mid: Decimal,
        /// The band, as a fraction of the mid.
        band: f64,
    },
    /// The order is worth less than the instrument's minimum.
    #[error("notional {notional} is below the minimum {min}")]
    MinNotional {
        /// The order's notional.
        notional: Decimal,
        /// The instrument's minimum.
        min: Decimal,
    },
    /// The position after the order would exceed the quantity limit.
    #[error("position {position} would exceed the limit {limit}")]
    MaxPosition {
        /// Position after the order and the open orders on its side.
        position: Decimal,
        /// The limit.
        limit: Decimal,
    },
    /// The position after the order would exceed the notional limit.
    #[error("notional {notional} would exceed the limit {limit}")]
    MaxNotional {
        /// Absolute notional after the order.
        notional: Decimal,
        /// The limit.
        limit: Decimal,
    },
    /// The position after the order would exceed its share of equity.
    #[error("notional {notional} would exceed the concentration limit {limit}")]
    Concentration {
        /// Absolute notional after the order.
        notional: Decimal,
        /// Concentration times equity.
        limit: Decimal,
    },
    /// The gross exposure after the order would exceed the leverage limit.
    #[error("gross exposure {gross} would exceed the leverage limit {limit}")]
    Leverage {
        /// Gross exposure after the order.
        gross: Decimal,
        /// Maximum leverage times equity.
        limit: Decimal,
    },
    /// Too many symbols would hold exposure.
    #[error("{held} symbols would hold exposure, more than {limit}")]
    MaxSymbols {
        /// Symbols holding exposure after the order.
        held: usize,
        /// The limit.
        limit: usize,
    },
    /// The portfolio heat after the order would exceed its limit.
    #[error("portfolio heat {heat} would exceed the limit {limit}")]
    PortfolioHeat {
        /// Sum of risk at stop after the order.
        heat: Decimal,
        /// Maximum heat times equity.
        limit: Decimal,
    },
    /// New exposure in the direction of a correlated exposure.
    #[error("correlation {rho} with symbol {} held in the same direction", .other.0)]
    Correlation {
        /// The symbol already exposed.
        other: SymbolId,
        /// Their correlation.
        rho: f64,
    },
}

impl RiskReject {
    /// A stable snake_case name of the check, for counters and records.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::risk::checks::RiskReject;
    /// use bot4_schemas::SymbolId;
    /// assert_eq!(RiskReject::Correlation { other: SymbolId(1), rho: 0.9 }.code(), "correlation");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            RiskReject::LotSize { .. } => "lot_size",
            RiskReject::MissingPrice { .. } => "missing_price",
            RiskReject::TickSize { .. } => "tick_size",
            RiskReject::OrderRate { .. } => "order_rate",
            RiskReject::MissingState { .. } => "missing_state",
            RiskReject::PriceBand { .. } => "price_band",
            RiskReject::MinNotional { .. } => "min_notional",
            RiskReject::MaxPosition { .. } => "max_position",
            RiskReject::MaxNotional { .. } => "max_notional",
            RiskReject::Concentration { .. } => "concentration",
            RiskReject::Leverage { .. } => "leverage",
            RiskReject::MaxSymbols { .. } => "max_symbols",
            RiskReject::PortfolioHeat { .. } => "portfolio_heat",
            RiskReject::Correlation { .. } => "correlation",
        }
    }
}

/// The times of the last passed orders, oldest first in a ring.
#[derive(Debug, Clone)]
struct OrderRate {
    times: Vec<Nanos>,
    /// The slot the next time goes in: the oldest once full.
    next: usize,
    len: usize,
}

impl OrderRate {
    fn new(max_orders: u32) -> Self {
        Self {
            times: vec![0; max_orders as usize],
            next: 0,
            len: 0,
        }
    }

    /// Whether an order at `ts` stays within the limit: fewer than `max_orders` passed
    /// orders at times in `(ts − window, ts]`. An order earlier than a passed one (time
    /// going backwards) counts it as within the window.
    fn allows(&self, ts: Nanos, window: Nanos) -> bool {
        self.times.is_empty()
            || self.len < self.times.len()
            || ts.saturating_sub(self.times[self.next]) >= window
    }

    fn record(&mut self, ts: Nanos) {
        if self.times.is_empty() {
            return;
        }
        self.times[self.next] = ts;
        self.next = (self.next + 1) % self.times.len();
        self.len = (self.len + 1).min(self.times.len());
    }
}

/// The pre-trade checks of one symbol, with its order-rate state.
#[derive(Debug, Clone)]
pub struct PreTradeRisk {
    instrument: Instrument,
    limits: RiskLimits,
    /// The `f64` fractions of `limits` as exact decimals.
    concentration: Decimal,
    max_heat: Decimal,
    max_leverage: Decimal,
    price_band: Decimal,
    trigger_band: Decimal,
    rate: OrderRate,
}

impl PreTradeRisk {
    /// Checks of `instrument`'s orders against `limits`. A fraction that is not finite
    /// and non-negative is an error.
    pub fn new(instrument: Instrument, limits: RiskLimits) -> Result<Self, RiskError> {
        let fraction = |what: &'static str, value: f64| {
            decimal_from_f64(value)
                .filter(|d| !d.is_sign_negative())
                .ok_or(RiskError::Input { what, value })
        };
        if limits.max_correlation.is_nan() {
            return Err(RiskError::Input {
                what: "max_correlation",
                value: limits.max_correlation,
            });
        }
        Ok(Self {
            concentration: fraction("concentration", limits.concentration)?,
            max_heat: fraction("max_heat", limits.max_heat)?,
            max_leverage: fraction("max_leverage", limits.max_leverage)?,
            price_band: fraction("price_band", limits.price_band)?,
            trigger_band: fraction("trigger_band", limits.trigger_band)?,
            rate: OrderRate::new(limits.max_orders),
            instrument,
            limits,
        })
    }

    /// Its limits.
    pub fn limits(&self) -> &RiskLimits {
        &self.limits
    }

    /// Replace the limits (a new capital tier, a parameter change), keeping the order
    /// rate's history when `max_orders` is unchanged.
    pub fn set_limits(&mut self, limits: RiskLimits) -> Result<(), RiskError> {
        let mut next = Self::new(self.instrument.clone(), limits)?;
        if limits.max_orders == self.limits.max_orders {
            next.rate = std::mem::replace(&mut self.rate, OrderRate::new(0));
        }
        *self = next;
        Ok(())
    }

    /// Decide `order` in `ctx`; a passed order counts towards the order rate.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::risk::checks::{CheckContext, OrderType, PreTradeRisk, ProposedOrder, RiskLimits};
    /// use bot4_operators::risk::portfolio::PortfolioView;
    /// use bot4_schemas::{Decimal, Instrument, Side, SymbolId};
    /// let eth = Instrument { symbol: "ETH-USDT".into(), tick_size: Decimal::new(1, 2),
    ///     lot_size: Decimal::new(1, 3), min_notional: Decimal::from(5) };
    /// let mut risk = PreTradeRisk::new(eth, RiskLimits::default()).unwrap();
    /// let view = PortfolioView::new(Decimal::from(1_000_000));
    /// let ctx = CheckContext { symbol: SymbolId(0), position: Decimal::ZERO,
    ///     open_buy: Decimal::ZERO, open_sell: Decimal::ZERO, mid: Some(Decimal::from(3_000)),
    ///     equity: Some(Decimal::from(1_000_000)), portfolio: Some(&view) };
    /// let mut order = ProposedOrder { ts: 0, side: Side::Buy, kind: OrderType::Limit,
    ///     qty: Decimal::from(10), limit_price: Some(Decimal::from(2_999)), trigger_price: None,
    ///     reduces_exposure: false, stop_price: Some(Decimal::from(2_800)) };
    /// // 10 ETH at the 3,000 mid is 30,000 ≤ 5% of 1,000,000.
    /// assert!(risk.check(&order, &ctx).is_ok());
    /// order.qty = Decimal::from(20);
    /// assert_eq!(risk.check(&order, &ctx).unwrap_err().code(), "concentration");
    /// ```
    pub fn check(
        &mut self,
        order: &ProposedOrder,
        ctx: &CheckContext<'_>,
    ) -> Result<(), RiskReject> {
        self.evaluate(order, ctx)?;
        self.rate.record(order.ts);
        Ok(())
    }

    /// Decide `order` in `ctx` without counting it towards the order rate.
    pub fn evaluate(
        &self,
        order: &ProposedOrder,
        ctx: &CheckContext<'_>,
    ) -> Result<(), RiskReject> {
        let inst = &self.instrument;
        let limits = &self.limits;
        if order.qty <= Decimal::ZERO || !inst.on_lot(order.qty) {
            return Err(RiskReject::LotSize {
                qty: order.qty,
                lot: inst.lot_size,
            });
        }
        let has_price = match order.kind {
            OrderType::Market => true,
            OrderType::Limit => order.limit_price.is_some(),
            OrderType::Stop | OrderType::TakeProfit => order.trigger_price.is_some(),
        };
        if !has_price {
            return Err(RiskReject::MissingPrice { kind: order.kind });
        }
        let prices = [order.limit_price, order.trigger_price];
        for price in prices.into_iter().flatten() {
            if price <= Decimal::ZERO || !inst.on_tick(price) {
                return Err(RiskReject::TickSize {
                    price,
                    tick: inst.tick_size,
                });
            }
        }
        if !self.rate.allows(order.ts, limits.rate_window_ns) {
            return Err(RiskReject::OrderRate {
                max_orders: limits.max_orders,
                window_ns: limits.rate_window_ns,
            });
        }
        let reduces = order.reduces_exposure && confirms_reduction(order, ctx);
        let priced = order.limit_price.is_some() || order.trigger_price.is_some();
        let mid = ctx.mid.filter(|m| *m > Decimal::ZERO);
        let missing = |missing| Err(RiskReject::MissingState { missing });
        let Some(mid) = mid else {
            return if reduces && !priced {
                Ok(())
            } else {
                missing(Missing::Mid)
            };
        };
        let account = if reduces {
            None
        } else {
            let Some(view) = ctx.portfolio else {
                return missing(Missing::Portfolio);
            };
            let equity = match ctx.equity {
                Some(e) => e.min(view.equity),
                None => return missing(Missing::Equity),
            };
            if equity <= Decimal::ZERO {
                return missing(Missing::Equity);
            }
            Some((view, equity))
        };
        let band = if order.kind.is_triggered() {
            (self.trigger_band, limits.trigger_band)
        } else {
            (self.price_band, limits.price_band)
        };
        let allowed = band.0.saturating_mul(mid);
        for price in prices.into_iter().flatten() {
            if price.saturating_sub(mid).abs() > allowed {
                return Err(RiskReject::PriceBand {
                    price,
                    mid,
                    band: band.1,
                });
            }
        }
        let Some((view, equity)) = account else {
            return Ok(());
        };
        self.exposure_checks(order, ctx, view, mid, equity)
    }

    /// Minimum notional and the exposure checks of an order that does not reduce
    /// exposure.
    fn exposure_checks(
        &self,
        order: &ProposedOrder,
        ctx: &CheckContext<'_>,
        view: &PortfolioView,
        mid: Decimal,
        equity: Decimal,
    ) -> Result<(), RiskReject> {
        let inst = &self.instrument;
        let limits = &self.limits;
        let order_price = order.limit_price.or(order.trigger_price).unwrap_or(mid);
        let notional = order.qty.saturating_mul(order_price);
        if notional < inst.min_notional {
            return Err(RiskReject::MinNotional {
                notional,
                min: inst.min_notional,
            });
        }
        let post = match order.side {
            Side::Buy => ctx
                .position
                .saturating_add(ctx.open_buy)
                .saturating_add(order.qty),
            Side::Sell => ctx
                .position
                .saturating_sub(ctx.open_sell)
                .saturating_sub(order.qty),
        };
        if let Some(limit) = limits.max_position {
            if post.abs() > limit {
                return Err(RiskReject::MaxPosition {
                    position: post,
                    limit,
                });
            }
        }
        let post_notional = post.abs().saturating_mul(mid);
        if post_notional > limits.max_notional {
            return Err(RiskReject::MaxNotional {
                notional: post_notional,
                limit: limits.max_notional,
            });
        }
        let limit = self.concentration.saturating_mul(equity);
        if post_notional > limit {
            return Err(RiskReject::Concentration {
                notional: post_notional,
                limit,
            });
        }

        // One pass over the other symbols.
        let direction = match order.side {
            Side::Buy => 1.0,
            Side::Sell => -1.0,
        };
        let mut gross = post_notional;
        let mut heat = post_risk(post, mid, order.stop_price);
        let mut held = usize::from(!post.is_zero());
        let mut correlation = None;
        for (&other, exposure) in &view.symbols {
            if other == ctx.symbol {
                continue;
            }
            gross = gross.saturating_add(exposure.exposure.abs());
            heat = heat.saturating_add(exposure.risk_at_stop);
            if exposure.exposure.is_zero() {
                continue;
            }
            held += 1;
            if correlation.is_none() {
                let sign = if exposure.exposure.is_sign_negative() {
                    -1.0
                } else {
                    1.0
                };
                correlation = match view.correlation(ctx.symbol, other) {
                    Some(rho) if rho.is_finite() => (sign * direction * rho
                        > limits.max_correlation)
                        .then_some(RiskReject::Correlation { other, rho }),
                    _ => Some(RiskReject::MissingState {
                        missing: Missing::Correlation(other),
                    }),
                };
            }
        }

        let limit = self.max_leverage.saturating_mul(equity);
        if gross > limit {
            return Err(RiskReject::Leverage { gross, limit });
        }
        if let Some(limit) = limits.max_symbols {
            if held > limit {
                return Err(RiskReject::MaxSymbols { held, limit });
            }
        }
        let limit = self.max_heat.saturating_mul(equity);
        if heat > limit {
            return Err(RiskReject::PortfolioHeat { heat, limit });
        }
        correlation.map_or(Ok(()), Err)
    }
}

/// Whether `order` really reduces exposure in `ctx`: it is opposite to the position and,
/// with every open order on its side filled too, the position neither flips nor grows.
fn confirms_reduction(order: &ProposedOrder, ctx: &CheckContext<'_>) -> bool {
    match order.side {
        Side::Buy => {
            let after = ctx
                .position
                .saturating_add(ctx.open_buy.max(Decimal::ZERO))
                .saturating_add(order.qty);
            ctx.position < Decimal::ZERO && after <= Decimal::ZERO
        }
        Side::Sell => {
            let after = ctx
                .position
                .saturating_sub(ctx.open_sell.max(Decimal::ZERO))
                .saturating_sub(order.qty);
            ctx.position > Decimal::ZERO && after >= Decimal::ZERO
        }
    }
}

/// What a position of `post` loses at its stop, marked at `mid`: the whole notional
/// without a stop, nothing for a stop beyond the mid in its favour.
fn post_risk(post: Decimal, mid: Decimal, stop: Option<Decimal>) -> Decimal {
    let per_unit = match stop {
        None => mid,
        Some(stop) if post.is_sign_negative() => stop.saturating_sub(mid).max(Decimal::ZERO),
        Some(stop) => mid.saturating_sub(stop).max(Decimal::ZERO),
    };
    post.abs().saturating_mul(per_unit)
}

#[cfg(test)]
mod tests;
