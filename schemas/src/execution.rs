//! What happens to orders: execution reports and the fills they carry.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Nanos, Side, SymbolId};

/// Whether a fill added or took liquidity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Liquidity {
    /// A resting order was hit.
    Maker,
    /// The order crossed the spread.
    Taker,
}

/// The state an order moved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ReportStatus {
    /// Left the strategy towards the venue (recorded for accounting, never fed back).
    Submitted,
    /// The venue accepted it; it is working.
    Accepted,
    /// A stop or take-profit order reached its trigger price and now works as a
    /// market order.
    Triggered,
    /// Part of it filled; the rest is working.
    PartiallyFilled,
    /// All of it filled.
    Filled,
    /// Cancelled on request.
    Cancelled,
    /// Reached its expiry time unfilled.
    Expired,
    /// Refused by the safety gate or the venue.
    Rejected,
}

impl ReportStatus {
    /// Whether the order is done: nothing more will happen to it.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ReportStatus::Filled
                | ReportStatus::Cancelled
                | ReportStatus::Expired
                | ReportStatus::Rejected
        )
    }

    /// Every status, in lifecycle order.
    pub const ALL: [ReportStatus; 8] = [
        ReportStatus::Submitted,
        ReportStatus::Accepted,
        ReportStatus::Triggered,
        ReportStatus::PartiallyFilled,
        ReportStatus::Filled,
        ReportStatus::Cancelled,
        ReportStatus::Expired,
        ReportStatus::Rejected,
    ];

    /// The status named `text` (as written by [`ReportStatus::as_str`]).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Name as stored in files.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Submitted => "submitted",
            ReportStatus::Accepted => "accepted",
            ReportStatus::Triggered => "triggered",
            ReportStatus::PartiallyFilled => "partially_filled",
            ReportStatus::Filled => "filled",
            ReportStatus::Cancelled => "cancelled",
            ReportStatus::Expired => "expired",
            ReportStatus::Rejected => "rejected",
        }
    }
}

/// Why an order was rejected or ended other than by a fill, a request or its expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ReportReason {
    /// The venue's request rate limit was exceeded (an HTTP 429).
    RateLimited,
    /// The venue was unreachable or down (an outage).
    VenueUnavailable,
    /// A post-only order would have taken liquidity.
    PostOnly,
    /// A fill-or-kill order could not fill whole on arrival.
    FillOrKill,
    /// What an immediate-or-cancel order did not fill on arrival.
    ImmediateOrCancel,
    /// A reduce-only order had nothing left to reduce.
    ReduceOnly,
    /// Self-trade prevention: it would have traded against one of our own orders.
    SelfTrade,
    /// Its one-cancels-other partner triggered or filled.
    Oco,
    /// The venue's filters: tick size, lot size, minimum notional, no quote, expiry.
    ExchangeFilter,
    /// The safety controller's mode did not let it pass.
    SafetyGate,
    /// A repeated submit of a client id already seen.
    Duplicate,
    /// Pre-trade risk: the symbol's position or notional limit.
    RiskPositionLimit,
    /// Pre-trade risk: the share of equity in one symbol.
    RiskConcentration,
    /// Pre-trade risk: the portfolio's summed risk at the stops.
    RiskPortfolioHeat,
    /// Pre-trade risk: exposure correlated with a position already held.
    RiskCorrelation,
    /// Pre-trade risk: the order rate cap.
    RiskOrderRate,
    /// Pre-trade risk: the price band around the last mid.
    RiskPriceBand,
    /// Pre-trade risk: the venue's leverage cap.
    RiskLeverage,
    /// Pre-trade risk: the exchange's filters, checked before sending.
    RiskFilter,
    /// Pre-trade risk: state needed for a check was missing (fail-closed).
    RiskMissingState,
}

impl ReportReason {
    /// Every reason.
    pub const ALL: [ReportReason; 20] = [
        ReportReason::RateLimited,
        ReportReason::VenueUnavailable,
        ReportReason::PostOnly,
        ReportReason::FillOrKill,
        ReportReason::ImmediateOrCancel,
        ReportReason::ReduceOnly,
        ReportReason::SelfTrade,
        ReportReason::Oco,
        ReportReason::ExchangeFilter,
        ReportReason::SafetyGate,
        ReportReason::Duplicate,
        ReportReason::RiskPositionLimit,
        ReportReason::RiskConcentration,
        ReportReason::RiskPortfolioHeat,
        ReportReason::RiskCorrelation,
        ReportReason::RiskOrderRate,
        ReportReason::RiskPriceBand,
        ReportReason::RiskLeverage,
        ReportReason::RiskFilter,
        ReportReason::RiskMissingState,
    ];

    /// Name as stored in files.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportReason::RateLimited => "rate_limited",
            ReportReason::VenueUnavailable => "venue_unavailable",
            ReportReason::PostOnly => "post_only",
            ReportReason::FillOrKill => "fill_or_kill",
            ReportReason::ImmediateOrCancel => "immediate_or_cancel",
            ReportReason::ReduceOnly => "reduce_only",
            ReportReason::SelfTrade => "self_trade",
            ReportReason::Oco => "oco",
            ReportReason::ExchangeFilter => "exchange_filter",
            ReportReason::SafetyGate => "safety_gate",
            ReportReason::Duplicate => "duplicate",
            ReportReason::RiskPositionLimit => "risk_position_limit",
            ReportReason::RiskConcentration => "risk_concentration",
            ReportReason::RiskPortfolioHeat => "risk_portfolio_heat",
            ReportReason::RiskCorrelation => "risk_correlation",
            ReportReason::RiskOrderRate => "risk_order_rate",
            ReportReason::RiskPriceBand => "risk_price_band",
            ReportReason::RiskLeverage => "risk_leverage",
            ReportReason::RiskFilter => "risk_filter",
            ReportReason::RiskMissingState => "risk_missing_state",
        }
    }

    /// The reason named `text` (as written by [`ReportReason::as_str`]).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Whether the venue (rather than the strategy's own checks) gave it.
    pub fn from_venue(self) -> bool {
        !matches!(
            self,
            ReportReason::SafetyGate
                | ReportReason::RiskPositionLimit
                | ReportReason::RiskConcentration
                | ReportReason::RiskPortfolioHeat
                | ReportReason::RiskCorrelation
                | ReportReason::RiskOrderRate
                | ReportReason::RiskPriceBand
                | ReportReason::RiskLeverage
                | ReportReason::RiskFilter
                | ReportReason::RiskMissingState
        )
    }
}

/// One state change of one order, with the fill that caused it if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionReport {
    /// Event time at the venue (or the gate).
    pub ts: Nanos,
    /// The order's client id.
    pub client_id: u64,
    /// Instrument.
    pub symbol: SymbolId,
    /// The order's side.
    pub side: Side,
    /// New state.
    pub status: ReportStatus,
    /// Quantity filled by this event (zero if none).
    pub fill_qty: Decimal,
    /// Price of that fill.
    pub fill_price: Decimal,
    /// Fee charged for that fill, in quote currency.
    pub fee: Decimal,
    /// Maker or taker, for fills.
    pub liquidity: Option<Liquidity>,
    /// Quantity still working after this event.
    pub leaves_qty: Decimal,
    /// Per-order event counter, so reports of one order sort in the order they happened.
    pub event: u32,
    /// Why it was rejected or ended early, when that is not a fill, a request or its
    /// expiry.
    pub reason: Option<ReportReason>,
    /// When the strategy learns of it: `ts` plus the venue's acknowledgement latency
    /// (equal to `ts` for reports made on the strategy's side).
    pub received_ts: Nanos,
}

impl ExecutionReport {
    /// The fill this report carries, if any.
    pub fn fill(&self) -> Option<Fill> {
        if self.fill_qty.is_zero() {
            return None;
        }
        Some(Fill {
            ts: self.ts,
            client_id: self.client_id,
            symbol: self.symbol,
            side: self.side,
            price: self.fill_price,
            qty: self.fill_qty,
            fee: self.fee,
            liquidity: self.liquidity.unwrap_or(Liquidity::Taker),
            event: self.event,
        })
    }

    /// The order reports of one symbol are processed in.
    pub fn key(&self) -> (Nanos, u64, u32) {
        (self.ts, self.client_id, self.event)
    }
}

/// A trade of one of our orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    /// Event time at the venue.
    pub ts: Nanos,
    /// The order's client id.
    pub client_id: u64,
    /// Instrument.
    pub symbol: SymbolId,
    /// Direction.
    pub side: Side,
    /// Execution price.
    pub price: Decimal,
    /// Quantity in base units.
    pub qty: Decimal,
    /// Fee in quote currency (negative for a rebate).
    pub fee: Decimal,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// The order's event counter at this fill.
    pub event: u32,
}
