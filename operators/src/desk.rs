//! One symbol's trading desk: sizing, order management and the pre-trade checks,
//! between a signal and the safety gate.
//!
//! ```text
//! signal ─► RiskSizer (fractional Kelly, volatility target, caps; the portfolio of t − 1)
//!              │ target, limit, bracket distances
//!              ▼
//!          OrderManager (orders' lives, brackets, trailing and time stops, modes)
//!              │ order messages (aggressive ones as IOC limits within the price band)
//!              ▼
//!          PreTradeRisk (filters, rate, band, position, concentration, leverage, heat,
//!              │          correlation — fail-closed)
//!              ├─► passed: towards the safety gate
//!              └─► refused: a `rejected` report, and the manager holds new exposure
//!                  until the next epoch
//! ```
//!
//! Every decision reads the [`PortfolioView`] as of the end of the previous epoch, the
//! same on every worker, so the desk is as deterministic as its inputs. Cancels are
//! never checked: taking risk off must not wait for anything.

use bot4_schemas::{
    Decimal, ExecutionReport, Instrument, Nanos, Order, OrderAction, OrderIntent, OrderKind,
    ReportReason, Signal, SymbolId, NANOS_PER_SECOND,
};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::RoundingStrategy;

use crate::orders::{OrderConfig, OrderManager};
use crate::parameters::ParameterChange;
use crate::risk::checks::{
    CheckContext, OrderType, PreTradeRisk, ProposedOrder, RiskLimits, RiskReject,
};
use crate::risk::portfolio::PortfolioView;
use crate::risk::sizing::{AccountView, RiskConfig, RiskSizer};
use crate::risk::tiers::TierLimits;
use crate::risk::RiskError;
use crate::safety_gate::Mode;

/// Nanoseconds in a year of 365 days, the annualisation of the volatilities.
const YEAR_NS: f64 = 365.0 * 86_400.0 * NANOS_PER_SECOND as f64;

/// Where a position's protective orders go, from the signal's volatility.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ProtectionConfig {
    /// The stop's distance from the entry, in standard deviations of the price over
    /// `horizon_ns`; zero for no bracket.
    pub stop_sigmas: f64,
    /// The take-profit's distance, likewise; zero for none.
    pub take_profit_sigmas: f64,
    /// The horizon the standard deviation is taken over.
    pub horizon_ns: Nanos,
    /// Close a position this long after it opened; zero for no time stop.
    pub max_hold_ns: Nanos,
}

impl Default for ProtectionConfig {
    /// A stop at 2σ and a take-profit at 3σ of a ten-minute move (the bar signal holds
    /// a position for minutes, rarely an hour); positions held at most a day.
    fn default() -> Self {
        Self {
            stop_sigmas: 2.0,
            take_profit_sigmas: 3.0,
            horizon_ns: 600 * NANOS_PER_SECOND,
            max_hold_ns: 86_400 * NANOS_PER_SECOND,
        }
    }
}

impl ProtectionConfig {
    /// The stop and take-profit distances (in price) for annualised volatility
    /// `volatility` at `price`, rounded up to `tick`.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::desk::ProtectionConfig;
    /// use bot4_schemas::Decimal;
    /// // 60% a year is 0.6 · √(600 / 31,536,000) = 0.2617% in ten minutes: at 50,000
    /// // the stop is 2σ = 261.71 away, the take-profit 3σ = 392.56, rounded up to the
    /// // 0.1 tick.
    /// let (stop, tp) = ProtectionConfig::default().distances(0.6, Decimal::from(50_000), Decimal::new(1, 1));
    /// assert_eq!((stop, tp), (Decimal::new(2618, 1), Decimal::new(3926, 1)));
    /// ```
    pub fn distances(&self, volatility: f64, price: Decimal, tick: Decimal) -> (Decimal, Decimal) {
        let sigma = volatility * (self.horizon_ns as f64 / YEAR_NS).sqrt();
        let price = price.to_f64().unwrap_or(0.0);
        let distance = |sigmas: f64| {
            let d = sigmas * sigma * price;
            if !(d.is_finite() && d > 0.0) {
                return Decimal::ZERO;
            }
            let d = bot4_schemas::decimal_from_f64(d).unwrap_or(Decimal::ZERO);
            if tick > Decimal::ZERO {
                (d / tick).round_dp_with_strategy(0, RoundingStrategy::ToPositiveInfinity) * tick
            } else {
                d
            }
        };
        (
            distance(self.stop_sigmas),
            distance(self.take_profit_sigmas),
        )
    }
}

/// Every parameter of a desk.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct DeskConfig {
    /// Sizing.
    pub sizing: RiskConfig,
    /// The pre-trade limits.
    pub limits: RiskLimits,
    /// Order handling.
    pub orders: OrderConfig,
    /// Brackets and time stops.
    pub protection: ProtectionConfig,
}

/// What a desk sends on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DeskOutput {
    /// An order message that passed the checks (or a cancel).
    Order(Order),
    /// An order the checks refused, and its `rejected` report.
    Refused(Order, ExecutionReport),
    /// The position's protective stop changed (`None`: no stop).
    Stop(Option<Decimal>),
}

/// The report reason of a pre-trade refusal.
pub fn reason_of(reject: &RiskReject) -> ReportReason {
    match reject {
        RiskReject::LotSize { .. }
        | RiskReject::MissingPrice { .. }
        | RiskReject::TickSize { .. }
        | RiskReject::MinNotional { .. } => ReportReason::RiskFilter,
        RiskReject::OrderRate { .. } => ReportReason::RiskOrderRate,
        RiskReject::MissingState { .. } => ReportReason::RiskMissingState,
        RiskReject::PriceBand { .. } => ReportReason::RiskPriceBand,
        RiskReject::MaxPosition { .. } | RiskReject::MaxNotional { .. } => {
            ReportReason::RiskPositionLimit
        }
        RiskReject::Concentration { .. } => ReportReason::RiskConcentration,
        RiskReject::Leverage { .. } | RiskReject::MaxSymbols { .. } => ReportReason::RiskLeverage,
        RiskReject::PortfolioHeat { .. } => ReportReason::RiskPortfolioHeat,
        RiskReject::Correlation { .. } => ReportReason::RiskCorrelation,
    }
}

/// One symbol's desk.
#[derive(Debug, Clone)]
pub struct SymbolDesk {
    symbol: SymbolId,
    instrument: Instrument,
    protection: ProtectionConfig,
    sizer: RiskSizer,
    manager: OrderManager,
    checks: PreTradeRisk,
    limits: RiskLimits,
    /// The last mid: from the latest signal, or the portfolio's mark.
    mid: Option<Decimal>,
    stop: Option<Decimal>,
    scratch: Vec<Order>,
    refusals: u64,
}

impl SymbolDesk {
    /// A desk trading `instrument` as `symbol`; an error for invalid limits.
    pub fn new(
        symbol: SymbolId,
        instrument: Instrument,
        config: &DeskConfig,
    ) -> Result<Self, RiskError> {
        // An aggressive (IOC) order's limit lies at most half the price band beyond the
        // far touch, so it passes the band check with the other half for the spread.
        // (A band that is not a finite fraction fails the checks' construction below.)
        let half_band_bps = (config.limits.price_band * 5_000.0).floor().max(0.0) as u32;
        let orders = OrderConfig {
            ioc_slippage_bps: config.orders.ioc_slippage_bps.min(half_band_bps),
            ..config.orders
        };
        Ok(Self {
            symbol,
            protection: config.protection,
            sizer: RiskSizer::new(instrument.clone(), config.sizing),
            manager: OrderManager::new(symbol, instrument.clone(), orders),
            checks: PreTradeRisk::new(instrument.clone(), config.limits)?,
            limits: config.limits,
            instrument,
            mid: None,
            stop: None,
            scratch: Vec::new(),
            refusals: 0,
        })
    }

    /// Tell the manager the mid and the account's cap on this symbol's notional.
    fn update_market(&mut self, view: Option<&PortfolioView>) {
        let cap = view.map(|v| {
            let concentration = self.checks.limits().concentration;
            let by_equity = bot4_schemas::decimal_from_f64(concentration)
                .map_or(Decimal::ZERO, |c| c * v.equity);
            by_equity.min(self.limits.max_notional)
        });
        self.manager.set_market(self.mid, cap);
    }

    /// The order manager.
    pub fn manager(&self) -> &OrderManager {
        &self.manager
    }

    /// How many orders the pre-trade checks refused.
    pub fn refusals(&self) -> u64 {
        self.refusals
    }

    /// Apply a parameter change now in effect.
    pub fn apply(&mut self, change: &ParameterChange) {
        self.manager.apply(change);
    }

    /// Use `tier`'s limits from now on (an error leaves the old ones).
    pub fn set_tier(&mut self, tier: &TierLimits) -> Result<(), RiskError> {
        self.checks.set_limits(self.limits.with_tier(tier))
    }

    /// Enter the safety controller's `mode` at `now`.
    pub fn set_mode(
        &mut self,
        mode: Mode,
        now: Nanos,
        view: Option<&PortfolioView>,
        out: &mut Vec<DeskOutput>,
    ) {
        let mut orders = std::mem::take(&mut self.scratch);
        self.manager.set_mode(mode, now, &mut orders);
        self.release(&mut orders, view, out);
        self.scratch = orders;
    }

    /// The start of an epoch at `now`, with the portfolio as of the end of the last
    /// one: time stops and trailing stops.
    pub fn on_epoch(
        &mut self,
        now: Nanos,
        view: Option<&PortfolioView>,
        out: &mut Vec<DeskOutput>,
    ) {
        let mark = view.and_then(|v| v.mark(self.symbol));
        if mark.is_some() {
            self.mid = mark;
        }
        self.update_market(view);
        let mut orders = std::mem::take(&mut self.scratch);
        self.manager.on_epoch(now, mark, &mut orders);
        self.release(&mut orders, view, out);
        self.scratch = orders;
    }

    /// An execution report fed back at `now`.
    pub fn on_report(
        &mut self,
        report: &ExecutionReport,
        now: Nanos,
        view: Option<&PortfolioView>,
        out: &mut Vec<DeskOutput>,
    ) {
        let mut orders = std::mem::take(&mut self.scratch);
        self.manager.on_report(report, now, &mut orders);
        self.release(&mut orders, view, out);
        self.scratch = orders;
    }

    /// Size a signal against the account (`tier` scaling it) and pursue the target.
    pub fn on_signal(
        &mut self,
        signal: &Signal,
        view: Option<&PortfolioView>,
        tier: TierLimits,
        out: &mut Vec<DeskOutput>,
    ) {
        if signal.bid > Decimal::ZERO && signal.ask > Decimal::ZERO {
            self.mid = Some((signal.bid + signal.ask) / Decimal::TWO);
        }
        // Without the portfolio nothing can be sized: a flat signal still flattens.
        let account = match view {
            Some(v) => AccountView::from_portfolio(v, self.symbol, tier),
            None => AccountView {
                equity: Decimal::ZERO,
                other_gross_exposure: Decimal::ZERO,
                tier,
            },
        };
        let Some(sizing) = self.sizer.update(signal, &account) else {
            return;
        };
        let reference = self.mid.unwrap_or(signal.ask);
        let (stop_distance, take_profit_distance) =
            self.protection
                .distances(signal.volatility, reference, self.instrument.tick_size);
        let intent = OrderIntent {
            ts: signal.ts,
            seq: signal.seq,
            symbol: self.symbol,
            target: sizing.target,
            max_position: sizing.max_position,
            urgency: sizing.urgency,
            bid: signal.bid,
            ask: signal.ask,
            stop_distance,
            take_profit_distance,
            max_hold_ns: self.protection.max_hold_ns,
        };
        self.update_market(view);
        let mut orders = std::mem::take(&mut self.scratch);
        self.manager.on_intent(&intent, &mut orders);
        self.release(&mut orders, view, out);
        self.scratch = orders;
    }

    /// Check each new order of `orders` (draining it) and pass it on or refuse it;
    /// then report a changed stop.
    fn release(
        &mut self,
        orders: &mut Vec<Order>,
        view: Option<&PortfolioView>,
        out: &mut Vec<DeskOutput>,
    ) {
        for order in orders.drain(..) {
            if order.action == OrderAction::Cancel {
                out.push(DeskOutput::Order(order));
                continue;
            }
            let proposed = ProposedOrder {
                ts: order.ts,
                side: order.side,
                kind: match order.kind {
                    OrderKind::Market => OrderType::Market,
                    OrderKind::Limit => OrderType::Limit,
                    OrderKind::Stop => OrderType::Stop,
                    OrderKind::TakeProfit => OrderType::TakeProfit,
                },
                qty: order.qty,
                limit_price: (order.kind == OrderKind::Limit).then_some(order.price),
                trigger_price: order.kind.is_triggered().then_some(order.trigger),
                reduces_exposure: order.reduces_exposure,
                stop_price: if order.kind == OrderKind::Stop {
                    Some(order.trigger)
                } else {
                    self.manager.bracket().map(|(stop, _)| stop)
                },
            };
            // The venue never lets a reduce-only order add exposure, whatever else is
            // open: it is checked as the only order on its side.
            let open = |side| {
                if order.reduce_only {
                    Decimal::ZERO
                } else {
                    self.manager.open_toward(side, order.client_id)
                }
            };
            let context = CheckContext {
                symbol: self.symbol,
                position: self.manager.position(),
                open_buy: open(bot4_schemas::Side::Buy),
                open_sell: open(bot4_schemas::Side::Sell),
                mid: self.mid,
                equity: view.map(|v| v.equity),
                portfolio: view,
            };
            match self.checks.check(&proposed, &context) {
                Ok(()) => out.push(DeskOutput::Order(order)),
                Err(reject) => {
                    self.refusals += 1;
                    let report = self.manager.refuse(&order, reason_of(&reject));
                    out.push(DeskOutput::Refused(order, report));
                }
            }
        }
        let stop = self.manager.bracket().map(|(stop, _)| stop);
        if stop != self.stop {
            self.stop = stop;
            out.push(DeskOutput::Stop(stop));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bot4_schemas::{Side, TimeInForce};

    #[test]
    fn an_aggressive_signal_goes_out_as_an_ioc_limit_within_the_price_band() {
        let btc = Instrument {
            symbol: "BTC-USDT".into(),
            tick_size: Decimal::new(1, 1),
            lot_size: Decimal::new(1, 4),
            min_notional: Decimal::from(5),
        };
        // 10% of slippage asked for; the 5% band caps it at 2.5%.
        let config = DeskConfig {
            orders: OrderConfig {
                ioc_slippage_bps: 1_000,
                ..OrderConfig::default()
            },
            ..DeskConfig::default()
        };
        let mut desk = SymbolDesk::new(SymbolId(0), btc, &config).expect("valid limits");
        let signal = Signal {
            ts: 10,
            seq: 1,
            symbol: SymbolId(0),
            direction: 1,
            strength: 1.0,
            confidence: 2.0,
            volatility: 0.6,
            edge: 0.3,
            bid: Decimal::from(50_000),
            ask: Decimal::new(500_001, 1),
        };
        let view = PortfolioView::new(Decimal::from(1_000_000));
        let mut out = Vec::new();
        desk.on_signal(&signal, Some(&view), TierLimits::NONE, &mut out);
        let orders: Vec<Order> = out
            .iter()
            .filter_map(|o| match o {
                DeskOutput::Order(order) => Some(*order),
                _ => None,
            })
            .collect();
        assert_eq!(orders.len(), 1, "{out:?}");
        // 50,000.1 · 1.025 = 50,000.1 + 1,250.0025 = 51,250.1025, up to 51,250.2: 1,250.15
        // from the mid 50,000.05, inside its 5% (2,500.0025). The size is the 5%
        // concentration cap: 50,000 / 50,000.1 = 0.99999…, 0.9999 BTC.
        assert_eq!(
            (
                orders[0].side,
                orders[0].kind,
                orders[0].tif,
                orders[0].price,
                orders[0].qty
            ),
            (
                Side::Buy,
                OrderKind::Limit,
                TimeInForce::Ioc,
                Decimal::new(512_502, 1),
                Decimal::new(9_999, 4)
            )
        );
        assert_eq!(desk.refusals(), 0);
    }
}
