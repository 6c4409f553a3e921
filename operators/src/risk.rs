//! Volatility-scaled position sizing with a per-symbol limit.
//!
//! For a signal with direction `d`, strength `s` and annualised volatility `σ`, the
//! target notional is `capital · allocation · s · σ* / max(σ, σ_floor)`, capped at
//! `max_notional`; the target quantity is that notional at the far touch, rounded
//! down to the lot grid, times `d`. A target worth less than the instrument's minimum
//! notional is zero. The limit travels with the intent so the order stage can keep
//! position plus open orders within it.

use bot4_schemas::{decimal_from_f64, Decimal, Instrument, OrderIntent, Signal, Urgency};
use rust_decimal::prelude::ToPrimitive;

/// Parameters of [`RiskSizer`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RiskConfig {
    /// Capital the strategy trades, in quote currency.
    pub capital: Decimal,
    /// Fraction of capital allotted to one symbol at full strength and target volatility.
    pub allocation: f64,
    /// Annualised volatility each position is scaled to.
    pub target_volatility: f64,
    /// Volatility below which sizing stops growing.
    pub volatility_floor: f64,
    /// Largest position in one symbol, in quote currency.
    pub max_notional: Decimal,
    /// Forecast score from which the order stage should cross the spread.
    pub aggressive_score: f64,
}

impl Default for RiskConfig {
    fn default() -> Self {
        Self {
            capital: Decimal::from(1_000_000),
            allocation: 0.05,
            target_volatility: 0.15,
            volatility_floor: 0.05,
            max_notional: Decimal::from(100_000),
            aggressive_score: 1.5,
        }
    }
}

/// Sizing state of one symbol.
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

    /// Size a signal; an intent if the target position changed.
    ///
    /// # Examples
    /// ```
    /// use bot4_operators::risk::{RiskConfig, RiskSizer};
    /// use bot4_schemas::{Decimal, Instrument, Signal, SymbolId};
    /// let btc = Instrument { symbol: "BTC-USDT".into(), tick_size: Decimal::new(1, 1),
    ///     lot_size: Decimal::new(1, 4), min_notional: Decimal::from(5) };
    /// let mut risk = RiskSizer::new(btc, RiskConfig::default());
    /// let signal = Signal { ts: 0, seq: 0, symbol: SymbolId(0), direction: 1, strength: 1.0,
    ///     confidence: 0.0, volatility: 0.15, bid: Decimal::from(50_000), ask: Decimal::from(50_001) };
    /// let intent = risk.update(&signal).unwrap();
    /// // 1,000,000 × 0.05 at target volatility is 50,000 USDT: 0.9999 BTC at the ask.
    /// assert_eq!(intent.target, Decimal::new(9999, 4));
    /// ```
    pub fn update(&mut self, signal: &Signal) -> Option<OrderIntent> {
        let c = &self.config;
        let price = if signal.direction >= 0 {
            signal.ask
        } else {
            signal.bid
        };
        if price <= Decimal::ZERO {
            return None;
        }
        let max_position = self.instrument.floor_qty(c.max_notional / price);
        let target = if signal.direction == 0 {
            Decimal::ZERO
        } else {
            let capital = c.capital.to_f64().unwrap_or(0.0);
            let scale = c.target_volatility / signal.volatility.max(c.volatility_floor);
            let notional = capital * c.allocation * signal.strength.clamp(0.0, 1.0) * scale;
            let qty = decimal_from_f64(notional / price.to_f64().unwrap_or(f64::INFINITY))
                .unwrap_or(Decimal::ZERO);
            let qty = self.instrument.floor_qty(qty.min(max_position));
            if qty * price < self.instrument.min_notional {
                Decimal::ZERO
            } else {
                qty * Decimal::from(signal.direction)
            }
        };
        if self.last_target == Some(target) {
            return None;
        }
        self.last_target = Some(target);
        Some(OrderIntent {
            ts: signal.ts,
            seq: signal.seq,
            symbol: signal.symbol,
            target,
            max_position,
            urgency: if signal.confidence.abs() >= c.aggressive_score || signal.direction == 0 {
                Urgency::Aggressive
            } else {
                Urgency::Passive
            },
            bid: signal.bid,
            ask: signal.ask,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bot4_schemas::SymbolId;
    use proptest::prelude::*;

    fn eth() -> Instrument {
        Instrument {
            symbol: "ETH-USDT".into(),
            tick_size: Decimal::new(1, 2),
            lot_size: Decimal::new(1, 3),
            min_notional: Decimal::from(5),
        }
    }

    fn signal(direction: i8, strength: f64, vol: f64, bid: i64) -> Signal {
        Signal {
            ts: 0,
            seq: 0,
            symbol: SymbolId(0),
            direction,
            strength,
            confidence: 0.0,
            volatility: vol,
            bid: Decimal::from(bid),
            ask: Decimal::from(bid + 1),
        }
    }

    proptest! {
        /// Targets are on the lot grid, within the limit, on the signal's side, and either
        /// zero or worth at least the minimum notional.
        #[test]
        fn targets_respect_limits_and_filters(
            direction in -1i8..=1, strength in 0.0f64..1.0, vol in 0.0f64..3.0, bid in 1i64..100_000
        ) {
            let mut risk = RiskSizer::new(eth(), RiskConfig::default());
            if let Some(i) = risk.update(&signal(direction, strength, vol, bid)) {
                let inst = eth();
                prop_assert!(inst.on_lot(i.target));
                prop_assert!(i.target.abs() <= i.max_position);
                prop_assert!(i.target.is_zero() || (i.target > Decimal::ZERO) == (direction > 0));
                let price = if direction >= 0 { i.ask } else { i.bid };
                prop_assert!(i.target.is_zero() || i.target.abs() * price >= inst.min_notional);
                prop_assert!(i.max_position * price <= RiskConfig::default().max_notional);
            }
        }
    }

    #[test]
    fn higher_volatility_means_smaller_positions() {
        let mut a = RiskSizer::new(eth(), RiskConfig::default());
        let mut b = RiskSizer::new(eth(), RiskConfig::default());
        let calm = a.update(&signal(1, 1.0, 0.3, 3000)).unwrap().target;
        let wild = b.update(&signal(1, 1.0, 0.9, 3000)).unwrap().target;
        assert!(wild < calm);
        // 1e6 × 0.05 × 0.15 / 0.3 = 25,000 USDT at 3001: 8.330 ETH.
        assert_eq!(calm, Decimal::new(8330, 3));
    }

    #[test]
    fn repeated_targets_are_not_re_emitted() {
        let mut r = RiskSizer::new(eth(), RiskConfig::default());
        assert!(r.update(&signal(1, 1.0, 0.3, 3000)).is_some());
        assert!(r.update(&signal(1, 1.0, 0.3, 3000)).is_none());
        assert_eq!(
            r.update(&signal(0, 1.0, 0.3, 3000)).unwrap().target,
            Decimal::ZERO
        );
    }
}
