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
    pub const ALL: [ReportStatus; 7] = [
        ReportStatus::Submitted,
        ReportStatus::Accepted,
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
            ReportStatus::PartiallyFilled => "partially_filled",
            ReportStatus::Filled => "filled",
            ReportStatus::Cancelled => "cancelled",
            ReportStatus::Expired => "expired",
            ReportStatus::Rejected => "rejected",
        }
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
