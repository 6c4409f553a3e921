//! Latency and fees of a [`SymbolVenue`](super::SymbolVenue).

use bot4_schemas::Liquidity;
use rust_decimal::{Decimal, RoundingStrategy};

/// Decimal places fees are rounded to.
const FEE_DP: u32 = 8;

/// Latency and fees of a [`SymbolVenue`](super::SymbolVenue).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VenueConfig {
    /// Order entry latency in nanoseconds, at least 1: a message sent at `ts` reaches
    /// the venue at `ts + latency_ns`.
    pub latency_ns: i64,
    /// Fee rate of maker fills, as a fraction of notional (negative for a rebate).
    pub maker_fee: Decimal,
    /// Fee rate of taker fills, as a fraction of notional.
    pub taker_fee: Decimal,
}

impl Default for VenueConfig {
    /// 5 ms latency, 2 bp maker, 5 bp taker.
    fn default() -> Self {
        Self {
            latency_ns: 5_000_000,
            maker_fee: Decimal::new(2, 4),
            taker_fee: Decimal::new(5, 4),
        }
    }
}

impl VenueConfig {
    /// The fee of a fill of `qty` at `price`: `price * qty * rate` rounded to 8 decimal
    /// places, half to even.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::venue::VenueConfig;
    /// use bot4_schemas::{Decimal, Liquidity};
    /// let config = VenueConfig::default();
    /// // 100.5 * 2 * 0.0005 = 0.1005
    /// assert_eq!(config.fee(Liquidity::Taker, Decimal::new(1005, 1), Decimal::TWO), Decimal::new(1005, 4));
    /// ```
    pub fn fee(&self, liquidity: Liquidity, price: Decimal, qty: Decimal) -> Decimal {
        let rate = match liquidity {
            Liquidity::Maker => self.maker_fee,
            Liquidity::Taker => self.taker_fee,
        };
        (price * qty * rate).round_dp_with_strategy(FEE_DP, RoundingStrategy::MidpointNearestEven)
    }
}
