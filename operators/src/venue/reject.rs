//! The venue's filters: the checks a new order must pass to be accepted, and why it is
//! rejected otherwise (its report's reason is `ExchangeFilter`).

use bot4_schemas::{Instrument, Nanos, Order, OrderKind, TimeInForce};
use rust_decimal::Decimal;
use thiserror::Error;

/// Why the venue refused a new order. The checks run in the order of the variants:
/// the first that fails is the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RejectReason {
    /// The quantity is zero or negative.
    #[error("quantity {0} is not positive")]
    NonPositiveQty(Decimal),
    /// The quantity is not a whole number of lots.
    #[error("quantity {qty} is not a multiple of the lot size {lot_size}")]
    QtyOffLot {
        /// The order's quantity.
        qty: Decimal,
        /// The instrument's lot size.
        lot_size: Decimal,
    },
    /// A post-only order that is not a limit order.
    #[error("post-only {0:?} order: only limit orders can be post-only")]
    PostOnlyNotLimit(OrderKind),
    /// A limit price is zero or negative.
    #[error("limit price {0} is not positive")]
    NonPositivePrice(Decimal),
    /// A limit price is not a whole number of ticks.
    #[error("limit price {price} is not a multiple of the tick size {tick_size}")]
    PriceOffTick {
        /// The order's limit price.
        price: Decimal,
        /// The instrument's tick size.
        tick_size: Decimal,
    },
    /// A stop or take-profit order's trigger price is zero or negative.
    #[error("trigger price {0} is not positive")]
    NonPositiveTrigger(Decimal),
    /// A trigger price is not a whole number of ticks.
    #[error("trigger price {trigger} is not a multiple of the tick size {tick_size}")]
    TriggerOffTick {
        /// The order's trigger price.
        trigger: Decimal,
        /// The instrument's tick size.
        tick_size: Decimal,
    },
    /// A market order arrived before any quote.
    #[error("market order before any quote")]
    NoQuote,
    /// `qty * price` (the mid for a market order, the trigger price for a stop or
    /// take-profit) is below the instrument's minimum.
    #[error("notional {notional} is below the minimum {min_notional}")]
    BelowMinNotional {
        /// The order's notional.
        notional: Decimal,
        /// The instrument's minimum notional.
        min_notional: Decimal,
    },
    /// The order's `expire_ts` is not after its arrival.
    #[error("expires at {expire_ts}, not after its arrival at {arrival}")]
    ExpiredOnArrival {
        /// The order's expiry time.
        expire_ts: Nanos,
        /// When it reached the venue.
        arrival: Nanos,
    },
}

/// Whether `instrument`'s venue accepts `order` arriving at `arrival`, when the last
/// quote's mid is `mid` (`None` before any quote).
pub(super) fn check_order(
    instrument: &Instrument,
    mid: Option<Decimal>,
    order: &Order,
    arrival: Nanos,
) -> Result<(), RejectReason> {
    if order.qty <= Decimal::ZERO {
        return Err(RejectReason::NonPositiveQty(order.qty));
    }
    if !instrument.on_lot(order.qty) {
        return Err(RejectReason::QtyOffLot {
            qty: order.qty,
            lot_size: instrument.lot_size,
        });
    }
    if order.tif == TimeInForce::PostOnly && order.kind != OrderKind::Limit {
        return Err(RejectReason::PostOnlyNotLimit(order.kind));
    }
    let price = match order.kind {
        OrderKind::Limit => {
            if order.price <= Decimal::ZERO {
                return Err(RejectReason::NonPositivePrice(order.price));
            }
            if !instrument.on_tick(order.price) {
                return Err(RejectReason::PriceOffTick {
                    price: order.price,
                    tick_size: instrument.tick_size,
                });
            }
            order.price
        }
        OrderKind::Stop | OrderKind::TakeProfit => {
            if order.trigger <= Decimal::ZERO {
                return Err(RejectReason::NonPositiveTrigger(order.trigger));
            }
            if !instrument.on_tick(order.trigger) {
                return Err(RejectReason::TriggerOffTick {
                    trigger: order.trigger,
                    tick_size: instrument.tick_size,
                });
            }
            order.trigger
        }
        OrderKind::Market => mid.ok_or(RejectReason::NoQuote)?,
    };
    let notional = order.qty * price;
    // An order that reduces exposure (or is reduce-only) is exempt, as on the
    // exchanges: a remainder below the minimum could otherwise never be closed.
    if notional < instrument.min_notional && !(order.reduces_exposure || order.reduce_only) {
        return Err(RejectReason::BelowMinNotional {
            notional,
            min_notional: instrument.min_notional,
        });
    }
    if order.expire_ts <= arrival {
        return Err(RejectReason::ExpiredOnArrival {
            expire_ts: order.expire_ts,
            arrival,
        });
    }
    Ok(())
}
