//! The life of one order, as its execution reports tell it.
//!
//! ```text
//!  new ──► acknowledged ──► partially filled ──► filled
//!   │           │  │               │  ▲   └────► cancelled / expired
//!   │           │  └► triggered ───┴──┘
//!   │           └────────────────────────────► cancelled / expired
//!   └──► rejected / cancelled / filled (a report may skip the acknowledgement)
//! ```
//!
//! Filled, cancelled, rejected and expired are terminal: nothing may follow them. A
//! report that repeats the current status without a fill is a refusal of a request
//! about the order (a cancel answered by a rate limit or an outage): the order keeps
//! working and the refused cancel may be sent again. The filled quantity never
//! exceeds the order's, and the average fill price is the exact quantity-weighted mean
//! of the fills, rounded to 12 decimal places.

use bot4_schemas::{ExecutionReport, Order, ReportStatus};
use rust_decimal::{Decimal, RoundingStrategy};
use thiserror::Error;

/// Decimal places of the average fill price.
const AVG_DP: u32 = 12;

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OrderStatus {
    /// Sent; the venue has not answered yet.
    New,
    /// The venue accepted it; nothing filled.
    Acknowledged,
    /// A stop or take-profit reached its trigger and works as a market order.
    Triggered,
    /// Part of it filled; the rest works.
    PartiallyFilled,
    /// All of it filled.
    Filled,
    /// Cancelled, on request or by the venue (IOC, FOK, OCO, self-trade prevention).
    Cancelled,
    /// Refused by the safety gate, the pre-trade checks or the venue.
    Rejected,
    /// Reached its expiry time.
    Expired,
}

impl OrderStatus {
    /// Whether nothing more can happen to it.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderStatus::Filled
                | OrderStatus::Cancelled
                | OrderStatus::Rejected
                | OrderStatus::Expired
        )
    }

    fn of(status: ReportStatus) -> Option<Self> {
        Some(match status {
            ReportStatus::Submitted => return None,
            ReportStatus::Accepted => OrderStatus::Acknowledged,
            ReportStatus::Triggered => OrderStatus::Triggered,
            ReportStatus::PartiallyFilled => OrderStatus::PartiallyFilled,
            ReportStatus::Filled => OrderStatus::Filled,
            ReportStatus::Cancelled => OrderStatus::Cancelled,
            ReportStatus::Rejected => OrderStatus::Rejected,
            ReportStatus::Expired => OrderStatus::Expired,
        })
    }
}

/// A report that does not fit the order's life so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TransitionError {
    /// The order cannot move from one status to the other.
    #[error("an order cannot go from {from:?} to {to:?}")]
    Illegal {
        /// Its status.
        from: OrderStatus,
        /// The report's.
        to: ReportStatus,
    },
    /// The fills would exceed the order's quantity.
    #[error("a fill of {fill} would take the filled quantity past {qty}")]
    Overfill {
        /// The report's fill.
        fill: Decimal,
        /// The order's quantity.
        qty: Decimal,
    },
}

/// One order and what has happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderState {
    /// The message that placed it.
    pub order: Order,
    /// Where it is.
    pub status: OrderStatus,
    /// Quantity filled so far.
    pub filled: Decimal,
    /// Quantity still working (as the venue last reported it).
    pub leaves: Decimal,
    /// Fees paid on its fills.
    pub fees: Decimal,
    /// Whether a cancel has been sent and not yet answered.
    pub cancel_sent: bool,
    /// Σ price · qty of the fills.
    notional: Decimal,
}

impl OrderState {
    /// An order just sent.
    pub fn new(order: Order) -> Self {
        Self {
            order,
            status: OrderStatus::New,
            filled: Decimal::ZERO,
            leaves: order.qty,
            fees: Decimal::ZERO,
            cancel_sent: false,
            notional: Decimal::ZERO,
        }
    }

    /// The quantity-weighted average price of its fills, if any.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::orders::state::OrderState;
    /// use bot4_schemas::{Decimal, ExecutionReport, Liquidity, Order, OrderKind, ReportStatus, Side, SymbolId};
    /// let order = Order::new(0, 1, SymbolId(0), Side::Buy, OrderKind::Market, Decimal::ZERO, Decimal::from(3));
    /// let mut state = OrderState::new(order);
    /// let fill = |price: i64, qty: i64, leaves: i64, event| ExecutionReport { ts: 1, client_id: 1,
    ///     symbol: SymbolId(0), side: Side::Buy,
    ///     status: if leaves == 0 { ReportStatus::Filled } else { ReportStatus::PartiallyFilled },
    ///     fill_qty: Decimal::from(qty), fill_price: Decimal::from(price), fee: Decimal::ZERO,
    ///     liquidity: Some(Liquidity::Taker), leaves_qty: Decimal::from(leaves), event, reason: None, received_ts: 1 };
    /// state.apply(&fill(100, 1, 2, 0)).unwrap();
    /// state.apply(&fill(103, 2, 0, 1)).unwrap();
    /// assert_eq!(state.avg_fill_price(), Some(Decimal::from(102))); // (100 + 206) / 3
    /// ```
    pub fn avg_fill_price(&self) -> Option<Decimal> {
        (!self.filled.is_zero()).then(|| {
            (self.notional / self.filled)
                .round_dp_with_strategy(AVG_DP, RoundingStrategy::MidpointNearestEven)
        })
    }

    /// Whether a report without a fill that repeats the status refuses a request (the
    /// order still works).
    pub fn is_refusal(&self, report: &ExecutionReport) -> bool {
        report.fill_qty.is_zero()
            && report.reason.is_some()
            && !report.status.is_terminal()
            && OrderStatus::of(report.status) == Some(self.status)
    }

    /// Move along the report. On an error the state is unchanged.
    pub fn apply(&mut self, report: &ExecutionReport) -> Result<(), TransitionError> {
        let illegal = TransitionError::Illegal {
            from: self.status,
            to: report.status,
        };
        let Some(to) = OrderStatus::of(report.status) else {
            return Err(illegal);
        };
        if self.is_refusal(report) {
            self.cancel_sent = false;
            return Ok(());
        }
        use OrderStatus::*;
        let legal = match (self.status, to) {
            (from, _) if from.is_terminal() => false,
            (New, _) => true,
            (Acknowledged, Triggered | PartiallyFilled | Filled | Cancelled | Expired) => true,
            (Triggered, PartiallyFilled | Filled | Cancelled | Expired) => true,
            (PartiallyFilled, PartiallyFilled | Filled | Cancelled | Expired) => true,
            _ => false,
        };
        if !legal {
            return Err(illegal);
        }
        if self.filled + report.fill_qty > self.order.qty {
            return Err(TransitionError::Overfill {
                fill: report.fill_qty,
                qty: self.order.qty,
            });
        }
        self.filled += report.fill_qty;
        self.notional += report.fill_qty * report.fill_price;
        self.fees += report.fee;
        self.leaves = report.leaves_qty;
        // A working order with fills stays "partially filled" whatever the venue calls
        // the report (a triggered stop's fills).
        self.status = if to == Triggered && !self.filled.is_zero() {
            PartiallyFilled
        } else {
            to
        };
        if self.status.is_terminal() {
            self.leaves = Decimal::ZERO;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bot4_schemas::{Liquidity, OrderKind, ReportReason, Side, SymbolId, TimeInForce};
    use proptest::prelude::*;

    fn order(qty: i64) -> Order {
        Order::new(
            0,
            9,
            SymbolId(0),
            Side::Sell,
            OrderKind::Limit,
            Decimal::from(50),
            Decimal::from(qty),
        )
    }

    fn report(status: ReportStatus, fill: i64, price: i64, leaves: i64) -> ExecutionReport {
        ExecutionReport {
            ts: 1,
            client_id: 9,
            symbol: SymbolId(0),
            side: Side::Sell,
            status,
            fill_qty: Decimal::from(fill),
            fill_price: Decimal::from(price),
            fee: Decimal::new(fill, 2),
            liquidity: (fill > 0).then_some(Liquidity::Maker),
            leaves_qty: Decimal::from(leaves),
            event: 0,
            reason: None,
            received_ts: 1,
        }
    }

    #[test]
    fn a_limit_order_fills_in_parts_with_a_weighted_average() {
        let mut s = OrderState::new(order(4));
        s.apply(&report(ReportStatus::Accepted, 0, 0, 4)).unwrap();
        s.apply(&report(ReportStatus::PartiallyFilled, 1, 50, 3))
            .unwrap();
        s.apply(&report(ReportStatus::PartiallyFilled, 2, 53, 1))
            .unwrap();
        assert_eq!(s.status, OrderStatus::PartiallyFilled);
        // (50 + 106) / 3 = 52
        assert_eq!(s.avg_fill_price(), Some(Decimal::from(52)));
        s.apply(&report(ReportStatus::Cancelled, 0, 0, 0)).unwrap();
        assert_eq!(
            (s.status, s.filled, s.leaves),
            (OrderStatus::Cancelled, Decimal::from(3), Decimal::ZERO)
        );
        assert_eq!(s.fees, Decimal::new(3, 2));
        assert_eq!(
            s.apply(&report(ReportStatus::Filled, 1, 50, 0)),
            Err(TransitionError::Illegal {
                from: OrderStatus::Cancelled,
                to: ReportStatus::Filled
            }),
            "nothing after a terminal report"
        );
    }

    #[test]
    fn overfills_and_backward_steps_are_refused() {
        let mut s = OrderState::new(order(2));
        s.apply(&report(ReportStatus::PartiallyFilled, 1, 50, 1))
            .unwrap();
        assert!(matches!(
            s.apply(&report(ReportStatus::Filled, 2, 50, 0)),
            Err(TransitionError::Overfill { .. })
        ));
        assert!(matches!(
            s.apply(&report(ReportStatus::Accepted, 0, 0, 1)),
            Err(TransitionError::Illegal { .. })
        ));
        assert_eq!(s.filled, Decimal::ONE, "unchanged by the refused reports");
    }

    #[test]
    fn a_refused_cancel_leaves_the_order_working() {
        let mut s = OrderState::new(order(2));
        s.apply(&report(ReportStatus::Accepted, 0, 0, 2)).unwrap();
        s.cancel_sent = true;
        let mut refusal = report(ReportStatus::Accepted, 0, 0, 2);
        refusal.reason = Some(ReportReason::RateLimited);
        assert!(s.is_refusal(&refusal));
        s.apply(&refusal).unwrap();
        assert_eq!(
            (s.status, s.cancel_sent),
            (OrderStatus::Acknowledged, false)
        );
    }

    #[test]
    fn an_ioc_order_fills_in_part_and_its_rest_is_cancelled() {
        let mut s = OrderState::new(Order {
            tif: TimeInForce::Ioc,
            ..order(4)
        });
        s.apply(&report(ReportStatus::Accepted, 0, 0, 4)).unwrap();
        s.apply(&report(ReportStatus::PartiallyFilled, 1, 50, 3))
            .unwrap();
        let mut rest = report(ReportStatus::Cancelled, 0, 0, 0);
        rest.reason = Some(ReportReason::ImmediateOrCancel);
        assert!(!s.is_refusal(&rest), "an end, not a refused request");
        s.apply(&rest).unwrap();
        assert_eq!(
            (s.status, s.filled, s.leaves),
            (OrderStatus::Cancelled, Decimal::ONE, Decimal::ZERO)
        );
        assert_eq!(s.avg_fill_price(), Some(Decimal::from(50)));
        assert!(s.apply(&report(ReportStatus::Filled, 3, 50, 0)).is_err());
    }

    #[test]
    fn a_fill_or_kill_order_is_cancelled_whole_without_an_acknowledgement() {
        let mut s = OrderState::new(Order {
            tif: TimeInForce::Fok,
            ..order(4)
        });
        let mut killed = report(ReportStatus::Cancelled, 0, 0, 0);
        killed.reason = Some(ReportReason::FillOrKill);
        s.apply(&killed).unwrap();
        assert_eq!(
            (s.status, s.filled, s.leaves, s.avg_fill_price()),
            (OrderStatus::Cancelled, Decimal::ZERO, Decimal::ZERO, None)
        );
    }

    /// The reasons a report may carry in the property test: none, the ends of IOC and
    /// FOK orders, and a refused request.
    const REASONS: [Option<ReportReason>; 4] = [
        None,
        Some(ReportReason::ImmediateOrCancel),
        Some(ReportReason::FillOrKill),
        Some(ReportReason::RateLimited),
    ];

    proptest! {
        /// Whatever the venue says (IOC and FOK cancellations and refusals included),
        /// the filled quantity stays within the order, a terminal order never changes
        /// again, and nothing is left working once it is terminal.
        #[test]
        fn fills_stay_within_the_order(steps in proptest::collection::vec((0usize..8, 0i64..4, 0usize..4), 0..30)) {
            let mut s = OrderState::new(order(5));
            for (status, fill, reason) in steps {
                let before = s.clone();
                let leaves = (5 - s.filled.mantissa() as i64 - fill).max(0);
                let r = ExecutionReport {
                    reason: REASONS[reason],
                    ..report(ReportStatus::ALL[status], fill, 50, leaves)
                };
                let result = s.apply(&r);
                prop_assert!(s.filled <= Decimal::from(5));
                if result.is_err() || before.status.is_terminal() {
                    prop_assert_eq!(&s, &before);
                }
                if s.status.is_terminal() {
                    prop_assert!(s.leaves.is_zero());
                }
            }
        }
    }
}
